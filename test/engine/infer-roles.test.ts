/**
 * Roles from the frames (src/engine/infer-roles.ts), on every shipped recording with its
 * interfaces renamed to names that say nothing (`ifa`, `ifb`, …), in two capture forms: one classic
 * pcap per interface (as one tcpdump each writes them) and one pcapng with an interface per name
 * (dumpcap's record order kept). The truth is the role each interface's real name gives (the lab
 * names them as Xen does). No inferred role may be wrong; the roles the frames do not show are
 * listed per recording (they stay unknown); and where every role is inferred, the findings are
 * those of the same capture with its real names.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer, DEFAULT_OPTIONS } from '../../src/engine/analyzer.js';
import { inferRoles } from '../../src/engine/infer-roles.js';
import { collectSightings, prepare } from '../../src/engine/prepass.js';
import { proxmoxFirewallPort, roleFromName } from '../../src/model/roles.js';
import { emptyTopology, type PortRole, type Topology } from '../../src/model/topology.js';
import { analysisJson } from '../../src/report/analysis.js';
import { capabilities } from '../../src/engine/capabilities.js';
import { type Copied, readAll, writePcapng, writePcaps } from '../helpers/rewrite.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const dir = mkdtempSync(join(tmpdir(), 'bondscope-infer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Real names the frames do not show, per recording (the same in both forms). */
const NOT_SHOWN: Record<string, string[]> = {
  // Both NICs forwarding (the host is the root), no bond, and only the host's own BPDUs: two NICs in
  // the bridge and a bond with a slave are alike to these rules (rule 8 needs another bridge's BPDUs).
  'stp-root': ['eth0', 'eth1'],
};

/** Where the name says nothing, the lab's truth: foo0 is a port of the bridge (its FDB's master is xenbr0) whose peer sends nothing, a guest's port to the engine. */
const TRUE_ROLE: Record<string, PortRole> = { foo0: 'guest' };

/**
 * Ports that may stay unknown in one form and not the other: foo0's peer sends nothing, and a
 * guest's port needs a frame of its own to show; foo0 itself sends one in the pcapng recording only.
 */
const MAY_STAY_UNKNOWN: Record<string, string[]> = {
  'loop-foo0': ['foo0'],
  // eth1 carries a handful of frames besides the switch's LACPDUs (left out).
  'lacp-latency': ['eth1'],
};

interface Analysis {
  roles: Map<string, { role: PortRole; source: string; reason: string; via: string | null }>;
  findings: string[];
  json: { interfaces: { name: string; role: string; roleSource: string; reason: string; bond: string | null; bridge: string | null }[] };
}

/** As `analyze` runs: the pre-pass, then the engine over every frame. Names mapped back with `real`. */
function analyze(files: string[], real: (name: string) => string = (n) => n, topology: Topology = emptyTopology()): Analysis {
  const prepared = prepare(openCapture(files), topology, files.length);
  const a = new Analyzer(prepared.topology, { ...DEFAULT_OPTIONS, inputOffsetsNs: prepared.inputOffsetsNs });
  const set = openCapture(files);
  const f = new DecodedFrame();
  while (set.next()) {
    decodeFrame(set.rec, f);
    a.observe(set.rec, f);
  }
  expect(set.errors).toEqual([]);
  const findings = a.finish();
  const roles = new Map(a.ports.ports.map((p) => [real(p.port.name), { role: p.port.role, source: p.port.roleSource, reason: p.port.reason, via: p.port.via ? real(p.port.via) : null }]));
  const json = analysisJson(a, findings, capabilities(a.ports.ports), files.map((name, index) => ({ index, name })), a.stats) as Analysis['json'];
  return {
    roles,
    findings: findings.map((x) => `${x.kind} ${x.mac} ${x.vlan} ${x.count} ${x.interfaces.map(real).join(',')}`).sort(),
    json,
  };
}

const scenarios = readdirSync(CAPTURES).filter((d) => !d.includes('.'));

