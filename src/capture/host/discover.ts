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
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseMac } from '../../model/mac.js';
import { roleFromName } from '../../model/roles.js';
import { emptyTopology, type Bond, type BondSlave, type Bridge, type Topology } from '../../model/topology.js';

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
export function discoverHost(root = '/'): HostInfo {
  const net = join(root, 'sys/class/net');
  const warnings: string[] = [];
  const topology = emptyTopology();
  const interfaces: HostInterface[] = [];
  const lacpStates = new Map<string, { actor: number; partner: number }>();
  if (!existsSync(net)) {
    warnings.push(`${net}: not found, so nothing could be discovered (is /sys mounted?)`);
    return { topology, interfaces, warnings, root, lacpStates };
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
  return { topology, interfaces, warnings, root, lacpStates };
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
