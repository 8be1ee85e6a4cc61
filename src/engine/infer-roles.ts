/**
 * Roles from the frames, for ports that flags, a recorded topology, discovery and names leave
 * unknown (`a.pcap`, `capture2.pcap`, an `-i any` capture without --links). A pure function over
 * the pre-pass's sightings (src/engine/prepass.ts): which ports see each frame, and in what order.
 * It fills 'unknown' roles only; a role said by anything else is never changed, and serves as an
 * anchor for the rules below.
 *
 * What is read from the frames:
 *  - containment: the share of port P's frames that port Q saw too (and of its unicast frames);
 *  - hops: a copy's predecessor is the copy stamped last before it (only when one port holds that
 *    stamp: copies stamped the same instant give no order). A frame crossing the host goes one hop
 *    at a time along slave – bond – bridge – guest's port, so predecessor and copy are, mostly,
 *    neighbours: a hop P→Q counts one for the pair.
 *
 * The rules, in the order they are applied, each with why:
 *  1. The bridge is the one port whose unicast frames include (≥ CONTAINED) those of every other
 *     port with unicast, while its own are in no other's: a bridge device captured by tcpdump or
 *     dumpcap is promiscuous, so it sees every frame the bridge forwards, besides its own traffic.
 *  2. The bond is the one port B with a partner S (a slave) such that all of S's frames crossed B
 *     (≥ ALL_CONTAINED), frames hop both ways between them (≥ MIN_HOPS each way: up from the switch,
 *     down to it), unicast too (≥ MIN_UNICAST_HOPS: a switch floods broadcasts into a second NIC of
 *     the bridge, so two NICs in the bridge look like a bond and its slave but for unicast, which
 *     never goes from one to the other), most of B's hops out go to its partners (≥ BOND_OUT_SHARE:
 *     the bond hands what goes down only to a slave), more of the other ports send to B than to S
 *     (and the bridge, if known, no less: the guests' ports and the bridge send through the bond; a
 *     slave hears the bond and, from the switch, the other slave), and all of B's unicast crossed a
 *     partner (≥ ALL_CONTAINED). The fourth tells a bond from its only slave, whose frames are the
 *     same; the last tells it from a bridge device when
 *     the bond is not captured (the bridge also sees the host's and the guests' unicast among
 *     themselves, which never reaches a slave).
 *  3. A slave of the bond is a port whose frames (≥ MOSTLY) crossed the bond or a slave (a backup
 *     slave whose frames the bond drops still hears what the switch floods to both), which
 *     neither sent frames down through the bond to a slave nor got from the bond frames a slave had
 *     before (each ≤ 1 - SIDE_SHARE of its hops with the bond: a guest's port does both, and a guest
 *     that talks only to the outside has all its hops with the bond, as a slave does), and whose
 *     hops, the bridge's left aside (a promiscuous bridge device is stamped the instant the bond
 *     is), are with the bond or another slave (≥ SIDE_SHARE); but not a port that holds all of the
 *     bond's frames while other slaves exist (the bond's twin: a slave carries them all only when
 *     it is the only one). Repeated, so that a backup slave that
 *     only hears echoes of the active one's frames is placed once that one is.
 *     The partners are slaves.
 *  3b. If unicast did not show the bridge (no traffic the bond does not carry), it is the one port
 *     that saw (≥ CONTAINED) every frame that came up the bond (a slave's copy before the bond's),
 *     every other port seeing fewer: the bridge device gets all a bond passes up, a guest's port
 *     only broadcasts and its own.
 *  4. With the bond known, a guest's port is a port that got frames which came in from the switch
 *     after the bond did (≥ MIN_HOPS, and ≥ UP_SHARE of all it saw after the bond), where frames
 *     entered the host (a first copy at least: the guest's own; a port whose peer sends nothing
 *     stays unknown), exchanges frames with the bond or the bridge, and whose hops (almost) never go
 *     straight to a slave
 *     (≤ 1 - SIDE_SHARE): the bridge and the bond lie between a guest and the uplink.
 * A rule two ports satisfy equally names neither, and a port with fewer than MIN_HOPS hops stays
 * unknown: a role never comes from a tie. Frames stamped the same instant give no hop. Without a
 * bond (the NICs in the bridge themselves) the uplink NICs and the guests' ports are alike to
 * these rules and stay unknown. Per-interface captures start and stop at different moments: whether
 * port Q saw port P's frames is asked only of those between Q's first and last copy, so that
 * absence means Q did not see a frame, not that Q was not being captured. BPDUs and LACPDUs are left out by the pre-pass (they never cross
 * the host).
 */
