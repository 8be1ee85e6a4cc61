/**
 * The engine's options and counters: what a caller sets up an Analyzer with and reads back, in a
 * module of their own so every stage of the engine can name them without importing the Analyzer.
 */
import type { FrameStamps } from '../model/record.js';
import { SWITCH_ROUND_TRIP_NS } from './path.js';
import type { UnsettledClock } from './clock.js';

export interface AnalyzerOptions {
  /** Sightings of one frame are matched within this window (ns). */
  windowNs: number;
  /** MACs tracked one by one; past it a mac-flood finding, counting goes on. */
  maxMacs: number;
  /**
   * Per input (by index): ns to subtract from its stamps to put it on the first input's clock
   * (ClockOffsetEstimator). Absent: the inputs share a clock.
   */
  inputOffsetsNs?: number[];
  /** Inputs whose clock the pre-pass could not line up (clock.ts): not read by the engine, told to the capabilities. */
  unsettledClocks?: UnsettledClock[];
  /**
   * Where each port's capture ended, by port name (its latest frame, epoch ns on its input's own
   * clock), when the pre-pass read every record: an input of several interfaces (files merged after
   * the fact) holds ports that stopped at moments of their own, which the stream shows only at its end.
   */
  portEndsNs?: Map<string, number> | null;
  /**
   * Who stamped the frames (model/record.ts); absent: the kernel. It sets the hop gap (hopGapFor),
   * so it is a fact about the capture, never a tuning: a live session takes it from its backend,
   * the file pipeline from what the recording says.
   */
  stamps?: FrameStamps;
}

export const DEFAULT_OPTIONS: AnalyzerOptions = { windowNs: 2e9, maxMacs: 65536 };

/**
 * Frames stamped on arrival in a capture worker (cap): copies of one frame on two interfaces are
 * apart by the workers' scheduling too, not only by the hops; half a second covers a loaded host.
 */
export const ARRIVAL_HOP_GAP_NS = 500e6;

/**
 * Copies of one frame follow each other by at most this (path.ts, R3): a later copy with the same
 * bytes is another frame. Kernel stamps: the switch round trip bound; arrival stamps: the workers'
 * scheduling bound, which stretches the in-host hops as much.
 */
export function hopGapFor(stamps: FrameStamps = 'kernel'): number {
  return stamps === 'arrival' ? ARRIVAL_HOP_GAP_NS : SWITCH_ROUND_TRIP_NS;
}

export interface AnalysisStats {
  frames: number;
  undecoded: number;
  groups: number;
  pendingGroups: number;
  macsTracked: number;
  macsDropped: number;
  firstSec: number;
  lastSec: number;
  /** Frames that arrived after a later-stamped frame had been released (past the reorder horizon): handled in arrival order. */
  lateFrames: number;
  /** How far out of order the latest of them was, at most (ms). */
  lateByUpToMs: number;
  /** Frames the reorder stage released before their horizon because it was full. */
  releasedEarly: number;
}
