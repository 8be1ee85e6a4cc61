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
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer, DEFAULT_OPTIONS } from '../../src/engine/analyzer.js';
import { inferRoles } from '../../src/engine/infer-roles.js';
import { collectSightings, prepare } from '../../src/engine/prepass.js';
import { roleFromName } from '../../src/model/roles.js';
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
  roles: Map<string, { role: PortRole; source: string; reason: string }>;
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
  const roles = new Map(a.ports.ports.map((p) => [real(p.port.name), { role: p.port.role, source: p.port.roleSource, reason: p.port.reason }]));
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
  // clocks are compared across roles: here little may be inferred (and then no clock lined up), but
  // nothing wrong.
  const ifaces = ['eth0', 'eth1', 'bond0', 'xenbr0', 'vif1.0', 'vif2.0'];
  const cases: [string, string, string][] = [];
  for (const scenario of ['loop', 'loop-latency', 'lacp', 'background', 'windows-loop']) for (const victim of ifaces) for (const shift of ['-0.03', '0.0005']) cases.push([scenario, victim, shift]);
  const editcap = spawnSync('editcap', ['-h'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!editcap).each(cases)('%s, %s stamped %s s off', (scenario, victim, shift) => {
    const out = join(dir, 'shifted', scenario);
    mkdirSync(out, { recursive: true });
    const alias = (n: string): string => `if${'abcdef'[ifaces.indexOf(n)]}`;
    const files = writePcaps(readAll(ifaces.map((n) => join(CAPTURES, scenario, `${n}.pcap`))), out, alias);
    const shifted = join(out, `${alias(victim)}-shifted.pcap`);
    expect(spawnSync('editcap', ['-t', shift, join(out, `${alias(victim)}.pcap`), shifted]).status).toBe(0);
    const specs = files.map((f) => (f === join(out, `${alias(victim)}.pcap`) ? `${alias(victim)}=${shifted}` : f));
    const prepared = prepare(openCapture(specs), emptyTopology(), specs.length);
    for (const r of prepared.inferred) {
      const realName = ifaces.find((n) => alias(n) === r.name)!;
      expect(r.role, `${realName}: ${r.reason}`).toBe(roleFromName(realName).role);
    }
    // Where a clock was lined up, it was this file's, by the shift (within a guest port's hop).
    const offset = prepared.inputOffsetsNs?.[ifaces.indexOf(victim)];
    if (offset !== undefined && offset !== 0) expect(Math.abs(offset / 1e9 - Number(shift))).toBeLessThan(5e-6);
  });
});

describe('an -i any capture without --links (ports named if#N)', () => {
  // Cooked captures have no destination MACs, so no unicast is told from a flood, and the lab's
  // emulated bond adds a veth end (bond0-drv) beside the bond: today nothing may be inferred wrong.
  it.each(scenarios)('%s: whatever is inferred is the role its real name gives', (scenario) => {
    const links = JSON.parse(readFileSync(join(CAPTURES, scenario, 'links.json'), 'utf8')) as { ifindex: number; ifname: string }[];
    const s = collectSightings(openCapture([join(CAPTURES, scenario, 'any.pcap')]), emptyTopology(), 1);
    for (const r of inferRoles(s)) {
      const real = links.find((l) => `if#${l.ifindex}` === r.name)?.ifname ?? r.name;
      expect(r.role, `${real}: ${r.reason}`).toBe(TRUE_ROLE[real] ?? roleFromName(real).role);
    }
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
