/**
 * Live capture through one TPACKET_V3 ring for the whole host (the `ring` backend, see
 * ../live-backend.ts). The main thread opens the ring as root (socket, filter, ring, promiscuous
 * membership), starts the reader worker (ring-worker.ts), and once privileges are dropped lets it
 * read. Blocks arrive here with an index of the frames that count; each frame is handed on as the
 * one PacketRecord, a view on the block: nothing is allocated per frame.
 *
 * Facts each frame carries from the kernel: its interface (ifindex), its direction (sll_pkttype:
 * PACKET_OUTGOING or not), its timestamp in nanoseconds from one clock for every interface, its
 * captured and original length, its VLAN tag. Drops: PACKET_STATISTICS read every second and
 * summed (reading it resets it), and the frames the worker dropped because this thread fell behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../model/package.js';
import { InterfaceRegistry, PacketRecord, type CaptureInterface, type Direction } from '../../model/record.js';
import { LiveCaptureError, type CaptureDrops, type LiveBackend, type LiveEvents, type LiveOptions } from '../live-types.js';
import { INDEX_STRIDE, IX_CAPLEN, IX_DIR, IX_IFINDEX, IX_LEN, IX_NSEC, IX_OFFSET, IX_SEC } from './block.js';
import { loadRing, type RingNative } from './native.js';
import { SH_BACKLOG, SH_BLOCK_ERRORS, SH_INTERNAL_DROPS, SH_SLOTS, SH_STOP, type RingWorkerData, type WorkerMessage } from './protocol.js';

/** The ring's block: 1 MiB holds a 64 KiB GRO frame and a few thousand ordinary ones. */
export const RING_BLOCK = 1 << 20;
/** Default ring: 64 MiB, about two seconds of 100 000 frames/s of 300 bytes. */
export const RING_DEFAULT_BYTES = 64 << 20;
/** tp_frame_size: only checked by the kernel for V3 (frames are packed), kept small. */
const RING_FRAME = 2048;
/** A block that is not full is handed over after this long: frames reach the engine within it. */
export const RING_RETIRE_MS = 4;
export const RING_SNAPLEN = 65535;
/** Block copies going round between the reader and this thread (16 MiB): past them, blocks wait in the ring. */
const RING_BUFFERS = 16;

/** A count per second: in all, the last whole second's, the most in one second. */
export interface Counter {
  total: number;
  peak: number;
  last: number;
}

