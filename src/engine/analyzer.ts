/**
 * The analysis engine: the wiring between its stages. Frames from any number of observation points
 * (files or live) go in through `observe`:
 *
 *   ingest (ingest.ts)          records in, time order (reorder.ts), copies of a frame grouped
 *   → path (path.ts)            each settled frame's path on the host's port graph, pure
 *   → learning (bridge-model.ts) what the frame teaches, what the bridge learned where
 *   → detectors (detectors/)    findings, recorded in the finding store (finding-store.ts)
 *
 * Capture windows (capture-windows.ts) say which ports were being recorded when; the kernel's own
 * word (kernel-log.ts) is folded in at the end. The Analyzer is what the detectors see of the
 * engine (DetectorContext) and what the sinks read.
 */
import type { DecodedFrame } from '../decode/frame.js';
import { type CaptureInterface, DIR_IN, type PacketRecord } from '../model/record.js';
import type { Topology } from '../model/topology.js';
import { BridgeModel, isGuestOui, XEN_VIF_MAC } from './bridge-model.js';
import { CaptureWindows } from './capture-windows.js';
import { ControlPlane } from './control-plane.js';
import { closeBlackholing, onInboundUnicast } from './detectors/blackholing.js';
import type { DetectorContext, EvidenceSource } from './detectors/context.js';
import { closeLearning } from './detectors/learning.js';
import { onEcho } from './detectors/loop-echoes.js';
import { closeMoves } from './detectors/moves.js';
import { type UnicastTally, UnicastTallies } from './detectors/unicast-tally.js';
import { type HostNames, summarize } from './detectors/wording.js';
import { ECHO_DROPPED, type EchoFate, echoFate, type EchoWindows } from './echo-fate.js';
import { FindingStore } from './finding-store.js';
import { type Confidence, type ExplanationNames, explanationFor, type Finding, type FindingKind, type FindingOf } from './findings.js';
import type { Group } from './grouping.js';
import { Ingest, type IngestSink } from './ingest.js';
import { type KernelFdbEntry, KernelLog, type KernelNote } from './kernel-log.js';
import { type MacEntry, MacTable } from './mac-table.js';
import type { PendingGroups } from './pending-groups.js';
import { type AnalysisStats, type AnalyzerOptions, DEFAULT_OPTIONS, hopGapFor } from './options.js';
import { emptyPath, type FramePath, IN_HOST_HOP_NS, O_BOND, O_GUEST, O_HOST, O_OUTSIDE, P_NONE, pathOf, type PortGraph, R_UNKNOWN, type SourceKnowledge, SWITCH_ROUND_TRIP_NS } from './path.js';
import { countDirection, type PortState, PortTable } from './ports.js';
import { TimeBase } from './time-base.js';
import { UplinkWatch } from './uplink.js';

export { type AnalysisStats, type AnalyzerOptions, ARRIVAL_HOP_GAP_NS, DEFAULT_OPTIONS, hopGapFor } from './options.js';
export { MAX_PENDING_GROUPS, MAX_SIGHTINGS, SETTLE_AFTER_NS, SETTLE_STEP_NS } from './grouping.js';
export type { KernelFdbEntry, KernelNote } from './kernel-log.js';
export { findingKey } from './finding-store.js';

export class Analyzer implements DetectorContext {
  readonly ports: PortTable;
  readonly macs: MacTable;
  /** BPDUs and LACPDUs: spanning tree and LACP health (control-plane.ts). */
  readonly controlPlane = new ControlPlane();
  /** What the uplink did with the host side's frames (uplink.ts). */
  readonly uplink = new UplinkWatch();
  readonly stats: AnalysisStats = { frames: 0, undecoded: 0, groups: 0, pendingGroups: 0, macsTracked: 0, macsDropped: 0, firstSec: 0, lastSec: 0, lateFrames: 0, lateByUpToMs: 0, releasedEarly: 0 };
  /** MACs the host owns (bridge, bond, slaves): from the topology and from frames the bridge device sent. */
  readonly localMacs: Set<number>;
  /** Guest MAC → its port, from frames that entered the host on a guest port. */
  readonly guestPorts: Map<number, number>;
  /** Kernel log lines (own-address warnings, failovers), kept for the timeline and the findings. */
  readonly kernelNotes: KernelNote[];
  /** The latest FDB snapshot per bridge port's MAC: where the kernel really has each MAC. */
  readonly kernelFdb: Map<number, string>;

