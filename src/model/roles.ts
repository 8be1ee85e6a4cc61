/**
 * Roles from interface names, as the hypervisors name them: the weakest source of a port's role
 * (after flags, a recorded topology and discovery). Shared by the engine (ports of a capture) and
 * discovery (ports of a live host), so it lives below both.
 *
 * One list, first match wins, each rule with the reason the report prints. Where the names come from:
 *  - Proxmox VE: pve-docs pve-network.adoc, "Naming Conventions" (bridges vmbr[N] with N up to
 *    4094, bonds bond[N], VLANs as the device name, a dot and the VLAN number: eno1.50, bond1.30;
 *    NICs en* since 5.0, eth[N] before). Guests' ports and the firewall's devices come from
 *    pve-common's src/PVE/Network.pm: $parse_tap_device_name (a VM's NIC M is tap<vmid>i<M>, a
 *    container's veth<vmid>i<M>), $compute_fwbr_names (fwbr<vmid>i<M>, fwln<vmid>i<M>,
 *    fwpr<vmid>p<M>, and fwln<vmid>o<M> for an Open vSwitch bridge) and
 *    $create_firewall_bridge_linux (the tap goes into fwbr…, which a veth pair fwln… (in fwbr) ⇄
 *    fwpr… (in the uplink bridge) joins to vmbr…): a guest's frame crosses tap → fwbr → fwln ⇄
 *    fwpr → vmbr. On a bridge that is not VLAN-aware, activate_bridge_vlan() gives a tagged NIC a
 *    bridge vmbr<N>v<VLAN> over <nic-or-bond>.<VLAN>.
 *  - libvirt: src/util/virnetdev.h, VIR_NET_GENERATED_VNET_PREFIX "vnet" (the tap devices it
 *    names) and VIR_NET_GENERATED_MACVTAP_PREFIX "macvtap"; its default NAT network's bridge is
 *    virbr0 (formatnetwork); old libvirt added a dummy virbr<N>-nic to pin the bridge's MAC.
 *  - Xen / XCP-ng / XenServer: netback's vif<domid>.<devid>, qemu's emulated NIC of an HVM guest
 *    tap<domid>.<devid>, bridges xenbr<N>, and xapi's internal bridges xapi<N> (VLANs, bonds,
 *    private networks); Open vSwitch's datapath device ovs-system carries no frames of its own.
 */
import type { PortRole } from './topology.js';

export interface NameRole {
  role: PortRole;
  reason: string;
  /**
   * For a hop of Proxmox's firewall chain: the uplink bridge's port the hop reaches it through
   * (fwbr100i0 and fwln100i0 → fwpr100p0). Only where the name alone makes it certain.
   */
  via?: string;
}

type Rule = [RegExp, PortRole, string, ((m: RegExpExecArray) => string)?];

