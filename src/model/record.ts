/**
 * The record view every source hands on: one mutable object per source, refilled for each packet.
 * Nothing here is allocated per packet; `buf` is the reader's chunk and the packet is
 * `buf[offset, offset + caplen)`. A record is valid only until its source's next `next()` call.
 */

/** Direction of a frame relative to the capturing interface. 0 = not known. */
export type Direction = 0 | 1 | 2;
export const DIR_UNKNOWN: Direction = 0;
export const DIR_IN: Direction = 1;
export const DIR_OUT: Direction = 2;

/**
 * Who stamped a capture's frames, which bounds how far apart the copies of one frame can be stamped:
 *  - 'kernel': the kernel, as each frame passed the tap (libpcap, tcpdump, dumpcap, the AF_PACKET
 *    ring): copies are apart by the hops themselves;
 *  - 'arrival': a capture worker in user space, when it got the frame (cap's workers): the
 *    workers' scheduling is added, up to hundreds of ms on a loaded host.
 * A live session's backend says which; its `--write` file records it, so `analyze` of the file
 * groups the frames exactly as the session did.
 */
export type FrameStamps = 'kernel' | 'arrival';

/** libpcap caps a record at this size (MAXIMUM_SNAPLEN); past it the record is damaged, not big. */
export const MAX_RECORD_CAPLEN = 262144;

/** One capture interface: a pcapng IDB, a classic pcap file, a live handle, or an SLL2 ifindex. */
export interface CaptureInterface {
  /** Index in the InterfaceRegistry, unique across all inputs of a run. */
  readonly id: number;
  /** if_name, the file's stem for classic pcap (`eth1.pcap` → eth1), `NAME=PATH`, or `if#N`. */
  name: string;
  description: string | null;
  /** LINKTYPE_* value: pcapng IDB link type; classic pcap: low 16 bits of the header field (libpcap's LT_LINKTYPE). */
  linkType: number;
  /** Bytes of FCS at the end of each frame when the file says so (pcap 0x04000000 bit, if_fcslen), else 0. */
  fcsLen: number;
  snaplen: number;
  /** Decimal digits printed after the point for this interface's timestamps (6 for µs, 9 for ns). */
  tsDigits: number;
  /** Display name of the input this interface came from (path or "-"). */
  input: string;
  /** Index of the input in the run (0-based, order given on the command line). */
  inputIndex: number;
  /** pcapng section number within the input (0 for classic pcap and live). */
  section: number;
  /** Interface id local to the section (IDB order), or the live handle index. */
  localId: number;
  /** Frames seen on this interface so far. */
  frames: number;
  /** Drops the capture itself reported (pcapng ISB isb_ifdrop / epb_dropcount sums), or -1 if unknown. */
  drops: number;
  /** Drops the OS reported for this capture (pcapng ISB isb_osdrop), or -1 if unknown. */
  osDrops: number;
}

/**
 * Interfaces one run may define, all inputs together. A pcapng file can repeat IDBs without end
 * (32 bytes each): past this its reader stops with damage instead of holding them all.
 */
export const MAX_INTERFACES = 65536;

/** Interfaces of all inputs of one run, numbered in the order they appear. */
export class InterfaceRegistry {
  readonly list: CaptureInterface[] = [];

  add(init: Omit<CaptureInterface, 'id' | 'frames' | 'drops' | 'osDrops'>): CaptureInterface {
    // Built field by field: `{ ...init, id }` made a dictionary-mode object, 4x the memory and
    // 10x the time (100 000 IDBs: 1 s and 118 MB, now 0.1 s and 25 MB).
    const iface: CaptureInterface = {
      id: this.list.length,
      name: init.name,
      description: init.description,
      linkType: init.linkType,
      fcsLen: init.fcsLen,
      snaplen: init.snaplen,
      tsDigits: init.tsDigits,
      input: init.input,
      inputIndex: init.inputIndex,
      section: init.section,
      localId: init.localId,
      frames: 0,
      drops: -1,
      osDrops: -1,
    };
    this.list.push(iface);
    return iface;
  }
}

const EMPTY = new Uint8Array(0);

export class PacketRecord {
  /** Chunk holding the bytes; the packet is buf[offset, offset + caplen). */
  buf: Uint8Array = EMPTY;
  offset = 0;
  caplen = 0;
  /** Length of the packet on the wire. */
  origLen = 0;
  iface: CaptureInterface | null = null;
  /** Whole seconds since the epoch (after if_tsoffset). */
  tsSec = 0;
  /** Nanoseconds within the second (truncated where the resolution is finer). */
  tsNsec = 0;
  /** Fraction of the second in the interface's own units, exact (for printing at full resolution). */
  tsFrac = 0;
  direction: Direction = DIR_UNKNOWN;
  /** Raw pcapng epb_flags, 0 where absent. */
  epbFlags = 0;
  /** epb_dropcount, or -1 where absent. */
  dropCount = -1;
  /** Packet comment(s) joined by newline, or null. Allocated only when the file has one. */
  comment: string | null = null;
  /** 1-based number of this frame within its own input file (as Wireshark numbers it). */
  inputFrame = 0;
  /** Index of the input this record came from. */
  inputIndex = 0;
}

/**
 * Damage found in an input. `offset` is the byte offset in the file where the damage was found,
 * or, for a compressed file, in its decompressed data (`compression` says which).
 */
export class CaptureError extends Error {
  constructor(
    readonly input: string,
    readonly what: string,
    readonly offset: number,
    /** Block or record kind at the damage: "pcap file header", "record header", "EPB", "block type 0x…". */
    readonly where: string,
    /** True when nothing of the file could be read as a capture (exit code 2); false when frames before it were used (exit 1). */
    readonly unreadable: boolean,
    /** `gzip`, `zstd`: the offset is in the decompressed data. */
    readonly compression: string | null = null,
  ) {
    super(`${input}: ${what} at byte ${offset}${compression ? ` of the ${compression}-decompressed data` : ''} (${where})`);
    this.name = 'CaptureError';
  }
}

/** A stream of records. `next()` refills `rec`; returns false at the end or at damage (then `error` is set). */
export interface RecordSource {
  readonly input: string;
  readonly rec: PacketRecord;
  next(): boolean;
  readonly error: CaptureError | null;
  /** Frames read so far. */
  readonly frames: number;
  close(): void;
}
