/**
 * One live session on the host: capture on every chosen interface, the engine at packet rate, the
 * frames recorded to pcapng if asked, and the kernel's own account (its log and the bridges' FDB)
 * polled beside them. Used by `bondscope live` and by the live view; both read the same Analyzer.
 *
 * Everything that needs root (capture handles, /dev/kmsg, the output file) is opened in `start()`,
 * so the caller can drop privileges right after it and before the first packet is handled.
 */
import { LocalHostAccount, type HostAccount, type LearnedEntry } from '../capture/host/account.js';
import { startLiveBackend, type BackendChoice, type CaptureDrops, type LiveBackend, type LiveEvents } from '../capture/live-backend.js';
import type { RemoteHost } from '../capture/remote/index.js';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import type { PacketRecord } from '../model/record.js';
import { DecodedFrame, decodeFrame } from '../decode/index.js';
import { Analyzer, DEFAULT_OPTIONS } from '../engine/analyzer.js';
import type { Finding } from '../engine/findings.js';
import { roleFromName } from '../model/roles.js';
import { topologyToComment, type Topology } from '../model/topology.js';
import { VERSION } from '../model/version.js';

/** Copies of one frame in live mode follow each other by at most this (user-space stamps: see Analyzer's hopGapNs). */
const LIVE_HOP_GAP_NS = 500e6;

export interface LiveSessionOptions {
  interfaces: string[];
  filter?: string;
  /** ring: the one ring's size; cap: kernel ring per capture handle (two per interface). Bytes. */
  bufferSize?: number;
  /** Which capture backend (default auto: the ring, else cap). */
  backend?: BackendChoice;
  /** The capture workers drop to this user once their handles are open. */
  user?: string | null;
  /** Record every frame to this pcapng file (created 0600). */
  write?: string;
  topology: Topology;
  windowNs?: number;
  /** Read /dev/kmsg and the bridges' FDB (default true). */
  kernel?: boolean;
  /** Capture on a host reached over ssh (--ssh) instead of this one. */
  remote?: RemoteHost;
  /**
   * ring: everything the guests' ports receive from their guests is captured whatever the filter
   * says, new ports' from their first frame (the monitor's default filter names the guests' MACs,
   * which a guest just started does not have in it yet).
   */
  keepGuestsInbound?: boolean;
}

/** Something that happened to the capture itself, with its wall time (seconds since the epoch). */
export interface SessionEvent {
  time: number;
  kind: 'appeared' | 'gone' | 'warning' | 'backend' | 'ended';
  iface: string | null;
  text: string;
}

export type FrameObserver = (rec: PacketRecord, frame: DecodedFrame) => void;

export class LiveSession {
  /** The engine frames go to; replaced by `reset()` (the UI's clear). */
  analyzer: Analyzer;
  private backend: LiveBackend | null = null;
  private writer: PcapngWriter | null = null;
  /** Writer interface id per capture interface id. */
  private readonly writerIds = new Map<number, number>();
  /** The host's kernel log and learning tables (this machine's, or the ssh host's). */
  private host: HostAccount | null = null;
  private readonly frame = new DecodedFrame();
  private timer: NodeJS.Timeout | null = null;
  /** Things the user should know about the session itself (an interface gone, no kernel log). */
  readonly messages: string[] = [];
  /** The same with their times, for the report and the timeline. */
  readonly events: SessionEvent[] = [];
  readonly observers: FrameObserver[] = [];
  private findings: Finding[] | null = null;
  private readonly startedAt = Date.now() / 1000;
  private endedNow: () => void = () => undefined;
  /** A host reached over ssh: its bridges' learning tables as its watch session last read them. */
  learnedOnHost?: (bridge: string) => LearnedEntry[] | null;
  /** Resolves when capture ends by itself (over ssh: the link dropped); never for a local capture. */
  readonly ended = new Promise<void>((resolve) => (this.endedNow = resolve));
  /** The latest frame's stamp, and the one the engine's time was last anchored to with its monotonic ms. */
  private lastSec = -1;
  private lastNsec = 0;
  private anchorSec = -1;
  private anchorNsec = 0;
  private anchorMono = 0;


  constructor(readonly options: LiveSessionOptions) {
    this.analyzer = this.newAnalyzer();
  }

  /** The capture backend (after start()). */
  get capture(): LiveBackend {
    if (!this.backend) throw new Error('live session not started');
    return this.backend;
  }

  private note(kind: SessionEvent['kind'], iface: string | null, text: string, time = Date.now() / 1000): void {
    this.events.push({ time, kind, iface, text });
    this.messages.push(text);
  }

