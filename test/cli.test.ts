/**
 * The CLI as a user runs it: `node bin/bondscope …` on the shipped captures and on damaged copies.
 * Exit codes, JSON shapes, one-line errors and no stack traces. (`npm test` builds dist/ first.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers/tools.js';

const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const LOOP = join(PROJECT_ROOT, 'captures/loop/loop.pcapng');
const LACP = join(PROJECT_ROOT, 'captures/lacp/lacp.pcapng');
const tmp = mkdtempSync(join(tmpdir(), 'bondscope-cli-'));

function bondscope(args: string[], input?: Buffer): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function noStackTrace(err: string): void {
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).not.toContain('internal error');
}

describe('bondscope frames', () => {
  it('--json: one object per frame with the documented keys', () => {
    const r = bondscope(['frames', '--json', LOOP]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBe(803);
    expect(Object.keys(lines[0]!)).toEqual(['n', 'ts', 'iface', 'dir', 'src', 'dst', 'vlan', 'ethertype', 'len', 'caplen', 'summary']);
    const tagged = lines.find((l) => (l.vlan as number[]).length > 0)!;
    expect(tagged.vlan).toEqual([10]);
    expect(tagged.summary).toMatch(/^ARP who-has 198\.51\.100\.\d+ tell 198\.51\.100\.1[12]$/);
    expect(lines[0]!.ts).toMatch(/^\d+\.\d{9}$/);
  });

  it('reads a capture from standard input', () => {
    const r = bondscope(['frames', '--json', '-'], readFileSync(join(PROJECT_ROOT, 'captures/loop/eth1.pcap')));
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { iface: string });
    expect(lines.length).toBeGreaterThan(10);
    expect(lines[0]!.iface).toBe('stdin');
  });

  it('a damaged file: frames before the damage printed, one line saying where, exit 1', () => {
    const bytes = readFileSync(LOOP);
    const cut = join(tmp, 'cut.pcapng');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = bondscope(['frames', cut]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n').length).toBeGreaterThan(100);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^bondscope: ${cut}: block cut short at end of file \\(\\d+ of \\d+ bytes\\) after \\d+ frames at byte \\d+ \\(EPB\\)\\n$`));
  });

  it('not a capture: one line, exit 2, no stack trace', () => {
    const r = bondscope(['frames', join(PROJECT_ROOT, 'package.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^bondscope: .*package\.json: not a pcap or pcapng file \(starts 7b 0a /);
    noStackTrace(r.err);
  });

  it('a reader that goes away (| head) ends it quietly', () => {
    const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${BIN}" frames "${LOOP}" | head -1`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
  });

  it('usage errors are one line, exit 2', () => {
    const r = bondscope(['frames', '--count', 'many', LOOP]);
    expect(r.code).toBe(2);
    expect(r.err).toBe("bondscope: frames: --count takes a whole number, not 'many'\n");
    expect(bondscope(['nonsense']).err).toBe("bondscope: unknown command 'nonsense' (try --help)\n");
  });
});

describe('bondscope analyze', () => {
  it('--json on the loop recording: the documented shape and the loop’s findings', () => {
    const r = bondscope(['analyze', '--json', LOOP]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      interfaces: { name: string; role: string; frames: number }[];
      macs: { mac: string; vlan: number; learnedOn: string | null }[];
      findings: { kind: string; severity: string; mac: string; evidence: { file: string; frames: number[] }[]; remedies: string[] }[];
      stats: { frames: number };
    };
    expect(j.interfaces.map((i) => [i.name, i.role])).toEqual(
      expect.arrayContaining([['eth0', 'slave'], ['eth1', 'slave'], ['bond0', 'bond'], ['xenbr0', 'bridge'], ['vif1.0', 'guest']]),
    );
    expect(j.stats.frames).toBe(803);
    const kinds = new Set(j.findings.map((f) => f.kind));
    for (const k of ['looped-broadcast', 'own-address', 'wrong-port-learning', 'blackholed-unicast']) expect(kinds).toContain(k);
    const wrong = j.findings.find((f) => f.kind === 'wrong-port-learning' && f.mac === '00:16:3e:00:00:01')!;
    expect(wrong.severity).toBe('error');
    expect(wrong.evidence[0]!.file).toBe(LOOP);
    expect(wrong.evidence[0]!.frames.length).toBeGreaterThan(0);
    expect(wrong.remedies.join(' ')).toContain('802.3ad');
    expect(j.macs.find((m) => m.mac === '00:16:3e:00:00:01' && m.vlan === 0)!.learnedOn).toBe('bond0');
  });

  it('--fail-on error: exit 3 on the loop, 0 on lacp', () => {
    expect(bondscope(['analyze', '--fail-on', 'error', LOOP]).code).toBe(3);
    const lacp = bondscope(['analyze', '--fail-on', 'error', LACP]);
    expect(lacp.code).toBe(0);
    expect(lacp.out).toMatch(/^DOES NOT LOOP in these captures/m);
  });

  it('the terminal report: topology, what can be proven, findings with explanation and remedies', () => {
    const r = bondscope(['analyze', LOOP]);
    expect(r.out).toContain('Topology as understood');
    expect(r.out).toMatch(/bond0\s+bond\s+\d+ frames\s+named like a bond/);
    expect(r.out).toContain('What these captures can prove');
    expect(r.out).toMatch(/ERROR\s+wrong-port-learning: the bridge learned guest 00:16:3e:00:00:01 on bond0 instead of vif1\.0/);
    expect(r.out).toContain('received packet on bond0 with own address as source address');
    expect(r.out).toContain('What to do');
  });

  it('role flags override names; bad flags are usage errors', () => {
    const r = bondscope(['analyze', '--json', '--bond', 'uplink=eth0,eth1', LACP]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { interfaces: { name: string; role: string; roleSource: string }[] };
    expect(j.interfaces.find((i) => i.name === 'eth0')).toMatchObject({ role: 'slave', roleSource: 'flag' });
    const bad = bondscope(['analyze', '--local-mac', 'nonsense', LOOP]);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("bondscope: --local-mac takes a MAC like 00:16:3e:00:00:01, not 'nonsense'\n");
  });

  it('a damaged capture: what could be read is analysed, exit 1', () => {
    const bytes = readFileSync(LOOP);
    const cut = join(tmp, 'loop-cut.pcapng');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.8)));
    const r = bondscope(['analyze', cut]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('wrong-port-learning');
    expect(r.err).toMatch(/^bondscope: .*loop-cut\.pcapng: block (header )?cut short at end of file .* at byte \d+ /);
    noStackTrace(r.err);
  });
});
