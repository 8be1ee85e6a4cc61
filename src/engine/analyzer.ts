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
import type { PacketRecord } from '../capture/record.js';
import type { DecodedFrame } from '../decode/frame.js';
import { formatMac } from '../decode/mac.js';
import {
  type Confidence,
  EVIDENCE_LIMIT,
  EXPLANATION,
  type Finding,
  type FindingKind,
  REMEDIES_FOR,
  SEVERITY,
} from './findings.js';
import { frameIdentity } from './identity.js';
import { MacTable, type MacEntry } from './mac-table.js';
import { PortTable, type PortState } from './ports.js';
import type { Topology } from './topology.js';

export interface AnalyzerOptions {
  /** Sightings of one frame are matched within this window (ns). */
  windowNs: number;
  /** MACs tracked one by one; past it a mac-flood finding, counting goes on. */
  maxMacs: number;
}

export const DEFAULT_OPTIONS: AnalyzerOptions = { windowNs: 2e9, maxMacs: 65536 };

/** Two sightings on the same port further apart than this are two frames, not a frame and its echo. */
const ECHO_LIMIT_NS = 200e6;
/** Xen gives every vif this MAC: never one host. */
const XEN_VIF_MAC = 0xfeffffffffff;
/** A MAC that changed port this often is flapping, not moving. */
const FLAP_MOVES = 4;

const DIR_NONE = 0;
const DIR_IN = 1;
const DIR_OUT = 2;

interface Sighting {
  port: number;
  t: number;
  dir: number;
  input: number;
  frame: number;
}

interface Group {
  key: number;
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

export class Analyzer {
  readonly ports: PortTable;
  readonly macs: MacTable;
  private readonly findings = new Map<string, Finding>();
  private readonly pending = new Map<number, Group>();
  /** Groups in the order their first sighting arrived; settled when the window has passed. */
  private queue: Group[] = [];
  private baseSec = -1;
  private maxT = 0;
  private lastSettle = 0;
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

  /** Nanoseconds since the first frame's second. */
  private time(rec: PacketRecord): number {
    if (this.baseSec < 0) {
      this.baseSec = rec.tsSec;
      this.stats.firstSec = rec.tsSec;
    }
    return (rec.tsSec - this.baseSec) * 1e9 + rec.tsNsec;
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
    port.frames++;
    const dir = rec.direction || f.linkDirection;
    if (dir) port.framesWithDirection++;
    const src = f.src;
    const dst = f.dst;
    // SLL captures have no destination: their outgoing frames may be broadcasts.
    // Sources seen on the host side are noted at once (groups settle only a window later), so
    // unicast to and from them is grouped from the first frame on.
    const role = port.port.role;
    if ((role === 'guest' || role === 'bridge') && !this.hostSideSeen.has(src)) this.hostSideSeen.add(src);
    const interesting =
      f.isBroadcast ||
      f.isMulticast ||
      (dst < 0 && dir === DIR_OUT) ||
      (this.localMacs.size > 0 && (this.localMacs.has(src) || this.localMacs.has(dst))) ||
      (this.hostSideSeen.size > 0 && (this.hostSideSeen.has(src) || this.hostSideSeen.has(dst)));
    if (!interesting) {
      // Unicast between outside hosts: only the table. Without a direction, frames on the uplink came in.
      const d = dir || (role === 'slave' || role === 'bond' || role === 'bridge' ? DIR_IN : role === 'guest' ? DIR_OUT : DIR_NONE);
      this.macs.count(f.vlan, src, port.index, d, rec.origLen, t);
      this.countDir(port, d);
      if (d === DIR_IN && (role === 'bond' || role === 'guest')) this.learn(f.vlan, src, port.index, t, false, rec);
    } else {
      this.sight(rec, f, port, t, dir);
    }
    if (this.maxT - this.lastSettle > 50e6) this.settle(false);
  }

  private countDir(port: PortState, d: number): void {
    if (d === DIR_IN) port.framesIn++;
    else if (d === DIR_OUT) port.framesOut++;
  }

