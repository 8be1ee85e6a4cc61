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
import { type CaptureInterface, DIR_IN, DIR_OUT, type FrameStamps, type PacketRecord } from '../model/record.js';
import { roleFromName } from '../model/roles.js';

/** DLT_EN10MB. */
const LINKTYPE_ETHERNET = 1;
/** Captured interfaces that carried no frame, kept as ports at most. */
const MAX_SILENT_PORTS = 256;
import type { DecodedFrame } from '../decode/frame.js';
import { formatMac, readMac } from '../model/mac.js';
import {
  type Confidence,
  EVIDENCE_LIMIT,
  type EvidenceRole,
  type ExplanationNames,
  explanationFor,
  type Finding,
  type FindingKind,
  type FindingOf,
  REMEDIES_FOR,
  SEVERITY,
} from './findings.js';
import { FrameIdentity } from './identity.js';
import { ControlPlane } from './control-plane.js';
import { PK_LACP, PK_STP } from '../decode/frame.js';
import { type MacEntry, MacTable } from './mac-table.js';
import { PendingGroups } from './pending-groups.js';
import type { DetectorContext, EvidenceSource } from './detectors/context.js';
import { onEcho } from './detectors/loop-echoes.js';
import { closeLearning, entryRight, entryWrongAgain } from './detectors/learning.js';
import { closeBlackholing, onInboundUnicast } from './detectors/blackholing.js';
import type { UnicastTally } from './detectors/unicast-tally.js';
import { closeMoves } from './detectors/moves.js';
import { summarize } from './detectors/wording.js';
import { COOKED_SLACK_NS, F_DST, F_FRAME, F_SRC, F_T, FL_BROADCAST, FL_IDENTIFIED, FL_MULTICAST, I_CHECK, I_DIR_FLAGS, I_INPUT, I_KEY, I_ORIG_LEN, I_PORT, I_VLAN, REORDER_HORIZON_NS, ReorderBuffer } from './reorder.js';
import { IN_HOST_HOP_NS, PLACE_NAMES, SWITCH_ROUND_TRIP_NS, emptyPath, type FramePath, type PathSighting, O_BOND, O_GUEST, O_HOST, O_OUTSIDE, O_UNKNOWN, P_ECHO_IN, P_NONE, P_UP_THE_BOND, pathOf, type PortGraph, R_BOND, R_BRIDGE, R_GUEST, R_SLAVE, R_UNKNOWN, type SourceKnowledge } from './path.js';
import { PortTable, type PortState } from './ports.js';
import type { UnsettledClock } from './clock.js';
import { UplinkWatch } from './uplink.js';
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

/** How far before the first frame the engine's time base lies (see time()). */
const TIME_LEAD_SEC = 4;
/** Inputs with a capture window of their own; past it an input counts as always capturing. */
const MAX_WINDOWS = 4096;
/** Xen gives every vif this MAC: never one host. */
const XEN_VIF_MAC = 0xfeffffffffff;
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
/**
 * How long after its latest copy a frame's group settles: long enough for each input's window to
 * show it was still capturing (a port that sent nothing for half a second after a frame counts as
 * stopped), short enough that the pending groups stay a few thousand (in cache) on a busy uplink.
 */
export const SETTLE_AFTER_NS = 500e6;
/** Groups are settled once per this much engine time (settleStep): a few thousand at a time on a busy uplink, not one per frame. */
export const SETTLE_STEP_NS = 50e6;

type Sighting = PathSighting;


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
  /** Frames that arrived after a later-stamped frame had been released (past the reorder horizon): handled in arrival order. */
  lateFrames: number;
  /** How far out of order the latest of them was, at most (ms). */
  lateByUpToMs: number;
  /** Frames the reorder stage released before their horizon because it was full. */
  releasedEarly: number;
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

export class Analyzer implements DetectorContext {
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
  /** Every frame passes through here first, so the rest sees them in time order (reorder.ts). */
  private readonly reorder: ReorderBuffer;
  /** Groups waiting for their window to pass, in arrival order (pending-groups.ts). */
  private readonly pending = new PendingGroups();
  /** The group being settled and its sightings: one set of objects, reused for every group. */
  private readonly settling: Group = { src: 0, dst: 0, vlan: 0, group: false, firstT: 0, sightings: [] };
  private readonly sightingRows: Sighting[] = Array.from({ length: MAX_SIGHTINGS }, () => ({ port: 0, t: 0, dir: 0, input: 0, frame: 0, place: 0 }));
  private baseSec = -1;
  /** How far apart two copies of one frame may be stamped (hopGapFor the options' stamps). */
  private readonly hopGapNs: number;
  private maxT = 0;
  /**
   * Time of the latest frame: windows are measured from it, not from the latest time ever seen,
   * so one frame stamped far in the future (or a clock stepped back) does not stop the settling.
   */
  private nowT = 0;
  /** The step of engine time (SETTLE_STEP_NS) groups were last settled at. */
  private settledStep = NaN;
  /** MACs the host owns (bridge, bond, slaves): from the topology and from frames the bridge device sent. */
  readonly localMacs: Set<number>;
  /** Sources of frames seen on guest ports or the bridge device, in time order. */
  private readonly hostSideSeen = new Set<number>();
  /** The same in arrival order: which frames get an identity before the reorder stage. */
  private readonly hostSideArrived = new Set<number>();
  /** Guest MAC → its port, from frames that entered the host on a guest port. */
  readonly guestPorts = new Map<number, number>();
  readonly stats: AnalysisStats = { frames: 0, undecoded: 0, groups: 0, pendingGroups: 0, macsTracked: 0, macsDropped: 0, firstSec: 0, lastSec: 0, lateFrames: 0, lateByUpToMs: 0, releasedEarly: 0 };

