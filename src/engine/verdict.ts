/**
 * The answer first: does this host loop, which guests does it hurt, and what to do here. One of
 *
 *  - loops: frames the host side sent came back up the bond (a looped broadcast, or a guest the
 *    bridge learned behind the bond), seen at high confidence;
 *  - does not loop, in what these captures show: an echo could have been seen (two slaves, or the
 *    bond with the host side), frames left the host while it could, and none came back up;
 *  - cannot tell: what is missing, and the capture or flag that would tell.
 *
 * Computed here, once, from the findings, what the capture set can show (capabilities.ts'
 * Provable: the one interface "cannot tell" is decided through) and what the uplink did
 * (uplink.ts); worded here with the host's own names. The text report, the JSON (`verdict`), the
 * terminal UI's header and report.md print it; none of them decides anything again.
 *
 * Hurt guests: each guest the bridge learned behind the bond, with its port, how long within the
 * capture it was unreachable from outside (the time the bridge had it on the bond: details.wrongMs
 * of its wrong-port-learning finding, whether it still was at the end) and the share of its
 * unicast from outside that never reached it (blackholed-unicast, where its port was captured).
 *
 * The remedy: the one that fits this host — by its bond's mode and settings where the host's
 * configuration is known (live, check, a recorded topology), by what the frames show otherwise
 * (one slave sending: active-backup that passes up its backup slave's frames; several: a
 * load-balancing mode) and by the switches' behaviour (two LACP partners, none) — then the
 * generic list.
 */
import type { Analyzer } from './analyzer.js';
import { type Provable, provable as provableOf } from './capabilities.js';
import { type Finding, REMEDIES, type RemedyId } from './findings.js';
import { formatMac } from '../model/mac.js';
import { duration } from './detectors/wording.js';

export type VerdictState = 'loops' | 'does-not-loop' | 'cannot-tell';

/** A bond as the verdict needs it: mode and settings when the host's configuration is known. */
export interface VerdictBond {
  name: string;
  mode: string | null;
  allSlavesActive: boolean | null;
  kind: 'linux' | 'ovs';
  slaves: string[];
}

/** What the uplink did, in plain numbers and names (from uplink.ts). */
export interface UplinkFacts {
  /** Frames the host side sent out while an echo of them could have been seen. */
  outbound: number;
  /** Slaves the host side's frames left by, with how many. */
  outBy: { slave: string; frames: number }[];
  failovers: { at: number; from: string; to: string }[];
  /** The first frame that came back; the first and last broadcast before it that left and did not (seconds since the epoch). */
  firstLoopAt: number | null;
  /** The capture shows the loop beginning: several broadcasts left and did not come back before the first that did. */
  loopBeganLate: boolean;
  firstCleanAt: number | null;
  lastCleanAt: number | null;
  /** Echoes the switches sent back that the bond, captured, did not pass up. */
  echoesDropped: number;
  droppedOn: string | null;
  droppedBy: string | null;
  /** Echoes of which nothing reached the bridge, the bond not captured then (echo-fate.ts E3). */
  echoesKeptOut: number;
  /** Echoes whose fate nothing captured then showed (E4): the reflections. */
  echoesUnsettled: number;
  /** Some echo was seen going up, dropped or kept out (uplink.ts echoFateSeen): the unsettled ones settle nothing. */
  echoFateSeen: boolean;
}

/** A guest's time on the bond so far (the numbers of details.wrongMs and its neighbours). */
export interface LearningNow {
  wrongMs: number;
  sinceFirstMs: number;
  atEnd: boolean;
  longestRightMs: number;
  rightAtEndForMs: number;
}

