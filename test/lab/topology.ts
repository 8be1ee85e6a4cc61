/**
 * Lab scenarios as data: the host (a Xen dom0-like namespace with slaves, an emulated bond, a
 * bridge and guest vifs), the upstream switch (a Linux bridge in its own namespace), guests and
 * an outside client. `buildCommands` turns a scenario into the ip/tc/bridge commands that make it.
 *
 * The bond is emulated (the kernel here has no bonding module): bond0 is one end of a veth pair
 * whose other end, bond0-drv, plays the bonding driver. tc redirects what the bridge sends down
 * bond0 out of the active slave, and what arrives on a slave up into bond0. In `loop` the backup
 * slave's frames are passed up too, as a bond with all_slaves_active=1 (or a pre-3.0.2 driver)
 * does; the switch floods the host's broadcasts back into the backup slave, and the real kernel
 * bridge then logs the own-address warning and learns guests behind bond0.
 */

export type ScenarioName =
  | 'loop'
  | 'lacp'
  | 'single'
  | 'stp'
  | 'migrate'
  | 'stp-root'
  | 'lacp-pdu'
  | 'lacp-split'
  | 'lacp-nopartner'
  | 'stp-tcn'
  | 'loop-latency'
  | 'lacp-latency'
  | 'bond-ll'
  | 'bond-ll-loop'
  | 'background'
  | 'background-loop'
  | 'failover'
  | 'loop-late'
  | 'windows'
  | 'windows-loop'
  | 'loop-s96'
  | 'lacp-s96'
  | 'loop-foo0'
  | 'pve-loop'
  | 'pve-noloop'
  | 'libvirt-loop'
  | 'libvirt-noloop'
  | 'loop-fdblog';
export const SCENARIOS: ScenarioName[] = [
  'loop',
  'lacp',
  'single',
  'stp',
  'migrate',
  'stp-root',
  'lacp-pdu',
  'lacp-split',
  'lacp-nopartner',
  'stp-tcn',
  'loop-latency',
  'lacp-latency',
  'bond-ll',
  'bond-ll-loop',
  'background',
  'background-loop',
  'failover',
  'loop-late',
  'windows',
  'windows-loop',
  'loop-s96',
  'lacp-s96',
  'loop-foo0',
  'pve-loop',
  'pve-noloop',
  'libvirt-loop',
  'libvirt-noloop',
  'loop-fdblog',
];

/**
 * The same host with the names and layouts other hypervisors give it:
 *  - pve-loop, pve-noloop: Proxmox VE. Bridge vmbr0 over bond0 (slaves eno1, eno2); VM 100's NIC
 *    with the firewall on: its tap100i0 is a port of its own bridge fwbr100i0, joined to vmbr0 by
 *    the veth pair fwln100i0 (in fwbr100i0) ⇄ fwpr100p0 (in vmbr0), as pve-common's
 *    PVE::Network builds it; VM 101's tap101i0 is a port of vmbr0. Guests carry Proxmox's
 *    bc:24:11 MACs. In pve-loop the bond passes up the backup slave's frames (as `loop`); in
 *    pve-noloop it drops them (all_slaves_active=0).
 *  - libvirt-loop, libvirt-noloop: libvirt/KVM. Bridge virbr0 over bond0 with the guests' taps
 *    vnet0 and vnet1 (libvirt gives a tap the guest's MAC with the first byte fe), guests with
 *    QEMU's 52:54:00 MACs; loop and no loop as above.
 * The taps are veths here (no tun device is needed for the frames to take the same path).
 */
export function isPveScenario(s: ScenarioName): boolean {
  return s === 'pve-loop' || s === 'pve-noloop';
}

export function isLibvirtScenario(s: ScenarioName): boolean {
  return s === 'libvirt-loop' || s === 'libvirt-noloop';
}

