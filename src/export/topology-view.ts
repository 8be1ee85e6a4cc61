/**
 * The host as a bundle shows it: bonds with their slaves, bridges with their ports, guests with
 * their MACs, the host's own MACs; and the path a looped frame took through it, drawn as Mermaid.
 */
import type { Analyzer } from '../engine/analyzer.js';
import type { Finding } from '../engine/findings.js';
import type { PortState } from '../engine/ports.js';
import type { Naming } from './naming.js';

export interface HostView {
  slaves: { name: string; bond: string | null }[];
  bonds: { name: string; slaves: string[]; bridge: string | null }[];
  bridges: { name: string; ports: string[] }[];
  guests: { port: string; macs: number[]; bridge: string | null }[];
  hostMacs: number[];
  unknown: string[];
}

/** Original names; the caller names them through Naming. */
export function hostView(a: Analyzer): HostView {
  const ports = a.ports.ports.filter((p) => p.frames > 0 || p.port.roleSource === 'flag');
  const byRole = (r: string): PortState[] => ports.filter((p) => p.port.role === r);
  const bondPorts = byRole('bond');
  const bridgePorts = byRole('bridge');
  const onlyBond = bondPorts.length === 1 ? bondPorts[0]!.port.name : null;
  const onlyBridge = bridgePorts.length === 1 ? bridgePorts[0]!.port.name : null;
  const slaves = byRole('slave').map((p) => ({ name: p.port.name, bond: p.port.bond ?? onlyBond }));
  const bonds = bondPorts.map((p) => ({
    name: p.port.name,
    slaves: slaves.filter((s) => s.bond === p.port.name).map((s) => s.name),
    bridge: p.port.bridge ?? onlyBridge,
  }));
  const guests = byRole('guest').map((p) => ({
    port: p.port.name,
    macs: [...a.guestPorts].filter(([, port]) => port === p.index).map(([mac]) => mac).sort((x, y) => x - y),
    bridge: p.port.bridge ?? onlyBridge,
  }));
  const bridges = bridgePorts.map((p) => ({
    name: p.port.name,
    ports: [...bonds.filter((b) => b.bridge === p.port.name).map((b) => b.name), ...guests.filter((g) => g.bridge === p.port.name).map((g) => g.port)],
  }));
  return {
    slaves,
    bonds,
    bridges,
    guests,
    hostMacs: [...a.localMacs].sort((x, y) => x - y),
    unknown: byRole('unknown').map((p) => p.port.name),
  };
}

/** Lines for the pcapng section comment and the report. */
export function topologyLines(v: HostView, n: Naming): string[] {
  const out: string[] = [];
  for (const b of v.bonds) out.push(`${n.port(b.name)}: bond${b.slaves.length ? ` of ${b.slaves.map((s) => n.port(s)).join(', ')}` : ''}${b.bridge ? `, port of ${n.port(b.bridge)}` : ''}`);
  for (const s of v.slaves.filter((s) => !s.bond)) out.push(`${n.port(s.name)}: NIC (no bond captured)`);
  for (const br of v.bridges) out.push(`${n.port(br.name)}: bridge${br.ports.length ? ` with ports ${br.ports.map((p) => n.port(p)).join(', ')}` : ''}`);
  for (const g of v.guests) out.push(`${n.port(g.port)}: guest port${g.macs.length ? ` of ${g.macs.map((m) => n.macWithVendor(m)).join(', ')}` : ''}`);
  if (v.hostMacs.length) out.push(`host's own MACs: ${v.hostMacs.map((m) => n.macWithVendor(m)).join(', ')}`);
  for (const u of v.unknown) out.push(`${n.port(u)}: role unknown`);
  return out;
}

