/**
 * Capture files taken by separate tools each carry a clock. Files from one host (one tcpdump per
 * interface, dumpcap and tcpdump side by side) share the kernel's clock and must never be shifted:
 * the time between a frame leaving one slave and coming back on the other is the loop itself, and
 * the switch's latency (0.3–2 ms on real switches) is latency, not skew. Files from two machines
 * (a switch's mirror port recorded elsewhere, a laptop's dumpcap beside the host's tcpdump), or
 * from a tool that stamps late, carry clocks apart — by µs, by the few hundred ms of a clock
 * nobody synchronised, by seconds: an echo may then seem to come before its original and every
 * path reads backwards, so those are lined up before the engine runs, in three steps, after one
 * that needs no roles.
 *
 * 0. Ties (tieLinks, tieClocks): the kernel stamps a frame once where it is received, and the
 *    copies that receive path hands on keep that stamp (a guest's frame on its port and on the
 *    bridge device, a frame from the switch on the bond and the bridge device). So copies on two
 *    files of one clock differ by exactly zero, frame after frame; on two clocks, by exactly the
 *    offset. That holds whatever the ports' roles, which are read from the order of copies (a
 *    clock apart by more than a hop, 0.2 ms as well as 2, turns them around): a file these ties
 *    hold against several that agree among themselves is lined up onto them first, exactly.
 *
 * 1. Coarse, across files (compareAcrossFiles, coarseOffsets): past the pre-pass's grouping gap
 *    (100 ms) a frame's copies on two clocks fall into groups of their own, so the files are first
 *    compared frame by frame, from copies whose pairing is not in question: a copy on a port of one
 *    file and a copy of the same frame on a port of another pair when each is the other's only
 *    candidate within ±MAX_OFFSET_NS (±NEAR_OFFSET_NS for files that leave nothing at that bound):
 *    a frame that recurs with the same bytes within the bound pairs with nothing. Any ports pair
 *    here, slaves too: this only has to be right to within COARSE_TOLERANCE_NS, for the
 *    pre-pass to group each frame's sightings again as one (prepass.ts, regroup()). Every VLAN
 *    alike: a frame's identity leaves its tags out.
 *
 * 2. In-host (compareClocks, on the sightings grouped again): clocks are compared only across
 *    in-host hops, where the order of a frame's sightings is not in question. A frame crosses a
 *    host — slave ↔ bond ↔ bridge ↔ guest port, one guest port to another, or the same port
 *    captured by two tools — in microseconds, whichever way it goes, so on one clock the two inputs'
 *    stamps of the same frame differ by microseconds; on two clocks, by the offset between them.
 *    Pairs of slaves are never compared: between them lies the switch (and the loop). Ports without
 *    a role (flags, recorded topology, names, or roles inferred from the frames) are not compared
 *    either. A frame seen once on each of the two ports pairs one way. A frame seen twice on one of
 *    them (an original and its echo on the bond, a resend) pairs with either copy, so each of its
 *    pairings weighs 1/(copies on one port × copies on the other): the echo's wrong pairing, off by
 *    the loop's delay, never outweighs the right one. The differences are then clustered: the
 *    heaviest window of ±IN_HOST_NS is where the in-host pairs lie. Two inputs share a clock when
 *    the window around zero holds at least SAME_CLOCK_SHARE of the heaviest window's weight (pairs
 *    that sit at zero are what one clock gives, and a loop's delay can only make a second, lighter
 *    cluster); otherwise the second input is shifted by the weighted median of the heaviest window,
 *    if that is at least NEGLIGIBLE_OFFSET_NS, unless a second window, away from it, weighs nearly
 *    as much (≥ TIE_SHARE): an input that only ever sees echoes pairs with an original and its echo
 *    alike, and a tie gives no verdict. Inputs on one clock are tied together first, then the
 *    clocks apart along the heaviest pairs (a maximum spanning forest), input 0's clock being the
 *    reference.
 *
 * 3. To the stamp (refineOffsets): the median of in-host differences is off by the typical hop
 *    (tens of µs where a frame always crosses the two ports one way, as on a backup slave that only
 *    receives), enough to put a frame on the bond before the slave it came in by. So a shifted
 *    input's offset is refined, within ±REFINE_NS, to the one nearest the median that breaks the
 *    fewest orders that are not in question: each copy of a frame on the bond passed between a
 *    slave and the host side (see brokenOrders). Only copies within IN_HOST_NS of each other are
 *    compared (an original and its echo are further apart once the switch takes 0.3 ms or more;
 *    where it takes less, the wrong ones are outvoted). Then, where copies of one receive path
 *    give it (tiedOffset: the kernel stamps a frame once where it is received, and the copies that
 *    path hands on keep that stamp: a guest's frame on its port and on the bridge device), the
 *    offset is taken exactly, if that breaks no more orders. Orders alone pin a guest's port only
 *    to within its shortest hop from the bond (a few µs), which is enough to read a guest's own
 *    broadcast as the host's.
 *
 * A file left out of the host's clock — no pair at all (a file that shares too few frames with
 * the others, or is further off than the bound), or paired only across the switch or through
 * ports of unknown role — is not shifted (no guess), and the capabilities say so
 * (unsettledClocks; the 'clocks' row in capabilities.ts).
 *
 * Not used as evidence: pcapng shb_hardware/shb_os/shb_userappl (two machines running the same
 * dumpcap say the same) and file names; if_tsoffset is applied by the reader before this sees a
 * stamp. The frames decide.
 */
import type { PortRole } from '../model/topology.js';
import { CAST_UNICAST, type FrameSightings } from './sightings.js';

/** In-host hops are within this of each other on one clock (µs in practice; softirq backlog under load). */
export const IN_HOST_NS = 150e3;
/** Offsets the in-host rule finds below this are left alone: within what one clock's hops can give (copies stamped once, which give the offset exactly, line up smaller ones: tieClocks). */
export const NEGLIGIBLE_OFFSET_NS = 300e3;
/** Weight (frames' worth of pairs) needed before two inputs' clocks are compared at all. */
const MIN_WEIGHT = 8;
/** Share of the heaviest cluster's weight that pairs at zero need for the inputs to share a clock. */
const SAME_CLOCK_SHARE = 0.5;
/** A second cluster this close to the heaviest's weight makes a tie: no verdict. */
const TIE_SHARE = 0.8;
/** Pairs kept per pair of inputs (more say nothing new, and sorting them is the pre-pass's cost). */
const MAX_PAIRS = 20_000;
/** Copies of one frame on one port beyond which its pairings say nothing (a storm). */
const MAX_COPIES = 4;

export interface ClockOffset {
  input: number;
  /** Nanoseconds to subtract from this input's stamps to put them on input 0's clock (via others). */
  offsetNs: number;
  /** Frames' worth of in-host pairs the estimate rests on (the heaviest cluster's weight). */
  pairs: number;
}

