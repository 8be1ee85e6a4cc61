/**
 * Live capture on a host reached over ssh (`--ssh`), behind the same LiveBackend as the local
 * ring and cap: the host's own capture tool (capture-plan.ts) writes its capture to the ssh
 * channel; each channel's bytes go into a ByteRing, read in a worker thread by the project's own
 * readers (stream-worker.ts), whose records come back in batches and are handed on as the ring's
 * are (handOn): the engine, the recording and every sink see what a local session gives them.
 *
 * Beside the capture, one more session watches the host (scripts.ts watchScript): its kernel log
 * and its bridges' learning tables, read there as the local session reads them here, make this
 * backend's HostAccount.
 *
 * What crosses the link is counted (bytes per second, the peak); the host's drops are its capture
 * tool's own statistics at the end (tcpdump's "dropped by kernel", dumpcap's per-interface
 * counts and interface statistics blocks). A channel that ends while capturing — the link
 * dropped, the host went down — ends the capture, what came before it kept, with one line saying
 * when and why.
 */
import type { ChildProcess } from 'node:child_process';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../model/package.js';
import { InterfaceRegistry, PacketRecord, type CaptureInterface } from '../../model/record.js';
import type { Bridge } from '../../model/topology.js';
import type { HostAccount, LearnedEntry } from '../host/account.js';
import { parseBrforward, parseKmsgRecord, type KernelEvent } from '../host/kernel.js';
import { ovsFdbEntries, parseFdbShow } from '../host/ovs.js';
import { ByteRing } from '../byte-ring.js';
import type { CaptureDrops, LiveBackend, LiveEvents } from '../live-backend.js';
import { LiveCaptureError } from '../live.js';
import { count, handOn, type Counter } from '../ring/ring-capture.js';
import { planRemoteCapture, type CapturePlan } from './capture-plan.js';
import type { StreamMessage, StreamWorkerData } from './protocol.js';
import { captureScript, watchScript } from './scripts.js';
import { sessionLost, sshFault, type SshTarget } from './ssh.js';
import type { RemoteSnapshot } from './snapshot.js';

export interface RemoteCaptureOptions {
  ssh: SshTarget;
  snapshot: RemoteSnapshot;
  /** Run the capture tool, the kernel log reader and Open vSwitch's tools through `sudo -n`. */
  sudo: boolean;
  nonce: string;
  interfaces: string[];
  filter?: string;
  /** The capture tool's own buffer (-B), bytes. */
  bufferSize?: number;
  /** Read the kernel log and the bridges' learning tables (false with --no-kernel). */
  kernel: boolean;
  bridges: Bridge[];
}

/** Bytes in flight per stream between the ssh channel and the reader. */
const RING_BYTES_ONE = 8 << 20;
const RING_BYTES_EACH = 1 << 20;
const BLOCK = 1 << 20;
const BUFFERS = 16;
/** How long the host's tools have to start capturing. */
const START_TIMEOUT_MS = 30_000;
/** The remote FDB is read this often (od of brforward, a few forks on the host each time). */
const FDB_EVERY_S = 0.5;
/** Sessions to the host are opened this far apart (sshd's MaxStartups drops bursts of new connections). */
const SESSION_GAP_MS = 60;

/** One ssh channel carrying one capture tool's output. */
interface Channel {
  index: number;
  child: ChildProcess;
  ring: ByteRing;
  /** Bytes read from ssh that the ring had no room for yet (the channel is paused meanwhile). */
  queue: Buffer[];
  stderr: string;
  /** The tool's exit status (its `@@NONCE exit` line), null before. */
  toolExit: number | null;
  ended: boolean;
  /** Interfaces of this stream said by the reader. */
  ifaces: CaptureInterface[];
  readerEnded: boolean;
  /** Why it closed while capturing, and when (wall seconds); said (once) when its reader is done too. */
  why: string | null;
  endedAt: number;
  said: boolean;
}


