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

export type ScenarioName = 'loop' | 'lacp' | 'single' | 'stp' | 'migrate' | 'stp-root' | 'lacp-pdu' | 'lacp-split' | 'lacp-nopartner' | 'stp-tcn';
export const SCENARIOS: ScenarioName[] = ['loop', 'lacp', 'single', 'stp', 'migrate', 'stp-root', 'lacp-pdu', 'lacp-split', 'lacp-nopartner', 'stp-tcn'];

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
  guests: { vif: string; mac: string; ip: string }[];
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

export interface Namespaces {
  host: string;
  sw: string;
  client: string;
  guests: string[];
}

export function namespaces(p: LabParams): Namespaces {
  return { host: `${p.prefix}-host`, sw: `${p.prefix}-sw`, client: `${p.prefix}-client`, guests: p.guests.map((_, i) => `${p.prefix}-g${i + 1}`) };
}

/** Redirects everything arriving on `from` out of `to` (u32 match-all: this kernel has no matchall). */
function redirect(ns: string, from: string, to: string): string[] {
  return [
    `ip netns exec ${ns} tc qdisc add dev ${from} ingress`,
    `ip netns exec ${ns} tc filter add dev ${from} parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${to}`,
  ];
}

export function buildCommands(s: ScenarioName, p: LabParams): string[] {
  const ns = namespaces(p);
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
  const links: [string, string][] = s === 'single' ? [[eth0, 'sw-p0']] : [[eth0, 'sw-p0'], [eth1, 'sw-p1']];
  for (const [h, sw] of links) {
    cmds.push(`ip link add name ${h} netns ${ns.host} type veth peer name ${sw} netns ${ns.sw}`);
    cmds.push(`${S} link set ${sw} up`);
  }
  if (s === 'lacp' || s === 'lacp-pdu') {
    // One aggregated switch port: both links enter the switch through `agg`, and what the switch
    // sends to the host leaves by one link. The switch never floods back into the aggregate.
    cmds.push(`${S} link add name agg type veth peer name agg-drv`);
    cmds.push(`ip netns exec ${ns.sw} sysctl -qw net.ipv6.conf.agg-drv.disable_ipv6=1`);
    cmds.push(`${S} link set agg master sw`, `${S} link set agg up`, `${S} link set agg-drv up`);
    cmds.push(...redirect(ns.sw, 'agg-drv', 'sw-p0'), ...redirect(ns.sw, 'sw-p0', 'agg-drv'), ...redirect(ns.sw, 'sw-p1', 'agg-drv'));
  } else {
    for (const [, sw] of links) cmds.push(`${S} link set ${sw} master sw`);
  }

  // The host bridge with the host's MAC.
  cmds.push(`${H} link add name ${p.bridge} type bridge stp_state ${stp} ${timers}`);
  cmds.push(`${H} link set ${p.bridge} address ${p.hostMac}`);
  if (s === 'stp-root') cmds.push(`${H} link set ${p.bridge} type bridge priority 4096`);
  if (isStpScenario(s)) {
    // No bond: both NICs are bridge ports (each keeps its own MAC, as real NICs do).
    cmds.push(`${H} link set ${eth0} address 00:25:90:00:00:10`, `${H} link set ${eth1} address 00:25:90:00:00:11`);
    cmds.push(`${H} link set ${eth0} master ${p.bridge}`, `${H} link set ${eth1} master ${p.bridge}`);
    cmds.push(`${H} link set ${eth0} up`, `${H} link set ${eth1} up`);
  } else {
    cmds.push(`${H} link add name ${p.bond} type veth peer name ${p.bond}-drv`);
    // Enslaved NICs have no IP stack of their own: without this, the backup slave's own IPv6
    // router solicitations (source: the bond's MAC) would come back up the active slave.
    for (const dev of [...links.map(([h]) => h), `${p.bond}-drv`]) cmds.push(`ip netns exec ${ns.host} sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1`);
    cmds.push(`${H} link set ${p.bond} address ${p.hostMac}`);
    for (const [h] of links) cmds.push(`${H} link set ${h} address ${p.hostMac}`, `${H} link set ${h} up`);
    cmds.push(`${H} link set ${p.bond}-drv up`, `${H} link set ${p.bond} master ${p.bridge}`, `${H} link set ${p.bond} up`);
    // Bond transmit: out of the active slave. Receive: up from the active slave, and in `loop`
    // and `lacp` from the other slave too (all_slaves_active=1 / 802.3ad collecting on both).
    cmds.push(...redirect(ns.host, `${p.bond}-drv`, eth0), ...redirect(ns.host, eth0, `${p.bond}-drv`));
    if (s === 'loop' || s === 'lacp' || s === 'lacp-pdu') cmds.push(...redirect(ns.host, eth1, `${p.bond}-drv`));
    // In `migrate`, `lacp-split` and `lacp-nopartner` the backup slave's frames go nowhere (all_slaves_active=0, as it should be):
    // eth1 is in no bridge and has no address, so its stack drops them.
  }
  cmds.push(`${H} addr add ${p.hostIp}/${p.prefixLen} dev ${p.bridge}`);
  cmds.push(`${H} link set ${p.bridge} up`);

  // Guests behind vifs (all vifs carry Xen's fe:ff:ff:ff:ff:ff).
  p.guests.forEach((g, i) => {
    cmds.push(`ip link add name ${g.vif} netns ${ns.host} type veth peer name eth0 netns ${ns.guests[i]}`);
    cmds.push(`${H} link set ${g.vif} address ${p.vifMac}`, `${H} link set ${g.vif} master ${p.bridge}`, `${H} link set ${g.vif} up`);
    cmds.push(`ip -n ${ns.guests[i]} link set eth0 address ${g.mac}`, `ip -n ${ns.guests[i]} addr add ${g.ip}/${p.prefixLen} dev eth0`, `ip -n ${ns.guests[i]} link set eth0 up`);
  });

  // The outside client on the switch.
  cmds.push(`ip link add name sw-c netns ${ns.sw} type veth peer name eth0 netns ${ns.client}`);
  cmds.push(`${S} link set sw-c master sw`, `${S} link set sw-c up`);
  cmds.push(`ip -n ${ns.client} link set eth0 address ${p.client.mac}`, `ip -n ${ns.client} addr add ${p.client.ip}/${p.prefixLen} dev eth0`, `ip -n ${ns.client} link set eth0 up`);
  return cmds;
}