describe.each(scenarios)('%s, interfaces renamed', (scenario) => {
  const root = join(CAPTURES, scenario);
  const perInterface = readdirSync(root)
    .filter((f) => f.endsWith('.pcap') && f !== 'any.pcap')
    .map((f) => join(root, f));
  const out = join(dir, scenario);
  mkdirSync(out, { recursive: true });
  const records: Copied[] = readAll(perInterface);
  const names = [...new Set(records.map((r) => r.iface))].sort();
  const alias = new Map(names.map((n, i) => [n, `if${String.fromCharCode(97 + i)}`]));
  const real = new Map([...alias].map(([n, a]) => [a, n]));
  const toReal = (n: string): string => real.get(n) ?? n;
  const forms: [string, string[], string[]][] = [
    ['one pcap per interface', writePcaps(records, out, (n) => alias.get(n)!), perInterface],
    ['one pcapng', [writePcapng(readAll([join(root, `${scenario}.pcapng`)]), join(out, 'all.pcapng'), (n) => alias.get(n)!)], [join(root, `${scenario}.pcapng`)]],
  ];

  it.each(forms)('%s: no role inferred wrong; only the listed ones left unknown; same findings where all are known', (_form, renamed, original) => {
    const named = analyze(original);
    const got = analyze(renamed, toReal);
    const unknown: string[] = [];
    for (const n of names) {
      const want = TRUE_ROLE[n] ?? roleFromName(n).role;
      const r = got.roles.get(n);
      if (!r || r.role === 'unknown') {
        unknown.push(n);
        continue;
      }
      expect(r.source, n).toBe('inferred');
      expect(r.role, `${n}: ${r.reason}`).toBe(want);
      expect(r.reason).toMatch(/^inferred from \d+ frames: /);
      // A hop of a guest's chain names the chain's port on the bridge, as the names do (where a
      // Proxmox name puts a tap in its chain without a via, the frames give it one).
      expect(r.via, `${n}: ${r.reason}`).toBe(chainVia(n, names));
    }
    const may = MAY_STAY_UNKNOWN[scenario] ?? [];
    expect(
      unknown.filter((n) => !may.includes(n)).sort(),
      'left unknown',
    ).toEqual([...(NOT_SHOWN[scenario] ?? [])].sort());
    if (unknown.length === 0) expect(got.findings).toEqual(named.findings);
    if (unknown.length === 0 && scenario === 'loop-foo0') expect(got.roles.get('foo0')?.role).toBe('guest');
    // Never a fault the real names do not show (an unknown port is never taken for a slave or a guest).
    const faults = (a: Analysis): string[] => a.findings.filter((f) => /^(looped-broadcast|own-address|wrong-port-learning|blackholed-unicast)/.test(f)).map((f) => f.split(' ').slice(0, 3).join(' '));
    for (const f of faults(got)) expect(faults(named)).toContain(f);
  });
});

