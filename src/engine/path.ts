/**
 * The path of one frame through the host: from the sightings of one frame (port, time, direction
 * when the capture gave one) and the host's port graph, where the frame started and what each
 * sighting was — the original, a copy on its way out, a copy the bridge flooded to a guest or
 * passed up to the host, the echo coming back in on the other slave, the echo going up the bond —
 * or that a sighting is not this frame at all but the same bytes sent again (a resend), which the
 * caller runs through here again as a frame of its own.
 *
 * A pure function of its inputs: no engine state, so it is tested table by table
 * (test/engine/path.test.ts) and every detector reads the same answer.
 *
 * The host's port graph: guest ports (a guest's chain of ports, e.g. Proxmox's tap → fwbr → fwln
 * ⇄ fwpr, is one place) ↔ the bridge (its own device) ↔ the bond ↔ its slaves ↔ the switches.
 *
 * The rules, each physical, in the order they are applied:
 *
 *  R1 Time order. Sightings are read in time order. Copies stamped the same instant (one skb seen
 *     by several taps) are put in the order of the graph: outward (guest, bridge, bond, slave) for
 *     a frame that started on the host side, inward (slave, bond, bridge, guest) for one from
 *     outside — and, for a host-side frame, inward again once a slave has seen it (the echo's way
 *     back in: bond before bridge).
 *  R2 Where it started. Directions from the capture decide, not the stamps (live mode stamps
 *     on arrival): in on a guest's port or out of the bridge device is a start on the host side;
 *     out of the bond or a slave with no such start, a frame the bond sent itself (IPv6 neighbour
 *     and router solicitations, MLD reports from its own link-local address) — a frame from
 *     outside never goes out of the uplink again; else in on the uplink, from outside; the origin
 *     then goes first whatever its stamp. Without directions: the earliest copies, ties broken by
 *     R1, with the MAC's known place (a guest's port, the host's own) for a host-side copy; with no
 *     host-side port captured, the bond's copy before any slave's (the host side's frame leaves
 *     by the bond, one from outside comes in on a slave first), and only where the stamps cannot
 *     say, the MAC (a guest's OUI: a hint the detectors build no fault on). A
 *     known guest first seen on the uplink while the host side was captured is outside now (it
 *     migrated). An unknown port never becomes the origin by a tie. Capture windows: a frame seen
 *     only on the uplink while no host-side port was capturing, or only on the host side while its
 *     way in from outside was not being captured, proves nothing about where it came from (not
 *     learned anywhere) — nor does one within a hop of a window's start or end (its copy there may
 *     fall just outside it). The way in is the bond when the set has one (every frame from outside
 *     crosses it; the set's slaves need not be all of its slaves), else every slave of the set;
 *     NICs straight in the bridge forward a frame from outside out of the other NIC, so there a
 *     later uplink copy does not show it. A copy on a guest's port (no captured direction) is not
 *     where the frame started while another host-side port without a copy had stopped capturing:
 *     flooded from there, it looks the same. A pass of the same bytes after one that started on the
 *     host side, out of the bond before any slave, is that sender's resend.
 *  R3 One hop at a time. Copies of one frame follow each other by at most the switch round trip
 *     (SWITCH_ROUND_TRIP_NS, enforced where sightings are grouped); hops inside the host take
 *     microseconds.
 *  R4 A reflection returns on a different slave than the frame left by: a second copy on the slave
 *     it went out of is the frame sent again, not an echo (the bond's own frame on eth0 then bond0
 *     with no second slave is not an echo).
 *  R5 The echo goes up the bond a hop (IN_HOST_HOP_NS) after it came in on a slave: with a slave
 *     capturing, a second copy on the bond with no copy in on another slave just before it is a
 *     resend (the bond's own frame again, tens of ms later), and so is one followed, a hop later,
 *     by a copy out of the slave the frame left by (the sender repeated itself microseconds later:
 *     an echo going up is never sent out again, R7). With no slave capturing, a second copy on the
 *     bond may be either: it is taken as the echo, and the detectors claim no loop from it. A copy the capture says came in on the bond is the echo up, whatever its stamp;
 *     one from another file stamped within ALIGN_TOLERANCE_NS before its echo's copy on the other
 *     slave is reordered (clocks lined up by estimate agree only that well).
 *  R6 A second copy entering at the port where the frame started is a resend, not an echo (a guest
 *     re-sending its ARP request; the host re-sending its neighbour solicitation) — unless the
 *     echo was already seen coming back up: then it is the echo flooded back to its sender.
 *  R7 The bridge never floods a frame back out of the port it came in on, and floods each frame to
 *     each port once: a second copy on a port before the echo is a resend. A guest's chain (tap,
 *     fwbr, fwln, fwpr) passes each copy along once: a port of it seeing the frame again begins
 *     another pass, and every later copy on that chain belongs to it.
 *  R8 A frame from outside comes in on the slaves (both, when the switches flood it to both) and
 *     goes up the bond once per copy that came in; never in on a guest port. With NICs straight in
 *     the bridge (no bond), the bridge forwards it out of the other NIC as to any of its ports.
 *  R9 The bridge device sees a unicast frame for another MAC only because it is promiscuous (a
 *     tcpdump on it): br_handle_frame_finish() passes the frame up locally when the bridge device
 *     has IFF_PROMISC, before (and whatever) the forwarding decision. That copy is `promiscuous`,
 *     never `flooded`: a frame the bridge then drops (for a guest it has learned on the port the
 *     frame came in on) was not delivered anywhere.
 */
import { DIR_IN, DIR_OUT, DIR_UNKNOWN } from '../model/record.js';

/**
 * Copies of one frame follow each other by at most this: a hop inside the host takes
 * microseconds, a switch's round trip (out of one slave, back in on the other) 0.3–2 ms on a
 * healthy LAN and tens of ms on a congested store-and-forward switch. 50 ms is above any loop
 * delay seen (6–150 µs in the lab) by two orders of magnitude and below the intervals at which
 * hosts resend (ARP 1 s, IPv6 NS 1 s, MLD reports 0.5–1 s in practice, but ≥ ~30 ms).
 */
