/**
 * MacTable (open addressing over int32 keys, hot per-MAC records) against a plain model: Maps
 * keyed by strings. Random frames over a few VLANs and MACs that differ only in their high bits,
 * low bits or VLAN (the parts the table splits the key into), enough to grow the table several
 * times, and a limit that the last runs reach.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MacTable, PC_BYTES_IN, PC_BYTES_OUT, PC_IN, PC_OUT, PC_UNKNOWN } from '../../src/engine/mac-table.js';

interface Frame {
  vlan: number;
  mac: number;
  port: number;
  dir: number;
  bytes: number;
  t: number;
}

const MACS = [0x000000000001, 0x000100000001, 0xffff00000001, 0x00163e000001, 0x00163e800001, 0xfeffffffffff, 0x525400000001, 0x000000000000];

const frame = fc.record({
  vlan: fc.constantFrom(0, 1, 10, 4095),
  mac: fc.oneof(fc.constantFrom(...MACS), fc.integer({ min: 0, max: 2 ** 48 - 1 })),
  port: fc.integer({ min: 0, max: 5 }),
  dir: fc.integer({ min: 0, max: 2 }),
  bytes: fc.integer({ min: 0, max: 1514 }),
  t: fc.integer({ min: 0, max: 2 ** 40 }),
});

function model(frames: Frame[], limit: number) {
  const entries = new Map<string, { vlan: number; mac: number; first: number; last: number; ports: Map<number, number[]> }>();
  const dropped = new Set<number>();
  for (const f of frames) {
    const k = `${f.vlan}|${f.mac}`;
    let e = entries.get(k);
    if (!e) {
      if (entries.size >= limit) {
        // Distinct MACs past the limit are counted until as many as the limit were (then a lower bound).
        if (dropped.size < limit) dropped.add(f.mac);
        continue;
      }
      e = { vlan: f.vlan, mac: f.mac, first: f.t, last: f.t, ports: new Map() };
      entries.set(k, e);
    }
    e.first = Math.min(e.first, f.t);
    e.last = Math.max(e.last, f.t);
    const c = e.ports.get(f.port) ?? [0, 0, 0, 0, 0];
    e.ports.set(f.port, c);
    if (f.dir === 1) (c[PC_IN]!++, (c[PC_BYTES_IN]! += f.bytes));
    else if (f.dir === 2) (c[PC_OUT]!++, (c[PC_BYTES_OUT]! += f.bytes));
    else c[PC_UNKNOWN]!++;
  }
  return { entries, dropped };
}

describe('MacTable', () => {
  it('counts per (VLAN, MAC) and port exactly as Maps would, in the same order, up to its limit', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 4000, size: 'max' }), fc.integer({ min: 1, max: 3000 }), (frames, limit) => {
        const table = new MacTable(limit);
        // Interleave reads with counting: reading a port map moves the hot counters into it.
        frames.forEach((f, i) => {
          table.count(f.vlan, f.mac, f.port, f.dir, f.bytes, f.t);
          if (i % 97 === 0) table.entry(f.vlan, f.mac)?.ports;
        });
        const want = model(frames, limit);
        expect(table.size).toBe(want.entries.size);
        expect(table.dropped).toBe(want.dropped.size);
        // Order: VLANs as first seen, MACs as first seen within each.
        const order = [...want.entries.values()].sort((a, b) => {
          const va = [...want.entries.values()].findIndex((e) => e.vlan === a.vlan);
          const vb = [...want.entries.values()].findIndex((e) => e.vlan === b.vlan);
          return va - vb;
        });
        const got = [...table.entries()];
        expect(got.map((e) => `${e.vlan}|${e.mac}`)).toEqual(order.map((e) => `${e.vlan}|${e.mac}`));
        for (const e of got) {
          const m = want.entries.get(`${e.vlan}|${e.mac}`)!;
          expect([e.first, e.last]).toEqual([m.first, m.last]);
          expect(new Map([...e.ports].map(([p, c]) => [p, [...c]]))).toEqual(m.ports);
          expect(table.entry(e.vlan, e.mac)).toBe(e);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('one MAC on two VLANs is two entries; a MAC never seen is none', () => {
    const table = new MacTable(10);
    table.count(0, 0x00163e000001, 0, 1, 60, 5);
    table.count(10, 0x00163e000001, 0, 1, 60, 6);
    expect([...table.entries()].map((e) => e.vlan)).toEqual([0, 10]);
    expect(table.entry(0, 0x00163e000001)).not.toBe(table.entry(10, 0x00163e000001));
    expect(table.size).toBe(2);
  });
});
