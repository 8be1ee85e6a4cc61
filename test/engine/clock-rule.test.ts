/**
 * The clock rule (src/engine/clock.ts) as a pure function, table-driven: sightings in, verdict
 * out. Frames are laid out as a host passes them (µs between in-host hops) with a switch between
 * the slaves; each case says which input carries which port and how far its clock is off.
 */
import { describe, expect, it } from 'vitest';
import { type ClockLink, clockOffsets, coarseOffsets, compareClocks, refineOffsets, unsettledClocks } from '../../src/engine/clock.js';
import { CAST_FLOODED, CAST_UNICAST, type FrameSightings, regroup } from '../../src/engine/prepass.js';
import type { PortRole } from '../../src/model/topology.js';

const PORTS: { name: string; role: PortRole }[] = [
  { name: 'eth0', role: 'slave' },
  { name: 'eth1', role: 'slave' },
  { name: 'bond0', role: 'bond' },
  { name: 'xenbr0', role: 'bridge' },
  { name: 'vif1.0', role: 'guest' },
];
const [ETH0, ETH1, BOND, BR, VIF] = [0, 1, 2, 3, 4];

/**
 * `frames` frames 10 ms apart: half a guest's broadcast that leaves by eth0 and, after `loopNs`,
 * comes back in on eth1 and up the bond (a loop); half a broadcast from outside in on eth0 and up.
 * Port p is captured by input inputOf[p], whose clock runs skewNs[input] ahead.
 */
function sightings(frames: number, loopNs: number, inputOf: number[], skewNs: number[]): FrameSightings {
  const rows: [number, number][][] = [];
  for (let g = 0; g < frames; g++) {
    const t0 = g * 10e6;
    const hop = 2e3 + (g % 7) * 1e3;
    if (g % 2 === 0)
      rows.push([
        [VIF, t0],
        [BR, t0 + hop],
        [BOND, t0 + 2 * hop],
        [ETH0, t0 + 3 * hop],
        [ETH1, t0 + 3 * hop + loopNs],
        [BOND, t0 + 4 * hop + loopNs],
        [BR, t0 + 5 * hop + loopNs],
        [VIF, t0 + 5 * hop + loopNs + 1e3],
      ]);
    else
      rows.push([
        [ETH0, t0],
        [BOND, t0 + hop],
        [BR, t0 + 2 * hop],
        [VIF, t0 + 2 * hop + 1e3],
      ]);
  }
  const n = rows.reduce((a, r) => a + r.length, 0);
  const s: FrameSightings = {
    ports: PORTS.map((p) => ({ ...p, roleSource: 'name' as const })),
    inputs: Math.max(...inputOf) + 1,
    records: n,
    frames,
    start: new Int32Array(frames + 1),
    port: new Int32Array(n),
    input: new Int32Array(n),
    t: new Float64Array(n),
    dir: new Uint8Array(n),
    src: new Float64Array(frames),
    cast: new Uint8Array(frames).fill(CAST_FLOODED),
    key: Int32Array.from({ length: frames }, (_, g) => g),
    check: new Int32Array(frames),
    seq: Int32Array.from({ length: n }, (_, k) => k),
  };
  let k = 0;
  rows.forEach((r, g) => {
    s.start[g] = k;
    for (const [p, t] of r) {
      s.port[k] = p;
      s.input[k] = inputOf[p]!;
      s.t[k] = t + skewNs[inputOf[p]!]!;
      k++;
    }
  });
  s.start[frames] = k;
  return s;
}

const roles = PORTS.map((p) => p.role);