/** What the comparison of two inputs found. */
export interface ClockLink {
  a: number;
  b: number;
  /** b's clock minus a's, 0 when they share one. */
  offsetNs: number;
  sameClock: boolean;
  /**
   * Where the pairs do not sit at zero but their cluster is nearer than NEGLIGIBLE_OFFSET_NS (a
   * same-clock verdict by negligibility, the clocks left as they are): the cluster's median. 0 when
   * the pairs sit at zero (or the verdict is an offset).
   */
  residualNs?: number;
  /** Weight of the cluster the verdict rests on. */
  weight: number;
}

/**
 * Compares the clocks of every two inputs that share in-host frames; `roles` by port index of
 * the sightings (the known roles, with the inferred ones filled in).
 */
export function compareClocks(s: FrameSightings, roles: readonly PortRole[]): ClockLink[] {
  if (s.inputs < 2) return [];
  const lists = new PairLists(s.inputs, MAX_PAIRS);
  const copies = new Int32Array(s.ports.length);
  const known = roles.map((r) => r !== 'unknown');
  const slave = roles.map((r) => r === 'slave');
  let full = 0;
  const pairsOfInputs = (s.inputs * (s.inputs - 1)) / 2;
  for (let g = 0; g < s.frames && full < pairsOfInputs; g++) {
    const from = s.start[g]!;
    const to = s.start[g + 1]!;
    if (to - from < 2) continue;
    for (let k = from; k < to; k++) copies[s.port[k]!] = 0;
    for (let k = from; k < to; k++) copies[s.port[k]!]!++;
    for (let x = from; x < to; x++) {
      for (let y = x + 1; y < to; y++) {
        const i = s.input[x]!;
        const j = s.input[y]!;
        if (i === j) continue;
        const px = s.port[x]!;
        const py = s.port[y]!;
        // An in-host hop: the same port seen by two captures, or two known roles but not two slaves.
        if (px !== py && !(known[px] && known[py] && !(slave[px] && slave[py]))) continue;
        const cx = copies[px]!;
        const cy = copies[py]!;
        if (cx > MAX_COPIES || cy > MAX_COPIES) continue;
        if (lists.add(i, j, s.t[y]! - s.t[x]!, 1 / (cx * cy))) full++;
      }
    }
  }
  return lists.verdicts();
}

/**
 * Per pair of inputs (a < b), the differences of its pairs (b minus a) and their weights, up to
 * `cap` pairs: typed columns of `cap` rows, made at a pair's first (the rows never written cost no
 * memory), where arrays pushed to grew by copying.
 */
class PairLists {
  private readonly d: (Float64Array | undefined)[];
  private readonly w: (Float64Array | undefined)[];
  private readonly n: Int32Array;

  constructor(
    private readonly inputs: number,
    private readonly cap: number,
  ) {
    this.d = new Array(inputs * inputs);
    this.w = new Array(inputs * inputs);
    this.n = new Int32Array(inputs * inputs);
  }

  /** A pair: `d` is input j's stamp minus input i's. Whether that pair of inputs just reached the cap. */
  add(i: number, j: number, d: number, w: number): boolean {
    const key = i < j ? i * this.inputs + j : j * this.inputs + i;
    const n = this.n[key]!;
    if (n >= this.cap) return false;
    if (n === 0) {
      this.d[key] = new Float64Array(this.cap);
      this.w[key] = new Float64Array(this.cap);
    }
    this.d[key]![n] = i < j ? d : -d;
    this.w[key]![n] = w;
    this.n[key] = n + 1;
    return n + 1 === this.cap;
  }

  /** judge()'s verdict on each pair of inputs that has pairs. Once: judge sorts the lists in place. */
  verdicts(apartNs?: number): ClockLink[] {
    const links: ClockLink[] = [];
    for (let key = 0; key < this.n.length; key++) {
      const n = this.n[key]!;
      if (n === 0) continue;
      const link = judge(Math.floor(key / this.inputs), key % this.inputs, this.d[key]!.subarray(0, n), this.w[key]!.subarray(0, n), apartNs);
      if (link) links.push(link);
    }
    return links;
  }
}

/**
 * Sorts v ascending in place, stably (equal values keep their order), and `carried` along with it
 * (carried[i] stays with v[i]): a bottom-up merge sort over typed arrays. judge() runs on up to
 * MAX_PAIRS differences per pair of inputs, where a comparator-called sort was a sixth of the
 * pre-pass on a host's per-interface files, and sorting indexes then gathering the values by them
 * (Float64Array.from with a mapping function, ~0.3 µs a value) most of the rest (README, Speed:
 * multi-port). A stable sort's result is unique, so this orders as Array.prototype.sort by
 * `v[x] - v[y]` did. The runs and merges are small functions called many times: V8 compiles those
 * after a few calls, where one loop over all of it ran its first 20 000 values (the pre-pass sorts
 * a few dozen lists, once a process) several times slower, not yet compiled.
 */
function stableSort(v: Float64Array, carried: Float64Array): void {
  if (v.length < FEW_VALUES_MIN || !sortFewValues(v, carried)) mergeSort(v, carried);
}

/** stableSort's merge sort. */
function mergeSort(v: Float64Array, carried: Float64Array): void {
  const n = v.length;
  for (let lo = 0; lo < n; lo += SORT_RUN) sortRun(v, carried, lo, Math.min(n, lo + SORT_RUN));
  if (n <= SORT_RUN) return;
  let [fromV, fromC]: Float64Array[] = [v, carried];
  let [toV, toC]: Float64Array[] = [new Float64Array(n), new Float64Array(n)];
  for (let width = SORT_RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) mergeRuns(fromV, fromC, toV, toC, lo, Math.min(n, lo + width), Math.min(n, lo + 2 * width));
    [fromV, fromC, toV, toC] = [toV, toC, fromV, fromC];
  }
  if (fromV !== v) {
    v.set(fromV);
    carried.set(fromC);
  }
}

/** Lists this long are tried as a few distinct values first (sortFewValues). */
const FEW_VALUES_MIN = 64;

/**
 * stableSort for a list of few distinct values, as in-host differences are (a frame crosses two
 * ports by one of a few hops, stamped to the µs: 20 to 200 values among 20 000): the distinct
 * values sorted, then each element put after the earlier ones of its value (a counting sort by
 * value, stable). -0 and 0 are one value (Map keys), as the comparisons take them, and each keeps
 * its own sign. False, nothing moved, when more than one in FEW_VALUES_SHARE elements is a value
 * of its own: the merge sort is then as fast.
 */
