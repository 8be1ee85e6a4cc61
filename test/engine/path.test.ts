/**
 * The path stage (src/engine/path.ts) table by table: roles, times and directions in, the path out
 * — where the frame started, what each sighting was, which copies are another frame. Times are µs
 * from the frame's first copy; the shapes are those of the lab's recordings and of the classes of
 * issue #13 (resends, the bond's own frames, latency, capture windows, unknown ports, chains).
 */
import { describe, expect, it } from 'vitest';
import { DIR_IN, DIR_OUT } from '../../src/model/record.js';
import {
  emptyPath,
  IN_HOST_HOP_NS,
  O_BOND,
  O_GUEST,
  O_HOST,
  O_OUTSIDE,
  O_UNKNOWN,
  PLACE_NAMES,
  pathOf,
  type PathSighting,
  type PortGraph,
  R_BOND,
  R_BRIDGE,
  R_GUEST,
  R_SLAVE,
  R_UNKNOWN,
  type SourceKnowledge,
} from '../../src/engine/path.js';

/** The lab's host: eth0, eth1, bond0, xenbr0, vif1.0, vif2.0, a port of unknown role, and a Proxmox guest's chain. */
const PORTS: Record<string, { role: number; chain: number }> = {
  eth0: { role: R_SLAVE, chain: 0 },
  eth1: { role: R_SLAVE, chain: 1 },
  bond0: { role: R_BOND, chain: 2 },
  xenbr0: { role: R_BRIDGE, chain: 3 },
  'vif1.0': { role: R_GUEST, chain: 4 },
  'vif2.0': { role: R_GUEST, chain: 5 },
  mystery: { role: R_UNKNOWN, chain: 6 },
  tap100i0: { role: R_GUEST, chain: 7 },
  fwln100i0: { role: R_GUEST, chain: 7 },
  fwpr100p0: { role: R_GUEST, chain: 7 },
};
const NAMES = Object.keys(PORTS);

interface Case {
  name: string;
  /** port@µs, with :in/:out when the capture gave a direction, and /N for the input it came from. */
  copies: string[];
  src?: Partial<SourceKnowledge>;
  /** Ports whose capture was not running (their input's window did not cover the frame). */
  notCapturing?: string[];
  /** Ports not in the capture set at all. */
  absent?: string[];
  /** Ports whose capture ran only from..until (µs; each port's window, where its input's began or ended near this frame). */
  windows?: Record<string, [number, number]>;
  from: number;
  /** Each of this frame's copies: port:place (in time order). */
  places: string[];
  /** Copies left for the next frame (resends). */
  rest?: number;
  upBond?: boolean;
}

function graph(c: Case): PortGraph {
  const absent = new Set(c.absent ?? []);
  const off = new Set(c.notCapturing ?? []);
  const present = NAMES.filter((n) => !absent.has(n));
  const on = (n: string, t: number): boolean => {
    const w = c.windows?.[n];
    return !off.has(n) && (!w || (w[0] * 1e3 <= t && t <= w[1] * 1e3));
  };
  return {
    role: (p) => PORTS[NAMES[p]!]!.role,
    chain: (p) => PORTS[NAMES[p]!]!.chain,
    capturing: (p, t) => on(NAMES[p]!, t) && !absent.has(NAMES[p]!),
    roleCapturing: (r, t) => present.some((n) => PORTS[n]!.role === r && on(n, t)),
    everyCapturing: (r, t) => present.some((n) => PORTS[n]!.role === r) && present.every((n) => PORTS[n]!.role !== r || on(n, t)),
    endedBy: (r, t, s, k) => present.some((n) => PORTS[n]!.role === r && c.windows?.[n] !== undefined && c.windows[n]![1] * 1e3 < t && !s.slice(0, k).some((x) => x.port === NAMES.indexOf(n))),
    hasRole: (r) => present.some((n) => PORTS[n]!.role === r),
    innerHop: (p) => NAMES[p] === 'fwln100i0',
    inHostHopNs: IN_HOST_HOP_NS,
  };
}

