/**
 * The project's one pcapng writer (little-endian, nanosecond timestamps), used by live `--write`,
 * evidence export and tests. Blocks are built whole in a buffer and written with writeSync, so a
 * file cut off by a signal after `flush()` ends on a block boundary and stays readable.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { DIR_IN, DIR_OUT, type Direction } from '../model/record.js';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const BT_ISB = 0x00000005;

const OPT_COMMENT = 1;
const SHB_HARDWARE = 2;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const EPB_FLAGS = 2;
const EPB_DROPCOUNT = 4;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;
const ISB_OSDROP = 7;

export interface SectionInfo {
  /** Section comment: bondscope puts the recorded topology here. */
  comment?: string;
  hardware?: string;
  os?: string;
  userappl?: string;
}

export interface InterfaceInfo {
  name: string;
  description?: string;
  linkType: number;
  snaplen: number;
  /** Decimal digits of the timestamps (if_tsresol 10^-digits s, 0..9): 6 keeps a pcap's µs; default 9 (ns). */
  tsDigits?: number;
  /** Bytes of FCS at the end of each frame (if_fcslen), written when above 0. */
  fcsLen?: number;
}

export interface PacketOptions {
  direction?: Direction;
  /** One opt_comment per string (Wireshark lists each as its own comment). */
  comment?: string | readonly string[] | null;
  dropCount?: number;
}

const utf8 = new TextEncoder();

/** Accumulates one block's body; options appended with 4-byte padding as the spec requires. */
class BlockBuilder {
  private parts: Uint8Array[] = [];
  private size = 0;

  u32(...values: number[]): this {
    const b = new Uint8Array(values.length * 4);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
    return this.bytes(b);
  }

  bytes(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    const pad = (4 - (b.length % 4)) % 4;
    if (pad) {
      this.parts.push(new Uint8Array(pad));
      this.size += pad;
    }
    return this;
  }

  option(code: number, value: Uint8Array): this {
    const head = new Uint8Array(4);
    const v = new DataView(head.buffer);
    v.setUint16(0, code, true);
    v.setUint16(2, value.length, true);
    this.bytes(head);
    return this.bytes(value);
  }

  textOption(code: number, text: string | undefined | null): this {
    if (text === undefined || text === null || text === '') return this;
    let value = utf8.encode(text);
    // An option's length field is 16 bits: keep the longest valid prefix.
    if (value.length > 0xfff0) value = value.subarray(0, 0xfff0);
    return this.option(code, value);
  }

  u32Option(code: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.option(code, b);
  }

  u64Option(code: number, value: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, value, true);
    return this.option(code, b);
  }

  /** Closes the option list (if any options were written) and frames the body as a block. */
  finish(type: number, hasOptions: boolean): Uint8Array {
    if (hasOptions) this.u32(0); // opt_endofopt
    const total = this.size + 12;
    const out = new Uint8Array(total);
    const v = new DataView(out.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, total, true);
    let at = 8;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    v.setUint32(total - 4, total, true);
    return out;
  }
}

export class PcapngWriter {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private interfaces = 0;
  private closed = false;
  /** Packets written per interface (for the ISB). */
  private readonly received: number[] = [];
  /** Per interface: nanoseconds per timestamp unit (1 for ns, 1000 for µs). */
  private readonly nsPerUnit: number[] = [];

  /** Opens `target` (a path, created with `mode`, default 0600: captures are sensitive) or writes to an fd. */
  constructor(target: string | number, section: SectionInfo = {}, mode = 0o600) {
    if (typeof target === 'number') {
      this.fd = target;
      this.ownsFd = false;
    } else {
      this.fd = openSync(target, 'w', mode);
      this.ownsFd = true;
    }
    const b = new BlockBuilder().u32(0x1a2b3c4d, 0x00000001, 0xffffffff, 0xffffffff);
    b.textOption(OPT_COMMENT, section.comment)
      .textOption(SHB_HARDWARE, section.hardware)
      .textOption(SHB_OS, section.os)
      .textOption(SHB_USERAPPL, section.userappl);
    const hasOptions = Boolean(section.comment || section.hardware || section.os || section.userappl);
    this.push(b.finish(BT_SHB, hasOptions));
  }

