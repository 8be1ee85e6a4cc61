/**
 * The host as bondscope understands it: which interface is a bond slave, the bond, the bridge, a
 * guest's port. Filled from flags, from a topology recorded by live mode, from discovery on the
 * host, and last from interface names; every port says where its role came from, because the
 * report must say which roles it assumed and why.
 */
import type { FrameStamps } from './record.js';

export type PortRole = 'slave' | 'bond' | 'bridge' | 'guest' | 'unknown';

/**
 * Where a role came from, strongest first. 'inferred': from the frames themselves (which ports see
 * a frame and in what order, src/engine/infer-roles.ts), only for ports nothing else explains.
 */
export type RoleSource = 'flag' | 'recorded' | 'discovered' | 'name' | 'inferred' | 'none';

export interface Port {
  name: string;
  role: PortRole;
  /** For a slave: the bond it belongs to. */
  bond: string | null;
  /** For a bond or guest port: the bridge it is a port of. */
  bridge: string | null;
  roleSource: RoleSource;
  /** One line for the report: "named like a Xen guest port (vifN.M)", "--bond bond0=eth0,eth1". */
  reason: string;
  /**
   * For a guest-side hop that is not itself a port of the uplink bridge (Proxmox's firewall chain:
   * tap100i0 → fwbr100i0 → fwln100i0 ⇄ fwpr100p0 → vmbr0): the uplink bridge's port the hop
   * reaches it through (fwpr100p0). Such hops keep the role 'guest'; a frame seen on the hop and
   * on `via` is one frame on its way, not a second sighting. Absent or null: the port is itself
   * on the uplink bridge (or nothing says otherwise).
   */
  via?: string | null;
  /**
   * The port's frames are several capture points' (interfaces merged into one, as mergecap's
   * default does with unnamed interfaces, or a multi-interface capture saved as pcap): copies of
   * one frame from several hops arrive on it microseconds apart. Which hop saw a copy is lost, so
   * it has no role and proves nothing about a frame's path.
   */
  mergedPoints?: boolean;
}

export interface BondSlave {
  name: string;
  /** Permanent HW address (/proc/net/bonding), -1 when unknown. */
  permanentMac: number;
  linkUp: boolean | null;
  /** 802.3ad: aggregator id and the partner seen on this slave (-1 / null when unknown). */
  aggregatorId: number;
  partnerMac: number;
  partnerKey: number;
}

export interface Bond {
  name: string;
  /** Bonding mode as the kernel names it: balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb; null when unknown. */
  mode: string | null;
  slaves: BondSlave[];
  activeSlave: string | null;
  /** /sys/class/net/<bond>/bonding/all_slaves_active; null when unknown. */
  allSlavesActive: boolean | null;
  /**
   * The version line of /proc/net/bonding ("3.7.1", or since Linux 5.7 the kernel release
   * "6.1.0-18-amd64"), null when unknown. Not a version of the driver's behaviour: 3.7.1 stood from
   * 2011 to 2020. Judge by the kernel release (HostInfo.kernelRelease) instead.
   */
  driverVersion: string | null;
  /** Which implementation: the kernel's bonding driver or an Open vSwitch bond (a Port with several Interfaces). Absent: the kernel's. */
  kind?: 'linux' | 'ovs';
  /** Open vSwitch only: what changes how the bond receives (ovs-vsctl Port, ovs-appctl bond/show). */
  ovs?: OvsBondInfo;
}

export interface OvsBondInfo {
  /** Port lacp column: active, passive, off. */
  lacp: string | null;
  /** bond/show lacp_status: negotiated, configured, off. */
  lacpStatus: string | null;
  /** other_config:all-members-active (OVS 3.0+), null when not set. */
  allMembersActive: boolean | null;
  /** other_config:lacp-fallback-ab. */
  lacpFallbackAb: boolean | null;
  /** The OVS bridge the bond is a port of. */
  bridge: string | null;
}

/** One VLAN of a bridge port as `bridge -j vlan show` has it. */
export interface PortVlan {
  vid: number;
  /** Untagged frames arriving on the port go to this VLAN. */
  pvid: boolean;
  /** Frames of this VLAN leave the port untagged. */
  untagged: boolean;
}

