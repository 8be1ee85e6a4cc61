/**
 * The analysis engine. Frames from any number of observation points (files or live) go in through
 * `observe`; the engine groups sightings of the same frame within a window (whatever order the
 * captures recorded them in), settles each group once the window has passed, and from the path
 * each frame took infers directions, what the bridge learned where, and the findings.
 *
 * Most frames take a fast path: unicast between outside hosts only updates the MAC table.
 * Frames that can show the loop — broadcasts and multicasts, frames from or to the host and its
 * guests — are grouped and settled in time order.
 */
import { DIR_IN, DIR_OUT, DIR_UNKNOWN as DIR_NONE, type PacketRecord } from '../model/record.js';
import type { DecodedFrame } from '../decode/frame.js';
import { formatMac } from '../model/mac.js';
import {
  type Confidence,
  EVIDENCE_LIMIT,
  EXPLANATION,
  type Finding,
  type FindingKind,
  REMEDIES_FOR,
  SEVERITY,
} from './findings.js';
import { FrameIdentity } from './identity.js';
import { ControlPlane } from './control-plane.js';
import { PK_LACP, PK_STP } from '../decode/frame.js';
import { MacTable, type MacEntry } from './mac-table.js';
import { PendingGroups } from './pending-groups.js';
import { PortTable, type PortState } from './ports.js';
import type { Topology } from '../model/topology.js';

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
}

export const DEFAULT_OPTIONS: AnalyzerOptions = { windowNs: 2e9, maxMacs: 65536 };

/** How far before the first frame the engine's time base lies (see time()). */
const TIME_LEAD_SEC = 4;
/** Two sightings on the same port further apart than this are two frames, not a frame and its echo. */
const ECHO_LIMIT_NS = 200e6;
/** Xen gives every vif this MAC: never one host. */
const XEN_VIF_MAC = 0xfeffffffffff;
/** A MAC that changed port this often is flapping, not moving. */
const FLAP_MOVES = 4;
/**
 * Sightings kept in one group. A frame's path through a host takes a handful; a storm repeating
 * one frame on a port would otherwise grow one group without end and make every sighting scan
 * all the earlier ones. Past this, the next sighting starts a new group.
 */
export const MAX_SIGHTINGS = 64;
/**
 * Groups waiting for their window to pass, at most. Past it the oldest settle early: timestamps
 * that stand still (SPB), jump back (a clock stepped during a capture) or a frame stamped far in
 * the future would otherwise hold every later group until the end.
 */
export const MAX_PENDING_GROUPS = 65536;
/** Groups queued since the last settle that trigger one even when time has not moved on. */
export const SETTLE_EVERY_GROUPS = 4096;

interface Sighting {
  port: number;
  t: number;
  dir: number;
  input: number;
  frame: number;
}

interface Group {
  src: number;
  dst: number;
  vlan: number;
  group: boolean;
  firstT: number;
  sightings: Sighting[];
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
}

/**
 * A line of the kernel's own log that bears on the findings (live /dev/kmsg, or `--kernel-log`):
 * own-address warnings, bonding failovers, slave link changes.
 */
export interface KernelNote {
  kind: 'own-address' | 'failover' | 'link-down' | 'link-up';
  /** Wall seconds since the epoch, null when the log line could not be placed in time. */
  time: number | null;
  port: string | null;
  /** The MAC the line names (newest own-address form), -1 otherwise. */
  mac: number;
  slave: string | null;
  text: string;
}

/** One entry of the kernel bridge's forwarding database. */
export interface KernelFdbEntry {
  mac: number;
  port: string;
  isLocal: boolean;
}

export class Analyzer {
  readonly ports: PortTable;
  readonly macs: MacTable;
  /** BPDUs and LACPDUs: spanning tree and LACP health (control-plane.ts). */
  readonly controlPlane = new ControlPlane();
  private readonly findings = new Map<string, Finding>();
  /** Findings kept per kind; past maxMacs of one kind (a flood) new ones are counted, not kept. */
  private readonly findingsPerKind = new Map<FindingKind, number>();
  /** Findings not kept because their kind was at its limit. */
  findingsNotKept = 0;
  private readonly identity = new FrameIdentity();
  /** Groups waiting for their window to pass, in arrival order (pending-groups.ts). */
  private readonly pending = new PendingGroups();
  /** The group being settled and its sightings: one set of objects, reused for every group. */
  private readonly settling: Group = { src: 0, dst: 0, vlan: 0, group: false, firstT: 0, sightings: [] };
  private readonly sightingRows: Sighting[] = Array.from({ length: MAX_SIGHTINGS }, () => ({ port: 0, t: 0, dir: 0, input: 0, frame: 0 }));
  private baseSec = -1;
  private maxT = 0;
  /**
   * Time of the latest frame: windows are measured from it, not from the latest time ever seen,
   * so one frame stamped far in the future (or a clock stepped back) does not stop the settling.
   */
  private nowT = 0;
  private lastSettle = 0;
  /** Groups queued since the last settle. */
  private queuedSinceSettle = 0;
  /** MACs the host owns (bridge, bond, slaves): from the topology and from frames the bridge device sent. */
  readonly localMacs: Set<number>;
  /** Sources of frames seen on guest ports or the bridge device, as they arrive. */
  private readonly hostSideSeen = new Set<number>();
  /** Guest MAC → its port, from frames that entered the host on a guest port. */
  readonly guestPorts = new Map<number, number>();
  readonly stats: AnalysisStats = { frames: 0, undecoded: 0, groups: 0, pendingGroups: 0, macsTracked: 0, macsDropped: 0, firstSec: 0, lastSec: 0 };