describe('renamed, and one file stamped off (a clock apart): no role inferred wrong', () => {
  // Roles are read from the order of each frame's copies, which a clock apart turns around, and the
  // clocks are compared across roles: a file that copies stamped once tie to the others is lined
  // up by them first, exactly; one they do not (a slave's) may leave little inferred, but nothing
  // wrong. From 0.2 ms (under the offset the in-host rule leaves alone) to 30 ms, either way.
  const cases: [string, string, string][] = [];
  const SCENARIOS = ['loop', 'loop-latency', 'lacp', 'background', 'windows-loop', 'loop-foo0', 'single', 'libvirt-loop', 'pve-loop'];
  const interfacesOf = (scenario: string): string[] => labOf(scenario).interfaces;
  for (const scenario of SCENARIOS) for (const victim of interfacesOf(scenario)) for (const shift of ['-0.03', '0.0002', '0.0005', '0.002']) cases.push([scenario, victim, shift]);
  const editcap = spawnSync('editcap', ['-h'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!editcap).each(cases)('%s, %s stamped %s s off', (scenario, victim, shift) => {
    const ifaces = interfacesOf(scenario);
    const out = join(dir, 'shifted', scenario);
    mkdirSync(out, { recursive: true });
    const alias = (n: string): string => `if${String.fromCharCode(97 + ifaces.indexOf(n))}`;
    const files = writePcaps(readAll(ifaces.map((n) => join(CAPTURES, scenario, `${n}.pcap`))), out, alias);
    const shifted = join(out, `${alias(victim)}-shifted.pcap`);
    expect(spawnSync('editcap', ['-t', shift, join(out, `${alias(victim)}.pcap`), shifted]).status).toBe(0);
    const specs = files.map((f) => (f === join(out, `${alias(victim)}.pcap`) ? `${alias(victim)}=${shifted}` : f));
    const prepared = prepare(openCapture(specs), emptyTopology(), specs.length);
    for (const r of prepared.inferred) {
      const realName = ifaces.find((n) => alias(n) === r.name)!;
      expect(r.role, `${realName}: ${r.reason}`).toBe(TRUE_ROLE[realName] ?? roleFromName(realName).role);
    }
    // Where a clock was lined up, it was this file's against the others', by the shift (within a
    // guest port's hop); a file left out of the host's clock is not lined up at all.
    const offsets = prepared.inputOffsetsNs;
    if (offsets?.some((o) => o !== 0)) {
      const at = files.indexOf(join(out, `${alias(victim)}.pcap`));
      const lined = offsets.filter((_, i) => i !== at && !prepared.unsettled.some((u) => u.input === i));
      for (const o of lined) expect(o, 'the other files: one clock').toBe(lined[0]);
      expect(Math.abs((offsets[at]! - lined[0]!) / 1e9 - Number(shift)), `offsets ${offsets.join(', ')}`).toBeLessThan(5e-6);
    }
  });
});

/** Ports an -i any capture without --links leaves unknown, per recording (the rest are all inferred). */
const ANY_NOT_SHOWN: Record<string, string[]> = {
  // As in the per-interface forms (NOT_SHOWN, MAY_STAY_UNKNOWN).
  'stp-root': ['eth0', 'eth1'],
  'loop-foo0': ['foo0'],
  'lacp-latency': ['eth1'],
};

/** The port on the bridge of the guest's chain a port is a hop of, by its Proxmox name; null for a chain's own port and every other port. */
function chainVia(name: string, interfaces: string[]): string | null {
  const fw = proxmoxFirewallPort(name);
  return roleFromName(name).via ?? (fw && interfaces.includes(fw) ? fw : null);
}

/** The lab's truth of a recording: its interfaces and, for an -i any capture, their ifindexes. */
function labOf(scenario: string): { interfaces: string[]; links: { ifindex: number; ifname: string }[] } {
  const truth = JSON.parse(readFileSync(join(CAPTURES, scenario, 'truth.json'), 'utf8')) as { interfaces: string[] };
  return { interfaces: truth.interfaces, links: JSON.parse(readFileSync(join(CAPTURES, scenario, 'links.json'), 'utf8')) as { ifindex: number; ifname: string }[] };
}

describe('an -i any capture without --links (ports named if#N): roles from the directions (rules D1–D5)', () => {
  it.each(scenarios)("%s: every port the role (and via) its real name gives but the listed; the lab bond's veth end (bond0-drv) unknown", (scenario) => {
    const { interfaces, links } = labOf(scenario);
    const prepared = prepare(openCapture([join(CAPTURES, scenario, 'any.pcap')]), emptyTopology(), 1);
    const real = (n: string): string => links.find((l) => `if#${l.ifindex}` === n)?.ifname ?? n;
    const got = new Map(prepared.inferred.map((r) => [real(r.name), r]));
    for (const [n, r] of got) {
      expect(r.role, `${n}: ${r.reason}`).toBe(TRUE_ROLE[n] ?? roleFromName(n).role);
      expect(r.via ? real(r.via) : null, `${n}: ${r.reason}`).toBe(chainVia(n, interfaces));
    }
    expect(interfaces.filter((n) => !got.has(n)).sort(), 'left unknown').toEqual([...(ANY_NOT_SHOWN[scenario] ?? [])].sort());
  });
});

/**
 * The rules added for names that say nothing and -i any without --links, one row each: on a real
 * recording (renamed, or -i any without --links) the port the rule names, its role, its `via`,
 * and the reason the rule gives — before the rule the port stayed unknown (or another rule's
 * reason named it).
 */
describe('each rule names what it names, on a renamed recording', () => {
  type Form = 'pcaps' | 'pcapng' | 'any';
  const inferred = new Map<string, Map<string, { role: PortRole; via: string | null; reason: string }>>();
  function inferredOf(scenario: string, form: Form): Map<string, { role: PortRole; via: string | null; reason: string }> {
    const k = `${scenario}/${form}`;
    let m = inferred.get(k);
    if (m) return m;
    const root = join(CAPTURES, scenario);
    const { interfaces, links } = labOf(scenario);
    const alias = new Map(interfaces.map((n, i) => [n, `port${i}`]));
    let files: string[];
    let real: (n: string) => string;
    if (form === 'any') {
      files = [join(root, 'any.pcap')];
      real = (n) => links.find((l) => `if#${l.ifindex}` === n)?.ifname ?? n;
    } else {
      const out = join(dir, 'rules', scenario, form);
      mkdirSync(out, { recursive: true });
      const back = new Map([...alias].map(([a, b]) => [b, a]));
      real = (n) => back.get(n) ?? n;
      files =
        form === 'pcaps'
          ? writePcaps(readAll(interfaces.map((i) => join(root, `${i}.pcap`))), out, (n) => alias.get(n)!)
          : [writePcapng(readAll([join(root, `${scenario}.pcapng`)]), join(out, 'all.pcapng'), (n) => alias.get(n)!)];
    }
    const prepared = prepare(openCapture(files), emptyTopology(), files.length);
    m = new Map(prepared.inferred.map((r) => [real(r.name), { role: r.role, via: r.via ? real(r.via) : null, reason: r.reason }]));
    inferred.set(k, m);
    return m;
  }
  const rows: [string, string, Form, string, PortRole, string | null, RegExp][] = [
    ['D1 the bridge device floods its own frames', 'loop', 'any', 'xenbr0', 'bridge', null, /went out there first and then out of two or more other ports/],
    ['D3+D4 the uplink over two links, the bond every frame up crossed', 'loop', 'any', 'bond0', 'bond', null, /over two links .* every frame coming up that way crossed it/],
    ['D4 a slave: frames came in there and then up the bond', 'loop', 'any', 'eth1', 'slave', null, /came in there and then up .*: a slave of the bond/],
    ['D4 the single slave of a one-slave bond (the uplink by its machines)', 'single', 'any', 'eth0', 'slave', null, /came in there and then up .*: a slave of the bond/],
    ["D5 a guest's port: one machine, the uplink's frames flooded to it", 'loop', 'any', 'vif1.0', 'guest', null, /not by the uplink, all from one machine/],
    ["D5 a guest's chain: its port on the bridge", 'pve-loop', 'any', 'fwpr100p0', 'guest', null, /the hop the bridge reaches first/],
    ["D5 a guest's chain: the inner end of its veth pair joins it", 'pve-loop', 'any', 'fwln100i0', 'guest', 'fwpr100p0', /a hop of a guest's chain/],
    ["D5 a guest's chain: the guest's tap", 'pve-noloop', 'any', 'tap100i0', 'guest', 'fwpr100p0', /a hop of a guest's chain/],
    ["2 the bond by its unicast hops (a guest's chain stamped after it)", 'pve-noloop', 'pcapng', 'bond0', 'bond', null, /every frame of .* crossed it/],
    ['5 the bridge: every unicast from the switch up the bond', 'migrate', 'pcaps', 'xenbr0', 'bridge', null, /every unicast frame that came up/],
    ['6 a backup slave by the ways in', 'pve-loop', 'pcaps', 'eno2', 'slave', null, /came in there and up to .* by .*: a slave of the bond/],
    ["6 a guest's chain by the ways in", 'pve-loop', 'pcaps', 'fwbr100i0', 'guest', 'fwpr100p0', /a hop of a guest's chain/],
    ["6 a guest's port of a bridge without bond", 'stp', 'pcaps', 'vif1.0', 'guest', null, /not by the uplink, all from one machine/],
    ['8 NICs in the bridge by the BPDUs of another bridge', 'stp', 'pcaps', 'eth0', 'slave', null, /BPDUs of another bridge/],
    ['8 NICs in the bridge, the blocking one too', 'stp-tcn', 'pcaps', 'eth1', 'slave', null, /BPDUs of another bridge/],
  ];
  it.each(rows)('%s (%s, %s: %s)', (_rule, scenario, form, port, role, via, reason) => {
    const r = inferredOf(scenario, form).get(port);
    expect(r, `${port} inferred`).toBeDefined();
    expect(r!.role, r!.reason).toBe(role);
    expect(r!.via, r!.reason).toBe(via);
    expect(r!.reason).toMatch(reason);
  });
});

describe('what the report says of inferred roles', () => {
  const root = join(CAPTURES, 'loop');
  const out = join(dir, 'report');
  mkdirSync(out, { recursive: true });
  const records = readAll(['eth0', 'eth1', 'bond0', 'xenbr0', 'vif1.0', 'vif2.0'].map((i) => join(root, `${i}.pcap`)));
  const alias: Record<string, string> = { eth0: 'a', eth1: 'b', bond0: 'c', xenbr0: 'd', 'vif1.0': 'e', 'vif2.0': 'f' };
  const files = writePcaps(records, out, (n) => alias[n]!);

  it('JSON: roleSource "inferred", the reason with the frames it rests on, and the bond and bridge relations', () => {
    const { json } = analyze(files);
    const by = new Map(json.interfaces.map((i) => [i.name, i]));
    expect(by.get('c')).toMatchObject({ role: 'bond', roleSource: 'inferred', bridge: 'd' });
    expect(by.get('a')).toMatchObject({ role: 'slave', roleSource: 'inferred', bond: 'c' });
    expect(by.get('b')).toMatchObject({ role: 'slave', roleSource: 'inferred', bond: 'c' });
    expect(by.get('d')).toMatchObject({ role: 'bridge', roleSource: 'inferred' });
    expect(by.get('e')).toMatchObject({ role: 'guest', roleSource: 'inferred', bridge: 'd' });
    for (const i of json.interfaces) expect(i.reason).toMatch(/^inferred from \d+ frames: /);
  });

  it('flags still win: a port named by --bond keeps its role, and inference fills the rest around it', () => {
    const t = emptyTopology();
    t.ports.set('c', { name: 'c', role: 'bond', bond: null, bridge: null, roleSource: 'flag', reason: '--bond c=a' });
    t.ports.set('a', { name: 'a', role: 'slave', bond: 'c', bridge: null, roleSource: 'flag', reason: '--bond c=a' });
    const { roles } = analyze(files, (n) => n, t);
    expect(roles.get('c')).toMatchObject({ role: 'bond', source: 'flag' });
    expect(roles.get('a')).toMatchObject({ role: 'slave', source: 'flag' });
    expect(roles.get('b')).toMatchObject({ role: 'slave', source: 'inferred' });
    expect(roles.get('e')).toMatchObject({ role: 'guest', source: 'inferred' });
  });

  it('a port never gets a role from a tie: the bond captured twice under two names leaves both unknown', () => {
    const twin = writePcaps(
      records.filter((r) => r.iface === 'bond0'),
      out,
      () => 'z',
    );
    const s = collectSightings(openCapture([...files, ...twin]), emptyTopology(), files.length + 1);
    const inferred = inferRoles(s);
    expect(inferred.find((r) => r.name === 'c')).toBeUndefined();
    expect(inferred.find((r) => r.name === 'z')).toBeUndefined();
    // Nothing is called a bond or a slave of one when the bond is not told apart.
    expect(inferred.filter((r) => r.role === 'bond' || r.role === 'slave')).toEqual([]);
  });

  it('any subset of the ports, renamed: what is inferred is right', () => {
    const ports = Object.keys(alias);
    for (let mask = 1; mask < 1 << ports.length; mask++) {
      const chosen = ports.filter((_, i) => mask & (1 << i));
      if (chosen.length < 2) continue;
      const subset = chosen.map((p) => join(out, `${alias[p]}.pcap`));
      const s = collectSightings(openCapture(subset), emptyTopology(), subset.length);
      for (const r of inferRoles(s)) {
        const realName = Object.keys(alias).find((k) => alias[k] === r.name)!;
        expect(r.role, `${chosen.join(',')}: ${r.name} (${realName}) ${r.reason}`).toBe(roleFromName(realName).role);
      }
    }
  });
});

describe('what is inferred depends on the frames only, not on the files’ names or order (fast-check)', () => {
  const HAS_MERGECAP = spawnSync('mergecap', ['-h'], { stdio: 'ignore' }).status === 0;
  const RECORDINGS = ['loop', 'pve-loop', 'pve-noloop', 'stp-tcn', 'migrate', 'lacp-split'];
  /** Names that say nothing: no naming convention gives them a role. */
  const meaningless = fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/).filter((n) => roleFromName(n).role === 'unknown' && !roleFromName(n).via && n !== 'merged');
  /** Roles inferred, by the host's name of each port (and of its via). */
  const rolesOf = (files: string[], real: (n: string) => string): string[] =>
    prepare(openCapture(files), emptyTopology(), files.length)
      .inferred.map((r) => `${real(r.name)}: ${r.role} via ${r.via ? real(r.via) : '-'} bond ${r.bond ? real(r.bond) : '-'} bridge ${r.bridge ? real(r.bridge) : '-'}`)
      .sort();
  const reference = new Map<string, string[]>();
  const referenceOf = (scenario: string): string[] => {
    let r = reference.get(scenario);
    if (!r) {
      // Under the host's own names nothing would be inferred: the files as given, named p0, p1, …
      const { interfaces } = labOf(scenario);
      const out = join(dir, 'order', scenario, 'reference');
      mkdirSync(out, { recursive: true });
      const files = interfaces.map((i, k) => {
        const to = join(out, `p${k}.pcap`);
        copyFileSync(join(CAPTURES, scenario, `${i}.pcap`), to);
        return to;
      });
      reference.set(scenario, (r = rolesOf(files, (n) => interfaces[Number(n.slice(1))] ?? n)));
    }
    return r;
  };
  let run = 0;
  it('any order of the per-interface pcaps, any names, one file each or merged by mergecap -I none: the same roles', { timeout: 300_000 }, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RECORDINGS).chain((scenario) => {
          const n = labOf(scenario).interfaces.length;
          return fc.record({
            scenario: fc.constant(scenario),
            order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
            names: fc.uniqueArray(meaningless, { minLength: n, maxLength: n }),
            merged: fc.boolean(),
          });
        }),
        ({ scenario, order, names, merged }) => {
          const { interfaces } = labOf(scenario);
          const out = join(dir, 'order', scenario, String(run++));
          mkdirSync(out, { recursive: true });
          const files = order.map((i, k) => {
            const to = join(out, `${names[k]}.pcap`);
            copyFileSync(join(CAPTURES, scenario, `${interfaces[i]}.pcap`), to);
            return to;
          });
          const byName = new Map(order.map((i, k) => [names[k]!, interfaces[i]!]));
          if (merged && HAS_MERGECAP) {
            const one = join(out, 'merged.pcapng');
            expect(spawnSync('mergecap', ['-I', 'none', '-w', one, ...files]).status).toBe(0);
            expect(rolesOf([one], (n) => interfaces[order[Number(n.replace('merged#', ''))]!] ?? n)).toEqual(referenceOf(scenario));
          } else expect(rolesOf(files, (n) => byName.get(n) ?? n)).toEqual(referenceOf(scenario));
        },
      ),
      { seed: Number(process.env.BONDSCOPE_ORDER_SEED ?? 7), numRuns: Number(process.env.BONDSCOPE_ORDER_RUNS ?? 30) },
    );
  });
});