function sortFewValues(v: Float64Array, carried: Float64Array): boolean {
  const n = v.length;
  const most = Math.floor(n / FEW_VALUES_SHARE);
  const slotOf = new Map<number, number>();
  if (fewValuesScratch.slot.length < n) fewValuesScratch = { slot: new Int32Array(n), v: new Float64Array(n), c: new Float64Array(n) };
  const { slot, v: sortedV, c: sortedC } = fewValuesScratch;
  for (let i = 0; i < n; i++) {
    let k = slotOf.get(v[i]!);
    if (k === undefined) {
      if (slotOf.size >= most) return false;
      slotOf.set(v[i]!, (k = slotOf.size));
    }
    slot[i] = k;
  }
  const values = Float64Array.from(slotOf.keys());
  const slots = Float64Array.from(slotOf.values());
  mergeSort(values, slots);
  // Where each value's elements start, in ascending order of value.
  const count = new Int32Array(values.length);
  for (let i = 0; i < n; i++) count[slot[i]!]!++;
  const at = new Int32Array(values.length);
  for (let r = 0, sum = 0; r < values.length; r++) {
    at[slots[r]!] = sum;
    sum += count[slots[r]!]!;
  }
  for (let i = 0; i < n; i++) {
    const k = at[slot[i]!]!++;
    sortedV[k] = v[i]!;
    sortedC[k] = carried[i]!;
  }
  v.set(sortedV.subarray(0, n));
  carried.set(sortedC.subarray(0, n));
  return true;
}

/**
 * sortFewValues' columns, kept from one call to the next (as long as the longest list so far, 20 000
 * values: 400 kB): fresh memory costs its first write, page by page, which was a third of its time.
 */
let fewValuesScratch = { slot: new Int32Array(0), v: new Float64Array(0), c: new Float64Array(0) };

/** One in this many elements a value of its own at most, for sortFewValues. */
const FEW_VALUES_SHARE = 4;

/** Values stableSort sorts by insertion before merging. */
const SORT_RUN = 16;

/** v[lo, hi) sorted by insertion, `carried` along: strictly-greater moves only, so equal values keep their order. */
function sortRun(v: Float64Array, carried: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const x = v[i]!;
    const c = carried[i]!;
    let j = i - 1;
    while (j >= lo && v[j]! > x) {
      v[j + 1] = v[j]!;
      carried[j + 1] = carried[j]!;
      j--;
    }
    v[j + 1] = x;
    carried[j + 1] = c;
  }
}

/** The sorted runs [lo, mid) and [mid, hi) of fromV (fromC along) merged into toV (toC), stably: the right run's value first only when strictly smaller. */
function mergeRuns(fromV: Float64Array, fromC: Float64Array, toV: Float64Array, toC: Float64Array, lo: number, mid: number, hi: number): void {
  let i = lo;
  let j = mid;
  let k = lo;
  while (i < mid && j < hi) {
    if (fromV[j]! < fromV[i]!) {
      toV[k] = fromV[j]!;
      toC[k++] = fromC[j++]!;
    } else {
      toV[k] = fromV[i]!;
      toC[k++] = fromC[i++]!;
    }
  }
  for (; i < mid; i++, k++) {
    toV[k] = fromV[i]!;
    toC[k] = fromC[i]!;
  }
  for (; j < hi; j++, k++) {
    toV[k] = fromV[j]!;
    toC[k] = fromC[j]!;
  }
}

/** The indexes of d in ascending order of d, ties in index order: what a stable sort of the indexes by `d[x] - d[y]` gives (stableSort). */
export function stableOrder(d: ArrayLike<number>): Uint32Array {
  const v = Float64Array.from(d);
  const index = new Float64Array(v.length);
  for (let i = 0; i < index.length; i++) index[i] = i;
  stableSort(v, index);
  const order = new Uint32Array(index.length);
  for (let i = 0; i < index.length; i++) order[i] = index[i]!;
  return order;
}

/** The verdict on one pair of inputs from their in-host differences `ds` (b minus a) and weights `ws`, which it sorts in place. */
function judge(a: number, b: number, ds: Float64Array, ws: Float64Array, apartNs = 2 * IN_HOST_NS): ClockLink | null {
  stableSort(ds, ws);
  // The heaviest window of width 2·IN_HOST_NS (two pointers over the sorted differences).
  let best = 0;
  let bestFrom = 0;
  let bestTo = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < ds.length; hi++) {
    sum += ws[hi]!;
    while (ds[hi]! - ds[lo]! > 2 * IN_HOST_NS) sum -= ws[lo++]!;
    if (sum > best + 1e-9) {
      best = sum;
      bestFrom = lo;
      bestTo = hi;
    }
  }
  if (best < MIN_WEIGHT) return null;
  let atZero = 0;
  for (let i = 0; i < ds.length; i++) if (Math.abs(ds[i]!) <= IN_HOST_NS) atZero += ws[i]!;
  if (atZero >= SAME_CLOCK_SHARE * best) return { a, b, offsetNs: 0, sameClock: true, weight: atZero };
  // A second window nearly as heavy, away from the first: the copies pair as well one way as the
  // other (an input that only ever sees echoes pairs with the original and the echo alike). No
  // verdict from a tie: the input is tied to the others through other pairs, or not lined up.
  const bLo = ds[bestFrom]!;
  const bHi = ds[bestTo]!;
  let second = 0;
  sum = 0;
  lo = 0;
  for (let hi = 0; hi < ds.length; hi++) {
    sum += ws[hi]!;
    while (ds[hi]! - ds[lo]! > 2 * IN_HOST_NS) sum -= ws[lo++]!;
    if ((ds[hi]! < bLo - apartNs || ds[lo]! > bHi + apartNs) && sum > second) second = sum;
  }
  if (second >= TIE_SHARE * best) return null;
  // The weighted median of the heaviest window.
  let half = best / 2;
  let m = bestFrom;
  for (; m < bestTo && half > ws[m]!; m++) half -= ws[m]!;
  const offsetNs = ds[m]!;
  if (Math.abs(offsetNs) < NEGLIGIBLE_OFFSET_NS) return { a, b, offsetNs: 0, sameClock: true, weight: best, residualNs: offsetNs };
  return { a, b, offsetNs, sameClock: false, weight: best };
}

/**
 * Offsets searched for, either way (see coarseOffsets). What bounds the search: a copy pairs
 * across files only when it has one candidate within the bound on the other port and that one has
 * it alone in turn, so a wider search has fewer frames to go by (ARP, IPv6 ND and MLD repeat every
 * second or few with the same bytes; pings, TCP and most IPv4 carry a sequence or an IP ID and
 * never repeat); the pre-pass reads the files' first PREPASS_FRAMES records as the reader merges
 * them, so two files `o` apart share frames only in what it read less `o`; and the engine holds
 * frames for the spread of the offsets to put them back in order (REORDER_MAX_FRAMES of them at
 * most: ten seconds of a 26k frames/s capture). Ten seconds: any clock a person would call
 * "roughly right", several times the engine's grouping window (2 s), inside which a clock left
 * apart makes every frame's path read wrong; past it the files are not lined up, and the
 * capabilities say so.
 */
export const MAX_OFFSET_NS = 10e9;
/**
 * The second, narrower search, for files the first leaves alone (their frames recur within ten
 * seconds, as a slave that only hears echoes of periodic broadcasts does): past the engine's
 * grouping window (2 s) by a margin.
 */
