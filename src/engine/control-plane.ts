/**
 * The control plane of the two fixes users switch to: spanning tree (both NICs in the bridge, one
 * blocking) and 802.3ad (LACP). From BPDUs and LACPDUs seen on the host's ports, and from the host's
 * own view (/proc/net/bonding, bridge sysfs) through the same evaluators:
 *
 *  - stp-host-is-root: the Linux bridge (priority 32768 by default, often with the lowest MAC) won
 *    the root election, so the datacentre's traffic between switches may cross the host;
 *  - stp-topology-change: repeated topology changes (TC flags, TCNs) make every bridge age its
 *    table in forward-delay seconds and flood meanwhile;
 *  - stp-port-blocked (info): which of the host's NICs spanning tree blocks;
 *  - lacp-partner-mismatch: slaves of one bond reach different partner systems or keys (two
 *    switches that are not one stack), so only one aggregator carries traffic;
 *  - lacp-not-distributing: a side of a link is not in sync/collecting/distributing, and stayed so
 *    over more than one of its LACPDUs (one LACPDU in that state is a link on its way up);
 *  - lacp-no-partner: LACPDUs go unanswered, or name a partner of zeros;
 *  - lacp-slow-timeout (info): LACPDUs every 30 s, a dead partner noticed after 90 s.
 *
 * Control frames are rare (one per hello per port), so this keeps small records per sender and
 * decides at the end, when the host's own MACs are known.
 */
import { DIR_OUT, type PacketRecord } from '../model/record.js';
import type { DecodedFrame } from '../decode/frame.js';
import { PK_LACP, PK_STP } from '../decode/frame.js';
import { LACP_STATE_DEFAULTED, LACP_STATE_EXPIRED, LACP_STATE_TIMEOUT, lacpDistributing, lacpStateFlags } from '../decode/lacp.js';
import { formatMac, parseMac } from '../model/mac.js';
import { BPDU_TYPE_TCN, STP_FLAG_TC, STP_ROLE_ALTERNATE_BACKUP, stpRole } from '../decode/stp.js';
import { EVIDENCE_LIMIT, explanationFor, type Confidence, type Finding, type FindingKind, type FrameRef, REMEDIES_FOR, SEVERITY } from './findings.js';
import type { PortState } from './ports.js';
import type { Bond, Bridge, Topology } from '../model/topology.js';

/** TC indications (TC flags, TCNs) kept for the episode count; a storm past it is counted, not kept. */
const MAX_TC_EVENTS = 65536;
/** Sender records kept (per port and bridge, per port and LACP system); a flood of made-up senders past it is counted, not kept. */
const MAX_RECORDS = 4096;
/** Evidence frames kept per sender record (the first ones and the latest). */
const RECORD_EVIDENCE = 8;

/** A bridge id: the 16-bit priority field (priority + system id extension) and the MAC. */
export interface BridgeId {
  priority: number;
  mac: number;
}

/** Orders bridge ids as spanning tree does: lower priority field first, then lower MAC. */
export function compareBridgeIds(a: BridgeId, b: BridgeId): number {
  return a.priority - b.priority || a.mac - b.mac;
}

export function bridgeIdString(id: BridgeId): string {
  return `${id.priority & 0xf000}/${id.priority & 0x0fff}/${formatMac(id.mac)}`;
}

/** Parses sysfs's "8000.002590000001" (bridge_id, root_id); null when it is not one. */
export function parseSysfsBridgeId(text: string | null): BridgeId | null {
  const m = /^([0-9a-f]{4})\.([0-9a-f]{12})$/i.exec(text?.trim() ?? '');
  if (!m) return null;
  return { priority: parseInt(m[1]!, 16), mac: parseMac(m[2]!) };
}

interface Seen {
  sec: number;
  nsec: number;
  /** Seconds as a double, for ordering (captures merge slightly out of order). */
  t: number;
  ref: FrameRef;
}

interface BpduRecord {
  port: number;
  sender: BridgeId;
  srcMac: number;
  root: BridgeId;
  cost: number;
  portId: number;
  flags: number;
  version: number;
  helloSec: number;
  maxAgeSec: number;
  sentOut: boolean;
  count: number;
  first: Seen;
  last: Seen;
  evidence: FrameRef[];
}

interface TcEvent {
  t: number;
  sec: number;
  nsec: number;
  ref: FrameRef;
  port: number;
  /** Who signalled: the sender bridge, or for a TCN its source MAC. */
  who: string;
  tcn: boolean;
}

interface LacpRecord {
  port: number;
  actorSystem: number;
  actorKey: number;
  actorPort: number;
  actorState: number;
  partnerSystem: number;
  partnerKey: number;
  partnerState: number;
  /** LACPDUs in a row, up to the latest, with the latest one's actor state: 1 while it has just changed. */
  stateHeld: number;
  srcMac: number;
  sentOut: boolean;
  count: number;
  first: Seen;
  last: Seen;
  evidence: FrameRef[];
}

