/** The host as discovered (`bondscope check`, live mode's header): bonds, bridges, own MACs, counters. */
import type { HostInfo } from '../capture/host/discover.js';
import { formatMac } from '../model/mac.js';
import type { HostCheck } from '../engine/host-check.js';
import type { PortVlan } from '../model/topology.js';
import { findingJson } from './analysis.js';
import { safeText } from './escape.js';

export function hostTopologyLines(info: HostInfo): string[] {
  const t = info.topology;
  const out: string[] = [];
  const nohandler = new Map(info.interfaces.map((i) => [i.name, i.rxNoHandler]));
  if (info.kernelRelease) out.push(`  kernel ${safeText(info.kernelRelease)}`);
  for (const b of t.bridges) {
    const stp = b.stpEnabled === null ? '' : b.stpEnabled ? `, STP on${b.bridgeId && b.bridgeId === b.rootId ? ' (this bridge is root)' : ''}` : ', STP off';
    const self = t.ports.get(b.name);
    const kind = [b.kind === 'ovs' ? 'Open vSwitch' : '', b.vlanFiltering ? 'VLAN-aware' : '', self?.role === 'guest' && self.via ? `on a guest's side of ${safeText(self.bridge ?? '?')}, via ${safeText(self.via)}` : ''].filter(Boolean).join(', ');
    out.push(`  bridge ${safeText(b.name)}${kind ? ` (${kind})` : ''}${b.bridgeId ? ` id ${safeText(b.bridgeId)}` : ''}${stp}`);
    for (const p of b.ports) {
      const port = t.ports.get(p.name);
      const role = port?.role ?? 'unknown';
      const vlans = p.vlans?.length ? ` vlans ${vlanText(p.vlans)}` : '';
      const via = port?.via ? ` via ${safeText(port.via)}` : '';
      out.push(`    ${safeText(p.name).padEnd(14)} ${role.padEnd(6)} ${(p.state ?? '').padEnd(10)}${vlans}${via}  ${safeText(port?.reason ?? '')}`.trimEnd());
    }
  }
  for (const b of t.bonds) {
    const extra = [b.kind === 'ovs' ? 'Open vSwitch' : '', b.driverVersion ? `bonding ${b.driverVersion}` : '', b.allSlavesActive === null ? '' : b.kind === 'ovs' ? `all-members-active=${b.allSlavesActive}` : `all_slaves_active=${b.allSlavesActive ? 1 : 0}`, b.ovs ? `lacp ${b.ovs.lacp ?? '?'}${b.ovs.lacpStatus && b.ovs.lacpStatus !== b.ovs.lacp ? ` (${b.ovs.lacpStatus})` : ''}` : ''].filter(Boolean).join(', ');
    // Mode and OVS settings come from files too (a --root or --ovs copy): escaped like the names.
    out.push(`  bond ${safeText(b.name)} ${safeText(b.mode ?? 'mode unknown')}${extra ? ` (${safeText(extra)})` : ''}`);
    for (const s of b.slaves) {
      const marks = [
        s.name === b.activeSlave ? 'active' : '',
        s.linkUp === false ? (b.kind === 'ovs' ? 'disabled' : 'link down') : '',
        s.permanentMac >= 0 ? `perm ${formatMac(s.permanentMac)}` : '',
        s.aggregatorId >= 0 ? `aggregator ${s.aggregatorId}` : '',
        s.partnerMac >= 0 ? `partner ${formatMac(s.partnerMac)} key ${s.partnerKey}` : '',
        (nohandler.get(s.name) ?? -1) > 0 ? `rx_nohandler ${nohandler.get(s.name)}` : '',
      ].filter(Boolean);
      out.push(`    ${safeText(s.name).padEnd(14)} ${marks.join(', ')}`);
    }
  }
  if (t.localMacs.size) out.push(`  own MACs: ${[...t.localMacs].map(formatMac).join(', ')}`);
  return out;
}

/** "20 pvid untagged, 30": a port's VLANs, ranges folded. */
function vlanText(vlans: PortVlan[]): string {
  const parts: string[] = [];
  for (let i = 0; i < vlans.length; ) {
    let j = i;
    while (j + 1 < vlans.length && vlans[j + 1]!.vid === vlans[j]!.vid + 1 && !vlans[j + 1]!.pvid && !vlans[j + 1]!.untagged && !vlans[i]!.pvid && !vlans[i]!.untagged) j++;
    const v = vlans[i]!;
    parts.push(`${j > i ? `${v.vid}-${vlans[j]!.vid}` : v.vid}${v.pvid ? ' pvid' : ''}${v.untagged ? ' untagged' : ''}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function hostJson(info: HostInfo, check: HostCheck): object {
  const t = info.topology;
  return {
    root: info.root,
    kernelRelease: info.kernelRelease,
    bonds: t.bonds.map((b) => ({
      name: b.name,
      mode: b.mode,
      bridge: t.ports.get(b.name)?.bridge ?? null,
      activeSlave: b.activeSlave,
      allSlavesActive: b.allSlavesActive,
      driverVersion: b.driverVersion,
      implementation: b.kind === 'ovs' ? 'openvswitch' : 'linux',
      ...(b.ovs ? { ovs: b.ovs } : {}),
      slaves: b.slaves.map((s) => ({ name: s.name, permanentMac: s.permanentMac >= 0 ? formatMac(s.permanentMac) : null, linkUp: s.linkUp, aggregatorId: s.aggregatorId >= 0 ? s.aggregatorId : null, partnerMac: s.partnerMac >= 0 ? formatMac(s.partnerMac) : null, partnerKey: s.partnerKey >= 0 ? s.partnerKey : null })),
    })),
    bridges: t.bridges.map((b) => ({
      name: b.name,
      implementation: b.kind === 'ovs' ? 'openvswitch' : 'linux',
      bridgeId: b.bridgeId,
      rootId: b.rootId,
      stpEnabled: b.stpEnabled,
      vlanFiltering: b.vlanFiltering ?? null,
      ports: b.ports.map((p) => ({ name: p.name, role: t.ports.get(p.name)?.role ?? 'unknown', state: p.state, ...(t.ports.get(p.name)?.via ? { via: t.ports.get(p.name)!.via } : {}), ...(p.vlans ? { vlans: p.vlans } : {}) })),
    })),
    ports: [...t.ports.values()].map((p) => ({ name: p.name, role: p.role, roleSource: p.roleSource, reason: p.reason, bond: p.bond, bridge: p.bridge, via: p.via ?? null })),
    interfaces: info.interfaces.map((i) => ({ name: i.name, ifindex: i.ifindex, mac: i.mac >= 0 ? formatMac(i.mac) : null, operstate: i.operstate, master: i.master, kind: i.kind, rxNoHandler: i.rxNoHandler >= 0 ? i.rxNoHandler : null })),
    localMacs: [...t.localMacs].map(formatMac),
    findings: check.findings.map((f) => findingJson(f, [])),
    fine: check.fine,
    warnings: info.warnings,
  };
}
