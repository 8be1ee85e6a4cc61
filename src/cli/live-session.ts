/**
 * One live session on the host: capture on every chosen interface, the engine at packet rate, the
 * frames recorded to pcapng if asked, and the kernel's own account (its log and the bridges' FDB)
 * polled beside them. Used by `bondscope live` and by the live view; both read the same Analyzer.
 *
 * Everything that needs root (capture handles, /dev/kmsg, the output file) is opened in `start()`,
 * so the caller can drop privileges right after it and before the first packet is handled.
 */
import { readBridgeFdb, KmsgReader } from '../capture/host/kernel.js';
import { LiveCapture } from '../capture/live.js';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import type { PacketRecord } from '../model/record.js';
import { DecodedFrame, decodeFrame } from '../decode/index.js';
import { Analyzer, DEFAULT_OPTIONS } from '../engine/analyzer.js';
import type { Finding } from '../engine/findings.js';
import { topologyToComment, type Topology } from '../model/topology.js';
import { VERSION } from '../model/version.js';

export interface LiveSessionOptions {
  interfaces: string[];
  filter?: string;
  /** Kernel ring per capture handle, bytes (two handles per interface). */
  bufferSize?: number;
  /** The capture workers drop to this user once their handles are open. */
  user?: string | null;
  /** Record every frame to this pcapng file (created 0600). */
  write?: string;
  topology: Topology;
  windowNs?: number;
  /** Read /dev/kmsg and the bridges' FDB (default true). */
  kernel?: boolean;
}

export type FrameObserver = (rec: PacketRecord, frame: DecodedFrame) => void;

export class LiveSession {
  /** The engine frames go to; replaced by `reset()` (the UI's clear). */
  analyzer: Analyzer;
  readonly capture: LiveCapture;
  private writer: PcapngWriter | null = null;
  private kmsg: KmsgReader | null = null;
  private readonly frame = new DecodedFrame();
  private timer: NodeJS.Timeout | null = null;
  /** Things the user should know about the session itself (an interface gone, no kernel log). */
  readonly messages: string[] = [];
  readonly observers: FrameObserver[] = [];
  private findings: Finding[] | null = null;
  /** Interfaces whose worker dropped frames because this process fell behind. */
  readonly dropped = new Set<string>();

  constructor(readonly options: LiveSessionOptions) {
    this.analyzer = this.newAnalyzer();
    this.capture = new LiveCapture(
      { interfaces: options.interfaces, filter: options.filter, bufferSize: options.bufferSize, user: options.user },
      {
        onPacket: (rec) => this.onPacket(rec),
        onInterfaceGone: (name, why) => this.messages.push(`${name}: ${why}; capturing on the rest (${this.capture.active.join(', ') || 'none left'})`),
        onDropped: (name) => {
          if (!this.dropped.has(name)) this.messages.push(`${name}: frames dropped: this process fell behind the capture (a BPF --filter or a faster machine helps)`);
          this.dropped.add(name);
        },
      },
    );
  }

  private newAnalyzer(): Analyzer {
    return new Analyzer(this.options.topology, { ...DEFAULT_OPTIONS, windowNs: this.options.windowNs ?? DEFAULT_OPTIONS.windowNs });
  }

  /** A fresh engine from the next frame on (capture and recording go on). */
  reset(): void {
    this.analyzer = this.newAnalyzer();
  }

  /** Opens the capture handles, the kernel log and the output file: everything that needs root. */
  async start(): Promise<void> {
    await this.capture.start();
    if (this.options.write) {
      this.writer = new PcapngWriter(this.options.write, {
        comment: topologyToComment(this.options.topology, { capturedBy: `bondscope ${VERSION} live`, interfaces: this.options.interfaces, filter: this.options.filter ?? null }),
        userappl: `bondscope ${VERSION}`,
        os: 'Linux',
      });
      for (const iface of this.capture.registry.list) this.writer.addInterface({ name: iface.name, linkType: iface.linkType, snaplen: iface.snaplen });
    }
    if (this.options.kernel !== false) {
      try {
        this.kmsg = new KmsgReader(this.capture.startedAt);
      } catch (err) {
        this.messages.push(`kernel log: /dev/kmsg not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); own-address warnings come from the frames only`);
      }
    }
    this.timer = setInterval(() => this.tick(), 250);
  }

  private onPacket(rec: PacketRecord): void {
    const f = this.frame;
    decodeFrame(rec, f);
    this.analyzer.observe(rec, f);
    this.writer?.writePacket(rec.iface!.id, rec.tsSec, rec.tsNsec, rec.buf, rec.offset, rec.caplen, rec.origLen, { direction: rec.direction });
    for (const o of this.observers) o(rec, f);
  }

  /** Time passes without frames too: settle, read the kernel's log and FDB. */
  tick(): void {
    const now = Date.now();
    this.analyzer.advanceTo(Math.floor(now / 1000), (now % 1000) * 1e6);
    if (this.kmsg) for (const e of this.kmsg.poll()) if (this.concerns(e.bridge, e.port)) this.analyzer.noteKernel(e);
    if (this.options.kernel !== false) {
      for (const b of this.options.topology.bridges) {
        try {
          this.analyzer.noteFdb(readBridgeFdb(b.name));
        } catch {
          /* the bridge went away, or this is not its namespace: the frames still tell */
        }
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

  /** Writes what is buffered of the recording, so a second reader (export) sees every frame so far. */
  flush(): void {
    this.writer?.flush();
  }

  /** Stops capturing, completes the file (interface statistics, then close) and returns the findings. */
  stop(): Finding[] {
    if (this.findings) return this.findings;
    if (this.timer) clearInterval(this.timer);
    this.capture.stop();
    this.tick();
    if (this.writer) {
      const now = Date.now();
      const start = { sec: Math.floor(this.capture.startedAt), nsec: Math.round((this.capture.startedAt % 1) * 1e9) };
      // cap has no drop counters: -1 leaves isb_ifdrop out rather than claiming zero.
      for (const iface of this.capture.registry.list) this.writer.writeStats(iface.id, Math.floor(now / 1000), (now % 1000) * 1e6, -1, start);
      this.writer.close();
    }
    this.kmsg?.close();
    this.findings = this.analyzer.finish();
    return this.findings;
  }
}
