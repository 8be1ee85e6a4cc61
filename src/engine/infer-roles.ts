/**
 * Roles from the frames, for ports that flags, a recorded topology, discovery and names leave
 * unknown (`a.pcap`, `capture2.pcap`, an `-i any` capture without --links). A pure function over
 * the pre-pass's sightings (src/engine/prepass.ts): which ports see each frame, in what order, and
 * in which direction where the capture says. It fills 'unknown' roles only; a role said by
 * anything else is never changed, and serves as an anchor for the rules below. What it concludes
 * depends on the frames only: not on the ports' names nor on the order the inputs were given in
 * (copies stamped the same instant are never put in an order).
 *
 * What is read from the frames:
 *  - containment: the share of port P's frames that port Q saw too (and of its unicast frames);
 *  - hops: a copy's predecessor is the copy stamped last before it (only when one port holds that
 *    stamp: copies stamped the same instant give no order). A frame crossing the host goes one hop
 *    at a time along slave – bond – bridge – guest's port, so predecessor and copy are, mostly,
 *    neighbours: a hop P→Q counts one for the pair. A broadcast goes every way at once, so where
 *    there is unicast enough the rules read its hops instead: it goes along its own way only;
 *  - ways in: of a frame that came up to the bridge device, the ports that had it at or before the
 *    bridge device's copy (within IN_HOST_HOP_NS: a file whose clock is off is no way in). Ports
 *    that come in together in most of the ways in of the one that comes in less often are one
 *    side of the bridge: the uplink (its slaves and the bond), a guest's port, a guest's chain of
 *    hops (Proxmox's tap → fwbr → fwln ⇄ fwpr). A copy that ties with the bridge device's now and
 *    then (a guest's port flooded in the same microsecond) joins no side.
 *
 * Captures without directions (one tcpdump per interface, dumpcap, mergecap): the rules, in the
 * order they are applied, each with why.
 *  1. The bridge is the one port whose unicast frames include (≥ CONTAINED) those of every other
 *     port with unicast, while its own are in no other's: a bridge device captured by tcpdump or
 *     dumpcap is promiscuous, so it sees every frame the bridge forwards, besides its own traffic.
 *  2. The bond is the one port B with a partner S (a slave) such that all of S's frames crossed B
 *     (≥ ALL_CONTAINED), frames hop both ways between them (≥ MIN_HOPS each way, and neither way
 *     under 1 - SIDE_SHARE of the other: up from the switch, down to it; the bridge device, stamped
 *     with the bond now and then, hops mostly one way), unicast too (≥ MIN_UNICAST_HOPS: a switch floods broadcasts into a second NIC of
 *     the bridge, so two NICs in the bridge look like a bond and its slave but for unicast, which
 *     never goes from one to the other), most of B's hops out go to its partners (≥ BOND_OUT_SHARE:
 *     the bond hands what goes down only to a slave), more of the other ports send to B than to S
 *     (and the bridge, if known, no less: the guests' ports and the bridge send through the bond; a
 *     slave hears the bond and, from the switch, the other slave), and all of B's unicast crossed a
 *     partner (≥ ALL_CONTAINED). The fourth tells a bond from its only slave, whose frames are the
 *     same; the last tells it from a bridge device when the bond is not captured (the bridge also
 *     sees the host's and the guests' unicast among themselves, which never reaches a slave). The
 *     third and fourth read unicast hops where there are MIN_HOPS of them (a guest's port behind a
 *     chain of hops is stamped after the bond, and so looks like the bond's next hop for a broadcast).
 *  3. A slave of the bond is a port whose frames (≥ MOSTLY) crossed the bond or a slave (a backup
 *     slave whose frames the bond drops still hears what the switch floods to both), which
 *     neither sent frames down through the bond to a slave nor got from the bond frames a slave had
 *     before (each ≤ 1 - SIDE_SHARE of its hops with the bond: a guest's port does both, and a guest
 *     that talks only to the outside has all its hops with the bond, as a slave does), and whose
 *     hops, the bridge's left aside (a promiscuous bridge device is stamped the instant the bond
 *     is), are with the bond or another slave (≥ SIDE_SHARE); but not a port that holds all of the
 *     bond's frames while other slaves exist (the bond's twin: a slave carries them all only when
 *     it is the only one). Repeated, so that a backup slave that only hears echoes of the active
 *     one's frames is placed once that one is. The partners are slaves.
 *  4. If unicast did not show the bridge (no traffic the bond does not carry), it is the one port
 *     that saw (≥ CONTAINED) every frame that came up the bond (a slave's copy before the bond's),
 *     every other port seeing fewer: the bridge device gets all a bond passes up, a guest's port
 *     only broadcasts and its own.
 *  5. If floods did not show it either (the guests' ports see every broadcast the bond passes up),
 *     it is the one port that saw (≥ CONTAINED) every unicast frame that came in from the switch to
 *     the bond (first seen on a slave, alone, then on the bond; ≥ MIN_UNICAST of them): a
 *     promiscuous bridge device sees every frame the bridge forwards, a guest's port only its guest's.
 *  6. With the bridge known, by the ways in (sideOfUplink, guestSides): the uplink is the side that
 *     holds the bond or a slave; its other ports, whose frames came up by the bond (≥ MIN_HOPS),
 *     are slaves (a backup slave that hears the switch's echoes has hops with the whole host, but
 *     comes in by the bond like any); every other side whose frames came from one machine is a
 *     guest's port, or a guest's chain of hops with its port on the bridge as `via`. The host's
 *     own frames (first seen on the bridge device, alone) are no way in.
 *  7. With the bond known, a guest's port is a port that got frames which came in from the switch
 *     after the bond did (≥ MIN_HOPS, and ≥ UP_SHARE of all it saw after the bond), where frames
 *     entered the host (a first copy at least: the guest's own; a port whose peer sends nothing
 *     stays unknown), exchanges frames with the bond or the bridge, and whose hops (almost) never go
 *     straight to a slave (≤ 1 - SIDE_SHARE): the bridge and the bond lie between a guest and the uplink.
 *  8. Without a bond, NICs in the bridge by spanning tree (nicsBySpanningTree): two or more ports
 *     of the uplink's side that hear BPDUs of a bridge that is not the host's face a switch.
 *
 * Captures with directions (an `-i any` SLL2 capture: each frame's ifindex and whether it came in
 * or went out; pcapng with epb_flags), where ≥ DIRECTED of the sightings have one:
 *  D1. The bridge device is the one port whose own frames the bridge floods — first seen going out
 *     there, alone at its stamp, then out of two or more other ports before any port sees it come
 *     in (≥ MIN_HOPS) — and to which frames come up from two or more other ports (their copies in,
 *     at or before its own in): a guest's port, which the bridge floods first now and then, only
 *     ever sees its own guest's frames come in.
 *  D2. The ways in, of the frames that came from beyond a port (first seen coming in) and up to the
 *     bridge device: the ports whose copies came in at or before its copy in.
 *  D3. The uplink is the side that holds a port known as a slave or the bond; else the one side
 *     frames came in by over two links (two ports, each without the other ≥ MIN_HOPS times: a
 *     bond's slaves); else the one side whose frames came from two or more machines, every other
 *     side's from one: behind a guest's port is one machine, behind the uplink a network.
 *  D4. The bond is the uplink's port every frame coming up that way crossed (≥ ALL_CONTAINED of its
 *     ways in; the one reached last on the way in where several are), whose frames going out
 *     continue out of another of the side's ports (the bond hands each to a slave); its slaves,
 *     the side's ports frames came in by and then up the bond (≥ MIN_HOPS) — not a port that sees
 *     the bond's frames come in, the far end of a veth the bond is (the lab's bond0-drv). Without a
 *     bond the uplink's ports are a bond or NICs in the bridge: the frames do not say which (rule 8 may).
 *  D5. Guests' ports and chains as in rule 6, a side counting as a guest's when frames that came up
 *     by the uplink went out to it (the bridge floods what comes from outside to its guests, never
 *     back to the uplink: a slave whose bond was not captured has a side of its own); a chain is
 *     joined by the inner end of its veth pair (out where the chain goes up, in where it comes
 *     down, on no way in). Then rule 8.
 *
 * A rule two ports satisfy equally names neither, and a port with fewer than MIN_HOPS hops stays
 * unknown: a role never comes from a tie. A chain whose port on the bridge the stamps do not tell
 * stays unknown. Per-interface captures start and stop at different moments: whether port Q saw
 * port P's frames is asked only of those between Q's first and last copy, so that absence means Q
 * did not see a frame, not that Q was not being captured. BPDUs and LACPDUs are left out of the
 * frames by the pre-pass (they never cross the host); rule 8 reads which bridges' BPDUs a port heard.
 * A port more than half of whose frames no other port saw (a file whose clock is off by more than
 * the pre-pass groups copies over, or of another host) is left out before the rules: its frames
 * place nothing (withoutIsolated).
 */
