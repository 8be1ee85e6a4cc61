/**
 * PendingGroups (the engine's columnar window of frame groups) against a plain model: a list of
 * groups in arrival order and a Map from identity to the newest one. Random opens, further
 * sightings and drops of the front, with identities drawn from a small set so that probe runs
 * collide, wrap around the index and get holes punched in them, and with enough groups to grow
 * the ring and the sighting pool several times.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashOf, INITIAL_GROUPS, PendingGroups } from '../../src/engine/pending-groups.js';

interface ModelGroup {
  key: number;
  sightings: { port: number; t: number; frame: number }[];
}

/** Identities: enough for probe runs in the index to collide, few enough that adds find open groups. */
const KEYS = 2500;

type Op = { op: 'open'; key: number; port: number } | { op: 'add'; key: number; port: number } | { op: 'drop'; n: number };

const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('open' as const), key: fc.integer({ min: 0, max: KEYS }), port: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), key: fc.integer({ min: 0, max: KEYS }), port: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), n: fc.integer({ min: 0, max: 200 }) }) },
  ),
  { minLength: 1000, maxLength: 6000, size: 'max' },
);

function sightingsOf(pg: PendingGroups, slot: number): { port: number; t: number; frame: number }[] {
  const out = [{ port: pg.port[slot]!, t: pg.t[slot]!, frame: pg.frame[slot]! }];
  for (let r = pg.more(slot); r >= 0; r = pg.sNext[r]!) out.push({ port: pg.sPort[r]!, t: pg.sT[r]!, frame: pg.sFrame[r]! });
  return out;
}

describe('PendingGroups', () => {
  it('finds, extends and drops groups exactly as a list and a Map would', () => {
    fc.assert(
      fc.property(ops, (list: Op[]) => {
        const pg = new PendingGroups();
        const model: ModelGroup[] = [];
        const newest = new Map<number, ModelGroup>();
        let clock = 0;
        for (const o of list) {
          clock++;
          if (o.op === 'open') {
            const g = { key: o.key, sightings: [{ port: o.port, t: clock, frame: clock }] };
            model.push(g);
            newest.set(o.key, g);
            pg.open(o.key, 0, 0x00163e000000 + o.key, -1, 0, true, o.port, clock, 0, 0, clock);
          } else if (o.op === 'add') {
            const g = newest.get(o.key);
            const slot = pg.find(o.key);
            expect(slot >= 0).toBe(g !== undefined);
            if (!g) continue;
            g.sightings.push({ port: o.port, t: clock, frame: clock });
            pg.add(slot, o.port, clock, 0, 0, clock);
          } else {
            const n = Math.min(o.n, model.length);
            for (const g of model.splice(0, n)) if (newest.get(g.key) === g) newest.delete(g.key);
            pg.dropFront(n);
          }
          expect(pg.length).toBe(model.length);
        }
        // Every group, in arrival order, with its sightings in order; the index has the newest of each identity.
        for (let i = 0; i < model.length; i++) {
          const slot = pg.slotAt(i);
          expect(pg.key[slot]).toBe(model[i]!.key);
          expect(pg.count[slot]).toBe(model[i]!.sightings.length);
          expect(sightingsOf(pg, slot)).toEqual(model[i]!.sightings);
          expect(pg.firstT[slot]).toBe(model[i]!.sightings[0]!.t);
        }
        expect(pg.indexed).toBe(newest.size);
        for (let key = 0; key <= KEYS; key++) {
          const g = newest.get(key);
          const slot = pg.find(key);
          if (!g) expect(slot).toBe(-1);
          else expect(pg.slotAt(model.indexOf(g))).toBe(slot);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('keeps order, sightings and the index while the ring grows past its first sizes', () => {
    const pg = new PendingGroups();
    const n = 40_000;
    // Start part-way round the ring, so growth has to unwrap it.
    for (let i = 0; i < 1000; i++) pg.open(i, 0, 1, -1, 0, true, 0, i, 0, 0, i);
    pg.dropFront(1000);
    for (let i = 0; i < n; i++) {
      const slot = pg.open(i % 5000, 0, 1, -1, 0, true, i % 8, i, 0, 0, i);
      if (i % 3 === 0) pg.add(slot, 9, i + 0.5, 0, 0, -i);
    }
    expect(pg.length).toBe(n);
    expect(pg.indexed).toBe(5000);
    for (let i = 0; i < n; i++) {
      const slot = pg.slotAt(i);
      expect(pg.frame[slot]).toBe(i);
      expect(pg.count[slot]).toBe(i % 3 === 0 ? 2 : 1);
    }
    // The index has the newest group of each identity.
    for (let k = 0; k < 5000; k++) expect(pg.frame[pg.find(k)]).toBe(n - 5000 + k);
    pg.dropFront(n - 5000);
    expect(pg.indexed).toBe(5000);
    pg.dropFront(5000);
    expect(pg.indexed).toBe(0);
    expect(pg.find(42)).toBe(-1);
  });

  it('deletes from probe runs that wrap round the end of the index', () => {
    // Identities whose home is one of the index's last two slots or its first: their runs wrap.
    const mask = INITIAL_GROUPS * 2 - 1;
    const near: number[] = [];
    for (let k = 0; near.length < 12; k++) {
      const home = hashOf(k) & mask;
      if (home >= mask - 1 || home === 0) near.push(k);
    }
    // Drop each prefix of the opening order, in turn: every position of the hole in the run.
    for (let drop = 1; drop < near.length; drop++) {
      const pg = new PendingGroups();
      near.forEach((k, i) => pg.open(k, 0, 1, -1, 0, true, 0, i, 0, 0, i));
      pg.dropFront(drop);
      near.forEach((k, i) => expect(pg.find(k)).toBe(i < drop ? -1 : pg.slotAt(i - drop)));
    }
  });

  it("a group's last time follows its latest sighting, whatever order they were added in", () => {
    const pg = new PendingGroups();
    const slot = pg.open(7, 0, 1, -1, 0, true, 2, 1000, 0, 0, 1);
    pg.add(slot, 3, 1500, 0, 0, 2);
    expect(pg.lastT[slot]).toBe(1500);
    pg.add(slot, 4, 1200, 0, 0, 3);
    expect(pg.lastT[slot]).toBe(1500);
    expect(pg.firstT[slot]).toBe(1000);
  });

  it('a sighting earlier than the group\'s first moves the group\'s first time back', () => {
    const pg = new PendingGroups();
    const slot = pg.open(1, 0, 1, -1, 0, true, 0, 5000, 0, 0, 1);
    pg.add(slot, 1, 4000, 0, 0, 2);
    expect(pg.firstT[slot]).toBe(4000);
  });
});
