/**
 * Classic pcap (libpcap's savefile): 24-byte file header, then 16-byte record headers each followed
 * by caplen bytes. Microsecond and nanosecond magic, both byte orders. The header's link-type
 * field carries more than the link type: as libpcap reads it (LT_LINKTYPE, LT_FCS_LENGTH_PRESENT,
 * LT_FCS_LENGTH), bits 0-15 are the LINKTYPE_ value, bit 26 (0x04000000) says an FCS is present
 * and bits 28-31 give its length in 16-bit words. Files in the wild (fuzzed ones in tcpdump's
 * tests) set the upper bits without the flag: then the FCS length is unknown and taken as 0.
 * caplen above the snap length is tolerated up to libpcap's hard cap; past it the record is
 * damage, not data. caplen above the original length is tolerated too (some writers do it).
 */
import type { ChunkedInput } from './input.js';
import { CaptureError, type CaptureInterface, MAX_RECORD_CAPLEN, PacketRecord, type RecordSource } from '../model/record.js';
import { MICROSECONDS, NANOSECONDS, type TsResolution } from './timestamp.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export interface PcapHeader {
  littleEndian: boolean;
  res: TsResolution;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
  fcsLen: number;
}

/** Parses the file header at input.start (24 bytes must be available). */
export function parsePcapHeader(b: Uint8Array, p: number): PcapHeader | null {
  const le = b[p] === 0xd4 || b[p] === 0x4d;
  const u32 = (o: number): number =>
    le
      ? (b[p + o]! | (b[p + o + 1]! << 8) | (b[p + o + 2]! << 16) | (b[p + o + 3]! << 24)) >>> 0
      : ((b[p + o]! << 24) | (b[p + o + 1]! << 16) | (b[p + o + 2]! << 8) | b[p + o + 3]!) >>> 0;
  const u16 = (o: number): number => (le ? b[p + o]! | (b[p + o + 1]! << 8) : (b[p + o]! << 8) | b[p + o + 1]!);
  const magic = u32(0);
  if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS) return null;
  const field = u32(20);
  return {
    littleEndian: le,
    res: magic === PCAP_MAGIC_NS ? NANOSECONDS : MICROSECONDS,
    versionMajor: u16(4),
    versionMinor: u16(6),
    snaplen: u32(16),
    linkType: field & 0xffff,
    fcsLen: field & 0x04000000 ? (field >>> 28) * 2 : 0,
  };
}

export class PcapReader implements RecordSource {
  readonly rec = new PacketRecord();
  error: CaptureError | null = null;
  frames = 0;
  private done = false;
  private readonly le: boolean;
  private readonly nsec: boolean;

  constructor(
    readonly input: string,
    private readonly inp: ChunkedInput,
    readonly header: PcapHeader,
    private readonly iface: CaptureInterface,
    inputIndex: number,
  ) {
    this.le = header.littleEndian;
    this.nsec = header.res === NANOSECONDS;
    this.rec.iface = iface;
    this.rec.inputIndex = inputIndex;
    inp.start += FILE_HEADER;
  }

  next(): boolean {
    if (this.done) return false;
    const inp = this.inp;
    if (!inp.ensure(RECORD_HEADER)) {
      if (inp.available > 0 || inp.failure !== null) {
        return this.damage(
          `record header cut short at end of file (${inp.available} of ${RECORD_HEADER} bytes) after ${this.frames} frames`,
          inp.start,
        );
      }
      this.done = true;
      return false;
    }
    let p = inp.start;
    const dv = inp.view;
    const le = this.le;
    let sec = dv.getUint32(p, le);
    let frac = dv.getUint32(p + 4, le);
    const caplen = dv.getUint32(p + 8, le);
    const orig = dv.getUint32(p + 12, le);
    if (caplen > MAX_RECORD_CAPLEN) {
      return this.damage(
        `record ${this.frames + 1} claims ${caplen} captured bytes, more than the ${MAX_RECORD_CAPLEN} any capture holds`,
        p,
      );
    }
    if (!inp.ensure(RECORD_HEADER + caplen)) {
      return this.damage(
        `record ${this.frames + 1} cut short at end of file (${inp.available - RECORD_HEADER} of ${caplen} bytes) after ${this.frames} frames`,
        inp.start,
      );
    }
    p = inp.start; // ensure() may have moved the bytes
    const rec = this.rec;
    const units = this.nsec ? 1e9 : 1e6;
    if (frac >= units) {
      // Some writers overflow the fraction (tcpdump's timestamp_invalid_* tests): carry it.
      sec += Math.floor(frac / units);
      frac %= units;
    }
    rec.tsSec = sec;
    rec.tsFrac = frac;
    rec.tsNsec = this.nsec ? frac : frac * 1000;
    rec.buf = inp.buf;
    rec.offset = p + RECORD_HEADER;
    rec.caplen = caplen;
    rec.origLen = orig;
    rec.inputFrame = ++this.frames;
    this.iface.frames++;
    inp.start = p + RECORD_HEADER + caplen;
    return true;
  }

  private damage(what: string, pos: number): false {
    // A read that failed looks like an early end of file: say what really happened.
    if (this.inp.failure !== null) what = `read failed (${this.inp.failure}) after ${this.frames} frames`;
    this.error = new CaptureError(this.input, what, this.inp.offsetOf(pos), 'pcap record', false, this.inp.compression);
    this.done = true;
    return false;
  }

  close(): void {
    this.inp.close();
  }
}
