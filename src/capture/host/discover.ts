/**
 * What the host itself says about its network: bonds (/proc/net/bonding/<bond> and
 * /sys/class/net/<bond>/bonding), bridges and their ports (/sys/class/net/<br>/bridge, brif/,
 * brport/), guests' ports, the host's own MACs and per-interface counters. `root` reads all of it
 * from a copy of those trees, so tests run on fixtures and an admin can analyse another host's
 * `tar` of /sys/class/net and /proc/net/bonding.
 *
 * Nothing here throws for a missing or odd file: hosts differ (2.6-era kernels have no
 * all_slaves_active, a bond may have no slaves yet), and a partial picture is still worth having.
 * What could not be read is listed in `warnings`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseMac } from '../../model/mac.js';
import { NO_RULE, roleFromName } from '../../model/roles.js';
import { emptyTopology, type Bond, type BondSlave, type Bridge, type PortVlan, type Topology } from '../../model/topology.js';
import { ovsLayout, readOvsDir, readOvsLive, type OvsRecord } from './ovs.js';

export interface HostInterface {
  name: string;
  ifindex: number;
  /** MAC as a 48-bit integer, -1 when the interface has none (lo, tun). */
  mac: number;
  operstate: string | null;
  /** The bridge or bond this interface is enslaved to. */
  master: string | null;
  kind: 'bridge' | 'bond' | 'other';
  /** Frames the kernel had no protocol handler for (a bond's backup slave drops show here), -1 if unknown. */
  rxNoHandler: number;
  rxDropped: number;
  /** The peer's ifindex for a veth (sysfs iflink), the own ifindex otherwise; -1 if unknown. */
  iflink: number;
  /** Devices this one sits on (sysfs lower_*): bond0 for bond0.20. */
  lower: string[];
}

export interface DiscoverOptions {
  /** Text of `bridge -j vlan show` (a recorded copy); on the host itself it is asked for. */
  vlansJson?: string;
  /** A directory of recorded ovs-vsctl/ovs-appctl output (OVS_FILES); on the host itself they are asked. */
  ovsDir?: string;
}

export interface HostInfo {
  topology: Topology;
  interfaces: HostInterface[];
  /** Files that could not be read or parsed, in plain words. */
  warnings: string[];
  /** Where it was read from ("/" on the host). */
  root: string;
  /** 802.3ad slaves' actor and partner LACP state bytes from /proc/net/bonding. */
  lacpStates: Map<string, { actor: number; partner: number }>;
  /** proc/sys/kernel/osrelease ("6.1.0-18-amd64"): what the bonding rules are judged by; null when unknown. */
  kernelRelease: string | null;
  /** Open vSwitch's own account, when it runs here (or --ovs gave a recorded copy). */
  ovs: OvsRecord | null;
}

/** The kernel's names for bonding modes, keyed by the words /proc/net/bonding prints. */
const PROC_MODE_NAMES: [RegExp, string][] = [
  [/round-robin/i, 'balance-rr'],
  [/active-backup/i, 'active-backup'],
  [/\(xor\)/i, 'balance-xor'],
  [/broadcast/i, 'broadcast'],
  [/802\.3ad/i, '802.3ad'],
  [/transmit load balancing/i, 'balance-tlb'],
  [/adaptive load balancing/i, 'balance-alb'],
];

export interface ProcBonding {
  driverVersion: string | null;
  mode: string | null;
  activeSlave: string | null;
  slaves: BondSlave[];
  /** 802.3ad: the active aggregator's id and partner, -1 when not 802.3ad or not shown. */
  activeAggregatorId: number;
  /** 802.3ad: each slave's actor and partner "port state" bytes (the details blocks), where shown. */
  lacpStates: Map<string, { actor: number; partner: number }>;
}

/**
 * Parses /proc/net/bonding/<bond> as every bonding driver since 2.6 writes it: a version line, the
 * master's "Key: value" lines, then one block per "Slave Interface:". Unknown lines are skipped.
 */
