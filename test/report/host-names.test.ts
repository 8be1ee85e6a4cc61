/**
 * Text from the host's own names: every finding kind rendered on hosts of every naming — Xen (a
 * bond that is not bond0, as the issue's bond7), Proxmox with the firewall chain (its own
 * recording) and without it, libvirt, and XCP-ng's Open vSwitch (its recorded database) — in the
 * text report, the JSON, the terminal UI's snapshot and report.md, and `check` on each host
 * fixture of test/fixtures/host; no interface name appears that the host does not have, and no
 * generic "vif" where its guests' ports are taps or vnets.
 *
 * The frames are the lab's real recordings (loop: the loop's kinds and mac-flap; migrate:
 * mac-move; stp-root: spanning tree; lacp-split and lacp-nopartner: LACP), their per-interface
 * pcaps copied under the names of each host, so the findings are real and only the names change.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { topologyFromOvs } from '../../src/capture/host/discover.js';
import { readOvsDir } from '../../src/capture/host/ovs.js';
import { capabilities } from '../../src/engine/capabilities.js';
import type { FindingKind } from '../../src/engine/findings.js';
import { verdictOf } from '../../src/engine/verdict.js';
import { exportEvidence } from '../../src/export/evidence.js';
import { emptyTopology, mergeTopology, type Topology } from '../../src/model/topology.js';
import { analysisJson, analysisText } from '../../src/report/analysis.js';
import { AnalysisView } from '../../src/tui/adapter.js';
import { runAnalyzer } from '../helpers/analyze.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/host');
const BIN = join(PROJECT_ROOT, 'bin/bondscope');

/** The lab's names, by role, and each host's. */
interface Naming {
  slaves: [string, string];
  bond: string;
  bridge: string;
  guests: [string, string];
  /** Every name the host has (its ports and those of a guest's chain). */
  all: string[];
  /** The host's recorded Open vSwitch state, when it is an OVS host. */
  ovs?: string;
}

const LAB = { slaves: ['eth0', 'eth1'], bond: 'bond0', bridge: 'xenbr0', guests: ['vif1.0', 'vif2.0'] } as const;
const naming = (slaves: [string, string], bond: string, bridge: string, guests: [string, string], more: string[] = []): Naming => ({ slaves, bond, bridge, guests, all: [...slaves, bond, bridge, ...guests, ...more] });

const HOSTS: Record<string, Naming> = {
  'Xen (bond7)': naming(['peth0', 'peth1'], 'bond7', 'xenbr3', ['vif5.0', 'vif6.0']),
  'Proxmox without the firewall': naming(['eno1', 'eno2'], 'bond1', 'vmbr1', ['tap100i0', 'tap101i0']),
  libvirt: naming(['ens1f0', 'ens1f1'], 'bond2', 'br4', ['vnet3', 'vnet4']),
  'XCP-ng (Open vSwitch)': { ...naming(['eth0', 'eth1'], 'bond0', 'xenbr0', ['vif1.0', 'vif2.0'], ['tap3.0']), ovs: join(FIXTURES, 'xcpng-ovs-active-backup', 'ovs') },
};

/** Anything that looks like an interface name any host might have. */
const NAME = /\b(?:p?eth\d+|eno\d+|ens\d+f\d+|bond\d+(?:\.\d+)?|xenbr\d+|xapi\d+|vmbr\d+(?:v\d+)?|virbr\d+(?:-nic)?|br\d+|vif\d+\.\d+|tap\d+(?:i\d+|\.\d+)?|vnet\d+|veth\d+i\d+|fw(?:br|ln)\d+i\d+|fwpr\d+p\d+|macvtap\d+)\b/g;

/** Names in `text` the host does not have, and the generic "vif" where its guests' ports are not vifs. */
function strangers(text: string, own: readonly string[]): string[] {
  const mine = new Set(own);
  const out = new Set<string>();
  for (const m of text.matchAll(NAME)) if (!mine.has(m[0])) out.add(m[0]);
  // (The vendor of Xen's vif MAC fe:ff:ff:ff:ff:ff names a MAC, not a port of this host.)
  if (!own.some((n) => n.startsWith('vif')) && /\bvifs?\b/.test(text.replaceAll('Xen vif (locally administered)', ''))) out.add('vif');
  return [...out];
}

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-names-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The recording's per-interface pcaps copied under the host's names. */
function renamed(scenario: string, host: string, n: Naming): string[] {
  const dir = join(tmp, host.replace(/\W+/g, '-'), scenario);
  mkdirSync(dir, { recursive: true });
  const to: Record<string, string> = { [LAB.slaves[0]]: n.slaves[0], [LAB.slaves[1]]: n.slaves[1], [LAB.bond]: n.bond, [LAB.bridge]: n.bridge, [LAB.guests[0]]: n.guests[0], [LAB.guests[1]]: n.guests[1] };
  const truth = JSON.parse(readFileSync(join(CAPTURES, scenario, 'truth.json'), 'utf8')) as { interfaces: string[] };
  return truth.interfaces.map((i) => {
    const file = join(dir, `${to[i] ?? i}.pcap`);
    copyFileSync(join(CAPTURES, scenario, `${i}.pcap`), file);
    return file;
  });
}

