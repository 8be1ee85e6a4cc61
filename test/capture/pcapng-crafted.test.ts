/**
 * pcapng features the conformance suite does not exercise, in files built block by block by this
 * test in both byte orders: binary and millisecond if_tsresol, if_tsoffset, if_fcslen, IDBs
 * without if_name, epb_flags directions, several comments, epb_dropcount, the obsolete Packet
 * Block, ISB drop counters, NRB/DSB/custom/unknown blocks, a block larger than the read buffer,
 * sections of mixed byte order, and the damage each field can carry. Where tshark is installed
 * the same files are also read by tshark and compared.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIR_IN, DIR_OUT, DIR_UNKNOWN, formatTimestamp, openCapture } from '../../src/capture/index.js';
import { HAS_TSHARK, tshark } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-pcapng-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Builds pcapng blocks in one byte order. */
class Section {
  readonly blocks: Buffer[] = [];
  constructor(readonly le: boolean) {}

  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }
  u32(...vs: number[]): Buffer {
    const b = Buffer.alloc(4 * vs.length);
    vs.forEach((v, i) => (this.le ? b.writeUInt32LE(v >>> 0, 4 * i) : b.writeUInt32BE(v >>> 0, 4 * i)));
    return b;
  }
  u64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(v);
    else b.writeBigUInt64BE(v);
    return b;
  }
  static pad(b: Buffer): Buffer {
    return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  }
  opt(code: number, value: Buffer | string): Buffer {
    const v = typeof value === 'string' ? Buffer.from(value) : value;
    return Buffer.concat([this.u16(code), this.u16(v.length), Section.pad(v)]);
  }
  opts(...list: Buffer[]): Buffer {
    return list.length ? Buffer.concat([...list, this.u32(0)]) : Buffer.alloc(0);
  }
  block(type: number, body: Buffer): this {
    const b = Section.pad(body);
    const len = b.length + 12;
    this.blocks.push(Buffer.concat([this.u32(type, len), b, this.u32(len)]));
    return this;
  }
  shb(...options: Buffer[]): this {
    const bom = this.u32(0x1a2b3c4d);
    return this.block(0x0a0d0d0a, Buffer.concat([bom, this.u16(1), this.u16(0), this.u64(0xffffffffffffffffn), this.opts(...options)]));
  }
  idb(linkType: number, snaplen: number, ...options: Buffer[]): this {
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snaplen), this.opts(...options)]));
  }
  epb(iface: number, ts: bigint, data: Buffer, ...options: Buffer[]): this {
    const head = this.u32(iface, Number(ts >> 32n), Number(ts & 0xffffffffn), data.length, data.length + 4);
    return this.block(6, Buffer.concat([head, Section.pad(data), this.opts(...options)]));
  }
  bytes(): Buffer {
    return Buffer.concat(this.blocks);
  }
}

function frame(n: number, len = 60): Buffer {
  const b = Buffer.alloc(len, n);
  b.writeUInt16BE(0x0806, 12);
  return b;
}