function sightings(copies: string[]): PathSighting[] {
  return copies.map((c, i) => {
    const m = /^([\w.]+)@([\d.]+)(?::(in|out))?(?:\/(\d+))?$/.exec(c)!;
    return { port: NAMES.indexOf(m[1]!), t: Number(m[2]) * 1e3, dir: m[3] === 'in' ? DIR_IN : m[3] === 'out' ? DIR_OUT : 0, input: Number(m[4] ?? 0), frame: i + 1, place: 0 };
  });
}

const GUEST1: Partial<SourceKnowledge> = { guestChain: 4 };
const HOST: Partial<SourceKnowledge> = { isHost: true };

const CASES: Case[] = [
  {
    name: "loop: a guest's broadcast leaves by eth0, comes back on eth1, goes up the bond and is flooded back to the guests",
    copies: ['vif1.0@0', 'xenbr0@0', 'vif2.0@18', 'bond0@23', 'eth0@45', 'eth1@50', 'bond0@56', 'xenbr0@56', 'vif2.0@58', 'vif1.0@60'],
    src: GUEST1,
    from: O_GUEST,
    places: ['vif1.0:original', 'xenbr0:flooded', 'vif2.0:flooded', 'bond0:out', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond', 'xenbr0:echo-flooded', 'vif2.0:echo-flooded', 'vif1.0:echo-flooded'],
    upBond: true,
  },
  {
    name: 'no loop: the switch floods it back into eth1, the bond drops it (nothing goes up)',
    copies: ['vif1.0@0', 'xenbr0@0', 'bond0@23', 'eth0@45', 'eth1@50'],
    src: GUEST1,
    from: O_GUEST,
    places: ['vif1.0:original', 'xenbr0:flooded', 'bond0:out', 'eth0:out', 'eth1:echo'],
    upBond: false,
  },
  {
    name: 'switch latency: the echo returns 1.8 ms later, still the echo',
    copies: ['vif1.0@0', 'bond0@20', 'eth0@40', 'eth1@1840', 'bond0@1846'],
    src: GUEST1,
    from: O_GUEST,
    places: ['vif1.0:original', 'bond0:out', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond'],
    upBond: true,
  },
  {
    name: "the bond's own frame tens of ms after the bridge's identical one is a resend, not an echo (no second slave)",
    copies: ['xenbr0@0', 'bond0@40', 'eth0@60', 'bond0@30000', 'eth0@30020'],
    src: HOST,
    from: O_HOST,
    places: ['xenbr0:original', 'bond0:out', 'eth0:out'],
    rest: 2,
    upBond: false,
  },
  {
    name: "the bond's own frame on eth0 then bond0 with no second slave is not an echo",
    copies: ['bond0@0', 'eth0@10', 'bond0@50'],
    src: HOST,
    from: O_BOND,
    places: ['bond0:original', 'eth0:out'],
    rest: 1,
    upBond: false,
  },
  {
    name: "loop: the bond's own IPv6 frame out of eth0, back on eth1, up the bond",
    copies: ['bond0@0', 'eth0@14', 'eth1@32', 'bond0@36', 'xenbr0@36'],
    src: HOST,
    from: O_BOND,
    places: ['bond0:original', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond', 'xenbr0:echo-flooded'],
    upBond: true,
  },
  {
    name: 'a guest re-sending its ARP 55 µs later: the second copy on its port starts another frame, and what follows is that frame',
    copies: ['vif1.0@0', 'xenbr0@0', 'vif2.0@18', 'bond0@23', 'eth0@45', 'eth1@47', 'vif1.0@55', 'xenbr0@55', 'vif2.0@57', 'bond0@59', 'eth0@62', 'eth1@64'],
    src: GUEST1,
    from: O_GUEST,
    places: ['vif1.0:original', 'xenbr0:flooded', 'vif2.0:flooded', 'bond0:out', 'eth0:out', 'eth1:echo'],
    rest: 6,
    upBond: false,
  },
  {
    name: 'a guest re-sending the same ARP 1 s later: a resend',
    copies: ['vif1.0@0', 'bond0@20', 'eth0@40', 'vif1.0@1000000', 'bond0@1000020', 'eth0@1000040'],
    src: GUEST1,
    from: O_GUEST,
    places: ['vif1.0:original', 'bond0:out', 'eth0:out'],
    rest: 3,
    upBond: false,
  },
  {
    name: 'a broadcast from outside, flooded by the switches into both slaves: in twice, up twice, never an echo',
    copies: ['eth0@0', 'eth1@2', 'bond0@6', 'bond0@8', 'xenbr0@8', 'vif1.0@10', 'vif2.0@11'],
    src: {},
    from: O_OUTSIDE,
    places: ['eth0:original', 'eth1:inbound', 'bond0:inbound', 'bond0:inbound', 'xenbr0:flooded', 'vif1.0:flooded', 'vif2.0:flooded'],
  },
  {
    name: 'R9: unicast for a guest the bridge has on the bond, dropped by the bridge: the promiscuous bridge device saw it, nothing was flooded',
    copies: ['eth0@0', 'bond0@4', 'xenbr0@6'],
    src: { unicastForOther: true },
    from: O_OUTSIDE,
    places: ['eth0:original', 'bond0:inbound', 'xenbr0:promiscuous'],
  },
  {
    name: 'R9: unicast for a guest forwarded to its port: the bridge device’s copy is still only the promiscuous one',
    copies: ['eth0@0', 'bond0@4', 'xenbr0@6', 'vif1.0@8'],
    src: { unicastForOther: true },
    from: O_OUTSIDE,
    places: ['eth0:original', 'bond0:inbound', 'xenbr0:promiscuous', 'vif1.0:flooded'],
  },
  {
    name: 'R9 is for unicast only: a broadcast from outside reaches the bridge device as a flood',
    copies: ['eth0@0', 'bond0@4', 'xenbr0@6'],
    src: {},
    from: O_OUTSIDE,
    places: ['eth0:original', 'bond0:inbound', 'xenbr0:flooded'],
  },
  {
    name: 'a guest that migrated away (known as a guest) seen first on the uplink: from outside now',
    copies: ['eth1@0', 'eth0@3', 'bond0@8', 'xenbr0@9', 'vif2.0@12'],
    src: GUEST1,
    from: O_OUTSIDE,
    places: ['eth1:original', 'eth0:inbound', 'bond0:inbound', 'xenbr0:flooded', 'vif2.0:flooded'],
  },
  {
    name: 'an unknown port stamped the same instant as a guest port never becomes the origin by the tie',
    copies: ['mystery@0', 'vif1.0@0', 'bond0@20', 'eth0@40'],
    src: {},
    from: O_GUEST,
    places: ['vif1.0:original', 'mystery:unplaced', 'bond0:out', 'eth0:out'],
  },
  {
    name: "capture windows: a frame seen only on a guest's port while the uplink was not capturing proves nothing (not a guest)",
    copies: ['vif1.0@0'],
    src: {},
    notCapturing: ['eth0', 'eth1', 'bond0'],
    from: O_UNKNOWN,
    places: ['vif1.0:unplaced'],
  },
  {
    name: "capture windows: the same while the uplink was capturing and did not see it: the guest's own",
    copies: ['vif1.0@0'],
    src: {},
    from: O_GUEST,
    places: ['vif1.0:original'],
  },
  {
    name: "capture windows: a guest's frame stamped before the uplink's capture started, then seen going out of it: still the guest's own",
    copies: ['vif2.0@0', 'xenbr0@0', 'bond0@57', 'eth0@87'],
    src: {},
    notCapturing: ['eth0', 'eth1', 'bond0'],
    from: O_GUEST,
    places: ['vif2.0:original', 'xenbr0:flooded', 'bond0:out', 'eth0:out'],
  },
  {
    name: "capture windows: a guest's first frame seen only on the uplink before the host side's capture started proves nothing (not learned on the bond)",
    copies: ['bond0@0', 'eth0@18'],
    src: {},
    notCapturing: ['xenbr0', 'vif1.0', 'vif2.0', 'tap100i0', 'fwpr100p0', 'fwln100i0'],
    from: O_UNKNOWN,
    places: ['bond0:unplaced', 'eth0:unplaced'],
  },
  {
    name: "capture windows: a frame seen on a guest's port 3 µs after the uplink's capture began proves nothing (its copy on the uplink may have come just before)",
    copies: ['vif1.0@3'],
    src: {},
    windows: { eth0: [0, 1e7], eth1: [0, 1e7], bond0: [0, 1e7] },
    from: O_UNKNOWN,
    places: ['vif1.0:unplaced'],
  },
  {
    name: "capture windows: a frame seen only on the host side while the bond's capture had ended proves nothing, though both slaves were still capturing (the slaves of a set need not be every way in)",
    copies: ['xenbr0@50000', 'vif1.0@50010', 'vif2.0@50012'],
    src: {},
    windows: { bond0: [0, 1e4] },
    from: O_UNKNOWN,
    places: ['xenbr0:unplaced', 'vif1.0:unplaced', 'vif2.0:unplaced'],
  },
  {
    name: "capture windows: with no bond in the set (NICs straight in the bridge), every slave is a way in: one whose file ended leaves a frame seen on the host side unplaced",
    copies: ['xenbr0@50000', 'vif1.0@50010', 'vif2.0@50012'],
    src: {},
    absent: ['bond0'],
    windows: { eth0: [0, 1e4] },
    from: O_UNKNOWN,
    places: ['xenbr0:unplaced', 'vif1.0:unplaced', 'vif2.0:unplaced'],
  },
  {
    name: "capture windows: NICs straight in the bridge forward a frame from outside out of the other NIC: a later copy on eth1 does not show the way in, eth0's capture over",
    copies: ['xenbr0@50000', 'vif1.0@50010', 'vif2.0@50012', 'eth1@50020'],
    src: {},
    absent: ['bond0'],
    windows: { eth0: [0, 1e4] },
    from: O_UNKNOWN,
    places: ['xenbr0:unplaced', 'vif1.0:unplaced', 'vif2.0:unplaced', 'eth1:unplaced'],
  },
  {
    name: "capture windows: a copy on vif2.0 with vif1.0's capture over (a cut pcapng holds vif1.0 up to an earlier moment): flooded from there or vif2.0's own, where it started cannot be told",
    copies: ['vif2.0@50000', 'eth0@50006'],
    src: {},
    windows: { 'vif1.0': [0, 1e4] },
    from: O_UNKNOWN,
    places: ['vif2.0:unplaced', 'eth0:unplaced'],
  },
  {
    name: "capture windows: the same with vif1.0 showing a copy of its own (capturing then): vif1.0's frame",
    copies: ['vif1.0@9990', 'xenbr0@9990', 'vif2.0@9995', 'eth0@10000'],
    src: {},
    windows: { 'vif1.0': [0, 1e4], xenbr0: [0, 1e4] },
    from: O_GUEST,
    places: ['vif1.0:original', 'xenbr0:flooded', 'vif2.0:flooded', 'eth0:out'],
  },
  {
    name: "the same bytes a few µs on, their host-side copies taken by the pass before (a Proxmox port MAC's ARP reply sent twice): out of the bond before any slave, the host side's resend",
    copies: ['bond0@0', 'eth0@5'],
    src: { resentFromHostSide: true },
    from: O_BOND,
    places: ['bond0:original', 'eth0:out'],
  },
  {
    name: 'the same two copies with no pass before them: first seen on the uplink while the host side was captured, from outside',
    copies: ['bond0@0', 'eth0@5'],
    src: {},
    from: O_OUTSIDE,
    places: ['bond0:original', 'eth0:inbound'],
  },
  {
    name: "a resend's copies in on a slave first are not the host side's (an echo's way in: slave before bond)",
    copies: ['eth1@0', 'bond0@5'],
    src: { resentFromHostSide: true },
    from: O_OUTSIDE,
    places: ['eth1:original', 'bond0:inbound'],
  },
  {
    name: 'NICs straight in the bridge (no bond; the host the spanning-tree root): in on eth1, then forwarded out of eth0 and to the guests, is a frame from outside',
    copies: ['eth1@0:in', 'vif1.0@10:out', 'vif2.0@11:out', 'eth0@12:out'],
    src: {},
    absent: ['bond0'],
    from: O_OUTSIDE,
    places: ['eth1:original', 'vif1.0:flooded', 'vif2.0:flooded', 'eth0:flooded'],
  },
  {
    name: "the same two uplink copies with a bond in the set: never a forward (through a bond a frame from outside never goes back out): the bond's own frame and its echo, the directions deciding over the stamps",
    copies: ['eth1@0:in', 'eth0@12:out'],
    src: {},
    from: O_BOND,
    places: ['eth0:original', 'eth1:echo'],
  },
  {
    name: "capture windows: the same 3 µs before the uplink's capture ended (a file cut short) proves nothing",
    copies: ['vif1.0@99997'],
    src: {},
    windows: { eth0: [0, 1e5], eth1: [0, 1e5], bond0: [0, 1e5] },
    from: O_UNKNOWN,
    places: ['vif1.0:unplaced'],
  },
  {
    name: "capture windows: the same a second into the uplink's capture: the guest's own",
    copies: ['vif1.0@1000000'],
    src: {},
    windows: { eth0: [0, 1e7], eth1: [0, 1e7], bond0: [0, 1e7] },
    from: O_GUEST,
    places: ['vif1.0:original'],
  },
  {
    name: "capture windows: a known guest's frame on another guest's port while its own port's capture had ended (a file cut short) proves nothing: no move",
    copies: ['vif2.0@0', 'xenbr0@0', 'bond0@30', 'eth0@50'],
    src: { guestChain: 4, guestPort: NAMES.indexOf('vif1.0') },
    windows: { 'vif1.0': [-1e7, -1e6] },
    from: O_UNKNOWN,
    places: ['vif2.0:unplaced', 'xenbr0:unplaced', 'bond0:unplaced', 'eth0:unplaced'],
  },
  {
    name: "capture windows: a frame first on the bridge device as the bridge's capture began is the host side's all the same (a copy before it would have come up there too)",
    copies: ['xenbr0@0', 'vif1.0@1', 'vif2.0@1', 'bond0@3', 'eth0@4'],
    src: {},
    windows: { xenbr0: [0, 1e7] },
    from: O_HOST,
    places: ['xenbr0:original', 'vif1.0:flooded', 'vif2.0:flooded', 'bond0:out', 'eth0:out'],
  },
  {
    name: "capture windows: the same first copy on the bridge device with no copy on the uplink, whose capture began then too (a time slice), proves nothing (a frame from outside, its copies there just before)",
    copies: ['xenbr0@0', 'vif1.0@1', 'vif2.0@1'],
    src: {},
    windows: { xenbr0: [0, 1e7], eth0: [0, 1e7], eth1: [0, 1e7], bond0: [0, 1e7], 'vif1.0': [0, 1e7], 'vif2.0': [0, 1e7] },
    from: O_UNKNOWN,
    places: ['xenbr0:unplaced', 'vif1.0:unplaced', 'vif2.0:unplaced'],
  },
  {
    name: "the host's own frame flooded to every guest at the instant it leaves the bridge device",
    copies: ['vif2.0@0', 'vif1.0@0', 'xenbr0@0', 'bond0@30', 'eth0@50'],
    src: {},
    from: O_HOST,
    places: ['xenbr0:original', 'vif2.0:flooded', 'vif1.0:flooded', 'bond0:out', 'eth0:out'],
  },
  {
    name: 'directions from the capture (SLL2): the echo in on eth1 and up the bond, whatever the stamps say',
    copies: ['vif1.0@0:in', 'bond0@5:out', 'eth0@9:out', 'eth1@9:in', 'bond0@9:in'],
    src: {},
    from: O_GUEST,
    places: ['vif1.0:original', 'bond0:out', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond'],
    upBond: true,
  },
  {
    name: "SLL2 on Proxmox: a client's frame for the guest comes in on the firewall's inner veth (fwln): not the guest sending",
    copies: ['eth0@0:in', 'bond0@3:in', 'xenbr0@5:in', 'fwpr100p0@6:out', 'fwln100i0@7:in', 'tap100i0@9:out'],
    src: {},
    from: O_OUTSIDE,
    places: ['eth0:original', 'bond0:inbound', 'xenbr0:flooded', 'fwpr100p0:flooded', 'fwln100i0:flooded', 'tap100i0:flooded'],
  },
  {
    name: 'live stamps (arrival in user space, out of order): a client frame seen going out to the guest before it is seen coming in is still from outside',
    copies: ['vif1.0@0:out', 'xenbr0@30:in', 'eth0@400:in', 'bond0@420:in'],
    src: {},
    from: O_OUTSIDE,
    places: ['eth0:original', 'vif1.0:flooded', 'xenbr0:flooded', 'bond0:inbound'],
  },
  {
    name: "live stamps: the guest's looped broadcast with its copies stamped out of order, placed by their directions",
    copies: ['bond0@0:in', 'eth1@10:in', 'vif1.0@300:in', 'bond0@310:out', 'eth0@320:out'],
    src: GUEST1,
    from: O_GUEST,
    places: ['vif1.0:original', 'bond0:up-the-bond', 'eth1:echo', 'bond0:out', 'eth0:out'],
    upBond: true,
  },
  {
    name: "a copy going out to a guest's port alone, with its direction: where it came from was not captured",
    copies: ['vif1.0@0:out'],
    src: {},
    from: O_UNKNOWN,
    places: ['vif1.0:unplaced'],
  },
  {
    name: "Proxmox: hops along one guest's chain (tap100i0 → fwpr100p0) take microseconds and are one place, never a resend or a loop",
    copies: ['tap100i0@0', 'fwpr100p0@3', 'xenbr0@4', 'bond0@20', 'eth0@40'],
    src: {},
    from: O_GUEST,
    places: ['tap100i0:original', 'fwpr100p0:original', 'xenbr0:flooded', 'bond0:out', 'eth0:out'],
    upBond: false,
  },
  {
    name: "Proxmox loop: the echo flooded back into the sender's own chain (fwpr100p0 → fwln100i0 → tap100i0) is the echo going to the guest, not the guest sending again",
    copies: ['tap100i0@0', 'fwln100i0@2', 'fwpr100p0@3', 'xenbr0@4', 'bond0@20', 'eth0@40', 'eth1@46', 'bond0@50', 'xenbr0@51', 'fwpr100p0@52', 'fwln100i0@53', 'tap100i0@55'],
    src: { guestChain: 7 },
    from: O_GUEST,
    places: ['tap100i0:original', 'fwln100i0:original', 'fwpr100p0:original', 'xenbr0:flooded', 'bond0:out', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond', 'xenbr0:echo-flooded', 'fwpr100p0:echo-flooded', 'fwln100i0:echo-flooded', 'tap100i0:echo-flooded'],
    upBond: true,
  },
  ...(['tap100i0@62', 'fwln100i0@62'] as const).map((first) => ({
    name: `Proxmox loop: the chain's ports seeing the frame again after the echo reached the guest begin another pass, whichever the files list first at one stamp (${first.split('@')[0]} first)`,
    copies: ['tap100i0@0', 'fwln100i0@2', 'fwpr100p0@3', 'xenbr0@4', 'bond0@20', 'eth0@40', 'eth1@46', 'bond0@50', 'xenbr0@51', 'fwpr100p0@52', 'fwln100i0@53', 'tap100i0@55', first, first === 'tap100i0@62' ? 'fwln100i0@62' : 'tap100i0@62', 'fwpr100p0@64', 'xenbr0@65'],
    src: { guestChain: 7 },
    from: O_GUEST,
    places: ['tap100i0:original', 'fwln100i0:original', 'fwpr100p0:original', 'xenbr0:flooded', 'bond0:out', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond', 'xenbr0:echo-flooded', 'fwpr100p0:echo-flooded', 'fwln100i0:echo-flooded', 'tap100i0:echo-flooded'],
    rest: 4,
    upBond: true,
  })),
  {
    name: "a -i any capture of the guests' ports only: the echo the capture says went out to another guest, then along the sender's chain, is no one's own frame (its start was not captured)",
    copies: ['vif2.0@0:out', 'fwpr100p0@2:out', 'fwln100i0@3', 'tap100i0@5:out'],
    src: { guestChain: 7 },
    absent: ['eth0', 'eth1', 'bond0', 'xenbr0'],
    from: O_UNKNOWN,
    places: ['vif2.0:unplaced', 'fwpr100p0:unplaced', 'fwln100i0:unplaced', 'tap100i0:unplaced'],
  },
  {
    name: "clocks lined up by estimate: the echo's copy from another file stamped 2 µs after the bond's came first",
    copies: ['vif1.0@0/4', 'bond0@20/2', 'eth0@40/0', 'bond0@56/2', 'eth1@58/1'],
    src: GUEST1,
    from: O_GUEST,
    places: ['vif1.0:original', 'bond0:out', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond'],
    upBond: true,
  },
  {
    name: 'the echo going up the bond 30 ms after it came in on eth1 is not the echo (an in-host hop takes µs)',
    copies: ['bond0@0', 'eth0@14', 'eth1@32', 'bond0@30000', 'eth0@30014', 'eth1@30032'],
    src: HOST,
    from: O_BOND,
    places: ['bond0:original', 'eth0:out', 'eth1:echo'],
    rest: 3,
    upBond: false,
  },
  // Issue #19: captures of the uplink alone (no bridge, no guest's port).
  {
    name: 'no host side captured: an outside broadcast in on both slaves, then up the bond, is from outside, whatever its OUI (a KVM client is no guest)',
    copies: ['eth1@0', 'eth0@2', 'bond0@27'],
    src: { likelyGuest: true },
    absent: ['xenbr0', 'vif1.0', 'vif2.0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_OUTSIDE,
    places: ['eth1:original', 'eth0:inbound', 'bond0:inbound'],
    upBond: false,
  },
  {
    name: 'no host side captured: the bond stamped first, a guest-OUI-less frame started on the host side and its echo came up (the loop, proven by the stamps)',
    copies: ['bond0@0', 'eth0@12', 'eth1@19', 'bond0@25'],
    absent: ['xenbr0', 'vif1.0', 'vif2.0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_BOND,
    places: ['bond0:original', 'eth0:out', 'eth1:echo', 'bond0:up-the-bond'],
    upBond: true,
  },
  {
    name: 'R5: a sender repeating itself 30 µs later: the second bond copy goes out of eth0 again, so it is a resend, not the reflection coming up',
    copies: ['bond0@0', 'eth0@12', 'eth1@19', 'bond0@30', 'eth0@32', 'eth1@33'],
    src: { likelyGuest: true },
    absent: ['xenbr0', 'vif1.0', 'vif2.0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_BOND,
    places: ['bond0:original', 'eth0:out', 'eth1:echo'],
    rest: 3,
    upBond: false,
  },
  {
    name: "no host side captured: the bond's capture began inside this frame's path (its first copy after a slave's): where it started proves nothing",
    copies: ['eth1@0', 'eth0@2', 'bond0@27', 'bond0@33'],
    src: { likelyGuest: true },
    notCapturing: ['bond0'],
    absent: ['xenbr0', 'vif1.0', 'vif2.0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_UNKNOWN,
    places: ['eth1:unplaced', 'eth0:unplaced', 'bond0:unplaced', 'bond0:unplaced'],
  },
  {
    name: "no bridge device captured: a frame on both guests' ports and the bond, from a MAC no guest's by its OUI (the host's own, flooded to every guest), proves nothing of where it started",
    copies: ['vif1.0@0', 'vif2.0@3', 'bond0@20', 'eth0@40'],
    absent: ['xenbr0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_UNKNOWN,
    places: ['vif1.0:unplaced', 'vif2.0:unplaced', 'bond0:unplaced', 'eth0:unplaced'],
  },
  {
    name: "no bridge device captured: a unicast seen on one guest's port alone, from a MAC no guest's by its OUI (the host's to its guest, or the guest's to the host), proves nothing",
    copies: ['vif1.0@0'],
    absent: ['xenbr0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_UNKNOWN,
    places: ['vif1.0:unplaced'],
  },
  {
    name: "no bridge device captured: the host's reply to a guest on the guest's port, then (its second reply, the guest learned on the bond) out of the bond: proves nothing",
    copies: ['vif1.0@0', 'bond0@86', 'eth0@90'],
    absent: ['xenbr0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_UNKNOWN,
    places: ['vif1.0:unplaced', 'bond0:unplaced', 'eth0:unplaced'],
  },
  {
    name: "no bridge device captured: the same from a Xen guest's OUI is taken as that guest's own (the weak hint that decides)",
    copies: ['vif1.0@0', 'vif2.0@3', 'bond0@20', 'eth0@40'],
    src: { likelyGuest: true },
    absent: ['xenbr0', 'mystery', 'tap100i0', 'fwln100i0', 'fwpr100p0'],
    from: O_GUEST,
    places: ['vif1.0:original', 'vif2.0:flooded', 'bond0:out', 'eth0:out'],
  },
  {
    // Its unseen start (the bridge device) leaves the out-going host-side copies to be worked out
    // as a frame of their own, which proves nothing (no bridge device, no guest's OUI): no guest is made of the host.
    name: "Proxmox, -i any without the bridge device: the host's multicast goes out to tap101i0, down the chain (fwpr100p0 out, fwln100i0 in, tap100i0 out) and out of the bond: the inner hop is not where it started, the bond is",
    copies: ['vif2.0@0:out', 'fwpr100p0@5:out', 'bond0@8:out', 'fwln100i0@7:in', 'tap100i0@34:out', 'eth0@44:out'],
    absent: ['xenbr0', 'mystery'],
    from: O_BOND,
    places: ['bond0:original', 'eth0:out'],
    rest: 4,
  },
];

describe('the path of one frame', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const s = sightings(c.copies);
      const src: SourceKnowledge = { isHost: false, guestChain: -1, likelyGuest: false, ...c.src };
      const p = pathOf(s, s.length, graph(c), src, emptyPath());
      expect(p.from).toBe(c.from);
      expect(s.slice(0, p.n).map((x) => `${NAMES[x.port]}:${PLACE_NAMES[x.place]}`)).toEqual(c.places);
      expect(s.length - p.n).toBe(c.rest ?? 0);
      if (c.upBond !== undefined) expect(p.upBond >= 0).toBe(c.upBond);
      // Every copy of this frame has a direction once placed (the capture's, or inferred).
      if (p.from !== O_UNKNOWN) for (const x of s.slice(0, p.n)) if (PORTS[NAMES[x.port]!]!.role !== R_UNKNOWN) expect(x.dir).not.toBe(0);
    });
  }

  it('the resends left over are a frame of their own: the bond resending its frame has no echo either', () => {
    const s = sightings(['xenbr0@0', 'bond0@40', 'eth0@60', 'bond0@30000', 'eth0@30020']);
    const g = graph({ name: '', copies: [], from: 0, places: [] });
    const src: SourceKnowledge = { isHost: true, guestChain: -1, likelyGuest: false };
    const first = pathOf(s, s.length, g, src, emptyPath());
    const rest = s.slice(first.n);
    const second = pathOf(rest, rest.length, g, src, emptyPath());
    expect(second.from).toBe(O_BOND);
    expect(second.echo).toBe(false);
    expect(rest.map((x) => PLACE_NAMES[x.place])).toEqual(['original', 'out']);
  });
});