export const SWITCH_ROUND_TRIP_NS = 50e6;

/** Roles as numbers (the engine reads them per frame). */
export const R_SLAVE = 0;
export const R_BOND = 1;
export const R_BRIDGE = 2;
export const R_GUEST = 3;
export const R_UNKNOWN = 4;

/** What a sighting is in its frame's path. */
export const P_NONE = 0;
/** Where the frame started (a guest's port, the bridge device, the bond, or in on the uplink). */
export const P_ORIGINAL = 1;
/** On its way out to the switches: out of the bond, out of a slave. */
export const P_OUT = 2;
/** A copy the bridge flooded: out to a guest's port, up to the bridge device. */
export const P_FLOODED = 3;
/** The echo: back in on another slave than the frame left by. */
export const P_ECHO_IN = 4;
/** The echo going up the bond to the bridge. */
export const P_UP_THE_BOND = 5;
/** The echo flooded by the bridge to the guests' ports and the bridge device. */
export const P_ECHO_FLOODED = 6;
/** A frame from outside on its way in (a slave, the bond). */
export const P_INBOUND = 7;
/** Not this frame: the same bytes sent again (its path is worked out on its own). */
export const P_RESEND = 8;
/**
 * The bridge device's copy of a unicast frame for someone else (R9): tcpdump puts the bridge
 * device in promiscuous mode, so it sees every frame the bridge takes in, whether the bridge then
 * forwards it or drops it. It says the bridge received the frame, not that it was delivered.
 */
export const P_PROMISCUOUS = 9;

export const PLACE_NAMES = ['unplaced', 'original', 'out', 'flooded', 'echo', 'up-the-bond', 'echo-flooded', 'inbound', 'resend', 'promiscuous'] as const;
export type PlaceName = (typeof PLACE_NAMES)[number];

/** Where a frame started. */
export const O_UNKNOWN = 0;
export const O_GUEST = 1;
export const O_HOST = 2;
export const O_BOND = 3;
export const O_OUTSIDE = 4;

export interface PathSighting {
  port: number;
  t: number;
  /** As captured (0 unknown); the path fills in the direction it infers. */
  dir: number;
  input: number;
  frame: number;
  place: number;
}

/** The host's ports, by port index (built once per port from the Topology, see ports.ts). */
export interface PortGraph {
  role(port: number): number;
  /**
   * The place a port stands for on the bridge: a guest's chain of ports (Proxmox's
   * tap → fwbr → fwln ⇄ fwpr) shares one; every other port is its own.
   */
  chain(port: number): number;
  /** Whether the capture of this port was running at time t (its input's first to last frame). */
  capturing(port: number, t: number): boolean;
  /** Whether any port of this role was capturing at t. */
  roleCapturing(role: number, t: number): boolean;
  /** Whether every port of this role in the capture set was capturing at t (false when it has none). */
  everyCapturing(role: number, t: number): boolean;
  /**
   * Whether a port of this role with no copy among s[0, n) had begun capturing before t and was no
   * longer capturing at t (its capture ended).
   */
  endedBy(role: number, t: number, s: readonly PathSighting[], n: number): boolean;
  /** Whether the capture set has a port of this role at all. */
  hasRole(role: number): boolean;
  /** A hop inside a guest's chain, not one of its ends: its captured direction is no evidence of where a frame came from. */
  innerHop(port: number): boolean;
  /**
   * A hop inside the host (slave → bond → bridge → guest's port) takes at most this: one softirq
   * pass, microseconds; IN_HOST_HOP_NS for kernel stamps.
   */
  readonly inHostHopNs: number;
}

/**
 * A hop between two taps of one host is one pass of the kernel's receive path: microseconds (5–70
 * µs in the lab's recordings). 5 ms leaves room for a loaded host's scheduler tick and stays well
 * below the tens of ms after which a bond or a guest sends the same bytes again.
 */
export const IN_HOST_HOP_NS = 5e6;

/** What the engine knows of the frame's source MAC before this frame. */
export interface SourceKnowledge {
  /** One of the host's own MACs (bridge, bond, slaves). */
  isHost: boolean;
  /** The guest port (chain) it was learned behind as a guest, -1 when not a known guest. */
  guestChain: number;
  /** That port itself (-1 when not known): whether it was capturing says whether its copy is missing. */
  guestPort?: number;
  /** A Xen or KVM guest's OUI: a weak hint, read only when no host-side port was captured. */
  likelyGuest: boolean;
  /** The frame is unicast for a MAC that is not the host's own (R9: the bridge device sees it only in promiscuous mode). */
  unicastForOther?: boolean;
  /** An earlier pass of the same bytes in this group started on the host side: these copies may be its sender's resend. */
  resentFromHostSide?: boolean;
}

export interface FramePath {
  /** Sightings of this frame: s[0, n) after the call; s[n, total) are resends, for another call. */
  n: number;
  /** Index in s of the original. */
  origin: number;
  from: number;
  /** Index in s of the copy out of the slave it left by, of its echo back in on another slave, of the echo up the bond; -1 when not seen. */
  outSlave: number;
  echoIn: number;
  upBond: number;
  /** Index of the first copy out of the host (the bond or the slave): the loop delay runs from it. */
  firstOut: number;
  /** Whether the echo was proven to come back (in on another slave, or up the bond after one). */
  echo: boolean;
}

export function emptyPath(): FramePath {
  return { n: 0, origin: 0, from: O_UNKNOWN, outSlave: -1, echoIn: -1, upBond: -1, firstOut: -1, echo: false };
}

/**
 * Works out the path of the frame whose sightings are s[0, total): sorts them (R1), decides the
 * origin (R2), places each sighting and fills in its direction (R4–R9), and moves copies that are
 * not this frame (resends) to the end: `out.n` sightings belong to this frame.
 */
