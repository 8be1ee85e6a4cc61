/**
 * State outside the view, as in Ink's own examples: the pipeline writes (engine updates at packet
 * rate, then `changed()` once per slice), the React tree reads on its own timer. Reading takes a
 * snapshot only when something changed since the last read, so an idle UI costs nothing and a
 * busy capture costs one snapshot per redraw, never one per frame.
 */
import type { UiSnapshot } from './model.js';

/** What the keys do to the pipeline behind the UI. */
export interface UiControls {
  /** Forget what was seen so far and start counting afresh (capture continues). */
  clear(): void;
  /** Writes the evidence of the findings; resolves to a line for the status bar. Null until export exists. */
  exportEvidence: (() => Promise<string>) | null;
}

export class UiStore {
  /** Bumped by the pipeline whenever the engine saw something new. */
  private version = 0;
  private readVersion = -1;
  private last: UiSnapshot | null = null;

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
      this.readVersion = this.version;
      this.last = this.take();
    }
    return this.last;
  }
}

/** A store over a fixed snapshot: tests, and `--json`-free rendering of a finished analysis. */
export function staticStore(snapshot: UiSnapshot): UiStore {
  return new UiStore(() => snapshot);
}