export const NEAR_OFFSET_NS = 2.5e9;
/**
 * Frames the coarse comparison looks at, at most (a sample by identity): all of a quiet capture,
 * and a verdict's worth many times over on a busy one, where sorting every copy of the pre-pass's
 * frames cost more than the rest of it.
 */
const COARSE_FRAMES = 10_000;
/** Pairs kept per pair of inputs in the coarse comparison (it only has to be right to within COARSE_TOLERANCE_NS). */
const COARSE_PAIRS = 2_000;
/**
 * A coarse offset is right to within this for the sightings grouped again on it to be one frame's
 * (a quarter of the pre-pass's grouping gap, GROUP_GAP_NS): a second cluster of differences further
 * than this from the heaviest is a rival, closer is the same verdict (a switch between the ports).
 */
export const COARSE_TOLERANCE_NS = 25e6;

/**
 * The coarse comparison of every two inputs, across any offset up to MAX_OFFSET_NS, from copies
 * whose pairing is not in question. A frame's copy on a port is the first sighting of its
 * identity there in a group (an original and its echo on one port are one copy, at the
 * original's stamp); a copy on port P of one input and a copy on port Q of another pair when
 * each is the other's only candidate within MAX_OFFSET_NS (mutual: then no other offset in the
 * bound pairs them otherwise), so an identity that recurs within the bound (a resend, a periodic
 * announcement) pairs with nothing there. Any two ports pair, slaves too: this only has to be right
 * to within COARSE_TOLERANCE_NS, enough to group a frame's sightings as one (prepass.ts
 * regroup()); which pairs say the offset to the µs is compareClocks's rule, on the frames grouped
 * again. Each frame weighs one per pair of inputs (its copies' pairs share the weight), so a file
 * that shares few frames with the others is judged on those (MIN_WEIGHT), and its own say nothing.
 */
export function compareAcrossFiles(s: FrameSightings, boundNs = MAX_OFFSET_NS, among: (i: number, j: number) => boolean = () => true, c: AcrossFiles = copiesAcrossFiles(s)): ClockLink[] {
  if (s.inputs < 2) return [];
  const { who, id, t, weight, input } = c;
  const copies = who.length;
  const lists = new PairLists(s.inputs, COARSE_PAIRS);
  // Every pair of inputs that may be compared has its pairs: no need to read on. Only inputs with
  // copies in the sample can pair at all: a pair of inputs of which one has none never fills, and
  // counting it read every identity to the end for nothing (an input with no frames, as a slave's
  // capture that heard nothing). None: no pair.
  let pairsOfInputs = 0;
  for (let i = 0; i < s.inputs; i++) for (let j = i + 1; j < s.inputs; j++) if (c.present[i] && c.present[j] && among(i, j)) pairsOfInputs++;
  if (pairsOfInputs === 0) return [];
  let full = 0;
  const runs: number[] = [];
  // Per copy (its place in the order), its one candidate in the other run: `single` for the
  // second run's copies, `back` for the first's.
  const single = new Int32Array(copies);
  const back = new Int32Array(copies);
  /** For each copy in run [a, b): its one candidate in run [c, e) within the bound, or -1 (none or several), into `into`. */
  const only = (a: number, b: number, c: number, e: number, into: Int32Array): void => {
    let lo = c;
    let hi = c;
    for (let r = a; r < b; r++) {
      while (lo < e && t[lo]! < t[r]! - boundNs) lo++;
      if (hi < lo) hi = lo;
      while (hi < e && t[hi]! <= t[r]! + boundNs) hi++;
      into[r] = hi - lo === 1 ? lo : -1;
    }
  };
  for (let from = 0; from < copies && full < pairsOfInputs; ) {
    // One identity's copies: [from, to), in runs of one port each.
    let to = from + 1;
    while (to < copies && id[to] === id[from]) to++;
    runs.length = 0;
    runs.push(from);
    for (let r = from + 1; r < to; r++) if (who[r] !== who[r - 1]) runs.push(r);
    runs.push(to);
    for (let p = 0; p + 1 < runs.length; p++) {
      for (let q = p + 1; q + 1 < runs.length; q++) {
        const a = runs[p]!;
        const b = runs[p + 1]!;
        const c = runs[q]!;
        const e = runs[q + 1]!;
        const i = input[a]!;
        const j = input[c]!;
        if (i === j || !among(i, j)) continue;
        // Q's copies' candidates in P, then P's in Q: mutual when x is y's one candidate in turn.
        only(c, e, a, b, single);
        only(a, b, c, e, back);
        for (let x = a; x < b; x++) {
          const y = back[x]!;
          if (y < 0 || single[y] !== x) continue;
          if (lists.add(i, j, t[y]! - t[x]!, 1 / (weight[x]! * weight[y]!))) full++;
        }
      }
    }
    from = to;
  }
  return lists.verdicts(COARSE_TOLERANCE_NS);
}

/**
 * The copies compareAcrossFiles pairs, whatever the bound (worked out once for both of
 * coarseOffsets' searches): by identity, then port (input and port), then stamp, each column in
 * that order. Columns of the sample's copies only, not of every sighting: fresh memory costs its
 * first write, page by page, and the sample is a few copies in each page of sightings.
 */
interface AcrossFiles {
  /** firstCopies' `input * ports + port`. */
  who: Int32Array;
  /** Its frame's identity (identities()). */
  id: Int32Array;
  t: Float64Array;
  /** How many copies its input holds of the frame in its group (the pairs' weights). */
  weight: Float64Array;
  input: Int32Array;
  /** Per input: whether it has a copy in the sample. */
  present: Uint8Array;
}