  constructor(
    readonly topology: Topology,
    readonly options: AnalyzerOptions = DEFAULT_OPTIONS,
  ) {
    this.ports = new PortTable(topology);
    this.macs = new MacTable(options.maxMacs);
    this.localMacs = new Set(topology.localMacs);
  }

  /**
   * Nanoseconds since the time base: TIME_LEAD_SEC before the first frame's second. The lead keeps
   * every engine time past what V8 holds as a small integer, so the per-frame arithmetic is
   * compiled for doubles from the first frame on; starting at zero, it was compiled for integers
   * and thrown away (with everything inlined into observe) once the capture passed two seconds.
   */
  private time(rec: PacketRecord): number {
    if (this.baseSec < 0) {
      this.baseSec = rec.tsSec - TIME_LEAD_SEC;
      this.stats.firstSec = rec.tsSec;
    }
    const offsets = this.options.inputOffsetsNs;
    return (rec.tsSec - this.baseSec) * 1e9 + rec.tsNsec - (offsets ? (offsets[rec.inputIndex] ?? 0) : 0);
  }

  observe(rec: PacketRecord, f: DecodedFrame): void {
    this.stats.frames++;
    if (!f.supported || f.src < 0) {
      this.stats.undecoded++;
      return;
    }
    const port = this.ports.resolve(rec.iface!, f);
    const t = this.time(rec);
    if (t > this.maxT) this.maxT = t;
    this.nowT = t;
    port.frames++;
    const dir = rec.direction || f.linkDirection;
    if (dir) port.framesWithDirection++;
    if (f.payload === PK_STP || f.payload === PK_LACP) this.controlPlane.observe(rec, f, port, dir);
    const src = f.src;
    const dst = f.dst;
    // SLL captures have no destination: their outgoing frames may be broadcasts.
    // Sources seen on the host side are noted at once (groups settle only a window later), so
    // unicast to and from them is grouped from the first frame on.
    // Bounded like the MAC table: a flood of random sources on a guest port must not grow it without end.
    if (port.hostSide && this.hostSideSeen.size < this.options.maxMacs && !this.hostSideSeen.has(src)) this.hostSideSeen.add(src);
    const interesting =
      f.isBroadcast ||
      f.isMulticast ||
      (dst < 0 && dir === DIR_OUT) ||
      (this.localMacs.size > 0 && (this.localMacs.has(src) || this.localMacs.has(dst))) ||
      (this.hostSideSeen.size > 0 && (this.hostSideSeen.has(src) || this.hostSideSeen.has(dst)));
    if (!interesting) {
      // Unicast between outside hosts: only the table. Without a direction, frames on the uplink came in.
      const d = dir || port.usualDir;
      this.macs.count(f.vlan, src, port.index, d, rec.origLen, t);
      this.countDir(port, d);
      if (d === DIR_IN && port.learns) this.learn(f.vlan, src, port.index, t, false, rec);
    } else {
      this.sight(rec, f, port, t, dir);
    }
    if (Math.abs(t - this.lastSettle) > 50e6 || this.queuedSinceSettle >= SETTLE_EVERY_GROUPS) this.settle(false);
  }

  private countDir(port: PortState, d: number): void {
    if (d === DIR_IN) port.framesIn++;
    else if (d === DIR_OUT) port.framesOut++;
  }

  private sight(rec: PacketRecord, f: DecodedFrame, port: PortState, t: number, dir: number): void {
    const id = this.identity.of(rec.buf, f);
    const pg = this.pending;
    const isGroup = f.isBroadcast || f.isMulticast;
    let slot = pg.find(id.key);
    if (
      slot >= 0 &&
      (pg.check[slot] !== id.check ||
        pg.src[slot] !== f.src ||
        t - pg.firstT[slot]! > this.options.windowNs ||
        pg.count[slot]! >= MAX_SIGHTINGS ||
        pg.repeatOnPort(slot, port.index, t, ECHO_LIMIT_NS))
    )
      slot = -1;
    if (slot < 0) {
      pg.open(id.key, id.check, f.src, f.dst, f.vlan, isGroup, port.index, t, dir, rec.inputIndex, rec.inputFrame);
      this.queuedSinceSettle++;
      this.stats.groups++;
      return;
    }
    if (f.dst >= 0) pg.dst[slot] = f.dst;
    if (isGroup) pg.isGroup[slot] = 1;
    pg.add(slot, port.index, t, dir, rec.inputIndex, rec.inputFrame);
  }