/**
 * How the host's NICs meet its bridge:
 *  - all-active: an active-backup bond whose backup slave passes frames up (all_slaves_active=1,
 *    or a bonding driver before 3.0.2): the failure;
 *  - lacp: 802.3ad to one switch, both links one aggregated switch port;
 *  - active-backup: the backup slave's frames are dropped (all_slaves_active=0): no loop, but the
 *    switch still floods the host's broadcasts back into the backup slave, where a capture sees them;
 *  - single: one slave only;
 *  - stp: no bond, both NICs in the bridge with spanning tree.
 */
export type BondMode = 'all-active' | 'lacp' | 'active-backup' | 'single' | 'stp';

/**
 * What a scenario adds to its host, for the situations real captures contain (issue #13):
 *  - switchDelayMs: a user-space relay (relay.py) in the switch's namespace holds every frame on
 *    each uplink for a random delay in this range, per hop (so a frame flooded back from one
 *    slave to the other is held twice);
 *  - bondLinkLocal: the bond has its own IPv6 link-local address (the same as the bridge's, from
 *    the same MAC), enabled tens of ms after the bridge's, so it sends the same NS/RS/MLD;
 *  - background: steady pings, an outside host's mDNS/SSDP-like multicast, a guest re-sending
 *    the same ARP request every second;
 *  - failover: the active slave changes from eth0 to eth1 mid-capture, gratuitous ARPs follow;
 *  - loopStartsLate: the backup slave starts passing frames up mid-capture;
 *  - captureWindows: the per-interface tcpdumps start and stop at different moments (bond0's and
 *    the slaves' stop early, vif2.0's starts late), and a guest talks to the client after they
 *    stopped: in those pcaps the conversation is seen on the guest's vif alone;
 *  - snaplen: every capture form is recorded with `-s` this;
 *  - extraPort: a bridge port with a name no role rule knows, its peer silent.
 */
export interface Variant {
  mode: BondMode;
  switchDelayMs?: [number, number];
  bondLinkLocal?: boolean;
  background?: boolean;
  failover?: boolean;
  loopStartsLate?: boolean;
  captureWindows?: boolean;
  snaplen?: number;
  extraPort?: string;
}

/** Switch latency per hop: a frame from one slave back to the other crosses two hops, 0.3-2 ms. */
export const SWITCH_DELAY_MS: [number, number] = [0.15, 1.0];

export function variant(s: ScenarioName): Variant {
  switch (s) {
    case 'loop':
    case 'loop-foo0':
      return { mode: 'all-active', ...(s === 'loop-foo0' ? { extraPort: 'foo0' } : {}) };
    case 'lacp':
    case 'lacp-pdu':
      return { mode: 'lacp' };
    case 'single':
      return { mode: 'single' };
    case 'stp':
    case 'stp-root':
    case 'stp-tcn':
      return { mode: 'stp' };
    case 'migrate':
    case 'lacp-split':
    case 'lacp-nopartner':
      return { mode: 'active-backup' };
    case 'loop-latency':
      return { mode: 'all-active', switchDelayMs: SWITCH_DELAY_MS };
    case 'lacp-latency':
      return { mode: 'lacp', switchDelayMs: SWITCH_DELAY_MS };
    case 'bond-ll':
      return { mode: 'active-backup', bondLinkLocal: true };
    case 'bond-ll-loop':
      return { mode: 'all-active', bondLinkLocal: true };
    case 'background':
      return { mode: 'active-backup', background: true };
    case 'background-loop':
    case 'loop-fdblog':
      return { mode: 'all-active', background: true };
    case 'failover':
      return { mode: 'active-backup', failover: true };
    case 'loop-late':
      return { mode: 'active-backup', loopStartsLate: true };
    case 'windows':
      return { mode: 'active-backup', captureWindows: true };
    case 'windows-loop':
      return { mode: 'all-active', captureWindows: true };
    case 'loop-s96':
      return { mode: 'all-active', snaplen: 96 };
    case 'lacp-s96':
      return { mode: 'lacp', snaplen: 96 };
    case 'pve-loop':
    case 'libvirt-loop':
      return { mode: 'all-active' };
    case 'pve-noloop':
    case 'libvirt-noloop':
      return { mode: 'active-backup' };
  }
}