describe('a longer capture: the same roles as the recording itself', () => {
  const HAS_TOOLS = ['editcap', 'mergecap'].every((t) => spawnSync(t, ['-h'], { stdio: 'ignore' }).status === 0);
  // pve-loop five times over (each copy 15 s after the last, the recording lasts 11.6 s), one
  // renamed pcap per interface: a hop seen once a copy (the bridge device stamped with the bond)
  // reaches MIN_HOPS, and took the bridge device for a slave of the bond, so that no bond was
  // named (rule 2: hops both ways, neither way under 1 - SIDE_SHARE of the other). At 80 copies
  // the rules before took the firewall chain's fwpr100p0 for the bond and fwln/fwbr for its slaves.
  it.skipIf(!HAS_TOOLS)('pve-loop ×5, renamed: every port as in the recording, via too', () => {
    const { interfaces } = labOf('pve-loop');
    const out = join(dir, 'longer');
    mkdirSync(out, { recursive: true });
    const files = interfaces.map((iface, k) => {
      const copies = [0, 1, 2, 3, 4].map((c) => {
        const to = join(out, `${iface}-${c}.pcap`);
        expect(spawnSync('editcap', ['-t', String(15 * c), join(CAPTURES, 'pve-loop', `${iface}.pcap`), to]).status).toBe(0);
        return to;
      });
      const to = join(out, `p${k}.pcap`);
      expect(spawnSync('mergecap', ['-F', 'pcap', '-a', '-w', to, ...copies]).status).toBe(0);
      return to;
    });
    const real = (n: string): string => interfaces[Number(n.slice(1))] ?? n;
    const got = new Map(prepare(openCapture(files), emptyTopology(), files.length).inferred.map((r) => [real(r.name), r]));
    for (const n of interfaces) {
      const r = got.get(n);
      expect(r?.role, `${n}: ${r?.reason}`).toBe(roleFromName(n).role);
      expect(r?.via ? real(r.via) : null, n).toBe(chainVia(n, interfaces));
    }
  });
});

