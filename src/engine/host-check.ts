/**
 * What the host's configuration alone says, before a single frame: is this bonded bridge set up so
 * that it loops? Used by `bondscope check` and by live mode beside the frames. Each rule is the
 * behaviour of one implementation, and names where that behaviour is written (RULE_SOURCES; the
 * finding's `details.source`):
 *
 *  - the kernel's bonding driver, judged by the kernel release and the bond's settings, not by the
 *    version line of /proc/net/bonding (frozen at 3.7.1 from 2011 to 2020, the kernel release since);
 *    active-backup drops what arrives on the backup slave since bonding 3.0.2 (2006) unless
 *    all_slaves_active=1; balance-rr, balance-xor and broadcast take frames from every slave, so
 *    without one static EtherChannel on the switch a broadcast leaving by one slave comes back by
 *    another; balance-tlb/alb are not supported under a bridge by Red Hat, and before a 2014 change
 *    to bond_open() their backup slaves lost the inactive flag after the bond went down and up;
 *  - Open vSwitch bonds (XCP-ng, XenServer): active-backup drops what arrives on backup members;
 *    balance-slb accepts broadcast and multicast only on the active member and drops reflections of
 *    frames whose source is learned on another port, except gratuitous ARP, unless
 *    other_config:all-members-active=true; balance-tcp needs LACP negotiated;
 *  - 802.3ad is the fix, but only when every slave reaches the same partner (one switch or a stack).
 */
import { formatMac } from '../model/mac.js';
import { evaluateLacp, lacpViewsFromBonds, stpFindingsFromBridges } from './control-plane.js';
import { explanationFor, REMEDIES_FOR, SEVERITY, type Confidence, type Finding, type FindingKind } from './findings.js';
import { bySeverity } from './severity.js';
import type { Bond, Topology } from '../model/topology.js';

/**
 * Where each rule's behaviour is written: a kernel commit, the kernel's or Open vSwitch's own
 * documentation or source, or a vendor's document. Commit ids are given only where they were
 * confirmed; otherwise the subject, author and date of the change, and the text that shows it.
 */
export const RULE_SOURCES = {
  duplicateSuppression:
    'Linux bonding 3.0.2 (DRV_RELDATE "February 21, 2006"): "bonding: suppress duplicate packets" (Jay Vosburgh), queued for 2.6.17 in the netdev pull of 2006-03-04 (commit id not confirmed here); frames on an inactive slave are dropped (bond_should_deliver_exact_match() in bond_main.c today)',
  allSlavesActive:
    'Linux Documentation/networking/bonding.rst, all_slaves_active: duplicate frames received on inactive ports are dropped (0, the default) or delivered (1)',
  driverVersionFrozen:
    'Linux bonding DRV_VERSION "3.7.1" (DRV_RELDATE "April 27, 2011") was never raised again; "net/bond: Delete driver and module versions" (Leon Romanovsky, netdev, 2020-02-24; Linux 5.7) made /proc/net/bonding print the kernel release (bonding_priv.h: bond_version … UTS_RELEASE)',
  tlbAlbInactive:
    'Linux bond_main.c bond_open(): in 3.13-era source backup slaves were set inactive only when mode == BOND_MODE_ACTIVEBACKUP, so after a bond down/up tlb/alb backups were all active; from 2014 (3.14-era source) USES_PRIMARY(mode) covers active-backup, tlb and alb. Commit id not confirmed; the release boundary is approximate',
  linkLocal:
    'Linux bond_handle_frame(): link-local destinations (01:80:c2:00:00:0X: STP, LACP, LLDP) from an inactive slave are still delivered: on the slave since b89f04c61efe ("bonding: deliver link-local packets with skb->dev set to link that packets arrived on", 2018), to the bond too since 6a9e461f6fe4 ("bonding: pass link-local packets to bonding master also", 2018)',
  loadBalanceModes:
    'Linux Documentation/networking/bonding.rst: balance-rr, balance-xor and broadcast need the switch ports grouped into one (static) EtherChannel; they receive on every slave',
  redHatBridge:
    'Red Hat Enterprise Linux 7 Virtualization Deployment and Administration Guide, 17.2 "Bridged Mode" (and RHEL 6 Virtualization Administration Guide 18.2): with a bond under a bridge for guests use only mode 1 (active-backup), 2 (balance-xor) or 4 (802.3ad); modes 0 (balance-rr), 3 (broadcast), 5 (balance-tlb) and 6 (balance-alb) are likely to make the connection fail',
  ovsActiveBackup:
    'Open vSwitch ofproto/bond.c bond_check_admissibility(), BM_AB: "Drop all packets which arrive on backup members. This is similar to how Linux bonding handles active-backup bonds."',
  ovsSlb:
    'Open vSwitch Documentation/topics/bonding.rst, "SLB Bonding" rules 1-4 (broadcast and multicast accepted only on the active member; packets whose source MAC+VLAN is learned on another port dropped; gratuitous ARP excepted, with a 5 s lock), ofproto/bond.c bond_check_admissibility(); vswitchd/vswitch.xml: balance-slb "will work with any kind of upstream switch. On the upstream switch, do not configure the interfaces as a bond"',
  ovsAllMembersActive:
    'Open vSwitch vswitchd/vswitch.xml, Port other_config:all-members-active ("identical to all_slaves_active for Linux kernel bonds"), added by 1b53826d6c74 ("ofproto/bond: Add knob \'all-members-active\'", 2022)',
  ovsBalanceTcp:
    'Open vSwitch vswitchd/vswitch.xml "Bonding Configuration": balance-tcp requires "802.3ad with successful LACP negotiation" (lacp-fallback-ab: active-backup meanwhile); ofproto/bond.c bond_check_admissibility() drops everything on a balance-tcp bond whose LACP is not negotiated',
} as const;