import type { PortRole } from '../model/topology.js';
import { CAST_UNICAST, type FrameSightings } from './prepass.js';

/** Share of one port's frames that another must also hold to contain it. */
const CONTAINED = 0.9;
const ALL_CONTAINED = 0.95;
/** Share of a slave's frames that crossed the bond or another slave (rule 3): a slave the bond drops hears the switch's own frames too. */
const MOSTLY = 0.8;
/** Unicast frames a port needs before its unicast containment says anything. */
const MIN_UNICAST = 4;
/** Hops (each way, for rule 2) a port needs before its hops say anything. */
const MIN_HOPS = 3;
/** Unicast hops each way between a bond and the slave that shows it (rule 2). */
const MIN_UNICAST_HOPS = 2;
const BOND_OUT_SHARE = 0.6;
const SIDE_SHARE = 0.8;
/** Share of the frames a guest's port saw after the bond that came in from the switch (rule 4). */
const UP_SHARE = 0.25;

export interface InferredRole {
  port: number;
  name: string;
  role: PortRole;
  /** The bond a slave belongs to, the bridge a bond or guest port is on (when known). */
  bond: string | null;
  bridge: string | null;
  /** Frames the inference rests on (for the report). */
  frames: number;
  reason: string;
}

export function inferRoles(s: FrameSightings): InferredRole[] {
  const n = s.ports.length;
  const role: PortRole[] = s.ports.map((p) => p.role);
  if (!role.includes('unknown')) return [];
  // Each port's capture window: its first and last copy. Whether q saw p's frames is asked only of
  // p's frames inside q's window (captures started and stopped at different moments).
  const first = new Float64Array(n).fill(Infinity);
  const last = new Float64Array(n).fill(-Infinity);
  for (let k = 0; k < s.t.length; k++) {
    const p = s.port[k]!;
    if (s.t[k]! < first[p]!) first[p] = s.t[k]!;
    if (s.t[k]! > last[p]!) last[p] = s.t[k]!;
  }
  const frames = new Float64Array(n);
  /** Per pair p*n+q: p's frames (and unicast frames) inside q's window, and how many of them q saw. */
  const within = new Float64Array(n * n);
  const withinU = new Float64Array(n * n);
  const co = new Float64Array(n * n);
  const coU = new Float64Array(n * n);
  const uni = new Float64Array(n);
  /** hop[p * n + q]: copies on q whose predecessor was on p. */
  const hop = new Float64Array(n * n);
  /** The same, for unicast frames only. */
  const hopU = new Float64Array(n * n);
  /** Frames whose first copy (strictly: alone at the earliest stamp) is on p: frames that entered the host there. */
  const entered = new Float64Array(n);
  const seen = new Uint8Array(n);
  const order: number[] = [];
  for (let g = 0; g < s.frames; g++) {
    const a = s.start[g]!;
    const b = s.start[g + 1]!;
    order.length = 0;
    for (let k = a; k < b; k++) order.push(k);
    order.sort((x, y) => s.t[x]! - s.t[y]!);
    const tf = s.t[order[0]!]!;
    if (order.length === 1 || s.t[order[1]!]! > tf) entered[s.port[order[0]!]!]++;
    seen.fill(0);
    for (let k = a; k < b; k++) seen[s.port[k]!] = 1;
    const u = s.cast[g] === CAST_UNICAST;
    for (let p = 0; p < n; p++) {
      if (!seen[p]) continue;
      frames[p]++;
      if (u) uni[p]++;
      for (let q = 0; q < n; q++) {
        if (q === p || tf < first[q]! || tf > last[q]!) continue;
        within[p * n + q]++;
        if (u) withinU[p * n + q]++;
        if (seen[q]) {
          co[p * n + q]++;
          if (u) coU[p * n + q]++;
        }
      }
    }
    for (let i = 1; i < order.length; i++) {
      const t = s.t[order[i]!]!;
      let j = i - 1;
      while (j >= 0 && s.t[order[j]!] === t) j--;
      if (j < 0) continue;
      const before = s.t[order[j]!]!;
      const p = s.port[order[j]!]!;
      let alone = true;
      for (let k = j - 1; k >= 0 && s.t[order[k]!] === before; k--) if (s.port[order[k]!] !== p) alone = false;
      const q = s.port[order[i]!]!;
      if (alone && p !== q) {
        hop[p * n + q]++;
        if (u) hopU[p * n + q]++;
      }
    }
  }
  const out: InferredRole[] = [];
  const name = (p: number): string => s.ports[p]!.name;
  const set = (p: number, r: PortRole, count: number, reason: string): void => {
    role[p] = r;
    out.push({ port: p, name: name(p), role: r, bond: null, bridge: null, frames: count, reason: `inferred from ${count} frames: ${reason}` });
  };
  const uContained = (p: number, q: number): number => (withinU[p * n + q] ? coU[p * n + q]! / withinU[p * n + q]! : 0);
  const aContained = (p: number, q: number): number => (within[p * n + q] ? co[p * n + q]! / within[p * n + q]! : 0);
  const ports = [...Array(n).keys()];

  // 1. The bridge.
  let bridge = role.indexOf('bridge');
  if (bridge < 0) {
    const withUnicast = ports.filter((p) => uni[p]! >= MIN_UNICAST);
    const candidates = withUnicast.filter(
      (p) =>
        role[p] === 'unknown' &&
        withUnicast.length >= 3 &&
        withUnicast.every((q) => q === p || (uContained(q, p) >= CONTAINED && uContained(p, q) < CONTAINED)),
    );
    if (candidates.length === 1) {
      bridge = candidates[0]!;
      const others = withUnicast.filter((q) => q !== bridge);
      set(bridge, 'bridge', uni[bridge]!, `it saw the unicast of every other port (${others.map(name).join(', ')}), and they not all of its: a promiscuous bridge device sees every frame it forwards`);
    }
  }
  /** Hops between p and q, both ways. */
  const hops = (p: number, q: number): number => hop[p * n + q]! + hop[q * n + p]!;
  /** Hops of p with ports in `with`, and with any port, the bridge's left aside. */
  const hopShare = (p: number, withPorts: (q: number) => boolean): { near: number; all: number } => {
    let near = 0;
    let all = 0;
    for (const q of ports) {
      if (q === p || q === bridge) continue;
      all += hops(p, q);
      if (withPorts(q)) near += hops(p, q);
    }
    return { near, all };
  };

  // 2. The bond, with the slaves that show it.
  let bond = role.indexOf('bond');
  const partnersOf = (b: number): number[] =>
    ports.filter(
      (p) =>
        p !== b &&
        p !== bridge &&
        (role[p] === 'unknown' || role[p] === 'slave') &&
        aContained(p, b) >= ALL_CONTAINED &&
        hop[b * n + p]! >= MIN_HOPS &&
        hop[p * n + b]! >= MIN_HOPS &&
        hopU[b * n + p]! >= MIN_UNICAST_HOPS &&
        hopU[p * n + b]! >= MIN_UNICAST_HOPS,
    );
  if (bond < 0) {
    const candidates = ports.filter((b) => {
      if (role[b] !== 'unknown' || b === bridge) return false;
      const partners = partnersOf(b);
      if (!partners.length) return false;
      const isPartner = (q: number): boolean => partners.includes(q);
      let out = 0;
      let toPartners = 0;
      for (const q of ports) {
        if (q === b || q === bridge) continue;
        out += hop[b * n + q]!;
        if (isPartner(q)) toPartners += hop[b * n + q]!;
      }
      if (toPartners < BOND_OUT_SHARE * out) return false;
      // All of B's unicast crossed its partners (a promiscuous bridge device also sees the host's
      // and the guests' own unicast, which no slave does).
      if (uni[b]! >= MIN_UNICAST && seenOnAny(s, b, partners, true) < ALL_CONTAINED) return false;
      // Which of the two the other ports send to: the host side's ports (and the bridge) hop into
      // the bond, the switch side (another slave) into the slave.
      return partners.every((p) => {
        let intoB = 0;
        let intoP = 0;
        for (const q of ports) {
          if (q === b || q === p || q === bridge) continue;
          if (hop[q * n + b]! > hop[q * n + p]!) intoB++;
          else if (hop[q * n + p]! > hop[q * n + b]!) intoP++;
        }
        return intoB > intoP && (bridge < 0 || hop[bridge * n + b]! >= hop[bridge * n + p]!);
      });
    });
    if (candidates.length === 1) {
      bond = candidates[0]!;
      const partners = partnersOf(bond);
      set(bond, 'bond', frames[bond]!, `every frame of ${partners.map(name).join(', ')} crossed it, frames went both ways between them, and the other ports sent theirs through it (a bond between its slaves and the bridge)`);
      for (const p of partners) if (role[p] === 'unknown') set(p, 'slave', frames[p]!, `all its frames crossed ${name(bond)}, and frames went both ways between them, unicast too: a slave of the bond`);
    }
  }

  // 3. Slaves of the bond.
  if (bond >= 0) {
    const { down, up, after } = throughBond(s, bond, (q) => role[q] === 'slave');
    for (let named = true; named; ) {
      named = false;
      for (const p of ports) {
        if (role[p] !== 'unknown' || p === bond || p === bridge) continue;
        if (seenOnAny(s, p, ports.filter((q) => q === bond || role[q] === 'slave'), false) < MOSTLY) continue;
        // A port that holds every frame of the bond beside other slaves is the bond's twin (the
        // other end of a veth, a capture of the bond under another name), not a slave: a slave
        // carries all of the bond's frames only when it is the only one.
        if (aContained(bond, p) >= ALL_CONTAINED && ports.some((q) => q !== p && role[q] === 'slave')) continue;
        // What went from p into the bond and on to a slave came from the host side, and what the bond
        // handed p after a slave had it came from the switch: either way p is on the host side.
        if (down[p]! > (1 - SIDE_SHARE) * hop[p * n + bond]! || up[p]! > (1 - SIDE_SHARE) * after[p]!) continue;
        const { near, all } = hopShare(p, (q) => q === bond || role[q] === 'slave');
        if (all >= MIN_HOPS && near >= SIDE_SHARE * all) {
          set(p, 'slave', frames[p]!, `all its frames crossed ${name(bond)}, and ${near} of its ${all} hops were with ${name(bond)} or a slave: a slave of the bond`);
          named = true;
        }
      }
    }
  }

  // 3b. The bridge, if unicast did not show it: the one port that saw (≥ CONTAINED) every frame that
  // came up the bond, where every other port saw fewer.
  if (bridge < 0 && bond >= 0) {
    const upHeld = new Float64Array(n);
    let up = 0;
    for (let g = 0; g < s.frames; g++) {
      const a = s.start[g]!;
      const b = s.start[g + 1]!;
      let tb = Infinity;
      let ts = Infinity;
      for (let k = a; k < b; k++) {
        const r = role[s.port[k]!];
        if (s.port[k] === bond) tb = Math.min(tb, s.t[k]!);
        else if (r === 'slave') ts = Math.min(ts, s.t[k]!);
      }
      if (!(ts < tb)) continue;
      up++;
      seen.fill(0);
      for (let k = a; k < b; k++) if (s.t[k]! >= tb) seen[s.port[k]!] = 1;
      for (let p = 0; p < n; p++) if (seen[p]) upHeld[p]++;
    }
    const candidates = ports.filter((p) => role[p] === 'unknown' && up >= MIN_HOPS && upHeld[p]! >= CONTAINED * up);
    if (candidates.length === 1) {
      bridge = candidates[0]!;
      set(bridge, 'bridge', up, `it saw every frame that came up ${name(bond)}, and no other port did: the bridge device`);
    }
  }

  // 4. Guests' ports.
  if (bond >= 0) {
    const { up, after } = throughBond(s, bond, (q) => role[q] === 'slave');
    for (const p of ports) {
      if (role[p] !== 'unknown' || p === bond || p === bridge) continue;
      // A port that sees another's unicast is no guest's (the bridge sends a guest only its own).
      if (uni[p]! >= MIN_UNICAST && ports.some((q) => q !== p && q !== bond && q !== bridge && role[q] !== 'slave' && uni[q]! >= MIN_UNICAST && uContained(q, p) >= CONTAINED)) continue;
      const { near: toSlaves, all } = hopShare(p, (q) => role[q] === 'slave');
      const toBond = hops(p, bond);
      // And it got frames that came in from the switch after the bond did: it is on the far side of
      // the bond (a share of what it saw after the bond: the rest are the host's and guests' own).
      if (up[p]! < MIN_HOPS || up[p]! < UP_SHARE * after[p]!) continue;
      // And frames entered the host there (the guest's own): a port stamped late, on a clock not yet
      // lined up, also gets everything after the bond, but is never first.
      if (entered[p]! < 1) continue;
      if (all >= MIN_HOPS && toSlaves <= (1 - SIDE_SHARE) * all && toBond + (bridge >= 0 ? hops(p, bridge) : 0) > 0) {
        set(p, 'guest', frames[p]!, `${up[p]} frames that came in from the switch reached it after ${name(bond)}, its frames went to and came from ${name(bond)}${bridge >= 0 ? `, ${name(bridge)}` : ''} and guests' ports, ${toSlaves ? `${toSlaves} of ${all} hops` : 'never'} straight to a slave: a guest's port`);
      }
    }
  }

  // Relations: slaves to the bond, the bond and guests' ports to the bridge.
  const bondName = bond >= 0 ? name(bond) : null;
  const bridgeName = bridge >= 0 ? name(bridge) : null;
  for (const r of out) {
    if (r.role === 'slave') r.bond = bondName;
    if (r.role === 'bond' || r.role === 'guest') r.bridge = bridgeName;
  }
  return out;
}