export class RemoteCapture implements LiveBackend {
  readonly kind = 'ssh' as const;
  readonly registry = new InterfaceRegistry();
  readonly rec = new PacketRecord();
  readonly startedAt = Date.now() / 1000;
  readonly plan: CapturePlan;
  readonly host: RemoteHostAccount;
  readonly clockOffsetMs: number;
  private readonly channels: Channel[] = [];
  private watch: ChildProcess | null = null;
  private worker: Worker | null = null;
  private readonly doorbell = new Int32Array(new SharedArrayBuffer(4));
  private readonly byId = new Map<number, CaptureInterface>();
  private frames = 0;
  private begun = false;
  private stopping = false;
  private stopped = false;
  /** Batches that came before begin(): handed on then (the recording is open by then). */
  private held: StreamMessage[] = [];
  private readonly link: Counter = { total: 0, peak: 0, last: 0 };
  private linkThisSec = 0;
  private timer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private workerStopped: Promise<void> = Promise.resolve();
  /** When and why capture ended by itself (the link dropped, the tool stopped), null while it goes on. */
  endedBy: { time: number; why: string } | null = null;
  private readonly readerErrors: string[] = [];

  constructor(
    private readonly o: RemoteCaptureOptions,
    private readonly events: LiveEvents,
  ) {
    const plan = planRemoteCapture(o.ssh.target, o.snapshot.facts, o.snapshot.info.interfaces, o.interfaces, o.filter, o.bufferSize, o.sudo);
    if (typeof plan === 'string') throw new LiveCaptureError(plan);
    this.plan = plan;
    this.clockOffsetMs = o.snapshot.facts.clockOffsetMs;
    const facts = o.snapshot.facts;
    this.host = new RemoteHostAccount(o.nonce, o.snapshot, facts.now - facts.uptime, this.startedAt + this.clockOffsetMs / 1000);
  }

  get framesCaptured(): number {
    return this.frames;
  }

  get active(): string[] {
    return this.channels.filter((c) => !c.ended).flatMap((c) => c.ifaces.map((i) => i.name));
  }