  private readonly time = new TimeBase();
  private readonly windows: CaptureWindows;
  private readonly ingest: Ingest;
  private readonly bridge: BridgeModel;
  private readonly findings: FindingStore;
  private readonly kernel: KernelLog;
  /** Unicast from outside per guest, bounded like the guests (the blackholing detector's). */
  private readonly unicastTallies: UnicastTallies;

  /** The host's port graph as the path stage reads it (path.ts). */
  private readonly graph: PortGraph;
  private readonly echoWindows: EchoWindows;
  private readonly path: FramePath = emptyPath();
  private readonly knowledge: SourceKnowledge = { isHost: false, guestChain: -1, guestPort: -1, likelyGuest: false, unicastForOther: false, resentFromHostSide: false };
  /** What the wording needs of the host: a guest's own port, a port's role. */
  private readonly hostNames: HostNames = {
    guestPortName: (mac: number): string | null => this.guestPortName(mac),
    roleOf: (name: string): string | null => this.ports.get(name)?.port.role ?? null,
  };

  constructor(
    readonly topology: Topology,
    readonly options: AnalyzerOptions = DEFAULT_OPTIONS,
  ) {
    this.ports = new PortTable(topology);
    this.macs = new MacTable(options.maxMacs);
    this.windows = new CaptureWindows(this.ports, topology);
    this.bridge = new BridgeModel(topology, this.ports, this.macs, this.windows, options.maxMacs, this);
    this.localMacs = this.bridge.localMacs;
    this.guestPorts = this.bridge.guestPorts;
    this.findings = new FindingStore(this.ports, this.time, options.maxMacs);
    this.kernel = new KernelLog(this.ports);
    this.unicastTallies = new UnicastTallies(options.maxMacs);
    this.kernelNotes = this.kernel.notes;
    this.kernelFdb = this.kernel.fdb;
    const hopGapNs = hopGapFor(options.stamps);
    const ports = this.ports;
    const windows = this.windows;
    this.graph = {
      // Arrival stamps (a hop gap larger than the switch's) stretch in-host hops as much.
      inHostHopNs: hopGapNs > SWITCH_ROUND_TRIP_NS ? hopGapNs : IN_HOST_HOP_NS,
      role: (port) => ports.ports[port]!.roleIndex,
      chain: (port) => ports.ports[port]!.chain,
      innerHop: (port) => ports.ports[port]!.innerHop,
      capturing: (port, t) => windows.capturing(port, t),
      roleCapturing: (role, t) => windows.roleCapturing(role, t),
      everyCapturing: (role, t) => windows.everyCapturing(role, t),
      endedBy: (role, t, s, n) => windows.endedBy(role, t, s, n),
      hasRole: (role) => ports.hasRole(role),
    };
    this.echoWindows = {
      watchedBy: (role, from, to) => windows.watchedBy(role, from, to),
      inHostHopNs: this.graph.inHostHopNs,
      echoWithinNs: Math.max(hopGapNs, SWITCH_ROUND_TRIP_NS),
    };
    const sink: IngestSink = {
      ungrouped: (t, src, vlan, port, dir, origLen, input, frame, unplaced) => this.ungrouped(t, src, vlan, port, dir, origLen, input, frame, unplaced),
      settled: (g) => this.settleGroup(g),
      pass: () => this.findings.noteFlood(this.macs, this.ingest.maxT, this.hostNames),
    };
    this.ingest = new Ingest(options, this.ports, this.windows, this.time, this.stats, this.controlPlane, this.localMacs, hopGapNs, sink);
  }

  observe(rec: PacketRecord, f: DecodedFrame): void {
    this.ingest.observe(rec, f);
  }

  /** Settles what is complete now (every group and held frame, `all`). */
  settle(all: boolean): void {
    this.ingest.settle(all);
  }

  /** Live mode with no frames for a while: time still passes, and what is complete settles. */
  advanceTo(tsSec: number, tsNsec: number): void {
    this.ingest.advanceTo(tsSec, tsNsec);
  }

  /** A unicast between outside hosts: only the table. Without a direction, frames on the uplink came in. */
  private ungrouped(t: number, src: number, vlan: number, port: PortState, dir: number, origLen: number, input: number, frame: number, unplaced: boolean): void {
    const d = dir || port.usualDir;
    this.macs.count(vlan, src, port.index, d, origLen, t);
    countDirection(port, d);
    if (d === DIR_IN && port.learns && !unplaced) this.bridge.learnAt(vlan, src, port.index, t, false, port.index, input, frame);
  }