  /** Drops so far (kernel null where the backend cannot tell). */
  drops(): CaptureDrops | null {
    return this.backend?.drops() ?? null;
  }

  private newAnalyzer(): Analyzer {
    // Frames are stamped on arrival in each capture worker: copies of one frame on two interfaces
    // are apart by the workers' scheduling too, not only by the hops (LIVE_HOP_GAP_NS).
    return new Analyzer(this.options.topology, { ...DEFAULT_OPTIONS, windowNs: this.options.windowNs ?? DEFAULT_OPTIONS.windowNs, hopGapNs: LIVE_HOP_GAP_NS });
  }

  /** A fresh engine from the next frame on (capture and recording go on). */
  reset(): void {
    this.analyzer = this.newAnalyzer();
    if (this.backend) this.analyzer.knowInterfaces(this.backend.registry.list);
  }

  /** Opens the capture, the kernel log and the output file: everything that needs root. No frame is read before begin(). */
  async start(): Promise<void> {
    const o = this.options;
    const bridges = o.topology.bridges.map((b) => b.name).filter((b) => o.interfaces.includes(b));
    const events: LiveEvents = {
      onPacket: (rec) => this.onPacket(rec),
      onInterfaceAdded: (iface, why, time) => {
        this.addToRecording(iface.id, iface.name, iface.linkType, iface.snaplen);
        this.note('appeared', iface.name, `${iface.name}: ${why}`, time);
      },
      onInterfaceGone: (name, why, time) => this.note('gone', name, `${name}: ${why}; capturing on the rest (${this.backend?.active.join(', ') || 'none left'})`, time),
      onWarning: (text) => this.note('warning', null, text),
      onEnded: (why, time) => {
        this.note('ended', null, why, time);
        this.endedNow();
      },
    };
    let fallback: string | null = null;
    if (o.remote) {
      const { RemoteCapture } = await import('../capture/remote/remote-capture.js');
      const remote = new RemoteCapture({ ...o.remote, interfaces: o.interfaces, filter: o.filter, bufferSize: o.bufferSize, kernel: o.kernel !== false, bridges: o.topology.bridges }, events);
      this.backend = remote;
      await remote.start();
      if (o.kernel !== false) {
        this.host = remote.host;
        this.learnedOnHost = (name) => {
          const b = o.topology.bridges.find((x) => x.name === name);
          return b ? remote.host.fdb(b) : null;
        };
      }
      fallback = remote.plan.fallback;
    } else {
      const started = await startLiveBackend(
        o.backend ?? 'auto',
        {
          interfaces: o.interfaces,
          filter: o.filter,
          bufferSize: o.bufferSize,
          user: o.user,
          bridges,
          ...(o.keepGuestsInbound ? { keepInbound: o.interfaces.filter((i) => (o.topology.ports.get(i)?.role ?? roleFromName(i).role) === 'guest'), keepInboundOnNewPorts: true } : {}),
        },
        events,
      );
      this.backend = started.backend;
      fallback = started.fallback;
      if (o.kernel !== false) this.host = new LocalHostAccount(this.backend.startedAt);
    }
    const backend = this.backend;
    this.analyzer.knowInterfaces(backend.registry.list);
    if (fallback) this.note('backend', null, fallback);
    if (this.host?.kernelLogProblem) this.note('warning', null, this.host.kernelLogProblem);
    if (o.write) {
      this.writer = new PcapngWriter(o.write, {
        comment: topologyToComment(o.topology, { capturedBy: `bondscope ${VERSION} live${o.remote ? ` over ssh on ${o.remote.ssh.target}` : ''}`, interfaces: o.interfaces, filter: o.filter ?? null }),
        userappl: `bondscope ${VERSION}`,
        os: 'Linux',
      });
      for (const iface of backend.registry.list) this.addToRecording(iface.id, iface.name, iface.linkType, iface.snaplen);
    }
  }

  /** Privileges are dropped: capture may read frames. */
  begin(): void {
    this.capture.begin();
    this.timer = setInterval(() => this.tick(), 250);
  }

  /** An interface block in the recording, once per capture interface (a returning one keeps its own). */
  private addToRecording(id: number, name: string, linkType: number, snaplen: number): void {
    if (!this.writer || this.writerIds.has(id)) return;
    this.writerIds.set(id, this.writer.addInterface({ name, linkType, snaplen, tsDigits: 9 }));
  }

  private onPacket(rec: PacketRecord): void {
    this.lastSec = rec.tsSec;
    this.lastNsec = rec.tsNsec;
    const f = this.frame;
    decodeFrame(rec, f);
    this.analyzer.observe(rec, f);
    if (this.writer) this.writer.writePacket(this.writerIds.get(rec.iface!.id)!, rec.tsSec, rec.tsNsec, rec.buf, rec.offset, rec.caplen, rec.origLen, { direction: rec.direction });
    for (const o of this.observers) o(rec, f);
  }