/** One slave as the LACP evaluator sees it, from frames or from /proc/net/bonding. -1 = unknown. */
export interface LacpSlaveView {
  port: string;
  /** The bond it belongs to (from the topology, or the host's actor system in its LACPDUs). */
  bond: string | null;
  /** The switch side: its system MAC and key as this slave hears them (0 = a partner of zeros). */
  partnerSystem: number;
  partnerKey: number;
  /** The switch's own state byte (its actor state), and the host's state byte on this slave. */
  partnerState: number;
  hostState: number;
  /** The host's LACPDUs on this slave: whether any were seen, and the partner they name. */
  hostSends: boolean;
  hostSeesPartnerSystem: number;
  /** 802.3ad aggregator id (/proc/net/bonding), -1 unknown. */
  aggregatorId: number;
  /** Whether the switch sent any LACPDU on this slave. */
  partnerSends: boolean;
  /**
   * From frames: how long (s) the slave's capture ran after the host's first LACPDU on it, for a
   * switch's answer to have come back in. Absent: as long as it takes (/proc/net/bonding's state).
   */
  heardForS?: number;
  /** False when the capture could not tell the host's LACPDUs from the switch's: the "partner" is then just the latest speaker. */
  sidesKnown?: boolean;
  /**
   * From frames: whether each side's latest state was held over more than its one latest LACPDU.
   * A side seen in one LACPDU only in a state (a link coming up, a capture that ended a moment
   * later) may be on its way to distributing: the next LACPDU exchange moves it. Absent: settled
   * (the state /proc/net/bonding reads now).
   */
  hostStateSettled?: boolean;
  partnerStateSettled?: boolean;
  evidence: FrameRef[];
  first: Seen | null;
  last: Seen | null;
}

export interface StpPortView {
  port: string;
  blocked: boolean;
  /** Why: "alternate to root port eth0", "state blocking in sysfs". */
  reason: string;
  evidence: FrameRef[];
  first: Seen | null;
  last: Seen | null;
}

function seen(rec: PacketRecord): Seen {
  return { sec: rec.tsSec, nsec: rec.tsNsec, t: rec.tsSec + rec.tsNsec / 1e9, ref: { input: rec.inputIndex, frame: rec.inputFrame } };
}

function addEvidence(list: FrameRef[], ref: FrameRef): void {
  if (list.length < RECORD_EVIDENCE) list.push(ref);
  else list[RECORD_EVIDENCE - 1] = ref; // keep the first ones and the latest
}

/** A control-plane finding: no MAC-table subject, a summary written here. */
export function controlFinding(
  kind: FindingKind,
  subject: string,
  summary: string,
  interfaces: string[],
  evidence: FrameRef[],
  first: Seen | null,
  last: Seen | null,
  count: number,
  confidence: Confidence,
  details: Record<string, string | number>,
  mac = -1,
): Finding {
  const ev = dedupe(evidence).slice(0, EVIDENCE_LIMIT);
  return {
    kind,
    severity: SEVERITY[kind],
    summary,
    mac,
    vlan: 0,
    // A set of ports, in one order whatever order the records came in (eth2 before eth10).
    interfaces: [...interfaces].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
    count,
    firstSec: first?.sec ?? 0,
    firstNsec: first?.nsec ?? 0,
    lastSec: last?.sec ?? 0,
    lastNsec: last?.nsec ?? 0,
    evidence: ev,
    confidence,
    explanation: explanationFor(kind),
    remedies: REMEDIES_FOR[kind],
    details: { subject, ...details },
  };
}

function dedupe(refs: FrameRef[]): FrameRef[] {
  const out: FrameRef[] = [];
  for (const r of refs) if (!out.some((x) => x.input === r.input && x.frame === r.frame)) out.push(r);
  return out.sort((a, b) => a.input - b.input || a.frame - b.frame);
}

function earliest(xs: (Seen | null)[]): Seen | null {
  let best: Seen | null = null;
  for (const x of xs) if (x && (!best || x.t < best.t)) best = x;
  return best;
}

function latest(xs: (Seen | null)[]): Seen | null {
  let best: Seen | null = null;
  for (const x of xs) if (x && (!best || x.t > best.t)) best = x;
  return best;
}

/** What the host is, for deciding which BPDUs and LACPDUs are its own. */
export interface HostContext {
  localMacs: Set<number>;
  topology: Topology;
  ports: readonly PortState[];
  /** A port's latest frame, as seconds since the epoch (its capture ran at least that long). */
  lastFrameSec(port: number): number;
  /** The latest frame of the capture, whole seconds: what is worked out from windows changes with it. */
  nowSec: number;
}

/**
 * A switch that speaks LACP answers a LACPDU whose information is new to it at once (802.1AX's
 * need-to-transmit), and sends its own every second (fast) or 30 s (slow) while the host's say
 * it has heard none: 0.35 s in the lab. A slave captured for less than this after the host's
 * first LACPDU proves no silence of the switch (a capture cut short, a link just up).
 */
