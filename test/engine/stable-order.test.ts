/**
 * clock.ts's stableOrder is exactly a stable sort of the indexes by value: the order
 * Array.prototype.sort gives with the index as tie-break, for any list of differences judge() can be
 * handed — ties (equal stamps, the common case on one clock), negative and positive differences,
 * -0 beside 0, infinities, lengths across the insertion-run (16) and merge-width boundaries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stableOrder } from '../../src/engine/clock.js';

function reference(d: readonly number[]): number[] {
  return [...d.keys()].sort((x, y) => (d[x]! < d[y]! ? -1 : d[x]! > d[y]! ? 1 : x - y));
}

/** Few distinct values (many ties) as well as any double but NaN (a difference is never NaN). */
const value = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, -0, Infinity, -Infinity),
  fc.double({ noNaN: true }),
);

describe('stableOrder', () => {
  it('is Array.prototype.sort with index tie-break, for every list', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300, size: 'max' }), (d) => {
        expect([...stableOrder(d)]).toEqual(reference(d));
      }),
      { numRuns: 2000 },
    );
  });

  it('holds at the run and merge boundaries and on long lists', () => {
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 257, 1000, 4097, 20_000]) {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: n, maxLength: n }), (d) => {
          expect([...stableOrder(d)]).toEqual(reference(d));
        }),
        { numRuns: n > 1000 ? 5 : 50 },
      );
    }
  });

  it('gives the comparator sort judge() used before it (d[x] - d[y], stable)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), { maxLength: 200, size: 'max' }), (d) => {
        const before = Uint32Array.from(d.keys()).sort((x, y) => d[x]! - d[y]!);
        expect([...stableOrder(d)]).toEqual([...before]);
      }),
      { numRuns: 1000 },
    );
  });
});