  /**
   * Opens the watch session and a channel per stream, starts the reader, and returns once every
   * stream's interfaces are known (its capture header came) — or with the first fault, in one line.
   */
  async start(): Promise<void> {
    const o = this.o;
    const facts = o.snapshot.facts;
    if (o.kernel) {
      this.watch = o.ssh.session(watchScript(o.nonce, o.sudo, {
        bridges: o.bridges.filter((b) => b.kind !== 'ovs').map((b) => b.name),
        ovsBridges: o.bridges.filter((b) => b.kind === 'ovs').map((b) => b.name),
        kernelLog: true,
        fdbEverySec: FDB_EVERY_S,
        grep: facts.tools.grep,
        ovsAppctl: facts.tools['ovs-appctl'],
      }));
      this.watch.stdout!.on('data', (d: Buffer) => {
        this.count(d.length);
        this.host.receive(d);
        for (const w of this.host.takeWarnings()) this.events.onWarning?.(w);
      });
      this.watch.stderr!.on('data', () => undefined);
    }
    const ringBytes = this.plan.streams.length === 1 ? RING_BYTES_ONE : RING_BYTES_EACH;
    const specs: StreamWorkerData['streams'] = [];
    for (const [index, s] of this.plan.streams.entries()) {
      if (index > 0) await new Promise((r) => setTimeout(r, SESSION_GAP_MS));
      const ring = ByteRing.create(ringBytes, this.doorbell);
      const child = o.ssh.session(captureScript(o.nonce, o.sudo, s.argv));
      const ch: Channel = { index, child, ring, queue: [], stderr: '', toolExit: null, ended: false, ifaces: [], readerEnded: false, why: null, endedAt: 0, said: false };
      this.channels.push(ch);
      specs.push({ shared: ring.shared, display: s.display, name: s.name, direction: 0 });
      child.stdout!.on('data', (d: Buffer) => this.feed(ch, d));
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (t: string) => {
        ch.stderr += t;
        const m = new RegExp(`@@${o.nonce} exit (\\d+)`).exec(ch.stderr);
        if (m) ch.toolExit = Number(m[1]);
      });
      child.once('close', (code) => this.channelClosed(ch, code));
    }
    const data: StreamWorkerData = { streams: specs, doorbell: this.doorbell.buffer as SharedArrayBuffer, buffers: BUFFERS, blockSize: BLOCK };
    const worker = startWorker(import.meta.url, 'stream-worker', { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 } });
    this.worker = worker;
    this.workerStopped = new Promise<void>((resolve) => {
      worker.on('message', (m: StreamMessage) => {
        if (m.type === 'stopped') resolve();
        this.receive(m);
      });
      worker.once('exit', () => resolve());
      worker.once('error', (err) => {
        this.events.onWarning?.(`stream reader failed: ${err.message}`);
        resolve();
      });
    });
    this.timer = setInterval(() => this.tickLink(), 1000);
    this.timer.unref();
    await this.untilCapturing();
  }

  private untilCapturing(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const check = setInterval(() => {
        const fault = this.channels.map((c) => (c.ended || c.readerEnded || c.toolExit !== null ? this.faultOf(c) : null)).find((f) => f !== null);
        if (fault) {
          clearInterval(check);
          reject(new LiveCaptureError(fault));
        } else if (this.channels.every((c) => c.ifaces.length > 0)) {
          clearInterval(check);
          resolve();
        } else if (Date.now() - started > START_TIMEOUT_MS) {
          clearInterval(check);
          reject(new LiveCaptureError(`${this.o.ssh.target}: ${this.plan.tool} did not start capturing within ${START_TIMEOUT_MS / 1000} s${this.lastToolLine() ? ` (${this.lastToolLine()})` : ''}`));
        }
      }, 20);
    });
  }

  /** Bytes from a capture channel into its ring; what does not fit waits, the channel paused. */
  private feed(ch: Channel, d: Buffer): void {
    this.count(d.length);
    if (ch.queue.length === 0) {
      const n = ch.ring.put(d);
      if (n === d.length) return;
      ch.queue.push(d.subarray(n));
    } else ch.queue.push(d);
    ch.child.stdout!.pause();
    this.drainTimer ??= setInterval(() => this.drainQueues(), 2);
  }

  private drainQueues(): void {
    let waiting = false;
    for (const ch of this.channels) {
      while (ch.queue.length) {
        const q = ch.queue[0]!;
        const n = ch.ring.put(q);
        if (n < q.length) {
          ch.queue[0] = q.subarray(n);
          break;
        }
        ch.queue.shift();
      }
      if (ch.queue.length) waiting = true;
      else {
        if (ch.ended) this.finishRing(ch);
        else ch.child.stdout!.resume();
      }
    }
    if (!waiting && this.drainTimer) {
      clearInterval(this.drainTimer);
      this.drainTimer = null;
    }
  }

  private count(n: number): void {
    this.linkThisSec += n;
  }

  private tickLink(): void {
    count(this.link, this.linkThisSec);
    this.linkThisSec = 0;
  }

  /** The ring ends once every byte read from ssh is in it. */
  private finishRing(ch: Channel): void {
    if (ch.queue.length === 0) ch.ring.finish(null);
  }

  private channelClosed(ch: Channel, code: number | null): void {
    ch.ended = true;
    this.finishRing(ch);
    if (this.stopping || this.stopped) return;
    // Before capture began, untilCapturing() says the fault; after, the capture ends here.
    if (!this.channels.every((c) => c.ifaces.length > 0)) return;
    ch.why = code === 255 ? sessionLost(this.o.ssh.target, ch.stderr, this.o.ssh.masterSaid(), this.o.ssh.batch) : ch.toolExit !== null && ch.toolExit !== 0 ? `${this.plan.streams[ch.index]!.display} stopped (${this.lastToolLine(ch) || `exit ${ch.toolExit}`})` : `${this.plan.streams[ch.index]!.display} ended`;
    ch.endedAt = Date.now() / 1000;
    this.maybeEnded(ch);
  }

  /**
   * A channel that closed while capturing is said once its reader has handed on every frame it
   * carried: an interface gone (one of several per-port channels), or, the last, capture ended.
   */
  private maybeEnded(ch: Channel): void {
    if (!ch.why || !ch.readerEnded || ch.said) return;
    ch.said = true;
    const time = ch.endedAt;
    if (this.channels.every((c) => c.said)) {
      if (this.endedBy) return;
      this.endedBy = { time, why: ch.why };
      this.events.onEnded?.(`${this.o.ssh.target}: ${ch.why}: capture stopped at ${new Date(time * 1000).toISOString()}; the ${this.frames} frames before it are kept`, time);
    } else for (const i of ch.ifaces) this.events.onInterfaceGone?.(i.name, `capture on ${this.o.ssh.target} ended (${ch.why})`, time);
  }

  /** The one-line fault of a channel that ended before capturing, or null while it may still start. */
  private faultOf(ch: Channel): string | null {
    const host = this.o.ssh.target;
    const said = this.lastToolLine(ch);
    const tool = this.plan.streams[ch.index]!.argv[0]!;
    const user = this.o.snapshot.facts.user || this.o.ssh.user;
    if (!ch.ended && ch.toolExit === null) return null;
    if (ch.child.exitCode === 255 && ch.toolExit === null) return sshFault(host, ch.stderr, this.o.ssh.batch);
    if (/a password is required|terminal is required|askpass/i.test(ch.stderr)) {
      return `${host}: sudo asks ${user} for a password, which nothing can answer on a capture channel: allow ${tool} without one (${user} ALL=(root) NOPASSWD: ${tool}) or log in as root`;
    }
    if (/permission|Operation not permitted|not permitted/i.test(ch.stderr)) {
      return `${host}: ${tool} may not capture as ${user} (${said}): log in as root (--ssh root@${host}), add --sudo with a NOPASSWD sudoers rule for ${tool}, or on the host: setcap cap_net_raw,cap_net_admin=eip ${tool}`;
    }
    if (/syntax error|can't parse filter|parse error|illegal|unknown (host|ether|network)/i.test(ch.stderr)) return `--filter: ${tool} on ${host} cannot compile it: ${said}`;
    if (/No such device|doesn't exist|no suitable device/i.test(ch.stderr)) return `${host}: ${said}`;
    if (ch.readerEnded && ch.ifaces.length === 0 && ch.ended) return `${host}: ${this.plan.streams[ch.index]!.display} wrote no capture${said ? ` (${said})` : ''}`;
    if (ch.ended) return `${host}: ${this.plan.streams[ch.index]!.display} ended before capturing (${said || `exit ${ch.toolExit ?? ch.child.exitCode}`})`;
    return null;
  }

  /** The capture tool's last message (its stderr without bondscope's frames, sshd's notices and its statistics), its continuation line joined on. */
  private lastToolLine(ch?: Channel): string {
    const text = (ch ? [ch] : this.channels).map((c) => c.stderr).join('\n');
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('@@') && !/^(Warning: Permanently added|Could not chdir to home directory|listening on|Capturing on|File: -)/.test(l));
    const last = lines[lines.length - 1] ?? '';
    // tcpdump says why on a line of its own: "(socket: Operation not permitted)".
    return last.startsWith('(') && lines.length > 1 ? `${lines[lines.length - 2]} ${last}` : last;
  }

  private receive(m: StreamMessage): void {
    if (m.type === 'iface') {
      const iface = this.registry.add({ name: m.name, description: m.description, linkType: m.linkType, fcsLen: m.fcsLen, snaplen: m.snaplen, tsDigits: 9, input: `ssh:${this.o.ssh.target}`, inputIndex: 0, section: 0, localId: this.registry.list.length });
      this.byId.set(m.id, iface);
      const ch = this.channels[m.stream]!;
      ch.ifaces.push(iface);
      if (this.begun) this.events.onInterfaceAdded?.(iface, `appeared in ${this.plan.streams[m.stream]!.display}`, Date.now() / 1000);
    } else if (m.type === 'batch') {
      if (!this.begun) this.held.push(m);
      else this.batch(m);
    } else if (m.type === 'end') {
      const ch = this.channels[m.stream]!;
      ch.readerEnded = true;
      for (const s of m.stats) {
        const iface = this.byId.get(s.id);
        if (iface) {
          iface.drops = s.drops;
          iface.osDrops = s.osDrops;
        }
      }
      // A stream cut short by a dropped link ends inside a record: said with the link's end, not as damage.
      if (m.error && !/cut short/.test(m.error)) this.readerErrors.push(m.error);
      if (m.error && this.begun && !/cut short/.test(m.error)) this.events.onWarning?.(m.error);
      this.maybeEnded(ch);
    }
  }

  private batch(m: Extract<StreamMessage, { type: 'batch' }>): void {
    if (!this.stopped) this.frames = handOn(new Uint8Array(m.block, 0, m.bytes), new Uint32Array(m.index), m.frames, this.byId, this.rec, this.frames, this.events.onPacket);
    this.worker?.postMessage({ type: 'free', block: m.block, index: m.index }, [m.block, m.index]);
  }

  /** The recording is open: frames flow from here on (those that came already first). */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    const held = this.held;
    this.held = [];
    for (const m of held) if (m.type === 'batch') this.batch(m);
  }

  /** The host's drops as its capture tool counts them: known once the tool has stopped and said so. */
  drops(): CaptureDrops {
    const kernel = this.toolDrops();
    return { kernel, internal: 0, kernelPeakPerSec: null, internalPeakPerSec: 0, kernelLastSec: null, internalLastSec: 0, ringFrames: null, freezes: null };
  }

  /** tcpdump's "N packets dropped by kernel", dumpcap's per-interface counts or its interface statistics blocks; null until said. */
  private toolDrops(): number | null {
    let total: number | null = null;
    const add = (n: number): void => {
      total = (total ?? 0) + n;
    };
    for (const ch of this.channels) {
      const t = /(\d+) packets? dropped by kernel/.exec(ch.stderr);
      if (t) add(Number(t[1]));
      for (const d of ch.stderr.matchAll(/Packets received\/dropped on interface '[^']*': \d+\/(\d+)/g)) add(Number(d[1]));
      if (!t && !/Packets received\/dropped/.test(ch.stderr)) for (const i of ch.ifaces) if (i.drops >= 0) add(i.drops);
    }
    return total;
  }

  /** What crosses the link: bytes in all, the last whole second's and the peak. */
  linkStats(): { bytes: number; lastSecBytes: number; peakSecBytes: number; seconds: number } {
    return { bytes: this.link.total + this.linkThisSec, lastSecBytes: this.link.last, peakSecBytes: this.link.peak, seconds: Math.max(1, Date.now() / 1000 - this.startedAt) };
  }

  describe(): string {
    const l = this.linkStats();
    const kib = (b: number): string => `${(b / 1024).toFixed(b < 10240 ? 1 : 0)} KiB/s`;
    return `ssh to ${this.o.ssh.target}: ${this.plan.tool} on the host${this.plan.filter ? ` (filter ${this.plan.filter})` : ''}; the link carried ${kib(l.bytes / l.seconds)} on average, ${kib(l.peakSecBytes)} at most`;
  }

  extraStats(): Record<string, unknown> {
    const l = this.linkStats();
    return {
      host: this.o.ssh.target,
      tool: this.plan.tool,
      filter: this.plan.filter || null,
      fallback: this.plan.fallback,
      linkBytes: l.bytes,
      linkBytesPerSec: Math.round(l.bytes / l.seconds),
      linkPeakBytesPerSec: l.peakSecBytes,
      clockOffsetMs: Math.round(this.clockOffsetMs),
      endedAt: this.endedBy?.time ?? null,
      endedBy: this.endedBy?.why ?? null,
      readerErrors: this.readerErrors,
    };
  }

  /**
   * Stops the host's capture tools (their standard input ends: each stops on SIGTERM, writes what
   * it holds and its statistics) and lets every byte reach the engine, at most `ms`.
   */
  async drain(ms = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopping = true;
    for (const ch of this.channels) ch.child.stdin?.end();
    this.watch?.stdin?.end();
    await Promise.race([this.workerStopped, new Promise((r) => setTimeout(r, ms).unref())]);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.drainTimer) clearInterval(this.drainTimer);
    // Each session ends with its standard input (the host's side then stops its tool); a signal
    // as well, where this process may still send one (after dropping root it may not).
    for (const ch of this.channels) {
      ch.ring.stopReading();
      ch.ring.finish(null);
      end(ch.child);
    }
    if (this.watch) end(this.watch);
    const worker = this.worker;
    if (worker) setTimeout(() => void worker.terminate(), 200).unref();
  }
}

