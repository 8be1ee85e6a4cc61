/**
 * `bondscope monitor`'s logic, apart from the process around it (src/cli/monitor.ts): it is handed
 * a capture session (the live session, through the narrow `MonitorSession` view), reads the engine
 * every poll, gives findings a life (lifecycle.ts), turns what changed into metrics (metrics.ts) and
 * NDJSON events, keeps recent frames (frame-ring.ts) and asks for evidence bundles
 * (evidence-keeper.ts), reads the kernel's forwarding database for guests learned on the bond, and
 * re-checks the host's configuration (`check`'s code) on start and when it changes.
 *
 * Bounded for months: the engine is replaced every `epochMs` (MACs not seen since are forgotten,
 * the engine's finding and kernel-line lists start again); the lifecycle keeps only open findings;
 * the frame ring and the evidence directory have fixed caps; a port that goes away takes its
 * metric series and its guests' findings with it.
 *
 * Time: every interval (epochs, quiet periods, evidence delays and rates) runs on a monotonic
 * clock; the wall clock only stamps what people read. An NTP step is said once and changes nothing
 * else. The frames carry their own (kernel) stamps, which the engine orders by itself.
 */
import type { HostInfo } from '../capture/host/discover.js';
import { readBridgeFdb } from '../capture/host/kernel.js';
import type { DecodedFrame } from '../decode/index.js';
import type { Analyzer } from '../engine/analyzer.js';
import type { Finding } from '../engine/findings.js';
import { checkTopology } from '../engine/host-check.js';
import type { PacketRecord } from '../model/record.js';
import { roleFromName } from '../model/roles.js';
import type { PortRole, Topology } from '../model/topology.js';
import { findingJson, summaryOf } from '../report/analysis.js';
import { safeJson } from '../report/escape.js';
import { EvidenceKeeper, type EvidenceOptions } from './evidence-keeper.js';
import { FrameRing, type RingOptions, DEFAULT_RING } from './frame-ring.js';
import { DEFAULT_LIFECYCLE, FindingTracker, type LifecycleEvent, type LifecycleOptions, type Tracked } from './lifecycle.js';
import { MonitorMetrics } from './metrics.js';

/** The monitor's two clocks (ms): monotonic for intervals, wall for the event lines and bundle names. */
export interface MonitorClock {
  mono(): number;
  wall(): number;
}

export const SYSTEM_CLOCK: MonitorClock = { mono: () => performance.now(), wall: () => Date.now() };

/** A port appearing or going away, as the session saw it. */
export interface PortEvent {
  readonly kind: string;
  readonly iface: string | null;
}

/** What the monitor uses of a live session: the engine, a frame tap, its messages and drops. */
export interface MonitorSession {
  readonly analyzer: Analyzer;
  readonly observers: ((rec: PacketRecord, frame: DecodedFrame) => void)[];
  readonly messages: readonly string[];
  /** Interfaces appearing and going away (kind 'appeared' / 'gone'), in order. */
  readonly events?: readonly PortEvent[];
  /** Worker capture: interfaces whose capture fell behind (how many frames is not known). */
  readonly dropped?: ReadonlySet<string>;
  /** Ring capture: frames dropped so far for the whole host, by the kernel and inside bondscope. */
  drops?(): { kernel: number | null; internal: number; kernelPeakPerSec?: number | null; internalPeakPerSec?: number } | null;
  /** A fresh engine from the next frame on. */
  reset(): void;
  /** A host reached over ssh: its bridges' learning tables as its session last read them (this host's are read here). */
  readonly learnedOnHost?: (bridge: string) => { mac: number; port: string; isLocal: boolean }[] | null;
}

export interface MonitorOptions {
  lifecycle: LifecycleOptions;
  /** A fresh engine this often (ms): MACs and findings age out. */
  epochMs: number;
  ring: RingOptions;
  evidence: EvidenceOptions | null;
  /** Read the kernel's FDB (false with --no-kernel). */
  kernel: boolean;
  /** One NDJSON line per event. */
  emit: (line: string) => void;
  /** Default: the system's (performance.now, Date.now). */
  clock?: MonitorClock;
}

export const DEFAULT_MONITOR: Omit<MonitorOptions, 'emit' | 'evidence'> = { lifecycle: DEFAULT_LIFECYCLE, epochMs: 3_600_000, ring: DEFAULT_RING, kernel: true };

