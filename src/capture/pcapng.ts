/**
 * pcapng reader. Every block's length is checked before its body is touched (at least 12, a
 * multiple of 4, at least the fixed part of its type, trailing copy equal to the leading one,
 * whole within the file and within MAX_BLOCK_BYTES), and every field and option against the
 * block's end, as libpcap's and Wireshark's readers do. Sections may switch byte order; interface
 * ids are local to a section. Blocks bondscope has no use for (NRB, DSB, custom, unknown) are
 * skipped by their length.
 *
 * Hot path: an EPB costs a few byte reads, three length checks and the timestamp division; its
 * options (flags, comments, drop count) are walked by a plain loop, no closure, no allocation
 * unless a comment is present. Rare blocks (SHB, IDB, ISB) take the comfortable path.
 */
import { type ChunkedInput, MAX_BLOCK_BYTES } from './input.js';
import {
  CaptureError,
  type CaptureInterface,
  DIR_IN,
  DIR_OUT,
  DIR_UNKNOWN,
  type InterfaceRegistry,
  MAX_INTERFACES,
  MAX_RECORD_CAPLEN,
  PacketRecord,
  type RecordSource,
} from '../model/record.js';
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
const ISB_OSDROP = 7;

/** Smallest legal total length of each block type: header, fixed fields, trailer. */
function minLength(type: number): number {
  switch (type) {
    case BT_SHB: return 28;
    case BT_EPB: return 32;
    case BT_OPB: return 32;
    case BT_ISB: return 24;
    case BT_IDB: return 20;
    case BT_SPB: return 16;
    case BT_CUSTOM:
    case BT_CUSTOM_NOCOPY: return 16; // private enterprise number
    default: return 12;
  }
}

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

/** "an EPB", "a SHB", "an ISB": for messages. */
function article(name: string): string {
  return /^[AEFHILMNORSX]/.test(name) ? `an ${name}` : `a ${name}`;
}

/** An unsigned 64-bit field as a double (exact below 2^53, which every counter is). */
function rd64(dv: DataView, p: number, le: boolean): number {
  return le ? dv.getUint32(p + 4, true) * 4294967296 + dv.getUint32(p, true) : dv.getUint32(p, false) * 4294967296 + dv.getUint32(p + 4, false);
}