describe('stamps that tie more (an -i any capture rounded down, as a coarser clock or a faster host ties copies)', () => {
  /** The recording's any.pcap with every stamp rounded down to `us` µs, as a pcapng (the project's writer). */
  function rounded(scenario: string, us: number): string {
    const out = join(dir, 'rounded');
    mkdirSync(out, { recursive: true });
    const path = join(out, `${scenario}-${us}.pcapng`);
    const w = new PcapngWriter(path);
    const set = openCapture([join(CAPTURES, scenario, 'any.pcap')]);
    let id = -1;
    while (set.next()) {
      const r = set.rec;
      if (id < 0) id = w.addInterface({ name: 'any', linkType: r.iface!.linkType, snaplen: 262144, tsDigits: 9 });
      w.writePacket(id, r.tsSec, Math.floor(r.tsNsec / (us * 1000)) * us * 1000, r.buf.slice(r.offset, r.offset + r.caplen), 0, r.caplen, r.origLen);
    }
    w.close();
    return path;
  }
  // Copies at one stamp give no order: the more of them tie, the less is inferred (at 50 µs the
  // host's floods tie with the bridge device's own copy, and next to nothing is), never something wrong.
  it.each(scenarios.flatMap((sc) => [10, 50].map((us) => [sc, us] as const)))('%s at %i µs: no role inferred wrong', (scenario, us) => {
    const { links } = labOf(scenario);
    const real = (n: string): string => links.find((l) => `if#${l.ifindex}` === n)?.ifname ?? n;
    for (const r of prepare(openCapture([rounded(scenario, us)]), emptyTopology(), 1).inferred) expect(r.role, `${real(r.name)}: ${r.reason}`).toBe(TRUE_ROLE[real(r.name)] ?? roleFromName(real(r.name)).role);
  });
  it('loop at 10 µs: still every port', () => {
    const { links } = labOf('loop');
    const real = (n: string): string => links.find((l) => `if#${l.ifindex}` === n)?.ifname ?? n;
    const got = new Map(prepare(openCapture([rounded('loop', 10)]), emptyTopology(), 1).inferred.map((r) => [real(r.name), r.role]));
    expect(Object.fromEntries(got)).toEqual({ xenbr0: 'bridge', bond0: 'bond', eth0: 'slave', eth1: 'slave', 'vif1.0': 'guest', 'vif2.0': 'guest' });
  });
});