function copiesAcrossFiles(s: FrameSightings): AcrossFiles {
  const ports = s.ports.length;
  const ids = identities(s);
  // A sample of the frames by identity (the same frames in every file: a frame's identity is the
  // same on every port and clock), COARSE_FRAMES of them at most.
  const stride = Math.max(1, Math.ceil(s.frames / COARSE_FRAMES));
  const copy = firstCopies(s, ports, (g) => s.key[g]! % stride === 0);
  let copies = 0;
  for (let k = 0; k < copy.length; k++) if (copy[k]! >= 0) copies++;
  // The copies as read (frame by frame), with their identity and weight.
  const sighting = new Int32Array(copies);
  const idOf = new Int32Array(copies);
  const weightOf = new Float64Array(copies);
  for (let g = 0, m = 0; g < s.frames; g++) {
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) {
      if (copy[k]! < 0) continue;
      let n = 0;
      for (let x = s.start[g]!; x < s.start[g + 1]!; x++) if (copy[x]! >= 0 && s.input[x] === s.input[k]) n++;
      sighting[m] = k;
      idOf[m] = ids[g]!;
      weightOf[m++] = n;
    }
  }
  // Ordered by identity, then port (two counting sorts, stable), then stamp (an insertion sort
  // within each run: a port's copies are nearly in order already).
  const whoOf = new Int32Array(copies);
  for (let m = 0; m < copies; m++) whoOf[m] = copy[sighting[m]!]!;
  const byWho = countingSort(Int32Array.from({ length: copies }, (_, m) => m), whoOf, s.inputs * ports);
  const order = countingSort(byWho, idOf, s.frames);
  const stamp = (m: number): number => s.t[sighting[m]!]!;
  for (let r = 1; r < copies; r++) {
    const m = order[r]!;
    let q = r - 1;
    while (q >= 0 && whoOf[order[q]!] === whoOf[m] && idOf[order[q]!] === idOf[m] && stamp(order[q]!) > stamp(m)) {
      order[q + 1] = order[q]!;
      q--;
    }
    order[q + 1] = m;
  }
  const c: AcrossFiles = { who: new Int32Array(copies), id: new Int32Array(copies), t: new Float64Array(copies), weight: new Float64Array(copies), input: new Int32Array(copies), present: new Uint8Array(s.inputs) };
  for (let r = 0; r < copies; r++) {
    const m = order[r]!;
    c.who[r] = whoOf[m]!;
    c.id[r] = idOf[m]!;
    c.t[r] = stamp(m);
    c.weight[r] = weightOf[m]!;
    c.input[r] = s.input[sighting[m]!]!;
    c.present[c.input[r]!] = 1;
  }
  return c;
}

/**
 * Each input's coarse offset (as clockOffsets gives them), from compareAcrossFiles within
 * MAX_OFFSET_NS, then within NEAR_OFFSET_NS for the pairs of inputs the first left without a
 * verdict: a narrower bound lets more frames pair (fewer recur within it), and a file that pairs
 * within neither is left alone.
 */
export function coarseOffsets(s: FrameSightings): { offsets: ClockOffset[]; links: ClockLink[] } {
  if (s.inputs < 2) return { offsets: [], links: [] };
  const copies = copiesAcrossFiles(s);
  const links = compareAcrossFiles(s, MAX_OFFSET_NS, undefined, copies);
  const linked = new Uint8Array(s.inputs);
  for (const l of links) linked[l.a] = linked[l.b] = 1;
  if (linked.includes(0)) links.push(...compareAcrossFiles(s, NEAR_OFFSET_NS, (i, j) => !linked[i] || !linked[j], copies));
  return { offsets: clockOffsets(links, s.inputs), links };
}

/** An input whose clock the frames could not line up with the others' (the capabilities say so). */
export interface UnsettledClock {
  input: number;
  /**
   * How far its clock reads from the others', from copies paired across files (coarseOffsets),
   * when they gave one: then its frames met the others' only where the time the path takes is not
   * known (across the switch, or through ports of unknown role). Null: too few paired at all.
   */
  aboutNs: number | null;
}

/**
 * The inputs left out of the largest set of inputs the in-host rule tied together (`links`, from
 * compareClocks: the host's clock, lined up), each with what the coarse comparison (coarseOffsets)
 * says of it. None when every input is tied to the others.
 */
export function unsettledClocks(links: readonly ClockLink[], coarse: { offsets: readonly ClockOffset[]; links: readonly ClockLink[] }, inputs: number): UnsettledClock[] {
  if (inputs < 2) return [];
  const fine = sets(links, inputs);
  const size = new Int32Array(inputs);
  for (let i = 0; i < inputs; i++) size[fine[i]!]!++;
  let host = fine[0]!;
  for (let i = 0; i < inputs; i++) if (size[fine[i]!]! > size[host]!) host = fine[i]!;
  // Coarse offsets are each against the lowest input of its set: compared within one set only.
  const rough = sets(coarse.links, inputs);
  const about = new Map<number, number>(coarse.offsets.map((c) => [c.input, c.offsetNs]));
  const out: UnsettledClock[] = [];
  for (let i = 0; i < inputs; i++) {
    if (fine[i] === host) continue;
    const anchor = [...Array(inputs).keys()].find((h) => fine[h] === host && rough[h] === rough[i]);
    out.push({ input: i, aboutNs: anchor === undefined ? null : (about.get(i) ?? 0) - (about.get(anchor) ?? 0) });
  }
  return out;
}

/** Per input, the lowest input of the set the links tie it into. */
function sets(links: readonly ClockLink[], inputs: number): Int32Array {
  const root = Int32Array.from({ length: inputs }, (_, i) => i);
  const find = (i: number): number => (root[i] === i ? i : (root[i] = find(root[i]!)));
  for (const l of links) {
    const [a, b] = [find(l.a), find(l.b)];
    if (a !== b) root[Math.max(a, b)] = Math.min(a, b);
  }
  return root.map((_, i) => find(i));
}

/** `items` stably sorted by `key[item]`, an integer in [0, range). */
function countingSort(items: Int32Array, key: Int32Array, range: number): Int32Array {
  const count = new Int32Array(range + 1);
  for (let x = 0; x < items.length; x++) count[key[items[x]!]! + 1]!++;
  for (let i = 0; i < range; i++) count[i + 1]! += count[i]!;
  const out = new Int32Array(items.length);
  for (let x = 0; x < items.length; x++) out[count[key[items[x]!]!]!++] = items[x]!;
  return out;
}

/**
 * Per sighting: `input * ports + port` when it is its frame's first copy on that port of that
 * input in its group (an echo after it is the same copy), else -1; only in the groups `take` takes.
 */
function firstCopies(s: FrameSightings, ports: number, take: (g: number) => boolean = () => true): Int32Array {
  const copy = new Int32Array(s.t.length).fill(-1);
  for (let g = 0; g < s.frames; g++) {
    if (!take(g)) continue;
    const a = s.start[g]!;
    const b = s.start[g + 1]!;
    for (let k = a; k < b; k++) {
      const who = s.input[k]! * ports + s.port[k]!;
      let firstAt = k;
      for (let x = a; x < b; x++) if (x !== k && s.input[x]! * ports + s.port[x]! === who && (s.t[x]! < s.t[k]! || (s.t[x] === s.t[k] && x < k))) firstAt = x;
      if (firstAt === k) copy[k] = who;
    }
  }
  return copy;
}

/** Per frame (group): a number per identity (key and check), so that groups a clock apart split (or a resend) share it. */
function identities(s: FrameSightings): Int32Array {
  const id = new Int32Array(s.frames);
  let size = 1024;
  while (size < 2 * s.frames) size *= 2;
  const mask = size - 1;
  const first = new Int32Array(size).fill(-1);
  for (let g = 0; g < s.frames; g++) {
    const key = s.key[g]!;
    const check = s.check[g]!;
    let h = (Math.imul(key, 0x85ebca6b) ^ check) & mask;
    while (first[h]! >= 0 && (s.key[first[h]!] !== key || s.check[first[h]!] !== check)) h = (h + 1) & mask;
    if (first[h]! < 0) first[h] = g;
    id[g] = first[h]!;
  }
  return id;
}

