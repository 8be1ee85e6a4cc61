/**
 * Roles from the frames, for ports that flags, a recorded topology, discovery and names leave
 * unknown (`a.pcap`, `capture2.pcap`, an `-i any` capture without --links). A pure function over
 * the pre-pass's sightings (src/engine/prepass.ts): which ports see each frame, and in what order.
 * It fills 'unknown' roles only; a role said by anything else is never changed, and serves as an
 * anchor for the rules below.
 *
 * The rules, in the order they are applied, each with why:
 *  1. The bridge is the one port whose unicast frames include (≥ CONTAINED) those of every other
 *     port with unicast, while its own are in no other port's: a bridge device captured by
 *     tcpdump or dumpcap is promiscuous, so it sees every frame the bridge forwards, besides its
 *     own traffic.
 *  2. The bond is the one port (not the bridge) that holds (≥ ALL_CONTAINED of its frames, and
 *     ≥ CONTAINED of its unicast) all of another port's frames, which holds fewer of the bond's:
 *     every frame on a slave crosses the bond, and the bond also carries the other slave's.
 *  3. A guest's port carries unicast that never crosses the bond (> GUEST_BYPASS of it: the guest
 *     talking to the host or another guest), all of it seen by the bridge: a slave's unicast always
 *     crosses the bond.
 *  4. Sides, once the bond and one anchor of either side are known: a frame that entered the host
 *     at port P (P stamped strictly first) and crossed the bond reaches, after the bond, the other
 *     side. If the first port with a known role after the bond is a slave, P is on the host side (a
 *     guest's port); if it is a guest's port, P is on the uplink (a slave of the bond). The bridge
 *     device is no anchor: it is stamped after the bond on the way out as well as on the way in.
 *     Repeated while it names new ports, so each new anchor can place others.
 * A rule that two ports satisfy equally names neither, and a port whose votes (rule 4) are not
 * clearly one-sided (≥ MIN_VOTES, at most 1/10 the other way) stays unknown: a role never comes
 * from a tie. Frames stamped the same instant on two ports give no order and no vote.
 * Per-interface captures that start and stop at different moments are compared only over the time
 * all of them were capturing, so that a port's absence from a frame means it did not see it.
 */
import type { PortRole } from '../model/topology.js';
import { CAST_UNICAST, type FrameSightings } from './prepass.js';

