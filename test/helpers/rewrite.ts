/**
 * Copies of recorded captures, changed the way a test needs: interfaces renamed (editcap cannot
 * rename), or some frames' stamps moved (a switch that takes longer to send an echo back). Read
 * with the project's reader, written as one classic pcap per interface (as tcpdump writes them,
 * µs stamps, in time order) or as one pcapng (with the project's writer).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '../../src/capture/index.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { FrameIdentity } from '../../src/engine/identity.js';

export interface Copied {
  iface: string;
  linkType: number;
  /** Nanoseconds since the epoch (a double: µs-exact for these captures). */
  t: number;
  bytes: Uint8Array;
  origLen: number;
  direction: 0 | 1 | 2;
  /** Identity key of the frame (FrameIdentity), for transforms that follow one frame across ports. */
  key: number;
}

/** Every record of the files, in the merged time order the reader gives. */
export function readAll(files: string[]): Copied[] {
  const set = openCapture(files);
  const frame = new DecodedFrame();
  const id = new FrameIdentity();
  const out: Copied[] = [];
  while (set.next()) {
    const r = set.rec;
    decodeFrame(r, frame);
    out.push({
      iface: r.iface!.name,
      linkType: r.iface!.linkType,
      t: r.tsSec * 1e9 + r.tsNsec,
      bytes: r.buf.slice(r.offset, r.offset + r.caplen),
      origLen: r.origLen,
      direction: r.direction,
      key: frame.supported && frame.src >= 0 ? id.of(r.buf, frame).key : -1,
    });
  }
  if (set.errors.length) throw new Error(set.errors.map((e) => e.message).join('; '));
  return out;
}

/** One classic pcap (µs) per interface, `DIR/NAME.pcap`, records sorted by time; returns the paths. */
/** A classic pcap file header (little-endian, microsecond stamps, version 2.4). */
export function pcapFileHeader(snaplen: number, linkType: number): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(snaplen, 16);
  head.writeUInt32LE(linkType, 20);
  return head;
}

export function writePcaps(records: Copied[], dir: string, rename: (iface: string) => string = (n) => n): string[] {
  const by = new Map<string, Copied[]>();
  for (const r of records) {
    const n = rename(r.iface);
    if (!by.has(n)) by.set(n, []);
    by.get(n)!.push(r);
  }
  const paths: string[] = [];
  for (const [name, list] of by) {
    list.sort((a, b) => a.t - b.t);
    const path = join(dir, `${name}.pcap`);
    const fd = openSync(path, 'w');
    writeSync(fd, pcapFileHeader(262144, list[0]!.linkType));
    for (const r of list) {
      const us = Math.round(r.t / 1000);
      const rh = Buffer.alloc(16);
      rh.writeUInt32LE(Math.floor(us / 1e6), 0);
      rh.writeUInt32LE(us % 1e6, 4);
      rh.writeUInt32LE(r.bytes.length, 8);
      rh.writeUInt32LE(r.origLen, 12);
      writeSync(fd, rh);
      writeSync(fd, r.bytes);
    }
    closeSync(fd);
    paths.push(path);
  }
  return paths;
}

/** One pcapng with an interface per name (renamed), records in the order given, directions kept. */
export function writePcapng(records: Copied[], path: string, rename: (iface: string) => string = (n) => n): string {
  const w = new PcapngWriter(path);
  const ids = new Map<string, number>();
  for (const r of records) {
    const n = rename(r.iface);
    let id = ids.get(n);
    if (id === undefined) ids.set(n, (id = w.addInterface({ name: n, linkType: r.linkType, snaplen: 262144, tsDigits: 6 })));
    const sec = Math.floor(r.t / 1e9);
    w.writePacket(id, sec, Math.round(r.t - sec * 1e9), r.bytes, 0, r.bytes.length, r.origLen, { direction: r.direction });
  }
  w.close();
  return path;
}