/** How far a shifted input's offset is moved from the median (see the module comment), in 1 µs steps. */
const REFINE_NS = 100e3;
const REFINE_STEP_NS = 1e3;
/** Frames a refinement looks at, per input. */
const REFINE_FRAMES = 5000;

const RANK: Record<PortRole, number> = { slave: 0, bond: 1, bridge: 2, guest: 2, unknown: -1 };

/**
 * `offsets` (per input, ns, as clockOffsets gives them, 0 for input 0 and unshifted ones) with
 * each shifted input's moved to the nearest value within ±REFINE_NS that breaks the fewest
 * slave–bond–host-side orders (see the module comment). Inputs are refined in turn, twice, each
 * against the others as they stand.
 */
export function refineOffsets(s: FrameSightings, roles: readonly PortRole[], offsets: number[]): number[] {
  const out = [...offsets];
  // One clock apart moves as one: the inputs that share a (non-zero) offset are refined together.
  const clocks = [...new Set(out.filter((o) => o !== 0))].map((o) => out.map((x) => x === o));
  if (!clocks.length) return out;
  const copy = firstCopies(s, s.ports.length);
  for (let pass = 0; pass < 2; pass++) {
    for (const moving of clocks) {
      // Frames with a slave, bond and host-side copy, one of them on the moving clock.
      const groups: number[] = [];
      for (let g = 0; g < s.frames && groups.length < REFINE_FRAMES; g++) {
        let on = false;
        let ranks = 0;
        for (let k = s.start[g]!; k < s.start[g + 1]!; k++) {
          const r = RANK[roles[s.port[k]!]!];
          if (r < 0) continue;
          ranks |= 1 << r;
          if (moving[s.input[k]!]) on = true;
        }
        if (on && ranks === 7) groups.push(g);
      }
      const now = out[moving.indexOf(true)]!;
      let c = now;
      let least = 0;
      if (groups.length) {
        const steps = Math.round(REFINE_NS / REFINE_STEP_NS);
        const broken = new Float64Array(2 * steps + 1);
        for (let i = 0; i <= 2 * steps; i++) broken[i] = brokenOrders(s, roles, out, moving, now + (i - steps) * REFINE_STEP_NS, groups);
        least = Infinity;
        for (const b of broken) least = Math.min(least, b);
        // The nearest step to the median that breaks the least (on the edge of the steps that do, when
        // the median breaks more: the nearest pair across the edge is then one step apart, not tied).
        let best = steps;
        for (let d = 0; d <= steps; d++) {
          if (broken[steps - d] === least) {
            best = steps - d;
            break;
          }
          if (broken[steps + d] === least) {
            best = steps + d;
            break;
          }
        }
        c = now + (best - steps) * REFINE_STEP_NS;
      }
      // Copies the kernel stamped once say the offset exactly, where that breaks no more orders.
      const tie = tiedOffset(s, moving, out, now, copy);
      if (tie !== null && brokenOrders(s, roles, out, moving, tie, groups) <= least) c = tie;
      for (let i = 0; i < out.length; i++) if (moving[i]) out[i] = c;
    }
  }
  return out;
}

/**
 * Offsets copies stamped once are looked for within, either way, from the offsets given
 * (tieClocks): the pre-pass groups a frame's copies up to 100 ms apart (GROUP_GAP_NS) as one, and
 * lines up clocks further apart than half that coarsely first (to within COARSE_TOLERANCE_NS).
 */
export const TIE_SEARCH_NS = 50e6;

/** What copies stamped once say of every two inputs (tieLinks); `weight` is the frames that say it. */
export type TieLink = ClockLink;

/**
 * Per pair of inputs, the offset copies stamped once give (see tiedOffset: the kernel stamps a
 * frame once where it is received, and the copies that receive path hands on keep that stamp),
 * role-free: per source MAC and pair of ports, one on each input, when at least TIED_FRAMES frames
 * differ by exactly one value (within TIE_SEARCH_NS of the offsets given, their differences on
 * `offsets`' stamps), that value is a candidate; the one most frames give (≥ MIN_WEIGHT) is the
 * link's, unless another (more than a µs away) has half as many. On one clock the links are at
 * zero; a file stamped off is tied to the others by its offset, to the stamp's resolution.
 */
export function tieLinks(s: FrameSightings, offsets: readonly number[]): TieLink[] {
  if (s.inputs < 2) return [];
  const ports = s.ports.length;
  const copy = firstCopies(s, ports);
  /** (input pair, port pair) → source → the one difference so far (NaN once two differ) and frames. */
  const perPair = new Map<number, Map<number, { d: number; n: number }>>();
  for (let g = 0; g < s.frames; g++) {
    const a = s.start[g]!;
    const b = s.start[g + 1]!;
    if (b - a < 2) continue;
    for (let x = a; x < b; x++) {
      if (copy[x]! < 0) continue;
      const i = s.input[x]!;
      for (let y = a; y < b; y++) {
        const j = s.input[y]!;
        if (copy[y]! < 0 || j <= i) continue;
        const d = s.t[y]! - offsets[j]! - (s.t[x]! - offsets[i]!);
        if (Math.abs(d) > TIE_SEARCH_NS) continue;
        const key = ((i * s.inputs + j) * ports + s.port[x]!) * ports + s.port[y]!;
        let bySource = perPair.get(key);
        if (!bySource) perPair.set(key, (bySource = new Map()));
        const st = bySource.get(s.src[g]!);
        if (!st) bySource.set(s.src[g]!, { d, n: 1 });
        else {
          st.n++;
          if (st.d !== d) st.d = NaN;
        }
      }
    }
  }
  /** Input pair → difference → frames that give it. */
  const support = new Map<number, Map<number, number>>();
  for (const [key, bySource] of perPair) {
    const pair = Math.floor(key / (ports * ports));
    for (const st of bySource.values()) {
      if (Number.isNaN(st.d) || st.n < TIED_FRAMES) continue;
      let m = support.get(pair);
      if (!m) support.set(pair, (m = new Map()));
      m.set(st.d, (m.get(st.d) ?? 0) + st.n);
    }
  }
  const links: TieLink[] = [];
  for (const [pair, m] of support) {
    let best: number | null = null;
    for (const [d, n] of m) if (best === null || n > m.get(best)! || (n === m.get(best)! && Math.abs(d) < Math.abs(best))) best = d;
    if (best === null || m.get(best)! < MIN_WEIGHT) continue;
    if ([...m].some(([d, n]) => Math.abs(d - best) > REFINE_STEP_NS && n * 2 >= m.get(best)!)) continue;
    const a = Math.floor(pair / s.inputs);
    const b = pair % s.inputs;
    links.push({ a, b, offsetNs: best, sameClock: best === 0, weight: m.get(best)! });
  }
  return links;
}