const LACP_ANSWER_S = 3;

/** How long (s) a port's capture ran after `first` (a LACPDU on it): the time its other side had to answer. */
function heardFor(host: HostContext, port: number, first: Seen | null): number {
  return first ? host.lastFrameSec(port) - first.t : 0;
}

export class ControlPlane {
  private readonly bpdus = new Map<string, BpduRecord>();
  private readonly tcEvents: TcEvent[] = [];
  private tcEventsDropped = 0;
  /** Per (port, sender): whether its latest BPDU had TC set, to count rising edges. */
  private readonly lastTc = new Map<string, { t: number; tc: boolean }>();
  private readonly lacps = new Map<string, LacpRecord>();
  bpduFrames = 0;
  lacpFrames = 0;
  /** BPDUs/LACPDUs of senders past MAX_RECORDS. */
  recordsNotKept = 0;
  private cacheKey = '';
  private cached: Finding[] = [];

  /** A decoded BPDU or LACPDU seen on `port`; `dir` as the capture gives it (2 = out). */
  observe(rec: PacketRecord, f: DecodedFrame, port: PortState, dir: number): void {
    // Several links' BPDUs and LACPDUs on one interface (ports merged into one): which link said
    // what is lost, and a conversation cannot be read from them.
    if (port.mergedPoints) return;
    if (f.payload === PK_STP) this.observeBpdu(rec, f, port, dir);
    else if (f.payload === PK_LACP) this.observeLacp(rec, f, port, dir);
  }

  private observeBpdu(rec: PacketRecord, f: DecodedFrame, port: PortState, dir: number): void {
    const x = f.bpdu;
    this.bpduFrames++;
    const at = seen(rec);
    if (x.type === BPDU_TYPE_TCN) {
      this.tc({ t: at.t, sec: at.sec, nsec: at.nsec, ref: at.ref, port: port.index, who: formatMac(f.src), tcn: true });
      return;
    }
    // PVST+ copies (one per VLAN) repeat the same bridge's view; the 802.1D/RSTP/MSTP CIST one is enough.
    if (x.flags < 0 || x.pvstVlan >= 0 || f.snapOui >= 0) return;
    const sender: BridgeId = { priority: x.bridgePriority | x.bridgeExt, mac: x.bridgeMac };
    const key = `${port.index}|${sender.priority}|${sender.mac}`;
    let r = this.bpdus.get(key);
    if (!r) {
      if (this.bpdus.size >= MAX_RECORDS) {
        this.recordsNotKept++;
        return;
      }
      r = { port: port.index, sender, srcMac: f.src, root: { priority: 0, mac: 0 }, cost: 0, portId: 0, flags: 0, version: 0, helloSec: 0, maxAgeSec: 0, sentOut: false, count: 0, first: at, last: at, evidence: [] };
      this.bpdus.set(key, r);
    }
    r.count++;
    if (dir === DIR_OUT) r.sentOut = true;
    addEvidence(r.evidence, at.ref);
    if (at.t < r.first.t) r.first = at;
    if (at.t >= r.last.t || r.count === 1) {
      r.last = at;
      r.root = { priority: x.rootPriority | x.rootExt, mac: x.rootMac };
      r.cost = x.rootCost;
      r.portId = x.portId;
      r.flags = x.flags;
      r.version = x.version;
      r.helloSec = x.helloTime / 256;
      r.maxAgeSec = x.maxAge / 256;
    }
    const tc = (x.flags & STP_FLAG_TC) !== 0;
    const prev = this.lastTc.get(key);
    if (tc && (!prev || !prev.tc)) this.tc({ t: at.t, sec: at.sec, nsec: at.nsec, ref: at.ref, port: port.index, who: bridgeIdString(sender), tcn: false });
    else if (tc) this.tc({ t: at.t, sec: at.sec, nsec: at.nsec, ref: at.ref, port: port.index, who: '', tcn: false });
    if (!prev || at.t >= prev.t) this.lastTc.set(key, { t: at.t, tc });
  }

  /** A TC indication: `who` is set on a TCN or a rising TC flag (an event), empty while TC stays set. */
  private tc(e: TcEvent): void {
    if (this.tcEvents.length < MAX_TC_EVENTS) this.tcEvents.push(e);
    else this.tcEventsDropped++;
  }

