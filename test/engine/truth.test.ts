/**
 * The kernel's truth on every recording in captures/, in every capture form a user brings: the
 * dumpcap multi-interface pcapng, the per-interface tcpdump pcaps together, and the
 * `tcpdump -i any -y LINUX_SLL2` capture named by its links.json. What must (and must not) be
 * found comes from truth.json — what the lab did and what the kernel said (its FDB, its
 * own-address warnings, ping loss) — never from what the engine finds today:
 *
 *  - on a host that loops: looped-broadcast and wrong-port-learning for each guest the kernel had
 *    on bond0, own-address for each host MAC the kernel warned about, blackholed-unicast for the
 *    guest whose pings from the client were lost (where the form claims it can prove it), none of
 *    them before the loop began;
 *  - on a host that does not loop: no looped-broadcast, wrong-port-learning, blackholed-unicast or
 *    mac-flap at all, and own-address only for a MAC the kernel itself warned about;
 *  - never a finding about an outside host's MAC (the client, the switch), and data-plane findings
 *    only about the host's and the guests' MACs; mac-move only for a guest that migrated;
 *  - a looped broadcast's evidence leaves by one slave and comes back by the other (both slaves
 *    among its evidence frames, and where the capture has directions, out on one and in on the
 *    other);
 *  - one slave's pcap alone cannot show the loop path: capabilities say so, nothing is claimed at
 *    high confidence, and on a host that does not loop nothing at all.
 *
 * Each recording × form collects every violation. KNOWN_WRONG_ON_ENGINE_OF_23c64ee lists those the
 * engine at main 23c64ee has (printed, not failed), so CI is not blocked before the engine
 * rewrite lands; a violation not listed fails. BONDSCOPE_TRUTH_STRICT=1 ignores the list.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/engine/findings.js';
import { formatMac } from '../../src/model/mac.js';
import { DIR_IN, DIR_OUT } from '../../src/model/record.js';
import { analyzeForTruth, type TruthAnalysis } from '../helpers/analyze.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');

interface Truth {
  scenario: string;
  loops: boolean;
  guestPortsFinal: Record<string, string | null>;
  pingLoss: { clientToGuestAfterBroadcast: number; clientToGuestAfterGuestSpoke: number };
  captureWindows?: Record<string, [number, number]>;
  loopStartedAt: number | null;
  hostMacs: string[];
  guests: { mac: string; vif: string; ip: string }[];
  outsideMacs: string[];
  clientPingsGuest: string;
  movedGuests: string[];
  guestPortsAfterBroadcast: Record<string, string | null>;
  ownAddressWarnings: string[];
  interfaces: string[];
  params: { slaves: string[]; bond: string };
}

function readTruth(folder: string): Truth {
  return JSON.parse(readFileSync(join(CAPTURES, folder, 'truth.json'), 'utf8')) as Truth;
}

const RECORDINGS = readdirSync(CAPTURES)
  .filter((d) => existsSync(join(CAPTURES, d, 'truth.json')))
  .sort();

/** The three forms users bring, and one slave's pcap alone (what a form that cannot prove the loop may claim). */
type Form = 'pcapng' | 'pcaps' | 'any' | `${string}.pcap alone`;

interface FormRun {
  form: Form;
  /** Interfaces the form recorded. */
  covers: string[];
  /** Whether the form has each frame's direction (cooked headers). */
  directions: boolean;
  /** One slave alone: it cannot show a frame leave by one slave and come back by the other. */
  alone?: boolean;
  run: () => TruthAnalysis;
}

function forms(folder: string, t: Truth): FormRun[] {
  const dir = join(CAPTURES, folder);
  const allHost = [...t.interfaces];
  return [
    { form: 'pcapng', covers: allHost, directions: false, run: () => analyzeForTruth([join(dir, `${folder}.pcapng`)]) },
    { form: 'pcaps', covers: allHost, directions: false, run: () => analyzeForTruth(t.interfaces.map((i) => join(dir, `${i}.pcap`))) },
    { form: 'any', covers: allHost, directions: true, run: () => analyzeForTruth([join(dir, 'any.pcap')], join(dir, 'links.json')) },
    ...t.params.slaves
      .filter((s) => t.interfaces.includes(s))
      .map((s): FormRun => ({ form: `${s}.pcap alone`, covers: [s], directions: false, alone: true, run: () => analyzeForTruth([join(dir, `${s}.pcap`)]) })),
  ];
}

