/**
 * Damaged inputs made by the tests from real captures: cut short at every kind of place, lengths
 * that cannot be, trailers that disagree. Each gives one CaptureError that names the file, what
 * was wrong, the byte offset and the block, and every frame before the damage is still delivered.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { CORPUS } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-damage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PCAP = readFileSync(join(CORPUS, 'tcpdump-tests/arp-oobr.pcap'));
const PCAPNG = readFileSync(join(CORPUS, 'pcapng-suite/output_le/basic/test006.pcapng'));

function write(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

function read(path: string): { frames: number; errors: string[]; unreadable: boolean[]; offsets: number[] } {
  const set = openCapture([path]);
  let frames = 0;
  while (set.next()) frames++;
  return { frames, errors: set.errors.map((e) => e.message), unreadable: set.errors.map((e) => e.unreadable), offsets: set.errors.map((e) => e.offset) };
}

/** Offsets where each classic pcap record starts. */
function pcapRecordStarts(b: Buffer): number[] {
  const starts: number[] = [];
  for (let p = 24; p + 16 <= b.length; p += 16 + b.readUInt32LE(p + 8)) starts.push(p);
  return starts;
}

describe('damaged classic pcap', () => {
  const starts = pcapRecordStarts(PCAP);

  it('cut inside the file header: unreadable, says so', () => {
    const r = read(write('hdr.pcap', PCAP.subarray(0, 10)));
    expect(r.frames).toBe(0);
    expect(r.errors).toEqual([`${join(tmp, 'hdr.pcap')}: pcap file header cut short (10 of 24 bytes) at byte 0 (pcap file header)`]);
    expect(r.unreadable).toEqual([true]);
  });

  it('cut inside a record header: frames before it delivered, offset of the cut record', () => {
    const at = starts[5]!;
    const r = read(write('rechdr.pcap', PCAP.subarray(0, at + 7)));
    expect(r.frames).toBe(5);
    expect(r.errors[0]).toBe(`${join(tmp, 'rechdr.pcap')}: record header cut short at end of file (7 of 16 bytes) after 5 frames at byte ${at} (pcap record)`);
    expect(r.unreadable).toEqual([false]);
  });

  it('cut inside a record body: frames before it delivered', () => {
    const at = starts[100]!;
    const r = read(write('body.pcap', PCAP.subarray(0, at + 16 + 3)));
    expect(r.frames).toBe(100);
    expect(r.errors[0]).toMatch(/: record 101 cut short at end of file \(3 of \d+ bytes\) after 100 frames at byte \d+ \(pcap record\)$/);
    expect(r.offsets[0]).toBe(at);
  });

  it('a caplen past libpcap’s 262144 cap is damage, not a huge packet', () => {
    const b = Buffer.from(PCAP.subarray(0, starts[3]! + 64));
    b.writeUInt32LE(300000, starts[2]! + 8);
    const r = read(write('caplen.pcap', b));
    expect(r.frames).toBe(2);
    expect(r.errors[0]).toContain('record 3 claims 300000 captured bytes, more than the 262144 any capture holds');
    expect(r.offsets[0]).toBe(starts[2]);
  });

  it('caplen above the snap length but under the cap is tolerated', () => {
    const b = Buffer.from(PCAP);
    b.writeUInt32LE(20, 16); // snaplen 20, records keep their 60 bytes
    const r = read(write('snap.pcap', b));
    expect(r.errors).toEqual([]);
    expect(r.frames).toBe(starts.length);
  });
});

describe('damaged pcapng', () => {
  /** [offset, type, length] of each block. */
  const blocks: [number, number, number][] = [];
  for (let p = 0; p + 12 <= PCAPNG.length; p += PCAPNG.readUInt32LE(p + 4)) blocks.push([p, PCAPNG.readUInt32LE(p), PCAPNG.readUInt32LE(p + 4)]);
  const epbs = blocks.filter((b) => b[1] === 6);
  const whole = read(write('whole.pcapng', PCAPNG));

  it('the undamaged file reads cleanly (the baseline)', () => {
    expect(whole.errors).toEqual([]);
    expect(whole.frames).toBeGreaterThan(2);
  });

  it('cut inside a block: packets of earlier blocks delivered, block named', () => {
    const [at, , len] = epbs[2]!;
    const r = read(write('cut.pcapng', PCAPNG.subarray(0, at + len - 8)));
    expect(r.frames).toBe(2);
    expect(r.errors[0]).toBe(`${join(tmp, 'cut.pcapng')}: block cut short at end of file (${len - 8} of ${len} bytes) after 2 frames at byte ${at} (EPB)`);
  });

  it('trailing length that disagrees with the leading one', () => {
    const [at, , len] = epbs[1]!;
    const b = Buffer.from(PCAPNG);
    b.writeUInt32LE(len + 4, at + len - 4);
    const r = read(write('trailer.pcapng', b));
    expect(r.frames).toBe(1);
    expect(r.errors[0]).toContain(`block trailing length ${len + 4} does not match its leading length ${len} at byte ${at} (EPB)`);
  });

  it('block length not a multiple of 4, and below the minimum', () => {
    const [at, , len] = epbs[1]!;
    const b = Buffer.from(PCAPNG);
    b.writeUInt32LE(len + 2, at + 4);
    expect(read(write('mul4.pcapng', b)).errors[0]).toContain(`block length ${len + 2} is not a multiple of 4 at byte ${at} (EPB)`);
    b.writeUInt32LE(8, at + 4);
    expect(read(write('small.pcapng', b)).errors[0]).toContain(`block length 8 is less than 12 at byte ${at} (EPB)`);
    b.writeUInt32LE(24, at + 4);
    expect(read(write('min.pcapng', b)).errors[0]).toContain(`block length 24 is less than the 32 bytes an EPB needs at byte ${at} (EPB)`);
  });

  it('a captured length that runs past its block', () => {
    const [at] = epbs[0]!;
    const b = Buffer.from(PCAPNG);
    b.writeUInt32LE(5000, at + 20);
    const r = read(write('runs.pcapng', b));
    expect(r.frames).toBe(0);
    expect(r.errors[0]).toContain(`captured length 5000 runs past the end of the block at byte ${at} (EPB)`);
    expect(r.unreadable).toEqual([false]);
  });

  it('a packet for an interface the section never defined', () => {
    const [at] = epbs[0]!;
    const b = Buffer.from(PCAPNG);
    b.writeUInt32LE(7, at + 8);
    expect(read(write('iface.pcapng', b)).errors[0]).toMatch(/packet for interface 7, but the section defines \d+ so far at byte \d+ \(EPB\)$/);
  });
});