/**
 * The control-plane scenarios:
 *  - stp-root: as stp, but the host's bridge has the better priority (4096 against the switch's
 *    default 32768), so the host is root and the switch blocks; a guest's vif goes down and up
 *    twice during the traffic (a guest rebooting), each a topology change;
 *  - stp-tcn: as stp (the switch is root, eth1 blocks), with the same two guest reboots: the host
 *    sends TCNs to the root each time, and the root's TC period spans both;
 *  - lacp-pdu: as lacp (one switch aggregating both links), with LACPDUs written raw on both
 *    sides of each link (the kernel here has no bonding module): one partner, all distributing,
 *    the host on the long timeout as Linux bonds are by default (lacp_rate=slow);
 *  - lacp-split: two switches that are not one LACP system: each link's switch side answers with
 *    its own system MAC, the bond selects eth0's aggregator and holds eth1 out (not in sync or
 *    distributing; what arrives on it is dropped, as on an unselected aggregator);
 *  - lacp-nopartner: an 802.3ad bond facing switch ports with no LACP: the host's LACPDUs name a
 *    defaulted partner of zeros and nothing answers; the bond uses one slave (eth0) and drops what
 *    arrives on the other, as with one aggregator per slave.
 */
export function isStpScenario(s: ScenarioName): boolean {
  return s === 'stp' || s === 'stp-root' || s === 'stp-tcn';
}

export function isLacpPduScenario(s: ScenarioName): boolean {
  return s === 'lacp-pdu' || s === 'lacp-split' || s === 'lacp-nopartner';
}

export interface LabParams {
  /** Namespace prefix: every namespace the lab makes starts with it, so `down` finds them all. */
  prefix: string;
  slaves: [string, string];
  bond: string;
  bridge: string;
  /** The host's MAC: the bridge's and the bond's (and the slaves', as bonding sets them). */
  hostMac: string;
  hostIp: string;
  /**
   * Guests: `vif` is the guest's port on the host (its tap); `portMac` that port's own MAC (Xen's
   * vifMac when absent); `firewall` puts the tap in a bridge of its own joined to the uplink
   * bridge by a veth pair (Proxmox's firewall: fwbrNiM, fwlnNiM in it, fwprNpM in the uplink).
   */
  guests: { vif: string; mac: string; ip: string; portMac?: string; firewall?: { bridge: string; inner: string; outer: string } }[];
  /** Xen gives every vif this MAC. */
  vifMac: string;
  client: { mac: string; ip: string };
  prefixLen: number;
}

export function defaultParams(prefix = 'bsl'): LabParams {
  return {
    prefix,
    slaves: ['eth0', 'eth1'],
    bond: 'bond0',
    bridge: 'xenbr0',
    hostMac: '00:25:90:00:00:01',
    hostIp: '198.51.100.1',
    guests: [
      { vif: 'vif1.0', mac: '00:16:3e:00:00:01', ip: '198.51.100.11' },
      { vif: 'vif2.0', mac: '00:16:3e:00:00:02', ip: '198.51.100.12' },
    ],
    vifMac: 'fe:ff:ff:ff:ff:ff',
    client: { mac: '52:54:00:00:00:c1', ip: '198.51.100.100' },
    prefixLen: 24,
  };
}

/** The parameters of a scenario: Xen's names, or Proxmox's or libvirt's for theirs. */
export function scenarioParams(s: ScenarioName, prefix = 'bsl'): LabParams {
  const p = defaultParams(prefix);
  if (isPveScenario(s)) {
    return {
      ...p,
      slaves: ['eno1', 'eno2'],
      bridge: 'vmbr0',
      guests: [
        { vif: 'tap100i0', mac: 'bc:24:11:00:01:00', ip: '198.51.100.11', portMac: '6a:a1:64:00:00:00', firewall: { bridge: 'fwbr100i0', inner: 'fwln100i0', outer: 'fwpr100p0' } },
        { vif: 'tap101i0', mac: 'bc:24:11:00:01:01', ip: '198.51.100.12', portMac: '6a:a1:65:00:00:00' },
      ],
    };
  }
  if (isLibvirtScenario(s)) {
    return {
      ...p,
      slaves: ['eno1', 'eno2'],
      bridge: 'virbr0',
      guests: [
        { vif: 'vnet0', mac: '52:54:00:6b:00:01', ip: '198.51.100.11', portMac: 'fe:54:00:6b:00:01' },
        { vif: 'vnet1', mac: '52:54:00:6b:00:02', ip: '198.51.100.12', portMac: 'fe:54:00:6b:00:02' },
      ],
    };
  }
  return p;
}