  private settleGroup(g: Group): void {
    const s = g.sightings;
    // A group may hold the same bytes sent more than once: each frame gets its own path.
    this.knowledge.resentFromHostSide = false;
    while (s.length > 0) {
      const n = this.settleFrame(g, s);
      const from = this.path.from;
      if (from === O_GUEST || from === O_HOST || from === O_BOND) this.knowledge.resentFromHostSide = true;
      if (n >= s.length) break;
      for (let i = n; i < s.length; i++) s[i - n] = s[i]!;
      s.length -= n;
    }
  }

  /** The path of the first frame among the sightings, what it teaches and what it proves; returns how many sightings were its. */
  private settleFrame(g: Group, s: Group['sightings']): number {
    const src = g.src;
    if (s.length === 1) {
      // One copy on a port of unknown role (a capture of an interface no name or flag placed):
      // no path to work out, nothing learned; only counted.
      const x = s[0]!;
      const port = this.ports.ports[x.port]!;
      if (port.roleIndex === R_UNKNOWN) {
        x.place = P_NONE;
        countDirection(port, x.dir);
        this.macs.count(g.vlan, src, x.port, x.dir, 0, x.t);
        return 1;
      }
    }
    const k = this.knowledge;
    k.isHost = this.localMacs.has(src);
    const gp = this.guestPorts.get(src);
    k.guestChain = gp === undefined ? -1 : this.ports.ports[gp]!.chain;
    k.guestPort = gp ?? -1;
    k.likelyGuest = k.isHost || isGuestOui(src);
    k.unicastForOther = !g.group && g.dst >= 0 && !this.localMacs.has(g.dst);
    const path = pathOf(s, s.length, this.graph, k, this.path);
    this.bridge.learnFrom(src, g.vlan, s, path);
    // The detectors, on the settled path; what became of a host-side frame, decided once for them all.
    if (path.from === O_GUEST || path.from === O_HOST || path.from === O_BOND) {
      const fate = echoFate(s, path, g.group, this.echoWindows);
      if (path.echo) onEcho(this, g, s, path, fate);
      this.noteUplink(g, s, path, fate);
    }
    if (path.from === O_OUTSIDE && !g.group) onInboundUnicast(this, g, s, path);
    return path.n;
  }

  /** What the host's uplink did with a frame the host side sent (uplink.ts): which slave it left by, what became of it. */
  private noteUplink(g: Group, s: Group['sightings'], path: FramePath, fate: EchoFate): void {
    const back = fate === ECHO_DROPPED ? s[path.echoIn]!.port : -1;
    this.uplink.note(s[path.origin]!.t, g.group, path.outSlave >= 0 ? s[path.outSlave]!.port : -1, path.firstOut >= 0, fate, back, back >= 0 ? this.ports.bondOf(back) : -1);
  }

  /** Settles everything and returns the findings, most severe first. */
  finish(): Finding[] {
    this.settle(true);
    this.windows.addSilentPorts();
    const reorder = this.ingest.reorderStats;
    this.stats.lateFrames = reorder.late;
    this.stats.lateByUpToMs = Math.round(reorder.maxLateNs / 1e3) / 1e3;
    this.stats.releasedEarly = reorder.releasedEarly;
    // At the end, from the MAC table: moves and flaps, entries still wrong; the share of each guest's unicast lost.
    for (const e of this.macs.entries()) {
      if (e.mac === XEN_VIF_MAC) continue;
      closeMoves(this, e);
      closeLearning(this, e);
    }
    this.unicastTallies.forEach((vlan, mac, t) => closeBlackholing(this, vlan, mac, t));
    this.kernel.applyTo(this.findings, this.ingest.maxT);
    this.stats.macsTracked = this.macs.size;
    this.stats.macsDropped = this.macs.dropped;
    this.stats.lastSec = this.time.sec(this.ingest.maxT);
    this.findings.noteFlood(this.macs, this.ingest.maxT, this.hostNames);
    for (const f of this.findings.values()) {
      f.summary = summarize(f, this.hostNames);
      // In this host's names: its bridge, the bond the frames came up, the guest's own port.
      if (f.kind !== 'mac-flood' && f.details.source !== 'kernel log') f.explanation = explanationFor(f.kind, this.namesOf(f));
    }
    return this.currentFindings();
  }

