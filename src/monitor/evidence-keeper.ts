/**
 * Evidence kept from the moment it happened: when a finding opens, the monitor asks for a bundle;
 * a little later (so the frames *after* the opening are in too) the frame ring's frames from
 * `beforeSec` before the opening are written as capture.pcapng, and `bondscope export`'s own
 * exporter (src/export) turns that into the bundle beside it (evidence.pcapng with comments,
 * report.md, findings.json). Findings opening while a bundle is pending join it.
 *
 * Bounded: at most one bundle per `minIntervalMs` (the rest are counted as skipped and say so),
 * and the directory is kept under `maxBytes` by removing the oldest bundles first, before a bundle
 * is written (room for the whole ring) and after; when the newest alone is over it, its raw
 * capture.pcapng goes and its trimmed evidence stays. While a bundle is written the directory can
 * pass the cap by at most that bundle, when the cap is smaller than the ring. Only directories
 * this keeper named are ever removed.
 *
 * Never a bundle that looks complete and is not: each is written into a hidden `.partial-<name>`
 * directory beside the others, its files flushed to disk, and renamed to its name once whole (a
 * rename within one directory is atomic). A write that fails — the disk is full, above all — removes
 * its partial directory and is counted; a partial directory left by a process that was killed
 * mid-bundle is removed at the next start, and said. Bundles are pruned in the order they were
 * written (those found at start first, by name), not by the stamp in their names: a wall clock
 * stepped back would otherwise make the newest bundle look the oldest.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { exportEvidence } from '../export/evidence.js';
import type { FrameStamps } from '../model/record.js';
import { topologyToComment, type Topology } from '../model/topology.js';
import { VERSION } from '../model/version.js';
import type { FrameRing } from './frame-ring.js';
import type { Tracked } from './lifecycle.js';

export interface EvidenceOptions {
  dir: string;
  /** Frames from this long before the finding opened. */
  beforeSec: number;
  /** Wait this long after the opening before writing (the frames after it). */
  afterMs: number;
  /** At most one bundle this often. */
  minIntervalMs: number;
  /** Cap on the directory; the oldest bundles go first. */
  maxBytes: number;
}

export const DEFAULT_EVIDENCE: Omit<EvidenceOptions, 'dir'> = { beforeSec: 30, afterMs: 10_000, minIntervalMs: 300_000, maxBytes: 256 << 20 };

/** Bundle directories: UTC stamp, then the kind of the finding that asked for it. */
const BUNDLE_NAME = /^\d{8}T\d{6}(?:\.\d{3})?Z-[a-z-]+$/;
/** A bundle being written (or left half-written by a process killed meanwhile). */
const PARTIAL = '.partial-';

/** Why a bundle was not written. */
export type SkipReason = 'rate-limit' | 'disk-full' | 'error';

export interface BundleWritten {
  bundle: string;
  findings: string[];
  frames: number;
  bytes: number;
  error: string | null;
  /** Set when `error` is: the disk (or the quota) was full, or anything else. */
  reason: Exclude<SkipReason, 'rate-limit'> | null;
}

interface Pending {
  dir: string;
  fromSec: number;
  due: number;
  findings: Tracked[];
}

export class EvidenceKeeper {
  private pending: Pending | null = null;
  private writing = false;
  private lastAt = -Infinity;
  /** Bytes in the directory after the last write and pruning. */
  bytes = 0;
  written = 0;
  skipped = 0;
  /** Partial bundles a killed process had left, removed at start (the monitor says so). */
  readonly leftovers: string[] = [];
  /** Bundles this keeper wrote, oldest first (pruning goes by this order, not by their names). */
  private readonly order: string[] = [];