  /** Writes an IDB; returns the interface id to pass to writePacket. */
  addInterface(info: InterfaceInfo): number {
    const b = new BlockBuilder();
    const head = new Uint8Array(8);
    const v = new DataView(head.buffer);
    v.setUint16(0, info.linkType, true);
    v.setUint32(4, info.snaplen >>> 0, true);
    b.bytes(head);
    b.textOption(IF_NAME, info.name).textOption(IF_DESCRIPTION, info.description);
    const digits = info.tsDigits !== undefined && Number.isInteger(info.tsDigits) && info.tsDigits >= 0 && info.tsDigits <= 9 ? info.tsDigits : 9;
    b.option(IF_TSRESOL, Uint8Array.of(digits));
    if (info.fcsLen !== undefined && info.fcsLen > 0) b.option(IF_FCSLEN, Uint8Array.of(info.fcsLen & 0xff));
    this.push(b.finish(BT_IDB, true));
    this.received.push(0);
    this.nsPerUnit.push(10 ** (9 - digits));
    return this.interfaces++;
  }

  writePacket(
    ifaceId: number,
    tsSec: number,
    tsNsec: number,
    data: Uint8Array,
    offset: number,
    caplen: number,
    origLen: number,
    opts: PacketOptions = {},
  ): void {
    if (ifaceId < 0 || ifaceId >= this.interfaces) throw new RangeError(`pcapng writer: no interface ${ifaceId}`);
    const ts = this.units(ifaceId, tsSec, tsNsec);
    const b = new BlockBuilder().u32(ifaceId, Number(ts >> 32n), Number(ts & 0xffffffffn), caplen, origLen);
    b.bytes(data.subarray(offset, offset + caplen));
    let hasOptions = false;
    if (opts.direction === DIR_IN || opts.direction === DIR_OUT) {
      b.u32Option(EPB_FLAGS, opts.direction); // bits 0-1: 01 inbound, 10 outbound
      hasOptions = true;
    }
    if (opts.comment) {
      for (const c of typeof opts.comment === 'string' ? [opts.comment] : opts.comment) {
        if (!c) continue;
        b.textOption(OPT_COMMENT, c);
        hasOptions = true;
      }
    }
    if (opts.dropCount !== undefined && opts.dropCount >= 0) {
      b.u64Option(EPB_DROPCOUNT, BigInt(opts.dropCount));
      hasOptions = true;
    }
    this.push(b.finish(BT_EPB, hasOptions));
    this.received[ifaceId]!++;
  }

  /** Interface statistics: packets written and, where known, drops, between start and end times. */
  writeStats(ifaceId: number, tsSec: number, tsNsec: number, drops: number, start?: { sec: number; nsec: number }, more: { osDrops?: number; comment?: string | null } = {}): void {
    const ts = this.units(ifaceId, tsSec, tsNsec);
    const b = new BlockBuilder().u32(ifaceId, Number(ts >> 32n), Number(ts & 0xffffffffn));
    if (start) {
      const s = this.units(ifaceId, start.sec, start.nsec);
      b.u64Option(ISB_STARTTIME, s);
    }
    b.u64Option(ISB_ENDTIME, ts).u64Option(ISB_IFRECV, BigInt(this.received[ifaceId] ?? 0));
    if (drops >= 0) b.u64Option(ISB_IFDROP, BigInt(drops));
    if (more.osDrops !== undefined && more.osDrops >= 0) b.u64Option(ISB_OSDROP, BigInt(more.osDrops));
    b.textOption(OPT_COMMENT, more.comment);
    this.push(b.finish(BT_ISB, true));
  }

  /** A time in the interface's own units (its if_tsresol), as the 64-bit count pcapng stores. */
  private units(ifaceId: number, sec: number, nsec: number): bigint {
    const per = this.nsPerUnit[ifaceId] ?? 1;
    return BigInt(sec) * BigInt(1_000_000_000 / per) + BigInt(Math.floor(nsec / per));
  }

  private push(block: Uint8Array): void {
    if (this.closed) throw new Error('pcapng writer: write after close');
    this.pending.push(block);
    this.pendingBytes += block.length;
    if (this.pendingBytes >= 1 << 20) this.flush();
  }

  /** Writes every whole block buffered so far. */
  flush(): void {
    if (this.pendingBytes === 0) return;
    const all = new Uint8Array(this.pendingBytes);
    let at = 0;
    for (const p of this.pending) {
      all.set(p, at);
      at += p.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    let done = 0;
    while (done < all.length) done += writeSync(this.fd, all, done, all.length - done);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.ownsFd) closeSync(this.fd);
  }
}
