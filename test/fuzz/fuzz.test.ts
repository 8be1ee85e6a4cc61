/**
 * The short fuzz run of `npm test` (seeded: the same inputs every run, a few seconds), with the
 * invariants of driver.ts / pipeline.ts: no exception, damage reported as one CaptureError with
 * its byte offset, frames before damage analysed as the undamaged prefix is, decoder offsets inside
 * each frame, engine structures within bounds, valid JSON, no terminal control character in text,
 * bounded time. `npm run fuzz -- --duration S --seed N` runs the same for as long as asked.
 *
 * 1. Every seed (the corpus and captures/) passes untouched, and through the evidence export.
 * 2. Mutants of the seeds (bit flips, inserts, deletes, truncation, length-field edits aimed at
 *    block and record lengths, duplicated records, timestamps, splices).
 * 3. Properties (fast-check): captures written from arbitrary frames read back exactly; cut at any
 *    byte or overwritten anywhere they still keep every invariant; frames built layer by layer
 *    (tags, LLC/SNAP, ARP, IPv4, IPv6 with extension headers, SLL, SLL2) cut at any length decode
 *    inside their bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, PcapngWriter } from '../../src/capture/index.js';
import { checkExport, checkInput, timeBudgetMs } from './driver.js';
import { loadSeed, mutate, Rng, type Seed, seedPaths } from './mutate.js';
import { pcapFile, type PcapRecord } from './pcap-file.js';

const work = mkdtempSync(join(tmpdir(), 'bondscope-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const seeds: Seed[] = seedPaths().map(loadSeed);
/** The fixed seed of the short run: change it and the inputs change, nothing else. */
const RUN_SEED = 20261125;

function check(bytes: Uint8Array, ext: string): string | null {
  return checkInput(bytes, ext, work, { timeLimitMs: timeBudgetMs(bytes.length) });
}

describe('seeds', () => {
  it('the seed set is the corpus and the lab recordings', () => {
    expect(seeds.length).toBeGreaterThan(700);
    expect(seeds.some((s) => s.name.startsWith('captures/loop/'))).toBe(true);
    expect(seeds.some((s) => s.name.startsWith('pcapng-suite/'))).toBe(true);
  });

  it('every seed keeps every invariant untouched', () => {
    const failures = seeds.map((s) => [s.name, check(s.bytes, s.ext)] as const).filter(([, r]) => r !== null);
    expect(failures).toEqual([]);
  });

  it('the lab recordings go through the evidence export and its bundle reads back', async () => {
    const lab = seeds.filter((s) => /^captures\/(\w+)\/\1\.pcapng$/.test(s.name));
    expect(lab.map((s) => s.name)).toEqual(expect.arrayContaining(['captures/loop/loop.pcapng', 'captures/lacp/lacp.pcapng', 'captures/migrate/migrate.pcapng']));
    for (const [i, s] of lab.entries()) expect(await checkExport(s.bytes, s.ext, join(work, `export-${i}`), i % 2 === 1), s.name).toBeNull();
  });
});

describe('mutants of the seeds', () => {
  it('400 seeded mutants keep every invariant', async () => {
    const rng = new Rng(RUN_SEED);
    // Small seeds and mutants keep the run to a few seconds; the long run has no such limit.
    const small = seeds.filter((s) => s.bytes.length <= 128 << 10);
    const failures: string[] = [];
    let damaged = 0;
    for (let i = 0; i < 400; i++) {
      const s = rng.pick(small);
      const { bytes, ops } = mutate(s, rng, small, 512 << 10);
      let reason = check(bytes, s.ext);
      if (!reason && i % 8 === 0) reason = await checkExport(bytes, s.ext, join(work, 'export'), i % 16 === 0);
      if (reason) failures.push(`${s.name}; ${ops.join('; ')}: ${reason}`);
      const set = openCapture([join(work, 'input', `capture${s.ext}`)]);
      while (set.next());
      if (set.errors.length) damaged++;
    }
    expect(failures).toEqual([]);
    // The mutants do break files: most end in damage the reader must report.
    expect(damaged).toBeGreaterThan(150);
  });
});

/** An arbitrary frame: bytes, capture time, and an original length at or above the captured one. */
const frameArb = fc.record({
  data: fc.uint8Array({ minLength: 0, maxLength: 200 }),
  sec: fc.integer({ min: 0, max: 0xffffffff }),
  frac: fc.integer({ min: 0, max: 999_999 }),
  extra: fc.integer({ min: 0, max: 1500 }),
});

const LINK_TYPES = [1, 113, 276, 0, 101, 147];