export interface VerdictInput {
  findings: readonly Finding[];
  provable: Provable;
  bonds: VerdictBond[];
  /** Whether the bonds' configuration was read from the host (live, check, a recorded topology, --ovs). */
  configured: boolean;
  uplink: UplinkFacts;
  /** A guest's own port (the tap, vif or vnet of its chain), null when not known. */
  guestPort(mac: number): string | null;
  /** How long a wrong-port-learning finding's guest was on the bond: its details at the end, the MAC table's state while frames still come (live). */
  learning(f: Finding): LearningNow;
  /** The capture: first and last frame, seconds since the epoch. */
  first: number;
  last: number;
  /** Captured interfaces that carried no frame. */
  silent: string[];
  /** Of those, the ones in an input cut short: their frames may all have come after the cut. */
  silentCut: string[];
  /** Bonding failovers the kernel logged (live, --kernel-log). */
  kernelFailovers: { at: number | null; text: string }[];
}

export interface HurtGuest {
  mac: string;
  vlan: number;
  /** The guest's own port, null when not known. */
  port: string | null;
  /** Where the bridge had it instead. */
  on: string;
  /** When the bridge first had it there (seconds since the epoch). */
  since: number;
  /** Time within the capture the bridge had it on the bond, and the time from `since` to the end of the capture. */
  wrongMs: number;
  sinceFirstMs: number;
  atEnd: boolean;
  /** It was reachable again for a while in between (not only the microseconds between its own frame and the echo). */
  intermittent: boolean;
  /** Unicast for it from outside while its port was captured, and how much never reached it; null where not shown. */
  unicast: { arrived: number; lost: number } | null;
  /** The line the sinks print, and its short form (the terminal UI's header). */
  line: string;
  short: string;
}

export interface Verdict {
  state: VerdictState;
  /** The verdict line: the answer and its reason, with the host's names. */
  line: string;
  /** For cannot-tell: what capture or flag would tell. For the others: what would change the answer, or the limits of what was shown. */
  wouldTell: string[];
  /** When the loop began, where the capture shows it began during the capture (seconds since the epoch). */
  loopStarted: { after: number; by: number } | null;
  hurt: HurtGuest[];
  /** The one remedy that fits this host, and why it fits; null when nothing is to be done (or nothing is known). */
  remedy: { id: RemedyId; text: string; why: string } | null;
  /** The generic list after it: every other remedy the findings name. */
  otherRemedies: RemedyId[];
  /** What else the capture shows about the uplink: failovers, a slave that carried nothing, echoes the bond dropped. */
  notes: string[];
}

/** The kinds that prove the loop when seen at high confidence: an echo that came back up the bond. */
const LOOP_KINDS = new Set(['looped-broadcast', 'wrong-port-learning']);
/** Echoes seen where the captures cannot show whether the bond passed them up (reflections.ts). */
const UNSETTLED_KINDS = new Set(['switch-reflection', 'echo-or-repeat']);
/** A guest reachable again for this long between echoes was reachable for a while… */
const INTERMITTENT_MS = 100;
/** …and intermittently so when the bridge had it on the bond for less than this share of the time. */
const INTERMITTENT_SHARE = 0.9;

/** The verdict of an analysis: the engine's state, what the capture set can show (by default, from its ports today). */
export function verdictOf(a: Analyzer, findings: readonly Finding[], pv: Provable = provableOf(a.ports.ports)): Verdict {
  return decide(verdictInput(a, findings, pv));
}