const NAME_RULES: Rule[] = [
  // Bonds and their VLAN sub-interfaces (Proxmox bond0.20 in vmbr20): the uplink either way.
  [/^p?bond\d+$/, 'bond', 'named like a bond (bondN; Xen renames it pbondN)'],
  [/^p?bond\d+\.\d+$/, 'bond', 'named like a VLAN sub-interface of a bond (bondN.VLAN, as Proxmox puts it in vmbrVLAN)'],
  // Proxmox's firewall chain. Before the bridge rule: fwbr… is a Linux bridge, but one per guest
  // NIC, between the guest's tap and the uplink bridge; to the uplink it is the guest's side.
  [/^fwbr(\d+)i(\d+)$/, 'guest', "Proxmox's firewall bridge of one guest NIC (fwbrVMIDiN, between tapVMIDiN and fwprVMIDpN)", (m) => `fwpr${m[1]}p${m[2]}`],
  [/^fwln(\d+)i(\d+)$/, 'guest', "Proxmox's firewall veth on the guest's side (fwlnVMIDiN in fwbrVMIDiN, peer of fwprVMIDpN)", (m) => `fwpr${m[1]}p${m[2]}`],
  [/^fwpr\d+p\d+$/, 'guest', "Proxmox's firewall veth in the uplink bridge (fwprVMIDpN): the guest's port there"],
  [/^fwln\d+o\d+$/, 'guest', "Proxmox's firewall port on an Open vSwitch bridge (fwlnVMIDoN, an internal port): the guest's port there"],
  [/^(tap\d+i\d+|veth\d+i\d+)$/, 'guest', "named like a Proxmox guest's port (tapVMIDiN for a VM, vethVMIDiN for a container)"],
  [/^virbr\d+-nic$/, 'unknown', "libvirt's placeholder NIC in virbrN (keeps the bridge's MAC; carries no traffic)"],
  [/^ovs-system$/, 'unknown', "Open vSwitch's datapath device (carries no frames of its own)"],
  [/^((vmbr|xenbr|xapi)[\w.-]*|virbr\d+|br[\w.-]*)$/, 'bridge', 'named like a bridge (Proxmox vmbrN, vmbrNvVLAN; Xen xenbrN, XCP-ng xapiN; libvirt virbrN; brN)'],
  [/^(vif\d+\.\d+|tap\d+\.\d+)$/, 'guest', "named like a Xen guest's port (vifDOMID.N; tapDOMID.N for an HVM guest's emulated NIC)"],
  [/^(vnet\d+|macvtap\d+)$/, 'guest', "named like a libvirt guest's port (vnetN tap, macvtapN)"],
  [/^tap[\w.-]*$/, 'guest', "named like a guest's tap device (tapN)"],
  [/^(p?eth\d+|en[osp][\w-]*|em\d+|p\d+p\d+)$/, 'slave', 'named like a NIC (ethN, enoN, ensN, enpXsY; Xen renames ethN to pethN)'],
  [/^(p?eth\d+|en[osp][\w-]*|em\d+)\.\d+$/, 'slave', 'named like a VLAN sub-interface of a NIC (eno1.50): the uplink of a bridge for that VLAN'],
  // The role names a sanitized evidence bundle gives its interfaces (`bondscope export --sanitize`).
  [/^slave\d+$/, 'slave', 'named slaveN, as a sanitized evidence bundle names a bond slave'],
  [/^guest\d+$/, 'guest', "named guestN, as a sanitized evidence bundle names a guest's port"],
];

/** The reason of a name no rule knows (roleFromName's 'unknown' when no rule matched). */
export const NO_RULE = 'no flag, recorded topology or naming convention says what it is';

export function roleFromName(name: string): NameRole {
  for (const [re, role, reason, via] of NAME_RULES) {
    const m = re.exec(name);
    if (m) return via ? { role, reason, via: via(m) } : { role, reason };
  }
  return { role: 'unknown', reason: NO_RULE };
}

/**
 * The uplink bridge's port of a Proxmox guest NIC when its firewall is on (tap100i0, veth100i0,
 * fwbr100i0, fwln100i0 → fwpr100p0), null for other names. Whether the firewall is on is not in
 * the tap's name: use it when fwprVMIDpN is one of the host's (or the capture's) interfaces.
 */
export function proxmoxFirewallPort(name: string): string | null {
  const m = /^(?:tap|veth|fwbr|fwln)(\d+)i(\d+)$/.exec(name);
  return m ? `fwpr${m[1]}p${m[2]}` : null;
}

/**
 * Fills `via` for ports named after Proxmox's guest NICs whose firewall port is among `names`:
 * a capture with tap100i0 and fwpr100p0 shows one guest NIC twice, not two guests. Ports whose role
 * came from a stronger source than the name keep what they have.
 */
export function linkProxmoxChains(ports: Iterable<{ name: string; role: PortRole; roleSource: string; via?: string | null }>, names: Set<string>): void {
  for (const p of ports) {
    if (p.role !== 'guest' || p.via || (p.roleSource !== 'name' && p.roleSource !== 'none')) continue;
    const fw = proxmoxFirewallPort(p.name);
    if (fw && names.has(fw)) p.via = fw;
  }
}