/** A finding from configuration: no frames, no times; `details` says which setting. */
export function configFinding(kind: FindingKind, summary: string, interfaces: string[], confidence: Confidence, details: Record<string, string | number>, severity = SEVERITY[kind]): Finding {
  return {
    kind,
    severity,
    summary,
    mac: -1,
    vlan: 0,
    interfaces,
    count: 0,
    firstSec: 0,
    firstNsec: 0,
    lastSec: 0,
    lastNsec: 0,
    evidence: [],
    confidence,
    // A loop-prone bond's ports come as [bridge, bond, slaves…]: its explanation names them.
    explanation: explanationFor(kind, kind === 'loop-prone-bond' ? { bridge: interfaces[0] ?? null, bond: interfaces[1] ?? null } : {}),
    remedies: REMEDIES_FOR[kind],
    details: { source: 'configuration', ...details },
  };
}

/** "3.0.1" < "3.0.2"; kernel-style versions ("5.10.0-21-amd64") compare by their numbers. */
export function versionBelow(version: string, than: string): boolean {
  const a = version.split(/[^0-9]+/).filter(Boolean).map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    if (x !== b[i]) return x < b[i]!;
  }
  return false;
}

/** The bridge a bond is a port of (itself, or through a VLAN device of it: bond0.20 in vmbr20). */
function bridgeOf(t: Topology, bond: Bond): string | null {
  const direct = t.ports.get(bond.name)?.bridge ?? t.bridges.find((b) => b.ports.some((p) => p.name === bond.name))?.name ?? null;
  if (direct) return direct;
  const viaVlan = [...t.ports.values()].find((p) => p.role === 'bond' && p.bond === bond.name && p.bridge);
  return viaVlan?.bridge ?? null;
}

/**
 * What the version line of /proc/net/bonding is: a driver version up to 3.7.1 (the last, from
 * 2011 until 2020), or since Linux 5.7 the kernel release. A driver version before 3.7.1 dates the
 * driver; 3.7.1 itself says only "Linux 3.0 to 5.6".
 */
export function bondingVersionKind(v: string): 'driver' | 'frozen' | 'kernel' {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) return 'kernel';
  if (v === '3.7.1') return 'frozen';
  return versionBelow(v, '3.7.1') ? 'driver' : 'kernel';
}

/** Kernel release to judge by: the host's osrelease, else a kernel release printed by bonding. */
function releaseOf(bond: Bond, kernelRelease: string | null | undefined): string | null {
  if (kernelRelease) return kernelRelease;
  return bond.driverVersion && bondingVersionKind(bond.driverVersion) === 'kernel' ? bond.driverVersion : null;
}

export interface HostCheck {
  findings: Finding[];
  /** What was checked and found fine, so "no finding" is not mistaken for "not looked at". */
  fine: string[];
}

