/**
 * From the engine's state to the UI's snapshot, once per redraw (never per frame). The engine
 * keeps counters and findings; what the screen shows over time — the timeline of events, looped
 * frames per second — is made here by comparing each state with the one before. MAC rows are
 * rebuilt only for entries that changed since the last snapshot.
 */
import type { Analyzer } from '../engine/analyzer.js';
import { type Finding, findingIdentity, REMEDIES } from '../engine/findings.js';
import { type MacEntry, PC_IN, PC_OUT, PC_UNKNOWN } from '../engine/mac-table.js';
import type { PortState } from '../engine/ports.js';
import type { PortRole } from '../model/topology.js';
import { formatMac } from '../model/mac.js';
import { vendorOf } from '../report/vendor.js';
import type { UiBond, UiBridge, UiEvent, UiFinding, UiMacRow, UiSnapshot, UiTopology, UiVerdict } from './model.js';
import type { PipelineStatus } from './pipeline.js';
import { summaryOf } from '../report/analysis.js';
import { type Verdict, verdictOf } from '../engine/verdict.js';

/** Events kept in the timeline; older ones fall off the front. */
export const TIMELINE_LIMIT = 2000;
/** Seconds of looped-frames-per-second history kept for the sparkline. */
export const LOOP_HISTORY = 600;
/** Live and replay: a finding not seen for this long (capture time) has stopped. */
export const FINDING_QUIET_SEC = 5;

const macKeyOf = (vlan: number, mac: number): string => `${vlan}|${mac}`;

/** A row and what it was made from: rebuilt only when one of these changed. */
interface RowCache {
  last: number;
  learnedOn: number;
  wrongSince: number;
  looped: number;
  own: number;
  wrongFinding: boolean;
  home: number;
  local: boolean;
  ports: number;
  row: UiMacRow;
}

interface FindingState {
  count: number;
  active: boolean;
}

export class AnalysisView {
  private rows = new WeakMap<MacEntry, RowCache>();
  private moves = new WeakMap<MacEntry, number>();
  private findingsSeen = new Map<string, FindingState>();
  private timeline: UiEvent[] = [];
  /** Looped frames per second of capture time; index 0 is second `loopBase`. */
  private looped: number[] = [];
  private loopBase = -1;
  private readonly loopedCounts = new Map<string, number>();
  private lastNow = 0;

  /** `inputs`: the capture files as given, for evidence ("loop.pcapng frames 12, 15"). */
  constructor(private readonly inputs: readonly string[]) {}

  snapshot(a: Analyzer, st: PipelineStatus): UiSnapshot {
    const { ports, findings } = a.snapshot();
    const baseSec = a.stats.firstSec;
    const now = st.now;
    const byMac = new Map<string, Finding[]>();
    for (const f of findings) {
      const k = macKeyOf(f.vlan, f.mac);
      const list = byMac.get(k);
      if (list) list.push(f);
      else byMac.set(k, [f]);
    }

    const macs: UiMacRow[] = [];
    for (const e of a.macs.entries()) {
      // What the bridge learned is kept where its forwarding database keys it (per MAC on a bridge that is not VLAN-aware).
      const learned = a.learningOf(e);
      const own = byMac.size ? byMac.get(macKeyOf(e.vlan, e.mac)) : undefined;
      const fdb = learned !== e && byMac.size ? byMac.get(macKeyOf(learned.vlan, e.mac))?.filter((f) => f.kind === 'wrong-port-learning') : undefined;
      macs.push(this.row(a, e, learned, ports, fdb?.length ? [...(own ?? []), ...fdb] : own));
      if (e.moves) this.noteMove(a, e, ports);
    }

    const uiFindings = findings.map((f) => this.finding(f, st));
    this.noteFindings(a, findings, uiFindings, st);
    this.noteKernel(a, st);
    this.noteCapture(st);
    this.noteLooped(findings, baseSec, now);

    return {
      title: st.title,
      mode: st.mode,
      state: st.state,
      frames: st.frames,
      now,
      topology: topologyOf(a),
      interfaces: st.interfaces.map((i) => ({ ...i, role: i.role ?? a.ports.get(i.name)?.port.role ?? 'unknown' })),
      macs,
      findings: uiFindings,
      timeline: this.timeline,
      loopedPerSecond: this.looped.slice(),
      messages: st.messages,
      drops: st.drops ?? null,
      verdict: st.frames > 0 ? uiVerdict(verdictOf(a, findings)) : null,
    };
  }