  constructor(
    readonly topology: Topology,
    readonly options: AnalyzerOptions = DEFAULT_OPTIONS,
  ) {
    this.ports = new PortTable(topology);
    this.macs = new MacTable(options.maxMacs);
    this.localMacs = new Set(topology.localMacs);
    this.fdbPerVlan = topology.bridges.some((b) => b.vlanFiltering === true || b.kind === 'ovs');
    this.hopGapNs = hopGapFor(options.stamps);
    if (this.hopGapNs > SWITCH_ROUND_TRIP_NS) (this.graph as { inHostHopNs: number }).inHostHopNs = this.hopGapNs;
    // Inputs lined up by the pre-pass still come as the reader merged them, on their own clocks:
    // one whose clock ran ahead arrives that much later than the frames of its moment (a quiet
    // one's frames came late, 17–53 of captures/loop's with one file 30–350 ms off). Frames are
    // held for the spread of the offsets (and a horizon longer by it), plus a file's own disorder
    // across CPUs (an in-host hop's worth), so they go on in lined-up order.
    const offsets = options.inputOffsetsNs ?? [];
    const spread = offsets.length ? Math.max(0, ...offsets) - Math.min(0, ...offsets) : 0;
    this.reorder = new ReorderBuffer(REORDER_HORIZON_NS + spread);
    if (spread > 0) this.reorder.holdFor(spread + IN_HOST_HOP_NS);
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
    if (t < this.minT) this.minT = t;
    port.frames++;
    if (t > port.lastT) port.lastT = t;
    if (t < port.firstT) port.firstT = t;
    // Capture windows: each input's first and latest frame so far.
    const input = rec.inputIndex;
    if (port.input < 0) {
      port.input = input;
      const end = this.options.portEndsNs?.get(port.port.name);
      if (end !== undefined) port.endT = end - (this.baseSec * 1e9 + (this.options.inputOffsetsNs?.[input] ?? 0));
      this.holdForInput(input, f);
    }
    if (input < MAX_WINDOWS) {
      if (!(this.inputFirstT[input]! <= t)) this.inputFirstT[input] = t;
      if (!(this.inputLastT[input]! >= t)) this.inputLastT[input] = t;
    }
    const dir = rec.direction || f.linkDirection;
    if (dir) port.framesWithDirection++;
    // Spanning tree and LACP are judged on their latest state, frame by frame as they arrive (rare frames).
    if (f.payload === PK_STP || f.payload === PK_LACP) this.controlPlane.observe(rec, f, port, dir);
    // Everything else waits in the reorder stage, so the rest sees frames in time order. The bytes
    // are not kept: the identity is taken now, from the record's view — for the frames that may
    // be grouped (hashing every unicast between outside hosts cost a third of the engine's time).
    // A candidate is a broadcast or multicast, a cooked frame without destination, a frame from
    // or to the host's MACs or a source seen on the host side so far (in arrival order: a unicast
    // stamped after, but recorded before, its MAC's first host-side frame within the reorder
    // horizon is not grouped; its MAC-table counts are still kept).
    const src = f.src;
    let dst = f.dst;
    if (dst < 0 && f.l3Off >= 0) {
      port.cooked = true;
      dst = this.cookedDestination(rec.buf, f);
    }
    if (port.hostSide && this.hostSideArrived.size < this.options.maxMacs && !this.hostSideArrived.has(src)) this.hostSideArrived.add(src);
    const candidate =
      f.isBroadcast ||
      f.isMulticast ||
      dst < 0 ||
      port.hostSide ||
      (this.localMacs.size > 0 && (this.localMacs.has(src) || this.localMacs.has(dst))) ||
      (this.hostSideArrived.size > 0 && (this.hostSideArrived.has(src) || this.hostSideArrived.has(dst)));
    let key = 0;
    let check = 0;
    if (candidate) {
      const id = this.identity.of(rec.buf, f);
      key = id.key;
      check = id.check;
    }
    const flags = (f.isBroadcast ? FL_BROADCAST : 0) | (f.isMulticast ? FL_MULTICAST : 0) | (candidate ? FL_IDENTIFIED : 0);
    const rb = this.reorder;
    if (rb.passThrough(rec.iface!.id, rec.inputIndex, t)) {
      // Nothing held and nothing that could go before it: straight on (one tcpdump file, in order).
      this.processFrame(t, src, dst, rec.inputFrame, port.index, rec.inputIndex, rec.origLen, f.vlan, key, check, dir | (flags << 8));
      return;
    }
    rb.push(rec.iface!.id, t, src, dst, rec.inputFrame, port.index, rec.inputIndex, rec.origLen, f.vlan, dir | (flags << 8), key, check);
    this.drain(false);
  }

  /** Frames the reorder stage releases (all of them at the end), in time order. */
  private drain(all: boolean): void {
    const rb = this.reorder;
    while (rb.next(all)) this.process();
  }

  /**
   * Cooked (`-i any`) frames have no destination MAC. What stands in for it: the IPv4 address a
   * unicast is sent to, which names a guest once the guest's ARP has been seen (senders' IPv4
   * addresses are noted from their ARP packets here, as frames arrive). Returns -1 (none), or
   * -2 - the IPv4 address, resolved to the guest's MAC when the frame is processed.
   */
  private cookedDestination(b: Uint8Array, f: DecodedFrame): number {
    const p = f.l3Off;
    if (f.etherType === 0x0806 && f.l3Len >= 28) {
      // ARP over Ethernet/IPv4: the sender's MAC (bytes 8-13) and IPv4 (14-17), when it is the
      // frame's own source. A reply answers for the address and a gratuitous ARP announces it; a
      // request's sender address claims nothing (arping -s, address-conflict probes and
      // misconfigured hosts ask with an address not theirs: the lab's fdblog guest does).
      if (b[p + 4] === 6 && b[p + 5] === 4 && readMac(b, p + 8) === f.src && this.ipv4Owner.size < this.options.maxMacs) {
        const ip = ((b[p + 14]! << 24) | (b[p + 15]! << 16) | (b[p + 16]! << 8) | b[p + 17]!) >>> 0;
        const target = ((b[p + 24]! << 24) | (b[p + 25]! << 16) | (b[p + 26]! << 8) | b[p + 27]!) >>> 0;
        const reply = b[p + 6] === 0 && b[p + 7] === 2;
        if (ip !== 0 && (reply || ip === target)) this.claimIpv4(f.vlan, ip, f.src, ip === target);
      }
      return -1;
    }
    if (f.etherType === 0x0800 && f.l3Len >= 20) {
      // The source address of an IPv4 packet is its sender's claim to it, as an ARP's is.
      const from = ((b[p + 12]! << 24) | (b[p + 13]! << 16) | (b[p + 14]! << 8) | b[p + 15]!) >>> 0;
      if (from !== 0 && this.ipv4Owner.size < this.options.maxMacs) this.claimIpv4(f.vlan, from, f.src, false);
    }
    if (f.etherType === 0x0800 && f.l3Len >= 20 && !f.isBroadcast && !f.isMulticast) {
      const ip = ((b[p + 16]! << 24) | (b[p + 17]! << 16) | (b[p + 18]! << 8) | b[p + 19]!) >>> 0;
      // Multicast and broadcast IPv4 destinations are no one's.
      if (ip >>> 28 === 0xe || ip === 0xffffffff) return -1;
      return -2 - ip;
    }
    return -1;
  }

