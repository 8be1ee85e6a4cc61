/**
 * The pre-pass's product, the sightings of the first frames (what prepass.ts builds), as a plain
 * columnar type with its constants: what clock.ts, infer-roles.ts and merged-points.ts read. Kept
 * apart from prepass.ts, which calls them, so none of them imports the module that imports it.
 */
import type { PortRole, RoleSource } from '../model/topology.js';

export interface PrepassPort {
  name: string;
  role: PortRole;
  roleSource: RoleSource;
}

/** Destination class of a frame: what a learning bridge does with it. */
export const CAST_UNICAST = 0;
export const CAST_FLOODED = 1;
/** No destination in the capture (Linux cooked). */
export const CAST_UNKNOWN = 2;

/**
 * The sightings of the first frames, frame by frame: sightings of frame g are the indexes
 * start[g] … start[g+1]-1 of port/input/t/dir, in the order they were read.
 */
export interface FrameSightings extends SpanningTreeHeard {
  ports: PrepassPort[];
  inputs: number;
  /** Records read. */
  records: number;
  frames: number;
  start: Int32Array;
  port: Int32Array;
  input: Int32Array;
  /** Nanoseconds since the first record's second, on the record's own (uncorrected) clock. */
  t: Float64Array;
  /** Direction the capture gave (1 in, 2 out), 0 when it gave none. */
  dir: Uint8Array;
  /** Per frame: source MAC and destination class. */
  src: Float64Array;
  cast: Uint8Array;
  /** Per frame: its identity (FrameIdentity's key and check), which frames split by a clock apart share. */
  key: Int32Array;
  check: Int32Array;
  /** Per sighting: its place in the order the records were read (for regroup). */
  seq: Int32Array;
}

/** What the ports heard of the spanning tree. */
export interface SpanningTreeHeard {
  /**
   * Spanning tree, which the frames above leave out (BPDUs never cross the host): per port that
   * heard BPDUs, the bridge MACs they named (a port's and bridge's pairs, at most MAX_BPDU_BRIDGES),
   * and how many BPDUs were heard on two ports (the same bytes within GROUP_GAP_NS: one that a hop
   * of the host handed on, as a slave hands the switch's to the bond).
   */
  bpduPort: Int32Array;
  bpduBridge: Float64Array;
  bpduCrossed: number;
}

/**
 * The sightings `keep` holds (by a sighting's index), each frame's in their order; a frame left
 * with none stays, empty, so frame indexes still name the same frames.
 */
export function keepSightings(s: FrameSightings, keep: (k: number) => boolean): FrameSightings {
  const kept: number[] = [];
  const start = new Int32Array(s.frames + 1);
  for (let g = 0; g < s.frames; g++) {
    start[g] = kept.length;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) if (keep(k)) kept.push(k);
  }
  start[s.frames] = kept.length;
  const pick = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
    const b = make(kept.length);
    for (let i = 0; i < kept.length; i++) b[i] = a[kept[i]!]!;
    return b;
  };
  return {
    ...s,
    start,
    port: pick(s.port, (n) => new Int32Array(n)),
    input: pick(s.input, (n) => new Int32Array(n)),
    t: pick(s.t, (n) => new Float64Array(n)),
    dir: pick(s.dir, (n) => new Uint8Array(n)),
    seq: pick(s.seq, (n) => new Int32Array(n)),
  };
}