  /** Between snapshots, once per second of capture time: keeps looped frames per second exact. */
  sample(a: Analyzer, now: number): void {
    this.noteLooped(a.currentFindings(), a.stats.firstSec, now);
  }

  private row(a: Analyzer, e: MacEntry, learned: MacEntry, ports: PortState[], findings: Finding[] | undefined): UiMacRow {
    let looped = 0;
    let own = 0;
    let wrongFinding = false;
    if (findings) {
      for (const f of findings) {
        if (f.kind === 'looped-broadcast') looped = f.count;
        else if (f.kind === 'own-address') own = f.count;
        else if (f.kind === 'wrong-port-learning') wrongFinding = true;
      }
    }
    const home = a.guestPorts.get(e.mac) ?? -1;
    const local = a.localMacs.has(e.mac);
    const c = this.rows.get(e);
    if (
      c &&
      c.last === e.last &&
      c.learnedOn === learned.learnedOn &&
      c.wrongSince === learned.wrongSince &&
      c.looped === looped &&
      c.own === own &&
      c.wrongFinding === wrongFinding &&
      c.home === home &&
      c.local === local &&
      c.ports === e.ports.size
    ) {
      return c.row;
    }
    const row: UiMacRow = {
      vlan: e.vlan,
      mac: e.mac,
      vendor: vendorOf(e.mac),
      ports: [...e.ports].map(([i, n]) => ({ port: ports[i]!.port.name, inFrames: n[PC_IN]!, outFrames: n[PC_OUT]!, unknownFrames: n[PC_UNKNOWN]! })),
      learnedOn: learned.learnedOn >= 0 ? ports[learned.learnedOn]!.port.name : null,
      home: home >= 0 ? ports[home]!.port.name : local ? 'host' : null,
      wrongPort: wrongFinding || learned.wrongSince >= 0,
      wrongNow: learned.wrongSince >= 0,
      loopedFrames: looped,
      ownAddressFrames: own,
      lastSeen: e.last >= 0 ? a.wallTime(e.last) : 0,
    };
    this.rows.set(e, { last: e.last, learnedOn: learned.learnedOn, wrongSince: learned.wrongSince, looped, own, wrongFinding, home, local, ports: e.ports.size, row });
    return row;
  }

  /** A change of learned port since the last snapshot is an FDB move on the timeline. */
  private noteMove(a: Analyzer, e: MacEntry, ports: PortState[]): void {
    const before = this.moves.get(e) ?? 0;
    if (e.moves === before) return;
    this.moves.set(e, e.moves);
    const m = e.lastMove;
    if (!m) return;
    const more = e.moves - before - 1;
    const echo = m.byEcho && a.guestPorts.has(e.mac);
    this.add({
      time: a.wallTime(m.t),
      kind: 'fdb-move',
      severity: echo ? 'warning' : 'info',
      text: `${formatMac(e.mac)}${e.vlan ? ` vlan ${e.vlan}` : ''} learned on ${ports[m.to]!.port.name} (was ${ports[m.from]!.port.name})${echo ? ' by an echo' : ''}${more > 0 ? `; ${more} more move${more === 1 ? '' : 's'} before` : ''}`,
    });
  }

  private finding(f: Finding, st: PipelineStatus): UiFinding {
    const last = f.lastSec + f.lastNsec / 1e9;
    const evidence: string[] = [];
    if (f.interfaces.length) evidence.push(`path: ${f.interfaces.join(' → ')}`);
    this.inputs.forEach((name, index) => {
      const frames = f.evidence.filter((e) => e.input === index).map((e) => e.frame).sort((a, b) => a - b);
      if (frames.length) evidence.push(`${name} frame${frames.length === 1 ? '' : 's'} ${frames.slice(0, 12).join(', ')}${frames.length > 12 ? `, … (${frames.length} listed)` : ''}`);
    });
    // The first occurrence as the engine placed its frames (never worked out here).
    const tagged = f.evidence.filter((e) => e.role !== undefined);
    const first = tagged.filter((e) => e.occurrence === tagged[0]?.occurrence);
    if (first.length > 1) evidence.push(`first: ${first.map((e) => `${e.port ?? '?'} ${e.role} (${e.frame})`).join(' → ')}`);
    evidence.push(`${f.count} occurrence${f.count === 1 ? '' : 's'}, confidence ${f.confidence}`);
    for (const [k, v] of Object.entries(f.details)) evidence.push(`${k}: ${v}`);
    return {
      id: findingIdentity(f),
      kind: f.kind,
      severity: f.severity,
      summary: summaryOf(f),
      explanation: f.explanation,
      remedies: f.remedies.map((r) => REMEDIES[r]),
      evidence,
      first: f.firstSec + f.firstNsec / 1e9,
      last,
      active: st.mode !== 'browse' && st.state !== 'done' && st.now - last < FINDING_QUIET_SEC,
    };
  }