  /**
   * `mac` sent with `ip` as its own address in `vlan` (an ARP reply's sender, an IPv4 packet's source). An
   * address is a MAC's within its broadcast domain. A gratuitous ARP (sender = target address) is
   * the owner announcing itself and wins; any other claim names an owner only while no other MAC
   * has made one (a host may send with another's address): two claimants name no one.
   */
  private claimIpv4(vlan: number, ip: number, mac: number, announced: boolean): void {
    const k = ipv4Key(vlan, ip);
    if (announced) {
      this.ipv4Owner.set(k, mac);
      this.ipv4Announced.add(k);
    } else if (!this.ipv4Announced.has(k)) {
      const owner = this.ipv4Owner.get(k);
      if (owner === undefined) this.ipv4Owner.set(k, mac);
      else if (owner !== mac && owner !== -1) this.ipv4Owner.set(k, -1);
    }
  }

  /** (VLAN, IPv4 address) → the MAC that claimed it (-1: claimed by several): cooked captures' stand-in for a destination MAC. */
  private readonly ipv4Owner = new Map<number, number>();
  /** The (VLAN, IPv4 address) keys a gratuitous ARP announced: their owner is settled. */
  private readonly ipv4Announced = new Set<number>();

  /** The frame the reorder stage released. */
  private process(): void {
    const fr = this.reorder.cur;
    const ir = this.reorder.curI;
    this.processFrame(fr[F_T]!, fr[F_SRC]!, fr[F_DST]!, fr[F_FRAME]!, ir[I_PORT]!, ir[I_INPUT]!, ir[I_ORIG_LEN]!, ir[I_VLAN]!, ir[I_KEY]!, ir[I_CHECK]!, ir[I_DIR_FLAGS]!);
  }

  /** One frame, in time order: the MAC table for unicast between outside hosts, a group for the rest. */
  private processFrame(t: number, src: number, dst: number, frame: number, portIndex: number, input: number, origLen: number, vlan: number, key: number, check: number, dirFlags: number): void {
    this.nowT = t;
    // What was complete at this step's start settles first: it came before this frame, which cannot join it.
    this.settleStep();
    const port = this.ports.ports[portIndex]!;
    // A cooked frame's destination IPv4 address, as the MAC of the guest whose ARP announced it.
    if (dst < -1) dst = this.ipv4Owner.get(ipv4Key(vlan, -2 - dst)) ?? -1;
    const dir = dirFlags & 0xff;
    const flags = dirFlags >> 8;
    // SLL captures have no destination: their outgoing frames may be broadcasts.
    // Sources seen on the host side are noted at once (groups settle only a window later), so
    // unicast to and from them is grouped from the first frame on.
    // Bounded like the MAC table: a flood of random sources on a guest port must not grow it without end.
    if (port.hostSide && this.hostSideSeen.size < this.options.maxMacs && !this.hostSideSeen.has(src)) this.hostSideSeen.add(src);
    const interesting =
      (flags & FL_IDENTIFIED) !== 0 &&
      ((flags & (FL_BROADCAST | FL_MULTICAST)) !== 0 ||
        (dst < 0 && dir === DIR_OUT) ||
        (this.localMacs.size > 0 && (this.localMacs.has(src) || this.localMacs.has(dst))) ||
        (this.hostSideSeen.size > 0 && (this.hostSideSeen.has(src) || this.hostSideSeen.has(dst))));
    if (!interesting) {
      // Unicast between outside hosts: only the table. Without a direction, frames on the uplink came in.
      const d = dir || port.usualDir;
      this.macs.count(vlan, src, port.index, d, origLen, t);
      this.countDir(port, d);
      // A frame of a MAC that turned out to be on the host side, which arrived before any of its
      // host-side copies did (the start of a file whose interfaces come in batches): it was not
      // identified, so its path cannot be worked out, and where it came in teaches the table nothing.
      const unplaced = (flags & FL_IDENTIFIED) === 0 && this.hostSideArrived.size > 0 && (this.hostSideArrived.has(src) || this.hostSideArrived.has(dst));
      if (d === DIR_IN && port.learns && !unplaced) this.learnAt(vlan, src, port.index, t, false, port.index, input, frame);
    } else {
      this.sight(key, check, src, dst, vlan, (flags & (FL_BROADCAST | FL_MULTICAST)) !== 0, port, t, dir, input, frame);
    }
  }

  private countDir(port: PortState, d: number): void {
    if (d === DIR_IN) port.framesIn++;
    else if (d === DIR_OUT) port.framesOut++;
  }

