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