export function parseProcBonding(text: string): ProcBonding {
  const out: ProcBonding = { driverVersion: null, mode: null, activeSlave: null, slaves: [], activeAggregatorId: -1, lacpStates: new Map() };
  let actorDetails = false;
  let slave: BondSlave | null = null;
  // Inside a slave block, "details partner lacp pdu:" switches the system mac lines to the partner's.
  let partnerDetails = false;
  let inActiveAggregator = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const version = /^Ethernet Channel Bonding Driver:\s*v?(\S+)/.exec(line);
    if (version) {
      out.driverVersion = version[1]!;
      continue;
    }
    const colon = line.indexOf(':');
    const key = colon < 0 ? line : line.slice(0, colon).trim().toLowerCase();
    const value = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (key === 'slave interface') {
      slave = { name: value, permanentMac: -1, linkUp: null, aggregatorId: -1, partnerMac: -1, partnerKey: -1 };
      out.slaves.push(slave);
      partnerDetails = false;
      actorDetails = false;
      inActiveAggregator = false;
      continue;
    }
    if (!slave) {
      if (key === 'bonding mode') out.mode = PROC_MODE_NAMES.find(([re]) => re.test(value))?.[1] ?? value;
      else if (key === 'currently active slave') out.activeSlave = value === 'None' ? null : value;
      else if (key === 'active aggregator info') inActiveAggregator = true;
      else if (inActiveAggregator && key === 'aggregator id') out.activeAggregatorId = Number(value);
      continue;
    }
    if (key === 'mii status') slave.linkUp = value === 'up';
    else if (key === 'permanent hw addr') slave.permanentMac = parseMac(value);
    else if (key === 'aggregator id') slave.aggregatorId = Number.isInteger(Number(value)) ? Number(value) : -1;
    else if (key === 'details partner lacp pdu') [partnerDetails, actorDetails] = [true, false];
    else if (key === 'details actor lacp pdu') [partnerDetails, actorDetails] = [false, true];
    else if ((partnerDetails || actorDetails) && key === 'port state' && Number.isInteger(Number(value))) {
      const st = out.lacpStates.get(slave.name) ?? { actor: -1, partner: -1 };
      if (partnerDetails) st.partner = Number(value);
      else st.actor = Number(value);
      out.lacpStates.set(slave.name, st);
    }
    else if (partnerDetails && key === 'system mac address') slave.partnerMac = parseMac(value);
    else if (partnerDetails && key === 'oper key') slave.partnerKey = Number(value);
    // Drivers before the "details … lacp pdu" blocks print the partner per slave this way.
    else if (key === 'partner mac address') slave.partnerMac = parseMac(value);
  }
  return out;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readTrim(path: string): string | null {
  const t = readText(path);
  return t === null ? null : t.trim();
}

function readNumber(path: string): number {
  const t = readTrim(path);
  const n = t === null ? NaN : Number(t);
  return Number.isFinite(n) ? n : -1;
}

