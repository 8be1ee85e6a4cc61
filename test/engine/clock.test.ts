/**
 * Capture files and their clocks. Per-interface captures of one host share the kernel's clock and
 * must not be shifted, however long the switch takes to send an echo back; a file whose clock is
 * apart (a tool that stamps late, a second machine: `editcap -t`) is lined up and gives the
 * findings of the original files.
 *
 * Two loops with switch latency: captures/loop-latency, recorded by the lab with a relay in the
 * switch that holds each frame 0.15–1 ms per hop (the kernel's truth in its truth.json); and the
 * loop recording (captures/loop, whose echo is back in 6 µs) given a switch here: each echo — the
 * copy of a host's or guest's frame that comes back in on eth1 after leaving by eth0, and every copy
 * after it (up the bond, flooded to the bridge and the vifs) — arrives 0.3–2 ms later, as a switch
 * would send it, while the original's copies keep their stamps. Written as one tcpdump-like pcap
 * per interface (one clock) and as one pcapng of the same frames (the reference: one file, no clock
 * to line up).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll, writePcapng, writePcaps } from '../helpers/rewrite.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const HAS_EDITCAP = spawnSync('editcap', ['-h'], { stdio: 'ignore' }).status === 0;
const LOOP = join(PROJECT_ROOT, 'captures/loop');
const LATENCY = join(PROJECT_ROOT, 'captures/loop-latency');
const IFACES = ['eth0', 'eth1', 'bond0', 'xenbr0', 'vif1.0', 'vif2.0'];
const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const dir = mkdtempSync(join(tmpdir(), 'bondscope-clock-'));
const DELAYED = join(dir, 'delayed');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Finding = { kind: string; mac: string | null; vlan: number; count: number };
interface Result {
  offsets: Record<string, number>;
  findings: string[];
  text?: string;
}

function analyze(files: string[], text = false): Result {
  const j = spawnSync(process.execPath, [BIN, 'analyze', '--json', ...files], { encoding: 'utf8' });
  expect(j.stderr).toBe('');
  expect(j.status).toBe(0);
  const a = JSON.parse(j.stdout) as { clockOffsetsMs: Record<string, number>; findings: Finding[] };
  return {
    offsets: a.clockOffsetsMs,
    findings: a.findings.map((f) => `${f.kind} ${f.mac} ${f.vlan} ${f.count}`).sort(),
    text: text ? spawnSync(process.execPath, [BIN, 'analyze', ...files], { encoding: 'utf8' }).stdout : undefined,
  };
}

/** The per-interface files of `base`, with `iface` replaced by `path` (its name kept). */
function filesOf(base: string, iface?: string, path?: string): string[] {
  return IFACES.map((i) => (i === iface ? `${i}=${path}` : join(base, `${i}.pcap`)));
}