import type { PortRole } from '../model/topology.js';
import { formatMac } from '../model/mac.js';
import { DIR_IN, DIR_OUT } from '../model/record.js';
import { IN_HOST_HOP_NS } from './path.js';
import { CAST_UNICAST, type FrameSightings, keepSightings } from './sightings.js';

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
/** Share of the frames a guest's port saw after the bond that came in from the switch (rule 7). */
const UP_SHARE = 0.25;

export interface InferredRole {
  port: number;
  name: string;
  role: PortRole;
  /** The bond a slave belongs to, the bridge a bond or guest port is on (when known). */
  bond: string | null;
  bridge: string | null;
  /**
   * For a hop of a guest's chain that is not itself a port of the uplink bridge (Proxmox's tap →
   * fwbr → fwln ⇄ fwpr): the chain's port on the uplink bridge (Port.via). Null otherwise.
   */
  via: string | null;
  /** Frames the inference rests on (for the report). */
  frames: number;
  reason: string;
}

export function inferRoles(all: FrameSightings): InferredRole[] {
  if (!all.ports.some((p) => p.role === 'unknown')) return [];
  const s = withoutIsolated(all);
  const n = s.ports.length;
  const role: PortRole[] = s.ports.map((p) => p.role);
  if (isDirected(s)) return inferDirected(s, role);
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
  const byTime = timeOrder(s);
  const order: number[] = [];
  for (let g = 0; g < s.frames; g++) {
    const a = s.start[g]!;
    const b = s.start[g + 1]!;
    order.length = 0;
    for (let k = a; k < b; k++) order.push(byTime[k]!);
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
  const set = (p: number, r: PortRole, count: number, reason: string, via: string | null = null): void => {
    role[p] = r;
    out.push({ port: p, name: name(p), role: r, bond: null, bridge: null, via, frames: count, reason: `inferred from ${count} frames: ${reason}` });
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
        Math.min(hop[b * n + p]!, hop[p * n + b]!) >= (1 - SIDE_SHARE) * Math.max(hop[b * n + p]!, hop[p * n + b]!) &&
        hopU[b * n + p]! >= MIN_UNICAST_HOPS &&
        hopU[p * n + b]! >= MIN_UNICAST_HOPS,
    );
  if (bond < 0) {
    const candidates = ports.filter((b) => {
      if (role[b] !== 'unknown' || b === bridge) return false;
      const partners = partnersOf(b);
      if (!partners.length) return false;
      const isPartner = (q: number): boolean => partners.includes(q);
      // Unicast where there is enough of it: a broadcast's next copy after the bond's may be on any
      // port the bridge floods it to that is stamped later (a guest's port behind a chain of hops).
      let outU = 0;
      for (const q of ports) if (q !== b && q !== bridge) outU += hopU[b * n + q]!;
      const h = outU >= MIN_HOPS ? hopU : hop;
      let out = 0;
      let toPartners = 0;
      for (const q of ports) {
        if (q === b || q === bridge) continue;
        out += h[b * n + q]!;
        if (isPartner(q)) toPartners += h[b * n + q]!;
      }
      if (toPartners < BOND_OUT_SHARE * out) return false;
      // All of B's unicast crossed its partners (a promiscuous bridge device also sees the host's
      // and the guests' own unicast, which no slave does).
      if (uni[b]! >= MIN_UNICAST && seenOnAny(s, b, partners, true) < ALL_CONTAINED) return false;
      // Which of the two the other ports send to: the host side's ports (and the bridge) hop into
      // the bond, the switch side (another slave) into the slave.
      // (Unicast again where there is enough: it goes along its way only, where a broadcast goes
      // every way at once and the copy stamped just before a slave's may be a guest's.)
      return partners.every((p) => {
        let intoU = 0;
        for (const q of ports) if (q !== b && q !== p && q !== bridge) intoU += hopU[q * n + b]! + hopU[q * n + p]!;
        const h = intoU >= MIN_HOPS ? hopU : hop;
        let intoB = 0;
        let intoP = 0;
        for (const q of ports) {
          if (q === b || q === p || q === bridge) continue;
          if (h[q * n + b]! > h[q * n + p]!) intoB++;
          else if (h[q * n + p]! > h[q * n + b]!) intoP++;
        }
        return intoB > intoP && (bridge < 0 || h[bridge * n + b]! >= h[bridge * n + p]!);
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
    const { down, up, after } = throughBond(s, byTime, bond, (q) => role[q] === 'slave');
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

  // 4. The bridge, if unicast did not show it: the one port that saw (≥ CONTAINED) every frame that
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

  // 5. The bridge, if neither unicast nor floods showed it: the one port that saw (≥ CONTAINED)
  // every unicast frame that came in from the switch to the bond (first seen on a slave, then on
  // the bond; ≥ MIN_UNICAST of them): a promiscuous bridge device sees every frame the bridge
  // forwards, a guest's port only its guest's.
  if (bridge < 0 && bond >= 0) {
    const heldU = new Float64Array(n);
    let upU = 0;
    for (let g = 0; g < s.frames; g++) {
      if (s.cast[g] !== CAST_UNICAST) continue;
      const a = s.start[g]!;
      const b = s.start[g + 1]!;
      // Came in from the switch: first seen on a slave, alone, and then on the bond.
      let t0 = Infinity;
      let firstOnSlave = false;
      let tb = Infinity;
      for (let k = a; k < b; k++) {
        if (s.t[k]! < t0) (t0 = s.t[k]!), (firstOnSlave = role[s.port[k]!] === 'slave');
        else if (s.t[k] === t0 && role[s.port[k]!] !== 'slave') firstOnSlave = false;
        if (s.port[k] === bond) tb = Math.min(tb, s.t[k]!);
      }
      if (!firstOnSlave || !(tb > t0) || tb === Infinity) continue;
      upU++;
      seen.fill(0);
      for (let k = a; k < b; k++) seen[s.port[k]!] = 1;
      for (let p = 0; p < n; p++) if (seen[p]) heldU[p]++;
    }
    const candidates = ports.filter((p) => role[p] === 'unknown' && upU >= MIN_UNICAST && heldU[p]! >= CONTAINED * upU);
    if (candidates.length === 1) {
      bridge = candidates[0]!;
      set(bridge, 'bridge', upU, `it saw every unicast frame that came up ${name(bond)} (${upU}), and no other port did: a promiscuous bridge device sees what the bridge forwards, a guest's port only its guest's`);
    }
  }

  // 6. Slaves, guests' ports and chains by the ways in to the bridge device (the rules D2, D3 and
  // D5 without directions: a way in is the ports stamped at or before the bridge device's copy, the
  // host's own frames left aside), before rule 7, so that a chain's hops are named with it.
  if (bridge >= 0) {
    const fc = firstCopies(s);
    const w = waysIn(s, fc, bridge, false);
    const up = sideOfUplink(w, role);
    if (up.side >= 0 && bond >= 0 && w.side[bond] === up.side) {
      // The uplink's other ports, whose frames came up by the bond (their copies at or before its
      // own on ways in, ≥ MIN_HOPS), are its slaves: a backup slave that hears the switch's echoes
      // has hops with the whole host, but comes in by the bond like any.
      for (const q of w.members(up.side)) {
        if (q === bond || role[q] !== 'unknown') continue;
        let viaBond = 0;
        for (let f = 0; f < w.inFrame.length; f++) {
          const g = w.inFrame[f]!;
          const iq = indexOf(fc, g, q);
          const ib = indexOf(fc, g, bond);
          if (iq >= 0 && ib >= 0 && fc.t[iq]! <= fc.t[ib]! && fc.t[ib]! - fc.t[iq]! <= IN_HOST_HOP_NS) viaBond++;
        }
        if (viaBond >= MIN_HOPS) set(q, 'slave', frames[q]!, `${viaBond} frames came in there and up to ${name(bridge)} by ${name(bond)}: a slave of the bond`);
      }
    }
    if (up.side >= 0) guestSides(s, fc, w, up.side, role, frames, false, set, name);
    // 8. Without a bond, NICs in the bridge by spanning tree.
    if (up.side >= 0 && bond < 0) nicsBySpanningTree(s, w, up.side, w.hostMacs, role, frames, set);
  }

  // 7. Guests' ports.
  if (bond >= 0) {
    const { up, after } = throughBond(s, byTime, bond, (q) => role[q] === 'slave');
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
function throughBond(s: FrameSightings, byTime: Int32Array, bond: number, isSlave: (q: number) => boolean): { down: Float64Array; up: Float64Array; after: Float64Array } {
  const n = s.ports.length;
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  const after = new Float64Array(n);
  const slave = new Uint8Array(n);
  for (let p = 0; p < n; p++) slave[p] = isSlave(p) ? 1 : 0;
  /** The frame (+1) in which a port was last counted: no set per frame. */
  const counted = new Int32Array(n);
  const order: number[] = [];
  for (let g = 0; g < s.frames; g++) {
    order.length = 0;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) order.push(byTime[k]!);
    if (order.length < 2) continue;
    // Walk the copies in time: each bond copy came from a slave (a slave copy since the bond's last
    // one) or from the host side; a copy elsewhere after a bond copy got what that one carried.
    let bondAt = -Infinity;
    let bondFromSwitch = false;
    let slaveAt = -Infinity;
    for (const k of order) {
      const p = s.port[k]!;
      const t = s.t[k]!;
      if (p === bond) {
        bondFromSwitch = slaveAt > bondAt && slaveAt < t;
        bondAt = t;
      } else if (slave[p]) slaveAt = t;
      else if (t > bondAt && bondAt > -Infinity && counted[p] !== g + 1) {
        counted[p] = g + 1;
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
      if (prevAlone && nextAlone && slave[s.port[next]!] && s.port[prev] !== s.port[next]) down[s.port[prev]!]++;
    }
  }
  return { down, up, after };
}

/**
 * Each frame's sightings in time order: byTime[start[g] … start[g+1]-1] are frame g's sighting
 * indexes, sorted by stamp (insertion sort: a frame has at most a few dozen, mostly in order
 * already). Copies at one stamp keep the order they were read in; no rule reads that order.
 */
function timeOrder(s: FrameSightings): Int32Array {
  const out = new Int32Array(s.t.length);
  for (let g = 0; g < s.frames; g++) {
    const a = s.start[g]!;
    const b = s.start[g + 1]!;
    for (let k = a; k < b; k++) {
      const t = s.t[k]!;
      let j = k - 1;
      while (j >= a && s.t[out[j]!]! > t) {
        out[j + 1] = out[j]!;
        j--;
      }
      out[j + 1] = k;
    }
  }
  return out;
}

/** Share of port b's frames (unicast frames only, if `unicast`) that one of `others` saw too. */
function seenOnAny(s: FrameSightings, b: number, others: number[], unicast: boolean): number {
  const other = new Uint8Array(s.ports.length);
  for (const q of others) other[q] = 1;
  let all = 0;
  let on = 0;
  for (let g = 0; g < s.frames; g++) {
    if (unicast && s.cast[g] !== CAST_UNICAST) continue;
    let hasB = false;
    let hasOther = false;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) {
      if (s.port[k] === b) hasB = true;
      else if (other[s.port[k]!]) hasOther = true;
    }
    if (!hasB) continue;
    all++;
    if (hasOther) on++;
  }
  return all ? on / all : 0;
}

/**
 * The sightings without those of ports whose frames (more than half) no other port saw: every
 * port of a host shares most of its frames with another (a slave's cross the bond, the bridge
 * floods to every port), so such a port's file is not in the others' time (a clock off by more
 * than the pre-pass groups copies over: its copies are frames of their own) or not of this host.
 * Its frames place nothing; it stays unknown, and the rest is inferred as if it was not captured.
 */
function withoutIsolated(s: FrameSightings): FrameSightings {
  const n = s.ports.length;
  const frames = new Float64Array(n);
  const shared = new Float64Array(n);
  const seen = new Int32Array(n);
  for (let g = 0; g < s.frames; g++) {
    let distinct = 0;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) {
      const p = s.port[k]!;
      if (seen[p] === g + 1) continue;
      seen[p] = g + 1;
      frames[p]++;
      distinct++;
    }
    if (distinct < 2) continue;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) if (seen[s.port[k]!] === g + 1) (seen[s.port[k]!] = -(g + 1)), shared[s.port[k]!]++;
  }
  const isolated = new Uint8Array(n);
  let any = false;
  for (let p = 0; p < n; p++) if (frames[p]! > 0 && shared[p]! < ISOLATED * frames[p]!) (isolated[p] = 1), (any = true);
  if (!any) return s;
  return keepSightings(s, (k) => !isolated[s.port[k]!]);
}

/** Share of a port's frames another port must have seen for its frames to place anything (withoutIsolated). */
const ISOLATED = 0.5;

/** Share of sightings whose direction the capture gave, above which the rules D1–D5 are read. */
const DIRECTED = 0.9;

function isDirected(s: FrameSightings): boolean {
  let with_ = 0;
  for (let k = 0; k < s.dir.length; k++) if (s.dir[k] !== 0) with_++;
  return s.dir.length > 0 && with_ >= DIRECTED * s.dir.length;
}

/**
 * Each port's first copy of each frame (its earliest stamp; at one stamp, an 'in' copy before an
 * 'out' one, so that nothing depends on the order the copies were read in): frame g's are
 * start[g] … start[g+1]-1.
 */
interface FirstCopies {
  start: Int32Array;
  port: Int32Array;
  t: Float64Array;
  dir: Uint8Array;
}

function firstCopies(s: FrameSightings): FirstCopies {
  const n = s.ports.length;
  const at = new Int32Array(n).fill(-1);
  const start = new Int32Array(s.frames + 1);
  const port = new Int32Array(s.t.length);
  const t = new Float64Array(s.t.length);
  const dir = new Uint8Array(s.t.length);
  let w = 0;
  for (let g = 0; g < s.frames; g++) {
    start[g] = w;
    for (let k = s.start[g]!; k < s.start[g + 1]!; k++) {
      const p = s.port[k]!;
      const i = at[p]!;
      if (i < start[g]!) {
        at[p] = w;
        port[w] = p;
        t[w] = s.t[k]!;
        dir[w++] = s.dir[k]!;
      } else if (s.t[k]! < t[i]! || (s.t[k] === t[i] && s.dir[k]! < dir[i]!)) {
        t[i] = s.t[k]!;
        dir[i] = s.dir[k]!;
      }
    }
  }
  start[s.frames] = w;
  return { start, port: port.subarray(0, w), t: t.subarray(0, w), dir: dir.subarray(0, w) };
}

/**
 * The rules D1–D5 (the file's header): roles from the directions the capture gave each copy.
 * `role` holds the roles known before (flags, --links names, a recorded topology) and is filled in.
 */
function inferDirected(s: FrameSightings, role: PortRole[]): InferredRole[] {
  const n = s.ports.length;
  const fc = firstCopies(s);
  const out: InferredRole[] = [];
  const name = (p: number): string => s.ports[p]!.name;
  const frames = new Float64Array(n);
  for (let i = 0; i < fc.port.length; i++) frames[fc.port[i]!]++;
  const set = (p: number, r: PortRole, count: number, reason: string, via: string | null = null): void => {
    role[p] = r;
    out.push({ port: p, name: name(p), role: r, bond: null, bridge: null, via, frames: count, reason: `inferred from ${count} frames: ${reason}` });
  };
  const ports = [...Array(n).keys()];

  // D1. The bridge device: the port whose own frames the bridge floods — a frame first seen going
  // out there, alone at its stamp, then going out on two or more other ports before any port sees
  // it come in — and to which frames come up from two or more other ports (their copies in, at or
  // before its own copy in).
  let bridge = role.indexOf('bridge');
  if (bridge < 0) {
    const floods = new Float64Array(n);
    const upFromPort = new Float64Array(n * n);
    for (let g = 0; g < s.frames; g++) {
      const a = fc.start[g]!;
      const b = fc.start[g + 1]!;
      let first = -1;
      let t0 = Infinity;
      let tied = false;
      let firstIn = Infinity;
      for (let i = a; i < b; i++) {
        if (fc.t[i]! < t0) {
          t0 = fc.t[i]!;
          first = i;
          tied = false;
        } else if (fc.t[i] === t0) tied = true;
        if (fc.dir[i] === DIR_IN && fc.t[i]! < firstIn) firstIn = fc.t[i]!;
      }
      // Frames that came up to a port from another: its copy in, another port's in at or before it.
      for (let i = a; i < b; i++) {
        if (fc.dir[i] !== DIR_IN) continue;
        for (let j = a; j < b; j++) if (j !== i && fc.dir[j] === DIR_IN && fc.t[j]! <= fc.t[i]!) upFromPort[fc.port[j]! * n + fc.port[i]!]++;
      }
      if (first < 0 || tied || fc.dir[first] !== DIR_OUT) continue;
      let outs = 0;
      for (let i = a; i < b; i++) if (i !== first && fc.dir[i] === DIR_OUT && fc.t[i]! < firstIn) outs++;
      if (outs >= 2) floods[fc.port[first]!]++;
    }
    // Frames come up to the bridge device from every side; a guest's port, which the bridge floods
    // first now and then, only ever sees its guest's frames come in (with the bridge device's
    // copy, or its chain's hops', at the same instant).
    const cameUpFrom = (p: number): number => ports.filter((q) => q !== p && upFromPort[q * n + p]! >= MIN_HOPS).length;
    const candidates = ports.filter((p) => role[p] === 'unknown' && floods[p]! >= MIN_HOPS && cameUpFrom(p) >= 2);
    if (candidates.length === 1) {
      bridge = candidates[0]!;
      set(bridge, 'bridge', floods[bridge]!, `${floods[bridge]} frames went out there first and then out of two or more other ports: the bridge flooding the host's own frames from its device`);
    }
  }
  if (bridge < 0) return out;

  // D2. The ways in (waysIn).
  const w = waysIn(s, fc, bridge, true);

  // D3. The uplink (sideOfUplink).
  const up = sideOfUplink(w, role);
  if (up.side < 0) return finish(out, -1, bridge, name);
  const uplink = up.side;

  // D4. The bond: the uplink's port that every frame coming up that way crossed (≥ ALL_CONTAINED
  // of the side's in-sets; the one reached last on the way in where several are), whose frames
  // going out continue out of another of the side's ports (the bond hands each to a slave). Its
  // slaves: the side's ports frames came in by and then up the bond (≥ MIN_HOPS, stamped at or
  // before the bond's copy) — not a port that sees the bond's frames come in (the far end of a
  // veth the bond is, which is 'in' where the bond is 'out').
  const members = w.members(uplink);
  let bond = role.indexOf('bond');
  const crossed = members.filter((p) => w.present[p]! >= ALL_CONTAINED * w.sets[uplink]!);
  /** Frames where p's copy went out and then q's (at or after), both out. */
  const downTo = (p: number, q: number): number => pairCount(s, fc, p, q, (dp, tp, dq, tq) => dp === DIR_OUT && dq === DIR_OUT && tq >= tp && tq - tp <= IN_HOST_HOP_NS);
  /** Frames where q's copy came in and then p's (at or after), both in. */
  const upFrom = (q: number, p: number): number => pairCount(s, fc, p, q, (dp, tp, dq, tq) => dp === DIR_IN && dq === DIR_IN && tq <= tp && tp - tq <= IN_HOST_HOP_NS);
  /** Frames whose copy on q came in strictly before p's (q nearer the switch). */
  const strictlyBefore = (q: number, p: number): number => pairCount(s, fc, p, q, (dp, tp, dq, tq) => dp === DIR_IN && dq === DIR_IN && tq < tp);
  if (bond < 0) {
    let candidates = crossed.filter((p) => role[p] === 'unknown' && members.some((q) => q !== p && downTo(p, q) >= MIN_HOPS));
    if (candidates.length > 1) candidates = candidates.filter((p) => candidates.every((q) => q === p || (strictlyBefore(q, p) >= MIN_HOPS && strictlyBefore(p, q) === 0)));
    if (candidates.length === 1) {
      bond = candidates[0]!;
      set(bond, 'bond', frames[bond]!, `${up.why}, and every frame coming up that way crossed it; frames going out by it went on out of another port of that side: the bond`);
    }
  }
  if (bond >= 0) {
    for (const q of members) {
      if (q === bond || role[q] !== 'unknown') continue;
      const n = upFrom(q, bond);
      if (n >= MIN_HOPS) set(q, 'slave', frames[q]!, `${n} frames came in there and then up ${name(bond)}: a slave of the bond`);
    }
  }
  // (Without a bond the uplink's ports are a bond or NICs in the bridge: the frames do not say
  // which, spanning tree may: rule 8.)

  // D5. Guests' ports and chains (guestSides).
  guestSides(s, fc, w, uplink, role, frames, true, set, name);
  if (bond < 0) nicsBySpanningTree(s, w, uplink, w.hostMacs, role, frames, set);
  return finish(out, bond, bridge, name);
}

/** Frames where ports p and q both have a first copy for which `when(dir p, t p, dir q, t q)` holds. */
function pairCount(s: FrameSightings, fc: FirstCopies, p: number, q: number, when: (dp: number, tp: number, dq: number, tq: number) => boolean): number {
  let c = 0;
  for (let g = 0; g < s.frames; g++) {
    const ip = indexOf(fc, g, p);
    if (ip < 0) continue;
    const iq = indexOf(fc, g, q);
    if (iq >= 0 && when(fc.dir[ip]!, fc.t[ip]!, fc.dir[iq]!, fc.t[iq]!)) c++;
  }
  return c;
}

/**
 * The ways in to the bridge device (rules D2 and 6): per frame that came up to it, the other
 * ports that had it at or before its copy (with directions, only those whose copy came in); the
 * sides of the bridge they make up, each the ports that come in together.
 */
interface WaysIn {
  /** In-sets: frame g = inFrame[f], its ports inPorts[inStart[f] … inStart[f+1]-1]; only those wholly on one side. */
  inFrame: number[];
  inStart: number[];
  inPorts: number[];
  /** Per port its side (a port's index standing for it), -1 for a port on no way in. */
  side: Int32Array;
  sides: number[];
  /** Per side: its in-sets; per port: the in-sets it is in. */
  sets: Float64Array;
  present: Float64Array;
  /** Per side: source MAC → frames. */
  macs: Map<number, Map<number, number>>;
  /** Source MACs of the frames the bridge device sent itself (its copy first, alone; with directions, going out). */
  hostMacs: Set<number>;
  members(side: number): number[];
  /** Per side: machines behind it (source MACs of two frames or more). */
  machines(side: number): number;
  /** Per side: the in-sets of its most frequent source MAC. */
  dominant(side: number): number;
  /** Whether frames came up by two of the side's ports, each without the other (≥ MIN_HOPS each way). */
  twoLinks(side: number): boolean;
}

function waysIn(s: FrameSightings, fc: FirstCopies, bridge: number, directed: boolean): WaysIn {
  const n = s.ports.length;
  // Without directions the host's own frames are told by the bridge device's copy alone first:
  // their MACs are the host's, and a frame of the host is no way in, whatever ties with it.
  // (With directions, the frames it sent are those it saw go out first, alone.)
  const hostMacs = new Set<number>();
  for (let g = 0; g < s.frames; g++) {
    const d = indexOf(fc, g, bridge);
    if (d >= 0 && aloneFirst(fc, g, d) && (!directed || fc.dir[d] === DIR_OUT)) hostMacs.add(s.src[g]!);
  }
  const raw: number[][] = [];
  const rawFrame: number[] = [];
  const together = new Float64Array(n * n);
  const count = new Float64Array(n);
  for (let g = 0; g < s.frames; g++) {
    const a = fc.start[g]!;
    const b = fc.start[g + 1]!;
    const d = indexOf(fc, g, bridge);
    if (d < 0) continue;
    const td = fc.t[d]!;
    if (directed) {
      // Only frames that came from beyond a port (first seen coming in) and up to the bridge
      // device: what a device of the host sent (the bond's own frames) and then came back up is no way in.
      if (fc.dir[d] !== DIR_IN) continue;
      let t0 = Infinity;
      let fromBeyond = true;
      for (let i = a; i < b; i++) {
        if (fc.t[i]! < t0) (t0 = fc.t[i]!), (fromBeyond = fc.dir[i] === DIR_IN);
        else if (fc.t[i] === t0 && fc.dir[i] !== DIR_IN) fromBeyond = false;
      }
      if (!fromBeyond) continue;
    } else if (hostMacs.has(s.src[g]!) || aloneFirst(fc, g, d)) continue;
    const set: number[] = [];
    for (let i = a; i < b; i++) if (i !== d && fc.t[i]! <= td && td - fc.t[i]! <= IN_HOST_HOP_NS && (!directed || fc.dir[i] === DIR_IN)) set.push(fc.port[i]!);
    if (!set.length) continue;
    raw.push(set);
    rawFrame.push(g);
    for (const p of set) {
      count[p]++;
      for (const q of set) if (q !== p) together[p * n + q]++;
    }
  }
  // Ports are on one way in when they come in together in most (≥ MOSTLY) of the in-sets of the
  // one of them that comes in less often: a copy that ties with the bridge device's now and then
  // (a guest's port flooded in the same microsecond) joins no side.
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]!]!;
    return x;
  };
  for (let p = 0; p < n; p++) {
    for (let q = p + 1; q < n; q++) {
      const both = together[p * n + q]!;
      if (both >= MIN_HOPS && both >= MOSTLY * Math.min(count[p]!, count[q]!)) {
        const rp = find(p);
        const rq = find(q);
        if (rp !== rq) parent[Math.max(rp, rq)] = Math.min(rp, rq);
      }
    }
  }
  const side = new Int32Array(n).fill(-1);
  for (let p = 0; p < n; p++) if (count[p]! > 0 && p !== bridge) side[p] = find(p);
  const inFrame: number[] = [];
  const inStart: number[] = [];
  const inPorts: number[] = [];
  const sets = new Float64Array(n);
  const present = new Float64Array(n);
  const macs = new Map<number, Map<number, number>>();
  for (let f = 0; f < raw.length; f++) {
    const set = raw[f]!;
    const root = side[set[0]!]!;
    if (set.some((p) => side[p] !== root)) continue;
    inFrame.push(rawFrame[f]!);
    inStart.push(inPorts.length);
    inPorts.push(...set);
    sets[root]++;
    for (const p of set) present[p]++;
    let m = macs.get(root);
    if (!m) macs.set(root, (m = new Map()));
    const src = s.src[rawFrame[f]!]!;
    m.set(src, (m.get(src) ?? 0) + 1);
  }
  inStart.push(inPorts.length);
  const sides = [...new Set([...side].filter((r) => r >= 0))].sort((x, y) => x - y);
  const members = (root: number): number[] => [...Array(n).keys()].filter((p) => side[p] === root && present[p]! > 0);
  return {
    inFrame,
    inStart,
    inPorts,
    side,
    sides,
    sets,
    present,
    macs,
    hostMacs,
    members,
    machines: (root) => [...(macs.get(root)?.values() ?? [])].filter((c) => c >= 2).length,
    dominant: (root) => Math.max(0, ...(macs.get(root)?.values() ?? [])),
    twoLinks: (root) => {
      const ms = members(root);
      const k = ms.length;
      const alone = new Float64Array(k * k);
      for (let f = 0; f < inFrame.length; f++) {
        if (side[inPorts[inStart[f]!]!] !== root) continue;
        const here = inPorts.slice(inStart[f]!, inStart[f + 1]!);
        for (let x = 0; x < k; x++) for (let y = 0; y < k; y++) if (x !== y && here.includes(ms[x]!) && !here.includes(ms[y]!)) alone[x * k + y]++;
      }
      for (let x = 0; x < k; x++) for (let y = x + 1; y < k; y++) if (alone[x * k + y]! >= MIN_HOPS && alone[y * k + x]! >= MIN_HOPS) return true;
      return false;
    },
  };
}

/**
 * Rule 8, NICs in the bridge by spanning tree: with no bond, two or more of the uplink side's
 * ports that hear BPDUs of a bridge that is not the host's (its MAC is none of the bridge
 * device's own frames' sources) face a switch: they are the bridge's uplink NICs ('slave', of no
 * bond). Not when a BPDU was heard on two ports (a slave hands the switch's BPDUs up to its bond:
 * the ports would be a bond and its slave), nor for one port alone (the bond itself hears them
 * when its slaves are not captured).
 */
function nicsBySpanningTree(
  s: FrameSightings,
  w: WaysIn,
  uplink: number,
  hostMacs: Set<number>,
  role: PortRole[],
  frames: Float64Array,
  set: (p: number, r: PortRole, count: number, reason: string) => void,
): void {
  if (s.bpduCrossed > 0 || hostMacs.size === 0) return;
  const facing = new Map<number, number>();
  for (let i = 0; i < s.bpduPort.length; i++) {
    const p = s.bpduPort[i]!;
    if (w.side[p] === uplink && !hostMacs.has(s.bpduBridge[i]!)) facing.set(p, s.bpduBridge[i]!);
  }
  if (facing.size < 2 || [...facing.keys()].some((p) => role[p] !== 'unknown')) return;
  for (const [p, bridgeMac] of facing) set(p, 'slave', frames[p]!, `it is on the uplink's side of the bridge and hears the spanning-tree BPDUs of another bridge (${formatMac(bridgeMac)}), with no bond: a NIC of the bridge facing a switch`);
}

/** Whether copy i is frame g's first, alone at its stamp. */
function aloneFirst(fc: FirstCopies, g: number, i: number): boolean {
  for (let j = fc.start[g]!; j < fc.start[g + 1]!; j++) if (j !== i && fc.t[j]! <= fc.t[i]!) return false;
  return true;
}

/**
 * The uplink's side (rules D3 and 6): the side that holds a port already known as a slave or the
 * bond; else the one side frames came in by over two links (two ports, each without the other: a
 * bond's slaves); else the one side whose frames came from two or more machines (source MACs in
 * two frames or more), every other side's from one: behind a guest's port is one machine, behind
 * the uplink a network. -1 when none is told.
 */
function sideOfUplink(w: WaysIn, role: readonly PortRole[]): { side: number; why: string } {
  const known = w.sides.filter((r) => w.members(r).some((p) => role[p] === 'slave' || role[p] === 'bond'));
  if (known.length === 1) return { side: known[0]!, why: 'on the side of the bridge a known uplink port is on' };
  if (known.length > 1) return { side: -1, why: '' };
  const linked = w.sides.filter((r) => w.sets[r]! >= MIN_HOPS && w.twoLinks(r));
  if (linked.length === 1) return { side: linked[0]!, why: 'frames came up to the bridge over two links (by each of two ports without the other)' };
  if (linked.length > 1) return { side: -1, why: '' };
  const networks = w.sides.filter((r) => w.sets[r]! >= MIN_HOPS && w.machines(r) >= 2);
  if (networks.length === 1) return { side: networks[0]!, why: `frames from ${w.machines(networks[0]!)} machines came up to the bridge that way, from one by every other way` };
  return { side: -1, why: '' };
}

/**
 * Guests' ports and chains (rules D5 and 6): with the uplink's side known, every other side with
 * MIN_HOPS in-sets or more, whose frames came from one machine (one source MAC in ≥ MOSTLY of its
 * in-sets: a Proxmox firewall bridge sends a frame of its own now and then), and to which frames that came up
 * by the uplink went on (≥ MIN_HOPS; with directions, out; without, stamped after the bridge
 * device's copy), is a guest's: what comes up the bridge not from the uplink came from a guest,
 * and the bridge floods what comes from outside to its guests, never back to the uplink (a slave
 * whose bond was not captured has a side of its own, but never gets the uplink's frames). A side
 * of one port is a guest's port. A side of several is a guest's chain (Proxmox's tap → fwbr →
 * fwln ⇄ fwpr): with directions joined by the ports that carry its frames the other way round
 * (the inner end of its veth pair, out where the chain goes up and in where it comes down, which
 * is on no way in); its port on the bridge (`via`) is the one reached last on the way up and
 * first on the way down. A chain whose bridge port the stamps do not tell stays unknown.
 */
function guestSides(
  s: FrameSightings,
  fc: FirstCopies,
  w: WaysIn,
  uplink: number,
  role: PortRole[],
  frames: Float64Array,
  directed: boolean,
  set: (p: number, r: PortRole, count: number, reason: string, via?: string | null) => void,
  name: (p: number) => string,
): void {
  const n = s.ports.length;
  const bridge = role.indexOf('bridge');
  /** Per port: frames that came up by the uplink (its in-sets) and went on to it. */
  const floodedFromUplink = new Float64Array(n);
  for (let f = 0; f < w.inFrame.length; f++) {
    if (w.side[w.inPorts[w.inStart[f]!]!] !== uplink) continue;
    const g = w.inFrame[f]!;
    const d = indexOf(fc, g, bridge);
    for (let i = fc.start[g]!; i < fc.start[g + 1]!; i++) if (directed ? fc.dir[i] === DIR_OUT : d >= 0 && fc.t[i]! > fc.t[d]!) floodedFromUplink[fc.port[i]!]++;
  }
  for (const root of w.sides) {
    if (root === uplink || w.sets[root]! < MIN_HOPS || w.dominant(root) < MOSTLY * w.sets[root]!) continue;
    const chain = w.members(root);
    if (chain.some((p) => role[p] !== 'unknown' && role[p] !== 'guest')) continue;
    if (!chain.some((p) => floodedFromUplink[p]! >= MIN_HOPS)) continue;
    if (chain.length === 1) {
      const p = chain[0]!;
      if (role[p] === 'unknown') set(p, 'guest', frames[p]!, `${w.present[p]} frames came up to the bridge by it, not by the uplink, all from one machine, and what came in from outside went on to it: a guest's port`);
      continue;
    }
    const inSets = new Set<number>();
    for (let f = 0; f < w.inFrame.length; f++) if (w.side[w.inPorts[w.inStart[f]!]!] === root) inSets.add(w.inFrame[f]!);
    const { lastUp, firstDown } = chainEnds(s, fc, chain, bridge, inSets);
    const vias = chain.filter((p) => lastUp[p]! >= MIN_HOPS && firstDown[p]! >= MIN_HOPS);
    if (vias.length !== 1) continue;
    const via = vias[0]!;
    if (directed) {
      for (let p = 0; p < n; p++) {
        if (p === bridge || role[p] !== 'unknown' || w.side[p]! >= 0) continue;
        if (oppositeTwin(s, fc, p, via)) chain.push(p);
      }
    }
    for (const p of chain) {
      if (role[p] !== 'unknown') continue;
      if (p === via) set(p, 'guest', frames[p]!, `${w.present[p]} frames came up to the bridge by it and ${chain.length - 1} other hops, not by the uplink, all from one machine; it is the hop the bridge reaches first: a guest's port`);
      else set(p, 'guest', frames[p]!, `its frames are those of a guest's chain of hops whose port on the bridge is ${name(via)}: a hop of a guest's chain`, name(via));
    }
  }
}

/** The copy index of port p in frame g's first copies, -1 when p has none. */
function indexOf(fc: FirstCopies, g: number, p: number): number {
  for (let i = fc.start[g]!; i < fc.start[g + 1]!; i++) if (fc.port[i] === p) return i;
  return -1;
}

/**
 * The ends of a guest's chain (rules D5 and 6): per port, the frames going up the chain (its
 * side's in-sets) where the port's copy was the chain's last (strictly), and the frames coming
 * down it (the bridge device's copy at or before every copy of the chain) where it was the chain's first.
 */
function chainEnds(s: FrameSightings, fc: FirstCopies, chain: number[], bridge: number, inSets: Set<number>): { lastUp: Float64Array; firstDown: Float64Array } {
  const n = s.ports.length;
  const lastUp = new Float64Array(n);
  const firstDown = new Float64Array(n);
  const inChain = new Uint8Array(n);
  for (const p of chain) inChain[p] = 1;
  for (let g = 0; g < s.frames; g++) {
    const a = fc.start[g]!;
    const b = fc.start[g + 1]!;
    const d = indexOf(fc, g, bridge);
    if (d < 0) continue;
    let copies = 0;
    let last = -1;
    let lastT = -Infinity;
    let lastTied = false;
    let first = -1;
    let firstT = Infinity;
    let firstTied = false;
    for (let i = a; i < b; i++) {
      const p = fc.port[i]!;
      if (!inChain[p]) continue;
      copies++;
      if (fc.t[i]! > lastT) (lastT = fc.t[i]!), (last = p), (lastTied = false);
      else if (fc.t[i] === lastT) lastTied = true;
      if (fc.t[i]! < firstT) (firstT = fc.t[i]!), (first = p), (firstTied = false);
      else if (fc.t[i] === firstT) firstTied = true;
    }
    if (copies < 2) continue;
    if (inSets.has(g)) {
      if (!lastTied) lastUp[last]++;
    } else if (fc.t[d]! <= firstT && !firstTied) firstDown[first]++;
  }
  return { lastUp, firstDown };
}

/**
 * Whether p is the far end of q's veth pair: each has (≥ ALL_CONTAINED of) the other's frames, and
 * where both saw a frame it went out of one and into the other.
 */
function oppositeTwin(s: FrameSightings, fc: FirstCopies, p: number, q: number): boolean {
  let onP = 0;
  let onQ = 0;
  let both = 0;
  let opposite = 0;
  for (let g = 0; g < s.frames; g++) {
    const ip = indexOf(fc, g, p);
    const iq = indexOf(fc, g, q);
    if (ip >= 0) onP++;
    if (iq >= 0) onQ++;
    if (ip < 0 || iq < 0) continue;
    both++;
    if (fc.dir[ip] !== fc.dir[iq] && fc.dir[ip] !== 0 && fc.dir[iq] !== 0) opposite++;
  }
  return both >= MIN_HOPS && both >= ALL_CONTAINED * onP && both >= ALL_CONTAINED * onQ && opposite >= ALL_CONTAINED * both;
}

/** Relations: slaves to the bond, the bond and guests' ports to the bridge. */
function finish(out: InferredRole[], bond: number, bridge: number, name: (p: number) => string): InferredRole[] {
  for (const r of out) {
    if (r.role === 'slave' && bond >= 0) r.bond = name(bond);
    if ((r.role === 'bond' || r.role === 'guest') && bridge >= 0) r.bridge = name(bridge);
  }
  return out;
}
