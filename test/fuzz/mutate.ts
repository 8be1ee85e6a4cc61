/**
 * The mutation fuzzer's parts: a seeded PRNG, the seed files (the corpus and the lab recordings),
 * a map of each seed's length fields (pcap record caplen/len; pcapng block lengths and trailers,
 * EPB caplen/len/interface id, option lengths), and mutations: bit flips, byte sets, inserts,
 * deletes, truncation, length-field edits aimed at those fields, duplicated records (a storm of
 * one frame), timestamp edits, and splices from another seed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** The project root: the nearest folder above this file with a package.json (this file runs from test/ and dist/test/). */
function projectRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const PROJECT_ROOT = projectRoot();
export const CORPUS = resolve(PROJECT_ROOT, '../shared/corpus');

/** xorshift128+ folded to 32 bits: reproducible runs from one number. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 to spread a small seed over the state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next() || 1;
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** xoshiro128** : 32 random bits. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface Seed {
  /** Path relative to the corpus or project, for messages and crasher names. */
  name: string;
  /** File name extension the mutant keeps (.pcap, .pcapng): the reader ignores it, people don't. */
  ext: string;
  bytes: Uint8Array;
  fields: LengthField[];
  /** Start offset and length of each pcap record or pcapng block. */
  units: { at: number; len: number }[];
}

/** A length-like field in a seed: where, how wide, its byte order, and what it measures. */
export interface LengthField {
  at: number;
  width: 2 | 4;
  le: boolean;
  kind: 'block-length' | 'block-trailer' | 'caplen' | 'origlen' | 'option-length' | 'interface-id' | 'timestamp' | 'snaplen' | 'linktype';
}

const CAPTURE = /\.(pcap|pcapng|cap|ntar)$/;

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (CAPTURE.test(name) && st.size > 0 && st.size <= (1 << 20)) out.push(p);
  }
}

/** Every capture file of the corpus and of captures/ (up to 1 MiB each), sorted by path: a stable seed set. */
export function seedPaths(): string[] {
  const out: string[] = [];
  for (const dir of [CORPUS, resolve(PROJECT_ROOT, 'captures')]) {
    try {
      walk(dir, out);
    } catch {
      // A checkout without the corpus: the seeds that exist are still used.
    }
  }
  return out.sort();
}

export function loadSeed(path: string): Seed {
  const bytes = new Uint8Array(readFileSync(path));
  const name = path.startsWith(CORPUS) ? path.slice(CORPUS.length + 1) : path.startsWith(PROJECT_ROOT) ? path.slice(PROJECT_ROOT.length + 1) : basename(path);
  const ext = /\.pcapng$|\.ntar$/.test(path) ? '.pcapng' : '.pcap';
  const { fields, units } = mapFields(bytes);
  return { name, ext, bytes, fields, units };
}