  private observeLacp(rec: PacketRecord, f: DecodedFrame, port: PortState, dir: number): void {
    const x = f.lacp;
    if (!x.hasActor || !x.hasPartner) return;
    this.lacpFrames++;
    const at = seen(rec);
    const key = `${port.index}|${x.actorSystem}`;
    let r = this.lacps.get(key);
    if (!r) {
      if (this.lacps.size >= MAX_RECORDS) {
        this.recordsNotKept++;
        return;
      }
      r = { port: port.index, actorSystem: x.actorSystem, actorKey: 0, actorPort: 0, actorState: 0, partnerSystem: 0, partnerKey: 0, partnerState: 0, stateHeld: 0, srcMac: f.src, sentOut: false, count: 0, first: at, last: at, evidence: [] };
      this.lacps.set(key, r);
    }
    r.count++;
    if (dir === DIR_OUT) r.sentOut = true;
    addEvidence(r.evidence, at.ref);
    if (at.t < r.first.t) r.first = at;
    if (at.t >= r.last.t || r.count === 1) {
      r.last = at;
      r.actorKey = x.actorKey;
      r.actorPort = x.actorPort;
      r.stateHeld = r.count > 1 && r.actorState === x.actorState ? r.stateHeld + 1 : 1;
      r.actorState = x.actorState;
      r.partnerSystem = x.partnerSystem;
      r.partnerKey = x.partnerKey;
      r.partnerState = x.partnerState;
    }
  }

  /**
   * The findings from everything observed, with the host's MACs as known now. A UI asks ten
   * times a second: the answer is kept until another BPDU or LACPDU, port or host MAC arrives, or
   * another second of capture has passed.
   */
  findings(host: HostContext): Finding[] {
    if (this.bpduFrames === 0 && this.lacpFrames === 0) return [];
    const key = `${this.bpduFrames}|${this.lacpFrames}|${host.localMacs.size}|${host.ports.length}|${host.nowSec}`;
    if (key !== this.cacheKey) {
      this.cached = [...this.stpFindings(host), ...this.lacpFindings(host)];
      this.cacheKey = key;
    }
    return this.cached;
  }

  // ---- spanning tree ----------------------------------------------------------------------

  /** The host's bridge ids: from the topology (sysfs bridge_id), from BPDUs it was seen sending. */
  private hostBridges(host: HostContext): BridgeId[] {
    const ids: BridgeId[] = [];
    const add = (id: BridgeId): void => {
      if (!ids.some((x) => compareBridgeIds(x, id) === 0)) ids.push(id);
    };
    for (const b of host.topology.bridges) {
      const id = parseSysfsBridgeId(b.bridgeId);
      if (id) add(id);
    }
    for (const r of this.bpdus.values()) {
      // A bridge sends BPDUs with its port's MAC as source and its own (the bridge device's) MAC in
      // its id; either being the host's, or the capture saying the BPDU went out, makes it the host's.
      if (r.sentOut || host.localMacs.has(r.sender.mac) || host.localMacs.has(r.srcMac)) add(r.sender);
    }
    return ids;
  }

  private stpFindings(host: HostContext): Finding[] {
    if (this.bpdus.size === 0 && this.tcEvents.length === 0) return [];
    const out: Finding[] = [];
    const name = (i: number): string => host.ports[i]!.port.name;
    const mine = this.hostBridges(host);
    const isHost = (id: BridgeId): boolean => mine.some((m) => compareBridgeIds(m, id) === 0);
    // What a bridge last said more than a max age before the last BPDU has expired for STP too
    // (a root that died, a port that stopped sending once it became a root port).
    const all = [...this.bpdus.values()];
    let endT = -Infinity;
    for (const r of all) if (r.last.t > endT) endT = r.last.t;
    const records = all.filter((r) => r.last.t >= endT - (r.maxAgeSec > 0 ? r.maxAgeSec : 20));

    // The root the tree settled on: the best root any bridge names in its latest BPDU.
    let root: BridgeId | null = null;
    for (const r of records) if (!root || compareBridgeIds(r.root, root) < 0) root = r.root;
    if (root && isHost(root)) {
      const naming = records.filter((r) => compareBridgeIds(r.root, root!) === 0);
      const ports = [...new Set(naming.map((r) => name(r.port)))];
      const fromOthers = naming.filter((r) => !isHost(r.sender));
      out.push(
        controlFinding(
          'stp-host-is-root',
          bridgeIdString(root),
          `the host's bridge ${bridgeIdString(root)} is the spanning-tree root${fromOthers.length ? ` (${new Set(fromOthers.map((r) => bridgeIdString(r.sender))).size} other bridge${fromOthers.length === 1 ? '' : 's'} agree)` : ''}; BPDUs naming it on ${ports.join(', ')}`,
          ports,
          naming.flatMap((r) => r.evidence),
          earliest(naming.map((r) => r.first)),
          latest(naming.map((r) => r.last)),
          naming.reduce((n, r) => n + r.count, 0),
          fromOthers.length ? 'high' : 'medium',
          { root: bridgeIdString(root) },
          root.mac,
        ),
      );
    }

    const tc = this.topologyChanges(host);
    if (tc) out.push(tc);

    // Which NIC blocks is only known when the host's own BPDUs can be told from a switch's: by its
    // bridge id seen, or by the host's MACs (its bridge's as the id, its NICs' as the source).
    // Without either (uplinks captured alone, no directions, no --local-mac) the host's BPDUs on
    // its two NICs look like a switch's, and one of its designated ports would pass for blocked.
    const hostKnown = mine.length > 0 || host.localMacs.size > 0;
    for (const v of hostKnown ? this.blockedPorts(host, records, isHost, root) : []) {
      out.push(controlFinding('stp-port-blocked', v.port, `${v.port} is blocked by spanning tree (${v.reason})`, [v.port], v.evidence, v.first, v.last, 1, 'high', { reason: v.reason }));
    }
    return out;
  }