  /** Settles every group whose window has passed (all of them at the end). */
  settle(all: boolean): void {
    this.lastSettle = this.nowT;
    this.queuedSinceSettle = 0;
    const horizon = all ? Infinity : this.nowT - this.options.windowNs;
    // A group more than a window ahead of the latest frame came from a clock that jumped: no
    // later sighting can join it in time order, so it settles now instead of blocking the queue.
    const future = this.nowT + this.options.windowNs;
    // Groups arrive nearly in time order: take them from the front while they are old enough.
    // (One that arrived late in a dumpcap file waits behind an earlier one: at most a window.)
    const pg = this.pending;
    const early = pg.length - MAX_PENDING_GROUPS;
    let n = 0;
    let sorted = true;
    let prev = -Infinity;
    for (; n < pg.length; n++) {
      const ft = pg.firstT[pg.slotAt(n)]!;
      if (!(ft < horizon || ft > future || n < early)) break;
      if (ft < prev) sorted = false;
      prev = ft;
    }
    this.noteFlood();
    if (n === 0) return;
    // Settled in time order; the queue's own order is nearly that, so a sort is rarely needed.
    if (sorted) for (let i = 0; i < n; i++) this.settleGroup(this.materialize(pg.slotAt(i)));
    else {
      const slots = Array.from({ length: n }, (_, i) => pg.slotAt(i)).sort((a, b) => pg.firstT[a]! - pg.firstT[b]!);
      for (const slot of slots) this.settleGroup(this.materialize(slot));
    }
    pg.dropFront(n);
    this.stats.pendingGroups = pg.length;
  }

  /**
   * The group in `slot` as the one reused Group (and its reused Sightings) that settling reads.
   * Nothing keeps them past settleGroup: findings and moves copy what they need.
   */
  private materialize(slot: number): Group {
    const pg = this.pending;
    const g = this.settling;
    g.src = pg.src[slot]!;
    g.dst = pg.dst[slot]!;
    g.vlan = pg.vlan[slot]!;
    g.group = pg.isGroup[slot] === 1;
    g.firstT = pg.firstT[slot]!;
    const s = g.sightings;
    const pool = this.sightingRows;
    const n = pg.count[slot]!;
    if (s.length !== n) s.length = n;
    let x = pool[0]!;
    x.port = pg.port[slot]!;
    x.t = pg.t[slot]!;
    x.dir = pg.dir[slot]!;
    x.input = pg.input[slot]!;
    x.frame = pg.frame[slot]!;
    s[0] = x;
    let i = 1;
    for (let r = pg.more(slot); r >= 0; r = pg.sNext[r]!, i++) {
      x = pool[i]!;
      x.port = pg.sPort[r]!;
      x.t = pg.sT[r]!;
      x.dir = pg.sDir[r]!;
      x.input = pg.sInput[r]!;
      x.frame = pg.sFrame[r]!;
      s[i] = x;
    }
    return g;
  }

  private role(port: number): string {
    return this.ports.ports[port]!.port.role;
  }

  /** Roles seen so far, recomputed only when a port was added (a port's role never changes). */
  private rolesFor = -1;
  private hasHostSide = false;
  private hasBond = false;
  private hasSlave = false;

  private updateRoles(): void {
    const ports = this.ports.ports;
    if (this.rolesFor === ports.length) return;
    this.rolesFor = ports.length;
    this.hasHostSide = ports.some((p) => p.hostSide);
    this.hasBond = ports.some((p) => p.port.role === 'bond');
    this.hasSlave = ports.some((p) => p.port.role === 'slave');
  }

  /** Whether the capture set has any port on the host side of the bond (bridge or guest ports). */
  private seesHostSide(): boolean {
    this.updateRoles();
    return this.hasHostSide;
  }

  private seesBond(): boolean {
    this.updateRoles();
    return this.hasBond;
  }

  private seesSlave(): boolean {
    this.updateRoles();
    return this.hasSlave;
  }

  /** Path order of roles: out of the host (guest, bridge, bond, slave) or into it (the reverse). */
  private static readonly HOST_ORDER: Record<string, number> = { guest: 0, bridge: 1, bond: 2, slave: 3, unknown: 4 };