/** What the verdict is computed from, read off the engine. */
export function verdictInput(a: Analyzer, findings: readonly Finding[], pv: Provable): VerdictInput {
  const name = (port: number): string => a.ports.ports[port]?.port.name ?? '?';
  const w = (t: number): number => a.wallTime(t);
  const u = a.uplink;
  const bonds: VerdictBond[] = a.topology.bonds.map((b) => ({ name: b.name, mode: b.mode, allSlavesActive: b.allSlavesActive, kind: b.kind ?? 'linux', slaves: b.slaves.map((s) => s.name) }));
  return {
    findings,
    provable: pv,
    bonds,
    configured: a.topology.bonds.some((b) => b.mode !== null),
    uplink: {
      outbound: u.outbound,
      outBy: [...u.outBy].map(([p, frames]) => ({ slave: name(p), frames })),
      failovers: u.failovers().map((f) => ({ at: w(f.t), from: name(f.from), to: name(f.to) })),
      firstLoopAt: u.firstLoopT >= 0 ? w(u.firstLoopT) : null,
      loopBeganLate: u.loopBeganLate(),
      firstCleanAt: u.firstCleanT >= 0 ? w(u.firstCleanT) : null,
      lastCleanAt: u.lastCleanT >= 0 ? w(u.lastCleanT) : null,
      echoesDropped: u.echoesDropped,
      droppedOn: u.droppedOn >= 0 ? name(u.droppedOn) : null,
      droppedBy: u.droppedBy >= 0 ? name(u.droppedBy) : null,
      echoesKeptOut: u.echoesKeptOut,
      echoesUnsettled: u.echoesUnsettled,
      echoFateSeen: u.echoFateSeen(),
    },
    guestPort: (mac) => a.guestPortName(mac),
    learning: (f) => {
      const d = f.details;
      if (d.wrongMs !== undefined) return { wrongMs: Number(d.wrongMs), sinceFirstMs: Number(d.sinceFirstMs ?? d.wrongMs), atEnd: d.wrongAtEnd === 'yes', longestRightMs: Number(d.longestRightMs ?? 0), rightAtEndForMs: Number(d.rightAtEndForMs ?? 0) };
      // Not settled yet (live, a file still being read): from the MAC table as it stands.
      const e = a.macs.peek(f.vlan, f.mac);
      const now = a.latestT;
      const open = e && e.wrongSince >= 0 ? (now - e.wrongSince) / 1e6 : 0;
      return {
        wrongMs: Number(d.totalWrongMs ?? 0) + open,
        sinceFirstMs: e && e.firstWrong >= 0 ? (now - e.firstWrong) / 1e6 : Number(d.totalWrongMs ?? 0) + open,
        atEnd: !!e && e.wrongSince >= 0,
        longestRightMs: Number(d.longestRightMs ?? 0),
        rightAtEndForMs: e && e.wrongSince < 0 && e.rightSince >= 0 ? (now - e.rightSince) / 1e6 : 0,
      };
    },
    first: a.stats.firstSec > 0 ? a.wallTime(a.firstT()) : 0,
    last: a.wallTime(a.latestT),
    silent: a.ports.ports.filter((p) => p.frames === 0 && !(p.input >= 0 && a.inputCutShort(p.input))).map((p) => p.port.name),
    silentCut: a.ports.ports.filter((p) => p.frames === 0 && p.input >= 0 && a.inputCutShort(p.input)).map((p) => p.port.name),
    kernelFailovers: a.kernelNotes.filter((n) => n.kind === 'failover').map((n) => ({ at: n.time, text: n.text })),
  };
}

/** "23:37:19.726" (UTC). */
function clock(sec: number): string {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? `${sec.toFixed(3)} s` : d.toISOString().slice(11, 23);
}

const list = (xs: string[]): string => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