describe('the clock rule', () => {
  it.each([
    ['one clock, a 6 µs loop', 6e3],
    ['one clock, a 0.3 ms switch', 0.3e6],
    ['one clock, a 1 ms switch', 1e6],
    ['one clock, a 2 ms switch', 2e6],
  ])('%s: every input on one clock, nothing shifted', (_name, loopNs) => {
    const s = sightings(200, loopNs, [0, 1, 2, 3, 4], [0, 0, 0, 0, 0]);
    const offsets = clockOffsets(compareClocks(s, roles), s.inputs);
    expect(offsets.map((o) => o.offsetNs)).toEqual([0, 0, 0, 0]);
  });

  it('only the two slaves captured: between them lies the switch, so their clocks are never compared (the loop is not skew)', () => {
    const s = sightings(200, 1e6, [0, 1, 0, 0, 0], [0, 0]);
    // Input 0 holds eth0 and the host side, input 1 only eth1: eth1's only in-host partner is the bond.
    const links = compareClocks(s, roles);
    expect(links.every((l) => l.sameClock)).toBe(true);
    const slavesOnly = sightings(200, 1e6, [0, 1, 0, 0, 0], [0, 0]);
    slavesOnly.ports = PORTS.map((p) => ({ ...p, role: p.role === 'slave' ? 'slave' : 'unknown', roleSource: 'name' as const }));
    expect(compareClocks(slavesOnly, slavesOnly.ports.map((p) => p.role))).toEqual([]);
  });

  it.each([
    ['bond0', 5e6, BOND],
    ['bond0', -0.5e6, BOND],
    ['xenbr0', 40e6, BR],
  ])('%s on a clock %d ns apart (a 1 ms switch): the offset is found, and no other input moves', (_name, skew, port) => {
    const inputOf = [0, 1, 2, 3, 4];
    const skewNs = [0, 0, 0, 0, 0];
    skewNs[inputOf[port]!] = skew;
    const s = sightings(200, 1e6, inputOf, skewNs);
    const offsets = clockOffsets(compareClocks(s, roles), s.inputs);
    const mine = offsets.find((o) => o.input === inputOf[port])!;
    // The median carries the typical hop's bias (µs); refineOffsets takes it out (tested end to end).
    expect(Math.abs(mine.offsetNs - skew)).toBeLessThan(20e3);
    for (const o of offsets) if (o.input !== inputOf[port]) expect(o.offsetNs).toBe(0);
  });

  it('a slave that only ever sees echoes, on a clock apart: its copies pair with the original and the echo alike, so it is not lined up (never by the loop)', () => {
    const s = sightings(200, 1e6, [0, 1, 2, 3, 4], [0, -80e6, 0, 0, 0]);
    const offsets = clockOffsets(compareClocks(s, roles), s.inputs);
    expect(offsets.find((o) => o.input === 1)).toBeUndefined();
    expect(offsets.map((o) => o.offsetNs)).toEqual([0, 0, 0]);
  });

  it("the bond's own broadcasts do not pull a slave's clock ahead of them: the offset is refined to within the shortest hop", () => {
    // eth1 on input 1, 30 ms ahead; the median 19 µs short of that (the typical hop's bias, eth1's
    // copies read 19 µs late, as the median of captures/loop's eth1 is). Three kinds
    // of frames, µs hops (h = 2–8 µs), a 0.5 ms switch:
    //  - a guest's broadcast out by eth0, its echo back on eth1 and up the bond: eth1 late by more
    //    than h puts the echo's bond copy first;
    //  - the bond's own broadcast (IPv6 RS from its link-local address) out by eth1 4 µs after the
    //    bond, its echo back on eth0: right as stamped, and the bond's copy is the frame's first;
    //  - a guest's broadcast out by eth1 10 µs after the bond: eth1 early by more than that puts it
    //    in before the bond's copy, after the bridge's.
    // Reading the bond's own as an order broken moved eth1 4 µs ahead of truth (onto its copies),
    // which the path stage then reads as frames from outside.
    const rows: [number, number][][] = [];
    for (let g = 0; g < 60; g++) {
      const t0 = g * 10e6;
      const h = 2e3 + (g % 7) * 1e3;
      if (g % 3 === 0) rows.push([[VIF, t0], [BR, t0 + h], [BOND, t0 + 2 * h], [ETH0, t0 + 3 * h], [ETH1, t0 + 3 * h + 0.5e6], [BOND, t0 + 4 * h + 0.5e6], [BR, t0 + 5 * h + 0.5e6], [VIF, t0 + 6 * h + 0.5e6]]);
      else if (g % 3 === 1) rows.push([[BOND, t0], [ETH1, t0 + 4e3], [ETH0, t0 + 0.5e6], [BOND, t0 + 0.5e6 + h], [BR, t0 + 0.5e6 + 2 * h], [VIF, t0 + 0.5e6 + 3 * h]]);
      else rows.push([[VIF, t0], [BR, t0 + h], [BOND, t0 + 2 * h], [ETH1, t0 + 2 * h + 10e3]]);
    }
    const n = rows.reduce((a, r) => a + r.length, 0);
    const s: FrameSightings = {
      ports: PORTS.map((p) => ({ ...p, roleSource: 'name' as const })),
      inputs: 2,
      records: n,
      frames: rows.length,
      start: new Int32Array(rows.length + 1),
      port: new Int32Array(n),
      input: new Int32Array(n),
      t: new Float64Array(n),
      dir: new Uint8Array(n),
      src: new Float64Array(rows.length),
      cast: new Uint8Array(rows.length).fill(CAST_FLOODED),
      key: Int32Array.from({ length: rows.length }, (_, g) => g),
      check: new Int32Array(rows.length),
      seq: Int32Array.from({ length: n }, (_, k) => k),
    };
    let k = 0;
    rows.forEach((r, g) => {
      s.start[g] = k;
      for (const [p, t] of r) {
        s.port[k] = p;
        s.input[k] = p === ETH1 ? 1 : 0;
        s.t[k++] = t + (p === ETH1 ? 30e6 : 0);
      }
    });
    s.start[rows.length] = k;
    const [, eth1] = refineOffsets(s, roles, [0, 30e6 - 19e3]);
    // Within the shortest hop (2 µs) of truth, and never ahead of it: the bond's own copies stay first.
    expect(eth1! - 30e6).toBeLessThanOrEqual(0);
    expect(eth1! - 30e6).toBeGreaterThanOrEqual(-2e3);
  });
});

