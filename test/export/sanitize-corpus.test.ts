/**
 * sanitizeFrame on every frame of tcpdump's test captures (hundreds of protocols, truncated and
 * malformed frames among them): it never throws, never keeps more than was captured, keeps the
 * link layer decodable with the addresses mapped, and leaves none of a frame's own MACs and IPv4
 * addresses in the bytes it keeps. The sanitized frames, written as one pcapng, are read by tshark cleanly.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture, PcapngWriter } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame, PK_ARP, PK_IPV4, readMac } from '../../src/decode/index.js';
import { AddressMapper, sanitizeFrame } from '../../src/export/sanitize.js';
import { CORPUS, HAS_TSHARK, tshark } from '../helpers/tools.js';
import { freshDir } from './helpers.js';

const DIR = join(CORPUS, 'tcpdump-tests');
let files: string[] = [];
try {
  files = readdirSync(DIR).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort();
} catch {
  files = [];
}

describe.skipIf(files.length === 0)('sanitizeFrame on the tcpdump test captures', () => {
  it('never throws or keeps more than captured; addresses mapped where the link layer has them; tshark reads the result cleanly', () => {
    const m = new AddressMapper(new Uint8Array(32).fill(3));
    const out = join(freshDir('corpus') + '.pcapng');
    const w = new PcapngWriter(out);
    const f = new DecodedFrame();
    const g = new DecodedFrame();
    let frames = 0;
    let mapped = 0;
    const leaks: string[] = [];
    let checked = 0;
    let written = 0;
    for (const file of files) {
      const set = openCapture([join(DIR, file)]);
      const ids = new Map<number, number>();
      while (set.next()) {
        const rec = set.rec;
        decodeFrame(rec, f);
        const copy = rec.buf.slice(rec.offset, rec.offset + rec.caplen);
        const keep = sanitizeFrame(rec, f, copy, m);
        frames++;
        expect(keep).toBeGreaterThanOrEqual(0);
        expect(keep).toBeLessThanOrEqual(rec.caplen);
        // None of this frame's own identifying addresses is left in what is kept (searched
        // per frame: fuzzed captures hold "addresses" that other frames' bytes match by chance).
        const kept = Buffer.from(copy.subarray(0, keep));
        const own: Buffer[] = [];
        const macAt = (off: number): void => {
          if (off < 0) return;
          const mac = readMac(rec.buf, off);
          const b = Buffer.from(rec.buf.subarray(off, off + 6));
          // Low-entropy values (00:00:00:00:80:00 in a fuzzed file) match header fields by chance.
          if (AddressMapper.isIdentifying(mac) && m.mapMac(mac) !== mac && Math.floor(mac / 16777216) !== 0x3333ff && new Set(b).size >= 4) own.push(b);
        };
        if (f.supported) {
          macAt(f.srcOff);
          macAt(f.dstOff);
          if (f.payload === PK_ARP && f.arpShaOff >= 0) {
            macAt(f.arpShaOff);
            macAt(f.arpThaOff);
          }
          if (f.payload === PK_IPV4 && f.ipVersion === 4 && f.ipSrcOff >= 0 && f.ipDstOff + 4 <= rec.offset + rec.caplen) {
            for (const off of [f.ipSrcOff, f.ipDstOff]) {
              const a = ((rec.buf[off]! << 24) | (rec.buf[off + 1]! << 16) | (rec.buf[off + 2]! << 8) | rec.buf[off + 3]!) >>> 0;
              const b = Buffer.from(rec.buf.subarray(off, off + 4));
              if (AddressMapper.isIdentifyingIpv4(a) && m.mapIpv4(a) !== a && new Set(b).size >= 3) own.push(b);
            }
          }
        }
        checked += own.length;
        for (const b of own) if (kept.includes(b)) leaks.push(`${file} frame ${set.rec.inputFrame}: ${b.toString('hex')}`);
        if (f.supported && f.src >= 0 && f.srcOff - rec.offset + 6 <= keep) {
          expect(readMac(copy, f.srcOff - rec.offset)).toBe(m.mapMac(f.src));
          if (m.mapMac(f.src) !== f.src) mapped++;
        }
        // What is kept decodes to the same link layer: VLANs and EtherType are kept.
        if (f.supported && rec.iface!.linkType === 1 && f.l3Off >= 0 && keep >= f.l3Off - rec.offset) {
          const view = { ...rec, buf: copy, offset: 0, caplen: keep, iface: rec.iface } as typeof rec;
          decodeFrame(view, g);
          expect(g.vlan).toBe(f.vlan);
          expect(g.etherType).toBe(f.etherType);
        }
        // The exporter leaves out what it cannot decode (and so cannot sanitize).
        if (!f.supported) continue;
        written++;
        let id = ids.get(rec.iface!.id);
        if (id === undefined) {
          id = w.addInterface({ name: `capture${rec.iface!.id}`, linkType: rec.iface!.linkType, snaplen: rec.iface!.snaplen, tsDigits: rec.iface!.tsDigits });
          ids.set(rec.iface!.id, id);
        }
        w.writePacket(id, rec.tsSec, rec.tsNsec, copy, 0, keep, rec.origLen);
      }
    }
    w.close();
    expect(frames).toBeGreaterThan(5000);
    expect(mapped).toBeGreaterThan(1000);
    expect(leaks.slice(0, 12)).toEqual([]);
    expect(checked).toBeGreaterThan(5000);
    if (HAS_TSHARK) {
      const r = tshark(['-r', out, '-T', 'fields', '-e', 'frame.number']);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n').length).toBe(written);
    }
  });
});
