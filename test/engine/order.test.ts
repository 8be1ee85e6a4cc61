/**
 * Findings never depend on record or file order (the reorder stage, src/engine/reorder.ts). Each
 * lab recording's dumpcap pcapng (not in time order: dumpcap writes each interface in batches)
 * is analysed as recorded, as its `reordercap` copy (in time order), as one pcapng per interface
 * fed in any order, and re-batched at random the way dumpcap batches (each interface's frames in
 * their order, interfaces interleaved in runs up to a few hundred ms): the same findings every
 * time — kinds, MACs, VLANs, counts, confidence and evidence frames, compared by interface and
 * timestamp since frame numbers differ between the files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import type { Finding } from '../../src/engine/findings.js';
import { formatMac } from '../../src/model/mac.js';
import { emptyTopology } from '../../src/model/topology.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const HAS_REORDERCAP = spawnSync('reordercap', ['-h'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'bondscope-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Rec {
  iface: string;
  linkType: number;
  snaplen: number;
  tsSec: number;
  tsNsec: number;
  bytes: Uint8Array;
  origLen: number;
}

/** Every record of a file, in file order, with its bytes copied. */
function records(file: string): Rec[] {
  const set = openCapture([file]);
  const out: Rec[] = [];
  while (set.next()) {
    const r = set.rec;
    out.push({ iface: r.iface!.name, linkType: r.iface!.linkType, snaplen: r.iface!.snaplen, tsSec: r.tsSec, tsNsec: r.tsNsec, bytes: r.buf.slice(r.offset, r.offset + r.caplen), origLen: r.origLen });
  }
  expect(set.errors).toEqual([]);
  return out;
}

/** Writes records into one pcapng, one IDB per interface in order of first appearance. */
function write(path: string, recs: Rec[]): string {
  const w = new PcapngWriter(path);
  const ids = new Map<string, number>();
  for (const r of recs) {
    let id = ids.get(r.iface);
    if (id === undefined) ids.set(r.iface, (id = w.addInterface({ name: r.iface, linkType: r.linkType, snaplen: r.snaplen, tsDigits: 9 })));
    w.writePacket(id, r.tsSec, r.tsNsec, r.bytes, 0, r.bytes.length, r.origLen);
  }
  w.close();
  return path;
}

/** Findings as comparable text: evidence by interface and timestamp. */
function analyze(files: string[]): string[] {
  const set = openCapture(files);
  const a = new Analyzer(emptyTopology());
  const f = new DecodedFrame();
  const where = new Map<string, string>();
  while (set.next()) {
    const r = set.rec;
    where.set(`${r.inputIndex}|${r.inputFrame}`, `${r.iface!.name}@${r.tsSec}.${String(r.tsNsec).padStart(9, '0')}`);
    decodeFrame(r, f);
    a.observe(r, f);
  }
  expect(set.errors).toEqual([]);
  const fs: Finding[] = a.finish();
  return fs
    .map((x) => {
      const ev = x.evidence.map((e) => where.get(`${e.input}|${e.frame}`) ?? '?').sort();
      return `${x.kind} ${x.mac >= 0 ? formatMac(x.mac) : '-'} vlan ${x.vlan} ×${x.count} ${x.confidence} [${ev.join(' ')}]`;
    })
    .sort();
}

/**
 * Re-batches records as dumpcap does: each interface's frames are written when its buffer is
 * flushed, at flush times `gaps` apart (ms, at most 300: dumpcap's batches are a few hundred ms
 * out of order at most); frames flushed together keep their interface's order, interfaces in turn.
 */
function rebatch(recs: Rec[], gaps: number[]): Rec[] {
  const names = [...new Set(recs.map((r) => r.iface))];
  const t0 = Math.min(...recs.map((r) => r.tsSec));
  const ns = (r: Rec): number => (r.tsSec - t0) * 1e9 + r.tsNsec;
  const keyed = recs.map((r, i) => {
    const k = names.indexOf(r.iface);
    // This interface's flush boundaries: every gaps[(k + j) % n] ms, offset per interface.
    let at = (gaps[k % gaps.length]! * 1e6) / 2;
    for (let j = 0; at < ns(r); j++) at += gaps[(k + j) % gaps.length]! * 1e6;
    return { r, flush: at, k, i };
  });
  keyed.sort((x, y) => x.flush - y.flush || x.k - y.k || x.i - y.i);
  return keyed.map((x) => x.r);
}

const SCENARIOS = ['loop', 'lacp', 'single', 'migrate', 'lacp-split'];

describe('findings do not depend on record or file order', () => {
  for (const s of SCENARIOS) {
    const pcapng = join(CAPTURES, s, `${s}.pcapng`);
    const recs = records(pcapng);
    const expected = analyze([pcapng]);

    it.skipIf(!HAS_REORDERCAP)(`${s}: its reordercap copy${HAS_REORDERCAP ? '' : ' [skipped: needs reordercap]'}`, () => {
      const sorted = join(dir, `${s}-sorted.pcapng`);
      expect(spawnSync('reordercap', [pcapng, sorted]).status).toBe(0);
      expect(analyze([sorted])).toEqual(expected);
    });

    it(`${s}: one pcapng per interface, in any order`, () => {
      const names = [...new Set(recs.map((r) => r.iface))];
      const files = names.map((n) => write(join(dir, `${s}-${n}.pcapng`), recs.filter((r) => r.iface === n)));
      fc.assert(
        fc.property(fc.shuffledSubarray(files, { minLength: files.length, maxLength: files.length }), (order) => {
          expect(analyze(order)).toEqual(expected);
        }),
        { numRuns: 6, seed: 13 },
      );
    });

    it(`${s}: interfaces interleaved in random batches, as dumpcap writes them`, () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 12 }), (gaps) => {
          const file = write(join(dir, `${s}-batched.pcapng`), rebatch(recs, gaps));
          expect(analyze([file])).toEqual(expected);
        }),
        { numRuns: 8, seed: 7 },
      );
    });
  }

  it('the loop recording is found looping in every order (the property is not about an empty answer)', () => {
    const expected = analyze([join(CAPTURES, 'loop', 'loop.pcapng')]);
    expect(expected.some((f) => f.startsWith('looped-broadcast 00:16:3e:00:00:01 vlan 0'))).toBe(true);
    expect(expected.some((f) => f.startsWith('own-address 00:25:90:00:00:01'))).toBe(true);
  });
});


