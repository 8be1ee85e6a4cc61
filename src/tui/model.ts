/**
 * What the terminal UI draws: one plain, immutable snapshot, made from the engine's state by
 * the adapter (adapter.ts) at most ten times a second. Components read only this; they never
 * see the engine, a record or a frame. Strings here are raw (as they came from files, packets or
 * the engine): components escape every one of them with safeText when drawing.
 */
import type { Severity } from '../engine/severity.js';
import type { PortRole } from '../model/topology.js';

export type { Severity };

/** How the UI gets its frames. */
export type SourceMode = 'browse' | 'replay' | 'live';

export interface UiSlave {
  name: string;
  /** The bond's active slave (active-backup), marked in the header. */
  active: boolean;
  linkUp: boolean | null;
}

export interface UiBond {
  name: string;
  mode: string | null;
  slaves: UiSlave[];
}

export interface UiBridgePort {
  name: string;
  role: PortRole;
  state: string | null;
}

export interface UiBridge {
  name: string;
  ports: UiBridgePort[];
}

export interface UiTopology {
  bonds: UiBond[];
  bridges: UiBridge[];
  /** One line per port whose role was assumed (from its name, say): the header shows the count. */
  assumed: string[];
}

export interface UiInterface {
  name: string;
  role: PortRole;
  frames: number;
  /** Frames per second over the last whole second (capture time for files, wall time live). */
  rate: number;
  /** Drops the capture reported, -1 when unknown. */
  drops: number;
}

export interface UiPortCount {
  port: string;
  /** Frames with this MAC as source seen entering the host on the port (or captured as received). */
  inFrames: number;
  /** Frames with this MAC as source seen leaving on the port. */
  outFrames: number;
  /** Frames whose direction neither the capture nor the frame's path told. */
  unknownFrames: number;
}

export interface UiMacRow {
  vlan: number;
  mac: number;
  /** Vendor from the OUI, null when not known. */
  vendor: string | null;
  ports: UiPortCount[];
  /** The port the bridge learned the MAC on, as far as the frames tell; null when not yet. */
  learnedOn: string | null;
  /** The port the MAC belongs on (a guest's vif, the host itself), null when not known. */
  home: string | null;
  /** Learned on a port it does not belong on (now, or earlier in the capture): the outage. Drawn red. */
  wrongPort: boolean;
  /** Still learned on the wrong port at the newest frame. */
  wrongNow: boolean;
  /** Broadcasts from this MAC seen coming back in (looped). Drawn yellow when > 0. */
  loopedFrames: number;
  /** Frames with the host's own address as source received on the bond. Drawn yellow when > 0. */
  ownAddressFrames: number;
  /** Capture time of the last frame from it, seconds since the epoch. */
  lastSeen: number;
}

export interface UiFinding {
  id: string;
  kind: string;
  severity: Severity;
  summary: string;
  explanation: string;
  remedies: string[];
  /** Short evidence lines (frame numbers, ports, counts). */
  evidence: string[];
  /** Capture times (seconds since the epoch) of the first and last frame behind it. */
  first: number;
  last: number;
  /** Still happening (live/replay): the problem was seen within the last seconds. */
  active: boolean;
}

export interface UiEvent {
  /** Capture time, seconds since the epoch. */
  time: number;
  /** kernel-warning, fdb-move, failover, finding-start, finding-stop, capture … */
  kind: string;
  severity: Severity;
  text: string;
}

/** The engine's verdict (verdict.ts) as the header shows it: the answer, the guests it hurts, the remedy. */
export interface UiVerdict {
  state: 'loops' | 'does-not-loop' | 'cannot-tell';
  line: string;
  /** One short line per guest hurt. */
  hurt: string[];
  remedy: string | null;
  /** What would tell (cannot tell), the first of them. */
  tell: string | null;
}

export interface UiSnapshot {
  /** What is being looked at: file names, or the host for live. */
  title: string;
  mode: SourceMode;
  /** reading/capturing while frames come in, done at the end of the files, stopped when live ends. */
  state: 'reading' | 'capturing' | 'done' | 'stopped';
  frames: number;
  /** Capture time of the newest frame, seconds since the epoch (0 before the first). */
  now: number;
  topology: UiTopology;
  interfaces: UiInterface[];
  macs: UiMacRow[];
  findings: UiFinding[];
  timeline: UiEvent[];
  /** Looped frames per second, oldest first, one value per second of capture time up to `now`. */
  loopedPerSecond: number[];
  /** Problems with the inputs (damage, undecoded link types): shown in the status line. */
  messages: string[];
  /** Live: frames lost so far, shown in the header's status; null for files. */
  drops: UiDrops | null;
  /** The verdict so far (final once the files are read); null before any frame. */
  verdict: UiVerdict | null;
}

/** Frames a live capture lost: by the kernel (null: the backend cannot tell) and by bondscope. */
export interface UiDrops {
  kernel: number | null;
  internal: number;
  /** Both, in the last whole second. */
  lastSec: number;
}

export function emptySnapshot(title: string, mode: SourceMode): UiSnapshot {
  return {
    title,
    mode,
    state: mode === 'live' ? 'capturing' : 'reading',
    frames: 0,
    now: 0,
    topology: { bonds: [], bridges: [], assumed: [] },
    interfaces: [],
    macs: [],
    findings: [],
    timeline: [],
    loopedPerSecond: [],
    messages: [],
    drops: null,
    verdict: null,
  };
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s] ?? 0;
}

/** The colour class of a MAC row: the problem a user must see first wins. */
export type RowMark = 'wrong-port' | 'looped' | 'none';

export function rowMark(row: UiMacRow): RowMark {
  if (row.wrongPort) return 'wrong-port';
  if (row.loopedFrames > 0 || row.ownAddressFrames > 0) return 'looped';
  return 'none';
}