/** A configuration finding of a rule: its source in `details.source`, and that it comes from configuration. */
function ruleFinding(kind: FindingKind, summary: string, ports: string[], confidence: Confidence, source: string, details: Record<string, string | number>, severity = SEVERITY[kind]): Finding {
  const f = configFinding(kind, summary, ports, confidence, details, severity);
  f.details.source = source;
  f.details.basis = 'configuration';
  return f;
}

/** The kernel's bonding driver under a bridge, by mode, settings and kernel release. */
function judgeLinuxBond(bond: Bond, where: string, ports: string[], release: string | null, findings: Finding[], fine: string[]): void {
  const version = bond.driverVersion;
  const kind = version ? bondingVersionKind(version) : null;
  // What the version line means, said wherever it is shown: it is not what the rules go by.
  const versionNote =
    kind === 'frozen'
      ? `driver 3.7.1 says only "Linux 3.0 to 5.6"${release ? `; judged by kernel ${release}` : ''}`
      : kind === 'kernel'
        ? `bonding prints the kernel release (${version}) since Linux 5.7`
        : kind === 'driver'
          ? `driver ${version}`
          : release
            ? `kernel ${release}`
            : '';
  const details = (setting: string): Record<string, string | number> => ({ mode: bond.mode ?? 'unknown', setting, ...(release ? { kernelRelease: release } : {}), ...(version ? { bondingVersion: version, bondingVersionMeaning: kind === 'frozen' ? RULE_SOURCES.driverVersionFrozen : kind === 'kernel' ? 'the kernel release (Linux 5.7 and later)' : 'the bonding driver version (before 2011)' } : {}) });
  switch (bond.mode) {
    case 'balance-rr':
    case 'broadcast':
      findings.push(ruleFinding('loop-prone-bond', `${where} is in ${bond.mode} mode: it passes up what arrives on every slave, so unless the switch ports form one static EtherChannel, broadcasts flooded back loop; Red Hat does not support ${bond.mode} under a bridge`, ports, 'medium', `${RULE_SOURCES.loadBalanceModes}; ${RULE_SOURCES.redHatBridge}`, details('mode')));
      break;
    case 'balance-xor':
      findings.push(ruleFinding('loop-prone-bond', `${where} is in balance-xor mode: it passes up what arrives on every slave, so unless the switch ports form one static EtherChannel, broadcasts flooded back loop (Red Hat supports balance-xor under a bridge only with that EtherChannel)`, ports, 'medium', `${RULE_SOURCES.loadBalanceModes}; ${RULE_SOURCES.redHatBridge}`, details('mode')));
      break;
    case 'balance-tlb':
    case 'balance-alb': {
      const old = release !== null && versionBelow(release, '3.14');
      const d = details('mode');
      if (old) d.kernelNote = `kernel ${release} predates the 2014 bond_open() change: after the bond went down and up, its backup slaves passed everything up`;
      findings.push(
        ruleFinding(
          'loop-prone-bond',
          `${where} is in ${bond.mode} mode: it receives on every slave and${bond.mode === 'balance-alb' ? ' rewrites ARP replies with the slaves’ MACs, which' : ''} confuses the switches' and the guests' learning behind a bridge; Red Hat does not support it under a bridge${old ? `; kernel ${release} also lost the backup slaves' inactive flag after a bond down/up` : ''}`,
          ports,
          old ? 'high' : 'medium',
          `${RULE_SOURCES.redHatBridge}; ${RULE_SOURCES.tlbAlbInactive}`,
          d,
          'warning',
        ),
      );
      break;
    }
    case 'active-backup':
      if (bond.allSlavesActive === true) {
        findings.push(ruleFinding('loop-prone-bond', `${where}: active-backup with all_slaves_active=1 passes up what arrives on the backup slave, so broadcasts flooded back by the switches loop`, ports, 'high', RULE_SOURCES.allSlavesActive, details('all_slaves_active=1')));
      } else if (kind === 'driver' && versionBelow(version!, '3.0.2')) {
        findings.push(ruleFinding('loop-prone-bond', `${where}: bonding driver ${version} (before 3.0.2, 2006) passes up what arrives on the backup slave, so broadcasts flooded back by the switches loop`, ports, 'high', RULE_SOURCES.duplicateSuppression, details(`driver ${version}`)));
      } else if (kind !== 'driver' && release !== null && versionBelow(release, '2.6.17')) {
        findings.push(ruleFinding('loop-prone-bond', `${where}: kernel ${release} predates bonding 3.0.2 (Linux 2.6.17, 2006), whose active-backup bonds pass up what arrives on the backup slave`, ports, 'medium', RULE_SOURCES.duplicateSuppression, details(`kernel ${release}`)));
      } else {
        fine.push(`${where}: active-backup ${bond.allSlavesActive === false ? 'with all_slaves_active=0' : '(all_slaves_active unknown)'}${versionNote ? `, ${versionNote}` : ''}: frames arriving on the backup slave are dropped [${RULE_SOURCES.duplicateSuppression}; ${RULE_SOURCES.allSlavesActive}]`);
      }
      break;
    case '802.3ad': {
      const partners = new Set(bond.slaves.filter((s) => s.partnerMac > 0).map((s) => `${formatMac(s.partnerMac)} key ${s.partnerKey}`));
      // Partners that differ (two switches without a stack) are an LACP finding, below.
      if (partners.size === 1) fine.push(`${where}: 802.3ad with one partner (${[...partners][0]}): the switch treats the slaves as one port and floods nothing back into it`);
      break;
    }
    default:
      fine.push(`${where}: bonding mode ${bond.mode ?? 'unknown'}; nothing known to loop`);
  }
}