/** Delays each echo and the copies after it by 0.3–2 ms (see the file comment); deterministic. */
function delayEchoes(): void {
  const records = readAll(filesOf(LOOP));
  let seed = 7;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const frames = new Map<number, { last: number; origin: string; leftByEth0: boolean; delayNs: number; seenOn: Set<string> }>();
  for (const r of records) {
    let f = frames.get(r.key);
    if (!f || r.t - f.last > 100e6) frames.set(r.key, (f = { last: r.t, origin: r.iface, leftByEth0: false, delayNs: 0, seenOn: new Set() }));
    f.last = r.t;
    const fromHost = f.origin !== 'eth0' && f.origin !== 'eth1';
    if (r.iface === 'eth1' && fromHost && f.leftByEth0 && !f.delayNs) f.delayNs = (0.3 + 1.7 * random()) * 1e6;
    // After the echo arrived: eth1's copy, and a second copy on a port that already saw the original.
    if (f.delayNs && r.iface !== 'eth0' && (r.iface === 'eth1' || f.seenOn.has(r.iface))) r.t += f.delayNs;
    if (r.iface === 'eth0') f.leftByEth0 = true;
    f.seenOn.add(r.iface);
  }
  rmSync(DELAYED, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', DELAYED]);
  writePcaps(records, DELAYED);
  writePcapng(
    [...records].sort((a, b) => a.t - b.t),
    join(DELAYED, 'all.pcapng'),
  );
}

describe.skipIf(!HAS_EDITCAP)(`capture files and their clocks${HAS_EDITCAP ? '' : ' [skipped: needs editcap]'}`, () => {
  let delayed: Result;
  beforeAll(() => {
    delayEchoes();
    delayed = analyze(filesOf(DELAYED), true);
  });

  it('files from one host share a clock: nothing is shifted (no switch latency)', () => {
    const r = analyze(filesOf(LOOP));
    expect(r.offsets).toEqual({});
    expect(r.findings.some((f) => f.startsWith('wrong-port-learning 00:16:3e:00:00:01 0'))).toBe(true);
  });

  it('files from one host with a switch that takes 0.3–2 ms: the loop is latency, not skew; findings as in one pcapng', () => {
    expect(delayed.offsets).toEqual({});
    expect(delayed.text).not.toMatch(/clock ran/);
    const one = analyze([join(DELAYED, 'all.pcapng')]);
    expect(delayed.findings).toEqual(one.findings);
    for (const kind of ['looped-broadcast 00:16:3e:00:00:01 0', 'wrong-port-learning 00:16:3e:00:00:01 0', 'own-address 00:25:90:00:00:01 0', 'blackholed-unicast 00:16:3e:00:00:01 0'])
      expect(delayed.findings.some((f) => f.startsWith(kind))).toBe(true);
  });

  it.each([-0.03, 0.0005])('eth1 stamped %s s off: the offset is found and the findings are those of the files on one clock', (shift) => {
    const shifted = join(dir, `delayed-eth1${shift}.pcap`);
    expect(spawnSync('editcap', ['-t', String(shift), join(DELAYED, 'eth1.pcap'), shifted]).status).toBe(0);
    const r = analyze(filesOf(DELAYED, 'eth1', shifted));
    expect(Object.keys(r.offsets)).toEqual([shifted]);
    expect(Math.abs(r.offsets[shifted]! - shift * 1000)).toBeLessThan(0.02);
    expect(r.findings).toEqual(delayed.findings);
  });

  it('a guest port stamped off is lined up to the stamp: its own frames are stamped once, on its port and the bridge device alike', () => {
    // The order of its copies pins it only to within its shortest hop from the bond (2 µs here,
    // enough to turn one host broadcast's echo around); the copies of one receive path (the guest's
    // frame on vif1.0 and on xenbr0) carry the kernel's one stamp, and pin it exactly.
    const shifted = join(dir, 'vif1.0-shifted.pcap');
    expect(spawnSync('editcap', ['-t', '0.03', join(DELAYED, 'vif1.0.pcap'), shifted]).status).toBe(0);
    const r = analyze(filesOf(DELAYED, 'vif1.0', shifted));
    expect(r.offsets[shifted]).toBe(30);
    expect(r.findings).toEqual(delayed.findings);
  });
});

describe.skipIf(!HAS_EDITCAP)(`the lab's loop with a switch that takes 0.3–2 ms (captures/loop-latency)${HAS_EDITCAP ? '' : ' [skipped: needs editcap]'}`, () => {
  let original: Result;
  beforeAll(() => {
    original = analyze(filesOf(LATENCY), true);
  });

  it('one tcpdump per interface, one kernel clock: nothing is shifted, and the loop is found', () => {
    expect(original.offsets).toEqual({});
    expect(original.text).not.toMatch(/clock ran/);
    for (const kind of ['looped-broadcast 00:16:3e:00:00:01 0', 'wrong-port-learning 00:16:3e:00:00:01 0', 'own-address 00:25:90:00:00:01 0', 'blackholed-unicast 00:16:3e:00:00:01 0'])
      expect(original.findings.some((f) => f.startsWith(kind))).toBe(true);
  });

  const cases: [string, number][] = [];
  for (const s of [-0.08, -0.03, -0.002, 0.0005, 0.03]) cases.push(['eth1', s]);
  for (const i of ['bond0', 'xenbr0']) for (const s of [-0.08, 0.0005, 0.03]) cases.push([i, s]);
  it.each(cases)('%s stamped %s s off: the offset is found and the findings are those of the files on one clock', (iface, shift) => {
    const shifted = join(dir, `latency-${iface}${shift}.pcap`);
    expect(spawnSync('editcap', ['-t', String(shift), join(LATENCY, `${iface}.pcap`), shifted]).status).toBe(0);
    const r = analyze(filesOf(LATENCY, iface, shifted), iface === 'eth1' && shift === -0.03);
    expect(Object.keys(r.offsets)).toEqual([shifted]);
    expect(Math.abs(r.offsets[shifted]! - shift * 1000)).toBeLessThan(0.002);
    expect(r.findings).toEqual(original.findings);
    if (r.text) {
      const said = /~ (.*)'s clock ran (\d+\.\d{3}) ms (ahead of|behind) (.*)'s: lined up/.exec(r.text);
      // Inputs by their short names after the Inputs list (which names each in full once).
      expect(said?.[1]).toBe(basename(shifted));
      expect(Math.abs(Number(said?.[2]) - 30)).toBeLessThan(0.002);
      expect(said?.[3]).toBe('behind');
      expect(said?.[4]).toBe('eth0.pcap');
    }
  });

  it('the reference file itself stamped off: every other file is moved by the same amount', () => {
    const shifted = join(dir, 'latency-eth0-shifted.pcap');
    expect(spawnSync('editcap', ['-t', '-0.03', join(LATENCY, 'eth0.pcap'), shifted]).status).toBe(0);
    const r = analyze(filesOf(LATENCY, 'eth0', shifted));
    const others = IFACES.slice(1).map((i) => join(LATENCY, `${i}.pcap`));
    expect(Object.keys(r.offsets).sort()).toEqual(others.sort());
    for (const o of others) expect(Math.abs(r.offsets[o]! - 30)).toBeLessThan(0.01);
    expect(r.findings).toEqual(original.findings);
  });

  it.each(['vif1.0', 'vif2.0'])('%s (a guest port) stamped off is lined up to the stamp, and the findings are those of the files on one clock', (iface) => {
    const shifted = join(dir, `latency-${iface}-shifted.pcap`);
    expect(spawnSync('editcap', ['-t', '0.03', join(LATENCY, `${iface}.pcap`), shifted]).status).toBe(0);
    const r = analyze(filesOf(LATENCY, iface, shifted));
    expect(r.offsets[shifted]).toBe(30);
    expect(r.findings).toEqual(original.findings);
  });
});

describe.skipIf(!HAS_EDITCAP)(`files seconds apart: a second machine's capture, its clock not synchronised${HAS_EDITCAP ? '' : ' [skipped: needs editcap]'}`, () => {
  let original: Result;
  beforeAll(() => {
    original = analyze(filesOf(LATENCY));
  });

  // Past the pre-pass's grouping gap (100 ms) each frame's copies fall into groups of their own:
  // paired across files first (copies whose pairing is not in question), grouped again, then lined
  // up as any clock apart. Up to ten seconds either way (clock.ts, MAX_OFFSET_NS).
  it.each([
    ['vif2.0', 0.35],
    ['vif2.0', -2.5],
    ['bond0', 7],
    ['xenbr0', -9.5],
    ['vif1.0', 9.5],
  ])('%s stamped %s s off: the offset is found to the stamp and the findings are those of the files on one clock', (iface, shift) => {
    const shifted = join(dir, `far-${iface}${shift}.pcap`);
    expect(spawnSync('editcap', ['-t', String(shift), join(LATENCY, `${iface}.pcap`), shifted]).status).toBe(0);
    const r = analyze(filesOf(LATENCY, iface, shifted), true);
    expect(r.offsets).toEqual({ [shifted]: shift * 1000 });
    expect(r.findings).toEqual(original.findings);
    expect(r.text).toMatch(new RegExp(`clock ran ${Math.abs(shift * 1000).toFixed(3)} ms ${shift > 0 ? 'ahead of' : 'behind'}`));
  });

  it("the VLAN guest's port 350 ms late (captures/loop-late): its wrong-port learning on both VLANs is still found, and no outside client is called moved", () => {
    const late = join(PROJECT_ROOT, 'captures/loop-late');
    const shifted = join(dir, 'late-vif2.0.pcap');
    expect(spawnSync('editcap', ['-t', '0.35', join(late, 'vif2.0.pcap'), shifted]).status).toBe(0);
    const one = analyze(filesOf(late));
    const r = analyze(filesOf(late, 'vif2.0', shifted));
    expect(r.offsets).toEqual({ [shifted]: 350 });
    expect(r.findings).toEqual(one.findings);
    for (const kind of ['wrong-port-learning 00:16:3e:00:00:02 0', 'wrong-port-learning 00:16:3e:00:00:02 10']) expect(r.findings.some((f) => f.startsWith(kind))).toBe(true);
    expect(r.findings.filter((f) => f.startsWith('mac-move'))).toEqual([]);
  });

  it('a file further off than the search (12 s): not lined up, and the capabilities say its clock could not be', () => {
    const shifted = join(dir, 'far-vif2.0-12.pcap');
    expect(spawnSync('editcap', ['-t', '12', join(LATENCY, 'vif2.0.pcap'), shifted]).status).toBe(0);
    const j = json(filesOf(LATENCY, 'vif2.0', shifted));
    expect(j.clockOffsetsMs).toEqual({});
    expect(j.capabilities.unproven).toContain('clocks');
    expect(j.capabilities.cannotProve.find((c) => c.includes('vif2.0'))).toMatch(/too few frames .* within ±10 s/);
  });

  it('a file that shares too few frames with the others (a slave of an 802.3ad bond that carried 10 frames): left as stamped, and said, shifted or not', () => {
    const lacp = join(PROJECT_ROOT, 'captures/lacp');
    const shifted = join(dir, 'lacp-eth1.pcap');
    expect(spawnSync('editcap', ['-t', '0.35', join(lacp, 'eth1.pcap'), shifted]).status).toBe(0);
    for (const files of [filesOf(lacp, 'eth1', shifted), filesOf(lacp)]) {
      const j = json(files);
      expect(j.clockOffsetsMs).toEqual({});
      expect(j.capabilities.cannotProve.find((c) => c.includes('clock'))).toMatch(/^the order of eth1’s frames against the other files’: its file shares too few frames/);
    }
    // Every other file is tied to the rest: only eth1 is named.
    expect(json(filesOf(lacp)).capabilities.cannotProve.filter((c) => c.includes('clock'))).toHaveLength(1);
  });

  it('only the two slaves of one host: compared across the switch only, taken as one clock, and said', () => {
    const j = json([join(LOOP, 'eth0.pcap'), join(LOOP, 'eth1.pcap')]);
    expect(j.clockOffsetsMs).toEqual({});
    expect(j.capabilities.cannotProve.find((c) => c.includes('eth1'))).toMatch(/only across the switch.*taken as one clock/);
  });
});

function json(files: string[]): { clockOffsetsMs: Record<string, number>; capabilities: { unproven: string[]; cannotProve: string[] } } {
  const j = spawnSync(process.execPath, [BIN, 'analyze', '--json', ...files], { encoding: 'utf8' });
  expect(j.stderr).toBe('');
  return JSON.parse(j.stdout) as { clockOffsetsMs: Record<string, number>; capabilities: { unproven: string[]; cannotProve: string[] } };
}