/** One frame as the host passes it: its source, identity, whether unicast, and its copies (port, stamp on the host's clock). */
interface Frame {
  src: number;
  id: number;
  unicast?: boolean;
  copies: [number, number][];
}

/**
 * The pre-pass's sightings of `frames`, port p captured by input inputOf[p] whose clock runs
 * skewNs[input] ahead, grouped as the pre-pass groups them when it reads the files (each input in
 * its own order, the inputs merged by their stamps as written): regroup() with no offsets is
 * that grouping, over sightings given one group each.
 */
function capture(frames: Frame[], inputOf: number[], skewNs: number[]): FrameSightings {
  const rows = frames.flatMap((f) => f.copies.map(([p, t]) => ({ f, p, t: t + skewNs[inputOf[p]!]! })));
  const n = rows.length;
  const order = [...rows.keys()].sort((a, b) => rows[a]!.t - rows[b]!.t);
  const s: FrameSightings = {
    ports: PORTS.map((p) => ({ ...p, roleSource: 'name' as const })),
    inputs: Math.max(...inputOf) + 1,
    records: n,
    frames: n,
    start: Int32Array.from({ length: n + 1 }, (_, k) => k),
    port: Int32Array.from(rows, (r) => r.p),
    input: Int32Array.from(rows, (r) => inputOf[r.p]!),
    t: Float64Array.from(rows, (r) => r.t),
    dir: new Uint8Array(n),
    src: Float64Array.from(rows, (r) => r.f.src),
    cast: Uint8Array.from(rows, (r) => (r.f.unicast ? CAST_UNICAST : CAST_FLOODED)),
    key: Int32Array.from(rows, (r) => r.f.id),
    check: new Int32Array(n),
    seq: new Int32Array(n),
  };
  order.forEach((k, r) => (s.seq[k] = r));
  return regroup(s, new Array<number>(s.inputs).fill(0));
}

/** Frames of a host with a 1 ms switch, 40 ms apart (see sightings()), each with an identity of its own unless `recurring`. */
function host(frames: number, recurring = false): Frame[] {
  const out: Frame[] = [];
  for (let g = 0; g < frames; g++) {
    const t0 = g * 40e6;
    const h = 2e3 + (g % 7) * 1e3;
    const id = recurring ? g % 2 : 100 + g;
    if (g % 2 === 0) out.push({ src: 1, id, copies: [[VIF, t0], [BR, t0], [BOND, t0 + 2 * h], [ETH0, t0 + 3 * h], [ETH1, t0 + 3 * h + 1e6], [BOND, t0 + 4 * h + 1e6], [BR, t0 + 4 * h + 1e6], [VIF, t0 + 5 * h + 1e6]] });
    else out.push({ src: 2, id, copies: [[ETH0, t0], [BOND, t0 + h], [BR, t0 + h], [VIF, t0 + 2 * h + 1e3]] });
  }
  return out;
}

const settle = (s: FrameSightings): number[] => {
  const coarse = coarseOffsets(s).offsets;
  const rough = new Array<number>(s.inputs).fill(0);
  for (const c of coarse) rough[c.input] = c.offsetNs;
  const t = regroup(s, rough);
  const fine = new Array<number>(s.inputs).fill(0);
  for (const c of clockOffsets(compareClocks(t, roles), s.inputs)) fine[c.input] = c.offsetNs;
  return refineOffsets(t, roles, fine);
};