export class Monitor {
  readonly metrics = new MonitorMetrics();
  readonly tracker: FindingTracker;
  readonly ring: FrameRing;
  readonly evidence: EvidenceKeeper | null;
  private session: MonitorSession | null = null;
  private topology: Topology;
  readonly clock: MonitorClock;
  /** Bumped at each fresh engine (epoch or capture restart): counts restart with it. */
  private generation = 0;
  /** Monotonic ms; NaN until the first poll of the epoch (which starts it, on the caller's clock). */
  private epochStart = NaN;
  /** Wall minus monotonic at the last poll: a change is the wall clock stepping. */
  private wallOffset: number;
  /** Per-frame counts by the capture registry's interface id, and their names (this session). */
  private framesById = new Float64Array(64);
  private namesById: string[] = [];
  private countedById = new Float64Array(64);
  private lastFrameSec = 0;
  private kernelNotesRead = 0;
  private movesSeen = new Map<string, number>();
  private messagesShown = 0;
  private portEventsRead = 0;
  /** Messages about the kernel log said so far: a capture restart opens it again, and is not said again. */
  private readonly kernelLogSaid = new Set<string>();
  /** Drops last said (a capture-dropping line at most every DROPS_EVERY_MS). */
  private dropsSaid = 0;
  private dropsSaidAt = -Infinity;
  /** Guests' MACs (from the engine and from the FDB on guest ports) → their port, this epoch. */
  private guestMacs = new Map<number, string>();
  /** Ports gone this epoch: the engine still knows their guests, the filter must not name them. */
  private gonePorts = new Set<string>();
  private configSignature = '';
  /** Ring drops of earlier sessions (the counter goes on across capture restarts). */
  private dropsBefore = 0;

  constructor(
    readonly options: MonitorOptions,
    topology: Topology,
  ) {
    this.topology = topology;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.wallOffset = this.clock.wall() - this.clock.mono();
    this.ring = new FrameRing(options.ring);
    this.evidence = options.evidence ? new EvidenceKeeper(options.evidence, this.ring, () => this.topology) : null;
    if (this.evidence?.leftovers.length) {
      this.event({ event: 'message', time: iso(this.clock.wall()), message: `evidence: removed ${this.evidence.leftovers.length} partial bundle(s) a stopped monitor had left unfinished (${this.evidence.leftovers.join(', ')})` });
    }
    this.tracker = new FindingTracker(options.lifecycle, (f, delta) => this.countEvidence(f, delta));
    if (this.evidence) for (const reason of ['rate-limit', 'disk-full', 'error']) this.metrics.evidenceSkipped.inc({ reason }, 0);
    this.metrics.activeBy = this.tracker.activeBy;
  }

  /** Starts reading a session (at start, and after a capture restart with a new topology). */
  attach(session: MonitorSession, topology: Topology): void {
    this.flushCounts();
    this.dropsBefore = this.metrics.dropped.get(ALL_INTERFACES) ?? 0;
    this.session = session;
    this.topology = topology;
    this.newGeneration();
    this.framesById.fill(0);
    this.countedById.fill(0);
    this.namesById = [];
    this.messagesShown = 0;
    this.portEventsRead = 0;
    session.observers.push((rec) => this.onFrame(rec));
  }

  private onFrame(rec: PacketRecord): void {
    const id = rec.iface!.id;
    if (id >= this.framesById.length) {
      const grown = new Float64Array(Math.max(id + 1, this.framesById.length * 2));
      grown.set(this.framesById);
      this.framesById = grown;
      const counted = new Float64Array(grown.length);
      counted.set(this.countedById);
      this.countedById = counted;
    }
    if (this.namesById[id] === undefined) this.namesById[id] = rec.iface!.name;
    this.framesById[id]!++;
    this.lastFrameSec = rec.tsSec + rec.tsNsec / 1e9;
    this.ring.push(rec);
  }

  /** Moves this session's per-interface counts into the metrics' totals. */
  private flushCounts(): void {
    for (let id = 0; id < this.namesById.length; id++) {
      const name = this.namesById[id];
      if (name === undefined) continue;
      const add = this.framesById[id]! - this.countedById[id]!;
      if (add > 0) this.metrics.captured.set(name, (this.metrics.captured.get(name) ?? 0) + add);
      this.countedById[id] = this.framesById[id]!;
    }
    const s = this.session;
    if (s?.drops) {
      // One ring for the whole host: its drops are not any one interface's.
      const d = s.drops();
      if (d) this.metrics.dropped.set(ALL_INTERFACES, (this.dropsBefore + (d.kernel ?? 0) + d.internal));
    } else if (s?.dropped) {
      // Capture workers say that an interface dropped, not how much: at least one frame each.
      for (const name of s.dropped) if (!this.metrics.dropped.has(name)) this.metrics.dropped.set(name, 1);
    }
  }