/** Finds the length fields of a pcap or pcapng file (as far as its structure is sound). */
export function mapFields(b: Uint8Array): { fields: LengthField[]; units: { at: number; len: number }[] } {
  const fields: LengthField[] = [];
  const units: { at: number; len: number }[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 24) return { fields, units };
  const magic = dv.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    let le = true;
    for (let p = 0; p + 12 <= b.length && units.length < 100_000; ) {
      let type = dv.getUint32(p, le);
      if (dv.getUint32(p, false) === 0x0a0d0d0a) {
        le = dv.getUint32(p + 8, false) === 0x4d3c2b1a;
        type = 0x0a0d0d0a;
      }
      const len = dv.getUint32(p + 4, le);
      if (len < 12 || len % 4 || p + len > b.length) break;
      units.push({ at: p, len });
      fields.push({ at: p + 4, width: 4, le, kind: 'block-length' }, { at: p + len - 4, width: 4, le, kind: 'block-trailer' });
      let optFrom = -1;
      if (type === 0x0a0d0d0a) optFrom = p + 24;
      else if (type === 1 && len >= 20) {
        fields.push({ at: p + 8, width: 2, le, kind: 'linktype' }, { at: p + 12, width: 4, le, kind: 'snaplen' });
        optFrom = p + 16;
      } else if ((type === 6 || type === 2) && len >= 32) {
        const caplen = dv.getUint32(p + 20, le);
        fields.push(
          { at: p + 8, width: type === 6 ? 4 : 2, le, kind: 'interface-id' },
          { at: p + 12, width: 4, le, kind: 'timestamp' },
          { at: p + 16, width: 4, le, kind: 'timestamp' },
          { at: p + 20, width: 4, le, kind: 'caplen' },
          { at: p + 24, width: 4, le, kind: 'origlen' },
        );
        optFrom = p + 28 + ((caplen + 3) & ~3);
      } else if (type === 3 && len >= 16) fields.push({ at: p + 8, width: 4, le, kind: 'origlen' });
      else if (type === 5 && len >= 24) {
        fields.push({ at: p + 8, width: 4, le, kind: 'interface-id' });
        optFrom = p + 20;
      }
      if (optFrom >= 0) {
        for (let o = optFrom; o + 4 <= p + len - 4; ) {
          const olen = dv.getUint16(o + 2, le);
          fields.push({ at: o + 2, width: 2, le, kind: 'option-length' });
          if (dv.getUint16(o, le) === 0) break;
          o += 4 + ((olen + 3) & ~3);
        }
      }
      p += len;
    }
  } else if (magic === 0xa1b2c3d4 || magic === 0xd4c3b2a1 || magic === 0xa1b23c4d || magic === 0x4d3cb2a1) {
    const le = b[0] === 0xd4 || b[0] === 0x4d;
    fields.push({ at: 16, width: 4, le, kind: 'snaplen' }, { at: 20, width: 4, le, kind: 'linktype' });
    for (let p = 24; p + 16 <= b.length && units.length < 100_000; ) {
      const caplen = dv.getUint32(p + 8, le);
      if (p + 16 + caplen > b.length) break;
      units.push({ at: p, len: 16 + caplen });
      fields.push(
        { at: p, width: 4, le, kind: 'timestamp' },
        { at: p + 4, width: 4, le, kind: 'timestamp' },
        { at: p + 8, width: 4, le, kind: 'caplen' },
        { at: p + 12, width: 4, le, kind: 'origlen' },
      );
      p += 16 + caplen;
    }
  }
  return { fields, units };
}

/** Values length checks get wrong: around zero, the minimum block, the caps, the sign bit, all ones. */
/** Mutants stay below this size, so a run's time goes to many inputs rather than a few huge ones. */
export const MAX_MUTANT = 8 << 20;

const INTERESTING_32 = [0, 1, 3, 4, 8, 11, 12, 13, 16, 20, 24, 28, 31, 32, 36, 64, 0xffff, 0x10000, 262143, 262144, 262145, (16 << 20) - 4, 16 << 20, (16 << 20) + 4, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];
const INTERESTING_16 = [0, 1, 2, 3, 4, 7, 8, 9, 0x7fff, 0x8000, 0xfffc, 0xffff];

function writeField(b: Uint8Array, f: LengthField, value: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.at + f.width > b.length) return;
  if (f.width === 4) dv.setUint32(f.at, value >>> 0, f.le);
  else dv.setUint16(f.at, value & 0xffff, f.le);
}

function readField(b: Uint8Array, f: LengthField): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.at + f.width > b.length) return 0;
  return f.width === 4 ? dv.getUint32(f.at, f.le) : dv.getUint16(f.at, f.le);
}

export type MutationName = 'bitflip' | 'byteset' | 'insert' | 'delete' | 'truncate' | 'length' | 'duplicate' | 'timestamp' | 'splice';
const MUTATIONS: MutationName[] = ['bitflip', 'byteset', 'insert', 'delete', 'truncate', 'length', 'length', 'length', 'duplicate', 'timestamp', 'splice'];

/**
 * One mutant of `seed`: 1-4 mutations, applied in order. Field positions are the seed's; after an
 * insert or delete they may point elsewhere, which is one more way to break a file.
 */
