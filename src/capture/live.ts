/**
 * Live capture with the `cap` package (libpcap), feeding the same PacketRecord view the file readers
 * hand on. What cap 0.2.1 does and does not do shapes this module:
 *
 *  - it copies each packet into the one Buffer given to open() and keeps no reference to it: the
 *    Buffer must stay referenced for the handle's life or the heap is corrupted, so each Handle
 *    holds its own;
 *  - no timestamps: frames are stamped on arrival with a monotonic clock anchored to wall time;
 *  - no direction: each interface gets two handles, one with the BPF filter `inbound` and one with
 *    `outbound` (Linux packet sockets know the direction), so every frame's direction is exact;
 *  - no drop counters, snaplen fixed at 65535, promiscuous;
 *  - the packet event fires synchronously inside pcap_dispatch: the record is valid only during
 *    the callback, exactly like a file record until the next `next()`.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { DIR_IN, DIR_OUT, InterfaceRegistry, PacketRecord, type CaptureInterface, type Direction } from './record.js';

/** The part of cap's Cap class bondscope uses. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  setMinBytes?(n: number): void;
  on(event: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
  send(buffer: Buffer, size?: number): void;
  close(): void;
}
interface CapModule {
  Cap: new () => CapHandle;
  deviceList(): { name: string }[];
}

/** Why live capture cannot start, in words that say how to fix it. */
export class LiveCaptureError extends Error {
  override name = 'LiveCaptureError';
}

let capModule: CapModule | null | undefined;

/** Loads `cap` once; it is an optional dependency (it needs libpcap-dev to build). */
export function loadCap(): CapModule {
  if (capModule === undefined) {
    try {
      capModule = createRequire(import.meta.url)('cap') as CapModule;
    } catch {
      capModule = null;
    }
  }
  if (!capModule) {
    throw new LiveCaptureError(
      'live capture needs the `cap` module, which is not built here (it needs libpcap): run `apt-get install libpcap-dev && npm rebuild cap` (offline analysis works without it)',
    );
  }
  return capModule;
}

/** libpcap's DLT for the strings cap returns from open(). */
function linkTypeOf(capName: string): number {
  switch (capName) {
    case 'ETHERNET':
      return 1;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'RAW':
      return 101;
    case 'NULL':
      return 0;
    case 'IEEE802_11_RADIO':
      return 127;
  }
  const m = /Unknown linktype (\d+)/.exec(capName);
  return m ? Number(m[1]) : -1;
}