  private sight(key: number, check: number, src: number, dst: number, vlan: number, isGroup: boolean, port: PortState, t: number, dir: number, input: number, frame: number): void {
    const pg = this.pending;
    let slot = pg.find(key);
    if (
      slot >= 0 &&
      (pg.check[slot] !== check ||
        pg.src[slot] !== src ||
        t - pg.firstT[slot]! > this.options.windowNs ||
        t - pg.lastT[slot]! > this.hopGapNs ||
        pg.count[slot]! >= MAX_SIGHTINGS)
    )
      slot = -1;
    if (slot < 0) {
      pg.open(key, check, src, dst, vlan, isGroup, port.index, t, dir, input, frame);
      this.stats.groups++;
      return;
    }
    if (dst >= 0) pg.dst[slot] = dst;
    if (isGroup) pg.isGroup[slot] = 1;
    pg.add(slot, port.index, t, dir, input, frame);
  }

  /**
   * Settles every group complete at the start of the engine time's step (all of them, `all`, at
   * the end). Everything means the frames still held for time order too (the monitor settles an
   * engine before it forgets it; finish() at the end): released first, they settle below.
   */
  settle(all: boolean): void {
    if (!all) {
      this.settleStep();
      return;
    }
    this.drain(true);
    this.settleAt(Infinity, true);
  }

  /**
   * Once per step of engine time (a step back counts as another, a clock stepped back), and
   * whenever more groups wait than MAX_PENDING_GROUPS: what was complete at the step's start.
   * Steps, not each frame's own time: which groups have settled before a frame is handled then
   * depends on the frames alone. A live session's ticks (advanceTo) settle at most what its next
   * frame would settle before it — that frame is in the same step or a later one — so analyze of
   * the session's recording settles the same groups before the same frames, and what the bridge
   * learned from a unicast and from a group's copies is applied in the same order.
   */
  private settleStep(): void {
    const step = Math.floor(this.nowT / SETTLE_STEP_NS);
    if (step === this.settledStep && this.pending.length <= MAX_PENDING_GROUPS) return;
    this.settledStep = step;
    this.settleAt(step * SETTLE_STEP_NS, false);
  }