  private newGeneration(): void {
    this.generation++;
    this.epochStart = NaN;
    this.kernelNotesRead = 0;
    this.movesSeen = new Map();
    this.guestMacs = new Map();
    this.gonePorts = new Set();
  }

  /**
   * Every poll (about twice a second): read the engine and emit what changed. `now` (tests) stands
   * for both clocks; by default the monotonic one times the intervals and the wall one the lines.
   */
  poll(now?: number): void {
    const s = this.session;
    if (!s) return;
    const mono = now ?? this.clock.mono();
    const wall = now ?? this.clock.wall();
    const stepped = now === undefined && this.noteClockStep(wall, mono);
    this.flushCounts();
    this.noteDrops(mono, wall);
    for (; this.messagesShown < s.messages.length; this.messagesShown++) {
      const message = s.messages[this.messagesShown]!;
      if (message.startsWith('kernel log:')) {
        if (this.kernelLogSaid.has(message)) continue;
        this.kernelLogSaid.add(message);
      }
      this.event({ event: 'message', time: iso(wall), message });
    }
    this.readPortEvents(s, wall);
    if (Number.isNaN(this.epochStart)) this.epochStart = mono;
    if (stepped || mono - this.epochStart >= this.options.epochMs) {
      // Forget: a fresh engine. What the old one holds is settled and read first (frames waiting
      // for their window would be lost otherwise); open findings stay open while the new engine
      // finds them again. Also when the clock stepped: the kernel stamps frames by the same wall
      // clock, and an engine whose frames went back in time reads them as late (what the bridge
      // learned before the step would be newer than every frame after it) until time passes the
      // step again; a fresh one starts from the new time.
      const old = s.analyzer;
      old.settle(true);
      this.readKernelNotes(old);
      this.countFlaps(old);
      this.emitAll(this.tracker.observe(old.currentFindings(), this.generation, mono, wall), mono);
      s.reset();
      this.newGeneration();
    }
    const a = s.analyzer;
    this.readKernelNotes(a);
    this.emitAll(this.tracker.observe(a.currentFindings(), this.generation, mono, wall), mono);
    this.metrics.macsTracked.set(a.macs.size);
    if (this.lastFrameSec) this.metrics.lastFrame.set(this.lastFrameSec);
  }

  /** The wall clock moved against the monotonic one (NTP stepped it): said once per step; returns whether it did. */
  private noteClockStep(wall: number, mono: number): boolean {
    const offset = wall - mono;
    const step = offset - this.wallOffset;
    this.wallOffset = offset;
    if (Math.abs(step) < CLOCK_STEP_MS) return false;
    this.event({ event: 'message', time: iso(wall), message: `the wall clock stepped ${step > 0 ? 'forward' : 'back'} by ${(Math.abs(step) / 1000).toFixed(1)} s: quiet periods, epochs and evidence delays run on the monotonic clock and are not affected; event times follow the wall clock; a fresh engine starts from the new time` });
    return true;
  }

  /** Capture drops: a line at most every DROPS_EVERY_MS while frames are being lost (the counter has them all). */
  private noteDrops(mono: number, wall: number): void {
    const total = [...this.metrics.dropped.values()].reduce((a, b) => a + b, 0);
    if (total <= this.dropsSaid || mono - this.dropsSaidAt < DROPS_EVERY_MS) return;
    const d = this.session?.drops?.();
    const peak = d ? Math.max(d.kernelPeakPerSec ?? 0, d.internalPeakPerSec ?? 0) : null;
    this.event({ event: 'capture-dropping', time: iso(wall), dropped: total - this.dropsSaid, total, ...(peak !== null ? { peakPerSecond: peak } : {}), message: 'the capture lost frames: findings may be missed or undercounted until it keeps up (see bondscope_capture_dropped_frames_total)' });
    this.dropsSaid = total;
    this.dropsSaidAt = mono;
  }

