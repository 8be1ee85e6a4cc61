/**
 * Learning: the bridge's forwarding database as the engine models it, and who is who on the host.
 * From each settled path (path.ts) it takes what the frame teaches (a guest behind its port, one of
 * the host's own MACs) and what the bridge learned where, in time order; a guest's entry going
 * wrong (an echo up the bond) and right again (the guest spoke on its port) is told to the
 * learning detector as it happens.
 */
import { DIR_IN, DIR_OUT } from '../model/record.js';
import type { Topology } from '../model/topology.js';
import type { CaptureWindows } from './capture-windows.js';
import type { DetectorContext } from './detectors/context.js';
import type { ExplanationNames, Finding } from './findings.js';
import { entryRight, entryWrongAgain } from './detectors/learning.js';
import type { MacEntry, MacTable } from './mac-table.js';
import { type FramePath, O_GUEST, O_HOST, P_ECHO_IN, P_UP_THE_BOND, type PathSighting, R_BOND, R_BRIDGE, R_GUEST, R_SLAVE } from './path.js';
import { countDirection, type PortTable } from './ports.js';

/** Xen gives every vif this MAC: never one host. */
export const XEN_VIF_MAC = 0xfeffffffffff;

/**
 * The OUIs hypervisors give their guests' NICs: Xen's 00:16:3e (XenSource), QEMU/KVM's 52:54:00
 * (libvirt), Proxmox VE's bc:24:11 (since PVE 8.1). A weak hint, read only where the capture
 * cannot tell.
 */
export function isGuestOui(mac: number): boolean {
  const oui = Math.floor(mac / 0x1000000);
  return oui === 0x00163e || oui === 0x525400 || oui === 0xbc2411;
}

/** Where a MAC belongs, as the frames showed it. */
export interface Belonging {
  side: 'guest' | 'host' | 'unknown';
  port: string | null;
}

export class BridgeModel {
  /** MACs the host owns (bridge, bond, slaves): from the topology and from frames the bridge device sent. */
  readonly localMacs: Set<number>;
  /** Guest MAC → its port, from frames that entered the host on a guest port. */
  readonly guestPorts = new Map<number, number>();
  /**
   * Whether the bridges learn per VLAN: a VLAN-aware Linux bridge (vlan_filtering=1) and Open
   * vSwitch key their tables by VLAN and MAC; a Linux bridge without vlan_filtering (the kernel's
   * default, and what a capture without the host's settings is taken for) learns by MAC alone —
   * br_handle_frame_finish() calls br_fdb_update() with vid 0 — so a tagged echo moves the same
   * entry as an untagged one.
   */
  private readonly fdbPerVlan: boolean;

  constructor(
    private readonly topology: Topology,
    private readonly ports: PortTable,
    private readonly macs: MacTable,
    private readonly windows: CaptureWindows,
    /** MACs and guests tracked one by one, at most (AnalyzerOptions.maxMacs). */
    private readonly maxMacs: number,
    /** Where the learning detector's findings go. */
    private readonly detectors: DetectorContext,
  ) {
    this.localMacs = new Set(topology.localMacs);
    this.fdbPerVlan = topology.bridges.some((b) => b.vlanFiltering === true || b.kind === 'ovs');
  }

  /** The VLAN the bridge's forwarding database keys a frame of `vlan` by (0 on a bridge that is not VLAN-aware). */
  fdbVlan(vlan: number): number {
    return this.fdbPerVlan ? vlan : 0;
  }

  /** The entry that holds what the bridge learned for this (VLAN, MAC) row: the row itself, or the MAC's VLAN 0 entry on a bridge that is not VLAN-aware. */
  learningOf(e: MacEntry): MacEntry {
    return this.fdbPerVlan || e.vlan === 0 ? e : (this.macs.peek(0, e.mac) ?? e);
  }

  /**
   * Where a MAC belongs (a result of its own: the report's MAC table and the JSON's `macs`): a
   * guest behind its port, one of the host's own MACs (flags, a recorded topology, or frames the
   * host sent), or not known from these captures.
   */
  belonging(mac: number): Belonging {
    if (this.localMacs.has(mac)) return { side: 'host', port: null };
    const g = this.guestPorts.get(mac);
    if (g !== undefined) return { side: 'guest', port: this.ports.ports[g]!.port.name };
    // 'outside' is not claimed: a frame first seen coming in from the switch is the host's own as
    // often as an outside host's (a NIC's own frames sent as a bridge port and flooded back, the
    // reflections of the host's broadcasts): the form sweep found both.
    return { side: 'unknown', port: null };
  }

  /** A guest's own port: the guest's end of its chain (its tap, vif, vnet), null when not a known guest. */
  guestPortName(mac: number): string | null {
    const g = this.guestPorts.get(mac);
    if (g === undefined) return null;
    const end = this.ports.chainEnds(this.ports.ports[g]!.chain).guest;
    return this.ports.ports[end >= 0 ? end : g]!.port.name;
  }

