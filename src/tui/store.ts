/**
 * State outside the view, as in Ink's own examples: the pipeline writes (engine updates at packet
 * rate, then `changed()` once per slice), the React tree reads on its own timer. Reading takes a
 * snapshot only when something changed since the last read, so an idle UI costs nothing and a
 * busy capture costs one snapshot per redraw, never one per frame.
 */
import { performance } from 'node:perf_hooks';
import type { UiSnapshot } from './model.js';

/** What the keys do to the pipeline behind the UI. */
export interface UiControls {
  /** Forget what was seen so far and start counting afresh (capture continues). */
  clear(): void;
  /** Writes the evidence of the findings; resolves to a line for the status bar. Null until export exists. */
  exportEvidence: (() => Promise<string>) | null;
}

/**
 * Share of one core the redraws may take: when snapshots and rendering get expensive (a huge MAC
 * table, a big terminal), redraws come less often than ten a second instead of eating the CPU
 * the capture needs.
 */
const REDRAW_BUDGET = 0.1;
/** However costly, the screen is redrawn at least once a second while things change. */
const MAX_REDRAW_MS = 1000;
const WARM_UP_RENDERS = 3;

export class UiStore {
  /** Bumped by the pipeline whenever the engine saw something new. */
  private version = 0;
  private readVersion = -1;
  private last: UiSnapshot | null = null;
  private lastReadAt = -Infinity;
  private snapshotMs = 0;
  private renderMs = 0;
  private renders = 0;
  private reads = 0;

  /** `take` builds a snapshot from the engine's current state (the adapter). */
  constructor(private take: () => UiSnapshot) {}

  /** The pipeline calls this after each slice of frames (never per frame). */
  changed(): void {
    this.version++;
  }

  /** Replaces the snapshot builder (clear: a fresh engine). */
  setSource(take: () => UiSnapshot): void {
    this.take = take;
    this.version++;
  }

  /** True when a read would give a newer snapshot than the last one. */
  get dirty(): boolean {
    return this.version !== this.readVersion;
  }

  /** The current snapshot: a fresh one when the pipeline changed something since the last read. */
  read(): UiSnapshot {
    if (this.last === null || this.version !== this.readVersion) {
      const t0 = performance.now();
      this.readVersion = this.version;
      this.last = this.take();
      this.lastReadAt = performance.now();
      // The first snapshot pays for compiling the adapter: not a steady cost either.
      if (++this.reads > 1) this.snapshotMs = ewma(this.snapshotMs, this.lastReadAt - t0);
    }
    return this.last;
  }

  /** Ink's time to draw the last frame (its onRender metrics). */
  noteRender(ms: number): void {
    // The first frames pay for compiling the code (JIT): they say nothing about the steady cost.
    if (++this.renders > WARM_UP_RENDERS) this.renderMs = ewma(this.renderMs, ms);
  }

  /** Least time between redraws: `minMs`, or longer when a redraw costs more than the budget allows (a second at most). */
  redrawInterval(minMs: number): number {
    // Ink reports the time of its output phase only; React's reconciliation before it costs about
    // as much again (profiled on the bench capture), hence twice the render time.
    return Math.min(MAX_REDRAW_MS, Math.max(minMs, (this.snapshotMs + 2 * this.renderMs) / REDRAW_BUDGET));
  }

  /** True when something changed and the redraw budget allows a new snapshot now. */
  due(minMs: number, now = performance.now()): boolean {
    return this.dirty && now - this.lastReadAt >= this.redrawInterval(minMs) - 1;
  }
}

/** Smooths costs over the last few redraws, so one slow frame does not halve the rate. */
function ewma(prev: number, sample: number): number {
  return prev === 0 ? sample : prev * 0.75 + sample * 0.25;
}

/** A store over one fixed snapshot (component tests). */
export function staticStore(snapshot: UiSnapshot): UiStore {
  return new UiStore(() => snapshot);
}