export interface BridgePortState {
  name: string;
  /** brport/state: disabled, listening, learning, forwarding, blocking; null when unknown. */
  state: string | null;
  /** VLAN-aware bridges: the port's VLANs (`bridge -j vlan show`), absent when not known. */
  vlans?: PortVlan[];
}

export interface Bridge {
  name: string;
  ports: BridgePortState[];
  /** "8000.001122334455" as sysfs writes it; null when unknown. */
  bridgeId: string | null;
  rootId: string | null;
  stpEnabled: boolean | null;
  /** /sys/class/net/<br>/bridge/vlan_filtering: a VLAN-aware bridge (Proxmox "VLAN aware"); null when unknown. */
  vlanFiltering?: boolean | null;
  /** A Linux bridge or an Open vSwitch bridge. Absent: Linux. */
  kind?: 'linux' | 'ovs';
}

export interface Topology {
  ports: Map<string, Port>;
  bonds: Bond[];
  bridges: Bridge[];
  /** The host's own MACs (bridge, bond, slaves' permanent addresses, --local-mac). */
  localMacs: Set<number>;
  /** ifindex → interface name, for SLL2 `-i any` captures (from `--links` or discovery). */
  ifNames: Map<number, string>;
}

export function emptyTopology(): Topology {
  return { ports: new Map(), bonds: [], bridges: [], localMacs: new Set(), ifNames: new Map() };
}

/**
 * Lays `over` (stronger: flags) on `base` (discovered or recorded): its ports replace base's of the
 * same name, its bonds and bridges replace base's of the same name, MACs and ifindex names add up.
 */
export function mergeTopology(base: Topology, over: Topology): Topology {
  const t = emptyTopology();
  for (const [n, p] of base.ports) t.ports.set(n, { ...p });
  for (const [n, p] of over.ports) t.ports.set(n, { ...p });
  t.bonds = [...base.bonds.filter((b) => !over.bonds.some((o) => o.name === b.name)), ...over.bonds];
  t.bridges = [...base.bridges.filter((b) => !over.bridges.some((o) => o.name === b.name)), ...over.bridges];
  t.localMacs = new Set([...base.localMacs, ...over.localMacs]);
  t.ifNames = new Map([...base.ifNames, ...over.ifNames]);
  return t;
}

/** First line of the pcapng section comment in which live mode records the host's topology. */
export const TOPOLOGY_COMMENT_HEADER = 'bondscope topology v1';

/** The topology as the section comment of a `live --write` file: a header line, then JSON. */
export function topologyToComment(t: Topology, extra: Record<string, unknown> = {}): string {
  const ports = [...t.ports.values()].map((p) => ({ name: p.name, role: p.role, bond: p.bond, bridge: p.bridge, ...(p.via ? { via: p.via } : {}) }));
  const hex = (m: number): string => m.toString(16).padStart(12, '0');
  const body = {
    ...extra,
    ports,
    bonds: t.bonds.map((b) => ({ ...b, slaves: b.slaves.map((s) => ({ ...s, permanentMac: s.permanentMac >= 0 ? hex(s.permanentMac) : null, partnerMac: s.partnerMac >= 0 ? hex(s.partnerMac) : null })) })),
    bridges: t.bridges,
    localMacs: [...t.localMacs].map(hex),
    ifNames: Object.fromEntries(t.ifNames),
  };
  return `${TOPOLOGY_COMMENT_HEADER}\n${JSON.stringify(body)}`;
}

/**
 * A topology recorded by live mode, read back from a section comment; null when the comment is
 * not one. A damaged or hand-edited record yields what could be read of it: roles are only hints.
 */