  /** The bridge, bond and guest's port a finding is about, as this host names them (null where not known). */
  namesOf(f: Finding): ExplanationNames {
    const only = (role: string): string | null => {
      const names = this.ports.ports.filter((p) => p.port.role === role).map((p) => p.port.name);
      const known = role === 'bond' ? this.topology.bonds.map((b) => b.name) : role === 'bridge' ? this.topology.bridges.map((b) => b.name) : [];
      const all = [...new Set([...names, ...known])];
      return all.length === 1 ? all[0]! : null;
    };
    const bond = f.interfaces.find((p) => this.ports.get(p)?.port.role === 'bond' || this.topology.bonds.some((b) => b.name === p)) ?? only('bond');
    const bridge = (bond ? (this.topology.ports.get(bond)?.bridge ?? this.topology.bridges.find((b) => b.ports.some((p) => p.name === bond))?.name) : null) ?? only('bridge');
    return { bridge, bond, port: f.mac >= 0 ? this.guestPortName(f.mac) : null };
  }

  /**
   * What a settled frame teaches, in time order: who sent it (a guest behind its port, one of the
   * host's own MACs), its copies' directions counted per port and MAC, and what the bridge learned
   * from each copy that came in on a bridge port (the bond or a guest's port).
   */
  learnFrom(src: number, vlan: number, s: readonly PathSighting[], path: FramePath): void {
    const n = path.n;
    const origin = s[path.origin]!;
    const originPort = this.ports.ports[origin.port]!;
    // Guests and the host's own MACs are bounded like the MAC table (a flood from a guest port).
    // A guest's port's copy is the guest's own frame only when the capture says it came in, or the
    // bridge device was being captured then: the host's frame sent out to that port looks the same
    // without the bridge device's copy before it (a tcpdump on it that had not started yet).
    if (
      path.from === O_GUEST &&
      src !== XEN_VIF_MAC &&
      (this.guestPorts.size < this.maxMacs || this.guestPorts.has(src)) &&
      // (While it was not, a Xen/KVM guest's OUI is the weak hint that decides.)
      (origin.dir === DIR_IN && this.hadDirection(origin) ? true : this.windows.bridgeDeviceCapturing(origin.t) || isGuestOui(src))
    ) {
      this.guestPorts.set(src, origin.port);
      this.localMacs.delete(src);
    }
    // The bridge device's copy is the host's own frame only when the capture says it went out, or
    // every guest's port was being captured then: a guest whose port was not would look the same.
    // A lone copy there says nothing either way: a frame delivered to the host from outside, its
    // copy on the uplink recorded before anything marked it as one to follow (a file's records out
    // of time order), is one copy on the bridge device just as well (stp-tcn's second half made
    // an outside client the host's by its ARP reply).
    if (
      path.from === O_HOST &&
      originPort.roleIndex === R_BRIDGE &&
      !this.guestPorts.has(src) &&
      this.localMacs.size < this.maxMacs &&
      // (While some guest's port was not, a Xen/KVM guest's OUI is the weak hint that decides.)
      (origin.dir === DIR_OUT && this.hadDirection(origin) ? true : n > 1 && (this.windows.allGuestPortsCapturing(origin.t) || !isGuestOui(src)) && this.notFromOutside(s, n, origin.t))
    )
      this.localMacs.add(src);

    // Directions as the capture gave them or the path inferred them, counted per port and MAC.
    for (let i = 0; i < n; i++) countDirection(this.ports.ports[s[i]!.port]!, s[i]!.dir);
    this.macs.countCopies(vlan, src, s, n);

    // What the bridge learned, in time order: inbound on a bridge port (the bond or a guest's port).
    const bondCaptured = this.ports.seesBond();
    for (let i = 0; i < n; i++) {
      const x = s[i]!;
      if (x.dir !== DIR_IN) continue;
      const role = this.ports.ports[x.port]!.roleIndex;
      if (role === R_BOND || (role === R_GUEST && this.uplinkBridgeLearnsAt(x.port))) {
        if (this.learnAt(vlan, src, x.port, x.t, x.place === P_UP_THE_BOND, x.port, x.input, x.frame)) {
          // The entry went wrong here: keep the whole path of the echo that did it, as evidence.
          const e = this.macs.entry(this.fdbVlan(vlan), src);
          if (e) e.wrongPath = s.slice(0, n).map((y) => ({ input: y.input, frame: y.frame, port: y.port, dir: y.dir, place: y.place }));
        }
      } else if (role === R_SLAVE && !bondCaptured) {
        // Without a bond capture, a frame that came in on a slave stands for one that came up the bond.
        const bond = this.ports.bondOf(x.port);
        if (bond >= 0) this.learnAt(vlan, src, bond, x.t, x.place === P_ECHO_IN, x.port, x.input, x.frame);
      }
    }
  }

