/**
 * The monitor's memory of recent frames: one preallocated byte ring, bounded by bytes and by age,
 * so an evidence bundle can be written from the frames *before* a finding opened (the echo that
 * taught the bridge the wrong port came seconds before the unicast that was dropped). Nothing is
 * allocated per frame: each record is a fixed header and the frame's first `snap` bytes, copied in.
 *
 * Record layout (little-endian, 4-byte aligned): total length u32 (0 = wrap to the start), caplen
 * u32, original length u32, seconds u32, nanoseconds u32, interface index u16, direction u8, pad.
 */
import { PcapngWriter } from '../capture/pcapng-writer.js';
import type { Direction, PacketRecord } from '../model/record.js';

const HEADER = 24;
const WRAP = 0;

export interface RingOptions {
  /** Bytes of the ring (headers included). */
  bytes: number;
  /** Frames older than this, relative to the newest, are forgotten. */
  seconds: number;
  /** Bytes kept of each frame (the original length is kept too). */
  snap: number;
}

export const DEFAULT_RING: RingOptions = { bytes: 16 << 20, seconds: 120, snap: 1600 };

export class FrameRing {
  private readonly data: Buffer;
  private readonly view: DataView;
  /** Offset of the oldest record, and of the next write. head === tail: empty (tracked by count). */
  private head = 0;
  private tail = 0;
  private count = 0;
  /** Capture interfaces by name: records hold an index into this list. */
  readonly interfaces: { name: string; linkType: number }[] = [];
  private readonly ifaceIndex = new Map<string, number>();
  /** Frames ever kept, and those later pushed out by newer ones. */
  kept = 0;
  evicted = 0;

  constructor(readonly options: RingOptions = DEFAULT_RING) {
    if (options.bytes % 4 !== 0 || options.bytes < 4 * (HEADER + options.snap)) throw new RangeError(`a frame ring of ${options.bytes} bytes is too small`);
    this.data = Buffer.alloc(options.bytes);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  get frames(): number {
    return this.count;
  }

  /** Bytes in use (records and the wrap gap). */
  get used(): number {
    if (this.count === 0) return 0;
    return this.tail > this.head ? this.tail - this.head : this.data.length - this.head + this.tail;
  }

  push(rec: PacketRecord): void {
    const name = rec.iface!.name;
    let ifi = this.ifaceIndex.get(name);
    if (ifi === undefined) {
      if (this.interfaces.length >= 0xffff) return;
      ifi = this.interfaces.length;
      this.interfaces.push({ name, linkType: rec.iface!.linkType });
      this.ifaceIndex.set(name, ifi);
    }
    const caplen = Math.min(rec.caplen, this.options.snap);
    const size = (HEADER + caplen + 3) & ~3;
    const len = this.data.length;
    // Wrap when the record does not fit before the end: records still between the oldest and the
    // end are older than everything at the start, so they go first; a zero length marks the jump.
    if (this.tail + size > len) {
      while (this.count > 0 && this.head >= this.tail) this.dropOldest();
      if (len - this.tail >= 4) this.view.setUint32(this.tail, WRAP, true);
      this.tail = 0;
      if (this.count === 0) this.head = 0;
    }
    // Free space at the tail runs to the oldest record when that lies ahead (or the ring is full).
    while (this.count > 0 && this.head >= this.tail && this.tail + size > this.head) this.dropOldest();
    const at = this.tail;
    const v = this.view;
    v.setUint32(at, size, true);
    v.setUint32(at + 4, caplen, true);
    v.setUint32(at + 8, rec.origLen, true);
    v.setUint32(at + 12, rec.tsSec, true);
    v.setUint32(at + 16, rec.tsNsec, true);
    v.setUint16(at + 20, ifi, true);
    v.setUint8(at + 22, rec.direction);
    this.data.set(rec.buf.subarray(rec.offset, rec.offset + caplen), at + HEADER);
    if (this.count === 0) this.head = at;
    this.tail = at + size;
    if (this.tail === this.data.length) this.tail = 0;
    this.count++;
    this.kept++;
    // Age: the oldest goes once it is older than the window, measured from this frame.
    while (this.count > 1 && rec.tsSec - this.view.getUint32(this.head + 12, true) > this.options.seconds) this.dropOldest();
  }

  private dropOldest(): void {
    const len = this.view.getUint32(this.head, true);
    this.head += len;
    if (this.data.length - this.head < 4 || this.view.getUint32(this.head, true) === WRAP) this.head = 0;
    this.count--;
    this.evicted++;
    if (this.count === 0) this.head = this.tail;
  }

  /** Calls fn for every kept frame at or after `fromSec`, oldest first. */
  forEach(fromSec: number, fn: (ifi: number, sec: number, nsec: number, bytes: Uint8Array, origLen: number, dir: Direction) => void): void {
    let at = this.head;
    for (let i = 0; i < this.count; i++) {
      if (this.data.length - at < 4 || this.view.getUint32(at, true) === WRAP) at = 0;
      const v = this.view;
      const size = v.getUint32(at, true);
      const sec = v.getUint32(at + 12, true);
      if (sec >= fromSec) {
        const caplen = v.getUint32(at + 4, true);
        fn(v.getUint16(at + 20, true), sec, v.getUint32(at + 16, true), this.data.subarray(at + HEADER, at + HEADER + caplen), v.getUint32(at + 8, true), v.getUint8(at + 22) as Direction);
      }
      at += size;
    }
  }

  /** Writes the frames since `fromSec` as pcapng (0600), one interface block per interface seen; returns how many. */
  writePcapng(path: string, fromSec: number, sectionComment: string, userappl: string): number {
    const w = new PcapngWriter(path, { comment: sectionComment, userappl, os: 'Linux' });
    let n = 0;
    try {
      const ids = this.interfaces.map((i) => w.addInterface({ name: i.name, linkType: i.linkType, snaplen: this.options.snap }));
      this.forEach(fromSec, (ifi, sec, nsec, bytes, origLen, dir) => {
        w.writePacket(ids[ifi]!, sec, nsec, bytes, 0, bytes.length, origLen, { direction: dir });
        n++;
      });
    } finally {
      w.close();
    }
    return n;
  }
}
