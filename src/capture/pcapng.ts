/**
 * pcapng reader. Every block's length is checked before its body is touched (at least 12, a
 * multiple of 4, trailing copy equal to the leading one, whole within the file and within
 * MAX_BLOCK_BYTES), and every field and option against the block's end, as libpcap's and
 * Wireshark's readers do. Sections may switch byte order; interface ids are local to a section.
 * Blocks bondscope has no use for (NRB, DSB, custom, unknown) are skipped by their length.
 */
import { type ChunkedInput, MAX_BLOCK_BYTES } from './input.js';
import {
  CaptureError,
  type CaptureInterface,
  DIR_IN,
  DIR_OUT,
  DIR_UNKNOWN,
  type InterfaceRegistry,
  MAX_RECORD_CAPLEN,
  PacketRecord,
  type RecordSource,
} from './record.js';
import { MICROSECONDS, resolutionFromTsresol, setTimestamp, type TsResolution } from './timestamp.js';

export const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_OPB = 0x00000002;
const BT_SPB = 0x00000003;
const BT_NRB = 0x00000004;
const BT_ISB = 0x00000005;
const BT_EPB = 0x00000006;
const BT_DSB = 0x0000000a;
const BT_CUSTOM = 0x00000bad;
const BT_CUSTOM_NOCOPY = 0x40000bad;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const IF_TSOFFSET = 14;
const EPB_FLAGS = 2;
const EPB_DROPCOUNT = 4;
const ISB_IFDROP = 5;

/** Smallest legal total length of each block type (header, fixed fields, trailer). */
const MIN_LENGTH: Record<number, number> = {
  [BT_SHB]: 28,
  [BT_IDB]: 20,
  [BT_OPB]: 32,
  [BT_SPB]: 16,
  [BT_ISB]: 24,
  [BT_EPB]: 32,
};

export function blockName(type: number): string {
  switch (type) {
    case BT_SHB: return 'SHB';
    case BT_IDB: return 'IDB';
    case BT_OPB: return 'Packet Block';
    case BT_SPB: return 'SPB';
    case BT_NRB: return 'NRB';
    case BT_ISB: return 'ISB';
    case BT_EPB: return 'EPB';
    case BT_DSB: return 'DSB';
    case BT_CUSTOM:
    case BT_CUSTOM_NOCOPY: return 'custom block';
    default: return `block type 0x${type.toString(16).padStart(8, '0')}`;
  }
}