describe('properties', () => {
  it('a classic pcap of arbitrary frames reads back exactly, in either byte order and resolution', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 40 }), fc.boolean(), fc.boolean(), fc.constantFrom(...LINK_TYPES), (frames, le, ns, linkType) => {
        const records: PcapRecord[] = frames.map((f) => ({ sec: f.sec, frac: f.frac, data: f.data, origLen: f.data.length + f.extra }));
        const bytes = pcapFile(records, { littleEndian: le, nanoseconds: ns, linkType });
        expect(check(bytes, '.pcap')).toBeNull();
        const set = openCapture([join(work, 'input', 'capture.pcap')]);
        const got: PcapRecord[] = [];
        while (set.next()) got.push({ sec: set.rec.tsSec, frac: set.rec.tsFrac, data: set.rec.buf.slice(set.rec.offset, set.rec.offset + set.rec.caplen), origLen: set.rec.origLen });
        expect(set.errors).toEqual([]);
        expect(got).toEqual(records);
      }),
      { seed: RUN_SEED, numRuns: 150 },
    );
  });

  it('a pcapng of arbitrary frames on several interfaces reads back exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(frameArb, fc.nat(3), fc.constantFrom<0 | 1 | 2>(0, 1, 2)), { maxLength: 40 }), fc.constantFrom(...LINK_TYPES), (frames, linkType) => {
        const path = join(work, 'written.pcapng');
        const w = new PcapngWriter(path);
        for (let i = 0; i < 4; i++) w.addInterface({ name: `eth${i}`, linkType, snaplen: 262144 });
        for (const [f, iface, direction] of frames) w.writePacket(iface, f.sec, f.frac * 1000, f.data, 0, f.data.length, f.data.length + f.extra, { direction });
        w.close();
        const set = openCapture([path]);
        const got: unknown[] = [];
        while (set.next()) got.push([set.rec.iface!.localId, set.rec.tsSec, set.rec.tsNsec, set.rec.direction, set.rec.buf.slice(set.rec.offset, set.rec.offset + set.rec.caplen), set.rec.origLen]);
        expect(set.errors).toEqual([]);
        expect(got).toEqual(frames.map(([f, iface, direction]) => [iface, f.sec, f.frac * 1000, direction, f.data, f.data.length + f.extra]));
      }),
      { seed: RUN_SEED, numRuns: 100 },
    );
  });

  it('a capture cut at any byte keeps every invariant (the frames before the cut analysed as the prefix)', () => {
    const base = seeds.filter((s) => s.bytes.length <= 16 << 10);
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), (i, at) => {
        const s = base[i]!;
        const cut = s.bytes.subarray(0, Math.floor(at * s.bytes.length));
        expect(check(cut, s.ext)).toBeNull();
      }),
      { seed: RUN_SEED, numRuns: 300 },
    );
  });

  it('a capture with bytes overwritten anywhere keeps every invariant', () => {
    const base = seeds.filter((s) => s.bytes.length <= 16 << 10);
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (i, edits) => {
        const s = base[i]!;
        const b = s.bytes.slice();
        for (const [at, v] of edits) b[Math.floor(at * b.length)] = v;
        expect(check(b, s.ext)).toBeNull();
      }),
      { seed: RUN_SEED, numRuns: 300 },
    );
  });

  it('frames built layer by layer, cut at any length, decode inside their bytes', () => {
    const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
    const tag = fc.tuple(fc.constantFrom(0x8100, 0x88a8, 0x9100), fc.integer({ min: 0, max: 0xffff })).map(([tpid, tci]) => [...u16(tpid), ...u16(tci)]);
    const ipv6Ext = fc.tuple(fc.constantFrom(0, 43, 44, 60), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 6, maxLength: 30 })).map(([next, len, rest]) => [next, len, ...rest]);
    const l3 = fc.oneof(
      fc.uint8Array({ maxLength: 60 }).map((rest) => [...u16(0x0806), 0, 1, 8, 0, 6, 4, ...rest]),
      fc.tuple(fc.integer({ min: 0x40, max: 0x4f }), fc.constantFrom(1, 6, 17, 58, 0), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 80 })).map(([vihl, proto, frag, rest]) => [...u16(0x0800), vihl, 0, 0, 40, 0, 0, ...u16(frag), 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...rest]),
      fc.tuple(fc.constantFrom(0, 43, 44, 60, 17, 58), fc.array(ipv6Ext, { maxLength: 4 }), fc.uint8Array({ maxLength: 40 })).map(([next, exts, rest]) => [...u16(0x86dd), 0x60, 0, 0, 0, 0, 64, next, 64, ...new Array<number>(32).fill(1), ...exts.flat(), ...rest]),
      fc.tuple(fc.integer({ min: 0, max: 0x5ff }), fc.constantFrom(0x42, 0xaa, 0xfe, 0x00), fc.uint8Array({ maxLength: 40 })).map(([len, sap, rest]) => [...u16(len), sap, sap, 3, 0, 0, 0x0c, 1, 0x0b, ...rest]),
      fc.uint8Array({ maxLength: 60 }).map((rest) => [...u16(0x8809), 1, ...rest]),
    );
    const ethernetFrame = fc.tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.array(tag, { maxLength: 10 }), l3).map(([macs, tags, rest]) => Uint8Array.from([...macs, ...tags.flat(), ...rest]));
    const sll = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(6, 0, 8, 300), ethernetFrame).map(([type, hatype, halen, eth]) => Uint8Array.from([...u16(type), ...u16(hatype), ...u16(halen), ...eth.subarray(6, 14), ...eth.subarray(12)]));
    const sll2 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 6 }), ethernetFrame).map(([ifindex, type, eth]) => Uint8Array.from([...eth.subarray(12, 14), 0, 0, ...u16(ifindex >>> 16), ...u16(ifindex & 0xffff), 0, 1, type, 6, ...eth.subarray(6, 14), ...eth.subarray(14)]));
    fc.assert(
      fc.property(fc.constantFrom(1, 113, 276), fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 20 }), fc.array(ethernetFrame, { minLength: 20, maxLength: 20 }), fc.array(sll, { minLength: 20, maxLength: 20 }), fc.array(sll2, { minLength: 20, maxLength: 20 }), (linkType, picks, eth, cooked, cooked2) => {
        const pool = linkType === 1 ? eth : linkType === 113 ? cooked : cooked2;
        const records: PcapRecord[] = picks.map(([k, keep], i) => {
          const f = pool[k % pool.length]!;
          return { sec: 1_700_000_000 + i, frac: 0, data: f.subarray(0, Math.round(keep * f.length)), origLen: f.length };
        });
        expect(check(pcapFile(records, { linkType }), '.pcap')).toBeNull();
      }),
      { seed: RUN_SEED, numRuns: 300 },
    );
  });
});
