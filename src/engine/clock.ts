/**
 * Capture files taken by separate tools each carry a clock. Files from one host (one tcpdump per
 * interface, dumpcap and tcpdump side by side) share the kernel's clock and must never be shifted:
 * the time between a frame leaving one slave and coming back on the other is the loop itself, and
 * the switch's latency (0.3–2 ms on real switches) is latency, not skew. Files from two machines,
 * or from a tool that stamps late, carry clocks apart: an echo may then seem to come before its
 * original and every path reads backwards, so those are lined up before the engine runs.
 *
 * The rule: clocks are compared only across in-host hops, where the order of a frame's sightings
 * is not in question. A frame crosses a host — slave ↔ bond ↔ bridge ↔ guest port, one guest port
 * to another — in microseconds, whichever way it goes, so on one clock the two inputs' stamps of
 * the same frame differ by microseconds; on two clocks, by the offset between them. Pairs of
 * slaves are never compared: between them lies the switch (and the loop). Ports without a role
 * (flags, recorded topology, names, or roles inferred from the frames) are not compared either.
 *
 * A frame seen once on each of the two ports pairs one way. A frame seen twice on one of them (an
 * original and its echo on the bond, a resend) pairs with either copy, so each of its pairings
 * weighs 1/(copies on one port × copies on the other): the echo's wrong pairing, off by the loop's
 * delay, never outweighs the right one. The differences are then clustered: the heaviest window of
 * ±IN_HOST_NS is where the in-host pairs lie. Two inputs share a clock when the window around zero
 * holds at least SAME_CLOCK_SHARE of the heaviest window's weight (pairs that sit at zero are what
 * one clock gives, and a loop's delay can only make a second, lighter cluster); otherwise the
 * second input is shifted by the weighted median of the heaviest window, if that is at least
 * NEGLIGIBLE_OFFSET_NS. Inputs are tied together along the heaviest pairs first (a maximum spanning
 * forest), input 0's clock being the reference; an input with no in-host pair to any other (a lone
 * slave beside the other slave, a second machine's port whose role nothing says) is not shifted.
 * Offsets up to GROUP_GAP_NS (100 ms) are found: sightings further apart are not one frame.
 */
import type { PortRole } from '../model/topology.js';
import type { FrameSightings } from './prepass.js';

/** In-host hops are within this of each other on one clock (µs in practice; softirq backlog under load). */
export const IN_HOST_NS = 150e3;
/** Offsets below this are left alone: not worth a correction, and within what one clock's hops can give. */
export const NEGLIGIBLE_OFFSET_NS = 300e3;
/** Weight (frames' worth of pairs) needed before two inputs' clocks are compared at all. */
const MIN_WEIGHT = 8;
/** Share of the heaviest cluster's weight that pairs at zero need for the inputs to share a clock. */
const SAME_CLOCK_SHARE = 0.5;
/** Pairs kept per pair of inputs. */
const MAX_PAIRS = 100_000;
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
  /** Weight of the cluster the verdict rests on. */
  weight: number;
}

/** Roles between which a frame takes an in-host hop (anything but slave–slave and unknown). */
function inHost(a: PortRole, b: PortRole): boolean {
  if (a === 'unknown' || b === 'unknown') return false;
  return !(a === 'slave' && b === 'slave');
}

/**
 * Compares the clocks of every two inputs that share in-host frames; `roles` by port index of
 * the sightings (the known roles, with the inferred ones filled in).
 */
export function compareClocks(s: FrameSightings, roles: readonly PortRole[]): ClockLink[] {
  if (s.inputs < 2) return [];
  const diffs = new Map<number, { d: number[]; w: number[] }>();
  const copies = new Map<number, number>();
  for (let g = 0; g < s.frames; g++) {
    const from = s.start[g]!;
    const to = s.start[g + 1]!;
    if (to - from < 2) continue;
    copies.clear();
    for (let k = from; k < to; k++) copies.set(s.port[k]!, (copies.get(s.port[k]!) ?? 0) + 1);
    for (let x = from; x < to; x++) {
      for (let y = x + 1; y < to; y++) {
        let i = s.input[x]!;
        let j = s.input[y]!;
        if (i === j) continue;
        const px = s.port[x]!;
        const py = s.port[y]!;
        if (px !== py && !inHost(roles[px]!, roles[py]!)) continue;
        const cx = copies.get(px)!;
        const cy = copies.get(py)!;
        if (cx > MAX_COPIES || cy > MAX_COPIES) continue;
        let d = s.t[y]! - s.t[x]!;
        if (i > j) [i, j, d] = [j, i, -d];
        const key = i * s.inputs + j;
        let list = diffs.get(key);
        if (!list) diffs.set(key, (list = { d: [], w: [] }));
        if (list.d.length >= MAX_PAIRS) continue;
        list.d.push(d);
        list.w.push(1 / (cx * cy));
      }
    }
  }
  const links: ClockLink[] = [];
  for (const [key, list] of diffs) {
    const a = Math.floor(key / s.inputs);
    const b = key % s.inputs;
    const link = judge(a, b, list.d, list.w);
    if (link) links.push(link);
  }
  return links;
}

/** The verdict on one pair of inputs from their in-host differences (b minus a). */
function judge(a: number, b: number, d: number[], w: number[]): ClockLink | null {
  const order = d.map((_, i) => i).sort((x, y) => d[x]! - d[y]!);
  const ds = order.map((i) => d[i]!);
  const ws = order.map((i) => w[i]!);
  // The heaviest window of width 2·IN_HOST_NS (two pointers over the sorted differences).
  let best = 0;
  let bestFrom = 0;
  let bestTo = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < ds.length; hi++) {
    sum += ws[hi]!;
    while (ds[hi]! - ds[lo]! > 2 * IN_HOST_NS) sum -= ws[lo++]!;
    if (sum > best + 1e-9) [best, bestFrom, bestTo] = [sum, lo, hi];
  }
  if (best < MIN_WEIGHT) return null;
  let atZero = 0;
  for (let i = 0; i < ds.length; i++) if (Math.abs(ds[i]!) <= IN_HOST_NS) atZero += ws[i]!;
  if (atZero >= SAME_CLOCK_SHARE * best) return { a, b, offsetNs: 0, sameClock: true, weight: atZero };
  // The weighted median of the heaviest window.
  let half = best / 2;
  let m = bestFrom;
  for (; m < bestTo && half > ws[m]!; m++) half -= ws[m]!;
  const offsetNs = ds[m]!;
  if (Math.abs(offsetNs) < NEGLIGIBLE_OFFSET_NS) return { a, b, offsetNs: 0, sameClock: true, weight: best };
  return { a, b, offsetNs, sameClock: false, weight: best };
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
  for (const l of [...links].sort((x, y) => y.weight - x.weight)) {
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