  /** Episodes of topology change: a TC flag or TCN after a quiet spell of three hellos, or a bridge's new burst of TCNs. */
  private topologyChanges(host: HostContext): Finding | null {
    if (this.tcEvents.length === 0) return null;
    const events = [...this.tcEvents].sort((a, b) => a.t - b.t);
    // Hello time as the BPDUs announce it (the root's), 2 s (the default) when none said.
    let hello = 0;
    for (const r of this.bpdus.values()) if (r.helloSec > 0) hello = Math.max(hello, r.helloSec);
    if (hello === 0) hello = 2;
    const quiet = 3 * hello;
    let episodes = 0;
    let lastT = -Infinity;
    const starts: TcEvent[] = [];
    const origins = new Set<string>();
    // A bridge repeats its TCN every hello until acknowledged: a new burst from it is a new change
    // even while the root still holds TC set for the last one (max age + forward delay, 35 s by default).
    const lastTcnBy = new Map<string, number>();
    for (const e of events) {
      let fresh = e.t - lastT > quiet;
      if (e.tcn) {
        const prev = lastTcnBy.get(e.who);
        if (prev !== undefined && e.t - prev > quiet) fresh = true;
        lastTcnBy.set(e.who, e.t);
      }
      if (fresh) {
        episodes++;
        starts.push(e);
        // The first to signal an episode is nearest its cause (the TCN's sender, or the bridge that set TC).
        if (e.who) origins.add(e.who);
      }
      lastT = e.t;
    }
    // One change is what any link coming up causes; repeated ones are the fault.
    if (episodes < 2) return null;
    const tcns = events.filter((e) => e.tcn).length;
    const flagged = events.filter((e) => !e.tcn).length + this.tcEventsDropped;
    const ports = [...new Set(events.map((e) => host.ports[e.port]!.port.name))];
    return controlFinding(
      'stp-topology-change',
      'topology',
      `${episodes} spanning-tree topology changes (${flagged} BPDUs with the TC flag, ${tcns} TCNs${origins.size ? `; first signalled by ${[...origins].slice(0, 4).join(', ')}` : ''}) on ${ports.join(', ')}`,
      ports,
      starts.map((e) => e.ref),
      { sec: events[0]!.sec, nsec: events[0]!.nsec, t: events[0]!.t, ref: events[0]!.ref },
      { sec: events.at(-1)!.sec, nsec: events.at(-1)!.nsec, t: events.at(-1)!.t, ref: events.at(-1)!.ref },
      episodes,
      'high',
      { episodes, tcBpdus: flagged, tcns },
    );
  }

  /**
   * The host's NICs that spanning tree blocks, from what other bridges send them. The host's root
   * port is the NIC with the best received priority vector (root, cost, sender, sender's port); any
   * other NIC hearing the same root at no more cost than the root port is an alternate (or backup):
   * what the host would send there is worse, so the port blocks. A NIC where the host stays silent
   * while a neighbour keeps sending is not designated either; nor is one where the host's own RSTP
   * BPDUs say alternate/backup.
   */
  private blockedPorts(host: HostContext, records: BpduRecord[], isHost: (id: BridgeId) => boolean, root: BridgeId | null): StpPortView[] {
    if (!root || isHost(root)) return [];
    const nic = (i: number): boolean => host.ports[i]!.port.role === 'slave';
    const received = new Map<number, BpduRecord>();
    for (const r of records) {
      if (!nic(r.port) || isHost(r.sender) || host.localMacs.has(r.sender.mac) || host.localMacs.has(r.srcMac) || compareBridgeIds(r.root, root) !== 0) continue;
      const best = received.get(r.port);
      if (!best || vectorCompare(r, best) < 0) received.set(r.port, r);
    }
    if (received.size === 0) return [];
    let rootPort: BpduRecord | null = null;
    for (const r of received.values()) if (!rootPort || vectorCompare(r, rootPort) < 0) rootPort = r;
    const rp = rootPort!;
    const out: StpPortView[] = [];
    const name = (i: number): string => host.ports[i]!.port.name;
    for (const [port, r] of received) {
      if (port === rp.port) continue;
      const own = records.filter((x) => x.port === port && isHost(x.sender));
      const ownLast = latest(own.map((x) => x.last));
      const ownSaysAlternate = own.some((x) => x.last === ownLast && x.version >= 2 && stpRole(x.flags) === STP_ROLE_ALTERNATE_BACKUP);
      const silent = !ownLast || ownLast.t < r.last.t - 3 * Math.max(r.helloSec, 1);
      let reason: string | null = null;
      if (r.cost <= rp.cost) reason = `alternate to root port ${name(rp.port)}: it hears root ${bridgeIdString(root)} at cost ${r.cost} from ${bridgeIdString(r.sender)} port ${hex4(r.portId)}`;
      else if (ownSaysAlternate) reason = `the host's own BPDUs give it the alternate/backup role`;
      else if (silent) reason = `not the root port (${name(rp.port)}) and the host sends no BPDUs there while ${bridgeIdString(r.sender)} does`;
      if (!reason) continue;
      out.push({ port: name(port), blocked: true, reason, evidence: [r.last.ref, rp.last.ref], first: r.first, last: r.last });
    }
    return out;
  }

