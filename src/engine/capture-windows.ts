/**
 * Capture windows: when each captured port was being recorded, as its input's frames show it. A
 * copy missing from a port that was not capturing proves nothing (path.ts R2), so every rule that
 * reads an absence asks here first.
 */
import type { CaptureInterface } from '../model/record.js';
import { roleFromName } from '../model/roles.js';
import type { Topology } from '../model/topology.js';
import { type PathSighting, R_BRIDGE, R_GUEST } from './path.js';
import type { PortTable } from './ports.js';

/** Inputs with a capture window of their own; past it an input counts as always capturing. */
export const MAX_WINDOWS = 4096;
/** DLT_EN10MB. */
const LINKTYPE_ETHERNET = 1;
/** Captured interfaces that carried no frame, kept as ports at most. */
const MAX_SILENT_PORTS = 256;

export class CaptureWindows {
  /** First and latest frame time per input; NaN until its first frame. */
  private readonly inputFirstT = new Float64Array(MAX_WINDOWS).fill(NaN);
  private readonly inputLastT = new Float64Array(MAX_WINDOWS).fill(NaN);
  /**
   * Inputs that stopped at damage (a file cut short). An input with several interfaces (dumpcap
   * writes each one's frames in batches) holds each interface's frames up to a moment of its own
   * then: each of its ports counts as capturing up to its own latest frame.
   */
  private readonly inputsCut = new Set<number>();
  /** The capture set's interfaces (the reader's registry, filled as inputs open), when the caller knows them. */
  interfaces: readonly CaptureInterface[] = [];

  constructor(
    private readonly ports: PortTable,
    private readonly topology: Topology,
  ) {}

  /** A frame of `input` at engine time t (in arrival order): the input's window reaches it. */
  saw(input: number, t: number): void {
    if (input >= MAX_WINDOWS) return;
    if (!(this.inputFirstT[input]! <= t)) this.inputFirstT[input] = t;
    if (!(this.inputLastT[input]! >= t)) this.inputLastT[input] = t;
  }

  /** The input ended at damage: its ports' capture windows end at their own latest frames (before finish()). */
  inputCut(input: number): void {
    this.inputsCut.add(input);
  }

  /** Whether the input stopped at damage (a file cut short). */
  isCut(input: number): boolean {
    return this.inputsCut.has(input);
  }

  /**
   * Whether the capture holding `port` was running at `t`: from the port's own first frame (an
   * input of several interfaces may be files merged after the fact — mergecap of tcpdumps started
   * one by one — whose interfaces began at moments of their own; a port on which the host floods
   * every broadcast is never quiet for long while it captures) to the latest frame of its input so
   * far. A port whose capture started later or stopped earlier proves nothing by its absence.
   */
  capturing(port: number, t: number): boolean {
    const p = this.ports.ports[port]!;
    const input = p.input;
    if (input < 0) return false;
    if (input >= MAX_WINDOWS) return true;
    return this.inputFirstT[input]! <= t && p.firstT <= t && t <= p.endT && t <= (this.inputsCut.has(input) ? p.lastT : this.inputLastT[input]!);
  }

  /**
   * Live capture: the session was capturing up to `t` (a reorder horizon before now, on the frames'
   * clock) on every input that has begun, whether or not a frame came since: a quiet port is still
   * watched.
   */
  reach(t: number): void {
    for (let i = 0; i < MAX_WINDOWS; i++) if (this.inputLastT[i]! < t) this.inputLastT[i] = t;
  }

  /** How many ports of this role (ROLE_INDEX) were being captured over the whole of [from, to]. */
  watchedBy(role: number, from: number, to: number): number {
    let n = 0;
    for (const p of this.ports.ports) if (p.roleIndex === role && this.capturing(p.index, from) && this.capturing(p.index, to)) n++;
    return n;
  }

  /** Whether every port of this role (ROLE_INDEX) was being captured at t (false when there is none). */
  everyCapturing(role: number, t: number): boolean {
    let any = false;
    for (const p of this.ports.ports) {
      if (p.roleIndex !== role) continue;
      if (!this.capturing(p.index, t)) return false;
      any = true;
    }
    return any;
  }

  /**
   * Whether a port of this role (ROLE_INDEX) with no copy among s[0, n) had begun capturing before
   * t and was no longer at t: its capture ended (a port with a copy was capturing then).
   */
  endedBy(role: number, t: number, s: readonly PathSighting[], n: number): boolean {
    for (const p of this.ports.ports) {
      if (p.roleIndex !== role || !(p.firstT < t) || this.capturing(p.index, t)) continue;
      let seen = false;
      for (let i = 0; i < n && !seen; i++) seen = s[i]!.port === p.index;
      if (!seen) return true;
    }
    return false;
  }

  /** Whether any port of this role (ROLE_INDEX) was being captured at t. */
  roleCapturing(role: number, t: number): boolean {
    for (const p of this.ports.ports) if (p.roleIndex === role && this.capturing(p.index, t)) return true;
    return false;
  }

  /**
   * Whether every guest's port in the capture set was being captured at t. A capture set without
   * a guest's port has none that was: any guest's frame reaches the bridge device unseen on its
   * way, so the bridge device's copy makes no MAC the host's by itself.
   */
  allGuestPortsCapturing(t: number): boolean {
    let any = false;
    for (const p of this.ports.ports) {
      if (p.roleIndex !== R_GUEST) continue;
      if (!this.capturing(p.index, t)) return false;
      any = true;
    }
    if (!any) return false;
    // Interfaces of the capture set that have not given the engine a frame yet (a tcpdump started
    // later): the reader merges inputs by time, so they were not capturing then.
    for (const iface of this.interfaces) {
      if (this.ports.get(iface.name)) continue;
      if ((this.topology.ports.get(iface.name)?.role ?? roleFromName(iface.name).role) === 'guest') return false;
    }
    return true;
  }

  /**
   * Whether the bridge device was being captured at t. A capture set without the bridge device has
   * none that was: the host's own frames, flooded to every guest's port, then look like a guest's
   * own flooded to the others.
   */
  bridgeDeviceCapturing(t: number): boolean {
    return this.roleCapturing(R_BRIDGE, t);
  }

  /**
   * At the end: an Ethernet interface of the capture set that carried no frame was captured all
   * the same — a slave that received nothing is the backup of an active-backup bond, or dead, not
   * missing — so it becomes a port. (An -i any capture's interfaces are known only by the frames it
   * has.) Only interfaces whose role is known, and a bounded number: a file of 16 000 empty
   * interface blocks is not a host.
   */
  addSilentPorts(): void {
    let silent = 0;
    for (const iface of this.interfaces) {
      if (silent >= MAX_SILENT_PORTS) break;
      if (iface.linkType !== LINKTYPE_ETHERNET || iface.frames !== 0 || this.ports.get(iface.name)) continue;
      if ((this.topology.ports.get(iface.name)?.role ?? roleFromName(iface.name).role) === 'unknown') continue;
      this.ports.captured(iface.name, iface.inputIndex);
      silent++;
    }
  }
}