  /** Findings starting and stopping, and the kernel's own-address warnings, on the timeline. */
  private noteFindings(a: Analyzer, findings: Finding[], ui: UiFinding[], st: PipelineStatus): void {
    // Stopping means something only while frames come in as they happened (live, replay).
    const timed = st.mode !== 'browse' && st.state !== 'done';
    findings.forEach((f, i) => {
      const u = ui[i]!;
      const prev = this.findingsSeen.get(u.id);
      const what = `${f.kind}${f.mac >= 0 ? ` ${formatMac(f.mac)}` : ''}${f.vlan ? ` vlan ${f.vlan}` : ''}`;
      if (!prev) this.add({ time: u.first, kind: 'finding-start', severity: f.severity, text: what });
      else if (timed && !prev.active && u.active) this.add({ time: u.last, kind: 'finding-start', severity: f.severity, text: `${what} again` });
      else if (timed && prev.active && !u.active) this.add({ time: u.last, kind: 'finding-stop', severity: 'info', text: `${what}: not seen for ${FINDING_QUIET_SEC} s` });
      // Live mode reads the kernel's real log lines (noteKernel); files get the lines it would log.
      if (f.kind === 'own-address' && a.kernelNotes.length === 0 && f.count > (prev?.count ?? 0)) {
        // What the kernel logs for each of these frames (one line per batch, with the count).
        const n = f.count - (prev?.count ?? 0);
        this.add({
          time: u.last,
          kind: 'kernel-warning',
          severity: 'warning',
          text: `${bridgeName(a)}: received packet on ${f.interfaces[0] ?? 'the bond'} with own address as source address (addr:${formatMac(f.mac)}, vlan:${f.vlan})${n > 1 ? ` ×${n}` : ''}`,
        });
      }
      this.findingsSeen.set(u.id, { count: f.count, active: timed ? u.active : true });
    });
  }

  private kernelSeen = 0;
  private captureSeen = 0;

  /** Live: interfaces appearing and going, on the timeline at their wall time. */
  private noteCapture(st: PipelineStatus): void {
    const events = st.captureEvents ?? [];
    for (; this.captureSeen < events.length; this.captureSeen++) {
      const e = events[this.captureSeen]!;
      this.add({ time: e.time, kind: 'capture', severity: 'info', text: e.text });
    }
  }

  /** The kernel's own log lines (live /dev/kmsg): own-address warnings, failovers, slave links. */
  private noteKernel(a: Analyzer, st: PipelineStatus): void {
    const notes = a.kernelNotes;
    for (; this.kernelSeen < notes.length; this.kernelSeen++) {
      const n = notes[this.kernelSeen]!;
      const kind = n.kind === 'own-address' ? 'kernel-warning' : n.kind === 'failover' ? 'failover' : 'kernel-link';
      this.add({ time: n.time ?? st.now, kind, severity: n.kind === 'link-up' ? 'info' : 'warning', text: n.text });
    }
  }

