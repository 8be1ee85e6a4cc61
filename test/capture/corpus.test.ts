/**
 * tcpdump's own test captures: every file is read to its end or to a clear CaptureError, never
 * another exception; every classic µs pcap gives exactly the records pcap-parser (an independent
 * reader, used only here) gives: count, timestamps, lengths and bytes.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError, openCapture } from '../../src/capture/index.js';
import { CORPUS } from '../helpers/tools.js';

const DIR = join(CORPUS, 'tcpdump-tests');
const files = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();

interface Rec {
  usec: number;
  caplen: number;
  len: number;
  hex: string;
}

function ours(file: string): { recs: Rec[]; errors: CaptureError[] } {
  const set = openCapture([file]);
  const recs: Rec[] = [];
  while (set.next()) {
    const r = set.rec;
    recs.push({
      usec: r.tsSec * 1e6 + Math.floor(r.tsNsec / 1000),
      caplen: r.caplen,
      len: r.origLen,
      hex: Buffer.from(r.buf.subarray(r.offset, r.offset + r.caplen)).toString('hex'),
    });
  }
  return { recs, errors: set.errors };
}

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(f: string): NodeJS.EventEmitter };

function theirs(file: string): Promise<Rec[] | null> {
  return new Promise((resolve) => {
    const recs: Rec[] = [];
    const p = pcapParser.parse(file);
    p.on('packet', (pkt: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) => {
      const h = pkt.header;
      recs.push({ usec: h.timestampSeconds * 1e6 + h.timestampMicroseconds, caplen: h.capturedLength, len: h.originalLength, hex: pkt.data.toString('hex') });
    });
    p.on('error', () => resolve(null));
    p.on('end', () => resolve(recs));
  });
}

describe('tcpdump test captures', () => {
  it('are all there', () => {
    expect(files.length).toBeGreaterThan(600);
  });

  it('every file is read to its end or stops at a CaptureError, nothing else', () => {
    let frames = 0;
    for (const f of files) {
      const { recs, errors } = ours(join(DIR, f));
      frames += recs.length;
      // The corpus README: "the file structure of all of them is sound".
      expect(errors.map((e) => e.message), f).toEqual([]);
    }
    expect(frames).toBeGreaterThan(8000);
  });

  it('classic pcap records equal pcap-parser’s, file by file', async () => {
    let compared = 0;
    let records = 0;
    for (const f of files.filter((x) => x.endsWith('.pcap'))) {
      const oracle = await theirs(join(DIR, f));
      if (oracle === null) continue; // nanosecond files and pcap-parser's own refusals
      const { recs } = ours(join(DIR, f));
      expect(recs.length, f).toBe(oracle.length);
      for (let i = 0; i < recs.length; i++) expect(recs[i], `${f} record ${i + 1}`).toEqual(oracle[i]);
      compared++;
      records += recs.length;
    }
    // Most of the corpus is µs pcap that pcap-parser reads: make sure the comparison really ran.
    expect(compared).toBeGreaterThan(550);
    console.log(`pcap-parser agreed on ${compared} files, ${records} records`);
    expect(records).toBeGreaterThan(8000);
  });
});
