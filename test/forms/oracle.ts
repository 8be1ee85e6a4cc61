/**
 * The rule every form of a recording is held to: a weaker form proves less, never something else.
 * Each check reads the kernel's truth (truth.json), the facts the transforms recorded (forms.ts)
 * and the analyses of the form, of its parent in the chain and of its base form — never what the
 * engine said of an earlier version of itself.
 */
import type { Finding } from '../../src/engine/findings.js';
import { formatMac } from '../../src/model/mac.js';
import { analyzeForTruth, type TruthAnalysis } from '../helpers/analyze.js';
import { type Form, trueName } from './forms.js';

export function analyzeForm(f: Form): TruthAnalysis {
  return analyzeForTruth(f.specs, f.links ?? undefined, { allowDamage: true });
}

/** Kinds a loop shows in the frames: a host that does not loop has none of them. */
const FAULTS = ['looped-broadcast', 'wrong-port-learning', 'blackholed-unicast', 'mac-flap'];
/** Kinds about what one MAC's frames did (control-plane kinds are about switches and the host's NICs). */
const DATA_PLANE = [...FAULTS, 'own-address', 'mac-move'];
const CONFIDENCE = { low: 0, medium: 1, high: 2 } as const;
const SEVERITY = { info: 0, warning: 1, error: 2 } as const;

const mac = (f: Finding): string => (f.mac >= 0 ? formatMac(f.mac) : '-');
/**
 * A finding's identity across forms: data-plane kinds by MAC and VLAN; spanning-tree and LACP
 * kinds by the port they are about (the speaker's MAC is named as the host's or as itself
 * depending on whether the form shows which MACs are the host's).
 */
const dataPlane = (x: Finding): boolean => DATA_PLANE.includes(x.kind) || x.kind.startsWith('mac-');
/** A finding's ports by the host's names (a renamed form's `capture3` is the host's bond0). */
const hostPorts = (f: Form | null, x: Finding): string[] => x.interfaces.map((i) => (f ? trueName(f, i) : i));
const key = (x: Finding, f: Form | null = null): string => (dataPlane(x) ? `${x.kind} ${mac(x)}/${x.vlan}` : `${x.kind} on ${hostPorts(f, x).join(',') || '-'}`);
const secs = (f: Finding): number => f.firstSec + f.firstNsec / 1e9;

function warnedMacs(f: Form): Set<string> {
  return new Set(f.rec.truth.ownAddressWarnings.map((l) => /addr:([0-9a-f:]{17})/i.exec(l)?.[1]?.toLowerCase()).filter((m): m is string => !!m));
}

/** What the kernel's truth requires of a form that holds the whole run on every port. */
function required(f: Form, a: TruthAnalysis): string[] {
  const t = f.rec.truth;
  const out: string[] = [];
  if (!t.loops) return out;
  const has = (kind: string, m: string): boolean => a.findings.some((x) => x.kind === kind && mac(x) === m && x.vlan === 0);
  for (const [g, port] of Object.entries(t.guestPortsAfterBroadcast)) {
    if (port !== f.rec.bond) continue;
    if (!has('looped-broadcast', g)) out.push(`missing looped-broadcast ${g} (the kernel had it on ${port})`);
    if (!has('wrong-port-learning', g)) out.push(`missing wrong-port-learning ${g} (the kernel had it on ${port})`);
  }
  for (const m of warnedMacs(f)) if (!has('own-address', m)) out.push(`missing own-address ${m} (the kernel warned ${t.ownAddressWarnings.length} times)`);
  if (t.pingLoss.clientToGuestAfterBroadcast > 0 && a.capabilities.proven.includes('blackhole') && !has('blackholed-unicast', t.clientPingsGuest)) {
    out.push(`missing blackholed-unicast ${t.clientPingsGuest} (client→guest loss ${t.pingLoss.clientToGuestAfterBroadcast}%, and the capabilities claim it)`);
  }
  return out;
}

/**
 * Every way the analysis `a` of form `f` breaks the rule; `base` is the analysis of the chain's
 * base form (a whole recording in a form the truth test holds right), `parent` the previous form's
 * when the last transform was a re-encoding (same frames: the same analysis).
 */