/** libpcap's error for a handle that could not open, in plain words. */
function explainOpenError(device: string, message: string): string {
  if (/permission|Operation not permitted/i.test(message)) return `${device}: capturing needs root (or CAP_NET_RAW and CAP_NET_ADMIN): ${message}`;
  if (/No such device|doesn't exist/i.test(message)) return `${device}: no such interface (${message})`;
  if (/syntax error|parse error|illegal|unknown/i.test(message)) return `--filter: libpcap cannot compile it: ${message}`;
  if (/not up/i.test(message)) return `${device}: the interface is down (${message})`;
  return `${device}: ${message}`;
}

const SNAPLEN = 65535;
export const DEFAULT_BUFFER_BYTES = 16 << 20;

class Handle {
  readonly cap: CapHandle;
  /** Referenced for the handle's whole life: cap writes into it from C. */
  readonly buffer = Buffer.alloc(SNAPLEN);
  readonly bytes: Uint8Array;
  open = true;
  constructor(
    mod: CapModule,
    readonly iface: CaptureInterface,
    readonly direction: Direction,
  ) {
    this.cap = new mod.Cap();
    this.bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }
}

export interface LiveOptions {
  interfaces: string[];
  /** A BPF filter applied on every interface (combined with the direction filter). */
  filter?: string;
  /**
   * Kernel ring per handle, bytes (default 16 MiB). cap fixes the snaplen at 65535, and in
   * immediate mode libpcap gives each frame a slot of that size: 8 MiB holds only ~120 frames, and
   * a burst longer than that between two polls is dropped (measured: 5% lost at 10k frames/s with
   * 8 MiB, none with 64 MiB).
   */
  bufferSize?: number;
}

export interface LiveEvents {
  /** Called synchronously for each frame; the record is valid only during the call. */
  onPacket(rec: PacketRecord): void;
  /** An interface stopped (removed or down); capture goes on on the rest. */
  onInterfaceGone?(name: string, why: string): void;
}

/**
 * One live capture on several interfaces. Frames are numbered in arrival order across all of
 * them (as the one pcapng file `--write` records), so evidence frame numbers match that file.
 */
export class LiveCapture {
  readonly registry = new InterfaceRegistry();
  readonly rec = new PacketRecord();
  private readonly handles: Handle[] = [];
  private frames = 0;
  /** Wall time (ns since the epoch) at hrtime zero: frames are stamped anchor + hrtime. */
  private readonly anchorNs: bigint;
  private watch: NodeJS.Timeout | null = null;
  readonly startedAt: number;

  constructor(
    private readonly options: LiveOptions,
    private readonly events: LiveEvents,
    private readonly sysRoot = '/',
  ) {
    this.anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.startedAt = Date.now() / 1000;
  }

  /** Opens every handle (as root); throws LiveCaptureError naming the interface on failure. */
  start(): void {
    const mod = loadCap();
    const user = this.options.filter?.trim();
    for (const name of this.options.interfaces) {
      const iface = this.registry.add({ name, description: null, linkType: 1, fcsLen: 0, snaplen: SNAPLEN, tsDigits: 9, input: `live:${name}`, inputIndex: 0, section: 0, localId: this.registry.list.length });
      for (const direction of [DIR_IN, DIR_OUT] as Direction[]) {
        const h = new Handle(mod, iface, direction);
        const dirFilter = direction === DIR_IN ? 'inbound' : 'outbound';
        const filter = user ? `(${user}) and ${dirFilter}` : dirFilter;
        let capName: string;
        try {
          capName = h.cap.open(name, filter, this.options.bufferSize ?? DEFAULT_BUFFER_BYTES, h.buffer);
        } catch (err) {
          this.stop();
          throw new LiveCaptureError(explainOpenError(name, (err as Error).message));
        }
        iface.linkType = linkTypeOf(capName);
        h.cap.setMinBytes?.(0);
        h.cap.on('packet', (nbytes) => this.deliver(h, nbytes));
        this.handles.push(h);
      }
    }
    // An interface removed while capturing: libpcap's fd just errors; notice it and carry on.
    this.watch = setInterval(() => this.checkInterfaces(), 1000);
    this.watch.unref();
  }

  private deliver(h: Handle, nbytes: number): void {
    const rec = this.rec;
    const now = this.anchorNs + process.hrtime.bigint();
    rec.buf = h.bytes;
    rec.offset = 0;
    rec.caplen = nbytes;
    rec.origLen = nbytes;
    rec.iface = h.iface;
    rec.tsSec = Number(now / 1_000_000_000n);
    rec.tsNsec = Number(now % 1_000_000_000n);
    rec.tsFrac = rec.tsNsec;
    rec.direction = h.direction;
    rec.epbFlags = h.direction;
    rec.inputFrame = ++this.frames;
    rec.inputIndex = 0;
    h.iface.frames++;
    this.events.onPacket(rec);
  }

  private checkInterfaces(): void {
    for (const h of this.handles) {
      if (!h.open || h.direction !== DIR_IN) continue;
      const name = h.iface.name;
      if (name === 'any' || existsSync(`${this.sysRoot}sys/class/net/${name}`)) continue;
      for (const other of this.handles) if (other.iface === h.iface) this.closeHandle(other);
      this.events.onInterfaceGone?.(name, 'the interface was removed');
    }
  }

  private closeHandle(h: Handle): void {
    if (!h.open) return;
    h.open = false;
    try {
      h.cap.close();
    } catch {
      /* already gone */
    }
  }

  get framesCaptured(): number {
    return this.frames;
  }

  /** Interfaces still capturing. */
  get active(): string[] {
    return [...new Set(this.handles.filter((h) => h.open).map((h) => h.iface.name))];
  }

  stop(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    for (const h of this.handles) this.closeHandle(h);
  }
}

/** Sends raw frames out of one interface (the active probe). Keeps its buffers referenced like capture. */
export class RawSender {
  private readonly cap: CapHandle;
  private readonly buffer = Buffer.alloc(SNAPLEN);
  constructor(readonly device: string) {
    const mod = loadCap();
    this.cap = new mod.Cap();
    try {
      // A filter that matches nothing: this handle only sends.
      this.cap.open(device, 'less 1', 1 << 16, this.buffer);
    } catch (err) {
      throw new LiveCaptureError(explainOpenError(device, (err as Error).message));
    }
  }
  send(frame: Uint8Array): void {
    const b = Buffer.from(frame);
    this.cap.send(b, b.length);
  }
  close(): void {
    try {
      this.cap.close();
    } catch {
      /* already closed */
    }
  }
}