const FAULTS = ['looped-broadcast', 'wrong-port-learning', 'blackholed-unicast', 'mac-flap'];
/** Kinds about the frames a MAC sent or received (control-plane kinds name switches by design). */
const DATA_PLANE = [...FAULTS, 'own-address', 'mac-move'];

const mac = (f: Finding): string => (f.mac >= 0 ? formatMac(f.mac) : '-');
const has = (fs: Finding[], kind: string, m: string, vlan = 0): boolean => fs.some((f) => f.kind === kind && mac(f) === m && f.vlan === vlan);
const secs = (f: Finding): number => f.firstSec + f.firstNsec / 1e9;

/** MACs the kernel named in its own-address warnings (`addr:00:25:90:00:00:01`). */
function warnedMacs(t: Truth): Set<string> {
  return new Set(t.ownAddressWarnings.map((l) => /addr:([0-9a-f:]{17})/i.exec(l)?.[1]?.toLowerCase()).filter((m): m is string => !!m));
}

/** Everything the truth says this form's analysis got wrong, one line each. */
function violations(t: Truth, fr: FormRun, a: TruthAnalysis): string[] {
  const out: string[] = [];
  const fs = a.findings;
  const slaves = t.params.slaves.filter((s) => fr.covers.includes(s));
  const bothSlaves = slaves.length >= 2;
  const warned = warnedMacs(t);
  if (fr.alone) {
    // What one slave shows: frames leaving by it, or coming in by it; never both ends of a loop,
    // nor whether the bond passed anything up. The form must say so, and claim nothing for sure.
    // (An empty capture shows nothing to qualify: lacp-latency's eth1 carried no frame.)
    if (a.frames.size > 0 && !a.capabilities.cannotProve.some((c) => /loop path/i.test(c))) out.push('capabilities do not say that one slave cannot show the loop path');
    const loopKinds = ['looped-broadcast', 'wrong-port-learning', 'own-address', 'blackholed-unicast'];
    for (const f of fs.filter((x) => loopKinds.includes(x.kind) && (x.confidence === 'high' || !t.loops))) {
      out.push(`${f.kind} ${mac(f)}/${f.vlan} at ${f.confidence} confidence from one slave alone${t.loops ? '' : ' on a host that does not loop'}`);
    }
  } else if (t.loops) {
    for (const [g, port] of Object.entries(t.guestPortsAfterBroadcast)) {
      if (port !== t.params.bond) continue;
      if (!has(fs, 'looped-broadcast', g)) out.push(`missing looped-broadcast ${g}`);
      if (!has(fs, 'wrong-port-learning', g)) out.push(`missing wrong-port-learning ${g}`);
    }
    for (const m of warned) if (!has(fs, 'own-address', m)) out.push(`missing own-address ${m} (the kernel warned ${t.ownAddressWarnings.length} times)`);
    if (t.pingLoss.clientToGuestAfterBroadcast > 0) {
      const g = t.clientPingsGuest;
      const claims = a.capabilities.canProve.some((c) => /blackhole/i.test(c));
      const found = has(fs, 'blackholed-unicast', g);
      // A cooked capture has no destination MAC: it may find it from the IP, or not claim it.
      if (claims && !found) out.push(`missing blackholed-unicast ${g} (client→guest loss ${t.pingLoss.clientToGuestAfterBroadcast}%, and capabilities claim it)`);
      if (fr.form !== 'any' && !claims) out.push(`capabilities do not claim blackholed unicast though the guest's port was captured`);
    }
    if (t.loopStartedAt !== null) {
      for (const f of fs.filter((x) => ['looped-broadcast', 'wrong-port-learning', 'own-address'].includes(x.kind) && secs(x) < t.loopStartedAt! - 0.001)) {
        out.push(`${f.kind} ${mac(f)} before the loop began (at ${t.loopStartedAt})`);
      }
    }
  } else {
    for (const f of fs.filter((x) => FAULTS.includes(x.kind))) out.push(`${f.kind} ${mac(f)}/${f.vlan} on a host that does not loop`);
    for (const f of fs.filter((x) => x.kind === 'own-address' && !warned.has(mac(x)))) out.push(`own-address ${mac(f)} on a host that does not loop (the kernel did not warn about it)`);
  }
  const outside = new Set(t.outsideMacs.map((m) => m.toLowerCase()));
  const inside = new Set([...t.hostMacs, ...t.guests.map((g) => g.mac)].map((m) => m.toLowerCase()));
  for (const f of fs.filter((x) => DATA_PLANE.includes(x.kind))) {
    if (outside.has(mac(f))) out.push(`${f.kind} about the outside host ${mac(f)}`);
    else if (!inside.has(mac(f))) out.push(`${f.kind} about ${mac(f)}, neither the host's nor a guest's`);
  }
  for (const f of fs.filter((x) => x.kind === 'mac-move' && !t.movedGuests.includes(mac(x)))) out.push(`mac-move ${mac(f)}, but no guest migrated`);
  if (bothSlaves && !fr.alone) {
    for (const f of fs.filter((x) => x.kind === 'looped-broadcast')) {
      const seen = f.evidence.map((e) => a.frames.get(`${e.input}:${e.frame}`)).filter((x) => x !== undefined);
      const onSlaves = new Set(seen.filter((x) => slaves.includes(x.port)).map((x) => x.port));
      if (onSlaves.size < 2) {
        out.push(`looped-broadcast ${mac(f)}/${f.vlan}: evidence on ${[...onSlaves].join(', ') || 'no slave'}, not out by one slave and back by the other`);
        continue;
      }
      if (fr.directions) {
        const outOn = new Set(seen.filter((x) => slaves.includes(x.port) && x.dir === DIR_OUT).map((x) => x.port));
        const inOn = new Set(seen.filter((x) => slaves.includes(x.port) && x.dir === DIR_IN).map((x) => x.port));
        if (![...outOn].some((o) => [...inOn].some((i) => i !== o))) out.push(`looped-broadcast ${mac(f)}/${f.vlan}: no evidence frame out on one slave and in on the other`);
      }
    }
  }
  out.push(...verdictViolations(t, fr, a));
  return out;
}

