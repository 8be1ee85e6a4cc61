/**
 * The capture stage's public surface for files (live capture lives in live*.ts).
 *
 *   const source = openCapture(['eth0.pcap', 'bond0=/tmp/x.pcap', 'all.pcapng', '-']);
 *   while (source.next()) use(source.rec);   // rec: a view into the reader's buffer, valid until the next next()
 *   source.errors      // CaptureError per damaged or unreadable input (after next() returned false)
 *   source.warnings    // non-fatal oddities (malformed pcapng options); the packets were used
 *   source.registry    // every interface seen (pcapng IDBs, one per classic pcap), with frames/drops
 *   source.frames      // frames handed out so far
 *   source.close()     // only when stopping early; reaching the end closes every input
 *
 * Inputs. A spec is a path, `-` for stdin, or NAME=PATH. gzip- and zstd-compressed files (and
 * stdin) are read as the capture they hold, recognised by their first bytes (decompress.ts). A classic pcap's interface is named
 * after the file's stem (`/x/eth1.pcap` → eth1, `capture.pcap.pcapng` → capture.pcap), or NAME
 * when given as NAME=PATH (split only when NAME looks like an interface name and the whole spec
 * is not an existing file). pcapng interfaces carry their if_name; an IDB without one takes its
 * if_description (the first IDB of the file with it), else `stem#N` (N: the IDB's number in the
 * file, sections counted on), or the stem when it is the file's only interface. Stdin is
 * shown as "stdin" in messages and names its interface "stdin" unless given as NAME=-.
 *
 * Records. `rec` (PacketRecord) holds buf/offset/caplen/origLen, tsSec/tsNsec/tsFrac (tsFrac in
 * the interface's own units, printed with iface.tsDigits digits: formatTimestamp), direction and
 * epbFlags, dropCount, comment (null unless the file has one), inputIndex and inputFrame (1-based
 * number of the frame within its own file, counting packet blocks only, as Wireshark does).
 * Nothing is allocated per record; the merged `rec` is the chosen input's own record object.
 *
 * Timeline. Several inputs are merged by (tsSec, tsNsec), ties going to the earlier input on the
 * command line; each input is assumed to be in time order itself (as captures are). With one
 * input there is no merge step. SPB packets carry no timestamp and sort as time 0.
 *
 * Buffers. Each input reads into one reusable buffer (512 KiB, less for small files, 256 KiB at
 * least when hundreds of inputs share a 64 MiB budget), grown only for a single larger block,
 * never past 16 MiB.
 *
 * Damage. An input that cannot be read at all is reported in `errors` (unreadable: true) and the
 * others are still read. An input damaged part way stops at the damage: its earlier frames were
 * delivered, `errors` gets one CaptureError (unreadable: false) naming file, what, byte offset and
 * block type; the CLI prefixes "bondscope: ".
 */