export interface Namespaces {
  host: string;
  sw: string;
  client: string;
  guests: string[];
  /** The peer of a variant's extra bridge port. */
  extra: string;
}

export function namespaces(p: LabParams): Namespaces {
  return { host: `${p.prefix}-host`, sw: `${p.prefix}-sw`, client: `${p.prefix}-client`, guests: p.guests.map((_, i) => `${p.prefix}-g${i + 1}`), extra: `${p.prefix}-x` };
}

/** Redirects everything arriving on `from` out of `to` (u32 match-all: this kernel has no matchall). */
function redirect(ns: string, from: string, to: string): string[] {
  return [
    `ip netns exec ${ns} tc qdisc add dev ${from} ingress`,
    `ip netns exec ${ns} tc filter add dev ${from} parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${to}`,
  ];
}

/**
 * Drops everything arriving on `dev`, as the bonding driver does on an active-backup bond's
 * backup slave (its rx handler consumes the frames). Without it the emulated backup slave, which
 * is a plain interface of the host, answers ARP for the bridge's address with the host's MAC
 * (arp_ignore=0), and that reply, flooded back into the active slave, makes the bridge log its
 * own address on a host that does not loop. At prio 2, so a redirect added at prio 1 (the loop
 * starting) takes over before the drop is removed. The kernel here has no gact action module:
 * the drop is a one-instruction classic BPF program returning TC_ACT_SHOT in direct-action mode.
 */
export function dropAll(ns: string, dev: string): string[] {
  return [`ip netns exec ${ns} tc qdisc add dev ${dev} ingress`, `ip netns exec ${ns} tc filter add dev ${dev} parent ffff: protocol all prio 2 bpf da bytecode '1,6 0 0 2'`];
}