  // ---- LACP --------------------------------------------------------------------------------

  /** The host's LACP actor systems: the bond's MAC is the host's own, or the LACPDU was seen going out. */
  private lacpViews(host: HostContext): LacpSlaveView[] {
    const byPort = new Map<number, LacpRecord[]>();
    for (const r of this.lacpRecords(host)) {
      const list = byPort.get(r.port) ?? [];
      list.push(r);
      byPort.set(r.port, list);
    }
    const hostSystems = new Set<number>();
    for (const r of this.lacpRecords(host)) if (r.sentOut || host.localMacs.has(r.actorSystem) || host.localMacs.has(r.srcMac)) hostSystems.add(r.actorSystem);
    if (hostSystems.size === 0 && byPort.size >= 2) {
      // A bond speaks with one system id on all its slaves; the switches answer each with theirs.
      const ports = [...byPort.values()];
      const common = ports[0]!.map((r) => r.actorSystem).filter((s) => ports.every((list) => list.some((r) => r.actorSystem === s)));
      const onlyCommon = common.filter((s) => ports.some((list) => list.some((r) => r.actorSystem !== s)));
      if (onlyCommon.length === 1) hostSystems.add(onlyCommon[0]!);
    }
    const views: LacpSlaveView[] = [];
    for (const [port, list] of byPort) {
      const mineList = list.filter((r) => hostSystems.has(r.actorSystem));
      const theirs = list.filter((r) => !hostSystems.has(r.actorSystem));
      const p = host.ports[port]!.port;
      const hostRec = mineList.sort((a, b) => b.last.t - a.last.t)[0];
      // Without knowing the host's side, each speaker on a lone port is judged on its own below.
      const partnerRec = theirs.sort((a, b) => b.last.t - a.last.t)[0];
      views.push({
        port: p.name,
        bond: hostRec ? `actor ${formatMac(hostRec.actorSystem)} key ${hostRec.actorKey}` : p.bond,
        partnerSystem: partnerRec ? partnerRec.actorSystem : hostRec ? hostRec.partnerSystem : -1,
        partnerKey: partnerRec ? partnerRec.actorKey : hostRec ? hostRec.partnerKey : -1,
        partnerState: partnerRec ? partnerRec.actorState : -1,
        hostState: hostRec ? hostRec.actorState : -1,
        hostStateSettled: hostRec ? hostRec.stateHeld >= 2 : undefined,
        partnerStateSettled: partnerRec ? partnerRec.stateHeld >= 2 : undefined,
        hostSends: !!hostRec,
        hostSeesPartnerSystem: hostRec ? hostRec.partnerSystem : -1,
        aggregatorId: -1,
        partnerSends: !!partnerRec,
        heardForS: hostRec ? heardFor(host, port, earliest(mineList.map((r) => r.first))) : undefined,
        sidesKnown: hostSystems.size > 0,
        evidence: list.flatMap((r) => r.evidence),
        first: earliest(list.map((r) => r.first)),
        last: latest(list.map((r) => r.last)),
      });
    }
    return views;
  }

  /**
   * The LACP conversations on the host's slaves. Bonding consumes LACPDUs before the bond device,
   * so one seen on a bond, bridge or guest port (or a device of unknown role beside the slaves, as
   * the lab's emulated bond has) is not a slave's conversation. Ports of unknown role count only
   * when no slave carries LACP: a capture of one link taken anywhere.
   */
  private lacpRecords(host: HostContext): LacpRecord[] {
    const all = [...this.lacps.values()];
    const onSlaves = all.filter((r) => host.ports[r.port]!.port.role === 'slave');
    return onSlaves.length ? onSlaves : all.filter((r) => host.ports[r.port]!.port.role === 'unknown');
  }

