/**
 * Ingest: records in, in time order, grouped. Each record gets its port and capture window, an
 * identity when it may be one of several copies of a frame, and a place in the reorder stage
 * (reorder.ts), which releases frames in time order whatever order the captures recorded them in.
 * Most frames take a fast path: unicast between outside hosts goes straight to the sink as one
 * sighting. The rest — broadcasts and multicasts, frames from or to the host and its guests — are
 * grouped with their copies on other ports (pending-groups.ts) and handed on, group by group in
 * time order, once no later copy can join (settleAt).
 */
import type { DecodedFrame } from '../decode/frame.js';
import { PK_LACP, PK_STP } from '../decode/frame.js';
import { DIR_OUT, type PacketRecord } from '../model/record.js';
import type { AnalysisStats, AnalyzerOptions } from './options.js';
import type { CaptureWindows } from './capture-windows.js';
import type { ControlPlane } from './control-plane.js';
import { CookedDestinations } from './cooked.js';
import { FrameIdentity } from './identity.js';
import { type GroupSink, Grouping } from './grouping.js';
import type { PendingGroups } from './pending-groups.js';
import { MacSet } from './mac-index.js';
import { IN_HOST_HOP_NS } from './path.js';
import type { PortState, PortTable } from './ports.js';
import { COOKED_SLACK_NS, F_DST, F_FRAME, F_SRC, F_T, FL_BROADCAST, FL_IDENTIFIED, FL_MULTICAST, I_CHECK, I_DIR_FLAGS, I_INPUT, I_KEY, I_ORIG_LEN, I_PORT, I_VLAN, REORDER_HORIZON_NS, ReorderBuffer } from './reorder.js';
import type { TimeBase } from './time-base.js';

/** Where ingest hands frames on, in time order: unicast between outside hosts one by one, the rest as settled groups. */
export interface IngestSink extends GroupSink {
  /**
   * A unicast between outside hosts: one sighting, never grouped. `unplaced`: its MAC turned out to
   * be on the host side after it arrived, so where it came in teaches the bridge's table nothing.
   */
  ungrouped(t: number, src: number, vlan: number, port: PortState, dir: number, origLen: number, input: number, frame: number, unplaced: boolean): void;
}

export class Ingest {
  private readonly identity = new FrameIdentity();
  private readonly cooked: CookedDestinations;
  /** Every frame passes through here first, so the rest sees them in time order (reorder.ts). */
  private readonly reorder: ReorderBuffer;
  /** Copies of one frame as one group, settled in time order (grouping.ts). */
  private readonly grouping: Grouping;
  /** Sources of frames seen on guest ports or the bridge device, in time order (tested for every frame: a MacSet). */
  private readonly hostSideSeen = new MacSet();
  /** The same in arrival order: which frames get an identity before the reorder stage. */
  private readonly hostSideArrived = new MacSet();
  /** Engine time of the earliest and the latest frame (in arrival order). */
  maxT = 0;
  minT = Infinity;