interface SectionInterface {
  iface: CaptureInterface;
  res: TsResolution;
  /** An ISB gave isb_ifdrop: it is the running total, so epb_dropcount no longer adds to drops. */
  isbDrops: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Section comments kept per input (each up to a block's 16 MiB); later sections' are not read. */
export const MAX_SECTION_COMMENTS = 64;

export class PcapngReader implements RecordSource {
  readonly rec = new PacketRecord();
  error: CaptureError | null = null;
  frames = 0;
  /**
   * Section comments (opt_comment of each SHB), in file order: live mode records the topology here.
   * The first MAX_SECTION_COMMENTS only: a file can repeat commented SHBs without end.
   */
  readonly sectionComments: string[] = [];
  /** Non-fatal oddities (malformed options): the packets were still used. At most 16 are kept. */
  readonly warnings: CaptureError[] = [];
  private done = false;
  private le = true;
  private section = -1;
  private ifaces: SectionInterface[] = [];
  /** IDBs read so far in this file, every section counted: an unnamed interface's number N. */
  private idbs = 0;
  /** The file's first interface while it is named after the file alone (it may be the only one). */
  private named0: CaptureInterface | null = null;
  /** Names this file's interfaces were given from if_description: one name per IDB. */
  private readonly described = new Set<string>();

  constructor(
    readonly input: string,
    private readonly inp: ChunkedInput,
    private readonly registry: InterfaceRegistry,
    private readonly inputIndex: number,
    /** Name for interfaces without if_name or if_description: the file's stem or the NAME of NAME=PATH (FILE, FILE#N). */
    private readonly fallbackName: string,
  ) {
    this.rec.inputIndex = inputIndex;
  }

  next(): boolean {
    const inp = this.inp;
    while (!this.done) {
      if (inp.end - inp.start < 12 && !inp.ensure(12)) {
        if (inp.available > 0 || inp.failure !== null) {
          return this.damage(`block header cut short at end of file (${inp.available} of 12 bytes) after ${this.frames} frames`, inp.start, 'block header');
        }
        if (this.section < 0) return this.damage('file ends before its first section header', inp.start, 'SHB', true);
        this.done = true;
        return false;
      }
      let p = inp.start;
      let b = inp.buf;
      let dv = inp.view;
      const type = dv.getUint32(p, this.le);
      if (type === BT_SHB) {
        // The byte-order magic decides how this block's length (and the whole section) is read.
        const bom = dv.getUint32(p + 8, false);
        if (bom === 0x1a2b3c4d) this.le = false;
        else if (bom === 0x4d3c2b1a) this.le = true;
        else return this.damage(`section header with a bad byte-order magic 0x${bom.toString(16).padStart(8, '0')}`, p, 'SHB', this.section < 0);
      } else if (this.section < 0) {
        return this.damage('first block is not a section header', p, blockName(type), true);
      }
      const len = dv.getUint32(p + 4, this.le);
      if (len < 12 || (len & 3) !== 0) {
        return this.damage(`block length ${len} is ${len < 12 ? 'less than 12' : 'not a multiple of 4'}`, p, blockName(type));
      }
      if (len < minLength(type)) {
        const name = blockName(type);
        return this.damage(`block length ${len} is less than the ${minLength(type)} bytes ${article(name)} needs`, p, name);
      }
      if (len > MAX_BLOCK_BYTES) {
        return this.damage(`block length ${len} exceeds the ${MAX_BLOCK_BYTES}-byte limit`, p, blockName(type));
      }
      if (inp.end - p < len) {
        if (!inp.ensure(len)) {
          return this.damage(`block cut short at end of file (${inp.available} of ${len} bytes) after ${this.frames} frames`, inp.start, blockName(type));
        }
        p = inp.start; // ensure() may have moved the bytes
        b = inp.buf;
        dv = inp.view;
      }
      const trailer = dv.getUint32(p + len - 4, this.le);
      if (trailer !== len) {
        return this.damage(`block trailing length ${trailer} does not match its leading length ${len}`, p, blockName(type));
      }
      inp.start = p + len;
      switch (type) {
        case BT_EPB:
          if (this.epb(b, p, len)) return true;
          break;
        case BT_SPB:
          if (this.spb(b, p, len)) return true;
          break;
        case BT_OPB:
          if (this.opb(b, p, len)) return true;
          break;
        case BT_SHB:
          this.shb(b, p, len);
          break;
        case BT_IDB:
          this.idb(b, p, len);
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

  private epb(b: Uint8Array, p: number, len: number): boolean {
    const dv = this.inp.view;
    const le = this.le;
    const caplen = dv.getUint32(p + 20, le);
    const si = this.packet(b, p, len, dv.getUint32(p + 8, le), p + 28, caplen, dv.getUint32(p + 24, le), BT_EPB);
    if (si === null) return false;
    setTimestamp(this.rec, dv, p + 12, le, si.res);
    const optAt = p + 28 + ((caplen + 3) & ~3);
    if (optAt < p + len - 4) this.packetOptions(b, optAt, p + len - 4, si, BT_EPB);
    return true;
  }

  /** The obsolete Packet Block (type 2): 16-bit interface id, 16-bit drops count, then as an EPB. */
  private opb(b: Uint8Array, p: number, len: number): boolean {
    const dv = this.inp.view;
    const le = this.le;
    const caplen = dv.getUint32(p + 20, le);
    const si = this.packet(b, p, len, dv.getUint16(p + 8, le), p + 28, caplen, dv.getUint32(p + 24, le), BT_OPB);
    if (si === null) return false;
    setTimestamp(this.rec, dv, p + 12, le, si.res);
    const drops = dv.getUint16(p + 10, le);
    if (drops !== 0xffff) this.countDrops(si, drops);
    const optAt = p + 28 + ((caplen + 3) & ~3);
    if (optAt < p + len - 4) this.packetOptions(b, optAt, p + len - 4, si, BT_OPB);
    return true;
  }

  /** Simple Packet Block: interface 0, no timestamp; captured length is what the block and snaplen allow. */
  private spb(b: Uint8Array, p: number, len: number): boolean {
    const dv = this.inp.view;
    const origLen = dv.getUint32(p + 8, this.le);
    let caplen = Math.min(origLen, len - 16);
    const si0 = this.ifaces[0];
    if (si0 !== undefined && si0.iface.snaplen > 0 && si0.iface.snaplen < caplen) caplen = si0.iface.snaplen;
    const si = this.packet(b, p, len, 0, p + 12, caplen, origLen, BT_SPB);
    if (si === null) return false;
    const rec = this.rec;
    rec.tsSec = 0;
    rec.tsNsec = 0;
    rec.tsFrac = 0;
    return true;
  }

  /** Fills the record's common fields; null (and damage) when the interface or lengths are wrong. */
  private packet(b: Uint8Array, p: number, blockLen: number, id: number, dataAt: number, caplen: number, origLen: number, type: number): SectionInterface | null {
    const si = this.ifaces[id];
    if (si === undefined) {
      this.damage(`packet for interface ${id}, but the section defines ${this.ifaces.length} so far`, p, blockName(type));
      return null;
    }
    if (caplen > MAX_RECORD_CAPLEN) {
      this.damage(`packet claims ${caplen} captured bytes, more than the ${MAX_RECORD_CAPLEN} any capture holds`, p, blockName(type));
      return null;
    }
    if (dataAt + caplen > p + blockLen - 4) {
      this.damage(`captured length ${caplen} runs past the end of the block`, p, blockName(type));
      return null;
    }
    const rec = this.rec;
    rec.iface = si.iface;
    rec.buf = b;
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

  /** EPB/Packet Block options: flags (direction), comments (joined by newline), drop count. */
  private packetOptions(b: Uint8Array, from: number, to: number, si: SectionInterface, type: number): void {
    const dv = this.inp.view;
    const le = this.le;
    const rec = this.rec;
    let at = from;
    while (at + 4 <= to) {
      const code = dv.getUint16(at, le);
      const olen = dv.getUint16(at + 2, le);
      if (code === OPT_ENDOFOPT) return;
      const v = at + 4;
      if (v + olen > to) {
        this.warn(`option ${code} of length ${olen} runs past the end of the ${blockName(type)}`, at);
        return;
      }
      if (code === EPB_FLAGS) {
        if (olen === 4) {
          const flags = dv.getUint32(v, le);
          rec.epbFlags = flags;
          const dir = flags & 3;
          rec.direction = dir === 1 ? DIR_IN : dir === 2 ? DIR_OUT : DIR_UNKNOWN;
        } else this.warn(`epb_flags option of length ${olen}, not 4`, at);
      } else if (code === OPT_COMMENT) {
        const text = this.text(b, v, olen);
        rec.comment = rec.comment === null ? text : `${rec.comment}\n${text}`;
      } else if (code === EPB_DROPCOUNT) {
        if (olen === 8) this.countDrops(si, rd64(dv, v, le));
        else this.warn(`epb_dropcount option of length ${olen}, not 8`, at);
      }
      at = v + ((olen + 3) & ~3);
    }
  }

  private countDrops(si: SectionInterface, n: number): void {
    this.rec.dropCount = n;
    if (!si.isbDrops) si.iface.drops = (si.iface.drops < 0 ? 0 : si.iface.drops) + n;
  }

  private shb(b: Uint8Array, p: number, len: number): void {
    const dv = this.inp.view;
    this.section++;
    this.ifaces = [];
    const major = dv.getUint16(p + 12, this.le);
    if (major !== 1) {
      this.damage(`section header version ${major}.${dv.getUint16(p + 14, this.le)} is not 1.x`, p, 'SHB', this.section === 0);
      return;
    }
    const keep = this.sectionComments.length < MAX_SECTION_COMMENTS;
    const comments: string[] = [];
    this.options(p + 24, p + len - 4, 'SHB', (code, at, olen) => {
      if (code === OPT_COMMENT && keep) comments.push(this.text(b, at, olen));
    });
    if (comments.length) this.sectionComments.push(comments.join('\n'));
  }

  private idb(b: Uint8Array, p: number, len: number): void {
    if (this.registry.list.length >= MAX_INTERFACES) {
      this.damage(`more than ${MAX_INTERFACES} interfaces (IDBs) in the inputs`, p, 'IDB');
      return;
    }
    const dv = this.inp.view;
    const le = this.le;
    const linkType = dv.getUint16(p + 8, le);
    const snaplen = dv.getUint32(p + 12, le);
    const localId = this.ifaces.length;
    let name: string | null = null;
    let description: string | null = null;
    let res: TsResolution = MICROSECONDS;
    let offsetSec = 0;
    let fcsLen = 0;
    let bad: string | null = null;
    this.options(p + 16, p + len - 4, 'IDB', (code, at, olen) => {
      if (code === IF_NAME) name = this.text(b, at, olen);
      else if (code === IF_DESCRIPTION) description = this.text(b, at, olen);
      else if (code === IF_TSRESOL) {
        const r = olen === 1 ? resolutionFromTsresol(b[at]!) : null;
        if (r) res = r;
        else bad = olen === 1 ? `if_tsresol 0x${b[at]!.toString(16)} is finer than bondscope can count` : `if_tsresol option of length ${olen}, not 1`;
      } else if (code === IF_TSOFFSET) {
        if (olen === 8) {
          // Signed 64-bit seconds.
          const hi = dv.getUint32(le ? at + 4 : at, le) | 0;
          offsetSec = hi * 4294967296 + dv.getUint32(le ? at : at + 4, le);
        } else this.warn(`if_tsoffset option of length ${olen}, not 8`, at - 4);
      } else if (code === IF_FCSLEN) {
        if (olen === 1) fcsLen = b[at]!;
        else this.warn(`if_fcslen option of length ${olen}, not 1`, at - 4);
      }
    });
    if (bad !== null) {
      // Without the resolution no timestamp of this interface means anything: stop here.
      this.damage(`interface ${localId}: ${bad}`, p, 'IDB');
      return;
    }
    if (offsetSec !== 0) res = { ...res, offsetSec };
    // Each IDB is an interface of its own, whatever its options (mergecap -I none writes one per
    // input, all unnamed): without if_name it is named by its if_description (once per file), else
    // FILE#N, N its number among the file's IDBs. A file's only interface is named FILE, as a
    // classic pcap's is (a pcap converted to pcapng): the first is called FILE until a second IDB
    // comes, and FILE#0 from then on if it had no frame yet.
    const n = this.idbs++;
    if (this.named0 !== null && this.named0.frames === 0) this.named0.name = `${this.fallbackName}#0`;
    this.named0 = null;
    let ifName: string;
    if (name !== null) ifName = name;
    else if (description !== null && description !== '' && !this.described.has(description)) this.described.add((ifName = description));
    else ifName = n === 0 ? this.fallbackName : `${this.fallbackName}#${n}`;
    const iface = this.registry.add({
      name: ifName,
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
    this.ifaces.push({ iface, res, isbDrops: false });
    // Only a name the file gave it (not an if_name that happens to be the file's stem: editcap -r
    // of eth0 out of a capture of five ports keeps all five IDBs in eth0.pcapng, the first named eth0).
    if (n === 0 && name === null && ifName === this.fallbackName) this.named0 = iface;
  }

  private isb(p: number, len: number): void {
    const dv = this.inp.view;
    const si = this.ifaces[dv.getUint32(p + 8, this.le)];
    if (si === undefined) return; // statistics for an interface the section never defined: nothing to attach them to
    this.options(p + 20, p + len - 4, 'ISB', (code, at, olen) => {
      if (olen !== 8) return;
      // Counters since the capture began: the last ISB holds the total.
      if (code === ISB_IFDROP) {
        si.iface.drops = rd64(dv, at, this.le);
        si.isbDrops = true;
      } else if (code === ISB_OSDROP) si.iface.osDrops = rd64(dv, at, this.le);
    });
  }

  /** Walks an option list in [from, to) of a rare block, checking each option against the block's end. */
  private options(from: number, to: number, name: string, each: (code: number, at: number, len: number) => void): void {
    const dv = this.inp.view;
    let at = from;
    while (at + 4 <= to) {
      const code = dv.getUint16(at, this.le);
      const olen = dv.getUint16(at + 2, this.le);
      if (code === OPT_ENDOFOPT) return;
      if (at + 4 + olen > to) {
        // A bad option spoils only the rest of this block's options: note it, keep the block.
        this.warn(`option ${code} of length ${olen} runs past the end of the ${name}`, at);
        return;
      }
      each(code, at + 4, olen);
      at += 4 + ((olen + 3) & ~3);
    }
  }

  private warn(what: string, pos: number): void {
    if (this.warnings.length < 16) this.warnings.push(new CaptureError(this.input, what, this.inp.offsetOf(pos), 'options', false, this.inp.compression));
  }

  private text(b: Uint8Array, at: number, len: number): string {
    // Strings in options are UTF-8, sometimes NUL-terminated by their writer.
    let end = at + len;
    while (end > at && b[end - 1] === 0) end--;
    return utf8.decode(b.subarray(at, end));
  }

  /**
   * Stops the reader with `error` set. Unreadable when not even the first section header could
   * be read (or `unreadable` says the first section is unusable), and no frame was delivered.
   */
  private damage(what: string, pos: number, where: string, unreadable = false): false {
    // A read that failed looks like an early end of file: say what really happened.
    if (this.inp.failure !== null) what = `read failed (${this.inp.failure}) after ${this.frames} frames`;
    if (!this.error) this.error = new CaptureError(this.input, what, this.inp.offsetOf(pos), where, (unreadable || this.section < 0) && this.frames === 0, this.inp.compression);
    this.done = true;
    return false;
  }

  close(): void {
    this.inp.close();
  }
}