  private lacpFindings(host: HostContext): Finding[] {
    const records = this.lacpRecords(host);
    if (records.length === 0) return [];
    const out = evaluateLacp(this.lacpViews(host));
    // Each speaker's own state, sides known or not: one that never saw its partner, or waits.
    for (const r of records) {
      const port = host.ports[r.port]!.port.name;
      const who = formatMac(r.actorSystem);
      if (r.partnerSystem === 0 && heardFor(host, r.port, r.first) >= LACP_ANSWER_S && !out.some((f) => f.kind === 'lacp-no-partner' && f.interfaces[0] === port)) {
        out.push(controlFinding('lacp-no-partner', `${port}|${who}`, `${port}: ${who}'s latest LACPDU names no partner (00:00:00:00:00:00): it has not heard the other side`, [port], r.evidence, r.first, r.last, r.count, 'high', { actor: who, state: lacpStateFlags(r.actorState) }, r.actorSystem));
      } else if (r.partnerSystem !== 0 && !lacpDistributing(r.actorState) && r.stateHeld >= 2 && !out.some((f) => f.kind === 'lacp-not-distributing' && f.interfaces[0] === port)) {
        out.push(notDistributing(port, who, r.actorState, r.evidence, r.first, r.last, r.count, r.actorSystem));
      }
    }
    // A side that never heard its partner is not distributing either: the no-partner finding says it all.
    const noPartner = new Set(out.filter((f) => f.kind === 'lacp-no-partner').map((f) => f.interfaces[0]));
    for (let i = out.length - 1; i >= 0; i--) if (out[i]!.kind === 'lacp-not-distributing' && noPartner.has(out[i]!.interfaces[0])) out.splice(i, 1);
    const slow = new Map<number, LacpRecord[]>();
    for (const r of records) {
      if ((r.actorState & LACP_STATE_TIMEOUT) !== 0) continue;
      const list = slow.get(r.actorSystem) ?? [];
      list.push(r);
      slow.set(r.actorSystem, list);
    }
    for (const [system, list] of slow) {
      const ports = [...new Set(list.map((r) => host.ports[r.port]!.port.name))];
      out.push(
        controlFinding(
          'lacp-slow-timeout',
          formatMac(system),
          `${formatMac(system)} uses the long LACP timeout on ${ports.join(', ')}: LACPDUs every 30 s, a dead link noticed after 90 s`,
          ports,
          list.flatMap((r) => r.evidence),
          earliest(list.map((r) => r.first)),
          latest(list.map((r) => r.last)),
          list.reduce((n, r) => n + r.count, 0),
          'high',
          { actor: formatMac(system) },
          system,
        ),
      );
    }
    return out;
  }
}

