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
 * to another, or the same port captured by two tools — in microseconds, whichever way it goes, so on one clock the two inputs' stamps of
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
 * NEGLIGIBLE_OFFSET_NS, unless a second window, away from it, weighs nearly as much (≥ TIE_SHARE):
 * an input that only ever sees echoes pairs with an original and its echo alike, and a tie gives
 * no verdict (the input is tied to the others through other pairs, or is not lined up). Inputs are tied together along the heaviest pairs first (a maximum spanning
 * forest), input 0's clock being the reference; an input with no in-host pair to any other (a lone
 * slave beside the other slave, a second machine's port whose role nothing says) is not shifted.
 * Offsets up to GROUP_GAP_NS (100 ms) are found: sightings further apart are not one frame.
 *
 * The median of in-host differences is off by the typical hop (tens of µs where a frame always
 * crosses the two ports one way, as on a backup slave that only receives), enough to put a frame on
 * the bond before the slave it came in by. So a shifted input's offset is then refined, within
 * ±REFINE_NS, to the one nearest the median that breaks the fewest orders that are not in question:
 * each copy of a frame on the bond passed between a slave and the host side (see brokenOrders).
 * Only copies within IN_HOST_NS of each other are compared (an original and its echo are further
 * apart once the switch takes 0.3 ms or more; where it takes less, the wrong ones are outvoted).
 * This pins a slave, the bond and the bridge device to the µs; a guest's port only to within its
 * shortest hop from the bond (a few µs): nothing orders its copies more tightly than that.
 *
 * Not used as evidence: pcapng shb_hardware/shb_os/shb_userappl (two machines running the same
 * dumpcap say the same) and file names; if_tsoffset is applied by the reader before this sees a
 * stamp. The frames decide.
 */
import type { PortRole } from '../model/topology.js';
import { CAST_UNICAST, type FrameSightings } from './prepass.js';

/** In-host hops are within this of each other on one clock (µs in practice; softirq backlog under load). */
export const IN_HOST_NS = 150e3;
/** Offsets below this are left alone: not worth a correction, and within what one clock's hops can give. */
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
  /** Weight of the cluster the verdict rests on. */
  weight: number;
}

/**
 * Compares the clocks of every two inputs that share in-host frames; `roles` by port index of
 * the sightings (the known roles, with the inferred ones filled in).
 */
export function compareClocks(s: FrameSightings, roles: readonly PortRole[]): ClockLink[] {
  if (s.inputs < 2) return [];
  const lists: ({ d: number[]; w: number[] } | undefined)[] = new Array(s.inputs * s.inputs);
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
        let i = s.input[x]!;
        let j = s.input[y]!;
        if (i === j) continue;
        const px = s.port[x]!;
        const py = s.port[y]!;
        // An in-host hop: the same port seen by two captures, or two known roles but not two slaves.
        if (px !== py && !(known[px] && known[py] && !(slave[px] && slave[py]))) continue;
        const cx = copies[px]!;
        const cy = copies[py]!;
        if (cx > MAX_COPIES || cy > MAX_COPIES) continue;
        let d = s.t[y]! - s.t[x]!;
        if (i > j) [i, j, d] = [j, i, -d];
        const key = i * s.inputs + j;
        let list = lists[key];
        if (!list) lists[key] = list = { d: [], w: [] };
        if (list.d.length >= MAX_PAIRS) continue;
        list.d.push(d);
        list.w.push(1 / (cx * cy));
        if (list.d.length === MAX_PAIRS) full++;
      }
    }
  }
  const links: ClockLink[] = [];
  lists.forEach((list, key) => {
    if (!list) return;
    const link = judge(Math.floor(key / s.inputs), key % s.inputs, list.d, list.w);
    if (link) links.push(link);
  });
  return links;
}

/** The verdict on one pair of inputs from their in-host differences (b minus a). */
function judge(a: number, b: number, d: number[], w: number[]): ClockLink | null {
  const order = Uint32Array.from(d.keys()).sort((x, y) => d[x]! - d[y]!);
  const ds = Float64Array.from(order, (i) => d[i]!);
  const ws = Float64Array.from(order, (i) => w[i]!);
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
  // A second window nearly as heavy, away from the first: the copies pair as well one way as the
  // other (an input that only ever sees echoes pairs with the original and the echo alike). No
  // verdict from a tie: the input is tied to the others through other pairs, or not lined up.
  const [bLo, bHi] = [ds[bestFrom]!, ds[bestTo]!];
  let second = 0;
  sum = 0;
  lo = 0;
  for (let hi = 0; hi < ds.length; hi++) {
    sum += ws[hi]!;
    while (ds[hi]! - ds[lo]! > 2 * IN_HOST_NS) sum -= ws[lo++]!;
    if ((ds[hi]! < bLo - 2 * IN_HOST_NS || ds[lo]! > bHi + 2 * IN_HOST_NS) && sum > second) second = sum;
  }
  if (second >= TIE_SHARE * best) return null;
  // The weighted median of the heaviest window.
  let half = best / 2;
  let m = bestFrom;
  for (; m < bestTo && half > ws[m]!; m++) half -= ws[m]!;
  const offsetNs = ds[m]!;
  if (Math.abs(offsetNs) < NEGLIGIBLE_OFFSET_NS) return { a, b, offsetNs: 0, sameClock: true, weight: best };
  return { a, b, offsetNs, sameClock: false, weight: best };
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
      if (!groups.length) continue;
      const now = out[moving.indexOf(true)]!;
      const steps = Math.round(REFINE_NS / REFINE_STEP_NS);
      const broken = new Float64Array(2 * steps + 1);
      for (let i = 0; i <= 2 * steps; i++) broken[i] = brokenOrders(s, roles, out, moving, now + (i - steps) * REFINE_STEP_NS, groups);
      let least = Infinity;
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
      for (let i = 0; i < out.length; i++) if (moving[i]) out[i] = now + (best - steps) * REFINE_STEP_NS;
    }
  }
  return out;
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