export function violations(f: Form, a: TruthAnalysis, base: TruthAnalysis, parentReencoded: TruthAnalysis | null): string[] {
  const t = f.rec.truth;
  const out: string[] = [];
  const fs = a.findings;
  const warned = warnedMacs(f);

  // The kernel's truth, in every form.
  if (!t.loops) {
    for (const x of fs.filter((y) => FAULTS.includes(y.kind))) out.push(`${key(x)} (${x.severity}) on a host that does not loop`);
    for (const x of fs.filter((y) => y.kind === 'own-address' && !warned.has(mac(y)))) out.push(`${key(x)} on a host that does not loop (the kernel did not warn about it)`);
  }
  const outside = new Set(t.outsideMacs.map((m) => m.toLowerCase()));
  const inside = new Set([...t.hostMacs, ...t.guests.map((g) => g.mac)].map((m) => m.toLowerCase()));
  for (const x of fs.filter((y) => DATA_PLANE.includes(y.kind))) {
    if (outside.has(mac(x))) out.push(`${key(x)} about the outside host ${mac(x)}`);
    else if (!inside.has(mac(x))) out.push(`${key(x)} about ${mac(x)}, neither the host's nor a guest's`);
  }
  for (const x of fs.filter((y) => y.kind === 'mac-move' && !t.movedGuests.includes(mac(y)))) out.push(`${key(x)}, but no guest migrated`);
  if (t.loopStartedAt !== null) {
    // Findings are stamped on the first file's clock: moved with it when it is the one shifted.
    const began = t.loopStartedAt + (f.shift?.at === 0 ? f.shift.ns / 1e9 : 0);
    for (const x of fs.filter((y) => ['looped-broadcast', 'wrong-port-learning', 'own-address'].includes(y.kind) && secs(y) < began - 0.001)) out.push(`${key(x)} before the loop began (at ${t.loopStartedAt})`);
  }
  // The verdict: never LOOPS on a host that does not loop; never DOES NOT LOOP on a host that
  // loops, "cannot tell" being the weaker answer. Only a form whose frames all left before the loop
  // began (the kernel's truth says when) may say it: every frame it counts as not looped must have.
  if (!t.loops && a.verdict.state === 'loops') out.push(`verdict LOOPS on a host that does not loop: ${a.verdict.line}`);
  if (t.loops && a.verdict.state === 'does-not-loop') {
    const u = a.analysis.run.analyzer.uplink;
    const lastClean = u.lastCleanT >= 0 ? a.analysis.run.analyzer.wallTime(u.lastCleanT) - (f.shift?.at === 0 ? f.shift.ns / 1e9 : 0) : null;
    if (t.loopStartedAt === null) out.push(`verdict DOES NOT LOOP on a host that loops from the start: ${a.verdict.line}`);
    else if (lastClean === null || lastClean >= t.loopStartedAt) out.push(`verdict DOES NOT LOOP from frames that left after the loop began (the last at ${lastClean}, the loop at ${t.loopStartedAt}): ${a.verdict.line}`);
  }

  // Slaves alone (no bond, no host side) cannot tell whether the bond delivered what came back:
  // never an error from that alone.
  const hostSide = [f.rec.bond, f.rec.bridge, ...f.rec.guestSide];
  if (!f.ports.some((p) => hostSide.includes(p))) {
    for (const x of fs.filter((y) => DATA_PLANE.includes(y.kind) && y.severity === 'error')) out.push(`${key(x)} is an error from the slaves alone`);
  }

  // Never something the whole capture does not show, never surer than it. Spanning-tree and LACP
  // findings are about ports: a subset's finding is the whole capture's on the same ports or more.
  // A port the form no longer names as the host did (names lost: merged#4, if#3; an interface
  // block repeated in every file of a split, eth0#0) can be any of the base's ports: kind alone.
  const full = new Map(base.findings.map((x) => [key(x), x]));
  const controlMatch = (x: Finding): Finding | undefined => {
    const ports = hostPorts(f, x);
    const named = ports.every((p) => t.interfaces.includes(p));
    return base.findings.find((y) => y.kind === x.kind && (named ? ports.every((p) => y.interfaces.includes(p)) : ports.length <= Math.max(1, y.interfaces.length)));
  };
  for (const x of fs) {
    const k = key(x, f);
    const y = full.get(k) ?? (dataPlane(x) ? undefined : controlMatch(x));
    if (!y) {
      if (DATA_PLANE.includes(x.kind) || x.severity !== 'info') out.push(`${k} (${x.severity}, ${x.confidence}) that the whole capture does not show`);
      continue;
    }
    if (CONFIDENCE[x.confidence] > CONFIDENCE[y.confidence]) out.push(`${k} at ${x.confidence} confidence, the whole capture ${y.confidence}`);
    if (SEVERITY[x.severity] > SEVERITY[y.severity]) out.push(`${k} is ${x.severity}, the whole capture ${y.severity}`);
  }

  // The same frames: the same analysis.
  if (parentReencoded) {
    const sig = (xs: Finding[]): string[] => xs.map((x) => `${key(x)} ×${x.count} ${x.severity}/${x.confidence}`).sort();
    const want = sig(parentReencoded.findings);
    const got = sig(fs);
    for (const w of want.filter((x) => !got.includes(x))) out.push(`re-encoded, lost: ${w}`);
    for (const g of got.filter((x) => !want.includes(x))) out.push(`re-encoded, gained: ${g}`);
  }

  // What it cannot prove is said.
  const slaves = f.rec.slaves.filter((s) => f.ports.includes(s));
  const any = a.frames.size > 0;
  // Two ports merged give each frame twice, as one port does on a looping host (merged-points.ts):
  // then the merged port is at least one whose role nothing tells.
  if (any && f.collapsed && !a.capabilities.unproven.includes('ports-apart') && !(f.ports.length === 2 && a.capabilities.unproven.includes('unknown-roles'))) {
    out.push('ports merged into one interface, and the capabilities do not say which port saw a frame cannot be told');
  }
  if (any && !f.collapsed && slaves.length < 2 && a.capabilities.proven.includes('loop-path')) out.push(`the loop path is claimed with ${slaves.length} slave(s) captured`);
  if (any && !f.collapsed && slaves.length === 1 && !a.capabilities.unproven.includes('loop-path')) out.push('one slave captured, and the capabilities do not say the loop path cannot be seen');
  if (any && !f.ports.includes(f.rec.bond) && a.capabilities.proven.includes('echo-up-bond')) out.push('echoes up the bond claimed without the bond captured');
  if (any && !f.ports.some((p) => f.rec.guestSide.includes(p)) && !a.capabilities.unproven.includes('blackhole')) out.push('no guest port captured, and the capabilities do not say blackholed unicast cannot be proven');
  if (f.cut && !a.analysis.run.set.errors.some((e) => /cut short/.test(e.message))) out.push(`cut short, and no input says so (${a.analysis.run.set.errors.map((e) => e.message).join('; ') || 'no error'})`);
  if (!f.cut && a.analysis.run.set.errors.length) out.push(`input errors: ${a.analysis.run.set.errors.map((e) => e.message).join('; ')}`);

  // Where each MAC belongs is a result too: never the host's for a guest or an outside host, never
  // a guest's for the host or an outside host, never behind another guest's port.
  const an = a.analysis.run.analyzer;
  const chainOf = (vif: string): string[] => {
    const fw = f.rec.truth.params.guests.find((g) => g.vif === vif)?.firewall;
    return fw ? [vif, fw.bridge, fw.inner, fw.outer] : [vif];
  };
  for (const m of t.hostMacs) {
    const b = an.belonging(Number.parseInt(m.replace(/:/g, ''), 16));
    // The host's end of a guest's link (a Proxmox tap's own MAC, which the truth counts as the
    // host's) sends from inside that guest's chain: the guest's side of the bridge, as the frames show.
    const chainEnd = f.rec.truth.params.guests.find((g) => g.portMac === m);
    if (b.side === 'guest' && chainEnd && (!f.named || f.collapsed || chainOf(chainEnd.vif).includes(b.port!) || /^if#/.test(b.port ?? ''))) continue;
    if (b.side === 'guest') out.push(`the host's ${m} belongs to a guest on ${b.port}`);
  }
  for (const g of t.guests) {
    const b = an.belonging(Number.parseInt(g.mac.replace(/:/g, ''), 16));
    if (b.side === 'host') out.push(`guest ${g.mac} belongs to the host`);
    if (b.side === 'guest' && f.named && !f.collapsed && !chainOf(g.vif).includes(b.port!)) out.push(`guest ${g.mac} belongs to ${b.port}, not its ${g.vif}`);
  }
  for (const m of t.outsideMacs) {
    const b = an.belonging(Number.parseInt(m.replace(/:/g, ''), 16));
    if (b.side === 'host' || b.side === 'guest') out.push(`the outside host ${m} belongs to ${b.side}${b.port ? ` on ${b.port}` : ''}`);
  }

  out.push(...clockViolations(f, a));

  // What the kernel's truth requires of a form that holds every port's whole run.
  const whole = f.rec.truth.interfaces.every((i) => f.ports.includes(i)) && !f.collapsed && !f.partial;
  if (whole) out.push(...required(f, a));
  return out;
}

/**
 * A shifted file is lined up to within this of the shift applied. A guest's port or the bridge is
 * pinned to the stamp (copies of one receive path share it); a slave whose frames never cross the
 * bond (a backup slave's are dropped) only to the switch's timing, tens of µs in the lab.
 */
const CLOCK_TOLERANCE_NS = 100e3;

/**
 * The clocks, from what the transforms did: files of one host are never moved against each other;
 * a file shifted by `editcap -t` is moved back by that much (when the first file is the one
 * shifted, every other is moved the other way), or the capabilities say its clock could not be
 * lined up.
 */
function clockViolations(f: Form, a: TruthAnalysis): string[] {
  const inputs = a.analysis.run.set.sources.length;
  if (inputs < 2) return [];
  const offsets = a.analysis.run.analyzer.options.inputOffsetsNs ?? [];
  const found = (i: number): number => offsets[i] ?? 0;
  const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;
  const out: string[] = [];
  const shift = f.shift;
  if (!shift) {
    for (let i = 0; i < inputs; i++) if (found(i) !== 0) out.push(`input ${i} moved by ${ms(found(i))}, but every file is on the host's clock`);
    return out;
  }
  if (shift.at === null) return out;
  const unsettled = a.analysis.run.analyzer.options.unsettledClocks ?? [];
  const said = a.capabilities.unproven.includes('clocks');
  for (let i = 0; i < inputs; i++) {
    const want = shift.at === 0 ? (i === 0 ? 0 : -shift.ns) : i === shift.at ? shift.ns : 0;
    if (Math.abs(found(i) - want) <= CLOCK_TOLERANCE_NS) continue;
    // Not lined up: allowed only when the capabilities say which file's clock could not be.
    const left = unsettled.some((u) => u.input === i || (shift.at === 0 && u.input === 0));
    if (found(i) === 0 && left && said) continue;
    out.push(`input ${i} (${f.specs[i]}) moved by ${ms(found(i))}, the shift applied calls for ${ms(want)}${left ? '' : ', and the capabilities do not say its clock could not be lined up'}`);
  }
  return out;
}

/**
 * The same files under two sets of names that say nothing, in two orders on the command line
 * ('renamed', 'renamed otherwise'): the same findings and the same roles, port for port by the
 * host's name (Form.trueNames). What role inference concludes must not depend on names or order.
 */
export function sameUnderRenaming(fa: Form, a: TruthAnalysis, fb: Form, b: TruthAnalysis): string[] {
  const roles = (f: Form, x: TruthAnalysis): string[] =>
    x.analysis.run.analyzer.ports.ports
      .map((p) => {
        const t = (n: string | null | undefined): string => (n ? trueName(f, n) : '-');
        return `${t(p.port.name)}: ${p.port.role} (${p.port.roleSource}) bond ${t(p.port.bond)} bridge ${t(p.port.bridge)} via ${t(p.port.via)}`;
      })
      .sort();
  // A finding's ports by their place on the bridge (a guest's chain of hops is one place: its
  // `via`): which hop of a chain is named where two share a stamp is the path stage's tie, not a
  // different finding.
  const findings = (f: Form, x: TruthAnalysis): string[] => {
    const place = (i: string): string => trueName(f, x.analysis.run.analyzer.ports.get(i)?.port.via ?? i);
    return x.findings.map((y) => `${dataPlane(y) ? key(y) : y.kind} ×${y.count} ${y.severity}/${y.confidence} on ${[...new Set(y.interfaces.map(place))].sort().join(',')}`).sort();
  };
  const out: string[] = [];
  const diff = (what: string, xs: string[], ys: string[]): void => {
    for (const x of xs.filter((v) => !ys.includes(v))) out.push(`${what} under ${fa.chain.join(' → ')} only: ${x}`);
    for (const y of ys.filter((v) => !xs.includes(v))) out.push(`${what} under ${fb.chain.join(' → ')} only: ${y}`);
  };
  diff('role', roles(fa, a), roles(fb, b));
  diff('finding', findings(fa, a), findings(fb, b));
  return out;
}