export function pathOf(s: PathSighting[], total: number, g: PortGraph, src: SourceKnowledge, out: FramePath): FramePath {
  out.n = total;
  out.origin = 0;
  out.from = O_UNKNOWN;
  out.outSlave = -1;
  out.echoIn = -1;
  out.upBond = -1;
  out.firstOut = -1;
  out.echo = false;
  if (total === 0) return out;
  for (let i = 0; i < total; i++) {
    const x = s[i]!;
    x.place = P_NONE;
    // Inside a guest's chain a frame for the guest comes in on the inner veth: only the chain's
    // ends (the guest's port, the uplink bridge's port) have directions that say where it came from.
    if (x.dir !== DIR_UNKNOWN && g.innerHop(x.port)) x.dir = DIR_UNKNOWN;
  }

  // R2, first the side the frame started on, from what is known before any ordering.
  const hostSide = startsOnHostSide(s, total, g, src);
  if (sideUnknown) {
    // Where it started cannot be told: time order, nothing placed, directions as captured.
    if (total > 1) sortSightings(s, total, g, false, false);
    out.origin = Math.max(0, firstOf(s, total, g, F_KNOWN, -1));
    out.from = O_UNKNOWN;
    return out;
  }
  // The host's own frame: a known host MAC, or one flooded to several guests' ports at its first instant.
  const hostFrame = hostSide && (src.isHost || (src.guestChain < 0 && total > 1 && guestChainsAtFirst(s, total, g) >= 2));
  // R1: time order; ties in the order of the graph.
  if (total > 1) sortSightings(s, total, g, hostSide, hostFrame);

  // R2: the origin.
  let origin = -1;
  let from = O_UNKNOWN;
  if (hostSide) {
    if (src.guestChain >= 0) {
      origin = firstOf(s, total, g, F_GUEST_IN, src.guestChain);
      // A known guest's frame with no copy on its own port while that port was not capturing
      // (capture windows): where it started cannot be told — on its port, unseen, or elsewhere
      // (a move, which only a capturing port shows).
      if (origin < 0 && src.guestPort !== undefined && src.guestPort >= 0 && !onChain(s, total, g, src.guestChain) && !portWatched(g, src.guestPort, s[0]!.t)) {
        out.origin = Math.max(0, firstOf(s, total, g, F_KNOWN, -1));
        out.from = O_UNKNOWN;
        return out;
      }
    } else if (hostFrame) origin = firstOf(s, total, g, F_BRIDGE_OUT, -1);
    else {
      origin = firstOf(s, total, g, F_GUEST_IN | F_BRIDGE_OUT, -1);
      // A copy on a guest's port, its direction not captured, while another port of the host side
      // had stopped capturing (its file ended, a cut pcapng holds its frames up to an earlier
      // moment): the frame flooded there from that port looks the same. Where it started cannot be told.
      if (origin >= 0 && g.role(s[origin]!.port) === R_GUEST && s[origin]!.dir !== DIR_IN && hostSideEnded(g, s, total, s[origin]!.t)) {
        out.origin = origin;
        out.from = O_UNKNOWN;
        return out;
      }
    }
    if (origin >= 0) from = g.role(s[origin]!.port) === R_GUEST ? O_GUEST : O_HOST;
    // The bond's (or a slave's) own frame: out on the uplink with no host-side copy before it.
    if (origin < 0 || hasUplinkOutBefore(s, origin, g)) {
      const b = firstOf(s, total, g, F_UPLINK_OUT, -1);
      if (b >= 0 && (origin < 0 || b < origin)) {
        origin = b;
        from = O_BOND;
      }
    }
  } else {
    origin = firstOf(s, total, g, F_UPLINK_IN, -1);
    if (origin >= 0) from = O_OUTSIDE;
  }
  // An unknown port never becomes the origin by a tie (R2): the first known one, if any.
  if (origin < 0) origin = firstOf(s, total, g, F_KNOWN, -1);
  if (origin < 0) origin = 0;
  out.origin = origin;
  // With every copy's direction from the capture, the origin is known without the clock: it
  // goes first, the rest keep their order (their stamps may be arrival times).
  if (origin > 0 && allDirections(s, total, g)) {
    const x = s[origin]!;
    for (let i = origin; i > 0; i--) s[i] = s[i - 1]!;
    s[0] = x;
    origin = 0;
    out.origin = 0;
  }
  const o = s[origin]!;
  o.place = P_ORIGINAL;
  if (from === O_UNKNOWN) {
    const r = g.role(o.port);
    if (r === R_UNKNOWN) from = O_UNKNOWN;
    // No copy is a start: one the capture says went out to a guest (or in to the host) is the
    // frame delivered there from somewhere not captured (a -i any capture of the guests' ports
    // only: the echo flooded to the other guest), never that guest's own.
    else if (hostSide && ((r === R_GUEST && o.dir === DIR_OUT) || (r === R_BRIDGE && o.dir === DIR_IN))) o.place = P_NONE;
    else if (hostSide) from = hostFrame || r === R_BRIDGE ? O_HOST : r === R_GUEST ? O_GUEST : O_BOND;
    else {
      // From outside, though its way in was not seen (the uplink was not capturing): the first
      // copy is one the bridge delivered, out to a guest or up to the host.
      from = O_OUTSIDE;
      if (r === R_GUEST || r === R_BRIDGE) {
        o.place = r === R_BRIDGE && src.unicastForOther ? P_PROMISCUOUS : P_FLOODED;
        if (o.dir === DIR_UNKNOWN) o.dir = r === R_GUEST ? DIR_OUT : DIR_IN;
      }
    }
  }
  out.from = from;
  if (o.dir === DIR_UNKNOWN) o.dir = from === O_GUEST || from === O_OUTSIDE ? DIR_IN : from === O_HOST || from === O_BOND ? DIR_OUT : DIR_UNKNOWN;
  if (total === 1) return out;
  if (out.from === O_BOND || out.from === O_HOST || out.from === O_GUEST) placeFromHost(s, total, g, out);
  else if (out.from === O_OUTSIDE) placeFromOutside(s, total, g, out, src.unicastForOther === true);

  // Copies before the origin (a host-side copy that is another frame, stamped first): resends.
  for (let i = 0; i < origin; i++) if (s[i]!.place === P_NONE && g.role(s[i]!.port) !== R_UNKNOWN) s[i]!.place = P_RESEND;
  // This frame's sightings first, the resends after them (in time order both).
  let w = 0;
  rest.length = 0;
  for (let i = 0; i < total; i++) {
    const x = s[i]!;
    if (x.place === P_RESEND) rest.push(x);
    else s[w++] = x;
  }
  if (rest.length) {
    // Indexes found above moved with the compaction.
    out.origin = indexIn(s, w, o);
    out.outSlave = indexIn(s, w, outSlaveRef);
    out.echoIn = indexIn(s, w, echoInRef);
    out.upBond = indexIn(s, w, upBondRef);
    out.firstOut = indexIn(s, w, firstOutRef);
    for (let i = 0; i < rest.length; i++) {
      rest[i]!.place = P_NONE;
      s[w + i] = rest[i]!;
    }
    rest.length = 0;
  }
  out.n = w;
  return out;
}