  constructor(
    readonly options: EvidenceOptions,
    private readonly ring: FrameRing,
    private readonly topology: () => Topology,
    /** Who stamped the ring's frames (the session's backend), recorded so the bundle is analysed as the monitor's engine grouped them. */
    private readonly stamps: () => FrameStamps | undefined = () => undefined,
  ) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    for (const n of readdirSync(options.dir)) {
      if (!n.startsWith(PARTIAL)) continue;
      rmSync(join(options.dir, n), { recursive: true, force: true });
      this.leftovers.push(n);
    }
    this.bytes = this.prune();
  }

  /**
   * A finding opened (at monotonic `now`, wall `wall`): the bundle its frames will be in (set on
   * `t.bundle`), or null when rate-limited.
   */
  request(t: Tracked, now: number, wall = now): string | null {
    if (this.pending) {
      this.pending.findings.push(t);
      t.bundle = this.pending.dir;
      return t.bundle;
    }
    if (now - this.lastAt < this.options.minIntervalMs) {
      this.skipped++;
      return null;
    }
    const stamp = new Date(wall).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let dir = join(this.options.dir, `${stamp}-${t.finding.kind}`);
    // Two in one second (a restart, a clock stepped back): keep them apart.
    if (exists(dir)) dir = join(this.options.dir, `${stamp.replace('Z', '')}.${String(Math.round(wall) % 1000).padStart(3, '0')}Z-${t.finding.kind}`);
    // The frames from `beforeSec` before the evidence that opened it, on the frames' own clock.
    this.pending = { dir, fromSec: Math.floor(t.finding.lastSec - this.options.beforeSec), due: now + this.options.afterMs, findings: [t] };
    this.lastAt = now;
    t.bundle = dir;
    return dir;
  }

  /** Writes the pending bundle once it is due (monotonic `now`); resolves with what was written, or null. */
  async tick(now: number): Promise<BundleWritten | null> {
    const p = this.pending;
    if (!p || this.writing || now < p.due) return null;
    this.writing = true;
    this.pending = null;
    const ids = p.findings.map((t) => t.id);
    const name = p.dir.slice(this.options.dir.length + 1);
    const partial = join(this.options.dir, `${PARTIAL}${name}`);
    try {
      // Room first: the new bundle holds at most the ring (pcapng adds a few bytes per frame) and
      // a report, so older bundles go before it is written, not only after.
      this.prune(Math.ceil(this.ring.used * 1.25) + (256 << 10));
      mkdirSync(partial, { mode: 0o700 });
      const capture = join(partial, 'capture.pcapng');
      const topology = this.topology();
      const frames = this.ring.writePcapng(capture, p.fromSec, topologyToComment(topology, { capturedBy: `bondscope ${VERSION} monitor`, interfaces: this.ring.interfaces.map((i) => i.name), stamps: this.stamps() }), `bondscope ${VERSION}`);
      // The bundle names its capture as it will be found beside the report: capture.pcapng.
      await exportEvidence({ specs: [capture], inputNames: ['capture.pcapng'], outDir: partial, topology: () => this.topology() });
      for (const f of readdirSync(partial)) syncFile(join(partial, f));
      renameSync(partial, p.dir);
      this.order.push(name);
      this.written++;
      this.bytes = this.prune();
      return { bundle: p.dir, findings: ids, frames, bytes: dirBytes(p.dir), error: null, reason: null };
    } catch (err) {
      rmSync(partial, { recursive: true, force: true });
      this.skipped++;
      const code = (err as NodeJS.ErrnoException).code;
      const full = code === 'ENOSPC' || code === 'EDQUOT';
      this.bytes = this.prune();
      return { bundle: p.dir, findings: ids, frames: 0, bytes: 0, error: full ? `the evidence directory's disk is full (${code}): bundle not written` : (err as Error).message, reason: full ? 'disk-full' : 'error' };
    } finally {
      this.writing = false;
    }
  }

  /** Removes the oldest bundles until the directory (and `reserve` bytes more) is under the cap; returns the bytes left. */
  private prune(reserve = 0): number {
    let names: string[];
    try {
      const found = readdirSync(this.options.dir).filter((n) => BUNDLE_NAME.test(n));
      // Forget bundles removed since (by pruning, or by hand): the list stays as long as the directory.
      this.order.splice(0, this.order.length, ...this.order.filter((n) => found.includes(n)));
      names = oldestFirst(found, this.order);
    } catch {
      return 0;
    }
    const sizes = names.map((n) => dirBytes(join(this.options.dir, n)));
    let total = sizes.reduce((a, b) => a + b, 0);
    const keep = reserve > 0 ? 0 : 1;
    for (let i = 0; i < names.length - keep && total + reserve > this.options.maxBytes; i++) {
      rmSync(join(this.options.dir, names[i]!), { recursive: true, force: true });
      total -= sizes[i]!;
    }
    // The newest bundle alone over the cap: its raw capture.pcapng (the whole ring) goes; the
    // trimmed evidence, the report and the findings stay.
    const newest = names.at(-1);
    if (reserve === 0 && newest !== undefined && total > this.options.maxBytes) {
      const raw = join(this.options.dir, newest, 'capture.pcapng');
      try {
        total -= statSync(raw).size;
        rmSync(raw, { force: true });
      } catch {
        /* already gone */
      }
    }
    return total;
  }
}

/** Bundles oldest first: those this keeper did not write (found at start) by name, then the ones it wrote, in order. */
export function oldestFirst(found: readonly string[], written: readonly string[]): string[] {
  const mine = new Set(written);
  return [...found.filter((n) => !mine.has(n)).sort(), ...written.filter((n) => found.includes(n))];
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Flushes a file to the disk (a crash after the rename finds every byte of the bundle). */
function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const f of readdirSync(dir)) {
      try {
        n += statSync(join(dir, f)).size;
      } catch {
        /* removed meanwhile */
      }
    }
  } catch {
    /* gone */
  }
  return n;
}