/** An Open vSwitch bond, as vswitchd admits frames on its members. */
function judgeOvsBond(bond: Bond, where: string, ports: string[], findings: Finding[], fine: string[]): void {
  const o = bond.ovs;
  const negotiated = o?.lacpStatus === 'negotiated';
  const details = (setting: string): Record<string, string | number> => ({ mode: bond.mode ?? 'unknown', setting, implementation: 'Open vSwitch', lacp: o?.lacp ?? 'unknown', lacpStatus: o?.lacpStatus ?? 'unknown' });
  if (negotiated) {
    // With LACP negotiated vswitchd admits frames on every enabled member: the switch treats them as one port.
    fine.push(`${where} (Open vSwitch ${bond.mode}, LACP negotiated): the switch treats the members as one port and floods nothing back into it [${RULE_SOURCES.ovsBalanceTcp}]`);
    return;
  }
  switch (bond.mode) {
    case 'active-backup':
      fine.push(`${where} (Open vSwitch active-backup): frames arriving on backup members are dropped${bond.activeSlave ? `; ${bond.activeSlave} is active` : ''} [${RULE_SOURCES.ovsActiveBackup}]`);
      break;
    case 'balance-slb':
      if (o?.allMembersActive === true) {
        findings.push(ruleFinding('loop-prone-bond', `${where}: Open vSwitch balance-slb with other_config:all-members-active=true accepts broadcasts and multicasts on every member, so broadcasts the switches flood back into another member loop`, ports, 'high', `${RULE_SOURCES.ovsAllMembersActive}; ${RULE_SOURCES.ovsSlb}`, details('other_config:all-members-active=true')));
      } else {
        fine.push(`${where} (Open vSwitch balance-slb): broadcasts and multicasts are accepted only on the active member${bond.activeSlave ? ` (${bond.activeSlave})` : ''}, and reflections of frames whose source is learned on another port are dropped (gratuitous ARP excepted); the switch ports must NOT form an EtherChannel [${RULE_SOURCES.ovsSlb}]`);
      }
      break;
    case 'balance-tcp':
      if (o?.lacpFallbackAb) {
        fine.push(`${where} (Open vSwitch balance-tcp): LACP is ${o.lacpStatus ?? 'not negotiated'}, so it runs as active-backup (lacp-fallback-ab) until LACP is negotiated [${RULE_SOURCES.ovsBalanceTcp}]`);
      } else {
        findings.push(ruleFinding('lacp-no-partner', `${where}: Open vSwitch balance-tcp without negotiated LACP (lacp ${o?.lacp ?? 'unknown'}, status ${o?.lacpStatus ?? 'unknown'}) drops everything arriving on its members: the switch ports must run LACP`, ports, 'high', RULE_SOURCES.ovsBalanceTcp, details(`lacp=${o?.lacp ?? 'unknown'}`)));
      }
      break;
    default:
      fine.push(`${where}: Open vSwitch bond mode ${bond.mode ?? 'unknown'}; nothing known to loop`);
  }
}

/**
 * `lacpStates`: 802.3ad slaves' actor/partner state bytes from /proc/net/bonding, for the LACP
 * checks (partners that differ, slaves not distributing, no partner, slow timeout).
 */