/**
 * `offsets` (per input, ns) with the clocks apart that copies stamped once show (tieLinks) moved
 * onto the others exactly, and which inputs the ties hold in one clock with others. Roles need no
 * knowing for that, so the pre-pass lines these up before it reads roles from the order of each
 * frame's copies (which a clock apart by more than a hop turns around, whatever its size). The
 * inputs the links tie together are laid out along the heaviest links (a spanning forest); a set
 * whose links disagree with that layout (by more than a µs) moves nothing. In each set, the
 * inputs at the offset most of them share keep their clock and the others move onto it: a file
 * stamped off is one against several that agree (the bridge device's file ties to the bond's and
 * to each guest's port's). A set split evenly between two offsets moves nothing: which of the two
 * is the host's clock, the ties do not say.
 */
export function tieClocks(s: FrameSightings, offsets: readonly number[]): { offsets: number[]; tied: boolean[]; links: TieLink[] } {
  const out = [...offsets];
  const tied = new Array<boolean>(s.inputs).fill(false);
  const links = tieLinks(s, offsets);
  const root = Int32Array.from({ length: s.inputs }, (_, i) => i);
  const find = (i: number): number => (root[i] === i ? i : (root[i] = find(root[i]!)));
  /** Per input, its clock minus its set's root's (ns), along the forest. */
  const rel = new Float64Array(s.inputs);
  const members = Array.from({ length: s.inputs }, (_, i) => [i]);
  for (const l of [...links].sort((x, y) => y.weight - x.weight)) {
    const [ra, rb] = [find(l.a), find(l.b)];
    if (ra === rb) continue;
    // b's clock = a's + offsetNs: lay b's set onto a's.
    const shift = rel[l.a]! + l.offsetNs - rel[l.b]!;
    for (const m of members[rb]!) rel[m] = rel[m]! + shift;
    members[ra]!.push(...members[rb]!);
    members[rb] = [];
    root[rb] = ra;
  }
  const agrees = new Uint8Array(s.inputs).fill(1);
  for (const l of links) if (Math.abs(rel[l.b]! - rel[l.a]! - l.offsetNs) > REFINE_STEP_NS) agrees[find(l.a)] = 0;
  for (let r = 0; r < s.inputs; r++) {
    const set = members[r]!;
    if (set.length < 2 || !agrees[r]) continue;
    for (const i of set) tied[i] = true;
    // The offset most of the set's inputs share (within a µs).
    const counts = set.map((i) => set.filter((j) => Math.abs(rel[j]! - rel[i]!) <= REFINE_STEP_NS).length);
    const most = Math.max(...counts);
    const at = set.filter((_, k) => counts[k] === most).map((i) => rel[i]!);
    if (at.some((x) => Math.abs(x - at[0]!) > REFINE_STEP_NS)) continue;
    const host = set[counts.indexOf(most)]!;
    for (const i of set) if (Math.abs(rel[i]! - rel[host]!) > REFINE_STEP_NS) out[i] = offsets[i]! + rel[i]! - rel[host]!;
  }
  return { offsets: out, tied, links };
}

/** Frames of one source whose copies on two ports all differ by the same amount before that is taken for a single stamp. */
const TIED_FRAMES = 4;

/**
 * The offset that copies stamped once give, or null. The kernel stamps a frame once where it is
 * received, and the copies that receive path hands on keep that stamp: a guest's frame on its
 * port and on the bridge device (promiscuous: it sees what it forwards), a frame from the switch
 * on a slave and the bond (real bonding) and the bridge device; a transmit (a flood to a guest's
 * port, the bond's copy of what goes down) is stamped anew, µs later. So on two clocks apart, the
 * copies of one receive path differ by the offset itself, to the stamp's resolution, frame after
 * frame; a transmit's differ by the hop as well, which varies. Per source MAC (one MAC is sent from
 * one place, so its frames take one path) and pair of ports, one on the moving clock: when at least
 * TIED_FRAMES frames differ by exactly one value, that value is a candidate; the one most frames
 * give is taken, unless another (more than a µs away) has half as many. Within REFINE_NS of
 * `near`; the others' offsets as they stand.
 */
function tiedOffset(s: FrameSightings, moving: boolean[], offsets: number[], near: number, copy: Int32Array): number | null {
  const perSource = new Map<number, Map<number, { d: number; n: number; same: boolean }>>();
  const ports = s.ports.length;
  for (let g = 0; g < s.frames; g++) {
    const a = s.start[g]!;
    const b = s.start[g + 1]!;
    for (let x = a; x < b; x++) {
      if (copy[x]! < 0 || !moving[s.input[x]!]) continue;
      for (let y = a; y < b; y++) {
        if (copy[y]! < 0 || moving[s.input[y]!]) continue;
        const d = s.t[x]! - (s.t[y]! - offsets[s.input[y]!]!);
        if (Math.abs(d - near) > REFINE_NS) continue;
        let bySource = perSource.get(s.src[g]!);
        if (!bySource) perSource.set(s.src[g]!, (bySource = new Map()));
        const pair = s.port[x]! * ports + s.port[y]!;
        const st = bySource.get(pair);
        if (!st) bySource.set(pair, { d, n: 1, same: true });
        else {
          st.n++;
          if (st.d !== d) st.same = false;
        }
      }
    }
  }
  const support = new Map<number, number>();
  for (const bySource of perSource.values()) for (const st of bySource.values()) if (st.same && st.n >= TIED_FRAMES) support.set(st.d, (support.get(st.d) ?? 0) + st.n);
  let best: number | null = null;
  for (const [d, n] of support) if (best === null || n > support.get(best)! || (n === support.get(best)! && Math.abs(d - near) < Math.abs(best - near))) best = d;
  if (best === null) return null;
  for (const [d, n] of support) if (Math.abs(d - best) > REFINE_STEP_NS && n * 2 >= support.get(best)!) return null;
  return best;
}

/**
 * Orders broken with the moving clock's offset set to `c`. Each copy of a frame on the bond was passed between a
 * slave and the host side; s is the slave's copy nearest to it (within IN_HOST_NS; none, a tie or
 * a second bond copy that close — a flood arriving on both slaves — and there is no order to read):
 *  - s first: the frame came up from the switch, so every host-side copy comes after the bond's
 *    (none within IN_HOST_NS before it);
 *  - the bond's first, for unicast: the frame went down from the host side, and the copy that sent
 *    it (a guest's port, or the bridge when no guest's port saw it) comes before the bond's.
 *  - the bond's first, for a broadcast: a host-side copy comes before the bond's. The bond sends
 *    broadcasts of its own too (IPv6 ND from its address), and an echo whose slave copy is put
 *    after the bond's looks the same, so this orders slaves against the bond only: it is not
 *    counted when a host-side copy is on the moving clock, nor when the bond's copy is the
 *    frame's first anywhere (the bond's own: counting it pulled a slave's clock ahead of the
 *    bond's own frames, 12 µs on captures/loop, which the path stage then read as from outside).
 */
