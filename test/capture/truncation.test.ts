/**
 * Real captures cut at every byte offset, and corrupted at random places: the reader delivers
 * exactly the records that lie whole before the cut (for classic pcap: exactly what pcap-parser
 * delivers from the same bytes), reports a cut that is not on a record boundary as one
 * CaptureError at the start of the cut record or block, and never throws, hangs or hands out a
 * view outside its buffer, whatever the bytes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, MAX_RECORD_CAPLEN, openCapture } from '../../src/capture/index.js';
import { CORPUS } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-cut-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

function read(path: string) {
  const set = openCapture([path]);
  let frames = 0;
  while (set.next()) {
    const r = set.rec;
    // Every view lies within its buffer and within libpcap's cap.
    if (r.offset < 0 || r.offset + r.caplen > r.buf.length || r.caplen > MAX_RECORD_CAPLEN) throw new Error(`view out of bounds at frame ${frames + 1}`);
    frames++;
  }
  return { frames, errors: set.errors };
}

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(f: string): NodeJS.EventEmitter };

function pcapParserCount(file: string): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    const p = pcapParser.parse(file);
    p.on('packet', () => n++);
    p.on('error', () => resolve(-1));
    p.on('end', () => resolve(n));
  });
}

/** [start, end) of each classic pcap record. */
function pcapRecords(b: Buffer): [number, number][] {
  const le = b[0] === 0xd4;
  const out: [number, number][] = [];
  for (let p = 24; p + 16 <= b.length; ) {
    const end = p + 16 + (le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8));
    out.push([p, end]);
    p = end;
  }
  return out;
}

describe('classic pcap cut at every offset', () => {
  for (const name of ['dns_tcp.pcap', 'pptp.pcap']) {
    const whole = readFileSync(join(CORPUS, 'tcpdump-tests', name));
    const records = pcapRecords(whole);

    it(`${name} (${whole[0] === 0xd4 ? 'little' : 'big'}-endian, ${records.length} records): frames before the cut delivered, the cut named`, async () => {
      for (let cut = 0; cut <= whole.length; cut++) {
        const path = write(`cut-${name}`, whole.subarray(0, cut));
        const r = read(path);
        const wholeBefore = records.filter(([, end]) => end <= cut).length;
        if (cut === 0) {
          expect(r.errors.map((e) => e.message)).toEqual([`${path}: empty file, no capture header at byte 0 (file header)`]);
        } else if (cut < 24) {
          expect(r.errors, `cut ${cut}`).toHaveLength(1);
          expect(r.errors[0]!.unreadable).toBe(true);
          expect(r.errors[0]!.offset).toBe(0);
        } else if (cut === 24 || records.some(([, end]) => end === cut)) {
          expect(r.errors, `cut ${cut}`).toEqual([]);
        } else {
          const [start] = records[wholeBefore]!;
          expect(r.errors, `cut ${cut}`).toHaveLength(1);
          expect(r.errors[0]!.unreadable).toBe(false);
          expect(r.errors[0]!.offset).toBe(start);
          expect(r.errors[0]!.message).toMatch(new RegExp(`^${path.replace(/[.]/g, '\\.')}: record (header|${wholeBefore + 1}) cut short at end of file \\(\\d+ of \\d+ bytes\\) after ${wholeBefore} frames at byte ${start} \\(pcap record\\)$`));
        }
        expect(r.frames, `cut ${cut}`).toBe(cut < 24 ? 0 : wholeBefore);
        if (cut >= 24) expect(r.frames, `cut ${cut}: pcap-parser`).toBe(await pcapParserCount(path));
      }
    });
  }
});

/** [start, end, type, isPacket, byte order] of each pcapng block, following SHB byte-order changes. */
function pcapngBlocks(b: Buffer): { start: number; end: number; packet: boolean }[] {
  const out: { start: number; end: number; packet: boolean }[] = [];
  let le = true;
  for (let p = 0; p + 12 <= b.length; ) {
    if (b.readUInt32LE(p) === 0x0a0d0d0a) le = b.readUInt32LE(p + 8) === 0x1a2b3c4d;
    const type = le ? b.readUInt32LE(p) : b.readUInt32BE(p);
    const len = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
    out.push({ start: p, end: p + len, packet: type === 2 || type === 3 || type === 6 });
    p += len;
  }
  return out;
}

describe('pcapng cut at every offset', () => {
  for (const order of ['le', 'be']) {
    const whole = readFileSync(join(CORPUS, `pcapng-suite/output_${order}/difficult/test202.pcapng`));
    const blocks = pcapngBlocks(whole);

    it(`test202 ${order} (3 sections of mixed byte order, ${blocks.length} blocks): packets before the cut delivered, the cut block named`, () => {
      expect(blocks.at(-1)!.end).toBe(whole.length);
      for (let cut = 0; cut <= whole.length; cut++) {
        const path = write(`cut-test202-${order}.pcapng`, whole.subarray(0, cut));
        const r = read(path);
        expect(r.frames, `cut ${cut}`).toBe(blocks.filter((k) => k.packet && k.end <= cut).length);
        if (cut === 0) {
          expect(r.errors.map((e) => e.what)).toEqual(['empty file, no capture header']);
          continue;
        }
        if (blocks.some((k) => k.end === cut)) {
          expect(r.errors, `cut ${cut}`).toEqual([]);
          continue;
        }
        const hit = blocks.find((k) => k.start <= cut && cut < k.end)!;
        expect(r.errors, `cut ${cut}`).toHaveLength(1);
        const e = r.errors[0]!;
        // Inside the first SHB nothing is usable: unreadable. Later: damaged, earlier frames used.
        expect(e.unreadable, `cut ${cut}`).toBe(hit.start === 0);
        if (cut >= 4) {
          expect(e.offset, `cut ${cut}`).toBe(hit.start);
          expect(e.message, `cut ${cut}`).toMatch(/ cut short at end of file \(\d+ of \d+ bytes\) after \d+ frames at byte \d+ \(.+\)$/);
        }
      }
    });
  }
});

describe('random corruption', () => {
  const samples = [
    readFileSync(join(CORPUS, 'pcapng-suite/output_le/difficult/test202.pcapng')),
    readFileSync(join(CORPUS, 'pcapng-suite/output_be/advanced/test102.pcapng')),
    readFileSync(join(CORPUS, 'tcpdump-tests/dns_tcp.pcap')),
    readFileSync(join(CORPUS, 'tcpdump-tests/pptp.pcap')),
  ];

  it('never throws, never hangs, never hands out a view outside its buffer; damage is one CaptureError', () => {
    let damaged = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (which, edits) => {
          const b = Buffer.from(samples[which]!);
          for (const [at, v] of edits) b[at % b.length] = v;
          const r = read(write('fuzz', b));
          expect(r.errors.length).toBeLessThanOrEqual(1);
          for (const e of r.errors) {
            expect(e).toBeInstanceOf(CaptureError);
            expect(e.offset).toBeGreaterThanOrEqual(0);
            expect(e.offset).toBeLessThanOrEqual(b.length);
          }
          if (r.errors.length) damaged++;
        },
      ),
      { numRuns: 1500 },
    );
    // The edits must really have produced damage often, or the property proved little.
    expect(damaged).toBeGreaterThan(100);
  });
});
