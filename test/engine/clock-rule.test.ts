/**
 * The clock rule (src/engine/clock.ts) as a pure function, table-driven: sightings in, verdict
 * out. Frames are laid out as a host passes them (µs between in-host hops) with a switch between
 * the slaves; each case says which input carries which port and how far its clock is off.
 */
import { describe, expect, it } from 'vitest';
import { clockOffsets, compareClocks, refineOffsets } from '../../src/engine/clock.js';
import { CAST_FLOODED, type FrameSightings } from '../../src/engine/prepass.js';
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