export function brokenOrders(s: FrameSightings, roles: readonly PortRole[], offsets: number[], moving: boolean[], c: number, groups: number[]): number {
  let broken = 0;
  const at = (k: number): number => s.t[k]! - (moving[s.input[k]!] ? c : offsets[s.input[k]!]!);
  for (const g of groups) {
    const from = s.start[g]!;
    const to = s.start[g + 1]!;
    for (let b = from; b < to; b++) {
      if (RANK[roles[s.port[b]!]!] !== 1) continue;
      const tb = at(b);
      let nearest = -1;
      let gap = Infinity;
      let concurrent = false;
      for (let x = from; x < to; x++) {
        const r = RANK[roles[s.port[x]!]!];
        if (r === 1 && x !== b && Math.abs(at(x) - tb) <= IN_HOST_NS) concurrent = true;
        if (r !== 0) continue;
        const d = Math.abs(at(x) - tb);
        if (d < gap) [nearest, gap] = [x, d];
      }
      if (concurrent || nearest < 0 || gap === 0 || gap > IN_HOST_NS) continue;
      const up = at(nearest) < tb;
      let hostBefore = false;
      let hostOnJ = false;
      let sender = -1;
      for (let y = from; y < to; y++) {
        const role = roles[s.port[y]!]!;
        if (RANK[role] !== 2) continue;
        const ty = at(y);
        if (Math.abs(ty - tb) > IN_HOST_NS) continue;
        if (ty < tb) hostBefore = true;
        if (moving[s.input[y]!]) hostOnJ = true;
        if (sender < 0 || role === 'guest') sender = y;
      }
      if (up) broken += hostBefore ? 1 : 0;
      else if (s.cast[g] === CAST_UNICAST) broken += sender >= 0 && at(sender) > tb ? 1 : 0;
      else if (!hostOnJ && !hostBefore && !firstCopy(s, roles, from, to, at, tb)) broken++;
    }
  }
  return broken;
}

/**
 * Whether nothing of the frame (on a port of known role) is stamped before `tb`: a broadcast the
 * bond sent first and a slave after is then the bond's own (IPv6 router and neighbour
 * solicitations from its link-local address), whose order is right as it stands.
 */
function firstCopy(s: FrameSightings, roles: readonly PortRole[], from: number, to: number, at: (k: number) => number, tb: number): boolean {
  for (let x = from; x < to; x++) if (RANK[roles[s.port[x]!]!] >= 0 && at(x) < tb) return false;
  return true;
}

/**
 * Each input's offset from input 0's clock (or from the lowest input it is tied to), along the
 * heaviest links first; inputs tied to none get no entry.
 */
export function clockOffsets(links: readonly ClockLink[], inputs: number): ClockOffset[] {
  const root = Array.from({ length: inputs }, (_, i) => i);
  const offset = new Float64Array(inputs);
  const weight = new Float64Array(inputs);
  const tied = new Uint8Array(inputs);
  const members = Array.from({ length: inputs }, (_, i) => [i]);
  // Inputs on one clock first, so that a clock apart is laid onto all of them by one offset (laid
  // onto each by its own pairs, one file shifted against five of one host gave them five offsets a
  // few µs apart, which refineOffsets then moved as five clocks).
  for (const l of [...links].sort((x, y) => Number(y.sameClock) - Number(x.sameClock) || y.weight - x.weight)) {
    const ra = root[l.a]!;
    const rb = root[l.b]!;
    if (ra === rb) continue;
    // Lay b's tree onto a's: b's clock = a's + offsetNs. The lower root keeps its clock.
    let [keep, move, shift] = [ra, rb, offset[l.a]! + l.offsetNs - offset[l.b]!];
    if (rb < ra) [keep, move, shift] = [rb, ra, -shift];
    for (const m of members[move]!) {
      root[m] = keep;
      offset[m] = offset[m]! + shift;
    }
    members[keep]!.push(...members[move]!);
    members[move] = [];
    tied[l.a] = tied[l.b] = 1;
    weight[l.a] = Math.max(weight[l.a]!, l.weight);
    weight[l.b] = Math.max(weight[l.b]!, l.weight);
  }
  const out: ClockOffset[] = [];
  for (let i = 1; i < inputs; i++) {
    if (!tied[i]) continue;
    out.push({ input: i, offsetNs: Math.abs(offset[i]!) < NEGLIGIBLE_OFFSET_NS ? 0 : offset[i]!, pairs: Math.round(weight[i]!) });
  }
  return out;
}

/**
 * Which inputs' stamps may be read against each other for roles, once the clocks are lined up
 * (`offsets`, per input, ns); null when nothing is in question. An offset the in-host rule found
 * (compareClocks, refineOffsets) rests on the roles it compared across, which were read from the
 * order of copies on the clocks before it was found: the order it fixes it may have turned around
 * itself, and nothing but copies stamped once confirms it (a guest's port's file 0.5 ms late took
 * the slave for the guest, and the offset found on that lined the guest up 11 µs off, the
 * unsettled files not at all). So is a pair of inputs whose in-host pairs sit off zero, by less
 * than NEGLIGIBLE_OFFSET_NS (left alone: residualNs). Where an offset was found, or pairs sit off
 * zero, the inputs held together without either — by in-host pairs at zero as they were stamped,
 * or by copies stamped once at zero on the lined-up stamps (tieLinks) — and that are more than any
 * other such set are the ones whose orders are read: the largest set (none, if two are as large).
 */
export function heldClocks(s: FrameSightings, links: readonly ClockLink[], offsets: readonly number[]): boolean[] | null {
  const inQuestion = offsets.some((o) => o !== 0) || links.some((l) => !l.sameClock || (l.residualNs ?? 0) !== 0);
  if (!inQuestion) return null;
  const root = Int32Array.from({ length: s.inputs }, (_, i) => i);
  const find = (i: number): number => (root[i] === i ? i : (root[i] = find(root[i]!)));
  const join = (a: number, b: number): void => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) root[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (const l of links) if (l.sameClock && (l.residualNs ?? 0) === 0 && offsets[l.a] === offsets[l.b]) join(l.a, l.b);
  for (const l of tieLinks(s, offsets)) if (Math.abs(l.offsetNs) <= REFINE_STEP_NS) join(l.a, l.b);
  const present = new Uint8Array(s.inputs);
  for (let k = 0; k < s.input.length; k++) present[s.input[k]!] = 1;
  const size = new Int32Array(s.inputs);
  for (let i = 0; i < s.inputs; i++) if (present[i]) size[find(i)]!++;
  const most = Math.max(...size);
  const largest = [...size.keys()].filter((r) => size[r] === most);
  const held = [...Array(s.inputs).keys()].map((i) => largest.length === 1 && find(i) === largest[0]);
  return held.every((h, i) => h || !present[i]) ? null : held;
}