export function buildCommands(s: ScenarioName, p: LabParams): string[] {
  const ns = namespaces(p);
  const v = variant(s);
  const [eth0, eth1] = p.slaves;
  const H = `ip -n ${ns.host}`;
  const S = `ip -n ${ns.sw}`;
  const cmds: string[] = [];
  for (const n of [ns.host, ns.sw, ns.client, ...ns.guests]) cmds.push(`ip netns add ${n}`);
  for (const n of [ns.host, ns.sw, ns.client, ...ns.guests]) cmds.push(`ip -n ${n} link set lo up`);

  // The switch: a plain learning bridge, STP only in the stp scenarios. In stp-root the max age
  // is the shortest allowed (6 s) so a topology change's TC period (max age + forward delay) ends
  // before the next one and each is seen on its own.
  const stp = isStpScenario(s) ? 1 : 0;
  const timers = `forward_delay 200 hello_time 100${s === 'stp-root' ? ' max_age 600' : ''} ageing_time 30000`;
  cmds.push(`${S} link add name sw type bridge stp_state ${stp} ${timers}`);
  if (s === 'stp' || s === 'stp-tcn') cmds.push(`${S} link set sw type bridge priority 4096`);
  cmds.push(`${S} link set sw up`);

  // Uplinks: host slave <-> switch port.
  // With switch latency the cable end sw-pN is the relay's, and the switch's own port is sw-fN
  // (its veth peer sw-rN is the relay's other side).
  const links: [string, string][] = (v.mode === 'single' ? [[eth0, 'sw-p0']] : [[eth0, 'sw-p0'], [eth1, 'sw-p1']]).map(([h, sw]) => [h, v.switchDelayMs ? sw.replace('-p', '-f') : sw]);
  for (const [i, [h, sw]] of links.entries()) {
    if (v.switchDelayMs) {
      cmds.push(`ip link add name ${h} netns ${ns.host} type veth peer name sw-p${i} netns ${ns.sw}`);
      cmds.push(`${S} link add name ${sw} type veth peer name sw-r${i}`);
      for (const dev of [`sw-p${i}`, `sw-r${i}`, sw]) cmds.push(`ip netns exec ${ns.sw} sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1`, `${S} link set ${dev} promisc on`, `${S} link set ${dev} up`);
    } else {
      cmds.push(`ip link add name ${h} netns ${ns.host} type veth peer name ${sw} netns ${ns.sw}`);
      cmds.push(`${S} link set ${sw} up`);
    }
  }
  if (v.mode === 'lacp') {
    // One aggregated switch port: both links enter the switch through `agg`, and what the switch
    // sends to the host leaves by one link. The switch never floods back into the aggregate.
    cmds.push(`${S} link add name agg type veth peer name agg-drv`);
    cmds.push(`ip netns exec ${ns.sw} sysctl -qw net.ipv6.conf.agg-drv.disable_ipv6=1`);
    cmds.push(`${S} link set agg master sw`, `${S} link set agg up`, `${S} link set agg-drv up`);
    const [p0, p1] = links.map(([, sw]) => sw) as [string, string];
    cmds.push(...redirect(ns.sw, 'agg-drv', p0), ...redirect(ns.sw, p0, 'agg-drv'), ...redirect(ns.sw, p1, 'agg-drv'));
  } else {
    for (const [, sw] of links) cmds.push(`${S} link set ${sw} master sw`);
  }

  // The host bridge with the host's MAC.
  cmds.push(`${H} link add name ${p.bridge} type bridge stp_state ${stp} ${timers}`);
  cmds.push(`${H} link set ${p.bridge} address ${p.hostMac}`);
  if (s === 'stp-root') cmds.push(`${H} link set ${p.bridge} type bridge priority 4096`);
  if (v.mode === 'stp') {
    // No bond: both NICs are bridge ports (each keeps its own MAC, as real NICs do).
    cmds.push(`${H} link set ${eth0} address 00:25:90:00:00:10`, `${H} link set ${eth1} address 00:25:90:00:00:11`);
    cmds.push(`${H} link set ${eth0} master ${p.bridge}`, `${H} link set ${eth1} master ${p.bridge}`);
    cmds.push(`${H} link set ${eth0} up`, `${H} link set ${eth1} up`);
  } else {
    cmds.push(`${H} link add name ${p.bond} type veth peer name ${p.bond}-drv`);
    // Enslaved NICs have no IP stack of their own: without this, the backup slave's own IPv6
    // router solicitations (source: the bond's MAC) would come back up the active slave.
    for (const dev of [...links.map(([h]) => h), `${p.bond}-drv`]) cmds.push(`ip netns exec ${ns.host} sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1`);
    // Nor do they answer ARP: Linux answers for any of the host's addresses on any interface
    // (arp_ignore=0), so the backup slave, which holds the host's MAC here, replied on its own to
    // ARP requests the switch flooded into it; the switch then sent guests' replies back up the
    // active slave, and the kernel logged an own-address warning on hosts that do not loop.
    for (const [h] of links) cmds.push(`ip netns exec ${ns.host} sysctl -qw net.ipv4.conf.${h}.arp_ignore=8`);
    // bondLinkLocal: the bridge and the bond start without IPv6; traffic() enables the bridge's,
    // then the bond's tens of ms later, inside the capture.
    if (v.bondLinkLocal) for (const dev of [p.bridge, p.bond]) cmds.push(`ip netns exec ${ns.host} sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1`);
    cmds.push(`${H} link set ${p.bond} address ${p.hostMac}`);
    for (const [h] of links) cmds.push(`${H} link set ${h} address ${p.hostMac}`, `${H} link set ${h} up`);
    cmds.push(`${H} link set ${p.bond}-drv up`, `${H} link set ${p.bond} master ${p.bridge}`, `${H} link set ${p.bond} up`);
    // Bond transmit: out of the active slave. Receive: up from the active slave, and in `loop`
    // and `lacp` from the other slave too (all_slaves_active=1 / 802.3ad collecting on both).
    cmds.push(...redirect(ns.host, `${p.bond}-drv`, eth0), ...redirect(ns.host, eth0, `${p.bond}-drv`));
    if (v.mode === 'all-active' || v.mode === 'lacp') cmds.push(...redirect(ns.host, eth1, `${p.bond}-drv`));
    else if (v.mode === 'active-backup') cmds.push(...dropAll(ns.host, eth1));
    // In active-backup (`migrate`, `lacp-split`, `lacp-nopartner`, …) the backup slave's frames
    // are dropped (all_slaves_active=0, as it should be). The recordings of migrate, lacp-split
    // and lacp-nopartner were made before this drop: there eth1's own stack answered ARP.
  }
  cmds.push(`${H} addr add ${p.hostIp}/${p.prefixLen} dev ${p.bridge}`);
  cmds.push(`${H} link set ${p.bridge} up`);

  // Guests behind vifs (Xen's carry fe:ff:ff:ff:ff:ff; Proxmox's and libvirt's taps their own).
  p.guests.forEach((g, i) => {
    cmds.push(`ip link add name ${g.vif} netns ${ns.host} type veth peer name eth0 netns ${ns.guests[i]}`);
    let master = p.bridge;
    if (g.firewall) {
      // Proxmox's firewall: the tap in a bridge of its own, a veth pair from there into the uplink
      // bridge (pve-common's PVE::Network create_firewall_bridge_linux). IPv6 off on these devices,
      // as its disable_ipv6() does for each: they send nothing of their own.
      const fw = g.firewall;
      cmds.push(`${H} link add name ${fw.bridge} type bridge stp_state 0 ${timers}`);
      cmds.push(`${H} link add name ${fw.outer} type veth peer name ${fw.inner}`);
      for (const dev of [fw.bridge, fw.outer, fw.inner, g.vif]) cmds.push(`ip netns exec ${ns.host} sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1`);
      cmds.push(`${H} link set ${fw.outer} master ${p.bridge}`, `${H} link set ${fw.inner} master ${fw.bridge}`);
      cmds.push(`${H} link set ${fw.outer} up`, `${H} link set ${fw.inner} up`, `${H} link set ${fw.bridge} up`);
      master = fw.bridge;
    }
    cmds.push(`${H} link set ${g.vif} address ${g.portMac ?? p.vifMac}`, `${H} link set ${g.vif} master ${master}`, `${H} link set ${g.vif} up`);
    cmds.push(`ip -n ${ns.guests[i]} link set eth0 address ${g.mac}`, `ip -n ${ns.guests[i]} addr add ${g.ip}/${p.prefixLen} dev eth0`, `ip -n ${ns.guests[i]} link set eth0 up`);
  });

  // A bridge port no role rule knows (its peer, in a namespace of its own, sends nothing).
  if (v.extraPort) {
    cmds.push(`ip netns add ${ns.extra}`, `ip -n ${ns.extra} link set lo up`);
    cmds.push(`ip link add name ${v.extraPort} netns ${ns.host} type veth peer name eth0 netns ${ns.extra}`);
    cmds.push(`ip netns exec ${ns.host} sysctl -qw net.ipv6.conf.${v.extraPort}.disable_ipv6=1`, `ip netns exec ${ns.extra} sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1`);
    cmds.push(`${H} link set ${v.extraPort} master ${p.bridge}`, `${H} link set ${v.extraPort} up`, `ip -n ${ns.extra} link set eth0 up`);
  }

  // The outside client on the switch.
  cmds.push(`ip link add name sw-c netns ${ns.sw} type veth peer name eth0 netns ${ns.client}`);
  cmds.push(`${S} link set sw-c master sw`, `${S} link set sw-c up`);
  cmds.push(`ip -n ${ns.client} link set eth0 address ${p.client.mac}`, `ip -n ${ns.client} addr add ${p.client.ip}/${p.prefixLen} dev eth0`, `ip -n ${ns.client} link set eth0 up`);
  return cmds;
}