  /** Ports that went away: their metric series go, and the findings about their guests close. */
  private readPortEvents(s: MonitorSession, wall: number): void {
    const list = s.events;
    if (!list) return;
    for (; this.portEventsRead < list.length; this.portEventsRead++) {
      const e = list[this.portEventsRead]!;
      if (e.iface === null) continue;
      if (e.kind === 'appeared') this.gonePorts.delete(e.iface);
      if (e.kind !== 'gone') continue;
      const name = e.iface;
      this.gonePorts.add(name);
      void this.metrics.forgetPort(name);
      const macs = new Set<number>();
      const a = s.analyzer;
      for (const [mac, port] of a.guestPorts) if (a.ports.ports[port]?.port.name === name) macs.add(mac);
      for (const [mac, port] of this.guestMacs) if (port === name) macs.add(mac);
      for (const mac of macs) this.guestMacs.delete(mac);
      this.emitAll(this.tracker.closeFor(macs, wall), this.clock.mono());
    }
  }

  /** Less often (every few seconds): the kernel's FDB, MAC flaps. */
  slowPoll(): void {
    const a = this.session?.analyzer;
    if (!a) return;
    this.countFlaps(a);
    if (this.options.kernel) this.readFdb(a);
  }

  /** Async work: evidence bundles that are due (all of them with `force`, at shutdown). */
  async flushEvidence(force = false): Promise<void> {
    const w = await this.evidence?.tick(force ? Infinity : this.clock.mono());
    const now = this.clock.wall();
    if (!w) return;
    if (w.error) {
      this.metrics.evidenceSkipped.inc({ reason: w.reason ?? 'error' });
      this.event({ event: 'evidence', time: iso(now), bundle: w.bundle, findings: w.findings, error: w.error, reason: w.reason });
    } else {
      this.metrics.evidenceBundles.inc();
      this.event({ event: 'evidence', time: iso(now), bundle: w.bundle, findings: w.findings, frames: w.frames, bytes: w.bytes });
    }
    this.metrics.evidenceBytes.set(this.evidence!.bytes);
  }

  /**
   * The host's configuration (`check`): configuration findings open and close, gauges for STP,
   * LACP and loop-prone bonds. Returns whether it changed since the last check.
   */
  checkConfiguration(info: HostInfo, topology: Topology, now = this.clock.wall()): boolean {
    this.topology = topology;
    const check = checkTopology(topology, info.lacpStates);
    const m = this.metrics;
    m.bondLoopProne.reset();
    m.bondInfo.reset();
    for (const b of topology.bonds) {
      const bridge = topology.ports.get(b.name)?.bridge ?? topology.bridges.find((x) => x.ports.some((p) => p.name === b.name))?.name ?? '';
      const prone = check.findings.some((f) => f.kind === 'loop-prone-bond' && f.interfaces.includes(b.name));
      m.bondLoopProne.set({ bridge, bond: b.name }, prone ? 1 : 0);
      m.bondInfo.set({ bond: b.name, mode: b.mode ?? 'unknown' }, 1);
      // The loop's counters exist from the start at 0 for each bond (and slave), so rate() and
      // increase() say 0 on a healthy host instead of nothing.
      for (const sl of b.slaves) m.loopedFrames.inc({ bridge, bond: b.name, slave: sl.name }, 0);
      m.wrongPortLearning.inc({ bridge, bond: b.name }, 0);
      m.blackholedUnicast.inc({ bridge, bond: b.name }, 0);
      m.ownAddressFrames.inc({ bridge, port: b.name }, 0);
      m.kernelOwnAddress.inc({ bridge, port: b.name }, 0);
      m.bondFailovers.inc({ bond: b.name }, 0);
    }
    for (const br of topology.bridges) m.macFlaps.inc({ bridge: br.name }, 0);
    m.stpPortState.reset();
    m.stpPortBlocked.reset();
    m.stpHostIsRoot.reset();
    for (const br of topology.bridges) {
      if (br.stpEnabled) m.stpHostIsRoot.set({ bridge: br.name }, br.bridgeId !== null && br.bridgeId === br.rootId ? 1 : 0);
      for (const p of br.ports) {
        const state = STP_STATES.indexOf(p.state ?? '');
        if (state < 0) continue;
        m.stpPortState.set({ bridge: br.name, port: p.name }, state);
        m.stpPortBlocked.set({ bridge: br.name, port: p.name }, p.state === 'blocking' ? 1 : 0);
      }
    }
    m.lacpState.reset();
    m.lacpDistributing.reset();
    for (const b of topology.bonds) {
      for (const sl of b.slaves) {
        const st = info.lacpStates.get(sl.name);
        if (!st) continue;
        for (const [side, v] of [['actor', st.actor], ['partner', st.partner]] as const) {
          m.lacpState.set({ bond: b.name, slave: sl.name, side }, v);
          m.lacpDistributing.set({ bond: b.name, slave: sl.name, side }, (v & 0x38) === 0x38 ? 1 : 0);
        }
      }
    }
    this.emitAll(this.tracker.observeConfiguration(check.findings, this.clock.mono(), now), this.clock.mono());
    const signature = JSON.stringify({ bonds: topology.bonds.map((b) => [b.name, b.mode, b.allSlavesActive, b.driverVersion, b.slaves.map((s) => s.name)]), bridges: topology.bridges.map((b) => [b.name, b.stpEnabled, b.ports.map((p) => p.name)]) });
    const changed = signature !== this.configSignature;
    if (changed) {
      this.event({ event: 'configuration', time: iso(now), bonds: topology.bonds.map((b) => ({ name: b.name, mode: b.mode, slaves: b.slaves.map((s) => s.name) })), bridges: topology.bridges.map((b) => ({ name: b.name, ports: b.ports.map((p) => p.name) })), findings: check.findings.map((f) => f.kind), fine: check.fine });
    }
    this.configSignature = signature;
    return changed;
  }