  /**
   * Time passes without frames too: settle, read the kernel's log and FDB. The engine's time goes
   * on from the latest frame's own stamp by the monotonic time since, not from the wall clock: the
   * frames are stamped by the kernel, and a wall clock stepped (or set apart from the kernel's)
   * would otherwise settle frames whose copies are still arriving, or hold them for the step.
   */
  tick(): void {
    const mono = performance.now();
    if (this.lastSec !== this.anchorSec || this.lastNsec !== this.anchorNsec) {
      this.anchorSec = this.lastSec;
      this.anchorNsec = this.lastNsec;
      this.anchorMono = mono;
    }
    if (this.anchorSec >= 0) {
      const ns = this.anchorNsec + Math.round((mono - this.anchorMono) * 1e6);
      this.analyzer.advanceTo(this.anchorSec + Math.floor(ns / 1e9), ns % 1e9);
    }
    const host = this.host;
    if (host) {
      for (const e of host.kernelEvents()) if (this.concerns(e.bridge, e.port)) this.analyzer.noteKernel(e);
      for (const b of this.options.topology.bridges) {
        const entries = host.fdb(b);
        if (entries) this.analyzer.noteFdb(entries);
      }
    }
    this.writer?.flush();
  }

  /**
   * Whether a kernel log line is about this host's bridges or ports: the log is shared by every
   * network namespace, and another bridge's warnings are not evidence about this one.
   */
  private concerns(bridge: string | null, port: string | null): boolean {
    const t = this.options.topology;
    if (bridge !== null && t.bridges.length) return t.bridges.some((b) => b.name === bridge);
    return port === null || t.ports.has(port) || this.options.interfaces.includes(port);
  }

  /**
   * The capture filter replaced while capturing, where the backend can (the ring): no gap, no fresh
   * engine. Returns false where it cannot (cap): the caller reopens the capture instead.
   */
  setFilter(filter: string | undefined): boolean {
    const b = this.backend;
    return b?.setFilter?.(filter ?? '') ?? false;
  }

  /** Writes what is buffered of the recording, so a second reader (export) sees every frame so far. */
  flush(): void {
    this.writer?.flush();
  }

  /** Lets what the kernel already holds reach the engine (call before stop()). */
  async drain(): Promise<void> {
    await this.backend?.drain();
  }

  /** Stops capturing, completes the file (interface statistics, then close) and returns the findings. */
  stop(): Finding[] {
    if (this.findings) return this.findings;
    if (this.timer) clearInterval(this.timer);
    this.backend?.stop();
    this.tick();
    if (this.writer && this.backend) {
      const now = Date.now();
      const start = { sec: Math.floor(this.startedAt), nsec: Math.round((this.startedAt % 1) * 1e9) };
      const d = this.backend.drops();
      // One ring serves every interface: the kernel's drops are the whole host's, not one
      // interface's, so each ISB carries them as isb_osdrop with a comment saying so. cap has no
      // drop counters: its ISBs leave them out rather than claim zero.
      const comment =
        d.kernel === null
          ? null
          : `bondscope ring: one kernel ring for every interface; isb_osdrop is the ring's drops for the whole host (${d.kernel}), not this interface's; bondscope itself dropped ${d.internal}`;
      for (const [id, wid] of this.writerIds) {
        void id;
        this.writer.writeStats(wid, Math.floor(now / 1000), (now % 1000) * 1e6, -1, start, { osDrops: d.kernel ?? -1, comment });
      }
      this.writer.close();
    }
    this.host?.close();
    this.findings = this.analyzer.finish();
    return this.findings;
  }

  /** Drops and interface events for the report header and the JSON `stats.capture`. */
  captureStats(): object {
    const d = this.drops();
    return {
      backend: this.backend?.kind ?? null,
      frames: this.backend?.framesCaptured ?? 0,
      kernelDrops: d?.kernel ?? null,
      kernelDropsPeakPerSec: d?.kernelPeakPerSec ?? null,
      internalDrops: d?.internal ?? 0,
      internalDropsPeakPerSec: d?.internalPeakPerSec ?? 0,
      ringFrames: d?.ringFrames ?? null,
      freezes: d?.freezes ?? null,
      events: this.events.map((e) => ({ time: e.time, kind: e.kind, iface: e.iface, text: e.text })),
      ...(this.backend?.extraStats ? { remote: this.backend.extraStats() } : {}),
    };
  }
}
