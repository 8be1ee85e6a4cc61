/**
 * The `cap` backend of live capture (see live-backend.ts): the fallback where the project's ring
 * (ring/ring-capture.ts) cannot be set up, and `--backend cap`; the probe sends and watches with it.
 * Live capture with the `cap` package (libpcap), feeding the same PacketRecord view the file readers
 * hand on. What cap 0.2.1 does and does not do shapes this module:
 *
 *  - it copies each packet into the one Buffer given to open() and keeps no reference to it: the
 *    Buffer must stay referenced for the handle's life or the heap is corrupted;
 *  - it aborts the process (an assertion in its poll callback) when a captured interface goes down
 *    or away: so each interface is captured in a worker process of its own (live-worker.ts), and
 *    a vif removed with its guest ends one worker, not bondscope;
 *  - no timestamps: workers stamp frames on arrival with the system's monotonic clock, anchored
 *    here to wall time;
 *  - no direction: each worker opens two handles, one with the BPF filter `inbound` and one with
 *    `outbound` (Linux packet sockets know the direction), so every frame's direction is exact;
 *  - no drop counters, snaplen fixed at 65535, promiscuous.
 *
 * The record handed on is valid only during the onPacket call, like a file record until `next()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FRAME_HEADER, WORKER_PREFIX } from './live-protocol.js';
import { runningAsExecutable } from '../model/package.js';
import { InterfaceRegistry, PacketRecord, type CaptureInterface, type Direction } from '../model/record.js';
import { LiveCaptureError, type CaptureDrops, type LiveBackend, type LiveEvents, type LiveOptions } from './live-types.js';

export { LiveCaptureError } from './live-types.js';

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
  if (!capModule && runningAsExecutable()) {
    throw new LiveCaptureError('the single executable carries the capture ring, not `cap` (libpcap handles per interface, the fallback and the probe\'s sender): use an npm install of bondscope for those');
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
export function explainOpenError(device: string, message: string): string {
  if (/permission|Operation not permitted/i.test(message)) return `${device}: capturing needs root (or CAP_NET_RAW and CAP_NET_ADMIN): ${message}`;
  if (/No such device|doesn't exist/i.test(message)) return `${device}: no such interface (${message})`;
  if (/syntax error|parse error|illegal|unknown/i.test(message)) return `--filter: libpcap cannot compile it: ${message}`;
  if (/not up/i.test(message)) return `${device}: the interface is down (${message})`;
  if (/`cap` module/.test(message)) return message;
  return `${device}: ${message}`;
}

export const SNAPLEN = 65535;
export const DEFAULT_BUFFER_BYTES = 16 << 20;

interface Worker {
  iface: CaptureInterface;
  child: ChildProcess;
  open: boolean;
  /** Bytes of a frame split across two pipe reads. */
  carry: Buffer | null;
}

/**
 * One live capture on several interfaces, each in its own worker process (live-worker.ts). Frames
 * are numbered in the order they are handed on (as the one pcapng file `--write` records them), so
 * evidence frame numbers match that file. Frames are stamped by the workers on arrival with the
 * system's monotonic clock, anchored here to wall time.
 */
export class LiveCapture implements LiveBackend {
  readonly kind = 'cap' as const;
  readonly registry = new InterfaceRegistry();
  readonly rec = new PacketRecord();
  private readonly workers: Worker[] = [];
  private frames = 0;
  /** Wall time (ns since the epoch) at monotonic zero. */
  private readonly anchorNs: bigint;
  private stopping = false;
  readonly startedAt: number;
  readonly clockOffsetMs = 0;
  /** Batches the workers dropped because this process fell behind (cap counts batches, not frames). */
  private droppedBatches = 0;

  constructor(
    private readonly options: LiveOptions,
    private readonly events: LiveEvents,
  ) {
    this.anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.startedAt = Date.now() / 1000;
  }