function topologyOf(n: Naming): () => Topology {
  if (!n.ovs) return emptyTopology;
  const rec = readOvsDir(n.ovs, [])!;
  return () => mergeTopology(emptyTopology(), topologyFromOvs(rec, []));
}

/** Every rendering of the analysis: text, JSON, the UI's snapshot. */
function render(files: string[], topology: Topology): { kinds: FindingKind[]; text: string } {
  const { a, findings } = runAnalyzer(files, topology);
  const caps = capabilities(a.ports.ports);
  const inputs = files.map((name, index) => ({ index, name: name.slice(name.lastIndexOf('/') + 1) }));
  const verdict = verdictOf(a, findings);
  const ui = new AnalysisView(inputs.map((i) => i.name)).snapshot(a, { title: 'host', mode: 'browse', state: 'done', frames: a.stats.frames, now: a.wallTime(a.latestT), interfaces: [], messages: [] });
  return {
    kinds: findings.map((x) => x.kind),
    text: [analysisText(a, findings, caps, inputs, verdict), JSON.stringify(analysisJson(a, findings, caps, inputs, a.stats, verdict)), JSON.stringify(ui)].join('\n'),
  };
}

const SCENARIOS = ['loop', 'migrate', 'stp-root', 'lacp-split', 'lacp-nopartner'];
/** The data-plane and control-plane kinds the recordings give (mac-flood has no name in it; loop-prone-bond comes from check, below). */
const KINDS: FindingKind[] = ['looped-broadcast', 'own-address', 'wrong-port-learning', 'blackholed-unicast', 'mac-flap', 'mac-move', 'stp-host-is-root', 'stp-topology-change', 'lacp-partner-mismatch', 'lacp-not-distributing', 'lacp-no-partner', 'lacp-slow-timeout'];

describe("every finding kind in the host's own names", () => {
  for (const [host, n] of Object.entries(HOSTS)) {
    it(`${host}: text, JSON, UI`, () => {
      const seen = new Set<FindingKind>();
      for (const s of SCENARIOS) {
        const r = render(renamed(s, host, n), topologyOf(n)());
        for (const k of r.kinds) seen.add(k);
        expect(strangers(r.text, n.all), `${s} on ${host}`).toEqual([]);
        if (s === 'loop') {
          // The kernel's own words with this host's names.
          expect(r.text).toContain(`${n.bridge}: received packet on ${n.bond} with own address as source address`);
          expect(r.text).toContain(`instead of its own port (${n.guests[0]})`);
        }
      }
      for (const k of KINDS) expect(seen.has(k), k).toBe(true);
    });

    it(`${host}: report.md of the evidence bundle`, async () => {
      const out = join(tmp, `bundle-${host.replace(/\W+/g, '-')}`);
      await exportEvidence({ specs: renamed('loop', host, n), outDir: out, topology: topologyOf(n) });
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      // The commands that reproduce the bundle name the copied files' paths: everything else is prose.
      const prose = md.slice(0, md.indexOf('## How to reproduce'));
      expect(strangers(prose, n.all)).toEqual([]);
      expect(prose).toContain(`${n.bridge}: received packet on ${n.bond} with own address as source address`);
    });
  }

  it('Proxmox with the firewall chain (its own recording, no renaming): no Xen or libvirt name, no "vif"', () => {
    const dir = join(CAPTURES, 'pve-loop');
    const t = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { interfaces: string[] };
    for (const files of [[join(dir, 'pve-loop.pcapng')], t.interfaces.map((i) => join(dir, `${i}.pcap`))]) {
      const r = render(files, emptyTopology());
      expect(strangers(r.text, t.interfaces)).toEqual([]);
      expect(r.text).toContain('vmbr0: received packet on bond0 with own address as source address');
      expect(r.text).toContain('instead of its own port (tap100i0)');
      expect(r.kinds).toContain('wrong-port-learning');
    }
  });

  it("check on every host fixture: the kernel's quote and every explanation in the fixture's names", () => {
    for (const host of readdirSync(FIXTURES).filter((d) => !d.endsWith('-texts') && !d.includes('.'))) {
      const ovs = join(FIXTURES, host, 'ovs');
      // An Open vSwitch host's bonds are ports of its database, not of sysfs.
      const sys = readdirSync(join(FIXTURES, host, 'sys/class/net'));
      const own = sys.includes('ovs-system') ? [...sys, ...topologyFromOvs(readOvsDir(ovs, [])!, []).ports.keys()] : sys;
      const args = ['check', '--root', join(FIXTURES, host), ...(sys.includes('ovs-system') ? ['--ovs', ovs] : [])];
      for (const json of [false, true]) {
        const r = spawnSync(process.execPath, [BIN, ...args, ...(json ? ['--json'] : [])], { encoding: 'utf8' });
        expect(r.stderr, host).not.toMatch(/internal error/);
        expect(strangers(r.stdout, own), `${host}${json ? ' --json' : ''}`).toEqual([]);
      }
    }
  });
});
