/**
 * The BigInt-free timestamp division against BigInt arithmetic, over random 64-bit counts and
 * every resolution if_tsresol can express that bondscope accepts: seconds, nanoseconds and the
 * fraction in the interface's own units must be exact, not merely close.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketRecord } from '../../src/model/record.js';
import { formatTimestamp, resolutionFromTsresol, setTimestamp, type TsResolution } from '../../src/capture/timestamp.js';

function reference(hi: number, lo: number, tsresol: number, offsetSec: number): { sec: number; nsec: number; frac: number } {
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  const exp = BigInt(tsresol & 0x7f);
  const units = tsresol & 0x80 ? 2n ** exp : 10n ** exp;
  const frac = v % units;
  const nsec = (frac * 1000000000n) / units;
  return { sec: Number(v / units) + offsetSec, nsec: Number(nsec), frac: Number(tsresol & 0x80 ? nsec : frac) };
}

function ours(hi: number, lo: number, res: TsResolution): { sec: number; nsec: number; frac: number } {
  const rec = new PacketRecord();
  const words = new DataView(new ArrayBuffer(8));
  words.setUint32(0, hi, false);
  words.setUint32(4, lo, false);
  setTimestamp(rec, words, 0, false, res);
  return { sec: rec.tsSec, nsec: rec.tsNsec, frac: rec.tsFrac };
}

const decimal = fc.integer({ min: 0, max: 15 });
const binary = fc.integer({ min: 0, max: 52 }).map((k) => 0x80 | k);
const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('timestamp division without BigInt', () => {
  it('is exact for every accepted resolution, wherever the seconds fit a double exactly', () => {
    fc.assert(
      fc.property(fc.oneof(decimal, binary), u32, u32, (tsresol, hi, lo) => {
        const res = resolutionFromTsresol(tsresol)!;
        const want = reference(hi, lo, tsresol, 0);
        // Seconds past 2^53 cannot be exact in any double: absurd (tsresol 0 with a huge count).
        fc.pre(want.sec < 2 ** 53);
        expect(ours(hi, lo, res)).toEqual(want);
      }),
      { numRuns: 20000 },
    );
  });

  it('is exact at the edges: counts one below, at and above whole seconds, for µs, ns, ps and 2^-k', () => {
    for (const tsresol of [6, 9, 12, 15, 0x80 | 20, 0x80 | 30, 0x80 | 32, 0x80 | 40]) {
      const res = resolutionFromTsresol(tsresol)!;
      const units = BigInt(res.unitsPerSec);
      for (const sec of [0n, 1n, 1700000000n, 4102444800n]) {
        for (const delta of [-1n, 0n, 1n, units - 1n]) {
          const v = sec * units + delta;
          if (v < 0n || v >= 2n ** 64n) continue;
          const hi = Number(v >> 32n);
          const lo = Number(v & 0xffffffffn);
          expect(ours(hi, lo, res), `tsresol 0x${tsresol.toString(16)} count ${v}`).toEqual(reference(hi, lo, tsresol, 0));
        }
      }
    }
  });

  it('adds if_tsoffset to the seconds', () => {
    const res = { ...resolutionFromTsresol(9)!, offsetSec: -3600 };
    const v = 1700000000n * 1000000000n + 123456789n;
    expect(ours(Number(v >> 32n), Number(v & 0xffffffffn), res)).toEqual({ sec: 1700000000 - 3600, nsec: 123456789, frac: 123456789 });
  });

  it('refuses resolutions finer than a double can count', () => {
    expect(resolutionFromTsresol(16)).toBeNull();
    expect(resolutionFromTsresol(0x80 | 53)).toBeNull();
  });

  it('prints the fraction with the interface’s digits', () => {
    expect(formatTimestamp(1340954905, 298858, 6)).toBe('1340954905.298858');
    expect(formatTimestamp(5, 7, 9)).toBe('5.000000007');
    expect(formatTimestamp(5, 0, 0)).toBe('5');
  });
});