/**
 * A bridge's learning table as its owner reports it (Open vSwitch's fdb/show, named by Port), with
 * the guests' MACs and ports the host knows (XCP-ng's external_ids:attached-mac): a guest learned
 * on a bond is the wrong-port learning itself, seen in the switch's own table.
 */
export interface LearnedTables {
  /** Bridge → entries on its Ports (a bond's name for its members). */
  fdb: Map<string, { mac: number; port: string; isLocal: boolean }[]>;
  /** Guest MAC → its port. */
  guests: Map<number, string>;
  /** Where the tables came from, for details.source. */
  source: string;
}

function learnedOnBonds(t: Topology, learned: LearnedTables, findings: Finding[], fine: string[]): void {
  for (const [bridge, entries] of learned.fdb) {
    let checked = 0;
    for (const e of entries) {
      const home = learned.guests.get(e.mac);
      if (e.isLocal || home === undefined) continue;
      checked++;
      if (t.ports.get(e.port)?.role !== 'bond') continue;
      const f = ruleFinding('wrong-port-learning', `${bridge}'s learning table has guest ${formatMac(e.mac)} on ${e.port} instead of ${home}`, [bridge, e.port, home], 'high', learned.source, { setting: `fdb: ${formatMac(e.mac)} on ${e.port}`, learnedOn: e.port, home });
      f.mac = e.mac;
      f.explanation = explanationFor('wrong-port-learning', { bridge, bond: e.port, port: home });
      findings.push(f);
    }
    if (checked) fine.push(`${bridge}: ${checked} guest MAC${checked === 1 ? '' : 's'} checked in its learning table (${learned.source})`);
  }
}

export function checkTopology(t: Topology, lacpStates?: Map<string, { actor: number; partner: number }>, kernelRelease?: string | null, learned?: LearnedTables): HostCheck {
  const findings: Finding[] = [];
  const fine: string[] = [];
  if (learned) learnedOnBonds(t, learned, findings, fine);
  for (const bond of t.bonds) {
    const bridge = bridgeOf(t, bond);
    const slaves = bond.slaves.map((s) => s.name);
    const where = bridge ? `${bond.name} under ${bridge}` : bond.name;
    if (!bridge) {
      fine.push(`${bond.name} (${bond.mode ?? 'mode unknown'}) is not a bridge port: guests' frames cannot loop through it`);
      continue;
    }
    const ports = [bridge, bond.name, ...slaves];
    if (bond.kind === 'ovs') {
      judgeOvsBond(bond, where, ports, findings, fine);
      continue;
    }
    judgeLinuxBond(bond, where, ports, releaseOf(bond, kernelRelease), findings, fine);
  }
  if (t.bonds.some((b) => b.kind !== 'ovs' && bridgeOf(t, b))) {
    fine.push(`link-local frames (STP BPDUs, LACPDUs, LLDP) on a backup slave are still delivered by the kernel: seeing them there is not a loop [${RULE_SOURCES.linkLocal}]`);
  }
  if (t.bonds.length === 0) fine.push('no bond found on this host');
  // The workarounds' own health, from the host's side: LACP partners per slave, spanning tree.
  const lacp = evaluateLacp(lacpViewsFromBonds(t.bonds, lacpStates));
  // A bridge without an uplink (libvirt's NAT network virbr0, a Proxmox firewall bridge) is root
  // of nothing outside the host: its spanning tree is not judged.
  const uplinked = t.bridges.filter((b) => b.ports.some((p) => ['bond', 'slave'].includes(t.ports.get(p.name)?.role ?? '')));
  for (const b of t.bridges) if (!uplinked.includes(b) && t.ports.get(b.name)?.role !== 'guest') fine.push(`${b.name}: no uplink (no bond or NIC among its ports): it reaches no switch, so it cannot loop through one${b.stpEnabled ? ' and its spanning tree stays inside the host' : ''}`);
  const stp = stpFindingsFromBridges(uplinked, (port) => t.ports.get(port)?.role === 'slave');
  for (const f of [...lacp, ...stp]) f.details.source = 'configuration';
  findings.push(...lacp, ...stp);
  findings.sort((a, b) => bySeverity(a.severity, b.severity));
  for (const b of t.bridges) if (b.stpEnabled && !stp.some((f) => f.interfaces.includes(b.name))) fine.push(`${b.name}: spanning tree on, another bridge is root`);
  return { findings, fine };
}