/** Share of one port's frames that another must also hold to contain it. */
const CONTAINED = 0.9;
const ALL_CONTAINED = 0.95;
/** Share of a port's unicast that, bypassing the bond, makes it a guest's port. */
const GUEST_BYPASS = 0.25;
/** Unicast frames a port needs before containment says anything about it. */
const MIN_UNICAST = 4;
/** One-sided votes needed by rule 4. */
const MIN_VOTES = 3;

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
  const { from, to } = commonWindow(s);
  const frames = new Float64Array(n);
  const uni = new Float64Array(n);
  const co = new Float64Array(n * n);
  const coU = new Float64Array(n * n);
  const seen = new Uint8Array(n);
  const inWindow: number[] = [];
  for (let g = 0; g < s.frames; g++) {
    const a = s.start[g]!;
    const b = s.start[g + 1]!;
    let first = Infinity;
    for (let k = a; k < b; k++) if (s.t[k]! < first) first = s.t[k]!;
    if (first < from || first > to) continue;
    inWindow.push(g);
    seen.fill(0);
    const ports: number[] = [];
    for (let k = a; k < b; k++) if (!seen[s.port[k]!]) ports.push(s.port[k]!), (seen[s.port[k]!] = 1);
    const u = s.cast[g] === CAST_UNICAST;
    for (const p of ports) {
      frames[p]++;
      if (u) uni[p]++;
      for (const q of ports) {
        if (q === p) continue;
        co[p * n + q]++;
        if (u) coU[p * n + q]++;
      }
    }
  }
  const out: InferredRole[] = [];
  const name = (p: number): string => s.ports[p]!.name;
  const set = (p: number, r: PortRole, count: number, reason: string): void => {
    role[p] = r;
    out.push({ port: p, name: name(p), role: r, bond: null, bridge: null, frames: count, reason: `inferred from ${count} frames: ${reason}` });
  };
  const uContained = (p: number, q: number): number => (uni[p] ? coU[p * n + q]! / uni[p]! : 0);
  const aContained = (p: number, q: number): number => (frames[p] ? co[p * n + q]! / frames[p]! : 0);

  // 1. The bridge.
  let bridge = role.indexOf('bridge');
  if (bridge < 0) {
    const withUnicast = [...Array(n).keys()].filter((p) => uni[p]! >= MIN_UNICAST);
    const candidates = withUnicast.filter(
      (p) =>
        role[p] === 'unknown' &&
        withUnicast.filter((q) => q !== p).length >= 2 &&
        withUnicast.every((q) => q === p || (uContained(q, p) >= CONTAINED && uContained(p, q) < CONTAINED)),
    );
    if (candidates.length === 1) {
      bridge = candidates[0]!;
      const others = withUnicast.filter((q) => q !== bridge);
      set(bridge, 'bridge', uni[bridge]!, `it saw the unicast of every other port (${others.map(name).join(', ')}), and they not all of its: a promiscuous bridge device sees every frame it forwards`);
    }
  }

  // 2. The bond.
  let bond = role.indexOf('bond');
  if (bond < 0) {
    const holds = (p: number, q: number): boolean => uni[q]! >= MIN_UNICAST && uContained(q, p) >= CONTAINED && aContained(q, p) >= ALL_CONTAINED && aContained(p, q) < ALL_CONTAINED;
    const candidates = [...Array(n).keys()].filter((p) => role[p] === 'unknown' && p !== bridge && [...Array(n).keys()].some((q) => q !== p && q !== bridge && holds(p, q)));
    if (candidates.length === 1) {
      bond = candidates[0]!;
      const held = [...Array(n).keys()].filter((q) => q !== bond && q !== bridge && holds(bond, q));
      set(bond, 'bond', frames[bond]!, `every frame of ${held.map(name).join(', ')} crossed it, and it carried more (a bond carries all of its slaves' frames)`);
    }
  }

  // 3. Guests' ports by unicast that bypasses the bond.
  if (bond >= 0 && bridge >= 0) {
    for (let p = 0; p < n; p++) {
      if (role[p] !== 'unknown' || uni[p]! < MIN_UNICAST) continue;
      if (uContained(p, bridge) >= CONTAINED && 1 - uContained(p, bond) > GUEST_BYPASS) {
        set(p, 'guest', uni[p]!, `${Math.round((1 - uContained(p, bond)) * uni[p]!)} of its ${uni[p]} unicast frames never crossed ${name(bond)}, all reached ${name(bridge)}: a guest's port (a slave's traffic always crosses the bond)`);
      }
    }
  }

  // 4. Sides, by the first known port after the bond.
  if (bond >= 0) {
    for (let round = 0; round < 4; round++) {
      const host = new Float64Array(n);
      const uplink = new Float64Array(n);
      const order: number[] = [];
      for (const g of inWindow) {
        order.length = 0;
        for (let k = s.start[g]!; k < s.start[g + 1]!; k++) order.push(k);
        order.sort((x, y) => s.t[x]! - s.t[y]!);
        const e = s.port[order[0]!]!;
        if (role[e] !== 'unknown' || order.length < 3 || s.t[order[1]!]! === s.t[order[0]!]!) continue;
        // The first bond sighting strictly after the entry, then the first anchor strictly after it.
        let i = 1;
        while (i < order.length && s.port[order[i]!] !== bond) i++;
        if (i >= order.length) continue;
        const tb = s.t[order[i]!]!;
        let side: PortRole | null = null;
        for (let j = i + 1; j < order.length && side === null; j++) {
          const q = s.port[order[j]!]!;
          if (s.t[order[j]!]! === tb || q === bond || q === e) continue;
          if (role[q] === 'slave' || role[q] === 'guest') side = role[q]!;
        }
        if (side === 'slave') host[e]++;
        else if (side === 'guest') uplink[e]++;
      }
      let named = 0;
      for (let p = 0; p < n; p++) {
        if (role[p] !== 'unknown' || p === bond) continue;
        const [h, u] = [host[p]!, uplink[p]!];
        if (h >= MIN_VOTES && u * 10 <= h) {
          set(p, 'guest', h, `${h} frames that entered the host here crossed ${name(bond)} and then went out of a slave${u ? ` (${u} the other way)` : ''}: a guest's port`);
          named++;
        } else if (u >= MIN_VOTES && h * 10 <= u) {
          set(p, 'slave', u, `${u} frames that entered the host here crossed ${name(bond)} and then reached a guest's port${h ? ` (${h} the other way)` : ''}: a slave of the bond`);
          named++;
        }
      }
      if (!named) break;
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

/** The time every input was capturing: from the latest first sighting to the earliest last one. */
function commonWindow(s: FrameSightings): { from: number; to: number } {
  if (s.inputs < 2) return { from: -Infinity, to: Infinity };
  const first = new Float64Array(s.inputs).fill(Infinity);
  const last = new Float64Array(s.inputs).fill(-Infinity);
  for (let k = 0; k < s.t.length; k++) {
    const i = s.input[k]!;
    if (s.t[k]! < first[i]!) first[i] = s.t[k]!;
    if (s.t[k]! > last[i]!) last[i] = s.t[k]!;
  }
  let from = -Infinity;
  let to = Infinity;
  for (let i = 0; i < s.inputs; i++) {
    if (first[i] === Infinity) continue;
    from = Math.max(from, first[i]!);
    to = Math.min(to, last[i]!);
  }
  return from <= to ? { from, to } : { from: -Infinity, to: Infinity };
}