/**
 * Per port p, frames that crossed the bond between p and a slave:
 * `down`, unicast frames that hopped p → bond and then bond → a slave, each copy alone at its
 * instant (p sent them down; unicast only, since a broadcast the switch floods into both slaves
 * reaches one of them after the bond);
 * `up` of `after`: of the frames p saw after a copy on the bond (its first such copy), those whose
 * bond copy came from a slave (a slave copy since the bond's previous one: from the switch).
 */
function throughBond(s: FrameSightings, bond: number, isSlave: (q: number) => boolean): { down: Float64Array; up: Float64Array; after: Float64Array } {
  const n = s.ports.length;
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  const after = new Float64Array(n);
  const order: number[] = [];
  for (let g = 0; g < s.frames; g++) {
    order.length = 0;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) order.push(k);
    if (order.length < 2) continue;
    order.sort((x, y) => s.t[x]! - s.t[y]!);
    // Walk the copies in time: each bond copy came from a slave (a slave copy since the bond's last
    // one) or from the host side; a copy elsewhere after a bond copy got what that one carried.
    let bondAt = -Infinity;
    let bondFromSwitch = false;
    let slaveAt = -Infinity;
    const counted = new Set<number>();
    for (const k of order) {
      const p = s.port[k]!;
      const t = s.t[k]!;
      if (p === bond) {
        bondFromSwitch = slaveAt > bondAt && slaveAt < t;
        bondAt = t;
      } else if (isSlave(p)) slaveAt = t;
      else if (t > bondAt && bondAt > -Infinity && !counted.has(p)) {
        counted.add(p);
        after[p]++;
        if (bondFromSwitch) up[p]++;
      }
    }
    if (s.cast[g] !== CAST_UNICAST || order.length < 3) continue;
    for (let i = 1; i + 1 < order.length; i++) {
      const k = order[i]!;
      if (s.port[k] !== bond) continue;
      const tb = s.t[k]!;
      const prev = order[i - 1]!;
      const next = order[i + 1]!;
      if (s.t[prev] === tb || s.t[next] === tb) continue;
      const prevAlone = i < 2 || s.t[order[i - 2]!] !== s.t[prev];
      const nextAlone = i + 2 >= order.length || s.t[order[i + 2]!] !== s.t[next];
      if (prevAlone && nextAlone && isSlave(s.port[next]!) && s.port[prev] !== s.port[next]) down[s.port[prev]!]++;
    }
  }
  return { down, up, after };
}

/** Share of port b's frames (unicast frames only, if `unicast`) that one of `others` saw too. */
function seenOnAny(s: FrameSightings, b: number, others: number[], unicast: boolean): number {
  let all = 0;
  let on = 0;
  for (let g = 0; g < s.frames; g++) {
    if (unicast && s.cast[g] !== CAST_UNICAST) continue;
    let hasB = false;
    let hasOther = false;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) {
      if (s.port[k] === b) hasB = true;
      else if (others.includes(s.port[k]!)) hasOther = true;
    }
    if (!hasB) continue;
    all++;
    if (hasOther) on++;
  }
  return all ? on / all : 0;
}
