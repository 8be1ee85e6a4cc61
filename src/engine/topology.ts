/**
 * The host as bondscope understands it: which interface is a bond slave, the bond, the bridge, a
 * guest's port. Filled from flags, from a topology recorded by live mode, from discovery on the
 * host, and last from interface names; every port says where its role came from, because the
 * report must say which roles it assumed and why.
 */

export type PortRole = 'slave' | 'bond' | 'bridge' | 'guest' | 'unknown';

/** Where a role came from, strongest first. */
export type RoleSource = 'flag' | 'recorded' | 'discovered' | 'name' | 'none';

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
  /** Driver version from /proc/net/bonding ("3.7.1"), null when unknown. */
  driverVersion: string | null;
}

export interface BridgePortState {
  name: string;
  /** brport/state: disabled, listening, learning, forwarding, blocking; null when unknown. */
  state: string | null;
}

export interface Bridge {
  name: string;
  ports: BridgePortState[];
  /** "8000.001122334455" as sysfs writes it; null when unknown. */
  bridgeId: string | null;
  rootId: string | null;
  stpEnabled: boolean | null;
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
