/**
 * Grouping of copies: a frame seen on several ports is one group of sightings (path.ts R3: the
 * same bytes from the same source within the hop gap of its latest copy), opened as frames come in
 * time order and handed to the sink, in time order, once no later copy can join and the capture
 * windows it is judged by have seen whether each port went on capturing after it.
 */
import type { SettledGroup } from './detectors/context.js';
import type { AnalysisStats } from './options.js';
import type { PathSighting } from './path.js';
import { PendingGroups } from './pending-groups.js';
import type { PortState } from './ports.js';

/**
 * Sightings kept in one group. A frame's path through a host takes a handful; a storm repeating
 * one frame on a port would otherwise grow one group without end and make every sighting scan
 * all the earlier ones. Past this, the next sighting starts a new group.
 */
export const MAX_SIGHTINGS = 64;
/**
 * Groups waiting for their window to pass, at most. Past it the oldest settle early: timestamps
 * that stand still (SPB), jump back (a clock stepped during a capture) or a frame stamped far in
 * the future would otherwise hold every later group until the end.
 */
export const MAX_PENDING_GROUPS = 65536;
/**
 * How long after its latest copy a frame's group settles: long enough for each input's window to
 * show it was still capturing (a port that sent nothing for half a second after a frame counts as
 * stopped), short enough that the pending groups stay a few thousand (in cache) on a busy uplink.
 */
export const SETTLE_AFTER_NS = 500e6;
/** Groups are settled once per this much engine time (settleStep): a few thousand at a time on a busy uplink, not one per frame. */
export const SETTLE_STEP_NS = 50e6;

/** A frame's group of copies as it settles. */
export interface Group extends SettledGroup {
  firstT: number;
  sightings: PathSighting[];
}

/** Where settled groups go. */
export interface GroupSink {
  /** A group whose window has passed. The Group and its sightings are reused for the next one: copy what is kept. */
  settled(g: Group): void;
  /** Every settling pass, whether or not a group settled (before the pass's groups). */
  pass(): void;
}

export class Grouping {
  /** Groups waiting for their window to pass, in arrival order (pending-groups.ts). */
  private readonly pending = new PendingGroups();
  /** The group being settled and its sightings: one set of objects, reused for every group. */
  private readonly settling: Group = { src: 0, dst: 0, vlan: 0, group: false, firstT: 0, sightings: [] };
  private readonly sightingRows: PathSighting[] = Array.from({ length: MAX_SIGHTINGS }, () => ({ port: 0, t: 0, dir: 0, input: 0, frame: 0, place: 0 }));
  /**
   * Time of the latest frame: windows are measured from it, not from the latest time ever seen,
   * so one frame stamped far in the future (or a clock stepped back) does not stop the settling.
   */
  private nowT = 0;
  /** The step of engine time (SETTLE_STEP_NS) groups were last settled at. */
  private settledStep = NaN;

  constructor(
    /** A group's copies span this much at most (AnalyzerOptions.windowNs). */
    private readonly windowNs: number,
    /** How far apart two copies of one frame may be stamped (hopGapFor the options' stamps). */
    private readonly hopGapNs: number,
    private readonly stats: AnalysisStats,
    private readonly sink: GroupSink,
  ) {}

  /** The groups waiting (read-only: the bounds checks read them through Analyzer.growing). */
  get waiting(): PendingGroups {
    return this.pending;
  }

  /** A frame at engine time t comes next, in time order: what was complete at its step's start settles first (it came before this frame, which cannot join it). */
  at(t: number): void {
    this.nowT = t;
    this.settleStep();
  }

  /** Live time passed without frames: engine time is at least t now (advanceTo). */
  reach(t: number): void {
    if (t > this.nowT) this.nowT = t;
  }

  /** Settles what was complete at the current step's start (settleStep). */
  settleDue(): void {
    this.settleStep();
  }

  /** Settles every group, complete or not (the end). */
  settleAll(): void {
    this.settleAt(Infinity, true);
  }

  /** A copy into its frame's group (path.ts R3: the same bytes within the hop gap of its latest copy), or a new group. */
  sight(key: number, check: number, src: number, dst: number, vlan: number, isGroup: boolean, port: PortState, t: number, dir: number, input: number, frame: number): void {
    const pg = this.pending;
    let slot = pg.find(key);
    if (
      slot >= 0 &&
      (pg.check[slot] !== check ||
        pg.src[slot] !== src ||
        t - pg.firstT[slot]! > this.windowNs ||
        t - pg.lastT[slot]! > this.hopGapNs ||
        pg.count[slot]! >= MAX_SIGHTINGS)
    )
      slot = -1;
    if (slot < 0) {
      pg.open(key, check, src, dst, vlan, isGroup, port.index, t, dir, input, frame);
      this.stats.groups++;
      return;
    }
    if (dst >= 0) pg.dst[slot] = dst;
    if (isGroup) pg.isGroup[slot] = 1;
    pg.add(slot, port.index, t, dir, input, frame);
  }

