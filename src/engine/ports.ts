/**
 * Which port each frame was seen on, and that port's role. Roles come from the Topology (flags,
 * a recorded topology, discovery) and, for ports it doesn't know, from the interface's name as
 * Xen and KVM name them. For SLL2 `-i any` captures the port is the frame's ifindex, named
 * through Topology.ifNames (`--links`) or `if#N`.
 */
import { type CaptureInterface, DIR_IN, DIR_OUT } from '../model/record.js';
import type { DecodedFrame } from '../decode/frame.js';
import { roleFromName } from '../model/roles.js';
import type { Port, PortRole, Topology } from '../model/topology.js';

/**
 * Ports an SLL2 capture may name by ifindex, at most: the ifindex is a 32-bit field of each frame,
 * and a damaged or hostile file must not make a port per frame. Frames on further ifindexes are
 * counted together on one port, OVERFLOW_PORT.
 */
export const MAX_SLL_PORTS = 4096;
export const OVERFLOW_PORT = 'if#other';

/**
 * The place on the bridge a port stands for: its `via` (the uplink bridge's port a guest-side hop
 * leads to), else, for Proxmox's names, the guest's NIC (tapVMIDiN, vethVMIDiN, fwbrVMIDiN,
 * fwlnVMIDiN and fwprVMIDpN are one chain: the firewall bridge holds the tap, its veth pair leads
 * to the uplink bridge), else the port itself.
 */
export function chainKey(name: string, via: string | null): string {
  const pve = /^(?:tap|veth|fwbr|fwln)(\d+)i(\d+)$|^fwpr(\d+)p(\d+)$/.exec(via ?? name);
  if (pve) return `pve:${pve[1] ?? pve[3]}:${pve[2] ?? pve[4]}`;
  return via ?? name;
}

export const ROLE_INDEX: Record<PortRole, number> = { slave: 0, bond: 1, bridge: 2, guest: 3, unknown: 4 };

export interface PortState {
  readonly index: number;
  readonly port: Port;
  /** A guest's port or the bridge device: what arrives here comes from the host side. */
  readonly hostSide: boolean;
  /**
   * The direction a frame without one most likely had here (1 in, 2 out, 0 unknown): frames on
   * the uplink came in, frames on a guest's port went out to the guest. Read per frame, so a
   * number, not the role's string.
   */
  readonly usualDir: number;
  /** A port of the bridge (the bond, a guest's port): what comes in here, the bridge learns. */
  readonly learns: boolean;
  /** The role as a number (ROLE_INDEX), read per frame by the path stage. */
  readonly roleIndex: number;
  /**
   * The place on the bridge this port stands for: ports of one guest's chain (Proxmox's
   * tap100i0 → fwbr100i0 → fwln100i0 ⇄ fwpr100p0, whose `via` names fwpr100p0) share one, so
   * hops along it are never a loop, a resend or a move; every other port is its own.
   */
  readonly chain: number;
  /**
   * A hop inside a guest's chain, not one of its ends (Proxmox's fwbrVMIDiN and fwlnVMIDiN, any
   * port with a `via`): its direction says nothing of where a frame came from (fwln sees a frame
   * for the guest come in), only the guest's own port and the uplink bridge's port do.
   */
  readonly innerHop: boolean;
  /** The input (file, live session) this port's frames come from: its capture window. -1 until the first frame. */
  input: number;
  /** Frames seen on this port, and per direction as known or inferred. */
  frames: number;
  /** Engine time of the first and the latest frame seen on this port (Infinity and -Infinity before the first). */
  firstT: number;
  lastT: number;
  /** Where the port's capture ended, when known before the end (AnalyzerOptions.portEndsNs); Infinity when not. */
  endT: number;
  framesIn: number;
  framesOut: number;
  /** Frames whose direction the capture itself gave (pcapng epb_flags, SLL packet type). */
  framesWithDirection: number;
  /** Seen in a Linux cooked (SLL, SLL2) capture, which has no destination MAC. */
  cooked: boolean;
  /** Several capture points merged into this one interface (Port.mergedPoints): it proves nothing of a frame's path. */
  readonly mergedPoints: boolean;
}

/** A frame on `port` in direction `d` (as the capture gave it or the path inferred it), counted. */
export function countDirection(port: PortState, d: number): void {
  if (d === DIR_IN) port.framesIn++;
  else if (d === DIR_OUT) port.framesOut++;
}

/** A guest's chain's ends as port indexes (PortTable.chainEnds); -1 where not captured. */
export interface ChainEnds {
  uplink: number;
  guest: number;
}

export class PortTable {
  readonly ports: PortState[] = [];
  private readonly byName = new Map<string, PortState>();
  /** CaptureInterface id → port index (for non-SLL2 links); -2 = not resolved yet. */
  private readonly byIface: number[] = [];
  private readonly bySllIndex = new Map<number, number>();

  constructor(private readonly topology: Topology) {}