export function decide(v: VerdictInput): Verdict {
  const loopFindings = v.findings.filter((f) => LOOP_KINDS.has(f.kind) && f.details.basis !== 'configuration');
  const proven = loopFindings.filter((f) => f.confidence === 'high');
  // Reflections (echoes whose fate no capture of their moment showed) leave the answer open only
  // where no echo's fate was seen (uplink.ts echoFateSeen; the engine then leaves them out).
  const unsettled = v.findings.filter((f) => UNSETTLED_KINDS.has(f.kind) && !(f.kind === 'switch-reflection' && v.uplink.echoFateSeen));
  const pv = v.provable;
  const bondName = pv.bond[0] ?? v.bonds[0]?.name ?? 'the bond';
  const wouldTell: string[] = [];
  let notes: string[] = [];
  let state: VerdictState;
  let line: string;
  let loopStarted: Verdict['loopStarted'] = null;

  if (proven.length) {
    state = 'loops';
    const looped = proven.filter((f) => f.kind === 'looped-broadcast');
    const times = looped.reduce((n, f) => n + f.count, 0);
    const path = loopPath(looped.length ? looped : proven);
    const delays = looped.map((f) => Number(f.details.loopDelayUs)).filter((d) => Number.isFinite(d));
    const u = v.uplink;
    if (u.loopBeganLate && u.firstLoopAt !== null && u.lastCleanAt !== null && u.lastCleanAt < u.firstLoopAt) loopStarted = { after: u.lastCleanAt, by: u.firstLoopAt };
    const when = loopStarted
      ? `from ${clock(loopStarted.by)} UTC (it began after ${clock(loopStarted.after)}: broadcasts before that left and did not come back)`
      : 'from the start of the capture';
    line =
      `LOOPS: ${path ? `frames the host side sends out of ${path.out} come back in on ${path.back} and up ${path.bond}` : `frames the host side sends come back up ${bondName}`}` +
      `${times ? ` (${times} looped broadcast${times === 1 ? '' : 's'}` : ' ('}${delays.length ? `${times ? ', ' : ''}loop delay ${Math.min(...delays)} µs` : ''}${times || delays.length ? ', ' : ''}${when})`;
  } else if (loopFindings.length || unsettled.length) {
    // Echoes seen where the captures cannot show whether the bond passed them up (loop findings at
    // lower confidence, the slaves' reflection, the bond's copy out and in again): never a loop
    // from that alone, and never "does not loop" either — the full capture could show either.
    state = 'cannot-tell';
    const f = (loopFindings[0] ?? unsettled[0])!;
    line =
      f.kind === 'echo-or-repeat'
        ? `CANNOT TELL: frames went out of ${bondName} and came back in on it (${f.count} time${f.count === 1 ? '' : 's'}), but whether that is an echo or the sender repeating itself is not in a capture of ${bondName} alone`
        : `CANNOT TELL: the switches flood the host's broadcasts back (${f.interfaces.join(' → ')}), but whether ${bondName} passes them up to the bridge is not in these captures`;
    // What would settle it: the bond's view of the echo, beside the slaves it came back on.
    wouldTell.push(
      f.kind === 'echo-or-repeat'
        ? `capture ${bondName}'s slaves and the bridge beside it: an echo comes back in on a slave before it goes up ${bondName}, a repeat does not`
        : pv.bond.includes(bondName)
          ? `capture ${bondName} for as long as its slaves (here its capture had ended, or not begun, when these echoes came back): an echo going up it is the loop, none is no loop`
          : `capture ${bondName} as well (beside its slaves and the bridge): an echo going up it is the loop, none is no loop`,
    );
    if (f.kind === 'switch-reflection') wouldTell.push(`or read the bond's mode and all_slaves_active on the host: \`bondscope check\` (an active-backup bond that drops what its backup slave receives does not loop)`);
  } else {
    const missing = cannotTellBecause(v);
    if (missing.length) {
      state = 'cannot-tell';
      line = `CANNOT TELL: ${missing[0]!.why}`;
      for (const m of missing) wouldTell.push(m.tell);
    } else {
      state = 'does-not-loop';
      const via = pv.slaves.length >= 2 ? `back in on ${list(pv.slaves)}` : `up ${bondName}`;
      // No bond (both NICs in the bridge, as with STP): nothing to come up; an echo would go straight into the bridge.
      const back = pv.bond.length ? `none came back up ${bondName}` : 'none was seen coming back into the bridge';
      line = `DOES NOT LOOP in these captures: ${v.uplink.outbound} frame${v.uplink.outbound === 1 ? '' : 's'} the host side sent left while an echo could be seen (${via}), and ${back}`;
      if (pv.unknown.length) wouldTell.push(`the role of ${list(pv.unknown)} is not known: name ${pv.unknown.length === 1 ? 'it' : 'them'} with --bond/--bridge to be sure none is a slave an echo came back on`);
      wouldTell.push('a loop that starts later (after a switch reboot, a failover, a configuration change) is not in these frames: `bondscope monitor` watches for it');
    }
  }

  notes = uplinkNotes(v, state, loopStarted);
  const hurt = state === 'loops' ? hurtGuests(v) : [];
  const remedy = state === 'loops' ? remedyFor(v, proven) : state === 'does-not-loop' ? configRemedy(v) : null;
  const all = [...new Set(v.findings.flatMap((f) => f.remedies))].filter((r) => r !== 'none-needed' || state !== 'loops');
  return {
    state,
    line,
    wouldTell,
    loopStarted,
    hurt,
    remedy,
    otherRemedies: all.filter((r) => r !== remedy?.id),
    notes,
  };
}

/** The path of the first occurrence of the most frequent looped frame: out, back, up. */
function loopPath(fs: readonly Finding[]): { out: string; back: string; bond: string } | null {
  const f = [...fs].sort((a, b) => b.count - a.count)[0];
  if (!f) return null;
  const tagged = f.evidence.filter((e) => e.occurrence === 1 && !e.ofState);
  const out = tagged.find((e) => e.role === 'out' && e.port && tagged.some((x) => x.role === 'echo'))?.port;
  const back = tagged.find((e) => e.role === 'echo')?.port;
  const bond = tagged.find((e) => e.role === 'up-the-bond')?.port;
  if (!back || !bond) return null;
  // The slave it left by: the out copy on a slave (the one before the echo), not the bond's.
  const outSlave = tagged.filter((e) => e.role === 'out' && e.port !== bond).map((e) => e.port!).pop() ?? out;
  return outSlave ? { out: outSlave, back, bond } : null;
}

/** Why the captures cannot tell, each with what would. */
function cannotTellBecause(v: VerdictInput): { why: string; tell: string }[] {
  const pv = v.provable;
  const out: { why: string; tell: string }[] = [];
  const bond = pv.bond[0] ?? v.bonds[0]?.name ?? 'the bond';
  const slavesNamed = v.bonds[0]?.slaves.length ? v.bonds[0].slaves : pv.slaves;
  const dumpcap = (ifaces: string[]): string => `dumpcap ${ifaces.map((i) => `-i ${i}`).join(' ')} -w host.pcapng`;
  const allPorts = [...new Set([...slavesNamed, ...pv.bond, ...pv.bridge, ...pv.guestPorts])];
  if (pv.merged.length) out.push({ why: `${list(pv.merged)} holds the frames of several capture points merged into one interface: which port saw each frame cannot be told`, tell: 'analyse the per-interface files, or merge them with one interface per port: `mergecap -I none -w host.pcapng FILE...`' });
  if (!pv.echoVisible) {
    if (pv.slaves.length === 1 && !pv.bond.length) out.push({ why: `only one slave (${pv.slaves[0]}) was captured: a frame leaving by it and coming back by another cannot be seen`, tell: `capture every slave and the bond at once: ${dumpcap(allPorts.length > 1 ? allPorts : [...pv.slaves, 'OTHER-SLAVE', 'BOND'])}` });
    else if (pv.bond.length && !pv.bridge.length && !pv.guestPorts.length) out.push({ why: `only ${bond} was captured, neither its slaves nor the host side: an echo cannot be told from a frame the host sent again`, tell: `capture ${bond}'s slaves and the bridge too: ${dumpcap(allPorts)}` });
    else if (!pv.slaves.length && !pv.bond.length) out.push({ why: 'no slave and no bond was captured: the uplink, where an echo comes back, is not in these captures', tell: `capture the bond and its slaves beside the host side: ${dumpcap(allPorts.length ? allPorts : ['SLAVE1', 'SLAVE2', 'BOND', 'BRIDGE'])}` });
    else out.push({ why: 'these captures hold no way back for an echo: neither two slaves nor the bond with the host side', tell: `capture every slave, the bond and the bridge at once: ${dumpcap(allPorts)}` });
  }
  if (pv.unknown.length && !pv.echoVisible) out.push({ why: `the role of ${list(pv.unknown)} is not known`, tell: `name the ports: --bond BOND=SLAVE,SLAVE --bridge BRIDGE=BOND,GUESTPORT (or --links FILE for an -i any capture)` });
  if (pv.echoVisible && v.uplink.outbound === 0) out.push({ why: 'no frame from the host side left by the uplink while an echo of it could have been seen', tell: `capture while the host or a guest sends broadcasts (ARP, DHCP, IPv6 neighbour discovery), or send one: \`bondscope probe --bond ${bond}\`` });
  return out;
}

function hurtGuests(v: VerdictInput): HurtGuest[] {
  const out: HurtGuest[] = [];
  for (const f of v.findings) {
    if (f.kind !== 'wrong-port-learning' || f.confidence !== 'high') continue;
    const { wrongMs, sinceFirstMs, atEnd, longestRightMs, rightAtEndForMs } = v.learning(f);
    // Reachable again for a good part of the time, in stretches of its own: not only the moments
    // between the guest's frame and its echo, nor only after it spoke for the last time.
    const intermittent = longestRightMs >= INTERMITTENT_MS && wrongMs < sinceFirstMs * INTERMITTENT_SHARE;
    const b = v.findings.find((x) => x.kind === 'blackholed-unicast' && x.mac === f.mac && x.vlan === f.vlan);
    const unicast = b && typeof b.details.arrived === 'number' && typeof b.details.lost === 'number' && b.details.arrived > 0 ? { arrived: b.details.arrived, lost: b.details.lost } : null;
    const port = v.guestPort(f.mac);
    const on = f.interfaces.find((p) => v.provable.bond.includes(p)) ?? f.interfaces[f.interfaces.length - 1] ?? 'the bond';
    const since = f.firstSec + f.firstNsec / 1e9;
    const share = sinceFirstMs > 0 ? Math.round((wrongMs / sinceFirstMs) * 100) : 100;
    const between = longestRightMs;
    const endRight = rightAtEndForMs;
    const home = port ?? 'its port';
    const lost = unicast ? `; ${unicast.lost} of ${unicast.arrived} unicast frame${unicast.arrived === 1 ? '' : 's'} from outside never reached ${port ?? 'it'}` : '';
    const parts = [
      `${intermittent ? 'intermittently: ' : ''}on ${on} for ${duration(wrongMs)} of the ${duration(sinceFirstMs)} from ${clock(since)} UTC to the end of the capture${share < 100 ? ` (${share}%)` : ''}`,
      between >= INTERMITTENT_MS ? `back on ${home} for ${duration(between)} at most in between` : share < 100 && !endRight ? `back on ${home} only between its own frames and their echoes` : '',
      atEnd ? 'still there at the end' : endRight ? `back on ${home} for the last ${duration(endRight)}` : 'right again at the end',
    ].filter(Boolean);
    out.push({
      mac: formatMac(f.mac),
      vlan: f.vlan,
      port,
      on,
      since,
      wrongMs,
      sinceFirstMs,
      atEnd,
      intermittent,
      unicast,
      line: `${formatMac(f.mac)}${f.vlan ? ` (VLAN ${f.vlan})` : ''}${port ? ` behind ${port}` : ''}: unreachable from outside ${parts.join(', ')}${lost}`,
      short: `${formatMac(f.mac)}${port ? ` (${port})` : ''} on ${on} ${duration(wrongMs)} of ${duration(sinceFirstMs)}${atEnd ? ', still at the end' : ''}${unicast ? `, ${unicast.lost}/${unicast.arrived} unicast lost` : ''}`,
    });
  }
  return out.sort((a, b) => b.wrongMs - a.wrongMs);
}

/** The remedy that fits a host that loops. */
function remedyFor(v: VerdictInput, proven: readonly Finding[]): Verdict['remedy'] {
  const path = loopPath(proven.filter((f) => f.kind === 'looped-broadcast'));
  const bondName = path?.bond ?? v.provable.bond[0] ?? v.bonds[0]?.name ?? 'the bond';
  const bond = v.bonds.find((b) => b.name === bondName) ?? (v.bonds.length === 1 ? v.bonds[0] : undefined);
  const mismatch = v.findings.find((f) => f.kind === 'lacp-partner-mismatch');
  const noPartner = v.findings.find((f) => f.kind === 'lacp-no-partner');
  const slaves = bond?.slaves.length ? bond.slaves : v.uplink.outBy.map((o) => o.slave);
  const both = list(slaves.length ? slaves : ['its slaves']);
  const text = (id: RemedyId, t: string, why: string): Verdict['remedy'] => ({ id, text: t, why });
  if (mismatch) return text('lacp-one-partner', `Connect ${both} to one switch, or to switches that are one LACP system (a stack, MLAG, vPC).`, `${bondName}'s slaves reach different LACP partners (${mismatch.interfaces.join(', ')}): two switches that are not one system flood each other's broadcasts back`);
  if (noPartner) return text('lacp-switch-config', `Make the switch ports of ${both} one LACP port-channel (mode active or passive), so the switch treats them as one port and never floods a frame back into ${bondName}.`, `${bondName} runs 802.3ad but the switch does not answer its LACPDUs (${noPartner.interfaces.join(', ')})`);
  if (bond?.mode) {
    const m = bond.mode;
    if (bond.kind === 'ovs' && bond.allSlavesActive) return text('active-backup-drop', `Remove other_config:all-members-active=true from ${bondName} (\`ovs-vsctl remove port ${bondName} other_config all-members-active\`): balance-slb then takes broadcasts only on its active member.`, `${bondName} is an Open vSwitch ${m} bond with all-members-active=true`);
    if (m === 'active-backup' && bond.allSlavesActive) return text('active-backup-drop', `Set all_slaves_active=0 on ${bondName} (\`echo 0 > /sys/class/net/${bondName}/bonding/all_slaves_active\`, and in the host's network configuration): the bond then drops what arrives on its backup slave.`, `${bondName} is active-backup with all_slaves_active=1: it passes up what arrives on the backup slave`);
    if (m === 'active-backup') return text('active-backup-drop', `Run a bonding driver that drops what arrives on the backup slave (bonding 3.0.2 or later, Linux 2.6.17; all_slaves_active=0), or use 802.3ad to one switch or a stack.`, `${bondName} is active-backup but passes up what arrives on the backup slave`);
    if (m !== '802.3ad' && m !== 'balance-tcp') return text('lacp', `Change ${bondName} from ${m} to 802.3ad with ${both} on one switch or a stacked pair (or to active-backup): ${m} takes frames from every slave, so what the switches flood back comes up.`, `${bondName} is in ${m} mode`);
    return text('lacp-one-partner', `Connect ${both} to one switch or a stacked pair, configured as one LACP port-channel.`, `${bondName} is 802.3ad, yet the switches flood its frames back into another slave: its links do not end on one LACP system`);
  }
  // Not configured: what the frames show of the bond.
  // The slaves the bond sends by: each carrying a fair share (one ARP reply out of the other is not a mode).
  const total = v.uplink.outBy.reduce((n, o) => n + o.frames, 0);
  const by = v.uplink.outBy.filter((o) => o.frames >= total * 0.1).map((o) => o.slave);
  if (by.length === 1 && path) {
    return text(
      'active-backup-drop',
      `If ${bondName} is active-backup, set all_slaves_active=0 (\`cat /sys/class/net/${bondName}/bonding/all_slaves_active\` shows it; \`bondscope check\` on the host tells the mode and this setting), so it drops what arrives on its backup slave ${path.back}; otherwise use 802.3ad to one switch or a stack.`,
      `the host side sends by ${by[0]} alone, as active-backup does, and ${bondName} passes up what comes back in on ${path.back}`,
    );
  }
  if (by.length > 1) return text('lacp', `Use 802.3ad (LACP) with ${list(by)} to one switch or a stacked pair, or active-backup: the switch then treats the links as one port and never floods a frame back into ${bondName}.`, `the host side sends by ${list(by)} (a load-balancing mode) and ${bondName} passes up what the switches flood back`);
  return text('lacp', REMEDIES.lacp, `${bondName} passes up what the switches flood back`);
}

/** On a host that does not loop: a configuration the check found loop-prone still wants its fix. */
function configRemedy(v: VerdictInput): Verdict['remedy'] {
  const f = v.findings.find((x) => x.kind === 'loop-prone-bond');
  if (!f) return null;
  const id = f.remedies[0] ?? 'lacp';
  return { id, text: REMEDIES[id], why: `no loop in these frames, but the configuration is set to loop: ${f.summary}` };
}

/** Failovers, silent slaves, echoes the bond dropped, in the host's names. */
function uplinkNotes(v: VerdictInput, state: VerdictState, loopStarted: Verdict['loopStarted']): string[] {
  const out: string[] = [];
  const bond = v.provable.bond[0] ?? v.bonds[0]?.name ?? 'the bond';
  for (const f of v.uplink.failovers) out.push(`failover at ${clock(f.at)} UTC: the host side's frames left by ${f.from} until then, by ${f.to} from then on`);
  for (const k of v.kernelFailovers) out.push(`the kernel logged a failover${k.at !== null ? ` at ${clock(k.at)} UTC` : ''}: ${k.text}`);
  for (const s of v.silent) {
    const role = v.provable.slaves.includes(s) ? 'slave' : null;
    out.push(role ? `${s} was captured and carried no frame: the backup slave of an active-backup bond, a link that is down, or its frames filtered out of the file` : `${s} was captured and carried no frame`);
  }
  // dumpcap writes each interface's frames in batches: a cut can fall before an interface's first.
  for (const s of v.silentCut) out.push(`${s} was captured, but the file was cut short before any frame of it`);
  const u = v.uplink;
  if (u.echoesDropped > 0 && u.droppedOn && state === 'loops' && loopStarted) out.push(`before the loop began, the switches flooded the host side's broadcasts back into ${u.droppedOn} and ${u.droppedBy ?? bond} dropped them (${u.echoesDropped} time${u.echoesDropped === 1 ? '' : 's'}): the loop began when it stopped dropping them (all_slaves_active=1, a failover, a mode change)`);
  else if (u.echoesDropped > 0 && u.droppedOn && state !== 'loops') out.push(`the switches flood the host side's broadcasts back into ${u.droppedOn} (${u.echoesDropped} time${u.echoesDropped === 1 ? '' : 's'}), and ${u.droppedBy ?? bond} drops them: the bond's protection at work; a failover to a setup that passes them up (all_slaves_active=1, a load-balancing mode) would loop`);
  if (u.echoesUnsettled > 0 && state === 'does-not-loop') out.push(`${u.echoesUnsettled} echo${u.echoesUnsettled === 1 ? '' : 'es'} came back in on another slave while nothing captured at ${u.echoesUnsettled === 1 ? 'that moment' : 'those moments'} showed whether ${bond} passed ${u.echoesUnsettled === 1 ? 'it' : 'them'} up (its capture over or not yet begun): not counted`);
  return out;
}

/** The verdict as JSON (`verdict` in analyze --json): what the sinks print, as data. */
export function verdictJson(v: Verdict): object {
  return {
    state: v.state,
    line: v.line,
    wouldTell: v.wouldTell,
    loopStarted: v.loopStarted ? { after: v.loopStarted.after, by: v.loopStarted.by } : null,
    hurt: v.hurt.map((h) => ({ mac: h.mac, vlan: h.vlan, port: h.port, on: h.on, since: h.since, wrongMs: h.wrongMs, sinceFirstMs: h.sinceFirstMs, atEnd: h.atEnd, intermittent: h.intermittent, unicast: h.unicast, line: h.line })),
    remedy: v.remedy ? { id: v.remedy.id, text: v.remedy.text, why: v.remedy.why } : null,
    otherRemedies: v.otherRemedies.map((r) => ({ id: r, text: REMEDIES[r] })),
    notes: v.notes,
  };
}
