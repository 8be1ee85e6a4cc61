/**
 * Capture files whose clocks are apart: the loop recording's per-interface pcaps, with eth1's stamps
 * shifted by editcap (as a tool that stamps late, or a second machine, would give them). bondscope
 * lines the clocks up from the frames the files share and finds exactly what it finds on the
 * original files; without that, an echo would read as coming before its original.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';

const HAS_EDITCAP = spawnSync('editcap', ['-h'], { stdio: 'ignore' }).status === 0;
const LOOP = join(PROJECT_ROOT, 'captures/loop');
const dir = mkdtempSync(join(tmpdir(), 'bondscope-clock-'));

type Finding = { kind: string; mac: string | null; vlan: number; count: number };

function analyze(eth1: string): { offsets: Record<string, number>; findings: string[]; text: string } {
  const files = [join(LOOP, 'eth0.pcap'), `eth1=${eth1}`, ...['bond0', 'xenbr0', 'vif1.0', 'vif2.0'].map((i) => join(LOOP, `${i}.pcap`))];
  const bin = join(PROJECT_ROOT, 'bin/bondscope');
  const j = spawnSync(process.execPath, [bin, 'analyze', '--json', ...files], { encoding: 'utf8' });
  expect(j.status).toBe(0);
  const a = JSON.parse(j.stdout) as { clockOffsetsMs: Record<string, number>; findings: Finding[] };
  const text = spawnSync(process.execPath, [bin, 'analyze', ...files], { encoding: 'utf8' }).stdout;
  return { offsets: a.clockOffsetsMs, findings: a.findings.map((f) => `${f.kind} ${f.mac} ${f.vlan} ${f.count}`).sort(), text };
}

describe.skipIf(!HAS_EDITCAP)(`capture files with clocks apart${HAS_EDITCAP ? '' : ' [skipped: needs editcap]'}`, () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const original = HAS_EDITCAP ? analyze(join(LOOP, 'eth1.pcap')) : null;

  it('files from one host share a clock: nothing is shifted', () => {
    expect(original!.offsets).toEqual({});
    expect(original!.findings.some((f) => f.startsWith('wrong-port-learning 00:16:3e:00:00:01 0'))).toBe(true);
  });

  it.each([-0.0005, -0.002, -0.03, 0.03, -0.08])('eth1 stamped %s s off: the offset is found and the findings are the same', (shift) => {
    const shifted = join(dir, `eth1${shift}.pcap`);
    expect(spawnSync('editcap', ['-t', String(shift), join(LOOP, 'eth1.pcap'), shifted]).status).toBe(0);
    const r = analyze(shifted);
    const names = Object.keys(r.offsets);
    expect(names).toEqual([shifted]);
    expect(Math.abs(r.offsets[shifted]! - shift * 1000)).toBeLessThan(0.2);
    expect(r.findings).toEqual(original!.findings);
    const said = /~ (.*)'s clock ran (\d+\.\d{3}) ms (ahead of|behind) (.*)'s: lined up/.exec(r.text);
    expect(said?.[1]).toBe(shifted);
    expect(Math.abs(Number(said?.[2]) - Math.abs(shift * 1000))).toBeLessThan(0.2);
    expect(said?.[3]).toBe(shift > 0 ? 'ahead of' : 'behind');
    expect(said?.[4]).toBe(join(LOOP, 'eth0.pcap'));
  });
});