  private settleGroup(g: Group): void {
    const s = g.sightings;
    const src = g.src;
    // Captures stamp a frame once on its way through a host, so sightings often tie: break ties by
    // the path a frame from the host (guest, bridge, bond, slave) or from outside (the reverse) takes.
    // The bridge device and its ports see one skb at one time: a guest's frame ties with its copy
    // on the bridge device, so the guest's port goes first unless the MAC is the host's own.
    const knownHost = this.localMacs.has(src) || this.guestPorts.has(src);
    const order = Analyzer.HOST_ORDER;
    // Most groups are one sighting (a broadcast seen at one point): they need no ordering.
    if (s.length > 1) {
      // A frame the host sends is flooded to every vif at the same instant; a guest's own frame
      // ties only with its one vif. So several guest ports tied at the first instant mean the host sent it.
      const local = this.localMacs.has(src) || (!this.guestPorts.has(src) && this.guestPortsAtFirstInstant(s) >= 2);
      // A frame from the host reaches a slave only after the bridge and the bond: once a slave
      // has seen it, a later tie between the bond and the bridge is the echo coming back up
      // (bond first), not the original going out (bridge first).
      let firstSlaveT = Infinity;
      if (knownHost) for (const x of s) if (x.t < firstSlaveT && this.role(x.port) === 'slave') firstSlaveT = x.t;
      s.sort((a, b) => {
        if (a.t !== b.t) return a.t - b.t;
        const ra = this.role(a.port);
        const rb = this.role(b.port);
        if (ra === 'guest' && rb === 'bridge') return local ? 1 : -1;
        if (ra === 'bridge' && rb === 'guest') return local ? -1 : 1;
        const outward = knownHost && a.t <= firstSlaveT;
        return (outward ? 1 : -1) * (order[ra]! - order[rb]!);
      });
      // Where the capture gave every sighting's direction (live handles, pcapng flags, cooked
      // headers), where the frame started is known without trusting the clock: live frames are
      // stamped on arrival in user space, and copies on several interfaces arrive in batches, not in
      // the order they crossed the host. A guest's inbound or the bridge's outbound copy is a start on
      // the host side; otherwise the frame came from outside, in on the uplink.
      if (s.every((x) => x.dir !== DIR_NONE)) {
        let start = s.findIndex((x) => (x.dir === DIR_IN && this.role(x.port) === 'guest') || (x.dir === DIR_OUT && this.role(x.port) === 'bridge'));
        if (start < 0) start = s.findIndex((x) => x.dir === DIR_IN && (this.role(x.port) === 'slave' || this.role(x.port) === 'bond'));
        if (start > 0) s.unshift(s.splice(start, 1)[0]!);
      }
    }
    const origin = s[0]!;
    const originRole = this.role(origin.port);
    const hostSideCaptured = this.seesHostSide();
    // Where the frame started: on the host side (a guest or the host itself) or outside.
    let fromHost = originRole === 'guest' || originRole === 'bridge';
    if (!fromHost && !hostSideCaptured && (knownHost || isGuestOui(src))) fromHost = true;
    // The bond and its slaves send frames of their own, not through the bridge (IPv6 DAD and MLD
    // from bond0's own link-local address, with the host's MAC). Such a frame reaches the bridge
    // only by coming back up the bond: one of the host's MACs first seen on the uplink and later on
    // the bridge or a guest's port is the host's own frame and its echo. (Without that, a second
    // copy on the bond is as likely a retransmission: MLD reports go out twice, 30 ms apart.)
    const uplinkOrigin = originRole === 'bond' || originRole === 'slave';
    if (!fromHost && uplinkOrigin && this.localMacs.has(src) && s.some((x) => this.ports.ports[x.port]!.hostSide)) fromHost = true;
    // Guests and the host's own MACs are bounded like the MAC table (a flood from a guest port).
    if (originRole === 'guest' && src !== XEN_VIF_MAC && origin.dir !== DIR_OUT && (this.guestPorts.size < this.options.maxMacs || this.guestPorts.has(src))) {
      this.guestPorts.set(src, origin.port);
      this.localMacs.delete(src);
    }
    if (originRole === 'bridge' && origin.dir !== DIR_IN && !this.guestPorts.has(src) && this.localMacs.size < this.options.maxMacs) this.localMacs.add(src);

    // Directions: the capture's own where it has one, else inferred by walking the path in time
    // order. Each original the host sent goes out of the bond and the active slave once; a further
    // copy on the bond, or one on another slave, is the echo coming back in.
    let originals = 0;
    let bondOuts = 0;
    let slaveOuts = 0;
    let outSlave = -1;
    /** Echoes that reached the host side: up the bond (or, with no bond captured, in on a slave). */
    let echoesUp = 0;
    const bondCaptured = this.seesBond();
    const slavesCaptured = this.seesSlave();
    /** Copies seen so far on the port where the frame started. */
    let originCopies = 0;
    let firstUplinkOut: Sighting | null = null;
    let echoes: Sighting[] | null = null;
    for (const x of s) {
      const role = this.role(x.port);
      let d = x.dir;
      if (d === DIR_NONE) {
        if (!fromHost) d = role === 'guest' ? DIR_OUT : DIR_IN;
        else if (x.port === origin.port) {
          // Where it started, a copy is the original going out (into the host from a guest), until
          // the echo is back: up the bond for the bridge; for the bond or a slave, in on a slave,
          // or, when no slave was captured, the next copy on that same port.
          if (uplinkOrigin) d = originCopies === 0 || (slavesCaptured && echoes === null) ? DIR_OUT : DIR_IN;
          else {
            const original = echoesUp === 0;
            d = role === 'bridge' ? (original ? DIR_OUT : DIR_IN) : original ? DIR_IN : DIR_OUT;
          }
        } else if (role === 'bond') d = bondOuts < Math.max(originals, 1) ? DIR_OUT : DIR_IN;
        else if (role === 'slave') {
          if (outSlave < 0) outSlave = x.port;
          d = x.port === outSlave && slaveOuts < Math.max(originals, 1) ? DIR_OUT : DIR_IN;
        } else if (role === 'guest') d = DIR_OUT;
        else if (role === 'bridge') d = DIR_IN;
      }
      if (fromHost && x.port === origin.port && (role === 'guest' ? d === DIR_IN : d === DIR_OUT)) originals++;
      if (x.port === origin.port) originCopies++;
      if (role === 'bond' && d === DIR_OUT) bondOuts++;
      if (role === 'slave' && d === DIR_OUT) {
        slaveOuts++;
        if (outSlave < 0) outSlave = x.port;
      }
      x.dir = d;
      this.countDir(this.ports.ports[x.port]!, d);
      this.macs.count(g.vlan, src, x.port, d, 0, x.t);
      if ((role === 'slave' || role === 'bond') && d === DIR_OUT && !firstUplinkOut) firstUplinkOut = x;
      if (fromHost && (role === 'slave' || role === 'bond') && d === DIR_IN) {
        (echoes ??= []).push(x);
        if (role === 'bond' || !bondCaptured) echoesUp++;
      }
    }

    // What the bridge learned, in time order: inbound on a bridge port (the bond or a guest's port).
    for (const x of s) {
      const role = this.role(x.port);
      if (x.dir !== DIR_IN) continue;
      if (role === 'guest' || role === 'bond') this.learnAt(g.vlan, src, x.port, x.t, fromHost && role === 'bond', x);
      else if (role === 'slave' && !this.seesBond()) {
        // Without a bond capture, a frame that came in on a slave stands for one that came up the bond.
        const bond = this.bondOf(x.port);
        if (bond >= 0) this.learnAt(g.vlan, src, bond, x.t, fromHost, x);
      }
    }

    if (fromHost && echoes) this.onEcho(g, origin, firstUplinkOut, echoes);
    if (!fromHost && !g.group && g.dst >= 0) this.onInboundUnicast(g, origin);
  }