function write(name: string, bytes: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

function readAll(spec: string) {
  const set = openCapture([spec]);
  const rows = [];
  while (set.next()) {
    const r = set.rec;
    rows.push({
      iface: r.iface!.name,
      section: r.iface!.section,
      ts: formatTimestamp(r.tsSec, r.tsFrac, r.iface!.tsDigits),
      nsec: r.tsNsec,
      caplen: r.caplen,
      len: r.origLen,
      dir: r.direction,
      comment: r.comment,
      drops: r.dropCount,
      n: r.inputFrame,
      first: r.buf[r.offset],
    });
  }
  return { rows, set };
}

/** One section with every feature; `le` picks the byte order. */
function featureSection(le: boolean): Section {
  const s = new Section(le);
  s.shb(s.opt(1, 'topology: bond0 = eth0 + eth1'));
  // Interface 0: no if_name, 2^-20 s units, 4 bytes of FCS.
  s.idb(1, 0, s.opt(9, Buffer.of(0x80 | 20)), s.opt(13, Buffer.of(4)));
  // Interface 1: milliseconds, clock offset of 10^9 s.
  s.idb(1, 262144, s.opt(2, 'vif1.0'), s.opt(3, 'guest one'), s.opt(9, Buffer.of(3)), s.opt(14, s.u64(1000000000n)));
  s.block(4, Buffer.concat([s.u16(1), s.u16(8), Buffer.from([192, 0, 2, 1]), Buffer.from('h1\0\0'), s.u32(0)])); // NRB
  // Interface 2: default µs.
  s.idb(1, 96, s.opt(2, 'bond0'));
  s.epb(0, 1700000000n * 2n ** 20n + 2n ** 19n, frame(1));
  s.block(0x0bad, Buffer.concat([s.u32(32473), Buffer.from('private')])); // custom, copyable
  s.epb(1, 700000000123n, frame(2), s.opt(2, s.u32(1)), s.opt(1, 'first'), s.opt(1, 'second'));
  s.block(0x40000bad, Buffer.concat([s.u32(32473), Buffer.alloc(20)])); // custom, do not copy
  s.block(0x0000000a, Buffer.concat([s.u32(0x544c534b, 4), Buffer.from('keys')])); // DSB
  s.epb(2, 1700000001000002n, frame(3), s.opt(2, s.u32(2)), s.opt(4, s.u64(7n)));
  s.block(0x12345678, Buffer.alloc(40, 0xee)); // unknown
  // Obsolete Packet Block: 16-bit interface id, drops count 3, pack_flags inbound.
  const data = frame(4);
  const ts = 1700000002000001n;
  s.block(2, Buffer.concat([s.u16(2), s.u16(3), s.u32(Number(ts >> 32n), Number(ts & 0xffffffffn), data.length, data.length), Section.pad(data), s.opts(s.opt(2, s.u32(1)))]));
  // ISB for interface 2: ifdrop 50, osdrop 5 (the capture's totals).
  s.block(5, Buffer.concat([s.u32(2, 0, 0), s.opts(s.opt(5, s.u64(50n)), s.opt(7, s.u64(5n)))]));
  return s;
}

const expectedRows = [
  { iface: 'feat#0', section: 0, ts: '1700000000.500000000', nsec: 500000000, caplen: 60, len: 64, dir: DIR_UNKNOWN, comment: null, drops: -1, n: 1, first: 1 },
  { iface: 'vif1.0', section: 0, ts: '1700000000.123', nsec: 123000000, caplen: 60, len: 64, dir: DIR_IN, comment: 'first\nsecond', drops: -1, n: 2, first: 2 },
  { iface: 'bond0', section: 0, ts: '1700000001.000002', nsec: 2000, caplen: 60, len: 64, dir: DIR_OUT, comment: null, drops: 7, n: 3, first: 3 },
  { iface: 'bond0', section: 0, ts: '1700000002.000001', nsec: 1000, caplen: 60, len: 60, dir: DIR_IN, comment: null, drops: 3, n: 4, first: 4 },
];

describe('crafted pcapng, both byte orders', () => {
  for (const le of [true, false]) {
    const order = le ? 'little-endian' : 'big-endian';
    const path = write(`feat-${le ? 'le' : 'be'}.pcapng`, featureSection(le).bytes());

    it(`${order}: every option and block type read as written`, () => {
      const { rows, set } = readAll(`feat=${path}`);
      expect(set.errors).toEqual([]);
      expect(set.warnings).toEqual([]);
      expect(rows).toEqual(expectedRows);
      expect(set.sectionComments).toEqual(['topology: bond0 = eth0 + eth1']);
      const ifaces = set.registry.list.map((i) => ({ name: i.name, description: i.description, fcsLen: i.fcsLen, snaplen: i.snaplen, tsDigits: i.tsDigits, frames: i.frames, drops: i.drops, osDrops: i.osDrops }));
      expect(ifaces).toEqual([
        { name: 'feat#0', description: null, fcsLen: 4, snaplen: 0, tsDigits: 9, frames: 1, drops: -1, osDrops: -1 },
        { name: 'vif1.0', description: 'guest one', fcsLen: 0, snaplen: 262144, tsDigits: 3, frames: 1, drops: -1, osDrops: -1 },
        // epb_dropcount 7 + Packet Block drops 3, then the ISB's total replaces the running sum.
        { name: 'bond0', description: null, fcsLen: 0, snaplen: 96, tsDigits: 6, frames: 2, drops: 50, osDrops: 5 },
      ]);
    });

    it.skipIf(!HAS_TSHARK)(`${order}: tshark reads the same times, interfaces, directions and comments [needs tshark]`, () => {
      const run = tshark(['-r', path, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'frame.time_epoch', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction', '-e', 'frame.comment', '-e', 'frame.cap_len']);
      // tshark 4.0 lists custom blocks as interface-less frames: keep the packets.
      const theirs = run.stdout.trim().split('\n').map((l) => l.split('|')).filter((t) => t[1] !== '');
      expect(theirs.map((t) => t[0])).toEqual(expectedRows.map((r) => r.ts.padEnd(20, '0')));
      // An IDB without if_name: tshark says "unknown", bondscope names it FILE#N (or NAME#N for NAME=).
      expect(theirs.map((t) => t[1])).toEqual(['unknown', 'vif1.0', 'bond0', 'bond0']);
      expect(theirs.map((t) => Number(t[2] || 0))).toEqual(expectedRows.map((r) => r.dir));
      expect(theirs.map((t) => t[3] || null)).toEqual(expectedRows.map((r) => (r.comment ? r.comment.replace('\n', ';') : null)));
      expect(theirs.map((t) => Number(t[4]))).toEqual(expectedRows.map((r) => r.caplen));
    });
  }

  it('sections of mixed byte order: interface ids are local to each section; unnamed IDBs are FILE#N, N counted over the file', () => {
    const second = new Section(false);
    second.shb();
    second.idb(1, 0); // no if_name: the file's fourth IDB, mixed#3
    second.idb(1, 0, second.opt(2, 'eth1'));
    second.epb(1, 1800000000000000n, frame(9));
    second.epb(0, 1800000000000001n, frame(10));
    const path = write('mixed.pcapng', Buffer.concat([featureSection(true).bytes(), second.bytes()]));
    const { rows, set } = readAll(path);
    expect(set.errors).toEqual([]);
    expect(rows.map((r) => [r.iface, r.section, r.n, r.first])).toEqual([
      ['mixed#0', 0, 1, 1],
      ['vif1.0', 0, 2, 2],
      ['bond0', 0, 3, 3],
      ['bond0', 0, 4, 4],
      ['eth1', 1, 5, 9],
      ['mixed#3', 1, 6, 10],
    ]);
    expect(set.registry.list.map((i) => `${i.section}.${i.localId}`)).toEqual(['0.0', '0.1', '0.2', '1.0', '1.1']);
  });

  it("an if_name that is the file's stem stays the interface's name when more IDBs follow (editcap -r of eth0 keeps every IDB of the capture)", () => {
    const s = new Section(true);
    s.shb().idb(1, 0, s.opt(2, 'eth0')).idb(1, 0, s.opt(2, 'eth1')).idb(1, 0);
    s.epb(0, 1n, frame(1));
    const path = write('eth0.pcapng', s.bytes());
    const { rows, set } = readAll(path);
    expect(set.errors).toEqual([]);
    expect(set.registry.list.map((i) => i.name)).toEqual(['eth0', 'eth1', 'eth0#2']);
    expect(rows.map((r) => r.iface)).toEqual(['eth0']);
  });

  it('a block larger than the read buffer is read whole; packets around it are intact', () => {
    const s = new Section(true);
    s.shb().idb(1, 0, s.opt(2, 'eth0'));
    s.epb(0, 1n, frame(1));
    s.block(0x0bad, Buffer.concat([s.u32(32473), Buffer.alloc(6 << 20, 0x5a)])); // 6 MiB custom block
    s.epb(0, 2n, frame(2, 200));
    const { rows, set } = readAll(write('bigblock.pcapng', s.bytes()));
    expect(set.errors).toEqual([]);
    expect(rows.map((r) => [r.first, r.caplen])).toEqual([
      [1, 60],
      [2, 200],
    ]);
  });
});

describe('crafted pcapng damage', () => {
  function damaged(name: string, s: Section | Buffer) {
    const path = write(name, s instanceof Section ? s.bytes() : s);
    const { rows, set } = readAll(path);
    return { rows, errors: set.errors, warnings: set.warnings, path };
  }
  const base = (): Section => {
    const s = new Section(true);
    return s.shb().idb(1, 0, s.opt(2, 'eth0')).epb(0, 1n, frame(1));
  };

  it('a packet for an interface whose IDB has not come yet', () => {
    const s = base();
    const at = s.bytes().length;
    s.epb(1, 2n, frame(2)).idb(1, 0);
    const r = damaged('early.pcapng', s);
    expect(r.rows).toHaveLength(1);
    expect(r.errors.map((e) => e.message)).toEqual([`${r.path}: packet for interface 1, but the section defines 1 so far at byte ${at} (EPB)`]);
    expect(r.errors[0]!.unreadable).toBe(false);
  });

  it('a captured length past 262144', () => {
    const s = base();
    const at = s.bytes().length;
    const b = Buffer.concat([s.bytes(), s.epb(0, 2n, frame(2)).blocks.at(-1)!]);
    b.writeUInt32LE(300000, at + 20);
    const r = damaged('caplen.pcapng', b);
    expect(r.rows).toHaveLength(1);
    expect(r.errors[0]!.message).toBe(`${r.path}: packet claims 300000 captured bytes, more than the 262144 any capture holds at byte ${at} (EPB)`);
  });

  it('a block length past the 16 MiB limit', () => {
    const s = base();
    const at = s.bytes().length;
    const b = Buffer.concat([s.bytes(), Buffer.alloc(64)]);
    b.writeUInt32LE(6, at);
    b.writeUInt32LE(32 << 20, at + 4);
    const r = damaged('huge.pcapng', b);
    expect(r.rows).toHaveLength(1);
    expect(r.errors[0]!.message).toBe(`${r.path}: block length 33554432 exceeds the 16777216-byte limit at byte ${at} (EPB)`);
  });

  it('an if_tsresol no double can count stops the file at that IDB', () => {
    const s = base();
    const at = s.bytes().length;
    s.idb(1, 0, s.opt(9, Buffer.of(0x7f))).epb(1, 2n, frame(2));
    const r = damaged('tsresol.pcapng', s);
    expect(r.rows).toHaveLength(1);
    expect(r.errors[0]!.message).toBe(`${r.path}: interface 1: if_tsresol 0x7f is finer than bondscope can count at byte ${at} (IDB)`);
  });

  it('an option running past its block spoils only that block’s options: a warning, the packet is kept', () => {
    const s = base();
    const at = s.bytes().length;
    const b = Buffer.concat([s.bytes(), s.epb(0, 2n, frame(2), s.opt(1, 'hello')).blocks.at(-1)!]);
    b.writeUInt16LE(200, at + 28 + 60 + 2); // comment length 200 in a block that holds 8
    const r = damaged('option.pcapng', b);
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => x.comment)).toEqual([null, null]);
    expect(r.warnings.map((w) => w.message)).toEqual([`${r.path}: option 1 of length 200 runs past the end of the EPB at byte ${at + 88} (options)`]);
  });

  it('a second section with a bad byte-order magic: the first section’s frames are kept', () => {
    const s = base();
    const at = s.bytes().length;
    const b = Buffer.concat([s.bytes(), new Section(true).shb().bytes()]);
    b.writeUInt32LE(0x11223344, at + 8);
    const r = damaged('bom.pcapng', b);
    expect(r.rows).toHaveLength(1);
    expect(r.errors[0]!.message).toBe(`${r.path}: section header with a bad byte-order magic 0x44332211 at byte ${at} (SHB)`);
    expect(r.errors[0]!.unreadable).toBe(false);
  });

  it('a first section header with a bad byte-order magic, or cut short: unreadable', () => {
    const b = base().bytes();
    b.writeUInt32LE(0x11223344, 8);
    const r = damaged('bom0.pcapng', b);
    expect(r.errors[0]!.message).toBe(`${r.path}: section header with a bad byte-order magic 0x44332211 at byte 0 (SHB)`);
    expect(r.errors[0]!.unreadable).toBe(true);
    const cut = damaged('shbcut.pcapng', base().bytes().subarray(0, 20));
    expect(cut.errors[0]!.message).toBe(`${cut.path}: block cut short at end of file (20 of 28 bytes) after 0 frames at byte 0 (SHB)`);
    expect(cut.errors[0]!.unreadable).toBe(true);
  });

  it('a section header of version 2.0', () => {
    const b = base().bytes();
    b.writeUInt16LE(2, 12);
    const r = damaged('v2.pcapng', b);
    expect(r.errors[0]!.message).toBe(`${r.path}: section header version 2.0 is not 1.x at byte 0 (SHB)`);
    expect(r.errors[0]!.unreadable).toBe(true);
  });
});