/** Mermaid labels: plain characters only, whatever the names hold. */
function label(s: string): string {
  return s.replace(/[^A-Za-z0-9 .:,_/()+#-]/g, '_');
}

/** The finding whose path the picture shows: a guest learned on the wrong port first, then any loop. */
export function pathFinding(findings: Finding[]): Finding | null {
  return findings.find((f) => f.kind === 'wrong-port-learning') ?? findings.find((f) => f.kind === 'looped-broadcast') ?? null;
}

/**
 * A Mermaid flowchart: the switch, slaves, bond, bridge and guests; when a loop was found, the
 * numbered path of the looped frame (out by one slave, flooded back into the other, up the bond)
 * and the port where the bridge learned the guest, marked red.
 */
export function mermaid(v: HostView, findings: Finding[], n: Naming, a: Analyzer): string {
  const ids = new Map<string, string>();
  const id = (name: string): string => {
    let x = ids.get(name);
    if (!x) {
      x = `n${ids.size}`;
      ids.set(name, x);
    }
    return x;
  };
  const lines = ['flowchart TB'];
  const anySlaves = v.slaves.length > 0;
  lines.push(`  SW[("switch(es)")]`);
  lines.push('  subgraph HOST["host"]');
  for (const s of v.slaves) lines.push(`    ${id(s.name)}["${label(n.port(s.name))}<br/>slave"]`);
  for (const b of v.bonds) lines.push(`    ${id(b.name)}["${label(n.port(b.name))}<br/>bond"]`);
  for (const br of v.bridges) lines.push(`    ${id(br.name)}["${label(n.port(br.name))}<br/>bridge"]`);
  for (const g of v.guests) lines.push(`    ${id(g.port)}["${label(n.port(g.port))}<br/>guest port"]`);
  for (const u of v.unknown) lines.push(`    ${id(u)}["${label(n.port(u))}<br/>role unknown"]`);
  lines.push('  end');
  v.guests.forEach((g, i) => {
    const macs = g.macs.length ? g.macs.map((m) => n.macWithVendor(m)).join(', ') : 'guest';
    lines.push(`  VM${i}(["${label(macs)}"])`);
    lines.push(`  VM${i} --- ${id(g.port)}`);
  });
  for (const s of v.slaves) lines.push(`  SW --- ${id(s.name)}`);
  for (const s of v.slaves) if (s.bond) lines.push(`  ${id(s.name)} --- ${id(s.bond)}`);
  for (const b of v.bonds) if (b.bridge) lines.push(`  ${id(b.name)} --- ${id(b.bridge)}`);
  if (!anySlaves) for (const b of v.bonds) lines.push(`  SW --- ${id(b.name)}`);
  for (const s of v.slaves) if (!s.bond && v.bridges.length === 1) lines.push(`  ${id(s.name)} --- ${id(v.bridges[0]!.name)}`);
  for (const g of v.guests) if (g.bridge) lines.push(`  ${id(g.port)} --- ${id(g.bridge)}`);

  const f = pathFinding(findings);
  if (f) {
    // f.interfaces: origin, slave out, slave back, bond (as the engine found the path).
    const role = (p: string): string => a.ports.get(p)?.port.role ?? 'unknown';
    const origin = f.interfaces[0]!;
    const slaves = f.interfaces.filter((p) => role(p) === 'slave');
    const bond = f.interfaces.find((p) => role(p) === 'bond') ?? v.bonds[0]?.name ?? null;
    const bridge = v.bridges[0]?.name ?? null;
    const mac = n.mac(f.mac);
    const steps: [string, string, string][] = [];
    const guestIndex = v.guests.findIndex((g) => g.port === origin);
    if (role(origin) === 'guest') {
      if (guestIndex >= 0) steps.push([`VM${guestIndex}`, id(origin), `sends ${mac}`]);
      if (bridge) steps.push([id(origin), id(bridge), 'into the bridge']);
    }
    if (bridge && bond) steps.push([id(bridge), id(bond), 'flooded to the bond']);
    if (bond && slaves[0]) steps.push([id(bond), id(slaves[0]), 'out of the active slave']);
    if (slaves[0]) steps.push([id(slaves[0]), 'SW', 'to the switch']);
    if (slaves[1]) steps.push(['SW', id(slaves[1]), 'flooded back']);
    if (slaves[1] && bond) steps.push([id(slaves[1]), id(bond), 'passed up by the bond']);
    if (bond && bridge) steps.push([id(bond), id(bridge), f.kind === 'wrong-port-learning' ? `bridge learns ${mac} on ${n.port(bond)}` : 'back into the bridge']);
    steps.forEach(([from, to, what], i) => lines.push(`  ${from} ==>|"${i + 1}. ${label(what)}"| ${to}`));
    if (bond && f.kind === 'wrong-port-learning') {
      lines.push('  classDef wrong fill:#fdd,stroke:#c00,stroke-width:3px');
      lines.push(`  class ${id(bond)} wrong`);
    }
  }
  const move = findings.find((x) => x.kind === 'mac-move');
  if (move && typeof move.details.to === 'string') {
    const gi = v.guests.findIndex((g) => g.macs.includes(move.mac));
    const to = move.details.to;
    const target = a.ports.get(to)?.port.role === 'bond' || a.ports.get(to)?.port.role === 'slave' ? 'SW' : id(to);
    if (gi >= 0) lines.push(`  VM${gi} -.->|"moved: now learned on ${label(n.port(to))}"| ${target}`);
  }
  return lines.join('\n');
}