  private add(name: string): PortState {
    let st = this.byName.get(name);
    if (st) return st;
    let port = this.topology.ports.get(name);
    if (!port) {
      const { role, reason, via } = roleFromName(name);
      port = { name, role, bond: null, bridge: null, roleSource: role === 'unknown' ? 'none' : 'name', reason, ...(via ? { via } : {}) };
      // A slave named like a NIC belongs to the only bond if there is exactly one.
      if (role === 'slave' && this.topology.bonds.length === 1) port.bond = this.topology.bonds[0]!.name;
      this.topology.ports.set(name, port);
    }
    const role = port.role;
    st = {
      index: this.ports.length,
      port,
      hostSide: role === 'guest' || role === 'bridge',
      usualDir: role === 'slave' || role === 'bond' || role === 'bridge' ? 1 : role === 'guest' ? 2 : 0,
      learns: role === 'bond' || role === 'guest',
      roleIndex: ROLE_INDEX[role],
      chain: this.chainOf(chainKey(name, (port as Port & { via?: string | null }).via ?? null)),
      innerHop: ((port as Port & { via?: string | null }).via ?? name) !== name || /^fw(br|ln)\d+i\d+$/.test(name),
      input: -1,
      frames: 0,
      firstT: Infinity,
      lastT: -Infinity,
      endT: Infinity,
      framesIn: 0,
      framesOut: 0,
      framesWithDirection: 0,
      cooked: false,
      mergedPoints: port.mergedPoints === true,
    };
    this.ports.push(st);
    this.byName.set(name, st);
    return st;
  }

  private readonly chains = new Map<string, number>();

  private chainOf(name: string): number {
    let c = this.chains.get(name);
    if (c === undefined) this.chains.set(name, (c = this.chains.size));
    return c;
  }

  /** The port of a captured interface that carried no frame: it is in the capture set all the same. */
  captured(name: string, input: number): PortState {
    const st = this.add(name);
    if (st.input < 0) st.input = input;
    return st;
  }

  get(name: string): PortState | undefined {
    return this.byName.get(name);
  }

  /** The port a frame was seen on. */
  resolve(iface: CaptureInterface, frame: DecodedFrame): PortState {
    if (frame.sllIfIndex >= 0) {
      let i = this.bySllIndex.get(frame.sllIfIndex);
      if (i === undefined) {
        if (this.bySllIndex.size >= MAX_SLL_PORTS) return this.add(OVERFLOW_PORT);
        const name = this.topology.ifNames.get(frame.sllIfIndex) ?? `if#${frame.sllIfIndex}`;
        i = this.add(name).index;
        this.bySllIndex.set(frame.sllIfIndex, i);
      }
      return this.ports[i]!;
    }
    const cached = this.byIface[iface.id];
    if (cached !== undefined) return this.ports[cached]!;
    const st = this.add(iface.name);
    this.byIface[iface.id] = st.index;
    return st;
  }

  /** Roles of the ports so far, recomputed only when a port was added (a port's role never changes). */
  private rolesFor = -1;
  /** Bit per role index (ROLE_INDEX) of the ports so far. */
  private rolesSeen = 0;

  private updateRoles(): void {
    if (this.rolesFor === this.ports.length) return;
    this.rolesFor = this.ports.length;
    this.rolesSeen = 0;
    for (const p of this.ports) this.rolesSeen |= 1 << p.roleIndex;
  }

  /** Whether a port of this role (ROLE_INDEX) is in the capture set so far. */
  hasRole(role: number): boolean {
    this.updateRoles();
    return (this.rolesSeen & (1 << role)) !== 0;
  }

  /** Whether the capture set has any port on the host side of the bond (bridge or guest ports). */
  seesHostSide(): boolean {
    return this.hasRole(ROLE_INDEX.guest) || this.hasRole(ROLE_INDEX.bridge);
  }

  seesBond(): boolean {
    return this.hasRole(ROLE_INDEX.bond);
  }

  /** The bond a slave belongs to, as a port index, or -1 (not a slave of a bond in the capture set). */
  bondOf(slavePort: number): number {
    const p = this.ports[slavePort]!.port;
    if (!p.bond) return -1;
    return this.byName.get(p.bond)?.index ?? -1;
  }

  /**
   * The ends of a guest's chain: the uplink bridge's port (the one a hop names as its `via`:
   * fwpr100p0) and the guest's own (its tap, vif or vnet: neither an inner hop nor the uplink's
   * port); -1 where not captured. A chain of one port is both.
   */
  chainEnds(chain: number): ChainEnds {
    if (this.chainEndsFor !== this.ports.length) {
      this.chainEndsFor = this.ports.length;
      this.chainEndCache.clear();
    }
    let ends = this.chainEndCache.get(chain);
    if (ends) return ends;
    const ports = this.ports.filter((p) => p.chain === chain && p.roleIndex === ROLE_INDEX.guest);
    const via = ports.map((p) => p.port.via).find((v): v is string => !!v);
    const uplink = via !== undefined ? (this.byName.get(via)?.index ?? -1) : (ports.length === 1 ? ports[0]!.index : -1);
    const guest = ports.find((p) => !p.innerHop && p.index !== uplink)?.index ?? (ports.length === 1 ? ports[0]!.index : uplink);
    ends = { uplink, guest };
    this.chainEndCache.set(chain, ends);
    return ends;
  }
  private chainEndsFor = -1;
  private readonly chainEndCache = new Map<number, ChainEnds>();
}