  /** Settles the groups complete at engine time `at` (every one, `all`). */
  private settleAt(at: number, all: boolean): void {
    // Frames come in time order (reorder.ts), and a copy joins its frame only within the hop gap
    // of the latest copy (path.ts, R3): a group whose latest copy is older than that is complete.
    // It waits SETTLE_AFTER_NS all the same, so the capture windows it is judged by have seen
    // whether each port went on capturing after it. (The window still caps a group's span.)
    const horizon = all ? Infinity : at - Math.max(this.hopGapNs, SETTLE_AFTER_NS);
    // A group more than a window ahead of the latest frame came from a clock that jumped: no
    // later sighting can join it in time order, so it settles now instead of blocking the queue.
    const future = at + this.options.windowNs;
    // Groups open in time order: take them from the front while they are complete. (One that is
    // still growing holds the ones behind it for at most a hop gap.)
    const pg = this.pending;
    const early = pg.length - MAX_PENDING_GROUPS;
    let n = 0;
    let sorted = true;
    let prev = -Infinity;
    for (; n < pg.length; n++) {
      const slot = pg.slotAt(n);
      const ft = pg.firstT[slot]!;
      const lt = pg.lastT[slot]!;
      if (!(lt < horizon || ft > future || n < early)) break;
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



  /** Roles seen so far, recomputed only when a port was added (a port's role never changes). */
  private rolesFor = -1;
  private hasHostSide = false;
  private hasBond = false;

  /** Bit per role index of the ports seen so far. */
  private rolesSeen = 0;

  private updateRoles(): void {
    const ports = this.ports.ports;
    if (this.rolesFor === ports.length) return;
    this.rolesFor = ports.length;
    this.rolesSeen = 0;
    for (const p of ports) this.rolesSeen |= 1 << p.roleIndex;
    this.hasHostSide = ports.some((p) => p.hostSide);
    this.hasBond = ports.some((p) => p.port.role === 'bond');
  }

  /**
   * Whether a frame coming in on this guest's port is what the uplink bridge learns from. Inside a
   * guest's chain (Proxmox's tap100i0 → fwbr100i0 → fwln100i0 ⇄ fwpr100p0 → vmbr0) the uplink
   * bridge learns only what reaches its own port, fwpr100p0: a frame of the guest's for the
   * firewall bridge's side (its own address there) never does. So when the chain's port on the
   * uplink bridge is in the capture set, only its copies count (outside its capture window nothing
   * is learned: whether the frame reached the uplink bridge is not known); when it is not, the hop
   * captured stands for it.
   */
  private uplinkBridgeLearnsAt(port: number): boolean {
    const up = this.chainEnds(this.ports.ports[port]!.chain).uplink;
    return up < 0 || up === port;
  }

  /**
   * The ends of a guest's chain: the uplink bridge's port (the one a hop names as its `via`:
   * fwpr100p0) and the guest's own (its tap, vif or vnet: neither an inner hop nor the uplink's
   * port); -1 where not captured. A chain of one port is both.
   */
  chainEnds(chain: number): { uplink: number; guest: number } {
    if (this.chainEndsFor !== this.ports.ports.length) {
      this.chainEndsFor = this.ports.ports.length;
      this.chainEndCache.clear();
    }
    let ends = this.chainEndCache.get(chain);
    if (ends) return ends;
    const ports = this.ports.ports.filter((p) => p.chain === chain && p.roleIndex === R_GUEST);
    const via = ports.map((p) => p.port.via).find((v): v is string => !!v);
    const uplink = via !== undefined ? (this.ports.get(via)?.index ?? -1) : (ports.length === 1 ? ports[0]!.index : -1);
    const guest = ports.find((p) => !p.innerHop && p.index !== uplink)?.index ?? (ports.length === 1 ? ports[0]!.index : uplink);
    ends = { uplink, guest };
    this.chainEndCache.set(chain, ends);
    return ends;
  }
  private chainEndsFor = -1;
  private readonly chainEndCache = new Map<number, { uplink: number; guest: number }>();

  /** Whether the capture set has any port on the host side of the bond (bridge or guest ports). */
  seesHostSide(): boolean {
    this.updateRoles();
    return this.hasHostSide;
  }

  seesBond(): boolean {
    this.updateRoles();
    return this.hasBond;
  }



  /** The host's port graph as the path stage reads it (path.ts). */
  private readonly graph: PortGraph = {
    // Arrival stamps (a hop gap larger than the switch's) stretch in-host hops as much.
    inHostHopNs: IN_HOST_HOP_NS,
    role: (port) => this.ports.ports[port]!.roleIndex,
    chain: (port) => this.ports.ports[port]!.chain,
    innerHop: (port) => this.ports.ports[port]!.innerHop,
    capturing: (port, t) => this.capturing(port, t),
    roleCapturing: (role, t) => {
      for (const p of this.ports.ports) if (p.roleIndex === role && this.capturing(p.index, t)) return true;
      return false;
    },
    hasRole: (role) => {
      this.updateRoles();
      return (this.rolesSeen & (1 << role)) !== 0;
    },
  };
  private readonly path: FramePath = emptyPath();
  /** First and latest frame time per input (capture windows); NaN until its first frame. */
  private readonly inputFirstT = new Float64Array(MAX_WINDOWS).fill(NaN);
  private readonly inputLastT = new Float64Array(MAX_WINDOWS).fill(NaN);
  private readonly knowledge: SourceKnowledge = { isHost: false, guestChain: -1, guestPort: -1, likelyGuest: false, unicastForOther: false };

  /**
   * Whether the capture holding `port` was running at `t`: from the port's own first frame (an
   * input of several interfaces may be files merged after the fact — mergecap of tcpdumps started
   * one by one — whose interfaces began at moments of their own; a port on which the host floods
   * every broadcast is never quiet for long while it captures) to the latest frame of its input so
   * far (capture windows). A port whose capture started later or stopped earlier proves nothing by
   * its absence.
   */
  capturing(port: number, t: number): boolean {
    const p = this.ports.ports[port]!;
    const input = p.input;
    if (input < 0) return false;
    if (input >= MAX_WINDOWS) return true;
    return this.inputFirstT[input]! <= t && p.firstT <= t && t <= p.endT && t <= (this.inputsCut.has(input) ? p.lastT : this.inputLastT[input]!);
  }

  /**
   * Inputs that stopped at damage (a file cut short). An input with several interfaces (dumpcap
   * writes each one's frames in batches) holds each interface's frames up to a moment of its own
   * then: each of its ports counts as capturing up to its own latest frame.
   */
  private readonly inputsCut = new Set<number>();

  /** The input ended at damage: its ports' capture windows end at their own latest frames (before finish()). */
  inputCut(input: number): void {
    this.inputsCut.add(input);
  }

  private settleGroup(g: Group): void {
    const s = g.sightings;
    // A group may hold the same bytes sent more than once: each frame gets its own path.
    while (s.length > 0) {
      const n = this.settleFrame(g, s);
      if (n >= s.length) break;
      for (let i = n; i < s.length; i++) s[i - n] = s[i]!;
      s.length -= n;
    }
  }

  /** The path of the first frame among the sightings, what it teaches and what it proves; returns how many sightings were its. */
  private settleFrame(g: Group, s: Sighting[]): number {
    const src = g.src;
    if (s.length === 1) {
      // One copy on a port of unknown role (a capture of an interface no name or flag placed):
      // no path to work out, nothing learned; only counted.
      const x = s[0]!;
      const port = this.ports.ports[x.port]!;
      if (port.roleIndex === R_UNKNOWN) {
        x.place = P_NONE;
        this.countDir(port, x.dir);
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
    const n = path.n;
    const origin = s[path.origin]!;
    const originPort = this.ports.ports[origin.port]!;
    // What the frame teaches: a guest behind its port, one of the host's own MACs.
    // Guests and the host's own MACs are bounded like the MAC table (a flood from a guest port).
    // A guest's port's copy is the guest's own frame only when the capture says it came in, or the
    // bridge device was being captured then: the host's frame sent out to that port looks the same
    // without the bridge device's copy before it (a tcpdump on it that had not started yet).
    if (
      path.from === O_GUEST &&
      src !== XEN_VIF_MAC &&
      (this.guestPorts.size < this.options.maxMacs || this.guestPorts.has(src)) &&
      // (While it was not, a Xen/KVM guest's OUI is the weak hint that decides.)
      (origin.dir === DIR_IN && this.hadDirection(origin) ? true : this.bridgeDeviceCapturing(origin.t) || isGuestOui(src))
    ) {
      this.guestPorts.set(src, origin.port);
      this.localMacs.delete(src);
    }
    // The bridge device's copy is the host's own frame only when the capture says it went out, or
    // every guest's port was being captured then: a guest whose port was not would look the same.
    // A lone copy there says nothing either way: a frame delivered to the host from outside, its
    // copy on the uplink recorded before anything marked it as one to follow (a file's records out
    // of time order), is one copy on the bridge device just as well (stp-tcn's second half made
    // an outside client the host's by its ARP reply).
    if (
      path.from === O_HOST &&
      originPort.roleIndex === R_BRIDGE &&
      !this.guestPorts.has(src) &&
      this.localMacs.size < this.options.maxMacs &&
      // (While some guest's port was not, a Xen/KVM guest's OUI is the weak hint that decides.)
      (origin.dir === DIR_OUT && this.hadDirection(origin) ? true : n > 1 && (this.allGuestPortsCapturing(origin.t) || !isGuestOui(src)))
    )
      this.localMacs.add(src);

    // Directions as the capture gave them or the path inferred them, counted per port and MAC.
    for (let i = 0; i < n; i++) {
      const x = s[i]!;
      this.countDir(this.ports.ports[x.port]!, x.dir);
      this.macs.count(g.vlan, src, x.port, x.dir, 0, x.t);
    }

    // What the bridge learned, in time order: inbound on a bridge port (the bond or a guest's port).
    const bondCaptured = this.seesBond();
    for (let i = 0; i < n; i++) {
      const x = s[i]!;
      if (x.dir !== DIR_IN) continue;
      const role = this.ports.ports[x.port]!.roleIndex;
      if (role === R_BOND || (role === R_GUEST && this.uplinkBridgeLearnsAt(x.port))) {
        if (this.learnAt(g.vlan, src, x.port, x.t, x.place === P_UP_THE_BOND, x.port, x.input, x.frame)) {
          // The entry went wrong here: keep the whole path of the echo that did it, as evidence.
          const e = this.macs.entry(this.fdbVlan(g.vlan), src);
          if (e) e.wrongPath = s.slice(0, n).map((y) => ({ input: y.input, frame: y.frame, port: y.port, dir: y.dir, place: y.place }));
        }
      }
      else if (role === R_SLAVE && !bondCaptured) {
        // Without a bond capture, a frame that came in on a slave stands for one that came up the bond.
        const bond = this.bondOf(x.port);
        if (bond >= 0) this.learnAt(g.vlan, src, bond, x.t, x.place === P_ECHO_IN, x.port, x.input, x.frame);
      }
    }

    // The detectors, on the settled path.
    if (path.echo && path.from !== O_OUTSIDE && path.from !== O_UNKNOWN) onEcho(this, g, s, path);
    if (path.from === O_GUEST || path.from === O_HOST || path.from === O_BOND) this.noteUplink(g, s, path);
    if (path.from === O_OUTSIDE && !g.group) onInboundUnicast(this, g, s, path);
    return n;
  }

  /** What the host's uplink did with a frame the host side sent (uplink.ts): which slave it left by, whether it came back. */
  private noteUplink(g: Group, s: Sighting[], path: FramePath): void {
    const t = s[path.origin]!.t;
    const bondCapturing = this.graph.roleCapturing(R_BOND, t);
    let slaves = 0;
    for (const p of this.ports.ports) if (p.roleIndex === R_SLAVE && this.capturing(p.index, t)) slaves++;
    // An echo of it could be seen: coming up the bond, or back in on another slave.
    const visible = bondCapturing || slaves >= 2;
    // Came back, as the loop-echo detector counts it (up the bond; in on a slave when nothing else was captured).
    const echoed = path.echo && (path.upBond >= 0 || (!this.seesBond() && !this.seesHostSide()));
    const back = path.echoIn >= 0 ? s[path.echoIn]! : null;
    const dropped = back !== null && path.upBond < 0 && this.graph.roleCapturing(R_BOND, back.t);
    this.uplink.note(t, g.group, path.outSlave >= 0 ? s[path.outSlave]!.port : -1, path.firstOut >= 0, visible, echoed, dropped ? back.port : -1, dropped ? this.bondOf(back.port) : -1);
  }

  /** What the uplink did with the host side's frames (uplink.ts). */
  readonly uplink = new UplinkWatch();

  /**
   * Whether every guest's port in the capture set was being captured at t (capture windows). A
   * capture set without a guest's port has none that was: any guest's frame reaches the bridge
   * device unseen on its way, so the bridge device's copy makes no MAC the host's by itself.
   */
  private allGuestPortsCapturing(t: number): boolean {
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

  /** Whether the bridge device was being captured at t (capture windows). */
  private bridgeDeviceCapturing(t: number): boolean {
    // A capture set without the bridge device has none that was: the host's own frames, flooded
    // to every guest's port, then look like a guest's own flooded to the others.
    for (const p of this.ports.ports) if (p.roleIndex === R_BRIDGE && this.capturing(p.index, t)) return true;
    return false;
  }

  /**
   * On a port's first frame: how long the reorder stage must hold frames for its input. An input
   * the registry already lists with several interfaces (dumpcap writes every interface block
   * before the first packet) gets the whole horizon from its first frame, before its other
   * interfaces' first batches come; a cooked (`-i any`) one a few ms for its CPUs.
   */
  private holdForInput(input: number, f: DecodedFrame): void {
    if (f.sllIfIndex >= 0) this.reorder.holdFor(COOKED_SLACK_NS);
    let n = 0;
    for (const iface of this.interfaces) if (iface.inputIndex === input && ++n >= 2) return this.reorder.holdFor(REORDER_HORIZON_NS);
  }

  /** The capture set's interfaces (the reader's registry, filled as inputs open), when the caller knows them. */
  private interfaces: readonly CaptureInterface[] = [];

  /**
   * Tells the engine every interface of the capture set up front (`set.registry.list`, which the
   * reader fills as it opens inputs): a port whose capture has not started yet proves nothing by
   * its absence either.
   */
  knowInterfaces(list: readonly CaptureInterface[]): void {
    this.interfaces = list;
  }

  /**
   * Where a MAC belongs, as the frames showed it (a result of its own: the report's MAC table and
   * the JSON's `macs`): a guest behind its port, one of the host's own MACs (flags, a recorded
   * topology, or frames the host sent), or not known from these captures.
   */
  belonging(mac: number): { side: 'guest' | 'host' | 'unknown'; port: string | null } {
    if (this.localMacs.has(mac)) return { side: 'host', port: null };
    const g = this.guestPorts.get(mac);
    if (g !== undefined) return { side: 'guest', port: this.ports.ports[g]!.port.name };
    // 'outside' is not claimed: a frame first seen coming in from the switch is the host's own as
    // often as an outside host's (a NIC's own frames sent as a bridge port and flooded back, the
    // reflections of the host's broadcasts): the form sweep found both.
    return { side: 'unknown', port: null };
  }

  /** Whether the capture itself gave this sighting's direction (not the path stage). */
  private hadDirection(x: Sighting): boolean {
    return this.ports.ports[x.port]!.framesWithDirection > 0;
  }

  /** The bond a slave belongs to, as a port index (created on demand), or -1. */
  private bondOf(slavePort: number): number {
    const p = this.ports.ports[slavePort]!.port;
    if (!p.bond) return -1;
    return this.ports.get(p.bond)?.index ?? -1;
  }

  /**
   * Whether the bridges learn per VLAN: a VLAN-aware Linux bridge (vlan_filtering=1) and Open
   * vSwitch key their tables by VLAN and MAC; a Linux bridge without vlan_filtering (the kernel's
   * default, and what a capture without the host's settings is taken for) learns by MAC alone —
   * br_handle_frame_finish() calls br_fdb_update() with vid 0 — so a tagged echo moves the same
   * entry as an untagged one.
   */
  private readonly fdbPerVlan: boolean;

  /** The VLAN the bridge's forwarding database keys a frame of `vlan` by (0 on a bridge that is not VLAN-aware). */
  fdbVlan(vlan: number): number {
    return this.fdbPerVlan ? vlan : 0;
  }

  /** The entry that holds what the bridge learned for this (VLAN, MAC) row: the row itself, or the MAC's VLAN 0 entry on a bridge that is not VLAN-aware. */
  learningOf(e: MacEntry): MacEntry {
    return this.fdbPerVlan || e.vlan === 0 ? e : (this.macs.peek(0, e.mac) ?? e);
  }

  /** Returns whether the entry of a guest went wrong with this frame. */
  private learnAt(frameVlan: number, mac: number, port: number, t: number, byEcho: boolean, atPort: number, atInput: number, atFrame: number): boolean {
    // The bridge never learns its own addresses from frames (it drops them with the warning).
    if (mac === XEN_VIF_MAC || this.localMacs.has(mac)) return false;
    const vlan = this.fdbVlan(frameVlan);
    const e = this.macs.entry(vlan, mac);
    if (!e) return false;
    // Frames settle group by group, in the order of each group's first copy; a copy of a later
    // group can be stamped before a copy of an earlier one (a guest's unicast between its
    // broadcast and that broadcast's echo). The bridge learned in time order: what it learned
    // from a later frame already stands, so this earlier one changes nothing now.
    if (t < e.learnedAt) return false;
    // Ports of one guest's chain are one place on the bridge: no move between them.
    if (e.learnedOn === port || (e.learnedOn >= 0 && this.ports.ports[e.learnedOn]!.chain === this.ports.ports[port]!.chain)) {
      e.lastInInput = atInput;
      e.lastInFrame = atFrame;
      return false;
    }
    if (e.learnedOn >= 0) {
      e.moves++;
      if (byEcho) e.echoMoves++;
      e.lastMove = { t, from: e.learnedOn, to: port, byEcho, port: atPort, dir: DIR_IN, input: atInput, frame: atFrame, prevInput: e.lastInInput, prevFrame: e.lastInFrame };
      e.firstMove ??= e.lastMove;
    }
    e.lastInInput = atInput;
    e.lastInFrame = atFrame;
    const guestPort = this.guestPorts.get(mac);
    let wentWrong = false;
    if (byEcho && guestPort !== undefined) {
      if (e.wrongSince < 0) {
        // Right again for a while before this echo (the guest had spoken): how long it was reachable.
        if (e.rightSince >= 0) entryWrongAgain(this, mac, vlan, (t - e.rightSince) / 1e6);
        e.rightSince = -1;
        e.wrongSince = t;
        if (e.firstWrong < 0) e.firstWrong = t;
        e.wrongInput = atInput;
        e.wrongFrame = atFrame;
        e.wrongPort = atPort;
        wentWrong = true;
      }
    } else if (guestPort !== undefined && this.ports.ports[guestPort]!.chain === this.ports.ports[port]!.chain && e.wrongSince >= 0) {
      // The guest spoke again: the entry is right again. How long was it wrong?
      entryRight(this, mac, vlan, (t - e.wrongSince) / 1e6);
      e.wrongSince = -1;
      e.rightSince = t;
      e.wrongInput = e.wrongFrame = e.wrongPort = -1;
      e.wrongPath = null;
    }
    e.learnedOn = port;
    e.learnedAt = t;
    return wentWrong;
  }

  /** The finding if it exists (no occurrence counted). */
  existing<K extends FindingKind>(kind: K, mac: number, vlan: number): FindingOf<K> | undefined {
    return this.findings.get(findingKey(kind, mac, vlan)) as FindingOf<K> | undefined;
  }

  /** Engine time of the latest frame. */
  get latestT(): number {
    return this.maxT;
  }

  /** Engine time of the earliest frame (0 before the first). */
  firstT(): number {
    return this.minT === Infinity ? 0 : this.minT;
  }
  private minT = Infinity;

  finding<K extends FindingKind>(kind: K, mac: number, vlan: number, t: number, refs: readonly EvidenceSource[], path: string[], confidence: Confidence): FindingOf<K> {
    const key = findingKey(kind, mac, vlan);
    let f = this.findings.get(key) as FindingOf<K> | undefined;
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
        explanation: explanationFor(kind),
        remedies: REMEDIES_FOR[kind],
        details: {},
      } as Finding as FindingOf<K>;
      if (keep) this.findings.set(key, f);
    }
    f.count++;
    f.lastSec = sec;
    f.lastNsec = nsec;
    if (confidence === 'high') f.confidence = 'high';
    for (const p of path) if (!f.interfaces.includes(p)) f.interfaces.push(p);
    for (const r of refs) {
      if (f.evidence.length >= EVIDENCE_LIMIT) break;
      if (r.input < 0 || f.evidence.some((e) => e.input === r.input && e.frame === r.frame)) continue;
      const role = r.role ?? (r.place ? (PLACE_NAMES[r.place] as EvidenceRole) : undefined);
      f.evidence.push({
        input: r.input,
        frame: r.frame,
        ...(role && role !== ('unplaced' as string) && role !== ('resend' as string) ? { role } : {}),
        dir: r.dir === DIR_IN ? 'in' : r.dir === DIR_OUT ? 'out' : null,
        port: this.ports.ports[r.port]?.port.name ?? '?',
        occurrence: f.count,
        ...(r.ofState ? { ofState: true } : {}),
      });
    }
    // Kept in the order cited: each occurrence's frames in the order of its path.
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
    f.summary = summarize(f, this.hostNames);
  }

  /** What the wording needs of the host: a guest's own port, a port's role. */
  private readonly hostNames = {
    guestPortName: (mac: number): string | null => this.guestPortName(mac),
    roleOf: (name: string): string | null => this.ports.get(name)?.port.role ?? null,
  };

  /** A guest's own port: the guest's end of its chain (its tap, vif, vnet), null when not a known guest. */
  guestPortName(mac: number): string | null {
    const g = this.guestPorts.get(mac);
    if (g === undefined) return null;
    const end = this.chainEnds(this.ports.ports[g]!.chain).guest;
    return this.ports.ports[end >= 0 ? end : g]!.port.name;
  }

  /** The bridge, bond and guest's port a finding is about, as this host names them (null where not known). */
  namesOf(f: Finding): ExplanationNames {
    const only = (role: string): string | null => {
      const names = this.ports.ports.filter((p) => p.port.role === role).map((p) => p.port.name);
      const known = role === 'bond' ? this.topology.bonds.map((b) => b.name) : role === 'bridge' ? this.topology.bridges.map((b) => b.name) : [];
      const all = [...new Set([...names, ...known])];
      return all.length === 1 ? all[0]! : null;
    };
    const bond = f.interfaces.find((p) => this.ports.get(p)?.port.role === 'bond' || this.topology.bonds.some((b) => b.name === p)) ?? only('bond');
    const bridge = (bond ? (this.topology.ports.get(bond)?.bridge ?? this.topology.bridges.find((b) => b.ports.some((p) => p.name === bond))?.name) : null) ?? only('bridge');
    return { bridge, bond, port: f.mac >= 0 ? this.guestPortName(f.mac) : null };
  }

  /** Settles everything and returns the findings, most severe first. */
  finish(): Finding[] {
    this.settle(true);
    // An Ethernet interface of the capture set that carried no frame was captured all the same: a
    // slave that received nothing is the backup of an active-backup bond, or dead — not missing.
    // (An -i any capture's interfaces are known only by the frames it has.) Only interfaces whose
    // role is known, and a bounded number: a file of 16 000 empty interface blocks is not a host.
    let silent = 0;
    for (const iface of this.interfaces) {
      if (silent >= MAX_SILENT_PORTS) break;
      if (iface.linkType !== LINKTYPE_ETHERNET || iface.frames !== 0 || this.ports.get(iface.name)) continue;
      if ((this.topology.ports.get(iface.name)?.role ?? roleFromName(iface.name).role) === 'unknown') continue;
      this.ports.captured(iface.name, iface.inputIndex);
      silent++;
    }
    this.stats.lateFrames = this.reorder.stats.late;
    this.stats.lateByUpToMs = Math.round(this.reorder.stats.maxLateNs / 1e3) / 1e3;
    this.stats.releasedEarly = this.reorder.stats.releasedEarly;
    this.closeMoves();
    this.applyKernel();
    this.stats.macsTracked = this.macs.size;
    this.stats.macsDropped = this.macs.dropped;
    this.stats.lastSec = this.baseSec + Math.floor(this.maxT / 1e9);
    this.noteFlood();
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
    const control = this.controlPlane.findings({ localMacs: this.localMacs, topology: this.topology, ports: this.ports.ports });
    return [...this.findings.values(), ...control].sort((a, b) => rank[a.severity] - rank[b.severity] || b.count - a.count);
  }

  /** At the end, from the MAC table: moves and flaps, entries still wrong; the share of each guest's unicast lost. */
  private closeMoves(): void {
    for (const e of this.macs.entries()) {
      if (e.mac === XEN_VIF_MAC) continue;
      closeMoves(this, e);
      closeLearning(this, e);
    }
    for (const [key, t] of this.unicastTallies) closeBlackholing(this, Math.floor(key / 2 ** 48), key % 2 ** 48, t);
  }

  /** Unicast from outside per guest (VLAN × 2^48 + MAC), bounded like the guests. */
  private readonly unicastTallies = new Map<number, UnicastTally>();

  unicastTally(vlan: number, mac: number, guestPort: number): UnicastTally | undefined {
    const key = vlan * 2 ** 48 + mac;
    let t = this.unicastTallies.get(key);
    if (!t && this.unicastTallies.size < this.options.maxMacs) this.unicastTallies.set(key, (t = { guestPort, times: [], arrived: 0, lost: 0 }));
    return t;
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
    // Frames a horizon older than now are released; what they are grouped with settles a window later.
    this.reorder.advance(t);
    this.drain(false);
    const released = t - this.reorder.horizonNs;
    if (released > this.nowT) this.nowT = released;
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
    this.stats.lateFrames = this.reorder.stats.late;
    this.stats.releasedEarly = this.reorder.stats.releasedEarly;
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
/** An IPv4 address within a VLAN, as one number (exact: VLAN ids are 12 bits). */
function ipv4Key(vlan: number, ip: number): number {
  return vlan * 0x100000000 + ip;
}

/**
 * The OUIs hypervisors give their guests' NICs: Xen's 00:16:3e (XenSource), QEMU/KVM's 52:54:00
 * (libvirt), Proxmox VE's bc:24:11 (since PVE 8.1). A weak hint, read only where the capture
 * cannot tell.
 */
function isGuestOui(mac: number): boolean {
  const oui = Math.floor(mac / 0x1000000);
  return oui === 0x00163e || oui === 0x525400 || oui === 0xbc2411;
}

/** A kernel log line in a summary: one line, printable (the report escapes it again for the terminal). */
function safeKernelText(text: string): string {
  return text.length > 120 ? text.slice(0, 117) + '…' : text;
}
