/**
 * Capture files taken by separate tools (one tcpdump per interface, or on two hosts) each carry
 * their own clock. On one host they agree to a few microseconds; when they do not — a tool that
 * stamps late, a capture from a second machine — an echo can appear to come before its original and
 * the path of every frame reads backwards. The engine orders sightings by time, so the clocks are
 * lined up first.
 *
 * The estimate: the same frame seen in two inputs is seen at nearly the same instant (a frame
 * crosses a host in microseconds), one way or the other. The differences between the two inputs'
 * stamps of shared frames cluster around the offset between their clocks, give or take the transit
 * time; their median is the offset. Only broadcast and multicast frames are used (unique enough by
 * content, and seen at every point), each pairing counted once, within 100 ms of each other (larger offsets are not lined up: repeated
 * broadcasts would pair with the wrong copy). Offsets under 0.3 ms are left alone:
 * transit between points on one host biases the estimate by about 0.1 ms, and clocks that close
 * do not turn a path around (loop delays are longer).
 */
import type { PacketRecord } from '../model/record.js';
import type { DecodedFrame } from '../decode/frame.js';
import { FrameIdentity } from './identity.js';

/** Sightings further apart than this are not the same frame crossing the host. */
const PAIR_WINDOW_NS = 100e6;
/** Pairs needed before an offset is believed. */
const MIN_PAIRS = 8;
/** Offsets below this are transit time and jitter, not a clock apart. */
export const NEGLIGIBLE_OFFSET_NS = 300e3;

export interface ClockOffset {
  input: number;
  /** Nanoseconds to subtract from this input's stamps to put them on input 0's clock (via others). */
  offsetNs: number;
  /** Shared frames the estimate rests on. */
  pairs: number;
}

export class ClockOffsetEstimator {
  /** Identity → last sighting per input: time (ns since the first frame) by input index. */
  private readonly last = new Map<number, Float64Array>();
  private readonly identity = new FrameIdentity();
  /** Differences t[j] - t[i] per input pair "i,j" (i < j). */
  private readonly diffs = new Map<string, number[]>();
  private base = -1;
  frames = 0;

  constructor(private readonly inputs: number) {}

  observe(rec: PacketRecord, f: DecodedFrame): void {
    this.frames++;
    if (!f.supported || f.src < 0 || !(f.isBroadcast || f.isMulticast)) return;
    if (this.base < 0) this.base = rec.tsSec;
    const t = (rec.tsSec - this.base) * 1e9 + rec.tsNsec;
    const key = this.identity.of(rec.buf, f).key;
    let seen = this.last.get(key);
    if (!seen) {
      seen = new Float64Array(this.inputs).fill(NaN);
      this.last.set(key, seen);
    }
    const j = rec.inputIndex;
    for (let i = 0; i < this.inputs; i++) {
      if (i === j) continue;
      const other = seen[i]!;
      if (Number.isNaN(other) || Math.abs(t - other) > PAIR_WINDOW_NS) continue;
      const [a, b, d] = i < j ? [i, j, t - other] : [j, i, other - t];
      const k = `${a},${b}`;
      const list = this.diffs.get(k) ?? [];
      if (list.length < 100_000) list.push(d);
      this.diffs.set(k, list);
      // Each pairing once: forget the other input's sighting.
      seen[i] = NaN;
    }
    seen[j] = t;
    if (this.last.size > 200_000) this.last.clear();
  }

  /**
   * Offsets of every input that shares frames (directly or through another input) with input 0,
   * or with the first input it can be tied to. Inputs with too few shared frames get none.
   */
  offsets(): ClockOffset[] {
    const median = (xs: number[]): number => {
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.floor(s.length / 2)]!;
    };
    // Breadth-first from input 0 over pairs with enough shared frames.
    const known = new Map<number, ClockOffset>([[0, { input: 0, offsetNs: 0, pairs: 0 }]]);
    const queue = [0];
    while (queue.length) {
      const i = queue.shift()!;
      for (let j = 0; j < this.inputs; j++) {
        if (known.has(j)) continue;
        const [a, b] = i < j ? [i, j] : [j, i];
        const list = this.diffs.get(`${a},${b}`);
        if (!list || list.length < MIN_PAIRS) continue;
        // d = t[b] - t[a]: b's clock is ahead of a's by the median.
        const m = median(list);
        const rel = i === a ? m : -m;
        known.set(j, { input: j, offsetNs: known.get(i)!.offsetNs + rel, pairs: list.length });
        queue.push(j);
      }
    }
    return [...known.values()].filter((o) => o.input !== 0).sort((x, y) => x.input - y.input);
  }
}