  /**
   * Looped frames per second: what each looped-broadcast finding's count grew by since the last
   * snapshot, spread evenly over the capture seconds in which it can have happened — after the
   * last snapshot and within the finding's first and last time (reading a file, one snapshot can
   * span many seconds).
   */
  private noteLooped(findings: Finding[], firstSec: number, now: number): void {
    const sec = Math.floor(now);
    if (sec <= 0) return;
    if (this.loopBase < 0) this.loopBase = firstSec > 0 ? firstSec : sec;
    // Only the last LOOP_HISTORY seconds are kept: a clock that jumps (one frame stamped in 2106)
    // starts the history afresh instead of filling the gap one second at a time.
    if (sec - this.loopBase - this.looped.length >= LOOP_HISTORY) {
      this.loopBase = sec - LOOP_HISTORY + 1;
      this.looped.length = 0;
    }
    while (this.loopBase + this.looped.length <= sec) this.looped.push(0);
    const since = Math.floor(this.lastNow);
    for (const f of findings) {
      if (f.kind !== 'looped-broadcast') continue;
      const id = `${f.mac}|${f.vlan}`;
      const delta = f.count - (this.loopedCounts.get(id) ?? 0);
      this.loopedCounts.set(id, f.count);
      if (delta <= 0) continue;
      const to = Math.min(sec, f.lastSec);
      const from = Math.min(to, Math.max(this.loopBase, since, f.firstSec));
      if (to < this.loopBase) continue; // before the history kept (the clock went back)
      for (let s = from; s <= to; s++) this.looped[s - this.loopBase]! += delta / (to - from + 1);
    }
    this.lastNow = now;
    if (this.looped.length > LOOP_HISTORY) {
      const cut = this.looped.length - LOOP_HISTORY;
      this.looped.splice(0, cut);
      this.loopBase += cut;
    }
  }

  /** Inserts in time order (events are found per slice, not always in capture order). */
  private add(e: UiEvent): void {
    const t = this.timeline;
    let i = t.length;
    while (i > 0 && t[i - 1]!.time > e.time) i--;
    // A new array, so a snapshot already handed to the view stays as it was.
    this.timeline = [...t.slice(0, i), e, ...t.slice(i)];
    if (this.timeline.length > TIMELINE_LIMIT) this.timeline = this.timeline.slice(-TIMELINE_LIMIT);
  }
}

function bridgeName(a: Analyzer): string {
  return a.topology.bridges[0]?.name ?? a.ports.ports.find((p) => p.port.role === 'bridge')?.port.name ?? 'bridge';
}

/**
 * Bonds and bridges as the engine understands them: from flags or a recorded topology when given,
 * else from the roles of the ports it saw (a port named like a bond, its slaves, the bridge).
 */
export function topologyOf(a: Analyzer): UiTopology {
  const ports = a.ports.ports.map((p) => p.port);
  const named = (role: PortRole): string[] => ports.filter((p) => p.role === role).map((p) => p.name);
  const bonds: UiBond[] = a.topology.bonds.length
    ? a.topology.bonds.map((b) => ({
        name: b.name,
        mode: b.mode,
        slaves: b.slaves.map((s) => ({ name: s.name, active: b.activeSlave === s.name, linkUp: s.linkUp })),
      }))
    : named('bond').map((name, _i, all) => ({
        name,
        mode: null,
        slaves: ports
          .filter((p) => p.role === 'slave' && (p.bond === name || (p.bond === null && all.length === 1)))
          .map((p) => ({ name: p.name, active: false, linkUp: null })),
      }));
  let bridges: UiBridge[];
  if (a.topology.bridges.length) {
    bridges = a.topology.bridges.map((br) => ({
      name: br.name,
      ports: br.ports.map((p) => ({ name: p.name, role: a.topology.ports.get(p.name)?.role ?? 'unknown', state: p.state })),
    }));
  } else {
    // The bridge's ports are the bonds and the guests' ports that were captured.
    const members = ports.filter((p) => p.role === 'bond' || p.role === 'guest').map((p) => ({ name: p.name, role: p.role, state: null }));
    const names = named('bridge');
    bridges = members.length || names.length ? [{ name: names[0] ?? '(bridge)', ports: members }] : [];
  }
  const assumed = ports.filter((p) => p.roleSource === 'name' || p.roleSource === 'inferred' || p.roleSource === 'none').map((p) => `${p.name}: ${p.role}, ${p.reason}`);
  return { bonds, bridges, assumed };
}

/** The engine's verdict as the header shows it (worded by the engine, never decided here). */
function uiVerdict(v: Verdict): UiVerdict {
  return { state: v.state, line: v.line, hurt: v.hurt.map((h) => h.short), remedy: v.remedy?.text ?? null, tell: v.wouldTell[0] ?? null };
}