  currentFindings(): Finding[] {
    const rank = { error: 0, warning: 1, info: 2 };
    // Spanning tree and LACP are judged on their latest state, so they are computed afresh (cached until a BPDU/LACPDU or host MAC arrives).
    const control = this.controlPlane.findings({
      localMacs: this.localMacs,
      topology: this.topology,
      ports: this.ports.ports,
      lastFrameSec: (port) => this.time.wall(this.ports.ports[port]!.lastT),
      nowSec: Math.floor(this.time.wall(this.ingest.maxT)),
    });
    // A reflection settles nothing where an echo was seen going up, dropped or kept out of the
    // bridge (uplink.ts echoFateSeen): the verdict's note counts those echoes instead.
    const fateSeen = this.uplink.echoFateSeen();
    const data = [...this.findings.values()].filter((f) => !(fateSeen && f.kind === 'switch-reflection'));
    return [...data, ...control].sort((a, b) => rank[a.severity] - rank[b.severity] || b.count - a.count);
  }

  /** Cheap view for a UI redraw: counters, the MACs involved in findings first, the findings so far. */
  snapshot(): { ports: PortState[]; findings: Finding[]; stats: AnalysisStats } {
    const reorder = this.ingest.reorderStats;
    this.stats.lateFrames = reorder.late;
    this.stats.releasedEarly = reorder.releasedEarly;
    return { ports: this.ports.ports, findings: this.currentFindings(), stats: this.stats };
  }

  // What the detectors see (DetectorContext) and the sinks read.

  finding<K extends FindingKind>(kind: K, mac: number, vlan: number, t: number, refs: readonly EvidenceSource[], path: string[], confidence: Confidence): FindingOf<K> {
    return this.findings.finding(kind, mac, vlan, t, refs, path, confidence);
  }

  existing<K extends FindingKind>(kind: K, mac: number, vlan: number): FindingOf<K> | undefined {
    return this.findings.existing(kind, mac, vlan);
  }

  unicastTally(vlan: number, mac: number, guestPort: number): UnicastTally | undefined {
    return this.unicastTallies.of(vlan, mac, guestPort);
  }

  /** Engine time of the latest frame. */
  get latestT(): number {
    return this.ingest.maxT;
  }

  /** Engine time of the earliest frame (0 before the first). */
  firstT(): number {
    return this.ingest.minT === Infinity ? 0 : this.ingest.minT;
  }

  /** An engine time (MacEntry first/last, a move's t) as seconds since the epoch. */
  wallTime(t: number): number {
    return this.time.wall(t);
  }

  capturing(port: number, t: number): boolean {
    return this.windows.capturing(port, t);
  }

  fdbVlan(vlan: number): number {
    return this.bridge.fdbVlan(vlan);
  }

  learningOf(e: MacEntry): MacEntry {
    return this.bridge.learningOf(e);
  }

  belonging(mac: number): ReturnType<BridgeModel['belonging']> {
    return this.bridge.belonging(mac);
  }

  guestPortName(mac: number): string | null {
    return this.bridge.guestPortName(mac);
  }

  /** The bridge, bond and guest's port a finding is about, as this host names them (null where not known). */
  namesOf(f: Finding): ExplanationNames {
    return this.bridge.namesOf(f);
  }

  /**
   * The engine's structures that grow with the input, as they stand (read-only): what the bounds
   * checks (test/safety, the fuzzer) hold against their limits.
   */
  growing(): { pending: Pick<PendingGroups, 'length' | 'indexed' | 'count' | 'slotAt'>; hostSideSeen: { readonly size: number }; findings: Iterable<Finding> } {
    return { pending: this.ingest.pendingGroups, hostSideSeen: this.ingest.hostSideSources, findings: this.findings.values() };
  }

  // What the caller tells the engine besides the frames.

  /**
   * Tells the engine every interface of the capture set up front (`set.registry.list`, which the
   * reader fills as it opens inputs): a port whose capture has not started yet proves nothing by
   * its absence either.
   */
  knowInterfaces(list: readonly CaptureInterface[]): void {
    this.windows.interfaces = list;
  }

  /** The input ended at damage: its ports' capture windows end at their own latest frames (before finish()). */
  inputCut(input: number): void {
    this.windows.inputCut(input);
  }

  /** Whether the input stopped at damage (told by inputCut). */
  inputCutShort(input: number): boolean {
    return this.windows.isCut(input);
  }

  noteKernel(n: KernelNote): void {
    this.kernel.note(n);
  }

  /** A fresh read of the bridge's forwarding database (live mode polls it). */
  noteFdb(entries: KernelFdbEntry[]): void {
    this.kernel.noteFdb(entries);
  }
}
