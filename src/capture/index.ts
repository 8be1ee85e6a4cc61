/**
 * The capture stage's public surface for files.
 *
 *   const source = openCapture(['eth0.pcap', 'bond0=/tmp/x.pcap', 'all.pcapng', '-']);
 *   while (source.next()) use(source.rec);        // rec is a view, valid until the next next()
 *   source.errors                                  // damage per input (CaptureError), if any
 *
 * Several inputs are merged into one timeline by timestamp (stable by input order on ties).
 * A classic pcap file's interface is named after the file (`eth1.pcap` → eth1) unless given as
 * NAME=PATH; pcapng interfaces carry their if_name. An input that cannot be read at all is
 * reported in `errors` and the others are still read.
 */
import { existsSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { ChunkedInput } from './input.js';
import { parsePcapHeader, PcapReader } from './pcap.js';
import { BT_SHB, PcapngReader } from './pcapng.js';
import { CaptureError, InterfaceRegistry, type PacketRecord, type RecordSource } from './record.js';

export { CaptureError, InterfaceRegistry, PacketRecord } from './record.js';
export type { CaptureInterface, Direction, RecordSource } from './record.js';
export { DIR_IN, DIR_OUT, DIR_UNKNOWN } from './record.js';
export { formatTimestamp } from './timestamp.js';
export { PcapngWriter } from './pcapng-writer.js';

export interface InputSpec {
  /** What the user typed, minus any NAME= prefix; "-" for stdin. */
  path: string;
  /** Interface name for a classic pcap (and for pcapng interfaces without if_name). */
  name: string;
}

const IFNAME = /^[A-Za-z0-9_.:@#-]{1,32}$/;
const CAPTURE_EXT = /\.(pcapng|pcap|cap|dmp|ntar)$/i;

/** `eth1.pcap` → eth1; `bond0=/x/y.pcap` → bond0 (unless the whole thing is an existing file). */
export function parseInputSpec(spec: string): InputSpec {
  const eq = spec.indexOf('=');
  if (eq > 0 && IFNAME.test(spec.slice(0, eq)) && !existsSync(spec)) {
    return { path: spec.slice(eq + 1), name: spec.slice(0, eq) };
  }
  if (spec === '-') return { path: '-', name: 'stdin' };
  const stem = basename(spec).replace(CAPTURE_EXT, '');
  return { path: spec, name: stem || basename(spec) };
}

function hex(b: Uint8Array, from: number, n: number): string {
  return Array.from(b.subarray(from, from + n), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Opens one input and recognises its format; throws an unreadable CaptureError when it is not a capture. */
export function openInput(spec: InputSpec, registry: InterfaceRegistry, inputIndex: number): RecordSource & { sectionComments?: string[] } {
  const display = spec.path === '-' ? '-' : spec.path;
  let fd: number;
  try {
    fd = spec.path === '-' ? 0 : openSync(spec.path, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new CaptureError(display, `cannot open: ${why}`, 0, 'file', true);
  }
  const inp = new ChunkedInput(fd, spec.path !== '-');
  const fail = (what: string, where: string): never => {
    inp.close();
    throw new CaptureError(display, what, 0, where, true);
  };
  try {
    if (!inp.ensure(4)) {
      if (inp.available === 0) fail('empty file, no capture header', 'file header');
      fail(`file too short for a capture header (${inp.available} bytes)`, 'file header');
    }
  } catch (err) {
    if (err instanceof CaptureError) throw err;
    const e = err as NodeJS.ErrnoException;
    fail(`cannot read: ${e.code === 'EISDIR' ? 'is a directory' : e.message}`, 'file');
  }
  const b = inp.buf;
  const first = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  if (first === BT_SHB) {
    return new PcapngReader(display, inp, registry, inputIndex, spec.name);
  }
  const pcapMagic = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(first);
  if (pcapMagic) {
    if (!inp.ensure(24)) fail(`pcap file header cut short (${inp.available} of 24 bytes)`, 'pcap file header');
    const header = parsePcapHeader(inp.buf, 0)!;
    if (header.versionMajor !== 2) fail(`pcap version ${header.versionMajor}.${header.versionMinor} is not 2.x`, 'pcap file header');
    const iface = registry.add({
      name: spec.name,
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
  inp.ensure(16);
  const start = hex(inp.buf, 0, Math.min(16, inp.available));
  if (b[0] === 0x1f && b[1] === 0x8b) fail(`compressed with gzip, decompress it first (starts ${start})`, 'file header');
  if (first === 0x0a0d0d0a) fail('pcapng section header in the wrong byte order', 'file header');
  return fail(`not a pcap or pcapng file (starts ${start})`, 'file header');
}

/** All inputs of a run, merged into one timeline. */
export class CaptureSet {
  readonly registry: InterfaceRegistry;
  /** One per damaged or unreadable input. */
  readonly errors: CaptureError[] = [];
  /** Non-fatal oddities (malformed options): the packets were still used. */
  readonly warnings: CaptureError[] = [];
  readonly sources: RecordSource[] = [];
  /** The current record: a view into one input's buffer, valid until the next next(). */
  rec!: PacketRecord;
  frames = 0;
  private readonly pending: boolean[] = [];
  private current = 0;
  private started = false;
  private collected = false;

  constructor(specs: string[], registry = new InterfaceRegistry()) {
    this.registry = registry;
    specs.forEach((s, i) => {
      try {
        this.sources.push(openInput(parseInputSpec(s), registry, i));
      } catch (err) {
        if (!(err instanceof CaptureError)) throw err;
        this.errors.push(err);
      }
    });
  }

  /** Section comments of pcapng inputs (live mode's recorded topology lives there). */
  get sectionComments(): string[] {
    return this.sources.flatMap((s) => (s instanceof PcapngReader ? s.sectionComments : []));
  }

  next(): boolean {
    const sources = this.sources;
    if (sources.length === 1) {
      const s = sources[0]!;
      if (!s.next()) return this.finish();
      this.rec = s.rec;
      this.frames++;
      return true;
    }
    if (!this.started) {
      this.started = true;
      for (const s of sources) this.pending.push(s.next());
    } else {
      // Advance the input whose record was handed out last.
      this.pending[this.current] = sources[this.current]!.next();
    }
    let best = -1;
    let bestSec = 0;
    let bestNsec = 0;
    for (let i = 0; i < sources.length; i++) {
      if (!this.pending[i]) continue;
      const r = sources[i]!.rec;
      if (best < 0 || r.tsSec < bestSec || (r.tsSec === bestSec && r.tsNsec < bestNsec)) {
        best = i;
        bestSec = r.tsSec;
        bestNsec = r.tsNsec;
      }
    }
    if (best < 0) return this.finish();
    this.current = best;
    this.rec = sources[best]!.rec;
    this.frames++;
    return true;
  }

  private finish(): false {
    if (this.sources.length && !this.collected) {
      this.collected = true;
      for (const s of this.sources) {
        if (s.error) this.errors.push(s.error);
        if (s instanceof PcapngReader) this.warnings.push(...s.warnings);
        s.close();
      }
    }
    return false;
  }
}

export function openCapture(specs: string[], registry?: InterfaceRegistry): CaptureSet {
  return new CaptureSet(specs, registry);
}