function indexIn(s: PathSighting[], n: number, x: PathSighting | undefined): number {
  if (!x) return -1;
  for (let i = 0; i < n; i++) if (s[i] === x) return i;
  return -1;
}

// The sightings behind the indexes of the path being placed (module-level: one path at a time, no allocation).
let outSlaveRef: PathSighting | undefined;
let echoInRef: PathSighting | undefined;
let upBondRef: PathSighting | undefined;
let firstOutRef: PathSighting | undefined;

/** R4–R7: a frame from a guest, the host or the bond itself. */
function placeFromHost(s: PathSighting[], n: number, g: PortGraph, out: FramePath): void {
  const o = s[out.origin]!;
  const oChain = g.chain(o.port);
  const oRole = g.role(o.port);
  const fromUplink = oRole === R_BOND || oRole === R_SLAVE;
  outSlaveRef = echoInRef = upBondRef = firstOutRef = undefined;
  if (fromUplink) firstOutRef = o;
  if (oRole === R_SLAVE) outSlaveRef = o;
  let outSlavePort = oRole === R_SLAVE ? o.port : -1;
  let bondOut = oRole === R_BOND;
  let bridgeSeen = oRole === R_BRIDGE;
  // Chains a copy was flooded to before the echo, and after it: each once (R7).
  flooded.next();
  echoFlooded.next();
  chainsPassed.next();
  if (oRole === R_GUEST) flooded.add(oChain);
  /** Once the sender sent the same bytes again, what follows is that frame's (R6). */
  let resent = false;
  for (let i = out.origin + 1; i < n; i++) {
    const x = s[i]!;
    const role = g.role(x.port);
    const chain = g.chain(x.port);
    if (role === R_UNKNOWN) continue;
    if (resent) {
      x.place = P_RESEND;
      continue;
    }
    const up = upBondRef !== undefined;
    // The echo reached the bridge: up the bond, or in on a slave when the bond was not being captured.
    const echoed = up || (echoInRef !== undefined && !g.roleCapturing(R_BOND, x.t));
    if (role === R_SLAVE) {
      if (outSlavePort < 0 && x.dir !== DIR_IN) {
        outSlavePort = x.port;
        x.place = P_OUT;
        x.dir = DIR_OUT;
        outSlaveRef = x;
        firstOutRef ??= x;
      } else if (x.port !== outSlavePort && x.dir !== DIR_OUT && echoInRef === undefined && (!up || x.dir === DIR_IN)) {
        // R4: back in on another slave than it left by.
        x.place = P_ECHO_IN;
        x.dir = DIR_IN;
        echoInRef = x;
      } else x.place = P_RESEND;
    } else if (role === R_BOND) {
      if (!bondOut && x.dir !== DIR_IN && (echoInRef === undefined || x.dir === DIR_OUT)) {
        bondOut = true;
        x.place = P_OUT;
        x.dir = DIR_OUT;
        firstOutRef ??= x;
      } else if (echoInRef === undefined && !up && x.dir !== DIR_OUT && bondOut && echoAhead(s, i, n, outSlavePort, g)) {
        // R1 with clocks lined up by estimate: the echo's copy in on the other slave, stamped by
        // another file a few µs after the bond's (the estimate's residual), came first: moved
        // before it, and both read again.
        i--;
        continue;
      } else if (
        !up &&
        x.dir !== DIR_OUT &&
        // The capture says it came in on the bond: a host-side frame does that only as the echo.
        (x.dir === DIR_IN || ((echoInRef !== undefined ? x.t - echoInRef.t <= g.inHostHopNs : !g.roleCapturing(R_SLAVE, x.t)) && !goesOutAgain(s, i, n, outSlavePort, g)))
      ) {
        // R5: up the bond a hop after it came in on a slave; with no slave capturing, taken as the echo (medium).
        x.place = P_UP_THE_BOND;
        x.dir = DIR_IN;
        upBondRef = x;
      } else x.place = P_RESEND;
    } else if (role === R_BRIDGE) {
      if (!echoed && !bridgeSeen && oRole === R_GUEST && x.dir !== DIR_OUT) {
        bridgeSeen = true;
        x.place = P_FLOODED;
        x.dir = DIR_IN;
      } else if (echoed && !echoFlooded.has(chain) && x.dir !== DIR_OUT) {
        echoFlooded.add(chain);
        x.place = P_ECHO_FLOODED;
        x.dir = DIR_IN;
      } else {
        // The host sent it again (a second copy out of the bridge device before any echo came up).
        x.place = P_RESEND;
        if (oRole === R_BRIDGE && !echoed) resent = true;
      }
    } else {
      // A guest's port (or another hop of a guest's chain: the same place, microseconds on).
      if (chain === oChain && !echoed) {
        // R6: the sender's own chain before any echo came up: another hop of the original, or the
        // guest sending the same bytes again — then what follows is the new frame's.
        if (x.port !== o.port && x.dir !== DIR_OUT && sameChainHop(s, i, chain, g)) {
          x.place = P_ORIGINAL;
          if (x.dir === DIR_UNKNOWN) x.dir = DIR_IN;
        } else {
          x.place = P_RESEND;
          resent = true;
        }
      } else if (!echoed && !flooded.has(chain) && x.dir !== DIR_IN && !fromUplink) {
        flooded.add(chain);
        x.place = P_FLOODED;
        x.dir = DIR_OUT;
      } else if (echoed && !echoFlooded.has(chain) && x.dir !== DIR_IN) {
        echoFlooded.add(chain);
        x.place = P_ECHO_FLOODED;
        x.dir = DIR_OUT;
      } else if (
        (chain !== oChain || echoed) &&
        (flooded.has(chain) || echoFlooded.has(chain)) &&
        x.dir !== DIR_IN &&
        !chainsPassed.has(chain) &&
        sameChainHop(s, i, chain, g) &&
        !placedOn(s, i, x.port, echoed ? P_ECHO_FLOODED : P_FLOODED)
      ) {
        // Another hop of a chain already reached (tap and fwbr see one flooded copy).
        x.place = echoed ? P_ECHO_FLOODED : P_FLOODED;
        x.dir = DIR_OUT;
      } else {
        // R7: each port of a chain sees one copy a pass; a port seeing it again begins another
        // pass, which every later copy on that chain is part of — whichever of its ports sharing
        // one stamp (tap and fwbr see one skb) the files happen to list first.
        x.place = P_RESEND;
        if (flooded.has(chain) || echoFlooded.has(chain)) chainsPassed.add(chain);
      }
    }
  }
  out.echo = echoInRef !== undefined || upBondRef !== undefined;
  out.outSlave = outSlaveRef ? s.indexOf(outSlaveRef) : -1;
  out.echoIn = echoInRef ? s.indexOf(echoInRef) : -1;
  out.upBond = upBondRef ? s.indexOf(upBondRef) : -1;
  out.firstOut = firstOutRef ? s.indexOf(firstOutRef) : -1;
}