export class RingCapture implements LiveBackend {
  readonly kind = 'ring' as const;
  readonly registry = new InterfaceRegistry();
  readonly rec = new PacketRecord();
  readonly startedAt = Date.now() / 1000;
  readonly clockOffsetMs = 0;
  private readonly ring: RingNative;
  private handle = -1;
  private worker: Worker | null = null;
  private readonly shared = new Int32Array(new SharedArrayBuffer(SH_SLOTS * 4));
  private readonly byIfindex = new Map<number, CaptureInterface>();
  private readonly ifindexOf = new Map<CaptureInterface, number>();
  private readonly gone = new Set<CaptureInterface>();
  /** The filter in force, and the ifindexes whose inbound frames it keeps whatever it says. */
  private filter: string;
  private readonly keep = new Set<number>();
  /** The interfaces chosen at start (the bond among them: never kept whatever it receives). */
  private readonly startIfindexes = new Set<number>();
  private frames = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly kernel: Counter = { total: 0, peak: 0, last: 0 };
  private readonly internal: Counter = { total: 0, peak: 0, last: 0 };
  private internalSeen = 0;
  private ringFrames = 0;
  private freezes = 0;
  private readonly bytes: number;
  /** Resolves when the worker has stopped reading. */
  private workerDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: LiveOptions,
    private readonly events: LiveEvents,
  ) {
    const ring = loadRing();
    if (typeof ring === 'string') throw new LiveCaptureError(ring);
    this.ring = ring;
    this.filter = options.filter?.trim() ?? '';
    this.bytes = Math.max(RING_BLOCK * 2, Math.round((options.bufferSize ?? RING_DEFAULT_BYTES) / RING_BLOCK) * RING_BLOCK);
  }

  private get sysNet(): string {
    return this.options.sysNet ?? '/sys/class/net';
  }

  private ifindexByName(name: string): number {
    try {
      return Number(readFileSync(join(this.sysNet, name, 'ifindex'), 'utf8').trim());
    } catch {
      return -1;
    }
  }

  private register(name: string, ifindex: number): CaptureInterface {
    const iface = this.registry.add({ name, description: null, linkType: 1, fcsLen: 0, snaplen: RING_SNAPLEN, tsDigits: 9, input: `live:${name}`, inputIndex: 0, section: 0, localId: this.registry.list.length });
    this.byIfindex.set(ifindex, iface);
    this.ifindexOf.set(iface, ifindex);
    return iface;
  }

  private promisc(ifindex: number, name: string): void {
    try {
      this.ring.promisc(this.handle, ifindex, true);
    } catch (err) {
      this.events.onWarning?.(`${name}: promiscuous mode not set (${(err as Error).message})`);
    }
  }

  async start(): Promise<void> {
    const chosen: number[] = [];
    // -i any: every interface the ring sees, each named as its first frame comes.
    const all = this.options.interfaces.includes('any');
    for (const name of this.options.interfaces) {
      if (name === 'any') continue;
      const ifindex = this.ifindexByName(name);
      if (ifindex < 0) throw new LiveCaptureError(`${name}: no such interface`);
      this.register(name, ifindex);
      chosen.push(ifindex);
      this.startIfindexes.add(ifindex);
      if (this.options.keepInbound?.includes(name)) this.keep.add(ifindex);
    }
    try {
      this.handle = this.ring.open({ blockSize: RING_BLOCK, blockCount: this.bytes / RING_BLOCK, frameSize: RING_FRAME, retireMs: RING_RETIRE_MS, snaplen: RING_SNAPLEN, filter: this.filter, keepInbound: [...this.keep] });
    } catch (err) {
      const e = err as Error & { code?: string; step?: string };
      if (e.code === 'EFILTER') throw new LiveCaptureError(`--filter: libpcap cannot compile it: ${e.message.replace(/^--filter: /, '')}`);
      if (e.code === 'EPERM' || e.code === 'EACCES') throw new LiveCaptureError(`capturing needs root (or CAP_NET_RAW and CAP_NET_ADMIN): ${e.message}`);
      throw new RingSetupError(e.message, e.code ?? null);
    }
    for (const iface of this.registry.list) this.promisc(this.ifindexOf.get(iface)!, iface.name);
    const data: RingWorkerData = { handle: this.handle, ifindexes: chosen, all, bridges: this.options.bridges ?? [], sysNet: this.sysNet, shared: this.shared.buffer as SharedArrayBuffer, buffers: RING_BUFFERS, blockSize: RING_BLOCK };
    // The reader allocates almost nothing (its buffers go round): a small heap keeps it small.
    const worker = startWorker(import.meta.url, 'ring-worker', { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
    this.worker = worker;
    worker.on('message', (m: WorkerMessage) => this.receive(m));
    this.workerDone = new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.once('error', (err) => {
        this.events.onWarning?.(`ring reader failed: ${err.message}`);
        resolve();
      });
    });
    // The worker is up (its module loaded) before the caller drops privileges.
    await new Promise<void>((resolve, reject) => {
      worker.once('online', () => resolve());
      worker.once('error', reject);
    });
  }

  /** The filter replaced on the open socket: frames from now on pass the new one, none are lost. False with a binding built before setFilter. */
  setFilter(filter: string): boolean {
    if (!this.ring.setFilter || this.handle < 0) return false;
    try {
      this.ring.setFilter(this.handle, filter.trim(), [...this.keep]);
      this.filter = filter.trim();
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'EFILTER') throw new LiveCaptureError(`filter: libpcap cannot compile it: ${e.message.replace(/^--filter: /, '')}`);
      throw err;
    }
    return true;
  }

  begin(): void {
    if (!this.worker || this.stopped) return;
    this.worker.postMessage({ type: 'go' });
    this.timer = setInterval(() => this.poll(), 1000);
    this.timer.unref();
  }

  private receive(m: WorkerMessage): void {
    if (m.type === 'batch') this.batch(m.block, m.bytes, m.index, m.frames);
    else if (m.type === 'iface') {
      let iface = [...this.ifindexOf.keys()].find((i) => i.name === m.name && this.gone.has(i));
      if (iface) {
        // The same name back (a guest restarted): its old entry goes on.
        this.gone.delete(iface);
        this.byIfindex.set(m.ifindex, iface);
        this.ifindexOf.set(iface, m.ifindex);
      } else iface = this.register(m.name, m.ifindex);
      this.promisc(m.ifindex, m.name);
      // A new port of a captured bridge (a guest started): what it receives from its guest is
      // kept from now on, whatever its addresses (its first frame, which named it, is in already).
      if (this.options.keepInboundOnNewPorts && m.master !== null) this.keepInboundOn([m.ifindex]);
      this.events.onInterfaceAdded?.(iface, m.master === null ? 'appeared in the ring: captured from its first frame (-i any)' : `appeared as a port of ${m.master}: captured from its first frame`, m.time);
    } else if (m.type === 'warning') this.events.onWarning?.(m.text);
  }

  private batch(block: ArrayBuffer, bytes: number, indexBuf: ArrayBuffer, count: number): void {
    Atomics.sub(this.shared, SH_BACKLOG, block.byteLength);
    if (this.stopped) return;
    this.frames = handOn(new Uint8Array(block, 0, bytes), new Uint32Array(indexBuf), count, this.byIfindex, this.rec, this.frames, this.events.onPacket);
    // The frames were views valid only during onPacket: the buffer goes back for the next block.
    this.worker?.postMessage({ type: 'free', block, index: indexBuf }, [block, indexBuf]);
  }

  /** These ifindexes' inbound frames kept from now on (the filter is swapped once for all of them). */
  private keepInboundOn(ifindexes: number[]): void {
    const fresh = ifindexes.filter((i) => !this.keep.has(i));
    if (fresh.length === 0) return;
    for (const i of fresh) this.keep.add(i);
    try {
      this.setFilter(this.filter);
    } catch (err) {
      this.events.onWarning?.(`capture filter not extended to new ports: ${(err as Error).message}`);
    }
  }

  /**
   * New ports of the captured bridges, from their brif directories (a guest started whose first
   * frame the filter has not let through yet, so the reader has not named it): kept from now on.
   */
  private newBridgePorts(): number[] {
    const out: number[] = [];
    for (const bridge of this.options.bridges ?? []) {
      let names: string[];
      try {
        names = readdirSync(join(this.sysNet, bridge, 'brif'));
      } catch {
        continue;
      }
      for (const name of names) {
        const ifindex = this.ifindexByName(name);
        if (ifindex > 0 && !this.startIfindexes.has(ifindex) && !this.keep.has(ifindex)) out.push(ifindex);
      }
    }
    return out;
  }

  /** Once a second: the kernel's drop count (reading resets it), ours, interfaces gone and new ports. */
  private poll(): void {
    if (this.options.keepInboundOnNewPorts) this.keepInboundOn(this.newBridgePorts());
    this.readStats();
    const internal = Atomics.load(this.shared, SH_INTERNAL_DROPS);
    count(this.internal, internal - this.internalSeen);
    this.internalSeen = internal;
    for (const [iface, ifindex] of this.ifindexOf) {
      if (this.gone.has(iface) || this.ifindexByName(iface.name) === ifindex) continue;
      this.gone.add(iface);
      this.byIfindex.delete(ifindex);
      this.keep.delete(ifindex);
      this.events.onInterfaceGone?.(iface.name, 'the interface was removed', Date.now() / 1000);
    }
  }

  private readStats(): void {
    if (this.handle < 0) return;
    try {
      const [packets, drops, freezes] = this.ring.stats(this.handle);
      this.ringFrames += packets;
      this.freezes += freezes;
      count(this.kernel, drops);
    } catch {
      /* closed */
    }
  }

  get framesCaptured(): number {
    return this.frames;
  }

  get active(): string[] {
    return this.registry.list.filter((i) => !this.gone.has(i)).map((i) => i.name);
  }

  drops(): CaptureDrops {
    return {
      kernel: this.kernel.total,
      internal: this.internal.total,
      kernelPeakPerSec: this.kernel.peak,
      internalPeakPerSec: this.internal.peak,
      kernelLastSec: this.kernel.last,
      internalLastSec: this.internal.last,
      ringFrames: this.ringFrames,
      freezes: this.freezes,
    };
  }

  describe(): string {
    return `ring (one TPACKET_V3 ring for every interface, ${this.bytes >> 20} MiB)`;
  }

  /**
   * Lets what the kernel already holds reach the engine before a stop: a few retire periods (a
   * block that is not full is handed over after RING_RETIRE_MS), then until every posted block is
   * handled, at most `ms`.
   */
  async drain(ms = 1000): Promise<void> {
    if (!this.worker || this.stopped) return;
    const end = Date.now() + ms;
    await new Promise((r) => setTimeout(r, RING_RETIRE_MS * 5));
    while (Atomics.load(this.shared, SH_BACKLOG) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    Atomics.store(this.shared, SH_STOP, 1);
    if (this.handle >= 0) {
      this.poll();
      const damaged = Atomics.load(this.shared, SH_BLOCK_ERRORS);
      if (damaged) this.events.onWarning?.(`${damaged} ring block(s) were damaged; the frames after the damage in each were not read`);
    }
    // The worker leaves its poll within 50 ms; the ring is freed when it does.
    const worker = this.worker;
    const handle = this.handle;
    void this.workerDone.then(() => this.ring.close(handle));
    if (worker) setTimeout(() => void worker.terminate(), 200).unref();
  }
}

