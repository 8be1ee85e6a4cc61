/**
 * Timestamp resolution of an interface (pcapng if_tsresol; µs or ns for classic pcap), and the
 * conversion of a 64-bit count of its units into whole seconds + fraction without BigInt on the
 * hot path. The count arrives as two 32-bit halves. For resolutions up to 2^30 units/s (µs, ns)
 * the quotient is estimated in doubles and the exact remainder taken from the low 32 bits; below
 * 2^53 the count is exact as a double; otherwise it is divided in 16-bit limbs, exact for any
 * divisor below 2^37 (every decimal resolution down to 10^-11 s). Every quotient is corrected
 * where the double division rounded across an integer, so seconds and fraction are exact. Only
 * absurd resolutions take the BigInt path.
 */
import type { PacketRecord } from '../model/record.js';

export interface TsResolution {
  /** Units per second: 10^k or 2^k. */
  unitsPerSec: number;
  /** 10^k resolutions: k; binary ones: -1. */
  pow10: number;
  /** 2^k resolutions: k; decimal ones: -1. */
  pow2: number;
  /** Digits printed after the point: k for 10^-k, 9 (ns) for binary resolutions. */
  digits: number;
  /** 10^k resolutions: frac → ns is frac * nsMul (k ≤ 9) or floor(frac / nsDiv) (k > 9); else 0. */
  nsMul: number;
  nsDiv: number;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSec: number;
}

/**
 * pcapng if_tsresol: high bit clear = 10^-k s, set = 2^-k s. Null for resolutions no double can
 * count exactly (finer than 10^-15 or 2^-52 s); the caller reports those.
 */
export function resolutionFromTsresol(byte: number): TsResolution | null {
  const exp = byte & 0x7f;
  if (byte & 0x80) {
    if (exp > 52) return null;
    return { unitsPerSec: 2 ** exp, pow10: -1, pow2: exp, digits: 9, nsMul: 0, nsDiv: 0, offsetSec: 0 };
  }
  if (exp > 15) return null;
  return decimal(exp);
}

function decimal(exp: number): TsResolution {
  return {
    unitsPerSec: 10 ** exp,
    pow10: exp,
    pow2: -1,
    digits: exp,
    nsMul: exp <= 9 ? 10 ** (9 - exp) : 0,
    nsDiv: exp > 9 ? 10 ** (exp - 9) : 0,
    offsetSec: 0,
  };
}

export const MICROSECONDS: TsResolution = decimal(6);
export const NANOSECONDS: TsResolution = decimal(9);

const LIMB_SAFE = 2 ** 37;
const TWO32 = 4294967296;

/**
 * Sets rec.tsSec / tsNsec / tsFrac from a count of `res` units stored at `at` as two 32-bit
 * words, high then low, each in the section's byte order (the pcapng timestamp layout). The
 * words are read here rather than passed in: a uint32 above 2^30 passed to a call that is not
 * inlined is boxed as a heap number, one allocation per packet.
 */
export function setTimestamp(rec: PacketRecord, dv: DataView, at: number, le: boolean, res: TsResolution): void {
  const hi = dv.getUint32(at, le);
  const lo = dv.getUint32(at + 4, le);
  const d = res.unitsPerSec;
  let sec: number;
  let frac: number;
  if (d <= 0x40000000 && hi < d * 524288) {
    // The common case (µs, ns, any resolution up to 2^30 units/s; quotient below 2^51): estimate
    // the quotient in doubles (off by at most one), then get the exact remainder from the low
    // 32 bits alone: v ≡ lo (mod 2^32) and the true remainder lies in (-2^31, 2^31) because
    // d ≤ 2^30, so lo - sec·d computed mod 2^32 (Math.imul) and read as int32 is exact.
    sec = Math.floor((hi * TWO32 + lo) / d);
    frac = (lo - Math.imul(sec, d)) | 0;
    while (frac < 0) {
      sec--;
      frac += d;
    }
    while (frac >= d) {
      sec++;
      frac -= d;
    }
  } else if (hi < 0x200000) {
    // Below 2^53: the count is exact as a double.
    const v = hi * TWO32 + lo;
    sec = Math.floor(v / d);
    frac = v - sec * d;
    if (frac < 0) {
      sec--;
      frac += d;
    } else if (frac >= d) {
      sec++;
      frac -= d;
    }
  } else if (d < LIMB_SAFE) {
    // Long division of hi:lo by d, one 32-bit and two 16-bit limbs; each partial stays < 2^53.
    let q1 = Math.floor(hi / d);
    let r = hi - q1 * d;
    if (r < 0) { q1--; r += d; } else if (r >= d) { q1++; r -= d; }
    let n = r * 65536 + (lo >>> 16);
    let q2 = Math.floor(n / d);
    r = n - q2 * d;
    if (r < 0) { q2--; r += d; } else if (r >= d) { q2++; r -= d; }
    n = r * 65536 + (lo & 0xffff);
    let q3 = Math.floor(n / d);
    r = n - q3 * d;
    if (r < 0) { q3--; r += d; } else if (r >= d) { q3++; r -= d; }
    frac = r;
    sec = q1 * TWO32 + q2 * 65536 + q3;
  } else {
    return setTimestampBig(rec, hi, lo, res);
  }
  rec.tsSec = sec + res.offsetSec;
  if (res.nsMul !== 0) {
    rec.tsFrac = frac;
    rec.tsNsec = frac * res.nsMul;
  } else if (res.nsDiv !== 0) {
    rec.tsFrac = frac;
    rec.tsNsec = Math.floor(frac / res.nsDiv);
  } else {
    const ns = binaryFracToNs(frac, res.pow2);
    rec.tsNsec = ns;
    rec.tsFrac = ns;
  }
}

/** floor(frac * 10^9 / 2^k), exact: 10^9 = 2^9 * 1953125 and frac * 1953125 < 2^53 for k ≤ 32. */
function binaryFracToNs(frac: number, k: number): number {
  if (k <= 9) return frac * 2 ** (9 - k) * 1953125;
  if (k <= 32) return Math.floor((frac * 1953125) / 2 ** (k - 9));
  return Number((BigInt(frac) * 1000000000n) >> BigInt(k));
}

/** Resolutions of 2^37 units/s and finer (picoseconds and below): rare enough for BigInt. */
function setTimestampBig(rec: PacketRecord, hi: number, lo: number, res: TsResolution): void {
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  const bd = BigInt(res.unitsPerSec);
  const frac = v % bd;
  rec.tsSec = Number(v / bd) + res.offsetSec;
  if (res.pow10 >= 0) {
    rec.tsFrac = Number(frac);
    rec.tsNsec = Number(frac / 10n ** BigInt(res.pow10 - 9));
  } else {
    const ns = Number((frac * 1000000000n) >> BigInt(res.pow2));
    rec.tsNsec = ns;
    rec.tsFrac = ns;
  }
}

/** Decimal seconds at the interface's full resolution: "1700000000.123456". */
export function formatTimestamp(sec: number, frac: number, digits: number): string {
  if (digits === 0) return String(sec);
  return `${sec}.${String(frac).padStart(digits, '0')}`;
}
