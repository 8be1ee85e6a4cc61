/**
 * Timestamp resolution of an interface (pcapng if_tsresol; µs or ns for classic pcap), and the
 * conversion of a 64-bit count of its units into whole seconds + fraction without BigInt on the
 * hot path: the count arrives as two 32-bit halves and is divided in 16-bit limbs, exact for any
 * divisor below 2^37 (every resolution down to 10^-11 s); finer ones fall back to BigInt.
 */
import type { PacketRecord } from './record.js';

export interface TsResolution {
  /** Units per second: 10^k or 2^k. */
  unitsPerSec: number;
  /** 10^k resolutions: k; binary ones: -1. */
  pow10: number;
  /** Digits printed after the point: k for 10^-k, 9 (ns) for binary resolutions. */
  digits: number;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSec: number;
}

export function resolutionFromTsresol(byte: number): TsResolution | null {
  const exp = byte & 0x7f;
  if (byte & 0x80) {
    if (exp > 52) return null;
    return { unitsPerSec: 2 ** exp, pow10: -1, digits: 9, offsetSec: 0 };
  }
  if (exp > 15) return null;
  return { unitsPerSec: 10 ** exp, pow10: exp, digits: exp, offsetSec: 0 };
}

export const MICROSECONDS: TsResolution = { unitsPerSec: 1e6, pow10: 6, digits: 6, offsetSec: 0 };
export const NANOSECONDS: TsResolution = { unitsPerSec: 1e9, pow10: 9, digits: 9, offsetSec: 0 };

const LIMB_SAFE = 2 ** 37;

/** Sets rec.tsSec / tsNsec / tsFrac from a count of `res` units held as hi * 2^32 + lo. */
export function setTimestamp(rec: PacketRecord, hi: number, lo: number, res: TsResolution): void {
  const d = res.unitsPerSec;
  let sec: number;
  let frac: number;
  if (hi < 0x200000) {
    // Below 2^53: the count is exact as a double.
    const v = hi * 4294967296 + lo;
    sec = Math.floor(v / d);
    frac = v - sec * d;
  } else if (d < LIMB_SAFE) {
    const q1 = Math.floor(hi / d);
    const r1 = hi - q1 * d;
    const n2 = r1 * 65536 + (lo >>> 16);
    const q2 = Math.floor(n2 / d);
    const r2 = n2 - q2 * d;
    const n3 = r2 * 65536 + (lo & 0xffff);
    const q3 = Math.floor(n3 / d);
    frac = n3 - q3 * d;
    sec = q1 * 4294967296 + q2 * 65536 + q3;
  } else {
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    const bd = BigInt(d);
    sec = Number(v / bd);
    frac = Number(v % bd);
  }
  rec.tsSec = sec + res.offsetSec;
  if (res.pow10 >= 0) {
    rec.tsFrac = frac;
    rec.tsNsec = res.pow10 <= 9 ? frac * 10 ** (9 - res.pow10) : Math.floor(frac / 10 ** (res.pow10 - 9));
  } else {
    const ns = Math.floor((frac / d) * 1e9);
    rec.tsNsec = ns;
    rec.tsFrac = ns;
  }
}

/** Decimal seconds at the interface's full resolution: "1700000000.123456". */
export function formatTimestamp(sec: number, frac: number, digits: number): string {
  if (digits === 0) return String(sec);
  return `${sec}.${String(frac).padStart(digits, '0')}`;
}
