/**
 * tcpdump's own test captures: every file is read to its end or to a clear CaptureError, never
 * another exception; every classic µs pcap gives exactly the records pcap-parser (an independent
 * reader, used only here) gives: count, timestamps, lengths and bytes; every file capinfos reads
 * has the frame count capinfos gives; nanosecond files have tcpdump's timestamps.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError, openCapture } from '../../src/capture/index.js';
import { CORPUS, HAS_CAPINFOS } from '../helpers/tools.js';

const DIR = join(CORPUS, 'tcpdump-tests');
const HAS_TCPDUMP = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;
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

  it('the link-type field is read as libpcap does: low 16 bits, FCS flag and length apart', () => {
    // tcpdump reads these as EN10MB, EN10MB and RAW; their headers say 0x04000001 (FCS flag, length 0),
    // 0x30000001 and 0x30000065 (FCS length bits without the flag: fuzzed files).
    const link = (f: string) => {
      const set = openCapture([join(DIR, f)]);
      const i = set.registry.list[0]!;
      set.close();
      return [i.linkType, i.fcsLen];
    };
    expect(link('bootp_asan.pcap')).toEqual([1, 0]);
    expect(link('aarp-heapoverflow-1.pcap')).toEqual([1, 0]);
    expect(link('heap-overflow-1.pcap')).toEqual([101, 0]);
  });

  it.skipIf(!HAS_CAPINFOS)('frame counts equal capinfos’s for every file capinfos reads, pcap and pcapng [needs capinfos]', () => {
    const suite = join(CORPUS, 'pcapng-suite');
    const all = [
      ...files.map((f) => join(DIR, f)),
      ...['le', 'be'].flatMap((o) => readdirSync(join(suite, `output_${o}`)).flatMap((c) => readdirSync(join(suite, `output_${o}`, c)).filter((f) => f.endsWith('.pcapng')).map((f) => join(suite, `output_${o}`, c, f)))),
    ];
    // -T -r: one "path<TAB>count" line per file it can read; files it cannot (link types it
    // does not know) are reported on stderr and left out.
    const run = spawnSync('capinfos', ['-T', '-r', '-c', '-M', ...all], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const counts = new Map(run.stdout.trim().split('\n').map((l) => l.split('\t') as [string, string]));
    let compared = 0;
    for (const f of all) {
      const theirs = counts.get(f);
      if (theirs === undefined) continue;
      expect(ours(f).recs.length, f).toBe(Number(theirs));
      compared++;
    }
    console.log(`capinfos agreed on ${compared} of ${all.length} files`);
    expect(compared).toBeGreaterThan(680);
  });

  it.skipIf(!HAS_TCPDUMP)('nanosecond pcap files (which pcap-parser refuses) have tcpdump’s timestamps [needs tcpdump]', () => {
    const nano = files.filter((f) => f.endsWith('.pcap') && readMagic(join(DIR, f)) === 'a1b23c4d');
    expect(nano.length).toBeGreaterThan(0);
    for (const f of nano) {
      const run = spawnSync('tcpdump', ['-tt', '--nano', '-n', '-r', join(DIR, f)], { encoding: 'utf8' });
      // tcpdump prints the fields as stored, even a fraction of 10^9 or more; bondscope carries
      // the excess into the seconds. Both name the same instant: compare in nanoseconds.
      const theirs = run.stdout.trim().split('\n').map((l) => {
        const [sec, frac] = l.split(' ')[0]!.split('.');
        return BigInt(sec!) * 1000000000n + BigInt(frac!);
      });
      const set = openCapture([join(DIR, f)]);
      const mine: bigint[] = [];
      while (set.next()) mine.push(BigInt(set.rec.tsSec) * 1000000000n + BigInt(set.rec.tsNsec));
      expect(mine, f).toEqual(theirs);
    }
  });
});

function readMagic(path: string): string {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(4);
  readSync(fd, b, 0, 4, 0);
  closeSync(fd);
  return b.readUInt32LE(0).toString(16);
}