export function topologyFromComment(comment: string): Topology | null {
  const body = recordBody(comment);
  if (!body) return null;
  const t = emptyTopology();
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const mac = (v: unknown): number => (typeof v === 'string' && /^[0-9a-f]{12}$/.test(v) ? parseInt(v, 16) : -1);
  const roles: PortRole[] = ['slave', 'bond', 'bridge', 'guest', 'unknown'];
  for (const p of Array.isArray(body.ports) ? (body.ports as Record<string, unknown>[]) : []) {
    const name = str(p?.name);
    const role = roles.find((r) => r === p?.role);
    if (!name || !role) continue;
    const via = str(p.via);
    t.ports.set(name, { name, role, bond: str(p.bond), bridge: str(p.bridge), roleSource: 'recorded', reason: 'recorded by bondscope live on the host', ...(via ? { via } : {}) });
  }
  for (const b of Array.isArray(body.bonds) ? (body.bonds as Record<string, unknown>[]) : []) {
    const name = str(b?.name);
    if (!name) continue;
    const slaves = Array.isArray(b.slaves) ? (b.slaves as Record<string, unknown>[]) : [];
    t.bonds.push({
      name,
      mode: str(b.mode),
      activeSlave: str(b.activeSlave),
      allSlavesActive: typeof b.allSlavesActive === 'boolean' ? b.allSlavesActive : null,
      driverVersion: str(b.driverVersion),
      ...(b.kind === 'ovs' ? { kind: 'ovs' as const } : {}),
      slaves: slaves.filter((s) => str(s?.name)).map((s) => ({ name: str(s.name)!, permanentMac: mac(s.permanentMac), linkUp: typeof s.linkUp === 'boolean' ? s.linkUp : null, aggregatorId: Number(s.aggregatorId ?? -1), partnerMac: mac(s.partnerMac), partnerKey: Number(s.partnerKey ?? -1) })),
    });
  }
  for (const b of Array.isArray(body.bridges) ? (body.bridges as Record<string, unknown>[]) : []) {
    const name = str(b?.name);
    if (!name) continue;
    const ports = Array.isArray(b.ports) ? (b.ports as Record<string, unknown>[]) : [];
    t.bridges.push({ name, bridgeId: str(b.bridgeId), rootId: str(b.rootId), stpEnabled: typeof b.stpEnabled === 'boolean' ? b.stpEnabled : null, ...(typeof b.vlanFiltering === 'boolean' ? { vlanFiltering: b.vlanFiltering } : {}), ...(b.kind === 'ovs' ? { kind: 'ovs' as const } : {}), ports: ports.filter((p) => str(p?.name)).map((p) => ({ name: str(p.name)!, state: str(p.state) })) });
  }
  for (const m of Array.isArray(body.localMacs) ? body.localMacs : []) if (mac(m) >= 0) t.localMacs.add(mac(m));
  if (body.ifNames && typeof body.ifNames === 'object') for (const [k, v] of Object.entries(body.ifNames)) if (typeof v === 'string' && Number.isInteger(Number(k))) t.ifNames.set(Number(k), v);
  return t;
}

/**
 * Who stamped the frames of a recording whose section comment this is (model/record.ts), as the
 * recording says; null when it is not one of bondscope's or does not say (taken as the kernel's,
 * as every other tool's).
 */
export function stampsFromComment(comment: string): FrameStamps | null {
  const s = recordBody(comment)?.stamps;
  return s === 'kernel' || s === 'arrival' ? s : null;
}

/** The JSON record of a section comment bondscope wrote, or null. */
function recordBody(comment: string): Record<string, unknown> | null {
  if (!comment.startsWith(TOPOLOGY_COMMENT_HEADER)) return null;
  try {
    // The record is the one JSON line after the header; text may follow it (an evidence bundle's
    // section comment goes on in words for whoever opens the file in Wireshark).
    const rest = comment.slice(TOPOLOGY_COMMENT_HEADER.length).replace(/^\s+/, '');
    const body = JSON.parse(rest.split('\n', 1)[0]!) as unknown;
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The uplink bridge's port a frame seen on `p` went through: `via` for a guest-side hop (Proxmox's
 * tap100i0, fwbr100i0, fwln100i0 → fwpr100p0), the port itself otherwise. One frame seen on a hop
 * and on its `via` port is one frame on its way, and the uplink bridge learns its source on `via`.
 */
export function uplinkPortOf(p: Pick<Port, 'name' | 'via'>): string {
  return p.via ?? p.name;
}