  constructor(
    private readonly options: AnalyzerOptions,
    private readonly ports: PortTable,
    private readonly windows: CaptureWindows,
    private readonly time: TimeBase,
    private readonly stats: AnalysisStats,
    /** BPDUs and LACPDUs go there as they arrive, not through the reorder stage. */
    private readonly controlPlane: ControlPlane,
    /** The host's own MACs (the bridge model's set, which grows as frames settle). */
    private readonly localMacs: Set<number>,
    /** How far apart two copies of one frame may be stamped (hopGapFor the options' stamps). */
    hopGapNs: number,
    private readonly sink: IngestSink,
  ) {
    this.cooked = new CookedDestinations(options.maxMacs);
    this.grouping = new Grouping(options.windowNs, hopGapNs, stats, sink);
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

  /** The groups waiting to settle (read-only: Analyzer.growing). */
  get pendingGroups(): PendingGroups {
    return this.grouping.waiting;
  }

  /** Sources seen on the host side so far (read-only: Analyzer.growing). */
  get hostSideSources(): { readonly size: number } {
    return this.hostSideSeen;
  }

  /** What the reorder stage counted: frames late, how late, released early. */
  get reorderStats(): ReorderBuffer['stats'] {
    return this.reorder.stats;
  }

  observe(rec: PacketRecord, f: DecodedFrame): void {
    this.stats.frames++;
    if (!f.supported || f.src < 0) {
      this.stats.undecoded++;
      return;
    }
    const port = this.ports.resolve(rec.iface!, f);
    const input = rec.inputIndex;
    const offsets = this.options.inputOffsetsNs;
    if (this.time.baseSec < 0) this.stats.firstSec = rec.tsSec;
    const t = this.time.of(rec.tsSec, rec.tsNsec, offsets ? (offsets[input] ?? 0) : 0);
    if (t > this.maxT) this.maxT = t;
    if (t < this.minT) this.minT = t;
    port.frames++;
    if (t > port.lastT) port.lastT = t;
    if (t < port.firstT) port.firstT = t;
    // Capture windows: each input's first and latest frame so far.
    if (port.input < 0) {
      port.input = input;
      const end = this.options.portEndsNs?.get(port.port.name);
      if (end !== undefined) port.endT = this.time.fromEpochNs(end, offsets?.[input] ?? 0);
      this.holdForInput(input, f);
    }
    this.windows.saw(input, t);
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
      dst = this.cooked.destinationOf(rec.buf, f);
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
    if (rb.passThrough(rec.iface!.id, input, t)) {
      // Nothing held and nothing that could go before it: straight on (one tcpdump file, in order).
      this.processFrame(t, src, dst, rec.inputFrame, port.index, input, rec.origLen, f.vlan, key, check, dir | (flags << 8));
      return;
    }
    rb.push(rec.iface!.id, t, src, dst, rec.inputFrame, port.index, input, rec.origLen, f.vlan, dir | (flags << 8), key, check);
    this.drain(false);
  }

  /**
   * Settles every group complete at the start of the engine time's step (all of them, `all`, at
   * the end). Everything means the frames still held for time order too (the monitor settles an
   * engine before it forgets it; finish() at the end): released first, they settle below.
   */
  settle(all: boolean): void {
    if (!all) {
      this.grouping.settleDue();
      return;
    }
    this.drain(true);
    this.grouping.settleAll();
  }

  /**
   * Live mode with no frames for a while: time still passes, so groups whose window has passed
   * settle now rather than when the next frame comes.
   */
  advanceTo(tsSec: number, tsNsec: number): void {
    if (this.time.baseSec < 0) return;
    const t = this.time.of(tsSec, tsNsec, 0);
    if (t > this.maxT) this.maxT = t;
    // The session was capturing all along: a port quiet since its last frame was still watched —
    // up to a horizon ago, the time within which every frame has come in (reorder.ts: dumpcap's
    // per-interface batches over ssh arrive up to that late; a session stopped loses its last ones).
    this.windows.reach(t - this.reorder.horizonNs);
    // Frames a horizon older than now are released; what they are grouped with settles a window later.
    this.reorder.advance(t);
    this.drain(false);
    const released = t - this.reorder.horizonNs;
    this.grouping.reach(released);
    this.settle(false);
  }

  /** Frames the reorder stage releases (all of them at the end), in time order. */
  private drain(all: boolean): void {
    const rb = this.reorder;
    while (rb.next(all)) this.process();
  }

  /** The frame the reorder stage released. */
  private process(): void {
    const fr = this.reorder.cur;
    const ir = this.reorder.curI;
    this.processFrame(fr[F_T]!, fr[F_SRC]!, fr[F_DST]!, fr[F_FRAME]!, ir[I_PORT]!, ir[I_INPUT]!, ir[I_ORIG_LEN]!, ir[I_VLAN]!, ir[I_KEY]!, ir[I_CHECK]!, ir[I_DIR_FLAGS]!);
  }

  /** One frame, in time order: to the sink at once for unicast between outside hosts, into a group for the rest. */
  private processFrame(t: number, src: number, dst: number, frame: number, portIndex: number, input: number, origLen: number, vlan: number, key: number, check: number, dirFlags: number): void {
    // What was complete at this step's start settles first: it came before this frame, which cannot join it.
    this.grouping.at(t);
    const port = this.ports.ports[portIndex]!;
    // A cooked frame's destination IPv4 address, as the MAC of the guest whose ARP announced it.
    if (dst < -1) dst = this.cooked.resolve(vlan, dst);
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
      // A frame of a MAC that turned out to be on the host side, which arrived before any of its
      // host-side copies did (the start of a file whose interfaces come in batches): it was not
      // identified, so its path cannot be worked out.
      const unplaced = (flags & FL_IDENTIFIED) === 0 && this.hostSideArrived.size > 0 && (this.hostSideArrived.has(src) || this.hostSideArrived.has(dst));
      this.sink.ungrouped(t, src, vlan, port, dir, origLen, input, frame, unplaced);
    } else {
      this.grouping.sight(key, check, src, dst, vlan, (flags & (FL_BROADCAST | FL_MULTICAST)) !== 0, port, t, dir, input, frame);
    }
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
    for (const iface of this.windows.interfaces) if (iface.inputIndex === input && ++n >= 2) return this.reorder.holdFor(REORDER_HORIZON_NS);
  }
}
