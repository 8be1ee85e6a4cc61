/**
 * What the host's configuration alone says, before a single frame: is this bonded bridge set up so
 * that it loops? Used by `bondscope check` and by live mode beside the frames. The rules are the
 * known ways a bond under a bridge passes flooded-back frames up:
 *
 *  - balance-rr, balance-xor and broadcast send and receive on every slave; unless the switch ports
 *    form one static EtherChannel, a broadcast leaving by one slave is flooded back into another;
 *  - active-backup normally drops what arrives on the backup slave, but not with all_slaves_active=1,
 *    nor in bonding drivers before 3.0.2 (they passed the backup slave's frames up);
 *  - balance-tlb/alb receive on every slave and alb rewrites ARP replies with the slaves' MACs,
 *    which confuses guests' neighbours behind a bridge;
 *  - 802.3ad is the fix, but only when every slave reaches the same partner (one switch or a stack).
 */
import { formatMac } from '../model/mac.js';
import { evaluateLacp, lacpViewsFromBonds, stpFindingsFromBridges } from './control-plane.js';
import { EXPLANATION, REMEDIES_FOR, SEVERITY, type Confidence, type Finding, type FindingKind } from './findings.js';
import { bySeverity } from './severity.js';
import type { Bond, Topology } from '../model/topology.js';

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
    explanation: EXPLANATION[kind],
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

/** The bridge a bond is a port of, from the ports table or the bridges' port lists. */
function bridgeOf(t: Topology, bond: Bond): string | null {
  return t.ports.get(bond.name)?.bridge ?? t.bridges.find((b) => b.ports.some((p) => p.name === bond.name))?.name ?? null;
}

export interface HostCheck {
  findings: Finding[];
  /** What was checked and found fine, so "no finding" is not mistaken for "not looked at". */
  fine: string[];
}

/**
 * `lacpStates`: 802.3ad slaves' actor/partner state bytes from /proc/net/bonding, for the LACP
 * checks (partners that differ, slaves not distributing, no partner, slow timeout).
 */
export function checkTopology(t: Topology, lacpStates?: Map<string, { actor: number; partner: number }>): HostCheck {
  const findings: Finding[] = [];
  const fine: string[] = [];
  for (const bond of t.bonds) {
    const bridge = bridgeOf(t, bond);
    const slaves = bond.slaves.map((s) => s.name);
    const where = bridge ? `${bond.name} under ${bridge}` : bond.name;
    if (!bridge) {
      fine.push(`${bond.name} (${bond.mode ?? 'mode unknown'}) is not a bridge port: guests' frames cannot loop through it`);
      continue;
    }
    const ports = [bridge, bond.name, ...slaves];
    switch (bond.mode) {
      case 'balance-rr':
      case 'balance-xor':
      case 'broadcast':
        findings.push(
          configFinding('loop-prone-bond', `${where} is in ${bond.mode} mode: it passes up what arrives on every slave, so unless the switch ports form one static EtherChannel, broadcasts flooded back loop`, ports, 'medium', { mode: bond.mode, setting: 'mode' }),
        );
        break;
      case 'balance-tlb':
      case 'balance-alb':
        findings.push(
          configFinding('loop-prone-bond', `${where} is in ${bond.mode} mode: it receives on every slave and${bond.mode === 'balance-alb' ? ' rewrites ARP replies with the slaves’ MACs, which' : ''} confuses the switches' and the guests' learning behind a bridge`, ports, 'medium', { mode: bond.mode, setting: 'mode' }, 'warning'),
        );
        break;
      case 'active-backup':
        if (bond.allSlavesActive === true) {
          findings.push(configFinding('loop-prone-bond', `${where}: active-backup with all_slaves_active=1 passes up what arrives on the backup slave, so broadcasts flooded back by the switches loop`, ports, 'high', { mode: bond.mode, setting: 'all_slaves_active=1' }));
        } else if (bond.driverVersion && versionBelow(bond.driverVersion, '3.0.2')) {
          findings.push(configFinding('loop-prone-bond', `${where}: bonding driver ${bond.driverVersion} (before 3.0.2) passes up what arrives on the backup slave, so broadcasts flooded back by the switches loop`, ports, 'high', { mode: bond.mode, setting: `driver ${bond.driverVersion}` }));
        } else {
          fine.push(`${where}: active-backup ${bond.allSlavesActive === false ? 'with all_slaves_active=0' : '(all_slaves_active unknown)'}${bond.driverVersion ? `, driver ${bond.driverVersion}` : ''}: frames arriving on the backup slave are dropped`);
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
  if (t.bonds.length === 0) fine.push('no bond found on this host');
  // The workarounds' own health, from the host's side: LACP partners per slave, spanning tree.
  const lacp = evaluateLacp(lacpViewsFromBonds(t.bonds, lacpStates));
  const stp = stpFindingsFromBridges(t.bridges, (port) => t.ports.get(port)?.role === 'slave');
  for (const f of [...lacp, ...stp]) f.details.source = 'configuration';
  findings.push(...lacp, ...stp);
  findings.sort((a, b) => bySeverity(a.severity, b.severity));
  for (const b of t.bridges) if (b.stpEnabled && !stp.some((f) => f.interfaces.includes(b.name))) fine.push(`${b.name}: spanning tree on, another bridge is root`);
  return { findings, fine };
}