import { existsSync, fstatSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { compressionOf, DecompressingSource, unreadCompression } from './decompress.js';
import { ChunkedInput, DEFAULT_CHUNK, FdSource } from './input.js';
import { parsePcapHeader, PcapReader } from './pcap.js';
import { BT_SHB, PcapngReader } from './pcapng.js';
import { CaptureError, InterfaceRegistry, PacketRecord, type RecordSource } from '../model/record.js';

export { CaptureError, InterfaceRegistry, MAX_INTERFACES, MAX_RECORD_CAPLEN, PacketRecord } from '../model/record.js';
export type { CaptureInterface, Direction, RecordSource } from '../model/record.js';
export { DIR_IN, DIR_OUT, DIR_UNKNOWN } from '../model/record.js';
export { formatTimestamp } from './timestamp.js';
export { PcapngWriter } from './pcapng-writer.js';

export interface InputSpec {
  /** What the user typed, minus any NAME= prefix; "-" for stdin. */
  path: string;
  /** Interface name for a classic pcap (and for pcapng interfaces without if_name). */
  name: string;
  /** How messages name this input: the path, or "stdin". */
  display: string;
}

const IFNAME = /^[A-Za-z0-9_.:@#-]{1,32}$/;
const CAPTURE_EXT = /\.(pcapng|pcap|cap|dmp|ntar)(\.(gz|zst|zstd))?$/i;

/** `eth1.pcap` → eth1; `bond0=/x/y.pcap` → bond0 (unless the whole spec is an existing file). */
export function parseInputSpec(spec: string): InputSpec {
  const eq = spec.indexOf('=');
  if (eq > 0 && eq < spec.length - 1 && IFNAME.test(spec.slice(0, eq)) && !existsSync(spec)) {
    const path = spec.slice(eq + 1);
    return { path, name: spec.slice(0, eq), display: path === '-' ? 'stdin' : path };
  }
  if (spec === '-') return { path: '-', name: 'stdin', display: 'stdin' };
  const stem = basename(spec).replace(CAPTURE_EXT, '');
  return { path: spec, name: stem || basename(spec), display: spec };
}

function hex(b: Uint8Array, from: number, n: number): string {
  return Array.from(b.subarray(from, from + n), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Smallest read buffer, for small files. */
const SMALL_CHUNK = 64 << 10;

/** Formats people hand us instead of a capture, recognised by their first bytes. */
function otherFormat(b: Uint8Array, n: number): string | null {
  const at = (s: number[]): boolean => s.every((x, i) => i < n && b[i] === x);
  const compressed = unreadCompression(b, n);
  if (compressed !== null) return compressed;
  if (at([0x73, 0x6e, 0x6f, 0x6f, 0x70, 0, 0, 0])) return 'a Solaris snoop file, not pcap (convert it with editcap -F pcap)';
  if (at([0xa1, 0xb2, 0xcd, 0x34]) || at([0x34, 0xcd, 0xb2, 0xa1])) return 'a "modified" (Kuznetzov) pcap, not supported (convert it with editcap -F pcap)';
  return null;
}

/** Opens one input and recognises its format; throws an unreadable CaptureError when it is not a capture. */
function openInput(spec: InputSpec, registry: InterfaceRegistry, inputIndex: number, chunkBytes = DEFAULT_CHUNK): RecordSource {
  const display = spec.display;
  let fd: number;
  try {
    fd = spec.path === '-' ? 0 : openSync(spec.path, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new CaptureError(display, `cannot open: ${why}`, 0, 'file', true);
  }
  // A regular file smaller than the chunk gets a buffer its size (many small inputs, tests);
  // pipes and large files get the whole chunk.
  let size = -1;
  try {
    const st = fstatSync(fd);
    if (st.isFile()) size = st.size;
  } catch {
    // Not statable (odd fds): use the chunk as given.
  }
  const owned = spec.path !== '-';
  let inp = new ChunkedInput(new FdSource(fd, owned), size >= 0 ? Math.max(SMALL_CHUNK, Math.min(chunkBytes, size)) : chunkBytes);
  // 24 bytes: a whole pcap header, or enough of an SHB to tell; shorter inputs are judged below.
  inp.ensure(24);
  const compression = inp.failure === null ? compressionOf(inp.buf, inp.available) : null;
  if (compression !== null) {
    // The same input through a decompressor (a file opened again by it; stdin read on after the
    // bytes taken so far). A compressed file is several times smaller than what it holds, so it
    // gets the whole chunk.
    const prefix = inp.takeUnread();
    inp.close();
    inp = new ChunkedInput(new DecompressingSource(compression, owned ? spec.path : null, prefix), chunkBytes);
    inp.ensure(24);
  }
  return readerOn(inp, display, spec.name, registry, inputIndex, spec.path === '-');
}

/**
 * The reader for the capture on `inp` (its first 24 bytes ensured), recognised by its first bytes
 * as openInput does for files: a pcapng or classic pcap reader, or an unreadable CaptureError
 * saying what it is instead. Also for bytes that do not come from a file (a capture streamed over
 * ssh). `name` names a classic pcap's interface.
 */
export function readerOn(inp: ChunkedInput, display: string, name: string, registry: InterfaceRegistry, inputIndex: number, stdin = false): RecordSource {
  const compression = inp.compression;
  const fail = (what: string, where: string): never => {
    inp.close();
    throw new CaptureError(display, what, 0, where, true, compression);
  };
  if (inp.failure !== null) fail(`cannot read: ${inp.failure}`, 'file');
  const b = inp.buf;
  const n = inp.available;
  const empty = compression ? `${compression}-compressed, but empty inside` : stdin ? 'no input on stdin' : 'empty file';
  if (n === 0) fail(`${empty}, no capture header`, 'file header');
  const first = n >= 4 ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0 : -1;
  if (first === BT_SHB) return new PcapngReader(display, inp, registry, inputIndex, name);
  if (first === 0xa1b2c3d4 || first === 0xd4c3b2a1 || first === 0xa1b23c4d || first === 0x4d3cb2a1) {
    if (n < 24) fail(`pcap file header cut short (${n} of 24 bytes)`, 'pcap file header');
    const header = parsePcapHeader(b, 0)!;
    if (header.versionMajor !== 2) fail(`pcap version ${header.versionMajor}.${header.versionMinor} is not 2.x`, 'pcap file header');
    const iface = registry.add({
      name,
      description: null,
      linkType: header.linkType,
      fcsLen: header.fcsLen,
      snaplen: header.snaplen,
      tsDigits: header.res.digits,
      input: display,
      inputIndex,
      section: 0,
      localId: 0,
    });
    return new PcapReader(display, inp, header, iface, inputIndex);
  }
  const start = hex(b, 0, Math.min(16, n));
  const inside = compression ? `${compression}-compressed, but ` : '';
  if (compression && compressionOf(b, n)) fail(`${inside}compressed again inside (starts ${start}): decompress it once, then give bondscope the file`, 'file header');
  const other = otherFormat(b, n);
  if (other !== null) fail(`${inside}${other} (starts ${start})`, 'file header');
  if (n < 4) fail(`${inside || 'file '}too short for a capture header (${n} bytes: ${start})`, 'file header');
  return fail(`${inside}not a pcap or pcapng file (starts ${start})`, 'file header');
}

/** Total read-buffer budget when many inputs are merged: each gets a share, 256 KiB at least. */
const MERGE_BUDGET = 64 << 20;
const MIN_CHUNK = 256 << 10;

/** All inputs of a run, merged into one timeline. */
export class CaptureSet {
  readonly registry: InterfaceRegistry;
  /** One per damaged or unreadable input; damage found while reading is added when next() returns false. */
  readonly errors: CaptureError[] = [];
  /** Non-fatal oddities (malformed options): the packets were still used. */
  readonly warnings: CaptureError[] = [];
  /** The inputs that could be opened, in command-line order. */
  readonly sources: RecordSource[] = [];
  /** The current record: the chosen input's own record object, valid until the next next(). */
  rec: PacketRecord = new PacketRecord();
  /** Frames handed out so far, all inputs together. */
  frames = 0;
  /** Binary min-heap of source indices with a pending record, keyed by (tsSec, tsNsec, index). */
  private readonly heap: Int32Array;
  private heapSize = 0;
  private started = false;
  private collected = false;

  constructor(specs: string[], registry = new InterfaceRegistry()) {
    this.registry = registry;
    const chunk = Math.max(MIN_CHUNK, Math.min(DEFAULT_CHUNK, Math.floor(MERGE_BUDGET / Math.max(1, specs.length))));
    specs.forEach((s, i) => {
      try {
        this.sources.push(openInput(parseInputSpec(s), registry, i, chunk));
      } catch (err) {
        if (!(err instanceof CaptureError)) throw err;
        this.errors.push(err);
      }
    });
    this.heap = new Int32Array(this.sources.length);
  }

  /**
   * After the end: no frame was read and no input could be read as a capture (each one missing,
   * foreign or damaged before its first frame). Then nothing is a result: commands print no
   * report, table or JSON, only the inputs' errors.
   */
  get nothingRead(): boolean {
    return this.frames === 0 && this.errors.length > 0 && this.sources.every((s) => s.error !== null);
  }

  /** Section comments of pcapng inputs (live mode's recorded topology lives there). */
  get sectionComments(): string[] {
    return this.sources.flatMap((s) => (s instanceof PcapngReader ? s.sectionComments : []));
  }

  next(): boolean {
    if (this.collected) return false;
    const sources = this.sources;
    if (sources.length === 1) {
      const s = sources[0]!;
      if (!s.next()) return this.finish();
      this.rec = s.rec;
      this.frames++;
      return true;
    }
    const heap = this.heap;
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < sources.length; i++) {
        if (sources[i]!.next()) this.push(i);
      }
    } else if (this.heapSize > 0) {
      // Advance the input whose record was handed out last (the heap's top).
      if (sources[heap[0]!]!.next()) this.siftDown(0);
      else {
        heap[0] = heap[--this.heapSize]!;
        if (this.heapSize > 0) this.siftDown(0);
      }
    }
    if (this.heapSize === 0) return this.finish();
    this.rec = sources[heap[0]!]!.rec;
    this.frames++;
    return true;
  }

  /** Whether input a's pending record comes before input b's. */
  private before(a: number, b: number): boolean {
    const ra = this.sources[a]!.rec;
    const rb = this.sources[b]!.rec;
    if (ra.tsSec !== rb.tsSec) return ra.tsSec < rb.tsSec;
    if (ra.tsNsec !== rb.tsNsec) return ra.tsNsec < rb.tsNsec;
    return a < b;
  }

  private push(i: number): void {
    const heap = this.heap;
    let at = this.heapSize++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(i, heap[parent]!)) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = i;
  }

  private siftDown(from: number): void {
    const heap = this.heap;
    const size = this.heapSize;
    const item = heap[from]!;
    let at = from;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && this.before(heap[child + 1]!, heap[child]!)) child++;
      if (!this.before(heap[child]!, item)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = item;
  }

  private finish(): false {
    if (!this.collected) {
      this.collected = true;
      for (const s of this.sources) {
        if (s.error) this.errors.push(s.error);
        if (s instanceof PcapngReader) this.warnings.push(...s.warnings);
        s.close();
      }
    }
    return false;
  }

  /** Closes every input early (a consumer that stops before the end); errors found so far are collected. */
  close(): void {
    this.finish();
  }
}

/** Opens every spec (paths, `-`, NAME=PATH) as one merged source. Never throws for bad input. */
export function openCapture(specs: string[], registry?: InterfaceRegistry): CaptureSet {
  return new CaptureSet(specs, registry);
}