  /** Distinct guest ports among the sightings stamped at the group's first instant. */
  private guestPortsAtFirstInstant(s: Sighting[]): number {
    let minT = Infinity;
    for (const x of s) if (x.t < minT) minT = x.t;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const x = s[i]!;
      if (x.t !== minT || this.role(x.port) !== 'guest') continue;
      let seen = false;
      for (let j = 0; j < i && !seen; j++) seen = s[j]!.port === x.port && s[j]!.t === minT;
      if (!seen) n++;
    }
    return n;
  }

  /** The bond a slave belongs to, as a port index (created on demand), or -1. */
  private bondOf(slavePort: number): number {
    const p = this.ports.ports[slavePort]!.port;
    if (!p.bond) return -1;
    return this.ports.get(p.bond)?.index ?? -1;
  }

  private onEcho(g: Group, origin: Sighting, out: Sighting | null, echoes: Sighting[]): void {
    const onBond = echoes.filter((e) => this.role(e.port) === 'bond');
    // Did the echo reach the bridge? Proven when it is seen coming up the bond. When the capture
    // has only slaves it cannot be proven (the bond may drop it): medium confidence. When it has
    // the host side but no bond (NICs straight in the bridge, as with STP), a NIC's port state
    // decides, which frames don't show: no claim.
    let confidence: Confidence;
    // Seen only on the bond, a second copy may as well be the frame sent twice (ARP and MLD
    // resend within milliseconds): high when it was also seen coming in on a slave or going on
    // up to the bridge, medium when the bond is all the capture has.
    if (onBond.length) confidence = this.seesSlave() || this.seesHostSide() ? 'high' : 'medium';
    else if (!this.seesBond() && !this.seesHostSide()) confidence = 'medium';
    else return;
    const echo = onBond[0] ?? echoes[0]!;
    // The path: where it started, the slave it left by, the slave it came back on, up the bond.
    const outSlave = g.sightings.find((x) => x.dir === DIR_OUT && this.role(x.port) === 'slave');
    const backSlave = echoes.find((x) => this.role(x.port) === 'slave');
    const refs = [origin, ...[outSlave, backSlave].filter((x): x is Sighting => x !== undefined), ...(echo === backSlave ? [] : [echo])];
    const path = refs.map((r) => this.ports.ports[r.port]!.port.name);
    const delayUs = out ? Math.round((echo.t - out.t) / 1e3) : -1;
    if (g.group) {
      const f = this.finding('looped-broadcast', g.src, g.vlan, echo.t, refs, path, confidence);
      if (delayUs >= 0) f.details.loopDelayUs = Math.min(Number(f.details.loopDelayUs ?? Infinity), delayUs);
    }
    if (this.localMacs.has(g.src)) this.finding('own-address', g.src, g.vlan, echo.t, [echo], [this.ports.ports[echo.port]!.port.name], confidence);
    else if (this.guestPorts.has(g.src)) {
      const f = this.finding('wrong-port-learning', g.src, g.vlan, echo.t, refs, path, confidence);
      const entry = this.macs.entry(g.vlan, g.src);
      if (entry && entry.wrongSince >= 0 && f.details.episodes === undefined) f.details.episodes = 0;
    }
  }

  /** Unicast from outside: for a guest whose entry is wrong, did it ever reach the guest's port? */
  private onInboundUnicast(g: Group, origin: Sighting): void {
    const role = this.role(origin.port);
    if (role !== 'bond' && role !== 'slave') return;
    const guestPort = this.guestPorts.get(g.dst);
    if (guestPort === undefined) return;
    const entry = this.macs.entry(g.vlan, g.dst);
    if (!entry || entry.wrongSince < 0 || entry.wrongSince > origin.t) return;
    const delivered = g.sightings.some((x) => x.port === guestPort);
    if (delivered) return;
    const guestCaptured = this.ports.ports[guestPort]!.frames > 0;
    const refs = [origin];
    this.finding('blackholed-unicast', g.dst, g.vlan, origin.t, refs, [this.ports.ports[origin.port]!.port.name, this.ports.ports[guestPort]!.port.name], guestCaptured ? 'high' : 'medium');
  }

  private learn(vlan: number, mac: number, port: number, t: number, byEcho: boolean, rec: PacketRecord): void {
    this.learnAt(vlan, mac, port, t, byEcho, { port, t, dir: DIR_IN, input: rec.inputIndex, frame: rec.inputFrame });
  }

  /** The bridge learns `mac` on `port` at `t`; a change of port is a move, an echo's a wrong one. */
  private learnAt(vlan: number, mac: number, port: number, t: number, byEcho: boolean, at: Sighting): void {
    // The bridge never learns its own addresses from frames (it drops them with the warning).
    if (mac === XEN_VIF_MAC || this.localMacs.has(mac)) return;
    const e = this.macs.entry(vlan, mac);
    if (!e) return;
    if (e.learnedOn === port) return;
    if (e.learnedOn >= 0) {
      e.moves++;
      if (byEcho) e.echoMoves++;
      e.lastMove = { t, from: e.learnedOn, to: port, byEcho, port, dir: DIR_IN, input: at.input, frame: at.frame };
    }
    const guestPort = this.guestPorts.get(mac);
    if (byEcho && guestPort !== undefined) {
      if (e.wrongSince < 0) e.wrongSince = t;
    } else if (guestPort === port && e.wrongSince >= 0) {
      // The guest spoke again: the entry is right again. How long was it wrong?
      const ms = (t - e.wrongSince) / 1e6;
      const f = this.findings.get(findingKey('wrong-port-learning', mac, vlan));
      if (f) {
        f.details.episodes = Number(f.details.episodes ?? 0) + 1;
        f.details.longestWrongMs = Math.max(Number(f.details.longestWrongMs ?? 0), Math.round(ms * 1000) / 1000);
        f.details.totalWrongMs = Math.round((Number(f.details.totalWrongMs ?? 0) + ms) * 1000) / 1000;
      }
      e.wrongSince = -1;
    }
    e.learnedOn = port;
    e.learnedAt = t;
  }

  private finding(kind: FindingKind, mac: number, vlan: number, t: number, refs: Sighting[], path: string[], confidence: Confidence): Finding {
    const key = findingKey(kind, mac, vlan);
    let f = this.findings.get(key);
    const sec = this.baseSec + Math.floor(t / 1e9);
    const nsec = t - Math.floor(t / 1e9) * 1e9;
    let keep = true;
    if (!f) {
      const n = this.findingsPerKind.get(kind) ?? 0;
      if (n >= this.options.maxMacs) {
        // As many findings of one kind as MACs tracked: a flood. The caller fills a finding that is dropped.
        this.findingsNotKept++;
        keep = false;
      } else this.findingsPerKind.set(kind, n + 1);
      f = {
        kind,
        severity: SEVERITY[kind],
        summary: '',
        mac,
        vlan,
        interfaces: [],
        count: 0,
        firstSec: sec,
        firstNsec: nsec,
        lastSec: sec,
        lastNsec: nsec,
        evidence: [],
        confidence,
        explanation: EXPLANATION[kind],
        remedies: REMEDIES_FOR[kind],
        details: {},
      };
      if (keep) this.findings.set(key, f);
    }
    f.count++;
    f.lastSec = sec;
    f.lastNsec = nsec;
    if (confidence === 'high') f.confidence = 'high';
    for (const p of path) if (!f.interfaces.includes(p)) f.interfaces.push(p);
    for (const r of refs) {
      if (f.evidence.length >= EVIDENCE_LIMIT) break;
      if (!f.evidence.some((e) => e.input === r.input && e.frame === r.frame)) f.evidence.push({ input: r.input, frame: r.frame });
    }
    f.evidence.sort((x, y) => x.input - y.input || x.frame - y.frame);
    return f;
  }

  /** Once MACs go untracked, the mac-flood finding says how many (kept current while frames arrive, for the live view). */
  private noteFlood(): void {
    if (this.macs.dropped === 0 && this.findingsNotKept === 0) return;
    const key = findingKey('mac-flood', -1, 0);
    let f = this.findings.get(key);
    if (!f) {
      f = this.finding('mac-flood', -1, 0, this.maxT, [], [], 'high');
      f.details.limit = this.options.maxMacs;
    }
    const sec = this.baseSec + Math.floor(this.maxT / 1e9);
    f.lastSec = sec;
    f.lastNsec = this.maxT - Math.floor(this.maxT / 1e9) * 1e9;
    f.count = this.macs.dropped;
    f.details.tracked = this.macs.size;
    f.details.untrackedAtLeast = this.macs.dropped;
    f.details.untrackedCountSaturated = this.macs.droppedSaturated ? 'yes' : 'no';
    f.details.findingsNotKept = this.findingsNotKept;
    // Worded now, not only at finish(): a live view shows it while the flood goes on.
    f.summary = summarize(f, this);
  }

  /** Settles everything and returns the findings, most severe first. */
  finish(): Finding[] {
    this.settle(true);
    this.closeMoves();
    this.applyKernel();
    this.stats.macsTracked = this.macs.size;
    this.stats.macsDropped = this.macs.dropped;
    this.stats.lastSec = this.baseSec + Math.floor(this.maxT / 1e9);
    this.noteFlood();
    for (const f of this.findings.values()) f.summary = summarize(f, this);
    return this.currentFindings();
  }

  currentFindings(): Finding[] {
    const rank = { error: 0, warning: 1, info: 2 };
    // Spanning tree and LACP are judged on their latest state, so they are computed afresh (cached until a BPDU/LACPDU or host MAC arrives).
    const control = this.controlPlane.findings({ localMacs: this.localMacs, topology: this.topology, ports: this.ports.ports });
    return [...this.findings.values(), ...control].sort((a, b) => rank[a.severity] - rank[b.severity] || b.count - a.count);
  }

  /** Moves that were not echoes: once and stayed is a move; back and forth is a flap. */
  private closeMoves(): void {
    for (const e of this.macs.entries()) {
      if (e.mac === XEN_VIF_MAC) continue;
      const wrongFinding = this.findings.has(findingKey('wrong-port-learning', e.mac, e.vlan));
      if (e.moves >= FLAP_MOVES) {
        const f = this.finding('mac-flap', e.mac, e.vlan, e.learnedAt, e.lastMove ? [e.lastMove] : [], [], 'high');
        f.count = e.moves;
        f.details.moves = e.moves;
        f.details.movesByEcho = e.echoMoves;
        this.bridgePortsOfMac(e).forEach((p) => f.interfaces.includes(p) || f.interfaces.push(p));
      } else if (e.moves === 1 && e.echoMoves === 0 && !wrongFinding && e.lastMove) {
        const m = e.lastMove;
        const f = this.finding('mac-move', e.mac, e.vlan, m.t, [m], [this.ports.ports[m.from]!.port.name, this.ports.ports[m.to]!.port.name], 'high');
        f.details.from = this.ports.ports[m.from]!.port.name;
        f.details.to = this.ports.ports[m.to]!.port.name;
      }
      if (wrongFinding && e.wrongSince >= 0) {
        const f = this.findings.get(findingKey('wrong-port-learning', e.mac, e.vlan))!;
        f.details.wrongAtEnd = 'yes';
        f.details.wrongAtEndForMs = Math.round((this.maxT - e.wrongSince) / 1e3) / 1e3;
      }
    }
  }

  /** Ports of the bridge (the bond, guests' ports) this MAC was seen on. */
  private bridgePortsOfMac(e: MacEntry): string[] {
    return [...e.ports.keys()].filter((i) => ['bond', 'guest'].includes(this.role(i))).map((i) => this.ports.ports[i]!.port.name);
  }

  /** Kernel log lines (own-address warnings, failovers), kept for the timeline and the findings. */
  readonly kernelNotes: KernelNote[] = [];
  /** The latest FDB snapshot per bridge port's MAC: where the kernel really has each MAC. */
  readonly kernelFdb = new Map<number, string>();

  noteKernel(n: KernelNote): void {
    this.kernelNotes.push(n);
  }

  /** A fresh read of the bridge's forwarding database (live mode polls it). */
  noteFdb(entries: KernelFdbEntry[]): void {
    for (const e of entries) {
      if (e.isLocal) continue;
      this.kernelFdb.set(e.mac, e.port);
      // Kept once seen: a later read that has the MAC right again does not erase the evidence.
      if (this.ports.get(e.port)?.port.role === 'bond') this.kernelFdbOnBond.set(e.mac, e.port);
    }
  }
  /** MACs the kernel's FDB has had on a bond, and that bond. */
  private readonly kernelFdbOnBond = new Map<number, string>();

  /**
   * Live mode with no frames for a while: time still passes, so groups whose window has passed
   * settle now rather than when the next frame comes.
   */
  advanceTo(tsSec: number, tsNsec: number): void {
    if (this.baseSec < 0) return;
    const t = (tsSec - this.baseSec) * 1e9 + tsNsec;
    if (t > this.maxT) this.maxT = t;
    if (t > this.nowT) this.nowT = t;
    this.settle(false);
  }

  /** What the kernel said, folded into the findings the frames gave. */
  private applyKernel(): void {
    const own = this.kernelNotes.filter((n) => n.kind === 'own-address');
    for (const f of this.findings.values()) {
      if (f.kind === 'own-address' && own.length) {
        const same = own.filter((n) => n.mac < 0 || n.mac === f.mac);
        if (same.length) f.details.kernelWarnings = same.length;
      }
      const bond = f.kind === 'wrong-port-learning' ? this.kernelFdbOnBond.get(f.mac) : undefined;
      if (bond !== undefined) {
        f.details.kernelConfirmed = `the kernel's FDB had ${formatMac(f.mac)} on ${bond}`;
        f.confidence = 'high';
      }
    }
    // The kernel saw own-address frames the captured ports did not show (the bond was not captured,
    // or the frames were dropped before libpcap): the log alone is still evidence of the loop.
    if (own.length && ![...this.findings.values()].some((f) => f.kind === 'own-address')) {
      const f = this.finding('own-address', own.find((n) => n.mac >= 0)?.mac ?? -1, 0, this.maxT, [], [...new Set(own.map((n) => n.port ?? '?'))], 'medium');
      f.count = own.length;
      f.details.kernelWarnings = own.length;
      f.details.source = 'kernel log';
      f.summary = `the kernel logged ${own.length} own-address warning${own.length === 1 ? '' : 's'} (${safeKernelText(own[0]!.text)})`;
    }
  }

  /** Cheap view for a UI redraw: counters, the MACs involved in findings first, the findings so far. */
  snapshot(): { ports: PortState[]; findings: Finding[]; stats: AnalysisStats } {
    return { ports: this.ports.ports, findings: this.currentFindings(), stats: this.stats };
  }

  /** An engine time (MacEntry first/last, a move's t) as seconds since the epoch. */
  wallTime(t: number): number {
    return this.baseSec + t / 1e9;
  }

  /** Time of a ns offset as decimal seconds. */
  timeText(sec: number, nsec: number): string {
    return `${sec}.${String(nsec).padStart(9, '0')}`;
  }
}