/** Root-port order: root, root path cost, sender bridge, sender port. */
function vectorCompare(a: BpduRecord, b: BpduRecord): number {
  return compareBridgeIds(a.root, b.root) || a.cost - b.cost || compareBridgeIds(a.sender, b.sender) || a.portId - b.portId;
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

function notDistributing(port: string, who: string, state: number, evidence: FrameRef[], first: Seen | null, last: Seen | null, count: number, mac: number): Finding {
  const missing = [
    (state & 0x08) === 0 ? 'not in sync' : '',
    (state & 0x10) === 0 ? 'not collecting' : '',
    (state & 0x20) === 0 ? 'not distributing' : '',
    state & LACP_STATE_DEFAULTED ? 'using defaulted partner info' : '',
    state & LACP_STATE_EXPIRED ? 'partner info expired' : '',
  ].filter(Boolean);
  return controlFinding('lacp-not-distributing', `${port}|${who}`, `${port}: ${who} is ${missing.join(', ')} (state ${lacpStateFlags(state)}): the link carries none of the aggregate's traffic`, [port], evidence, first, last, count, 'high', { actor: who, state: lacpStateFlags(state) }, mac);
}

/**
 * The LACP checks on slaves' views, whether they come from frames or from /proc/net/bonding:
 * partners that differ within a bond, slaves without a partner, slaves not distributing.
 */
export function evaluateLacp(views: LacpSlaveView[]): Finding[] {
  const out: Finding[] = [];
  for (const v of views) {
    // A bond that heard nothing names a partner of zeros (its defaulted partner info).
    if (v.hostSends && !v.partnerSends && v.hostSeesPartnerSystem === 0) {
      // None come back: only once the switch had the time to answer.
      if ((v.heardForS ?? Infinity) < LACP_ANSWER_S) continue;
      out.push(controlFinding('lacp-no-partner', v.port, `${v.port}: the host sends LACPDUs but none come back from the switch (the host names a partner of zeros)`, [v.port], v.evidence, v.first, v.last, 1, 'high', { partner: 'none' }));
    } else if (v.partnerSystem === 0) {
      out.push(controlFinding('lacp-no-partner', v.port, `${v.port}: no LACP partner (partner system 00:00:00:00:00:00)`, [v.port], v.evidence, v.first, v.last, 1, 'high', { partner: formatMac(Math.max(0, v.partnerSystem)) }));
    } else {
      if (v.hostState >= 0 && !lacpDistributing(v.hostState) && v.hostStateSettled !== false) out.push(notDistributing(v.port, 'the host', v.hostState, v.evidence, v.first, v.last, 1, -1));
      else if (v.partnerState >= 0 && !lacpDistributing(v.partnerState) && v.partnerStateSettled !== false) out.push(notDistributing(v.port, `${v.sidesKnown === false ? '' : 'the switch '}${formatMac(v.partnerSystem)}`, v.partnerState, v.evidence, v.first, v.last, 1, v.partnerSystem));
    }
  }
  // The host's own timeout, from its configuration (frames report each speaker's on their own, see ControlPlane).
  const slowBonds = new Map<string, LacpSlaveView[]>();
  for (const v of views) {
    if (v.hostSends || v.hostState < 0 || v.hostState & LACP_STATE_TIMEOUT) continue;
    const key = v.bond ?? '(the host’s uplinks)';
    slowBonds.set(key, [...(slowBonds.get(key) ?? []), v]);
  }
  for (const [bond, list] of slowBonds) {
    const ports = list.map((v) => v.port);
    out.push(controlFinding('lacp-slow-timeout', bond, `${bond} uses the long LACP timeout on ${ports.join(', ')}: LACPDUs every 30 s, a dead link noticed after 90 s`, ports, [], null, null, 1, 'high', { source: 'configuration', setting: `${bond} lacp_rate slow` }));
  }
  // Slaves of one bond (by the topology, or by the host's actor system in its LACPDUs) whose partners differ.
  const groups = new Map<string, LacpSlaveView[]>();
  for (const v of views) {
    if (v.partnerSystem <= 0) continue;
    const key = v.bond ?? '(the host’s uplinks)';
    const list = groups.get(key) ?? [];
    list.push(v);
    groups.set(key, list);
  }
  for (const [bond, list] of groups) {
    const partners = new Map<string, string[]>();
    for (const v of list) {
      const p = `${formatMac(v.partnerSystem)} key ${v.partnerKey}`;
      partners.set(p, [...(partners.get(p) ?? []), v.port]);
    }
    const aggregators = new Set(list.filter((v) => v.aggregatorId >= 0).map((v) => v.aggregatorId));
    if (partners.size < 2 && aggregators.size < 2) continue;
    const seenAs = [...partners].map(([p, ports]) => `${ports.join(', ')} → ${p}`).join('; ');
    const bondText = bond.startsWith('actor ') ? `the bond (${bond})` : bond;
    out.push(
      controlFinding(
        'lacp-partner-mismatch',
        bond,
        `slaves of ${bondText} reach different LACP partners: ${seenAs}${aggregators.size > 1 ? `; aggregator ids ${[...aggregators].join(', ')}` : ''}: only one aggregator carries traffic`,
        list.map((v) => v.port),
        list.flatMap((v) => v.evidence.slice(0, 2)),
        earliest(list.map((v) => v.first)),
        latest(list.map((v) => v.last)),
        partners.size,
        'high',
        { partners: seenAs, bond },
      ),
    );
  }
  return out;
}

/**
 * The host's own view: /proc/net/bonding's partner per slave of each 802.3ad bond, and, when given
 * (its "details actor/partner lacp pdu: port state" lines), each slave's actor and partner state bytes.
 */
export function lacpViewsFromBonds(bonds: Bond[], states?: Map<string, { actor: number; partner: number }>): LacpSlaveView[] {
  const views: LacpSlaveView[] = [];
  for (const b of bonds) {
    if (b.mode !== '802.3ad') continue;
    for (const s of b.slaves) {
      views.push({
        port: s.name,
        bond: b.name,
        partnerSystem: s.partnerMac,
        partnerKey: s.partnerKey,
        partnerState: states?.get(s.name)?.partner ?? -1,
        hostState: states?.get(s.name)?.actor ?? -1,
        hostSends: false,
        hostSeesPartnerSystem: -1,
        aggregatorId: s.aggregatorId,
        partnerSends: false,
        evidence: [],
        first: null,
        last: null,
      });
    }
  }
  return views;
}

/** The host's own view of spanning tree: bridge sysfs (bridge_id, root_id, stp_state, port states). */
export function stpFindingsFromBridges(bridges: Bridge[], nics: (port: string) => boolean): Finding[] {
  const out: Finding[] = [];
  for (const br of bridges) {
    if (br.stpEnabled === false) continue;
    const id = parseSysfsBridgeId(br.bridgeId);
    const root = parseSysfsBridgeId(br.rootId);
    if (br.stpEnabled && id && root && compareBridgeIds(id, root) === 0) {
      out.push(controlFinding('stp-host-is-root', bridgeIdString(id), `the host's bridge ${br.name} (${bridgeIdString(id)}) is the spanning-tree root`, [br.name], [], null, null, 1, 'high', { source: 'configuration', setting: `${br.name} bridge_id = root_id = ${br.bridgeId}` }, id.mac));
    }
    for (const p of br.ports) {
      if (p.state !== 'blocking' || !nics(p.name)) continue;
      out.push(controlFinding('stp-port-blocked', p.name, `${p.name} is blocked by spanning tree on ${br.name}`, [p.name], [], null, null, 1, 'high', { source: 'configuration', setting: `${br.name} port ${p.name} state blocking`, reason: 'state blocking in sysfs' }));
    }
  }
  return out;
}