/**
 * Stamps of separate files agree only as well as their clocks were lined up (a few µs): an echo's
 * copy in on the other slave stamped by another file up to this after the bond's copy may have
 * come first.
 */
export const ALIGN_TOLERANCE_NS = 20e3;

/**
 * Whether a copy in on another slave, from another input, follows the bond's copy at i within the
 * alignment tolerance; if so it is moved to i (the rest shift on by one).
 */
function echoAhead(s: PathSighting[], i: number, n: number, outSlavePort: number, g: PortGraph): boolean {
  const x = s[i]!;
  if (outSlavePort < 0) return false;
  for (let j = i + 1; j < n && s[j]!.t - x.t <= ALIGN_TOLERANCE_NS; j++) {
    const y = s[j]!;
    if (g.role(y.port) !== R_SLAVE || y.port === outSlavePort || y.dir === DIR_OUT || y.input === x.input) continue;
    for (let k = j; k > i; k--) s[k] = s[k - 1]!;
    s[i] = y;
    return true;
  }
  return false;
}

/**
 * R5: whether the bond's copy at i is followed, a hop later and before any other copy on the
 * bond, by a copy out of the slave the frame left by: the bond sent the same bytes again (a
 * sender that repeats itself microseconds later). An echo going up the bond is never sent out of
 * it again: the bridge does not flood a frame back out of the port it came in on (R7).
 */
function goesOutAgain(s: PathSighting[], i: number, n: number, outSlavePort: number, g: PortGraph): boolean {
  if (outSlavePort < 0) return false;
  const x = s[i]!;
  for (let j = i + 1; j < n && s[j]!.t - x.t <= g.inHostHopNs; j++) {
    const y = s[j]!;
    const r = g.role(y.port);
    if (r === R_BOND) return false;
    if (y.port === outSlavePort && y.dir !== DIR_IN) return true;
  }
  return false;
}

/** Whether a copy before i on `port` was placed `place` in this frame's path. */
function placedOn(s: PathSighting[], i: number, port: number, place: number): boolean {
  for (let j = 0; j < i; j++) if (s[j]!.port === port && s[j]!.place === place) return true;
  return false;
}

/** Whether a copy on another port of `chain` is the sighting just before (a hop along the chain, not a second flood). */
function sameChainHop(s: PathSighting[], i: number, chain: number, g: PortGraph): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const y = s[j]!;
    if (g.chain(y.port) === chain) return y.port !== s[i]!.port;
  }
  return false;
}

/** R8, R9: a frame from outside. */
function placeFromOutside(s: PathSighting[], n: number, g: PortGraph, out: FramePath, unicastForOther: boolean): void {
  outSlaveRef = echoInRef = upBondRef = firstOutRef = undefined;
  const o = s[out.origin]!;
  slaveCopies.next();
  portSeen.next();
  let slaveN = 0;
  let bondCopies = 0;
  const oRole = g.role(o.port);
  if (oRole === R_SLAVE) {
    slaveCopies.add(o.port);
    slaveN++;
  }
  if (oRole === R_BOND) bondCopies = 1;
  for (let i = 0; i < n; i++) {
    const x = s[i]!;
    if (i === out.origin) continue;
    if (i < out.origin) continue;
    const role = g.role(x.port);
    if (role === R_UNKNOWN) continue;
    if (role === R_SLAVE) {
      if (!slaveCopies.has(x.port) && x.dir !== DIR_OUT) {
        slaveCopies.add(x.port);
        slaveN++;
        x.place = P_INBOUND;
        x.dir = DIR_IN;
      } else if (x.dir === DIR_OUT && !slaveCopies.has(x.port) && !g.hasRole(R_BOND)) {
        // NICs straight in the bridge: forwarded out of the other NIC, as to any port of the bridge.
        slaveCopies.add(x.port);
        x.place = P_FLOODED;
      } else x.place = P_RESEND;
    } else if (role === R_BOND) {
      if (bondCopies < Math.max(1, slaveN) && x.dir !== DIR_OUT) {
        bondCopies++;
        x.place = P_INBOUND;
        x.dir = DIR_IN;
      } else x.place = P_RESEND;
    } else {
      // Flooded or forwarded to the host and its guests, once per copy that came up the bond.
      if (x.port >= portCopies.length) {
        const b = new Int32Array(Math.max(x.port + 1, portCopies.length * 2));
        b.set(portCopies);
        portCopies = b;
      }
      const seen = portSeen.has(x.port) ? portCopies[x.port]! : 0;
      const wrongWay = role === R_GUEST ? x.dir === DIR_IN : x.dir === DIR_OUT;
      if (!wrongWay && seen < Math.max(1, bondCopies, slaveN)) {
        portSeen.add(x.port);
        portCopies[x.port] = seen + 1;
        // R9: the bridge device's copy of unicast for another MAC is tcpdump's, not a delivery.
        x.place = role === R_BRIDGE && unicastForOther ? P_PROMISCUOUS : P_FLOODED;
        x.dir = role === R_GUEST ? DIR_OUT : DIR_IN;
      } else x.place = P_RESEND;
    }
  }
}

