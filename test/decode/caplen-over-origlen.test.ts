/**
 * Records whose original length is below their captured length (some writers put 0 there, or the
 * length of a header): tshark decodes them from the bytes captured, and so does bondscope (it
 * showed them as empty frames). tshark is the oracle, run here on files written in the test:
 * classic pcap and pcapng, an ARP request captured whole with original lengths 42 (right), 0, 20
 * and 14, and padded to 60 with an original length of 42; and the tcpdump test-suite captures of
 * the corpus that hold such records. (tcpdump 4.99 prints `[Invalid header: len(20) < caplen(42)]`
 * for these and decodes nothing, so it is no oracle here.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { DecodedFrame, decodeFrame, formatMac } from '../../src/decode/index.js';
import { frameSummary } from '../../src/report/frame-summary.js';
import { CORPUS, HAS_TSHARK, tshark } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'bondscope-caplen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARP = Buffer.from('ffffffffffff00163e0000010806' + '0001080006040001' + '00163e000001c6336410' + '000000000000c6336401', 'hex');
const RECORDS: [Uint8Array, number][] = [
  [ARP, 42],
  [ARP, 0],
  [ARP, 20],
  [ARP, 14],
  [Buffer.concat([ARP, Buffer.alloc(18)]), 42],
];

function writePcap(path: string): string {
  const parts = [Buffer.from('d4c3b2a1020004000000000000000000000004000100000000', 'hex').subarray(0, 24)];
  RECORDS.forEach(([data, orig], i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1700000000 + i, 0);
    h.writeUInt32LE(data.length, 8);
    h.writeUInt32LE(orig, 12);
    parts.push(h, Buffer.from(data));
  });
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

function writeNg(path: string): string {
  const w = new PcapngWriter(path);
  const id = w.addInterface({ name: 'eth0', linkType: 1, snaplen: 262144 });
  RECORDS.forEach(([data, orig], i) => w.writePacket(id, 1700000000 + i, 0, data, 0, data.length, orig));
  w.close();
  return path;
}

interface Row {
  src: string;
  dst: string;
  type: string;
  /** ARP sender address, where the frame is an ARP packet that far. */
  sender: string;
}

function ours(file: string): Row[] {
  const set = openCapture([file]);
  const f = new DecodedFrame();
  const rows: Row[] = [];
  while (set.next()) {
    decodeFrame(set.rec, f);
    const summary = frameSummary(set.rec.buf, f, set.rec.iface!.linkType);
    rows.push({
      src: f.src >= 0 ? formatMac(f.src) : '',
      dst: f.dst >= 0 ? formatMac(f.dst) : '',
      type: f.etherType >= 0 ? `0x${f.etherType.toString(16).padStart(4, '0')}` : '',
      sender: /tell (\S+)/.exec(summary)?.[1] ?? '',
    });
  }
  expect(set.errors).toEqual([]);
  return rows;
}

function theirs(file: string): Row[] {
  const r = tshark(['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'eth.src', '-e', 'eth.dst', '-e', 'eth.type', '-e', 'arp.src.proto_ipv4']);
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [src = '', dst = '', type = '', sender = ''] = l.split('|');
      return { src, dst, type, sender };
    });
}

describe.skipIf(!HAS_TSHARK)(`captured length above the original length${HAS_TSHARK ? '' : ' [skipped: needs tshark]'}`, () => {
  it.each([
    ['classic pcap', (): string => writePcap(join(dir, 'short-orig.pcap'))],
    ['pcapng EPB', (): string => writeNg(join(dir, 'short-orig.pcapng'))],
  ])('%s: every record decodes as tshark decodes it, from the bytes captured', (_form, make) => {
    const file = make();
    const t = theirs(file);
    expect(t.length).toBe(RECORDS.length);
    // The oracle itself decodes all of them: the test would mean nothing otherwise.
    for (const row of t) expect(row.sender).toBe('198.51.100.16');
    expect(ours(file)).toEqual(t);
  });

  it('the corpus records of this kind (tcpdump test suite): source, destination and EtherType as tshark has them', () => {
    const files = ['aoe-oobr-1.pcap', 'pim_header_asan-2.pcap'].map((f) => join(CORPUS, 'tcpdump-tests', f)).filter(existsSync);
    if (!files.length) return;
    for (const file of files) {
      const t = theirs(file);
      const o = ours(file);
      expect(o.length).toBe(t.length);
      o.forEach((row, i) => {
        expect(row.src, `${file} frame ${i + 1}`).toBe(t[i]!.src.split(',')[0]);
        expect(row.dst, `${file} frame ${i + 1}`).toBe(t[i]!.dst.split(',')[0]);
      });
    }
  });
});