describe('clocks seconds apart: copies paired across files, the sightings grouped again', () => {
  it.each([0.35e9, -2.5e9, 7e9, -9.5e9])('the guest port on a clock %d ns apart: its copies fall into groups of their own, are paired, grouped again, and lined up to the stamp', (skew) => {
    const s = capture(host(400), [0, 0, 0, 0, 1], [0, skew]);
    // Grouped as read, no group holds a copy of both inputs: the in-host rule sees nothing.
    expect(compareClocks(s, roles)).toEqual([]);
    const [coarse] = coarseOffsets(s).offsets;
    expect(coarse!.input).toBe(1);
    expect(Math.abs(coarse!.offsetNs - skew)).toBeLessThan(150e3);
    const again = regroup(s, [0, coarse!.offsetNs]);
    expect(again.frames).toBe(400);
    // Stamps are kept as read: only the grouping moved.
    expect([...again.t].sort((a, b) => a - b)).toEqual([...s.t].sort((a, b) => a - b));
    // The guest's frames on vif1.0 and xenbr0 carry one stamp: the offset exactly.
    expect(settle(s)).toEqual([0, skew]);
  });

  it('frames that recur with the same bytes (an ARP every 80 ms) pair with nothing: each copy has several candidates within the bound', () => {
    const s = capture(host(400, true), [0, 0, 0, 0, 1], [0, 0.35e9]);
    expect(coarseOffsets(s).offsets).toEqual([]);
  });

  it('a file whose frames are mostly its own is lined up on the few it shares; too few (< 8) and it is left alone, and said', () => {
    const own = (n: number): Frame[] => Array.from({ length: n }, (_, g) => ({ src: 9, id: 10_000 + g, copies: [[VIF, 1e6 + g * 7e6]] as [number, number][] }));
    const shared = (n: number): Frame[] => host(2 * n).filter((_, g) => g % 2 === 0);
    // vif1.0 on another machine: 300 frames of its own (the others never saw them), 12 with the host
    // (each weighs 3/4 here: its copy on eth1, a ms later across the switch, is outside the cluster).
    const some = capture([...shared(12), ...own(300)], [0, 0, 0, 0, 1], [0, 1.2e9]);
    expect(settle(some)).toEqual([0, 1.2e9]);
    const few = capture([...shared(5), ...own(300)], [0, 0, 0, 0, 1], [0, 1.2e9]);
    const coarse = coarseOffsets(few);
    expect(coarse.offsets).toEqual([]);
    expect(unsettledClocks(compareClocks(few, roles), coarse, 2)).toEqual([{ input: 1, aboutNs: null }]);
  });

  it('files of one host are never moved, whatever the switch takes (coarse pairs cross it, the in-host rule decides)', () => {
    const s = capture(host(400), [0, 1, 2, 3, 4], [0, 0, 0, 0, 0]);
    expect(settle(s)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('which clocks are said to be unsettled', () => {
  const link = (a: number, b: number, offsetNs = 0, weight = 20): ClockLink => ({ a, b, offsetNs, sameClock: offsetNs === 0, weight });
  it.each<[string, ClockLink[], ClockLink[], number, { input: number; aboutNs: number | null }[]]>([
    ['every input tied by the in-host rule', [link(0, 1), link(1, 2, 5e6)], [], 3, []],
    ['one input paired with nothing at all', [link(0, 1)], [], 3, [{ input: 2, aboutNs: null }]],
    ['one input paired only across the switch, 350 ms apart', [link(0, 1)], [link(0, 2, 350e6)], 3, [{ input: 2, aboutNs: 350e6 }]],
    ['the first input is the odd one (200 ms ahead): the host is the largest set', [link(1, 2), link(2, 3)], [link(0, 1, -200e6), link(1, 2), link(2, 3)], 4, [{ input: 0, aboutNs: 200e6 }]],
  ])('%s', (_name, fine, coarse, inputs, want) => {
    expect(unsettledClocks(fine, { offsets: clockOffsets(coarse, inputs), links: coarse }, inputs)).toEqual(want);
  });

  it('one clock apart against five of one host gets one offset, laid onto all five (not five, a few µs apart)', () => {
    const links = [link(0, 1, -350.004e6, 60), link(0, 2, -350.006e6, 59), link(0, 3, -350.002e6, 58), link(1, 2, 0, 40), link(2, 3, 0, 30)];
    const offsets = clockOffsets(links, 4).map((o) => o.offsetNs);
    expect(new Set(offsets).size).toBe(1);
  });
});