  private sight(rec: PacketRecord, f: DecodedFrame, port: PortState, t: number, dir: number): void {
    const key = frameIdentity(rec.buf, f);
    let g = this.pending.get(key);
    if (g && (g.src !== f.src || t - g.firstT > this.options.windowNs || this.repeatOnPort(g, port.index, t))) g = undefined;
    if (!g) {
      g = { key, src: f.src, dst: f.dst, vlan: f.vlan, group: f.isBroadcast || f.isMulticast, firstT: t, sightings: [] };
      this.pending.set(key, g);
      this.queue.push(g);
      this.stats.groups++;
    }
    if (f.dst >= 0) g.dst = f.dst;
    if (f.isBroadcast || f.isMulticast) g.group = true;
    if (t < g.firstT) g.firstT = t;
    g.sightings.push({ port: port.index, t, dir, input: rec.inputIndex, frame: rec.inputFrame });
  }

  /** A second sighting on a port is an echo only when it follows closely; later, it is a new frame. */
  private repeatOnPort(g: Group, port: number, t: number): boolean {
    for (const s of g.sightings) if (s.port === port && Math.abs(t - s.t) > ECHO_LIMIT_NS) return true;
    return false;
  }

  /** Settles every group whose window has passed (all of them at the end). */
  settle(all: boolean): void {
    this.lastSettle = this.maxT;
    const horizon = all ? Infinity : this.maxT - this.options.windowNs;
    // Groups arrive nearly in time order: take them from the front while they are old enough.
    // (One that arrived late in a dumpcap file waits behind an earlier one: at most a window.)
    const q = this.queue;
    let n = 0;
    while (n < q.length && q[n]!.firstT < horizon) n++;
    if (n === 0) return;
    const ready = q.splice(0, n);
    ready.sort((a, b) => a.firstT - b.firstT);
    for (const g of ready) {
      if (this.pending.get(g.key) === g) this.pending.delete(g.key);
      this.settleGroup(g);
    }
    this.stats.pendingGroups = q.length;
  }

  private role(port: number): string {
    return this.ports.ports[port]!.port.role;
  }

  /** Whether the capture set has any port on the host side of the bond (bridge or guest ports). */
  private seesHostSide(): boolean {
    return this.ports.ports.some((p) => p.port.role === 'bridge' || p.port.role === 'guest');
  }