  /**
   * Once per step of engine time (a step back counts as another, a clock stepped back), and
   * whenever more groups wait than MAX_PENDING_GROUPS: what was complete at the step's start.
   * Steps, not each frame's own time: which groups have settled before a frame is handled then
   * depends on the frames alone. A live session's ticks (advanceTo) settle at most what its next
   * frame would settle before it — that frame is in the same step or a later one — so analyze of
   * the session's recording settles the same groups before the same frames, and what the bridge
   * learned from a unicast and from a group's copies is applied in the same order.
   */
  private settleStep(): void {
    const step = Math.floor(this.nowT / SETTLE_STEP_NS);
    if (step === this.settledStep && this.pending.length <= MAX_PENDING_GROUPS) return;
    this.settledStep = step;
    this.settleAt(step * SETTLE_STEP_NS, false);
  }

  /** Settles the groups complete at engine time `at` (every one, `all`). */
  private settleAt(at: number, all: boolean): void {
    // Frames come in time order (reorder.ts), and a copy joins its frame only within the hop gap
    // of the latest copy (path.ts, R3): a group whose latest copy is older than that is complete.
    // It waits SETTLE_AFTER_NS all the same, so the capture windows it is judged by have seen
    // whether each port went on capturing after it. (The window still caps a group's span.)
    const horizon = all ? Infinity : at - Math.max(this.hopGapNs, SETTLE_AFTER_NS);
    // A group more than a window ahead of the latest frame came from a clock that jumped: no
    // later sighting can join it in time order, so it settles now instead of blocking the queue.
    const future = at + this.windowNs;
    // Groups open in time order: take them from the front while they are complete. (One that is
    // still growing holds the ones behind it for at most a hop gap.)
    const pg = this.pending;
    const early = pg.length - MAX_PENDING_GROUPS;
    let n = 0;
    let sorted = true;
    let prev = -Infinity;
    for (; n < pg.length; n++) {
      const slot = pg.slotAt(n);
      const ft = pg.firstT[slot]!;
      const lt = pg.lastT[slot]!;
      if (!(lt < horizon || ft > future || n < early)) break;
      if (ft < prev) sorted = false;
      prev = ft;
    }
    this.sink.pass();
    if (n === 0) return;
    // Settled in time order; the queue's own order is nearly that, so a sort is rarely needed.
    if (sorted) for (let i = 0; i < n; i++) this.sink.settled(this.materialize(pg.slotAt(i)));
    else {
      const slots = Array.from({ length: n }, (_, i) => pg.slotAt(i)).sort((a, b) => pg.firstT[a]! - pg.firstT[b]!);
      for (const slot of slots) this.sink.settled(this.materialize(slot));
    }
    pg.dropFront(n);
    this.stats.pendingGroups = pg.length;
  }

  /**
   * The group in `slot` as the one reused Group (and its reused sightings) that settling reads.
   * Nothing keeps them past the sink's `settled`: findings and moves copy what they need.
   */
  private materialize(slot: number): Group {
    const pg = this.pending;
    const g = this.settling;
    g.src = pg.src[slot]!;
    g.dst = pg.dst[slot]!;
    g.vlan = pg.vlan[slot]!;
    g.group = pg.isGroup[slot] === 1;
    g.firstT = pg.firstT[slot]!;
    const s = g.sightings;
    const pool = this.sightingRows;
    const n = pg.count[slot]!;
    if (s.length !== n) s.length = n;
    let x = pool[0]!;
    x.port = pg.port[slot]!;
    x.t = pg.t[slot]!;
    x.dir = pg.dir[slot]!;
    x.input = pg.input[slot]!;
    x.frame = pg.frame[slot]!;
    s[0] = x;
    let i = 1;
    for (let r = pg.more(slot); r >= 0; r = pg.sNext[r]!, i++) {
      x = pool[i]!;
      x.port = pg.sPort[r]!;
      x.t = pg.sT[r]!;
      x.dir = pg.sDir[r]!;
      x.input = pg.sInput[r]!;
      x.frame = pg.sFrame[r]!;
      s[i] = x;
    }
    return g;
  }
}
