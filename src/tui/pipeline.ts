/**
 * Feeds the engine from capture files at packet rate without starving the UI: frames are read,
 * decoded and observed in slices (50k frames, then setImmediate lets Ink handle keys and
 * redraws), and the store is told once per slice that there is something new. The UI reads a
 * snapshot on its own timer; nothing here waits for the screen.
 *
 * Browse reads the files as fast as it can; replay (`--replay SPEED`) releases each frame when
 * its capture time, scaled by SPEED, has come: the screen then shows the capture as it happened.
 */
import { performance } from 'node:perf_hooks';
import { CaptureSet } from '../capture/index.js';
import type { PacketRecord } from '../model/record.js';
import { DecodedFrame, decodeFrame } from '../decode/index.js';
import type { SourceMode, UiDrops, UiInterface, UiSnapshot } from './model.js';
import { UiStore, type UiControls } from './store.js';
import type { PortRole } from '../model/topology.js';

/** What the pipeline needs of the engine: it sees every frame. */
export interface FrameObserver {
  observe(rec: PacketRecord, frame: DecodedFrame): void;
}

/** What the pipeline itself knows, for the adapter to put beside the engine's state. */
export interface PipelineStatus {
  title: string;
  mode: SourceMode;
  state: UiSnapshot['state'];
  /** Frames observed since the start or the last clear. */
  frames: number;
  /** Capture time of the newest frame, seconds since the epoch. */
  now: number;
  /** Per capture interface: frames since the start or the last clear, rate, drops. Role left to the adapter. */
  interfaces: Array<Omit<UiInterface, 'role'> & { role: PortRole | null }>;
  messages: string[];
  /** Live: what the capture lost so far. */
  drops?: UiDrops | null;
  /** Live: what happened to the capture itself (interfaces appearing, going), with wall times. */
  captureEvents?: readonly { time: number; text: string }[];
}

/**
 * Frames per capture interface per second of capture time: the rate shown is the last whole
 * second before the newest frame. Typed arrays indexed by interface id: nothing allocated per frame.
 */
export class InterfaceRates {
  private second = new Float64Array(8).fill(-1);
  private current = new Float64Array(8);
  private previous = new Float64Array(8);
  private frames = new Float64Array(8);

  count(id: number, tsSec: number): void {
    if (id >= this.second.length) this.grow(id + 1);
    const s = this.second[id]!;
    if (tsSec > s) {
      this.previous[id] = tsSec === s + 1 ? this.current[id]! : 0;
      this.current[id] = 0;
      this.second[id] = tsSec;
    }
    // Frames from an earlier second (out of order across merged inputs) count in the current one.
    this.current[id]!++;
    this.frames[id]!++;
  }

  framesOf(id: number): number {
    return id < this.frames.length ? this.frames[id]! : 0;
  }

  /** Frames in the last whole second before `nowSec` (the newest frame's second). */
  rate(id: number, nowSec: number): number {
    if (id >= this.second.length) return 0;
    const s = this.second[id]!;
    if (s === nowSec) return this.previous[id]!;
    if (s === nowSec - 1) return this.current[id]!;
    return 0;
  }

  reset(): void {
    this.second.fill(-1);
    this.current.fill(0);
    this.previous.fill(0);
    this.frames.fill(0);
  }

  private grow(n: number): void {
    const size = Math.max(n, this.second.length * 2);
    const widen = (a: Float64Array<ArrayBuffer>, fill: number): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.second = widen(this.second, -1);
    this.current = widen(this.current, 0);
    this.previous = widen(this.previous, 0);
    this.frames = widen(this.frames, 0);
  }
}

export interface FilePipelineOptions<A extends FrameObserver> {
  specs: string[];
  /** null: browse (as fast as possible); a number: replay at that many times real time. */
  replaySpeed: number | null;
  /** A fresh engine: at the start and on clear. */
  /** A fresh analysis of the capture set (its interfaces are listed in set.registry as inputs open). */
  makeAnalysis: (set: CaptureSet) => A;
  /** The adapter: the engine's state and the pipeline's status as one UI snapshot. */
  toSnapshot: (analysis: A, status: PipelineStatus) => UiSnapshot;
  /** Frames per slice before yielding to the event loop. */
  sliceFrames?: number;
  /** Called once when the last frame was observed (the engine's finish() belongs here). */
  onEnd?: (analysis: A) => void;
  /**
   * Called when capture time enters a new second, before that second's first frame is observed:
   * per-second series stay exact even when one slice (one snapshot) spans many seconds.
   */
  onSecond?: (analysis: A, sec: number) => void;
}