/**
 * The verdict the truth calls for, and its numbers against the kernel's:
 *  - loops on a host that loops, never on one that does not; one slave alone cannot tell;
 *  - the loop's start, where the capture shows it, brackets the moment the lab made it loop;
 *  - a guest the bridge had on the bond is hurt, on the bond when the capture ended exactly when
 *    the kernel's last FDB read has it there (guestPortsFinal, read after the last traffic), its
 *    time on the bond within the capture and never more than the capture;
 *  - every ping the client sent right after the guests' broadcasts was lost (pingLoss 100): those
 *    4 requests are unicast that never reached the guest, so at least 4 are counted lost where
 *    the form claims blackholed unicast and the guest's port was captured to the end.
 */
function verdictViolations(t: Truth, fr: FormRun, a: TruthAnalysis): string[] {
  const out: string[] = [];
  const v = a.verdict;
  if (fr.alone) {
    if (a.frames.size > 0 && v.state !== 'cannot-tell') out.push(`verdict ${v.state} from one slave alone`);
    return out;
  }
  if (t.loops && v.state !== 'loops') out.push(`verdict ${v.state} on a host that loops`);
  if (!t.loops && v.state === 'loops') out.push('verdict loops on a host that does not loop');
  if (v.state !== 'loops') return out;
  if (t.loopStartedAt !== null && !(v.loopStarted && v.loopStarted.after <= t.loopStartedAt + 0.01 && t.loopStartedAt <= v.loopStarted.by + 0.01)) {
    out.push(`loop start ${v.loopStarted ? `${v.loopStarted.after}–${v.loopStarted.by}` : 'not said'}, the lab began it at ${t.loopStartedAt}`);
  }
  if (t.loopStartedAt === null && v.loopStarted) out.push(`loop said to begin at ${v.loopStarted.by}, but it was there from the start`);
  const bond = t.params.bond;
  const spanMs = (a.last - a.first) * 1000;
  for (const [g, port] of Object.entries(t.guestPortsAfterBroadcast)) {
    if (port !== bond) continue;
    const h = v.hurt.find((x) => x.mac === g && x.vlan === 0);
    if (!h) {
      out.push(`guest ${g} (the kernel had it on ${bond}) not among the hurt`);
      continue;
    }
    if (!(h.wrongMs > 0 && h.wrongMs <= h.sinceFirstMs + 0.01 && h.sinceFirstMs <= spanMs + 0.01)) out.push(`guest ${g}: on the bond ${h.wrongMs} ms of ${h.sinceFirstMs} ms, capture ${spanMs} ms`);
    // The end of the capture: where every port that decides it was capturing to the end (capture windows).
    const endsTogether = !t.captureWindows || fr.form !== 'pcaps' || Object.values(t.captureWindows).every(([, end]) => Math.abs(end - Object.values(t.captureWindows!)[0]![1]) < 0.5);
    if (endsTogether && h.atEnd !== (t.guestPortsFinal[g] === bond)) out.push(`guest ${g}: ${h.atEnd ? 'said' : 'not said'} to be on ${bond} at the end; the kernel's last FDB read has it on ${t.guestPortsFinal[g]}`);
  }
  const pinged = t.clientPingsGuest;
  const hp = v.hurt.find((x) => x.mac === pinged && x.vlan === 0);
  if (t.pingLoss.clientToGuestAfterBroadcast === 100 && hp?.unicast && a.capabilities.canProve.some((c) => /blackhole/i.test(c)) && hp.unicast.lost < 4) {
    out.push(`guest ${pinged}: ${hp.unicast.lost} unicast frames counted lost, but the client lost all its 4 pings after the broadcasts`);
  }
  return out;
}