function end(child: ChildProcess): void {
  child.stdin?.end();
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill('SIGTERM');
  } catch {
    /* started before this process gave up root: its standard input's end stops it */
  }
}

/**
 * The host's kernel log and learning tables as its watch session reports them (scripts.ts
 * watchScript): /dev/kmsg records placed in time from the host's boot on its own clock, the
 * bridges' brforward read with the same parser as sysfs here, Open vSwitch's fdb/show with the
 * same as `check --ovs`.
 */
export class RemoteHostAccount implements HostAccount {
  private carry = '';
  private readonly events: KernelEvent[] = [];
  private readonly fdbs = new Map<string, LearnedEntry[]>();
  private readonly hex = new Map<string, string[]>();
  private readonly ovsRows = new Map<string, string[]>();
  private readonly warnings: string[] = [];
  kernelLogProblem: string | null = null;

  /** `boot` and `since`: wall seconds on the host's clock. */
  constructor(
    private readonly nonce: string,
    private readonly snapshot: RemoteSnapshot,
    private readonly boot: number,
    private readonly since: number,
  ) {
    for (const [br, entries] of snapshot.fdb) this.fdbs.set(br, entries);
  }

  receive(d: Buffer): void {
    const text = this.carry + d.toString('utf8');
    const lines = text.split('\n');
    this.carry = lines.pop()!;
    const prefix = `@@${this.nonce} `;
    for (const line of lines) {
      if (!line.startsWith(prefix)) continue;
      const rest = line.slice(prefix.length);
      const sp = rest.indexOf(' ');
      const kind = sp < 0 ? rest : rest.slice(0, sp);
      const args = sp < 0 ? '' : rest.slice(sp + 1);
      this.line(kind, args);
    }
  }