/**
 * R2's capture windows: whether a port of this role was capturing for a hop on either side of t.
 * A copy missing there proves nothing near the start or the end of that port's capture: the
 * frame's copy a hop before (or after) it may have come before the capture began (a time slice,
 * a tcpdump started a moment later) or after it stopped (a file cut short).
 */
function watched(g: PortGraph, role: number, t: number): boolean {
  return g.roleCapturing(role, t - g.inHostHopNs) && g.roleCapturing(role, t + g.inHostHopNs);
}

/**
 * R2's way in from outside: whether a frame from outside, had it come, would show on the uplink
 * for a hop on either side of t. The bond, when the capture set has one: every frame from outside
 * crosses it, while the slaves of the set need not be all of its slaves (one left out, one whose
 * file ended). Without one (NICs straight in the bridge), every slave of the set.
 */
function wayInWatched(g: PortGraph, t: number): boolean {
  if (g.hasRole(R_BOND)) return watched(g, R_BOND, t);
  return g.everyCapturing(R_SLAVE, t - g.inHostHopNs) && g.everyCapturing(R_SLAVE, t + g.inHostHopNs);
}

/** R2: whether a port of the host side (a guest's, the bridge device) without a copy of the frame had stopped capturing within a hop after t. */
function hostSideEnded(g: PortGraph, s: readonly PathSighting[], n: number, t: number): boolean {
  return g.endedBy(R_GUEST, t + g.inHostHopNs, s, n) || g.endedBy(R_BRIDGE, t + g.inHostHopNs, s, n);
}

/**
 * Whether the uplink shows that a frame first seen on the host side did not come from outside:
 * its way in was watched, or (with a bond) the frame went on out of it — through a bond a frame
 * from outside never goes back out. NICs straight in the bridge forward a frame from outside that
 * came in on one of them out of the other, so there a later copy on the uplink says nothing.
 */
function wayInShown(s: PathSighting[], n: number, g: PortGraph, t: number): boolean {
  return wayInWatched(g, t) || (g.hasRole(R_BOND) && seenOnUplink(s, n, g));
}

/** The same for one port. */
function portWatched(g: PortGraph, port: number, t: number): boolean {
  return g.capturing(port, t - g.inHostHopNs) && g.capturing(port, t + g.inHostHopNs);
}

function onChain(s: PathSighting[], n: number, g: PortGraph, chain: number): boolean {
  for (let i = 0; i < n; i++) if (g.role(s[i]!.port) === R_GUEST && g.chain(s[i]!.port) === chain) return true;
  return false;
}

/** Set by startsOnHostSide when the frame's copies cannot tell where it started (capture windows). */
let sideUnknown = false;

