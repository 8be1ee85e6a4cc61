/**
 * Feeds the UI from a live capture. The capture hands frames on at packet rate (the engine
 * observes each frame there); this side only counts per-interface rates, tells the store that
 * something changed, and samples the per-second series. The screen reads snapshots on its own timer.
 */
import type { CaptureDrops } from '../capture/live-backend.js';
import type { CaptureInterface, PacketRecord } from '../model/record.js';
import type { DecodedFrame } from '../decode/frame.js';
import type { Analyzer } from '../engine/analyzer.js';
import type { Finding } from '../engine/findings.js';
import { AnalysisView } from './adapter.js';
import type { UiDrops, UiSnapshot } from './model.js';
import { InterfaceRates, type PipelineStatus } from './pipeline.js';
import { UiStore, type UiControls } from './store.js';

/** What the UI needs of a live session (src/cli/live-session.ts is one). */
export interface LiveFeed {
  readonly analyzer: Analyzer;
  readonly observers: ((rec: PacketRecord, frame: DecodedFrame) => void)[];
  readonly messages: string[];
  readonly events: readonly { time: number; kind: string; text: string }[];
  readonly capture: { readonly registry: { readonly list: CaptureInterface[] }; readonly active: string[] };
  drops(): CaptureDrops | null;
  reset(): void;
  stop(): Finding[];
}

export interface LivePipelineOptions {
  title: string;
  /** Writes an evidence bundle of what was captured so far; null when it cannot (no --write). */
  exportEvidence: (() => Promise<string>) | null;
}

export class LivePipeline implements UiControls {
  readonly store: UiStore;
  private view: AnalysisView;
  private readonly rates = new InterfaceRates();
  private frames = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastSampled = 0;
  private stopped = false;
  readonly exportEvidence: (() => Promise<string>) | null;

  constructor(
    private readonly feed: LiveFeed,
    private readonly opts: LivePipelineOptions,
  ) {
    this.view = new AnalysisView([opts.title]);
    this.store = new UiStore(() => this.snapshot());
    this.exportEvidence = opts.exportEvidence;
    feed.observers.push((rec) => {
      this.rates.count(rec.iface!.id, rec.tsSec);
      this.frames++;
    });
  }

  start(): void {
    // Ten times a second: the store learns there is something new, the per-second series a sample.
    this.timer = setInterval(() => {
      const now = Date.now() / 1000;
      if (Math.floor(now) > this.lastSampled) {
        this.lastSampled = Math.floor(now);
        this.view.sample(this.feed.analyzer, now);
      }
      this.store.changed();
    }, 100);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.feed.stop();
  }

  clear(): void {
    this.feed.reset();
    this.view = new AnalysisView([this.opts.title]);
    this.rates.reset();
    this.frames = 0;
    this.store.changed();
  }

  status(): PipelineStatus {
    const now = Date.now() / 1000;
    return {
      title: this.opts.title,
      mode: 'live',
      state: this.stopped ? 'stopped' : 'capturing',
      frames: this.frames,
      now,
      interfaces: this.feed.capture.registry.list.map((i) => ({
        name: i.name,
        role: null,
        frames: this.rates.framesOf(i.id),
        rate: this.rates.rate(i.id, Math.floor(now)),
        // One ring serves every interface: the kernel's drops are the host's, shown in the status.
        drops: -1,
      })),
      messages: [...this.feed.messages],
      drops: uiDrops(this.feed.drops()),
      captureEvents: this.feed.events.filter((e) => e.kind === 'appeared' || e.kind === 'gone'),
    };
  }

  snapshot(): UiSnapshot {
    return this.view.snapshot(this.feed.analyzer, this.status());
  }
}

function uiDrops(d: CaptureDrops | null): UiDrops | null {
  if (!d) return null;
  return { kernel: d.kernel, internal: d.internal, lastSec: (d.kernelLastSec ?? 0) + d.internalLastSec };
}
