/**
 * Findings over time, for a process that runs for months: the engine's findings only grow (counts,
 * last times), so the monitor reads them periodically and gives each one a life — **opened** when
 * evidence first arrives, **updated** while it keeps arriving (events rate-limited), **closed** after
 * a quiet period with none — so an alert resolves once the host is fixed.
 *
 * The engine is replaced now and then (a fresh Analyzer per epoch: that is how MACs and findings age
 * out), so counts restart; each reading says which engine generation it came from, and a count is
 * compared only with the last one of the same generation. What changed since the last reading is
 * handed to `onEvidence` (the metrics' counters grow by it).
 *
 * Findings from the host's configuration (`check`) have no evidence stream: they are active while
 * the latest check reports them, and close as soon as it no longer does.
 *
 * Two clocks: every interval here (quiet period, update rate) is measured on the caller's `now`,
 * a monotonic clock, so an NTP step of the wall clock neither closes a finding early nor keeps it
 * open for the length of the step; `wall` is only what the event lines show.
 */
import { type Finding, type FindingKind, findingIdentity } from '../engine/findings.js';
import type { Severity } from '../engine/severity.js';

export type Origin = 'frames' | 'configuration';

export interface Tracked {
  /** Stable for the finding's life, unique in this process: `kind/mac/vlan/opened-ms`. */
  id: string;
  key: string;
  origin: Origin;
  /** The engine's latest copy (same object the engine updates, or the last one it had). */
  finding: Finding;
  /** Monotonic ms (intervals are measured on these). */
  openedAt: number;
  lastEvidenceAt: number;
  /** Wall-clock ms of the same moments, for the event lines. */
  openedWall: number;
  lastEvidenceWall: number;
  /** Count accumulated over engine generations while open. */
  total: number;
  lastEventAt: number;
  lastEventTotal: number;
  /** The evidence bundle that holds this finding's frames (null: none, or not yet written). */
  bundle: string | null;
}

export interface LifecycleEvent {
  event: 'opened' | 'updated' | 'closed';
  /** Wall-clock ms. */
  at: number;
  tracked: Tracked;
  /** Why a finding closed before its quiet period: its guest's port is gone. */
  reason?: 'port-gone';
}

export interface LifecycleOptions {
  /** Close after this long with no new evidence (ms). */
  quietAfterMs: number;
  /** At most one `updated` per finding this often (ms). */
  updateEveryMs: number;
}

export const DEFAULT_LIFECYCLE: LifecycleOptions = { quietAfterMs: 300_000, updateEveryMs: 60_000 };

interface Seen {
  count: number;
  lastSec: number;
  lastNsec: number;
}

export class FindingTracker {
  private readonly open = new Map<string, Tracked>();
  /** Last count and time per key in the current engine generation. */
  private seen = new Map<string, Seen>();
  private generation = -1;
  /** Active findings by `kind|severity`, kept as they open and close (the metrics read it). */
  readonly activeBy = new Map<string, number>();
  opened = 0;
  closed = 0;

  constructor(
    readonly options: LifecycleOptions = DEFAULT_LIFECYCLE,
    /** New evidence of a finding since the last reading: `delta` more occurrences. */
    private readonly onEvidence: (f: Finding, delta: number) => void = () => {},
  ) {}