/** R2: whether the frame started on the host side (a guest, the host, the bond itself) rather than outside. */
function startsOnHostSide(s: PathSighting[], n: number, g: PortGraph, src: SourceKnowledge): boolean {
  sideUnknown = false;
  // Directions from the capture, wherever it gave them.
  let minT = Infinity;
  for (let i = 0; i < n; i++) if (s[i]!.t < minT) minT = s[i]!.t;
  // Directions from the capture decide, whatever the stamps (live mode stamps on arrival in
  // user space, so copies on several interfaces are out of order): a start on the host side (in on
  // a guest's port, out of the bridge device); else out on the uplink, which a frame from outside
  // never is (the bridge does not send it back where it came from): the bond's own; else in on
  // the uplink: from outside.
  let hostStart = false;
  let uplinkOut = false;
  let uplinkIn = false;
  let firstInT = Infinity;
  let firstOutT = Infinity;
  let allDir = true;
  for (let i = 0; i < n; i++) {
    const x = s[i]!;
    if (x.dir === DIR_UNKNOWN) {
      if (g.role(x.port) !== R_UNKNOWN) allDir = false;
      continue;
    }
    const r = g.role(x.port);
    if ((r === R_GUEST && x.dir === DIR_IN) || (r === R_BRIDGE && x.dir === DIR_OUT)) hostStart = true;
    else if ((r === R_SLAVE || r === R_BOND) && x.dir === DIR_OUT) {
      uplinkOut = true;
      if (x.t < firstOutT) firstOutT = x.t;
    } else if ((r === R_SLAVE || r === R_BOND) && x.dir === DIR_IN) {
      uplinkIn = true;
      if (x.t < firstInT) firstInT = x.t;
    }
  }
  // NICs straight in the bridge (no bond in the set) forward a frame from outside that came in on
  // one out of the other: in before out, by the kernel's stamps (arrival stamps, which widen the
  // hop, cannot order them), and no start on the host side, is a frame from outside.
  if (!hostStart && uplinkIn && uplinkOut && firstInT < firstOutT && !g.hasRole(R_BOND) && g.inHostHopNs === IN_HOST_HOP_NS) return false;
  if (hostStart || uplinkOut) return true;
  if (uplinkIn) return false;
  // Every copy has a direction and none is a start (a copy going out to a guest only): it came
  // from somewhere not captured.
  if (allDir) {
    sideUnknown = true;
    return false;
  }
  // No host-side port captured. With the bond capturing, its stamp says: a frame from the host
  // side goes out of the bond before any slave, one from outside comes in on a slave first (R8).
  // Only copies at one instant (or no bond) leave the MAC to say (the host's own, a known guest,
  // a guest's OUI), and the detectors then claim nothing that hinges on it (loop-echoes.ts).
  if (!g.hasRole(R_GUEST) && !g.hasRole(R_BRIDGE)) {
    if (g.hasRole(R_BOND) && !watched(g, R_BOND, minT) && seenOnRole(s, n, g, R_BOND)) {
      // The bond's capture began within this frame's path (its first copy there came after a
      // slave's): whether it missed the copy going out or this came from outside, nothing says.
      sideUnknown = true;
      return false;
    }
    if (watched(g, R_BOND, minT)) {
      let bondFirst = false;
      let slaveFirst = false;
      for (let i = 0; i < n; i++) {
        if (s[i]!.t !== minT) continue;
        const r = g.role(s[i]!.port);
        if (r === R_BOND) bondFirst = true;
        else if (r === R_SLAVE) slaveFirst = true;
      }
      if (bondFirst !== slaveFirst) return bondFirst;
    }
    return src.isHost || src.guestChain >= 0 || src.likelyGuest;
  }
  // The earliest copies: on the host side only, on the uplink only, or both at one instant.
  let hostAtFirst = 0;
  let bondAtFirst = false;
  let slaveAtFirst = false;
  let bridgeAtFirst = false;
  let chains = 0;
  chainsSeen.next();
  for (let i = 0; i < n; i++) {
    const x = s[i]!;
    if (x.t !== minT) continue;
    const r = g.role(x.port);
    if (r === R_GUEST) {
      const c = g.chain(x.port);
      if (!chainsSeen.has(c)) {
        chainsSeen.add(c);
        chains++;
      }
      hostAtFirst++;
    } else if (r === R_BRIDGE) {
      hostAtFirst++;
      bridgeAtFirst = true;
    } else if (r === R_BOND) bondAtFirst = true;
    else if (r === R_SLAVE) slaveAtFirst = true;
  }
  if (hostAtFirst === 0) {
    // First seen on the uplink while the host side was captured: from outside, whatever the MAC
    // was before (a guest that migrated away is outside now) — except the bond's own frame, which
    // starts on the bond, out of it before any slave.
    // So is the host side's resend whose host-side copies went with the pass before (the same
    // bytes a few µs on): out of the bond before any slave, as a frame from outside never is.
    if ((src.isHost || src.resentFromHostSide === true) && bondAtFirst && !slaveAtFirst) return true;
    // The host side was not being captured then: only the MAC can say.
    if (!watched(g, R_GUEST, minT) && !watched(g, R_BRIDGE, minT) && !seenOnHostSide(s, n, g)) {
      // Seen only on the uplink while no host-side port was capturing: it may have come from a
      // guest or from outside; it proves nothing (capture windows).
      if (src.isHost || src.guestChain >= 0) return true;
      sideUnknown = true;
      return false;
    }
    return false;
  }
  // A frame seen only on the host side while the uplink, captured at other times, was not
  // capturing proves nothing about where it came from (capture windows): taken as from outside,
  // so no one becomes a guest by it — unless the MAC is known to be the host's or a guest's.
  // The same when the capture set has no uplink port at all (only the bridge and guests' ports):
  // a frame from outside and a guest's or the host's own reach the host side alike.
  const uplinkAtFirst = bondAtFirst || slaveAtFirst;
  if (!uplinkAtFirst && !wayInShown(s, n, g, minT)) {
    if (src.isHost || src.guestChain >= 0) return true;
    sideUnknown = true;
    return false;
  }
  if (src.isHost || src.guestChain >= 0) return true;
  // Without the bridge device's copy, the host's own frames on a guest's port look like the
  // guest's: flooded to every guest's port as a guest's own is flooded to the others, unicast to a
  // guest as the guest's to the host, and going on out of the bond as a guest's does. From a MAC
  // not known, nor likely by its OUI, to be a guest's, a frame first seen on a guest's port proves
  // nothing of where it started. A first copy on the bridge device itself, while the uplink was
  // capturing and saw nothing before it (or saw it only after, going out), is the host side's
  // whenever the bridge's capture began (a guest's frame, its port's copy missed, comes up there
  // too); with the uplink's capture beginning then too and no copy there (a time slice), it may
  // be a frame from outside whose copies there came just before.
  const uplinkShows = wayInShown(s, n, g, minT);
  if (!src.likelyGuest && !(bridgeAtFirst && uplinkShows) && !watched(g, R_BRIDGE, minT)) {
    sideUnknown = true;
    return false;
  }
  // One guest's port with the uplink at one instant: the guest's own frame; several guests' ports
  // with the uplink: a flood from outside.
  if (uplinkAtFirst) return chains === 1;
  return true;
}

/** Whether the capture gave every copy (on a port of known role) its direction. */
function allDirections(s: PathSighting[], n: number, g: PortGraph): boolean {
  for (let i = 0; i < n; i++) if (s[i]!.dir === DIR_UNKNOWN && g.role(s[i]!.port) !== R_UNKNOWN) return false;
  return true;
}

function seenOnRole(s: PathSighting[], n: number, g: PortGraph, role: number): boolean {
  for (let i = 0; i < n; i++) if (g.role(s[i]!.port) === role) return true;
  return false;
}

function seenOnHostSide(s: PathSighting[], n: number, g: PortGraph): boolean {
  for (let i = 0; i < n; i++) {
    const r = g.role(s[i]!.port);
    if (r === R_GUEST || r === R_BRIDGE) return true;
  }
  return false;
}

function seenOnUplink(s: PathSighting[], n: number, g: PortGraph): boolean {
  for (let i = 0; i < n; i++) {
    const r = g.role(s[i]!.port);
    if (r === R_BOND || r === R_SLAVE) return true;
  }
  return false;
}

/** Whether an out copy on the uplink was seen before index `i` (the host side came after it). */
function hasUplinkOutBefore(s: PathSighting[], i: number, g: PortGraph): boolean {
  for (let j = 0; j < i; j++) {
    const r = g.role(s[j]!.port);
    if ((r === R_BOND || r === R_SLAVE) && s[j]!.dir !== DIR_IN) return true;
  }
  return false;
}

/**
 * Whether an end of `port`'s chain (the guest's own port, the uplink bridge's port) saw the frame
 * going out, as the capture says: then it passed through the chain from the bridge, and an inner
 * hop (whose direction says nothing) is not where it started.
 */