  private line(kind: string, args: string): void {
    const sp = args.indexOf(' ');
    const first = sp < 0 ? args : args.slice(0, sp);
    const after = sp < 0 ? '' : args.slice(sp + 1);
    switch (kind) {
      case 'k': {
        const e = parseKmsgRecord(args, this.boot, this.since);
        if (e) this.events.push(e);
        break;
      }
      case 'nokmsg':
        this.kernelLogProblem = `kernel log on ${this.snapshot.info.root}: ${args}; own-address warnings come from the frames only`;
        this.warnings.push(this.kernelLogProblem);
        break;
      case 'fdb':
        if (!this.hex.has(first)) this.hex.set(first, []);
        this.hex.get(first)!.push(after);
        break;
      case 'fdbend': {
        const ports = new Map<number, string>();
        for (const pn of after.split(' ')) {
          const eq = pn.lastIndexOf('=');
          if (eq > 0) ports.set(Number(pn.slice(eq + 1)), pn.slice(0, eq));
        }
        const bytes = Buffer.from((this.hex.get(first) ?? []).join('').replace(/[^0-9a-fA-F]/g, ''), 'hex');
        this.hex.delete(first);
        this.fdbs.set(first, parseBrforward(bytes, ports));
        break;
      }
      case 'ovs':
        if (!this.ovsRows.has(first)) this.ovsRows.set(first, []);
        this.ovsRows.get(first)!.push(after);
        break;
      case 'ovsend': {
        const rec = this.snapshot.info.ovs;
        if (rec) {
          rec.fdb.set(first, parseFdbShow((this.ovsRows.get(first) ?? []).join('\n')));
          this.fdbs.set(first, ovsFdbEntries(rec, first));
        }
        this.ovsRows.delete(first);
        break;
      }
    }
  }

  takeWarnings(): string[] {
    return this.warnings.splice(0);
  }

  kernelEvents(): KernelEvent[] {
    return this.events.splice(0);
  }

  fdb(bridge: Bridge): LearnedEntry[] | null {
    return this.fdbs.get(bridge.name) ?? null;
  }

  close(): void {}
}