  /** At shutdown: every open finding closes (nobody watches any more). */
  stop(now?: number): void {
    this.poll(now);
    this.emitAll(this.tracker.closeAll(now ?? this.clock.wall()), now ?? this.clock.mono());
    this.session = null;
  }

  /** Lines for what the lifecycle says; `mono` is now on the monotonic clock (the evidence delays). */
  private emitAll(events: LifecycleEvent[], mono: number): void {
    for (const e of events) {
      const t = e.tracked;
      if (e.event === 'opened') {
        this.metrics.findingsOpened.inc({ kind: t.finding.kind, severity: t.finding.severity });
        if (this.evidence && t.origin === 'frames') {
          if (this.evidence.request(t, mono, e.at) === null) this.metrics.evidenceSkipped.inc({ reason: 'rate-limit' });
        }
      }
      const f = findingJson(t.finding, []) as Record<string, unknown>;
      f.summary = summaryOf(t.finding);
      delete f.evidence;
      delete f.explanation;
      if (e.event !== 'opened') delete f.remedies;
      this.event({
        event: e.event,
        time: iso(e.at),
        id: t.id,
        origin: t.origin,
        ...f,
        count: t.total,
        openedAt: iso(t.openedWall),
        lastEvidenceAt: iso(t.lastEvidenceWall),
        ...(e.event === 'closed' ? { activeSeconds: Math.round((t.lastEvidenceAt - t.openedAt) / 1000) } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        bundle: t.bundle,
      });
    }
  }

  private event(obj: Record<string, unknown>): void {
    this.options.emit(safeJson(obj) + '\n');
  }

  private role(name: string): PortRole {
    return this.topology.ports.get(name)?.role ?? this.session?.analyzer.ports.get(name)?.port.role ?? roleFromName(name).role;
  }

  private bridgeOf(port: string): string {
    const t = this.topology;
    return t.ports.get(port)?.bridge ?? t.bridges.find((b) => b.ports.some((p) => p.name === port))?.name ?? (t.bridges.length === 1 ? t.bridges[0]!.name : '');
  }

  /** The bond a port belongs to: itself, a slave's bond, or the host's only bond. */
  private bondOf(port: string): string {
    const role = this.role(port);
    if (role === 'bond') return port;
    if (role !== 'slave') return '';
    const t = this.topology;
    const bonds = t.bonds.length ? t.bonds.map((b) => b.name) : (this.session?.analyzer.ports.ports.filter((p) => p.port.role === 'bond').map((p) => p.port.name) ?? []);
    return t.ports.get(port)?.bond ?? t.bonds.find((b) => b.slaves.some((s) => s.name === port))?.name ?? (bonds.length === 1 ? bonds[0]! : '');
  }

  /** New occurrences of a finding since the last reading → the counters. */
  private countEvidence(f: Finding, delta: number): void {
    const m = this.metrics;
    const bond = f.interfaces.find((p) => this.role(p) === 'bond') ?? f.interfaces.map((p) => this.bondOf(p)).find((b) => b) ?? '';
    const bridge = bond ? this.bridgeOf(bond) : f.interfaces.map((p) => this.bridgeOf(p)).find((b) => b) ?? '';
    switch (f.kind) {
      case 'looped-broadcast': {
        // The path is origin, slave out, slave back, bond: the slave right before the bond.
        const at = f.interfaces.indexOf(bond);
        const back = [...f.interfaces.slice(0, at < 0 ? f.interfaces.length : at)].reverse().find((p) => this.role(p) === 'slave') ?? '';
        m.loopedFrames.inc({ bridge, bond, slave: back }, delta);
        break;
      }
      case 'own-address':
        if (f.details.source !== 'kernel log') m.ownAddressFrames.inc({ bridge, port: f.interfaces[0] ?? '' }, delta);
        break;
      case 'wrong-port-learning':
        m.wrongPortLearning.inc({ bridge, bond }, delta);
        break;
      case 'blackholed-unicast':
        m.blackholedUnicast.inc({ bridge, bond }, delta);
        break;
    }
  }

  private readKernelNotes(a: Analyzer): void {
    const notes = a.kernelNotes;
    for (; this.kernelNotesRead < notes.length; this.kernelNotesRead++) {
      const n = notes[this.kernelNotesRead]!;
      if (n.kind === 'own-address') this.metrics.kernelOwnAddress.inc({ bridge: (n as { bridge?: string | null }).bridge ?? (n.port ? this.bridgeOf(n.port) : ''), port: n.port ?? '' });
      else if (n.kind === 'failover') this.metrics.bondFailovers.inc({ bond: n.port ?? '' });
    }
  }

  /** Repeat moves per bridge since the last count: a walk over the MAC table, every few seconds. */
  private countFlaps(a: Analyzer): void {
    const now = new Map<string, number>();
    for (const e of a.macs.entries()) {
      if (e.moves < 2) continue;
      const port = e.learnedOn >= 0 ? a.ports.ports[e.learnedOn]?.port.name : undefined;
      const bridge = port ? this.bridgeOf(port) : '';
      now.set(bridge, (now.get(bridge) ?? 0) + e.moves - 1);
    }
    for (const [bridge, n] of now) {
      const add = n - (this.movesSeen.get(bridge) ?? 0);
      if (add > 0) this.metrics.macFlaps.inc({ bridge }, add);
    }
    this.movesSeen = now;
  }

  /** Guests' MACs the kernel has on a bond now: the FDB read against the guests known this epoch. */
  private readFdb(a: Analyzer): void {
    for (const [mac, port] of a.guestPorts) {
      const name = a.ports.ports[port]?.port.name ?? '';
      if (this.guestMacs.size < 65536 && !this.guestMacs.has(mac) && !this.gonePorts.has(name)) this.guestMacs.set(mac, name);
    }
    const g = this.metrics.wrongPortMacs;
    g.reset();
    for (const br of this.topology.bridges) {
      let entries;
      try {
        entries = this.session?.learnedOnHost ? this.session.learnedOnHost(br.name) : readBridgeFdb(br.name);
      } catch {
        continue;
      }
      if (!entries) continue;
      const wrong = new Map<string, number>();
      for (const b of this.topology.bonds) if (this.bridgeOf(b.name) === br.name) wrong.set(b.name, 0);
      for (const e of entries) {
        if (e.isLocal) continue;
        const role = this.role(e.port);
        if (role === 'guest') {
          if (this.guestMacs.size < 65536) this.guestMacs.set(e.mac, e.port);
        } else if (role === 'bond' && this.guestMacs.has(e.mac)) wrong.set(e.port, (wrong.get(e.port) ?? 0) + 1);
      }
      for (const [bond, n] of wrong) g.set({ bridge: br.name, bond }, n);
    }
  }

  /** Guests' MACs known so far (for the capture filter). */
  knownGuestMacs(): number[] {
    return [...this.guestMacs.keys()];
  }
}

/** The `interface` label of drops that belong to the whole host's capture ring. */
const ALL_INTERFACES = 'all';
/** A change of the wall clock against the monotonic one larger than this is a step (NTP), said once. */
const CLOCK_STEP_MS = 2000;
/** While capture drops, a line at most this often. */
const DROPS_EVERY_MS = 10_000;

const STP_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export type { Tracked };