  private seesBond(): boolean {
    return this.ports.ports.some((p) => p.port.role === 'bond');
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
    // A frame the host sends is flooded to every vif at the same instant; a guest's own frame ties
    // only with its one vif. So several guest ports tied at the first instant mean the host sent it.
    let minT = Infinity;
    for (const x of s) if (x.t < minT) minT = x.t;
    const tiedGuests = new Set(s.filter((x) => x.t === minT && this.role(x.port) === 'guest').map((x) => x.port)).size;
    const local = this.localMacs.has(src) || (tiedGuests >= 2 && !this.guestPorts.has(src));
    s.sort((a, b) => {
      if (a.t !== b.t) return a.t - b.t;
      const ra = this.role(a.port);
      const rb = this.role(b.port);
      if (ra === 'guest' && rb === 'bridge') return local ? 1 : -1;
      if (ra === 'bridge' && rb === 'guest') return local ? -1 : 1;
      return (knownHost ? 1 : -1) * (order[ra]! - order[rb]!);
    });
    const origin = s[0]!;
    const originRole = this.role(origin.port);
    const hostSideCaptured = this.seesHostSide();
    // Where the frame started: on the host side (a guest or the host itself) or outside.
    let fromHost = originRole === 'guest' || originRole === 'bridge';
    if (!fromHost && !hostSideCaptured && (knownHost || isGuestOui(src))) fromHost = true;
    if (originRole === 'guest' && src !== XEN_VIF_MAC && origin.dir !== DIR_OUT) {
      this.guestPorts.set(src, origin.port);
      this.localMacs.delete(src);
    }
    if (originRole === 'bridge' && origin.dir !== DIR_IN && !this.guestPorts.has(src)) this.localMacs.add(src);

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
    let firstUplinkOut: Sighting | null = null;
    const echoes: Sighting[] = [];
    for (const x of s) {
      const role = this.role(x.port);
      let d = x.dir;
      if (d === DIR_NONE) {
        if (!fromHost) d = role === 'guest' ? DIR_OUT : DIR_IN;
        else if (x.port === origin.port) {
          const original = echoesUp === 0;
          d = role === 'bridge' ? (original ? DIR_OUT : DIR_IN) : original ? DIR_IN : DIR_OUT;
        } else if (role === 'bond') d = bondOuts < Math.max(originals, 1) ? DIR_OUT : DIR_IN;
        else if (role === 'slave') {
          if (outSlave < 0) outSlave = x.port;
          d = x.port === outSlave && slaveOuts < Math.max(originals, 1) ? DIR_OUT : DIR_IN;
        } else if (role === 'guest') d = DIR_OUT;
        else if (role === 'bridge') d = DIR_IN;
      }
      if (fromHost && x.port === origin.port && (role === 'guest' ? d === DIR_IN : d === DIR_OUT)) originals++;
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
        echoes.push(x);
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

    if (fromHost && echoes.length) this.onEcho(g, origin, firstUplinkOut, echoes);
    if (!fromHost && !g.group && g.dst >= 0) this.onInboundUnicast(g, origin);
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
    if (onBond.length) confidence = 'high';
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
    if (!f) {
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
      this.findings.set(key, f);
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

  /** Settles everything and returns the findings, most severe first. */
  finish(): Finding[] {
    this.settle(true);
    this.closeMoves();
    this.stats.macsTracked = this.macs.size;
    this.stats.macsDropped = this.macs.dropped;
    this.stats.lastSec = this.baseSec + Math.floor(this.maxT / 1e9);
    if (this.macs.dropped > 0) {
      const f = this.finding('mac-flood', -1, 0, this.maxT, [], [], 'high');
      f.count = this.macs.dropped;
      f.details.tracked = this.macs.size;
    }
    for (const f of this.findings.values()) f.summary = summarize(f, this);
    return this.currentFindings();
  }

  currentFindings(): Finding[] {
    const rank = { error: 0, warning: 1, info: 2 };
    return [...this.findings.values()].sort((a, b) => rank[a.severity] - rank[b.severity] || b.count - a.count);
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

  /** Cheap view for a UI redraw: counters, the MACs involved in findings first, the findings so far. */
  snapshot(): { ports: PortState[]; findings: Finding[]; stats: AnalysisStats } {
    return { ports: this.ports.ports, findings: this.currentFindings(), stats: this.stats };
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
      return `frames from the host's own ${mac}${vlan} arrived on ${f.interfaces.join(', ')} ${n}`;
    case 'wrong-port-learning': {
      const guest = a.guestPorts.get(f.mac);
      const where = guest !== undefined ? a.ports.ports[guest]!.port.name : 'its port';
      const bond = f.interfaces.find((p) => a.ports.get(p)?.port.role === 'bond') ?? 'the bond';
      const lasted = f.details.longestWrongMs !== undefined ? `; the wrong entry lasted up to ${f.details.longestWrongMs} ms` : '';
      const still = f.details.wrongAtEnd ? '; still wrong when the capture ended' : '';
      return `the bridge learned guest ${mac}${vlan} on ${bond} instead of ${where} ${n}${lasted}${still}`;
    }
    case 'blackholed-unicast':
      return `${n} unicast for guest ${mac}${vlan} arrived on ${f.interfaces[0]} and never reached ${f.interfaces[1]}`;
    case 'mac-flap':
      return `${mac}${vlan} moved between ${f.interfaces.join(', ')} ${f.details.moves} times`;
    case 'mac-move':
      return `${mac}${vlan} moved once from ${f.details.from} to ${f.details.to} and stayed`;
    case 'mac-flood':
      return `more than ${f.details.tracked} source MACs: ${f.count} not tracked one by one`;
    default:
      // Kinds whose summary is written where they are found (configuration, control-plane checks).
      return f.summary;
  }
}
