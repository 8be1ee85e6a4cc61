/** The role flags shared by analyze, live and the UI: --bond, --bridge, --local-mac, --links. */
import { readFileSync } from 'node:fs';
import { parseLinksJson } from '../capture/host/links.js';
import { parseMac } from '../model/mac.js';
import { emptyTopology, type Topology } from '../model/topology.js';
import { UsageError } from './errors.js';
import type { OptionHelp } from './help.js';

export const ROLE_OPTIONS = {
  bond: { type: 'string', multiple: true },
  bridge: { type: 'string', multiple: true },
  'local-mac': { type: 'string', multiple: true },
  links: { type: 'string' },
} as const;

/** The role flags' help, the same in every command that takes them. */
export const ROLE_HELP: OptionHelp[] = [
  ['--bond BOND=SLAVE,SLAVE', 'a bond and its slaves (repeatable)'],
  ['--bridge BR=PORT,PORT', "a bridge and its ports; ports not a bond are guests' (repeatable)"],
  ['--local-mac MAC', "one of the host's own MACs (repeatable)"],
  ['--links FILE', '`ip -j link` output: names the interfaces of an SLL2 -i any capture'],
];

function pairs(values: string[] | undefined, flag: string): [string, string[]][] {
  return (values ?? []).map((v) => {
    const [name, list] = v.split('=', 2);
    if (!name || !list) throw new UsageError(`--${flag} takes NAME=PORT,PORT, not '${v}'`);
    return [name, list.split(',').filter(Boolean)];
  });
}

export function topologyFromFlags(values: { bond?: string[]; bridge?: string[]; 'local-mac'?: string[]; links?: string }): Topology {
  const t = emptyTopology();
  for (const [bond, slaves] of pairs(values.bond, 'bond')) {
    t.bonds.push({ name: bond, mode: null, slaves: slaves.map((name) => ({ name, permanentMac: -1, linkUp: null, aggregatorId: -1, partnerMac: -1, partnerKey: -1 })), activeSlave: null, allSlavesActive: null, driverVersion: null });
    t.ports.set(bond, { name: bond, role: 'bond', bond: null, bridge: null, roleSource: 'flag', reason: `--bond ${bond}=${slaves.join(',')}` });
    for (const s of slaves) t.ports.set(s, { name: s, role: 'slave', bond, bridge: null, roleSource: 'flag', reason: `--bond ${bond}=${slaves.join(',')}` });
  }
  for (const [br, ports] of pairs(values.bridge, 'bridge')) {
    t.bridges.push({ name: br, ports: ports.map((name) => ({ name, state: null })), bridgeId: null, rootId: null, stpEnabled: null });
    t.ports.set(br, { name: br, role: 'bridge', bond: null, bridge: null, roleSource: 'flag', reason: `--bridge ${br}=${ports.join(',')}` });
    for (const p of ports) {
      const known = t.ports.get(p);
      if (known?.role === 'bond') known.bridge = br;
      else t.ports.set(p, { name: p, role: 'guest', bond: null, bridge: br, roleSource: 'flag', reason: `--bridge ${br}=${ports.join(',')}` });
    }
  }
  for (const m of values['local-mac'] ?? []) {
    const mac = parseMac(m);
    if (mac < 0) throw new UsageError(`--local-mac takes a MAC like 00:16:3e:00:00:01, not '${m}'`);
    t.localMacs.add(mac);
  }
  if (values.links) {
    let text: string;
    try {
      text = readFileSync(values.links, 'utf8');
    } catch (err) {
      throw new UsageError(`--links ${values.links}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    try {
      for (const l of parseLinksJson(text, values.links)) t.ifNames.set(l.ifindex, l.ifname);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return t;
}

/**
 * The role flags that name no interface of the capture set: ignored (no frame is on their ports),
 * which must not go unsaid. One line each, with the names the inputs do have.
 */
export function unmatchedRoleFlags(command: string, values: { bond?: string[]; bridge?: string[] }, names: readonly string[]): string[] {
  const have = new Set(names);
  const shown = [...have].slice(0, 12).join(', ') + (have.size > 12 ? `, … (${have.size} in all)` : '');
  const out: string[] = [];
  for (const [flag, list] of [['bond', values.bond], ['bridge', values.bridge]] as const) {
    for (const v of list ?? []) {
      const [name, ports] = v.split('=', 2);
      const mentioned = [name ?? '', ...(ports ?? '').split(',')].filter(Boolean);
      if (mentioned.some((m) => have.has(m))) continue;
      out.push(`${command}: --${flag} ${v} names no interface of these captures, so it was not used; they have: ${shown || 'none'}`);
    }
  }
  return out;
}