  /**
   * What the bridge learned from a frame that came in on `port` at t (seen on `atPort`, frame
   * `atFrame` of input `atInput`); `byEcho`: it came up the bond as an echo. Returns whether the
   * entry of a guest went wrong with this frame.
   */
  learnAt(frameVlan: number, mac: number, port: number, t: number, byEcho: boolean, atPort: number, atInput: number, atFrame: number): boolean {
    // The bridge never learns its own addresses from frames (it drops them with the warning).
    if (mac === XEN_VIF_MAC || this.localMacs.has(mac)) return false;
    const vlan = this.fdbVlan(frameVlan);
    const e = this.macs.entry(vlan, mac);
    if (!e) return false;
    // Frames settle group by group, in the order of each group's first copy; a copy of a later
    // group can be stamped before a copy of an earlier one (a guest's unicast between its
    // broadcast and that broadcast's echo). The bridge learned in time order: what it learned
    // from a later frame already stands, so this earlier one changes nothing now.
    if (t < e.learnedAt) return false;
    // Ports of one guest's chain are one place on the bridge: no move between them.
    if (e.learnedOn === port || (e.learnedOn >= 0 && this.ports.ports[e.learnedOn]!.chain === this.ports.ports[port]!.chain)) {
      if (!byEcho) e.learnedByEcho = false;
      e.lastInInput = atInput;
      e.lastInFrame = atFrame;
      return false;
    }
    if (e.learnedOn >= 0) {
      e.moves++;
      if (byEcho) e.echoMoves++;
      e.lastMove = { t, from: e.learnedOn, to: port, byEcho, fromEcho: e.learnedByEcho, port: atPort, dir: DIR_IN, input: atInput, frame: atFrame, prevInput: e.lastInInput, prevFrame: e.lastInFrame };
      e.firstMove ??= e.lastMove;
    }
    e.lastInInput = atInput;
    e.lastInFrame = atFrame;
    const guestPort = this.guestPorts.get(mac);
    let wentWrong = false;
    if (byEcho && guestPort !== undefined) {
      if (e.wrongSince < 0) {
        // Right again for a while before this echo (the guest had spoken): how long it was reachable.
        if (e.rightSince >= 0) entryWrongAgain(this.detectors, mac, vlan, (t - e.rightSince) / 1e6);
        e.rightSince = -1;
        e.wrongSince = t;
        if (e.firstWrong < 0) e.firstWrong = t;
        e.wrongInput = atInput;
        e.wrongFrame = atFrame;
        e.wrongPort = atPort;
        wentWrong = true;
      }
    } else if (guestPort !== undefined && this.ports.ports[guestPort]!.chain === this.ports.ports[port]!.chain && e.wrongSince >= 0) {
      // The guest spoke again: the entry is right again. How long was it wrong?
      entryRight(this.detectors, mac, vlan, (t - e.wrongSince) / 1e6);
      e.wrongSince = -1;
      e.rightSince = t;
      e.wrongInput = e.wrongFrame = e.wrongPort = -1;
      e.wrongPath = null;
    }
    e.learnedOn = port;
    e.learnedAt = t;
    e.learnedByEcho = byEcho;
    return wentWrong;
  }

  /**
   * Whether a frame coming in on this guest's port is what the uplink bridge learns from. Inside a
   * guest's chain (Proxmox's tap100i0 → fwbr100i0 → fwln100i0 ⇄ fwpr100p0 → vmbr0) the uplink
   * bridge learns only what reaches its own port, fwpr100p0: a frame of the guest's for the
   * firewall bridge's side (its own address there) never does. So when the chain's port on the
   * uplink bridge is in the capture set, only its copies count (outside its capture window nothing
   * is learned: whether the frame reached the uplink bridge is not known); when it is not, the hop
   * captured stands for it.
   */
  private uplinkBridgeLearnsAt(port: number): boolean {
    const up = this.ports.chainEnds(this.ports.ports[port]!.chain).uplink;
    return up < 0 || up === port;
  }

  /**
   * Whether the uplink shows that a frame the bridge device and guests' ports carried did not come
   * from outside: the bond was being captured (every frame from outside crosses it, so it would
   * show there), or the frame went out by the uplink as the host's own broadcasts do. Without the
   * bond, the slaves of a capture set need not be every way in — the bond device carries frames no
   * slave saw (a device of its own behind an emulated bond, a slave left out).
   */
  private notFromOutside(s: readonly PathSighting[], n: number, t: number): boolean {
    if (this.windows.roleCapturing(R_BOND, t)) return true;
    for (let i = 0; i < n; i++) {
      const r = this.ports.ports[s[i]!.port]!.roleIndex;
      if (r === R_SLAVE || r === R_BOND) return true;
    }
    return false;
  }

  /** Whether the capture itself gave this sighting's direction (not the path stage). */
  private hadDirection(x: PathSighting): boolean {
    return this.ports.ports[x.port]!.framesWithDirection > 0;
  }
}