/**
 * What the engine at main 23c64ee gets wrong, as `recording form: violation` (see the header).
 * Remove a line once the engine gets it right; never add one to hide a regression.
 */
export const KNOWN_WRONG_ON_ENGINE_OF_23c64ee: string[] = [];

const STRICT = process.env.BONDSCOPE_TRUTH_STRICT === '1';

describe('truth.json: every recording says what the lab did and what the kernel said', () => {
  for (const folder of RECORDINGS) {
    it(`${folder}`, () => {
      const t = readTruth(folder);
      expect(typeof t.loops, 'loops').toBe('boolean');
      expect(t.loopStartedAt === null || typeof t.loopStartedAt === 'number', 'loopStartedAt').toBe(true);
      expect(t.hostMacs.length, 'hostMacs').toBeGreaterThan(0);
      expect(t.guests.length, 'guests').toBeGreaterThan(0);
      expect(t.outsideMacs, 'outsideMacs').toContain('52:54:00:00:00:c1');
      expect(t.guests.map((g) => g.mac), 'clientPingsGuest').toContain(t.clientPingsGuest);
      expect(Array.isArray(t.movedGuests), 'movedGuests').toBe(true);
      for (const i of t.interfaces) expect(existsSync(join(CAPTURES, folder, `${i}.pcap`)), `${i}.pcap`).toBe(true);
      for (const f of [`${folder}.pcapng`, 'any.pcap', 'links.json']) expect(existsSync(join(CAPTURES, folder, f)), f).toBe(true);
    });
  }
});

describe("the kernel's truth on every recording, in every capture form", () => {
  const stale: string[] = [];
  for (const folder of RECORDINGS) {
    const t = readTruth(folder);
    for (const fr of forms(folder, t)) {
      it(`${folder} ${fr.form}`, () => {
        const found = violations(t, fr, fr.run()).map((v) => `${folder} ${fr.form}: ${v}`);
        const known = STRICT ? [] : found.filter((v) => KNOWN_WRONG_ON_ENGINE_OF_23c64ee.includes(v));
        for (const v of known) console.log(`known wrong on engine of 23c64ee: ${v}`);
        for (const v of KNOWN_WRONG_ON_ENGINE_OF_23c64ee.filter((k) => k.startsWith(`${folder} ${fr.form}: `) && !found.includes(k))) stale.push(v);
        expect(found.filter((v) => !known.includes(v))).toEqual([]);
      });
    }
  }
  afterAll(() => {
    for (const v of stale) console.log(`now right, remove from KNOWN_WRONG_ON_ENGINE_OF_23c64ee: ${v}`);
  });
});