  /** Starts a worker per interface (as root) and waits until every one has its handles open. */
  async start(): Promise<void> {
    loadCap(); // a missing cap is said once, here, not by every worker
    const script = fileURLToPath(new URL('./live-worker.js', import.meta.url));
    const opened = this.options.interfaces.map((name) => {
      const iface = this.registry.add({ name, description: null, linkType: 1, fcsLen: 0, snaplen: SNAPLEN, tsDigits: 9, input: `live:${name}`, inputIndex: 0, section: 0, localId: this.registry.list.length });
      const args = JSON.stringify({ device: name, filter: this.options.filter, bufferSize: this.options.bufferSize ?? DEFAULT_BUFFER_BYTES, user: this.options.user ?? null, send: this.options.send === true });
      const child = spawn(process.execPath, [script, args], { stdio: [this.options.send ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      const w: Worker = { iface, child, open: false, carry: null };
      this.workers.push(w);
      return new Promise<void>((resolve, reject) => {
        let err = '';
        let ready = false;
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (text: string) => {
          err += text;
          let nl: number;
          while ((nl = err.indexOf('\n')) >= 0) {
            const line = err.slice(0, nl);
            err = err.slice(nl + 1);
            // Anything without the prefix is libpcap's own chatter ("no IPv4 address assigned").
            if (!line.startsWith(WORKER_PREFIX)) continue;
            const [word, ...rest] = line.slice(WORKER_PREFIX.length).trim().split(' ');
            const msg = rest.join(' ');
            if (word === 'ready') {
              ready = true;
              w.open = true;
              iface.linkType = linkTypeOf(msg);
              resolve();
            } else if (word === 'error') reject(new LiveCaptureError(explainOpenError(name, msg)));
            else if (word === 'dropped') {
              this.droppedBatches++;
              this.events.onWarning?.(`${name}: frames dropped: this process fell behind the capture (a BPF --filter or a faster machine helps)`);
            }
          }
        });
        child.stdout!.on('data', (chunk: Buffer) => this.receive(w, chunk));
        child.once('exit', (code, signal) => {
          const wasOpen = w.open;
          w.open = false;
          if (!ready) reject(new LiveCaptureError(`${name}: the capture worker ended before capturing (${signal ?? `exit ${code}`})`));
          else if (wasOpen && !this.stopping) this.events.onInterfaceGone?.(name, 'capture on it ended: the interface went down or was removed', Date.now() / 1000);
        });
      });
    });
    try {
      await Promise.all(opened);
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  /** Frames from one worker's pipe: headers and bytes, a frame possibly split across reads. */
  private receive(w: Worker, chunk: Buffer): void {
    if (this.stopping) return;
    let buf = chunk;
    if (w.carry) {
      buf = Buffer.concat([w.carry, chunk]);
      w.carry = null;
    }
    let at = 0;
    const rec = this.rec;
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    while (at + FRAME_HEADER <= buf.length) {
      const caplen = buf.readUInt32LE(at);
      if (at + FRAME_HEADER + caplen > buf.length) break;
      const mono = (BigInt(buf.readUInt32LE(at + 4)) << 32n) | BigInt(buf.readUInt32LE(at + 8));
      const wall = this.anchorNs + mono;
      const direction = buf[at + 12] as Direction;
      rec.buf = bytes;
      rec.offset = at + FRAME_HEADER;
      rec.caplen = caplen;
      rec.origLen = caplen;
      rec.iface = w.iface;
      rec.tsSec = Number(wall / 1_000_000_000n);
      rec.tsNsec = Number(wall % 1_000_000_000n);
      rec.tsFrac = rec.tsNsec;
      rec.direction = direction;
      rec.epbFlags = direction;
      rec.inputFrame = ++this.frames;
      rec.inputIndex = 0;
      w.iface.frames++;
      this.events.onPacket(rec);
      at += FRAME_HEADER + caplen;
    }
    if (at < buf.length) w.carry = Buffer.from(buf.subarray(at));
  }

  get framesCaptured(): number {
    return this.frames;
  }

  /** Sends a frame out of a captured interface, through its worker (options.send). */
  send(iface: string, frame: Uint8Array): void {
    const w = this.workers.find((x) => x.iface.name === iface);
    if (!w?.child.stdin) throw new LiveCaptureError(`${iface}: not captured with send`);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(frame.length, 0);
    w.child.stdin.write(Buffer.concat([head, Buffer.from(frame)]));
  }

  /** The wall time (ns since the epoch) a monotonic reading (process.hrtime.bigint()) stands for, on the frames' clock. */
  wallNs(mono: bigint): bigint {
    return this.anchorNs + mono;
  }

  /** Interfaces still capturing. */
  get active(): string[] {
    return this.workers.filter((w) => w.open).map((w) => w.iface.name);
  }

  /** The workers drop privileges themselves once their handles are open: nothing to wait for. */
  begin(): void {}

  drain(): Promise<void> {
    return Promise.resolve();
  }

  /** cap keeps no kernel drop counter; what this process dropped is counted in batches of frames. */
  drops(): CaptureDrops {
    return { kernel: null, internal: this.droppedBatches, kernelPeakPerSec: null, internalPeakPerSec: 0, kernelLastSec: null, internalLastSec: 0, ringFrames: null, freezes: null };
  }

  describe(): string {
    return `cap (libpcap, a worker process and two handles per interface, ${(this.options.bufferSize ?? DEFAULT_BUFFER_BYTES) >> 20} MiB each; frames stamped on arrival, no kernel drop counts)`;
  }

  /** Ends every worker; frames still in flight are not handed on. */
  stop(): void {
    this.stopping = true;
    for (const w of this.workers) {
      w.open = false;
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    }
  }
}