/** Longest wait of a replay before it looks at the clock again (keeps stop() prompt). */
const MAX_REPLAY_WAIT_MS = 100;

export class FilePipeline<A extends FrameObserver> implements UiControls {
  readonly store: UiStore;
  readonly set: CaptureSet;
  private engine: A;
  private readonly frame = new DecodedFrame();
  private readonly rates = new InterfaceRates();
  private readonly undecoded = new Map<number, number>();
  private frames = 0;
  private nowSec = 0;
  private nowNsec = 0;
  private done = false;
  private stopped = false;
  /** Replay: a record was read but its time has not come; it stays valid until the next next(). */
  private pending = false;
  private replayBase = -1;
  private wallBase = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** Set by the caller that knows how to export (the CLI); null leaves `e` saying it cannot. */
  exportEvidence: (() => Promise<string>) | null = null;

  constructor(private readonly opts: FilePipelineOptions<A>) {
    this.set = new CaptureSet(opts.specs);
    this.engine = opts.makeAnalysis(this.set);
    this.store = new UiStore(() => this.snapshot());
  }

  /** The engine frames currently go to (a new one after clear). */
  get analysis(): A {
    return this.engine;
  }

  get finished(): boolean {
    return this.done;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops reading (quit): closes the inputs. */
  stop(): void {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
    if (!this.done) this.set.close();
  }

  /** A fresh engine from the next frame on; reading goes on where it is. */
  clear(): void {
    this.engine = this.opts.makeAnalysis(this.set);
    this.rates.reset();
    this.frames = 0;
    this.store.changed();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = ms > 0 ? setTimeout(this.tick, ms) : setImmediate(this.tick);
  }

  private readonly tick = (): void => {
    this.timer = null;
    if (this.stopped || this.done) return;
    const set = this.set;
    const slice = this.opts.sliceFrames ?? 50_000;
    const speed = this.opts.replaySpeed;
    let n = 0;
    let waitMs = 0;
    while (n < slice) {
      if (!this.pending) {
        if (!set.next()) {
          this.done = true;
          this.opts.onEnd?.(this.engine);
          break;
        }
        this.pending = true;
      }
      const rec = set.rec;
      if (speed !== null) {
        const t = rec.tsSec + rec.tsNsec / 1e9;
        if (this.replayBase < 0) {
          this.replayBase = t;
          this.wallBase = performance.now();
        }
        const dueMs = ((t - this.replayBase) * 1000) / speed - (performance.now() - this.wallBase);
        if (dueMs > 0) {
          waitMs = Math.min(MAX_REPLAY_WAIT_MS, Math.max(1, dueMs));
          break;
        }
      }
      this.pending = false;
      this.observe(rec);
      n++;
    }
    if (n > 0 || this.done) this.store.changed();
    if (!this.done) this.schedule(waitMs);
  };

  private observe(rec: PacketRecord): void {
    const frame = this.frame;
    decodeFrame(rec, frame);
    if (!frame.supported) {
      const lt = rec.iface!.linkType;
      this.undecoded.set(lt, (this.undecoded.get(lt) ?? 0) + 1);
    }
    this.rates.count(rec.iface!.id, rec.tsSec);
    if (rec.tsSec > this.nowSec && this.nowSec > 0) this.opts.onSecond?.(this.engine, this.nowSec + this.nowNsec / 1e9);
    if (rec.tsSec > this.nowSec || (rec.tsSec === this.nowSec && rec.tsNsec > this.nowNsec)) {
      this.nowSec = rec.tsSec;
      this.nowNsec = rec.tsNsec;
    }
    this.frames++;
    this.engine.observe(rec, frame);
  }

  status(): PipelineStatus {
    const messages: string[] = [];
    for (const [lt, count] of this.undecoded) messages.push(`${count} frame${count === 1 ? '' : 's'} of link type ${lt} not decoded`);
    for (const w of this.set.warnings) messages.push(`warning: ${w.message}`);
    for (const e of this.set.errors) messages.push(e.message);
    return {
      title: this.opts.specs.join(' '),
      mode: this.opts.replaySpeed === null ? 'browse' : 'replay',
      state: this.done ? 'done' : 'reading',
      frames: this.frames,
      now: this.nowSec + this.nowNsec / 1e9,
      interfaces: this.set.registry.list.map((i) => ({
        name: i.name,
        role: null,
        frames: this.rates.framesOf(i.id),
        rate: this.rates.rate(i.id, this.nowSec),
        drops: i.drops,
      })),
      messages,
    };
  }

  snapshot(): UiSnapshot {
    return this.opts.toSnapshot(this.engine, this.status());
  }
}