describe('not a capture at all', () => {
  it('an empty file', () => {
    expect(read(write('empty.pcap', new Uint8Array(0))).errors).toEqual([`${join(tmp, 'empty.pcap')}: empty file, no capture header at byte 0 (file header)`]);
  });

  it('a text file shows its first bytes', () => {
    const r = read(write('notes.pcap', Buffer.from('hello, this is not a capture\n')));
    expect(r.errors[0]).toBe(`${join(tmp, 'notes.pcap')}: not a pcap or pcapng file (starts 68 65 6c 6c 6f 2c 20 74 68 69 73 20 69 73 20 6e) at byte 0 (file header)`);
    expect(r.unreadable).toEqual([true]);
  });

  it('a gzip or zstd file that ends inside its compressed header says so (a whole one is read: compressed.test.ts)', () => {
    expect(read(write('x.pcap.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]))).errors[0]).toContain('gzip data cut short: the file ends inside the compressed stream, after 8 compressed bytes');
    expect(read(write('x.pcap.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]))).errors[0]).toContain('zstd data cut short: the file ends inside the compressed stream, after 6 compressed bytes');
  });

  it('a directory', () => {
    const r = read(tmp);
    expect(r.errors).toEqual([`${tmp}: cannot read: is a directory at byte 0 (file)`]);
    expect(r.unreadable).toEqual([true]);
  });

  it('other formats are named: lz4, xz, bzip2 (with the command that decompresses them), snoop, "modified" pcap', () => {
    expect(read(write('x.pcap.lz4', Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40]))).errors[0]).toContain('compressed with lz4, which bondscope does not read (it reads gzip and zstd): decompress it with `lz4 -d FILE` (starts 04 22 4d 18 64 40)');
    expect(read(write('x.pcap.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).errors[0]).toContain('compressed with xz');
    expect(read(write('x.pcap.bz2', Buffer.from('BZh91AY'))).errors[0]).toContain('compressed with bzip2');
    expect(read(write('x.snoop', Buffer.from('snoop\0\0\0\0\0\0\x02'))).errors[0]).toContain('a Solaris snoop file, not pcap');
    expect(read(write('kuz.pcap', Buffer.from([0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0]))).errors[0]).toContain('"modified" (Kuznetzov) pcap, not supported');
  });

  it('a pcap of another major version is unreadable; a pcap with only its header is a valid empty capture', () => {
    const v1 = Buffer.from(PCAP.subarray(0, 24));
    v1.writeUInt16LE(1, 4);
    const r = read(write('v1.pcap', v1));
    expect(r.errors).toEqual([`${join(tmp, 'v1.pcap')}: pcap version 1.4 is not 2.x at byte 0 (pcap file header)`]);
    expect(read(write('only-header.pcap', PCAP.subarray(0, 24)))).toEqual({ frames: 0, errors: [], unreadable: [], offsets: [] });
  });

  it('a file of 1 to 3 bytes shows them', () => {
    expect(read(write('tiny', Buffer.from([0xd4, 0xc3]))).errors[0]).toContain('file too short for a capture header (2 bytes: d4 c3)');
  });

  it('a missing file, among good ones: the good ones are still read', () => {
    const set = openCapture([join(tmp, 'nope.pcap'), join(CORPUS, 'tcpdump-tests/arp-oobr.pcap')]);
    let n = 0;
    while (set.next()) n++;
    expect(n).toBe(starts().length);
    expect(set.errors.map((e) => e.message)).toEqual([`${join(tmp, 'nope.pcap')}: cannot open: no such file at byte 0 (file)`]);
  });
});

function starts(): number[] {
  return pcapRecordStarts(PCAP);
}
