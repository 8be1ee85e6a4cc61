/** The host as discovered (`bondscope check`, live mode's header): bonds, bridges, own MACs, counters. */
import type { HostInfo } from '../capture/host/discover.js';
import { formatMac } from '../model/mac.js';
import type { HostCheck } from '../engine/host-check.js';
import { findingJson } from './analysis.js';
import { safeText } from './escape.js';

export function hostTopologyLines(info: HostInfo): string[] {
  const t = info.topology;
  const out: string[] = [];
  const nohandler = new Map(info.interfaces.map((i) => [i.name, i.rxNoHandler]));
  for (const b of t.bridges) {
    const stp = b.stpEnabled === null ? '' : b.stpEnabled ? `, STP on${b.bridgeId && b.bridgeId === b.rootId ? ' (this bridge is root)' : ''}` : ', STP off';
    out.push(`  bridge ${safeText(b.name)}${b.bridgeId ? ` id ${safeText(b.bridgeId)}` : ''}${stp}`);
    for (const p of b.ports) {
      const role = t.ports.get(p.name)?.role ?? 'unknown';
      out.push(`    ${safeText(p.name).padEnd(14)} ${role.padEnd(6)} ${p.state ?? ''}`);
    }
  }
  for (const b of t.bonds) {
    const extra = [b.driverVersion ? `driver ${b.driverVersion}` : '', b.allSlavesActive === null ? '' : `all_slaves_active=${b.allSlavesActive ? 1 : 0}`].filter(Boolean).join(', ');
    out.push(`  bond ${safeText(b.name)} ${b.mode ?? 'mode unknown'}${extra ? ` (${extra})` : ''}`);
    for (const s of b.slaves) {
      const marks = [
        s.name === b.activeSlave ? 'active' : '',
        s.linkUp === false ? 'link down' : '',
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

export function hostJson(info: HostInfo, check: HostCheck): object {
  const t = info.topology;
  return {
    root: info.root,
    bonds: t.bonds.map((b) => ({
      name: b.name,
      mode: b.mode,
      bridge: t.ports.get(b.name)?.bridge ?? null,
      activeSlave: b.activeSlave,
      allSlavesActive: b.allSlavesActive,
      driverVersion: b.driverVersion,
      slaves: b.slaves.map((s) => ({ name: s.name, permanentMac: s.permanentMac >= 0 ? formatMac(s.permanentMac) : null, linkUp: s.linkUp, aggregatorId: s.aggregatorId >= 0 ? s.aggregatorId : null, partnerMac: s.partnerMac >= 0 ? formatMac(s.partnerMac) : null, partnerKey: s.partnerKey >= 0 ? s.partnerKey : null })),
    })),
    bridges: t.bridges.map((b) => ({ name: b.name, bridgeId: b.bridgeId, rootId: b.rootId, stpEnabled: b.stpEnabled, ports: b.ports.map((p) => ({ name: p.name, role: t.ports.get(p.name)?.role ?? 'unknown', state: p.state })) })),
    interfaces: info.interfaces.map((i) => ({ name: i.name, ifindex: i.ifindex, mac: i.mac >= 0 ? formatMac(i.mac) : null, operstate: i.operstate, master: i.master, kind: i.kind, rxNoHandler: i.rxNoHandler >= 0 ? i.rxNoHandler : null })),
    localMacs: [...t.localMacs].map(formatMac),
    findings: check.findings.map((f) => findingJson(f, [])),
    fine: check.fine,
    warnings: info.warnings,
  };
}