export function mutate(seed: Seed, rng: Rng, others: readonly Seed[], maxBytes = MAX_MUTANT): { bytes: Uint8Array; ops: string[] } {
  let b: Uint8Array = seed.bytes.slice();
  const ops: string[] = [];
  const count = 1 + rng.int(4);
  for (let i = 0; i < count; i++) {
    const op = rng.pick(MUTATIONS);
    const at = rng.int(b.length);
    switch (op) {
      case 'bitflip': {
        const flips = 1 + rng.int(8);
        for (let k = 0; k < flips; k++) {
          const p = rng.chance(0.5) ? at : rng.int(b.length);
          if (p < b.length) b[p]! ^= 1 << rng.int(8);
        }
        ops.push(`bitflip x${flips} near ${at}`);
        break;
      }
      case 'byteset': {
        const v = rng.pick([0, 0xff, 0x7f, 0x80, 0x1b, 0x9b, rng.int(256)]);
        if (at < b.length) b[at] = v;
        ops.push(`byte ${at}=${v}`);
        break;
      }
      case 'insert': {
        const n = 1 + rng.int(rng.chance(0.5) ? 4 : 64);
        const ins = new Uint8Array(n);
        for (let k = 0; k < n; k++) ins[k] = rng.int(256);
        const nb = new Uint8Array(b.length + n);
        nb.set(b.subarray(0, at));
        nb.set(ins, at);
        nb.set(b.subarray(at), at + n);
        b = nb;
        ops.push(`insert ${n} at ${at}`);
        break;
      }
      case 'delete': {
        const n = 1 + rng.int(rng.chance(0.5) ? 4 : 256);
        const cut = Math.min(n, b.length - at);
        const nb = new Uint8Array(b.length - cut);
        nb.set(b.subarray(0, at));
        nb.set(b.subarray(at + cut), at);
        b = nb;
        ops.push(`delete ${n} at ${at}`);
        break;
      }
      case 'truncate':
        b = b.slice(0, at);
        ops.push(`truncate ${at}`);
        break;
      case 'length': {
        if (!seed.fields.length) break;
        const f = rng.pick(seed.fields.filter((x) => x.kind !== 'timestamp').length ? seed.fields.filter((x) => x.kind !== 'timestamp') : seed.fields);
        const old = readField(b, f);
        const r = rng.int(4);
        const value = r === 0 ? rng.pick(f.width === 4 ? INTERESTING_32 : INTERESTING_16) : r === 1 ? old + rng.pick([-8, -4, -1, 1, 4, 8]) : r === 2 ? old ^ (1 << rng.int(f.width * 8)) : rng.u32();
        writeField(b, f, value);
        ops.push(`${f.kind}@${f.at} ${old}->${value >>> 0 & (f.width === 4 ? 0xffffffff : 0xffff)}`);
        break;
      }
      case 'duplicate': {
        if (!seed.units.length) break;
        // One record or block repeated: a storm of one frame, the same interface twice, ...
        const u = rng.pick(seed.units);
        if (u.at + u.len > b.length) break;
        // Up to 100 000 copies (a real broadcast storm repeats one frame that often), at most 8 MiB.
        const copies = Math.max(1, Math.min(rng.pick([1, 2, 16, 1000, 100_000]), Math.floor(maxBytes / u.len)));
        const unit = b.slice(u.at, u.at + u.len);
        const nb = new Uint8Array(b.length + unit.length * copies);
        const end = u.at + u.len;
        nb.set(b.subarray(0, end));
        for (let k = 0; k < copies; k++) nb.set(unit, end + k * unit.length);
        nb.set(b.subarray(end), end + unit.length * copies);
        b = nb;
        ops.push(`duplicate ${u.at}+${u.len} x${copies}`);
        break;
      }
      case 'timestamp': {
        const ts = seed.fields.filter((x) => x.kind === 'timestamp');
        if (!ts.length) break;
        const f = rng.pick(ts);
        const value = rng.pick([0, 1, 0x7fffffff, 0xffffffff, 0xfffffffe, 999999, 1000000, 999999999, 1000000000, rng.u32()]);
        writeField(b, f, value);
        ops.push(`timestamp@${f.at}=${value}`);
        break;
      }
      case 'splice': {
        const other = rng.pick(others);
        if (!other.units.length) break;
        const u = rng.pick(other.units);
        const piece = other.bytes.subarray(u.at, u.at + u.len);
        const where = seed.units.length && rng.chance(0.7) ? Math.min(b.length, rng.pick(seed.units).at) : at;
        const nb = new Uint8Array(b.length + piece.length);
        nb.set(b.subarray(0, where));
        nb.set(piece, where);
        nb.set(b.subarray(where), where + piece.length);
        b = nb;
        ops.push(`splice ${other.name}@${u.at}+${u.len} at ${where}`);
        break;
      }
    }
  }
  return { bytes: b, ops };
}