  /** A reading of the engine's findings at monotonic `now` (wall `wall`); returns what opened, updated and closed. */
  observe(findings: readonly Finding[], generation: number, now: number, wall = now): LifecycleEvent[] {
    if (generation !== this.generation) {
      this.generation = generation;
      this.seen = new Map();
    }
    const events: LifecycleEvent[] = [];
    for (const f of findings) {
      if (f.details.source === 'configuration') continue;
      const key = findingIdentity(f);
      const before = this.seen.get(key);
      const delta = before ? f.count - before.count : f.count;
      const later = !before || f.lastSec > before.lastSec || (f.lastSec === before.lastSec && f.lastNsec > before.lastNsec);
      if (before) {
        before.count = f.count;
        before.lastSec = f.lastSec;
        before.lastNsec = f.lastNsec;
      } else this.seen.set(key, { count: f.count, lastSec: f.lastSec, lastNsec: f.lastNsec });
      if (delta <= 0 && !later) continue;
      if (delta > 0) this.onEvidence(f, delta);
      let t = this.open.get(key);
      if (!t) {
        t = this.start(key, 'frames', f, now, wall);
        t.total = Math.max(delta, 1);
        t.lastEventTotal = t.total;
        events.push({ event: 'opened', at: wall, tracked: t });
        continue;
      }
      t.finding = f;
      t.lastEvidenceAt = now;
      t.lastEvidenceWall = wall;
      t.total += Math.max(delta, 0);
      if (t.total !== t.lastEventTotal && now - t.lastEventAt >= this.options.updateEveryMs) events.push(this.emitted(t, 'updated', now, wall));
    }
    for (const t of this.open.values()) {
      if (t.origin === 'frames' && now - t.lastEvidenceAt >= this.options.quietAfterMs) events.push(this.finish(t, wall));
    }
    return events;
  }

  /**
   * A guest's port is gone (the guest was destroyed or moved away): the findings about the MACs
   * that were its guests close now, with the reason, rather than linger for the quiet period.
   */
  closeFor(macs: ReadonlySet<number>, wall: number): LifecycleEvent[] {
    const events: LifecycleEvent[] = [];
    for (const t of this.open.values()) {
      if (t.origin === 'frames' && macs.has(t.finding.mac)) events.push({ ...this.finish(t, wall), reason: 'port-gone' });
    }
    return events;
  }

  /** The latest configuration check: what it reports is active, what it no longer reports closes. */
  observeConfiguration(findings: readonly Finding[], now: number, wall = now): LifecycleEvent[] {
    const events: LifecycleEvent[] = [];
    const current = new Set<string>();
    for (const f of findings) {
      const key = `config|${findingIdentity(f)}`;
      current.add(key);
      const t = this.open.get(key);
      if (t) t.finding = f;
      else events.push({ event: 'opened', at: wall, tracked: this.start(key, 'configuration', f, now, wall) });
    }
    for (const t of this.open.values()) if (t.origin === 'configuration' && !current.has(t.key)) events.push(this.finish(t, wall));
    return events;
  }

  /** Everything still open, closed (at shutdown: the process stops watching). */
  closeAll(wall: number): LifecycleEvent[] {
    return [...this.open.values()].map((t) => this.finish(t, wall));
  }

  get active(): IterableIterator<Tracked> {
    return this.open.values();
  }

  get activeCount(): number {
    return this.open.size;
  }

  private start(key: string, origin: Origin, f: Finding, now: number, wall: number): Tracked {
    const t: Tracked = { id: `${f.kind}/${f.mac >= 0 ? f.mac.toString(16).padStart(12, '0') : '-'}/${f.vlan}/${Math.round(wall)}`, key, origin, finding: f, openedAt: now, lastEvidenceAt: now, openedWall: wall, lastEvidenceWall: wall, total: 0, lastEventAt: now, lastEventTotal: 0, bundle: null };
    this.open.set(key, t);
    this.opened++;
    this.bump(f.kind, f.severity, 1);
    return t;
  }

  private finish(t: Tracked, wall: number): LifecycleEvent {
    this.open.delete(t.key);
    this.closed++;
    this.bump(t.finding.kind, t.finding.severity, -1);
    return { event: 'closed', at: wall, tracked: t };
  }

  private emitted(t: Tracked, event: 'updated', now: number, wall: number): LifecycleEvent {
    t.lastEventAt = now;
    t.lastEventTotal = t.total;
    return { event, at: wall, tracked: t };
  }

  private bump(kind: FindingKind, severity: Severity, by: number): void {
    const k = `${kind}|${severity}`;
    const n = (this.activeBy.get(k) ?? 0) + by;
    if (n > 0) this.activeBy.set(k, n);
    else this.activeBy.delete(k);
  }
}