export function findingKey(kind: FindingKind, mac: number, vlan: number): string {
  return `${kind}|${mac}|${vlan}`;
}

/** Xen and QEMU/KVM guests' OUIs: a weak hint, used only when no guest port was captured. */
function isGuestOui(mac: number): boolean {
  const oui = Math.floor(mac / 0x1000000);
  return oui === 0x00163e || oui === 0x525400;
}

function summarize(f: Finding, a: Analyzer): string {
  const mac = f.mac >= 0 ? formatMac(f.mac) : '';
  const vlan = f.vlan ? ` on VLAN ${f.vlan}` : '';
  const n = `${f.count} time${f.count === 1 ? '' : 's'}`;
  switch (f.kind) {
    case 'looped-broadcast':
      return `broadcasts from ${mac}${vlan} came back in on the bond ${n} (path ${f.interfaces.join(' → ')}${f.details.loopDelayUs !== undefined ? `, loop delay ${f.details.loopDelayUs} µs` : ''})`;
    case 'own-address':
      if (f.details.source === 'kernel log') return f.summary;
      return `frames from the host's own ${mac}${vlan} arrived on ${f.interfaces.join(', ')} ${n}${f.details.kernelWarnings ? `; the kernel logged ${f.details.kernelWarnings} own-address warning${f.details.kernelWarnings === 1 ? '' : 's'}` : ''}`;
    case 'wrong-port-learning': {
      const guest = a.guestPorts.get(f.mac);
      const where = guest !== undefined ? a.ports.ports[guest]!.port.name : 'its port';
      const bond = f.interfaces.find((p) => a.ports.get(p)?.port.role === 'bond') ?? 'the bond';
      const lasted = f.details.longestWrongMs !== undefined ? `; the wrong entry lasted up to ${f.details.longestWrongMs} ms` : '';
      const still = f.details.wrongAtEnd ? '; still wrong when the capture ended' : '';
      const confirmed = f.details.kernelConfirmed ? ` (confirmed: ${f.details.kernelConfirmed})` : '';
      return `the bridge learned guest ${mac}${vlan} on ${bond} instead of ${where} ${n}${lasted}${still}${confirmed}`;
    }
    case 'blackholed-unicast':
      return `${n} unicast for guest ${mac}${vlan} arrived on ${f.interfaces[0]} and never reached ${f.interfaces[1]}`;
    case 'mac-flap':
      return `${mac}${vlan} moved between ${f.interfaces.join(', ')} ${f.details.moves} times`;
    case 'mac-move':
      return `${mac}${vlan} moved once from ${f.details.from} to ${f.details.to} and stayed`;
    case 'mac-flood': {
      const more = f.details.untrackedCountSaturated === 'yes' ? `at least ${f.count}` : `${f.count}`;
      const lost = Number(f.details.findingsNotKept) > 0 ? `; ${f.details.findingsNotKept} findings about them not kept` : '';
      return `MAC flood: source MACs past the limit of ${f.details.limit} tracked one by one; ${more} more seen, counted only in the totals${lost}`;
    }
    default:
      // Kinds whose summary is written where they are found (configuration, control-plane checks).
      return f.summary;
  }
}

/** A kernel log line in a summary: one line, printable (the report escapes it again for the terminal). */
function safeKernelText(text: string): string {
  return text.length > 120 ? text.slice(0, 117) + '…' : text;
}