function chainEndOut(s: PathSighting[], n: number, g: PortGraph, port: number): boolean {
  const chain = g.chain(port);
  for (let i = 0; i < n; i++) {
    const y = s[i]!;
    if (y.port !== port && g.chain(y.port) === chain && !g.innerHop(y.port) && y.dir === DIR_OUT) return true;
  }
  return false;
}

// What firstOf looks for (any of the bits).
const F_GUEST_IN = 1;
const F_BRIDGE_OUT = 2;
const F_UPLINK_OUT = 4;
const F_UPLINK_IN = 8;
const F_KNOWN = 16;

/**
 * The first sighting that may be: in on a guest's port (of `chain`, when not -1), out of the bridge
 * device, out of the bond or a slave, in on them, or on any port of known role.
 */
function firstOf(s: PathSighting[], n: number, g: PortGraph, what: number, chain: number): number {
  for (let i = 0; i < n; i++) {
    const x = s[i]!;
    const r = g.role(x.port);
    if (what & F_GUEST_IN && r === R_GUEST && x.dir !== DIR_OUT && (chain < 0 || g.chain(x.port) === chain) && !(g.innerHop(x.port) && chainEndOut(s, n, g, x.port))) return i;
    if (what & F_BRIDGE_OUT && r === R_BRIDGE && x.dir !== DIR_IN) return i;
    if (what & F_UPLINK_OUT && (r === R_BOND || r === R_SLAVE) && x.dir !== DIR_IN) return i;
    if (what & F_UPLINK_IN && (r === R_BOND || r === R_SLAVE) && x.dir !== DIR_OUT) return i;
    if (what & F_KNOWN && r !== R_UNKNOWN) return i;
  }
  return -1;
}

/**
 * Marks per chain or port for the path being worked out, reused from frame to frame: a mark is
 * set when it holds the current epoch (no clearing, no allocation per frame).
 */
class Marks {
  private a = new Int32Array(64);
  private epoch = 0;
  next(): void {
    this.epoch++;
  }
  has(k: number): boolean {
    return k < this.a.length && this.a[k] === this.epoch;
  }
  add(k: number): void {
    if (k >= this.a.length) {
      const b = new Int32Array(Math.max(k + 1, this.a.length * 2));
      b.set(this.a);
      this.a = b;
    }
    this.a[k] = this.epoch;
  }
}
const flooded = new Marks();
const echoFlooded = new Marks();
/** Guests' chains whose pass of this frame is over: a port of it saw a copy again (R7). */
const chainsPassed = new Marks();
const slaveCopies = new Marks();
const chainsSeen = new Marks();
/** Copies per port of a frame from outside (index: port), valid where portSeen has the mark. */
let portCopies = new Int32Array(64);
const portSeen = new Marks();
const rest: PathSighting[] = [];

/** R1: time order, ties in the order of the graph (outward for a host-side frame until a slave saw it, inward otherwise). */
function sortSightings(s: PathSighting[], n: number, g: PortGraph, hostSide: boolean, hostFrame: boolean): void {
  // Insertion sort: n is small (at most 64) and the sightings arrive in time order already.
  let firstSlaveT = Infinity;
  if (hostSide) for (let i = 0; i < n; i++) if (g.role(s[i]!.port) === R_SLAVE && s[i]!.t < firstSlaveT) firstSlaveT = s[i]!.t;
  for (let i = 1; i < n; i++) {
    const x = s[i]!;
    let j = i - 1;
    while (j >= 0 && after(s[j]!, x, g, hostSide, hostFrame, firstSlaveT)) {
      s[j + 1] = s[j]!;
      j--;
    }
    s[j + 1] = x;
  }
}

function after(a: PathSighting, b: PathSighting, g: PortGraph, hostSide: boolean, hostFrame: boolean, firstSlaveT: number): boolean {
  if (a.t !== b.t) return a.t > b.t;
  const ra = g.role(a.port);
  const rb = g.role(b.port);
  if (ra === rb) return false;
  // Unknown ports last at a tie, whatever the way.
  if (ra === R_UNKNOWN || rb === R_UNKNOWN) return ra === R_UNKNOWN;
  // Directions from the capture order the uplink's copies by themselves: out of the bond, out of
  // a slave, in on a slave, up the bond.
  if (a.dir !== DIR_UNKNOWN && b.dir !== DIR_UNKNOWN && (ra === R_BOND || ra === R_SLAVE) && (rb === R_BOND || rb === R_SLAVE)) {
    const d = uplinkStage(ra, a.dir) - uplinkStage(rb, b.dir);
    if (d !== 0) return d > 0;
  }
  const outward = hostSide && a.t <= firstSlaveT;
  const d = outwardRank(ra, hostFrame) - outwardRank(rb, hostFrame);
  // Outward: the highest rank first; inward: the lowest.
  return outward ? d < 0 : d > 0;
}

/** Where a copy on the uplink with a known direction is on the way out and back in. */
function uplinkStage(role: number, dir: number): number {
  if (dir === DIR_OUT) return role === R_BOND ? 0 : 1;
  return role === R_SLAVE ? 2 : 3;
}

/**
 * Rank of a role on the way out of the host (R1); the way in is the reverse. The bridge device and
 * a guest's port see one skb at one instant: a guest's frame is on its port first, the host's own
 * on the bridge device first (it is flooded to every guest's port from there).
 */
function outwardRank(role: number, hostFrame: boolean): number {
  return role === R_GUEST ? 3 : role === R_BRIDGE ? (hostFrame ? 4 : 2) : role === R_BOND ? 1 : 0;
}

/** Distinct guests' chains among the copies at the first instant. */
function guestChainsAtFirst(s: PathSighting[], n: number, g: PortGraph): number {
  let minT = Infinity;
  for (let i = 0; i < n; i++) if (s[i]!.t < minT) minT = s[i]!.t;
  chainsSeen.next();
  let chains = 0;
  for (let i = 0; i < n; i++) {
    const x = s[i]!;
    if (x.t !== minT || g.role(x.port) !== R_GUEST) continue;
    const c = g.chain(x.port);
    if (!chainsSeen.has(c)) {
      chainsSeen.add(c);
      chains++;
    }
  }
  return chains;
}