/** One second's count into the counter. */
export function count(c: Counter, n: number): void {
  c.total += n;
  c.last = n;
  if (n > c.peak) c.peak = n;
}

/** The ring could not be set up for a reason the cap backend may not share (no TPACKET_V3, no memory). */
export class RingSetupError extends Error {
  override name = 'RingSetupError';
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/**
 * Hands the indexed frames of one block on as `rec`, a view on the block (nothing allocated per
 * frame), numbered on from `numbered`; returns the last number. Frames of an ifindex not in
 * `ifaces` are skipped (the worker names every ifindex before its frames, so none are).
 */
export function handOn(
  bytes: Uint8Array,
  index: Uint32Array,
  count: number,
  ifaces: ReadonlyMap<number, CaptureInterface>,
  rec: PacketRecord,
  numbered: number,
  onPacket: (rec: PacketRecord) => void,
): number {
  for (let i = 0; i < count; i++) {
    const o = i * INDEX_STRIDE;
    const iface = ifaces.get(index[o + IX_IFINDEX]!);
    if (iface === undefined) continue;
    rec.buf = bytes;
    rec.offset = index[o + IX_OFFSET]!;
    rec.caplen = index[o + IX_CAPLEN]!;
    rec.origLen = index[o + IX_LEN]!;
    rec.iface = iface;
    rec.tsSec = index[o + IX_SEC]!;
    rec.tsNsec = index[o + IX_NSEC]!;
    rec.tsFrac = rec.tsNsec;
    rec.direction = index[o + IX_DIR]! as Direction;
    rec.epbFlags = rec.direction;
    rec.dropCount = -1;
    rec.inputFrame = ++numbered;
    rec.inputIndex = 0;
    iface.frames++;
    onPacket(rec);
  }
  return numbered;
}