function linkName(path: string): string | null {
  try {
    return basename(readlinkSync(path));
  } catch {
    return null;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

const PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];

/** Reads the host's topology from `root` ("/" on the host itself). */
export function discoverHost(root = '/', options: DiscoverOptions = {}): HostInfo {
  const net = join(root, 'sys/class/net');
  const warnings: string[] = [];
  const topology = emptyTopology();
  const interfaces: HostInterface[] = [];
  const lacpStates = new Map<string, { actor: number; partner: number }>();
  const kernelRelease = readTrim(join(root, 'proc/sys/kernel/osrelease'));
  if (!existsSync(net)) {
    warnings.push(`${net}: not found, so nothing could be discovered (is /sys mounted?)`);
    return { topology, interfaces, warnings, root, lacpStates, kernelRelease, ovs: null };
  }
  for (const name of listDir(net)) {
    const dir = join(net, name);
    const kind = existsSync(join(dir, 'bridge')) ? 'bridge' : existsSync(join(dir, 'bonding')) || existsSync(join(root, 'proc/net/bonding', name)) ? 'bond' : 'other';
    const address = readTrim(join(dir, 'address'));
    const iface: HostInterface = {
      name,
      ifindex: readNumber(join(dir, 'ifindex')),
      mac: address && address !== '00:00:00:00:00:00' ? parseMac(address) : -1,
      operstate: readTrim(join(dir, 'operstate')),
      master: linkName(join(dir, 'master')),
      kind,
      rxNoHandler: readNumber(join(dir, 'statistics/rx_nohandler')),
      rxDropped: readNumber(join(dir, 'statistics/rx_dropped')),
      iflink: readNumber(join(dir, 'iflink')),
      lower: listDir(dir).filter((f) => f.startsWith('lower_')).map((f) => f.slice('lower_'.length)),
    };
    interfaces.push(iface);
    if (iface.ifindex >= 0) topology.ifNames.set(iface.ifindex, name);
  }
  const byName = new Map(interfaces.map((i) => [i.name, i]));

  for (const iface of interfaces.filter((i) => i.kind === 'bond')) {
    const bond = readBond(root, iface.name, warnings, lacpStates);
    topology.bonds.push(bond);
    // The bond and the bridge carry the host's MAC; slaves' permanent MACs are the host's too.
    if (iface.mac >= 0) topology.localMacs.add(iface.mac);
    for (const s of bond.slaves) {
      if (s.permanentMac >= 0) topology.localMacs.add(s.permanentMac);
      const slaveMac = byName.get(s.name)?.mac ?? -1;
      if (slaveMac >= 0) topology.localMacs.add(slaveMac);
      topology.ports.set(s.name, { name: s.name, role: 'slave', bond: bond.name, bridge: null, roleSource: 'discovered', reason: `slave of ${bond.name} (/proc/net/bonding)` });
    }
    topology.ports.set(iface.name, { name: iface.name, role: 'bond', bond: null, bridge: iface.master, roleSource: 'discovered', reason: `a bond (mode ${bond.mode ?? 'unknown'})` });
  }

  for (const iface of interfaces.filter((i) => i.kind === 'bridge')) {
    const dir = join(net, iface.name);
    const ports = listDir(join(dir, 'brif'));
    const stp = readNumber(join(dir, 'bridge/stp_state'));
    const bridge: Bridge = {
      name: iface.name,
      ports: ports.map((p) => {
        const s = readNumber(join(dir, 'brif', p, 'state'));
        return { name: p, state: PORT_STATES[s] ?? null };
      }),
      bridgeId: readTrim(join(dir, 'bridge/bridge_id')),
      rootId: readTrim(join(dir, 'bridge/root_id')),
      stpEnabled: stp < 0 ? null : stp > 0,
    };
    const vlanFiltering = readNumber(join(dir, 'bridge/vlan_filtering'));
    if (vlanFiltering >= 0) bridge.vlanFiltering = vlanFiltering > 0;
    topology.bridges.push(bridge);
    if (iface.mac >= 0) topology.localMacs.add(iface.mac);
    topology.ports.set(iface.name, { name: iface.name, role: 'bridge', bond: null, bridge: null, roleSource: 'discovered', reason: 'a Linux bridge (/sys/class/net/*/bridge)' });
    for (const p of ports) {
      const known = topology.ports.get(p);
      if (known?.role === 'bond') {
        known.bridge = iface.name;
        continue;
      }
      // A bridge port that is a physical NIC (both NICs in the bridge, the STP setup) is an uplink;
      // the rest are guests' ports (vifN.M, tapN, vnetN, or veths to containers).
      const byNameRole = roleFromName(p).role;
      // A VLAN device on a bond or a NIC (Proxmox's bond0.20 in vmbr20): the uplink for that VLAN.
      const lowerBond = byName.get(p)?.lower.find((l) => topology.ports.get(l)?.role === 'bond' && !l.includes('.'));
      if (lowerBond) {
        topology.ports.set(p, { name: p, role: 'bond', bond: lowerBond, bridge: iface.name, roleSource: 'discovered', reason: `a VLAN device of bond ${lowerBond} (sysfs lower_${lowerBond}) in bridge ${iface.name}` });
        continue;
      }
      const named = roleFromName(p);
      if (named.role === 'unknown' && named.reason !== NO_RULE) {
        // A port the hypervisor puts there that carries nothing (libvirt's virbr0-nic).
        topology.ports.set(p, { name: p, role: 'unknown', bond: null, bridge: iface.name, roleSource: 'name', reason: named.reason });
        continue;
      }
      if (byNameRole === 'bond') {
        // Named like a bond but without bonding state: an emulated or renamed uplink; trust the name.
        topology.ports.set(p, { name: p, role: 'bond', bond: null, bridge: iface.name, roleSource: 'name', reason: `port of ${iface.name} named like a bond, but not a kernel bond (no bonding state)` });
      } else if (byNameRole === 'slave' || existsSync(join(net, p, 'device'))) {
        topology.ports.set(p, { name: p, role: 'slave', bond: null, bridge: iface.name, roleSource: 'discovered', reason: `a NIC in bridge ${iface.name} (no bond)` });
        const mac = byName.get(p)?.mac ?? -1;
        if (mac >= 0) topology.localMacs.add(mac);
      } else {
        topology.ports.set(p, { name: p, role: 'guest', bond: null, bridge: iface.name, roleSource: 'discovered', reason: `a port of bridge ${iface.name}` });
      }
    }
  }
  linkGuestSideBridges(topology, interfaces);
  const vlansJson = options.vlansJson ?? (root === '/' && topology.bridges.some((b) => b.vlanFiltering) ? runText('bridge', ['-j', 'vlan', 'show']) : null);
  if (vlansJson !== null && vlansJson !== undefined) applyBridgeVlans(topology, vlansJson, warnings);
  const ovs = options.ovsDir !== undefined ? readOvsDir(options.ovsDir, warnings) : root === '/' ? readOvsLive(warnings) : null;
  if (ovs) applyOvs(topology, ovs, byName, warnings, net);
  return { topology, interfaces, warnings, root, lacpStates, kernelRelease, ovs };
}

/**
 * The topology Open vSwitch's recorded state alone gives (`analyze --ovs DIR`): its bridges, bonds
 * with their members, and ports; roles `discovered`. NICs are told from guests by name only here.
 */
export function topologyFromOvs(rec: OvsRecord, warnings: string[]): Topology {
  const t = emptyTopology();
  applyOvs(t, rec, new Map(), warnings, join(rec.source, 'no-sysfs'));
  return t;
}

function runText(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout : null;
}

/**
 * Bridges on the guest's side of another bridge: Proxmox's firewall puts each guest NIC in a
 * bridge of its own (fwbr100i0: tap100i0, fwln100i0) joined to the uplink bridge by a veth pair
 * (fwln100i0 ⇄ fwpr100p0 in vmbr0). Found by what the kernel says, not by names: a bridge with no
 * uplink of its own (no bond, no NIC) one of whose ports is a veth whose peer (sysfs iflink) is a
 * port of another bridge. That bridge, its ports and the veth are guest-side hops: role guest,
 * bridge the uplink bridge, `via` the peer (the guest's port on the uplink bridge).
 */
function linkGuestSideBridges(t: Topology, interfaces: HostInterface[]): void {
  const byIndex = new Map(interfaces.map((i) => [i.ifindex, i]));
  const bridgeOfPort = new Map<string, string>();
  for (const b of t.bridges) for (const p of b.ports) bridgeOfPort.set(p.name, b.name);
  for (const b of t.bridges) {
    const hasUplink = b.ports.some((p) => ['bond', 'slave'].includes(t.ports.get(p.name)?.role ?? ''));
    if (hasUplink) continue;
    for (const p of b.ports) {
      const me = interfaces.find((i) => i.name === p.name);
      if (!me || me.iflink < 0 || me.iflink === me.ifindex) continue;
      // A veth's iflink may name an ifindex in another namespace (a container's end), which can be
      // a different device here: only a pair that names each other is one veth.
      const peer = byIndex.get(me.iflink);
      const uplink = peer && peer.iflink === me.ifindex ? bridgeOfPort.get(peer.name) : undefined;
      if (!peer || !uplink || uplink === b.name) continue;
      const why = `reaches ${uplink} through ${peer.name} (veth peer of ${p.name}, sysfs iflink)`;
      for (const hop of [b.name, ...b.ports.map((x) => x.name)]) {
        const role = hop === b.name ? `a bridge on the guest's side of ${uplink}` : `a port of ${b.name}`;
        t.ports.set(hop, { name: hop, role: 'guest', bond: null, bridge: uplink, roleSource: 'discovered', reason: `${role}; ${why}`, via: peer.name });
      }
      const guestPorts = b.ports.map((x) => x.name).filter((n) => n !== p.name);
      t.ports.set(peer.name, { name: peer.name, role: 'guest', bond: null, bridge: uplink, roleSource: 'discovered', reason: `the port on ${uplink} of ${guestPorts.join(', ') || b.name} (through ${b.name} and ${p.name})` });
      break;
    }
  }
}

/** Per-port VLANs of VLAN-aware bridges from `bridge -j vlan show` (iproute2 4.x keyed the object by name; later an array of {ifname, vlans}). */
export function parseBridgeVlans(text: string): Map<string, PortVlan[]> {
  const out = new Map<string, PortVlan[]>();
  const body = JSON.parse(text) as unknown;
  const entries: [string, unknown][] = Array.isArray(body)
    ? (body as { ifname?: unknown; vlans?: unknown }[]).filter((e) => typeof e?.ifname === 'string').map((e) => [e.ifname as string, e.vlans])
    : body && typeof body === 'object'
      ? Object.entries(body as Record<string, unknown>)
      : [];
  for (const [name, vlans] of entries) {
    const list: PortVlan[] = [];
    for (const v of Array.isArray(vlans) ? (vlans as { vlan?: unknown; vlanEnd?: unknown; flags?: unknown }[]) : []) {
      if (typeof v?.vlan !== 'number') continue;
      const flags = Array.isArray(v.flags) ? v.flags.map(String) : [];
      const end = typeof v.vlanEnd === 'number' ? Math.min(v.vlanEnd, 4094) : v.vlan;
      for (let vid = v.vlan; vid <= end; vid++) list.push({ vid, pvid: flags.includes('PVID'), untagged: flags.includes('Egress Untagged') });
    }
    out.set(name, list);
  }
  return out;
}

function applyBridgeVlans(t: Topology, text: string, warnings: string[]): void {
  let vlans: Map<string, PortVlan[]>;
  try {
    vlans = parseBridgeVlans(text);
  } catch (err) {
    warnings.push(`bridge -j vlan show: not JSON (${(err as Error).message}); per-port VLANs unknown`);
    return;
  }
  for (const b of t.bridges) for (const p of b.ports) {
    const v = vlans.get(p.name);
    if (v) p.vlans = v;
  }
}

/**
 * Open vSwitch's bridges, bonds and ports into the topology: an OVS bond is a Port with several
 * Interfaces (no kernel device, so /proc/net/bonding never shows it); its Interfaces are its
 * slaves; the bridge's internal Interface of the bridge's name is the host's own port; other
 * Interfaces are NICs (a device in sysfs) or guests' ports (vifN.M, tapN.M).
 */
function applyOvs(t: Topology, rec: OvsRecord, byName: Map<string, HostInterface>, warnings: string[], net: string): void {
  const layout = ovsLayout(rec);
  if (!layout.bridges.length) warnings.push(`${rec.source}: Open vSwitch has no bridge`);
  const src = `Open vSwitch (${rec.source})`;
  for (const br of layout.bridges) {
    t.bridges = t.bridges.filter((b) => b.name !== br.name);
    t.bridges.push({ name: br.name, kind: 'ovs', ports: br.ports.map((name) => ({ name, state: null })), bridgeId: null, rootId: null, stpEnabled: null });
    t.ports.set(br.name, { name: br.name, role: 'bridge', bond: null, bridge: null, roleSource: 'discovered', reason: `an Open vSwitch bridge (its internal port), ${src}` });
    const mac = layout.interfaces.get(br.name)?.mac ?? byName.get(br.name)?.mac ?? -1;
    if (mac >= 0) t.localMacs.add(mac);
    for (const pn of br.ports) {
      const port = layout.ports.get(pn)!;
      if (pn === br.name) continue;
      if (port.interfaces.length > 1) {
        const state = rec.bondShow.find((b) => b.name === pn);
        const lacp = rec.lacpShow.find((l) => l.name === pn);
        const ama = port.otherConfig['all-members-active'] ?? port.otherConfig['bond-slb-all-slaves-active'];
        const fallback = port.otherConfig['lacp-fallback-ab'];
        const bond: Bond = {
          name: pn,
          kind: 'ovs',
          mode: state?.mode ?? port.bondMode ?? 'active-backup',
          slaves: port.interfaces.map((name) => {
            const lm = lacp?.members.find((m) => m.name === name);
            const member = state?.members.find((m) => m.name === name);
            return { name, permanentMac: -1, linkUp: member?.enabled ?? null, aggregatorId: -1, partnerMac: lm && lm.partnerSysId > 0 ? lm.partnerSysId : -1, partnerKey: lm && lm.partnerSysId > 0 ? lm.partnerKey : -1 };
          }),
          activeSlave: state?.activeMember ?? null,
          allSlavesActive: state?.allMembersActive ?? (ama === undefined ? null : ama === 'true' || ama === true),
          driverVersion: null,
          ovs: {
            lacp: port.lacp ?? (lacp ? lacp.status.split(' ')[0]! : 'off'),
            lacpStatus: state?.lacpStatus ?? (lacp ? (lacp.status.split(' ')[1] ?? null) : null),
            allMembersActive: state?.allMembersActive ?? (ama === undefined ? null : ama === 'true' || ama === true),
            lacpFallbackAb: state?.lacpFallbackAb ?? (fallback === undefined ? null : fallback === 'true' || fallback === true),
            bridge: br.name,
          },
        };
        t.bonds = t.bonds.filter((b) => b.name !== pn);
        t.bonds.push(bond);
        t.ports.set(pn, { name: pn, role: 'bond', bond: null, bridge: br.name, roleSource: 'discovered', reason: `an Open vSwitch bond (bond_mode ${bond.mode}) in ${br.name}, ${src}` });
        for (const s of port.interfaces) {
          t.ports.set(s, { name: s, role: 'slave', bond: pn, bridge: null, roleSource: 'discovered', reason: `member of Open vSwitch bond ${pn}, ${src}` });
          const m = byName.get(s)?.mac ?? layout.interfaces.get(s)?.mac ?? -1;
          if (m >= 0) t.localMacs.add(m);
        }
        continue;
      }
      const iface = port.interfaces[0] ?? pn;
      const type = layout.interfaces.get(iface)?.type ?? '';
      // A NIC has a device in sysfs; without the sysfs copy, its name says so (ethN, enoN).
      const nic = type === '' && (existsSync(join(net, iface, 'device')) || roleFromName(iface).role === 'slave');
      if (type === 'internal') {
        t.ports.set(iface, { name: iface, role: 'bridge', bond: null, bridge: br.name, roleSource: 'discovered', reason: `an internal port of Open vSwitch bridge ${br.name} (the host's own stack), ${src}` });
      } else if (nic) {
        t.ports.set(iface, { name: iface, role: 'slave', bond: null, bridge: br.name, roleSource: 'discovered', reason: `a NIC in Open vSwitch bridge ${br.name} (no bond), ${src}` });
      } else {
        t.ports.set(iface, { name: iface, role: 'guest', bond: null, bridge: br.name, roleSource: 'discovered', reason: `a port of Open vSwitch bridge ${br.name}, ${src}` });
      }
    }
  }
}

function readBond(root: string, name: string, warnings: string[], lacpStates: Map<string, { actor: number; partner: number }>): Bond {
  const sys = join(root, 'sys/class/net', name, 'bonding');
  const procPath = join(root, 'proc/net/bonding', name);
  const procText = readText(procPath);
  const proc = procText === null ? null : parseProcBonding(procText);
  if (procText === null) warnings.push(`${procPath}: not readable; slaves' permanent MACs and LACP partners unknown`);
  // sysfs: "active-backup 1" (mode name and number).
  const sysMode = readTrim(join(sys, 'mode'))?.split(/\s+/)[0] ?? null;
  const sysSlaves = readTrim(join(sys, 'slaves'))?.split(/\s+/).filter(Boolean) ?? null;
  const allSlavesActive = readTrim(join(sys, 'all_slaves_active'));
  const active = readTrim(join(sys, 'active_slave'));
  const slaves = proc?.slaves ?? [];
  for (const [slave, st] of proc?.lacpStates ?? []) lacpStates.set(slave, st);
  for (const s of sysSlaves ?? []) {
    if (!slaves.some((x) => x.name === s)) slaves.push({ name: s, permanentMac: -1, linkUp: null, aggregatorId: -1, partnerMac: -1, partnerKey: -1 });
  }
  return {
    name,
    mode: sysMode ?? proc?.mode ?? null,
    slaves,
    activeSlave: active ? active : (proc?.activeSlave ?? null),
    allSlavesActive: allSlavesActive === null ? null : allSlavesActive === '1',
    driverVersion: proc?.driverVersion ?? null,
  };
}