interface SectionInterface {
  iface: CaptureInterface;
  res: TsResolution;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class PcapngReader implements RecordSource {
  readonly rec = new PacketRecord();
  error: CaptureError | null = null;
  frames = 0;
  /** Section comments (opt_comment of each SHB), in file order: live mode records the topology here. */
  readonly sectionComments: string[] = [];
  private done = false;
  private le = true;
  private section = -1;
  private ifaces: SectionInterface[] = [];

  constructor(
    readonly input: string,
    private readonly inp: ChunkedInput,
    private readonly registry: InterfaceRegistry,
    private readonly inputIndex: number,
    /** Name for interfaces without if_name: the file's stem or the NAME of NAME=PATH. */
    private readonly fallbackName: string,
  ) {
    this.rec.inputIndex = inputIndex;
  }

  private u32(p: number): number {
    const b = this.inp.buf;
    return this.le
      ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0
      : ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  private u16(p: number): number {
    const b = this.inp.buf;
    return this.le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
  }

  /** A 64-bit unsigned value as a double (exact below 2^53). */
  private u64(p: number): number {
    return this.le ? this.u32(p + 4) * 4294967296 + this.u32(p) : this.u32(p) * 4294967296 + this.u32(p + 4);
  }

  next(): boolean {
    const inp = this.inp;
    while (!this.done) {
      if (!inp.ensure(12)) {
        if (inp.available > 0) {
          return this.damage(`block header cut short at end of file (${inp.available} of 12 bytes)`, inp.start, 'block header');
        }
        if (this.section < 0) {
          return this.damage('file ends before its first section header', inp.start, 'SHB', true);
        }
        this.done = true;
        return false;
      }
      let p = inp.start;
      const b = inp.buf;
      let type = this.u32(p);
      if (type === BT_SHB) {
        // The byte-order magic decides how this block's length (and the section) is read.
        const bom = (b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!;
        if (bom === 0x1a2b3c4d) this.le = false;
        else if (bom === 0x4d3c2b1a) this.le = true;
        else return this.damage(`section header with a bad byte-order magic 0x${(bom >>> 0).toString(16)}`, p, 'SHB', this.section < 0);
        type = BT_SHB;
      } else if (this.section < 0) {
        return this.damage('first block is not a section header', p, blockName(type), true);
      }
      const len = this.u32(p + 4);
      const name = blockName(type);
      if (len < 12 || len % 4 !== 0) {
        return this.damage(`block length ${len} is ${len < 12 ? 'less than 12' : 'not a multiple of 4'}`, p, name);
      }
      const min = MIN_LENGTH[type];
      if (min !== undefined && len < min) return this.damage(`block length ${len} is less than the ${min} a ${name} needs`, p, name);
      if (len > MAX_BLOCK_BYTES) return this.damage(`block length ${len} exceeds the ${MAX_BLOCK_BYTES}-byte limit`, p, name);
      if (!inp.ensure(len)) {
        return this.damage(`block cut short at end of file (${inp.available} of ${len} bytes) after ${this.frames} frames`, inp.start, name);
      }
      p = inp.start; // ensure() may have moved the bytes
      const trailer = this.u32(p + len - 4);
      if (trailer !== len) return this.damage(`block trailing length ${trailer} does not match its leading length ${len}`, p, name);
      inp.start = p + len;
      switch (type) {
        case BT_EPB:
          if (this.epb(p, len)) return true;
          break;
        case BT_SPB:
          if (this.spb(p, len)) return true;
          break;
        case BT_OPB:
          if (this.opb(p, len)) return true;
          break;
        case BT_SHB:
          this.shb(p, len);
          break;
        case BT_IDB:
          this.idb(p, len);
          break;
        case BT_ISB:
          this.isb(p, len);
          break;
        default:
          break; // NRB, DSB, custom and unknown blocks: skipped by length
      }
    }
    return false;
  }

  private shb(p: number, len: number): void {
    this.section++;
    this.ifaces = [];
    const major = this.u16(p + 12);
    if (major !== 1) {
      this.damage(`section header version ${major}.${this.u16(p + 14)} is not 1.x`, p, 'SHB');
      return;
    }
    const comments: string[] = [];
    this.options(p + 24, p + len - 4, 'SHB', (code, at, olen) => {
      if (code === OPT_COMMENT) comments.push(this.text(at, olen));
    });
    if (comments.length) this.sectionComments.push(comments.join('\n'));
  }

  private idb(p: number, len: number): void {
    const linkType = this.u16(p + 8);
    const snaplen = this.u32(p + 12);
    let name: string | null = null;
    let description: string | null = null;
    let res: TsResolution = MICROSECONDS;
    let offsetSec = 0;
    let fcsLen = 0;
    this.options(p + 16, p + len - 4, 'IDB', (code, at, olen) => {
      if (code === IF_NAME) name = this.text(at, olen);
      else if (code === IF_DESCRIPTION) description = this.text(at, olen);
      else if (code === IF_TSRESOL && olen >= 1) {
        const r = resolutionFromTsresol(this.inp.buf[at]!);
        if (r) res = r;
        else this.damage(`interface ${this.ifaces.length} has an unusable if_tsresol 0x${this.inp.buf[at]!.toString(16)}`, p, 'IDB');
      } else if (code === IF_TSOFFSET && olen >= 8) {
        // Signed 64-bit seconds.
        const hi = this.le ? this.u32(at + 4) | 0 : this.u32(at) | 0;
        const lo = this.le ? this.u32(at) : this.u32(at + 4);
        offsetSec = hi * 4294967296 + lo;
      } else if (code === IF_FCSLEN && olen >= 1) fcsLen = this.inp.buf[at]!;
    });
    if (offsetSec !== 0) res = { ...res, offsetSec };
    const localId = this.ifaces.length;
    const iface = this.registry.add({
      name: name ?? (localId === 0 && this.section === 0 ? this.fallbackName : `${this.fallbackName}#${this.section}.${localId}`),
      description,
      linkType,
      fcsLen,
      snaplen,
      tsDigits: res.digits,
      input: this.input,
      inputIndex: this.inputIndex,
      section: this.section,
      localId,
    });
    this.ifaces.push({ iface, res });
  }

  private isb(p: number, len: number): void {
    const id = this.u32(p + 8);
    const si = this.ifaces[id];
    if (!si) return; // statistics for an interface we never saw: nothing to attach them to
    this.options(p + 20, p + len - 4, 'ISB', (code, at, olen) => {
      if (code === ISB_IFDROP && olen >= 8) si.iface.drops = this.u64(at);
    });
  }

  /** Fills the record's common fields; false (and damage) when the interface or lengths are wrong. */
  private packet(p: number, blockLen: number, id: number, dataAt: number, caplen: number, origLen: number, name: string): SectionInterface | null {
    const si = this.ifaces[id];
    if (!si) {
      this.damage(`packet for interface ${id}, but the section defines ${this.ifaces.length}`, p, name);
      return null;
    }
    if (caplen > MAX_RECORD_CAPLEN) {
      this.damage(`packet claims ${caplen} captured bytes, more than the ${MAX_RECORD_CAPLEN} any capture holds`, p, name);
      return null;
    }
    if (dataAt + caplen > p + blockLen - 4) {
      this.damage(`captured length ${caplen} runs past the end of the block`, p, name);
      return null;
    }
    const rec = this.rec;
    rec.iface = si.iface;
    rec.buf = this.inp.buf;
    rec.offset = dataAt;
    rec.caplen = caplen;
    rec.origLen = origLen;
    rec.direction = DIR_UNKNOWN;
    rec.epbFlags = 0;
    rec.dropCount = -1;
    rec.comment = null;
    rec.inputFrame = ++this.frames;
    si.iface.frames++;
    return si;
  }

  private epb(p: number, len: number): boolean {
    const id = this.u32(p + 8);
    const caplen = this.u32(p + 20);
    const si = this.packet(p, len, id, p + 28, caplen, this.u32(p + 24), 'EPB');
    if (!si) return false;
    setTimestamp(this.rec, this.u32(p + 12), this.u32(p + 16), si.res);
    const optAt = p + 28 + ((caplen + 3) & ~3);
    if (optAt < p + len - 4) this.packetOptions(optAt, p + len - 4, 'EPB');
    return true;
  }

  private opb(p: number, len: number): boolean {
    const id = this.u16(p + 8);
    const drops = this.u16(p + 10);
    const caplen = this.u32(p + 20);
    const si = this.packet(p, len, id, p + 28, caplen, this.u32(p + 24), 'Packet Block');
    if (!si) return false;
    setTimestamp(this.rec, this.u32(p + 12), this.u32(p + 16), si.res);
    if (drops !== 0xffff) this.rec.dropCount = drops;
    const optAt = p + 28 + ((caplen + 3) & ~3);
    if (optAt < p + len - 4) this.packetOptions(optAt, p + len - 4, 'Packet Block');
    return true;
  }

  private spb(p: number, len: number): boolean {
    const origLen = this.u32(p + 8);
    const si0 = this.ifaces[0];
    let caplen = Math.min(origLen, len - 16);
    if (si0 && si0.iface.snaplen > 0) caplen = Math.min(caplen, si0.iface.snaplen);
    const si = this.packet(p, len, 0, p + 12, caplen, origLen, 'SPB');
    if (!si) return false;
    // An SPB carries no timestamp.
    this.rec.tsSec = 0;
    this.rec.tsNsec = 0;
    this.rec.tsFrac = 0;
    return true;
  }

  private packetOptions(from: number, to: number, name: string): void {
    const rec = this.rec;
    this.options(from, to, name, (code, at, olen) => {
      if (code === EPB_FLAGS && olen >= 4) {
        const flags = this.u32(at);
        rec.epbFlags = flags;
        const dir = flags & 3;
        rec.direction = dir === 1 ? DIR_IN : dir === 2 ? DIR_OUT : DIR_UNKNOWN;
      } else if (code === OPT_COMMENT) {
        const text = this.text(at, olen);
        rec.comment = rec.comment === null ? text : `${rec.comment}\n${text}`;
      } else if (code === EPB_DROPCOUNT && olen >= 8) {
        rec.dropCount = this.u64(at);
      }
    });
  }

  /** Walks an option list in [from, to), checking each option against the block's end. */
  private options(from: number, to: number, name: string, each: (code: number, at: number, len: number) => void): void {
    let at = from;
    while (at + 4 <= to) {
      const code = this.u16(at);
      const olen = this.u16(at + 2);
      if (code === OPT_ENDOFOPT) return;
      if (at + 4 + olen > to) {
        // A bad option spoils only the rest of this block's options: note it, keep the packet.
        this.warn(`option ${code} of length ${olen} runs past the end of the ${name}`, at);
        return;
      }
      each(code, at + 4, olen);
      at += 4 + ((olen + 3) & ~3);
    }
  }

  /** Non-fatal damage (bad options): the first one is kept for the report. */
  readonly warnings: CaptureError[] = [];
  private warn(what: string, pos: number): void {
    if (this.warnings.length < 16) this.warnings.push(new CaptureError(this.input, what, this.inp.offsetOf(pos), 'options', false));
  }

  private text(at: number, len: number): string {
    // Strings in options are UTF-8, sometimes NUL-terminated by their writer.
    let end = at + len;
    while (end > at && this.inp.buf[end - 1] === 0) end--;
    return utf8.decode(this.inp.buf.subarray(at, end));
  }

  private damage(what: string, pos: number, where: string, unreadable = false): false {
    if (!this.error) this.error = new CaptureError(this.input, what, this.inp.offsetOf(pos), where, unreadable && this.frames === 0);
    this.done = true;
    return false;
  }

  close(): void {
    this.inp.close();
  }
}
