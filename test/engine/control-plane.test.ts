/**
 * Spanning-tree and LACP findings on real data: the lab's recordings (captures/, with the kernel's
 * own port states in truth.json), tcpdump's STP and LACP captures (tshark as the oracle of what
 * their LACPDUs say), and the host's own view through /proc/net/bonding fixtures.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { parseProcBonding } from '../../src/capture/host/discover.js';
import { DecodedFrame, decodeFrame, formatMac, parseMac } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import { evaluateLacp, lacpViewsFromBonds, parseSysfsBridgeId, stpFindingsFromBridges } from '../../src/engine/control-plane.js';
import type { Finding } from '../../src/engine/findings.js';
import { emptyTopology, type Bond } from '../../src/model/topology.js';
import { CORPUS, HAS_TSHARK, PROJECT_ROOT } from '../helpers/tools.js';
import { analyzeFiles } from '../helpers/analyze.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const TCPDUMP = join(CORPUS, 'tcpdump-tests');
export const CONTROL_KINDS = ['stp-host-is-root', 'stp-topology-change', 'stp-port-blocked', 'lacp-partner-mismatch', 'lacp-not-distributing', 'lacp-no-partner', 'lacp-slow-timeout'];

const analyze = analyzeFiles;

/** The control-plane findings as `kind interfaces`, sorted. */
function control(fs: Finding[]): string[] {
  return fs
    .filter((f) => CONTROL_KINDS.includes(f.kind))
    .map((f) => `${f.kind} ${f.interfaces.join(',')}`)
    .sort();
}

interface LacpSide {
  system: string;
  key: number;
  state: number;
}

interface Truth {
  interfaces: string[];
  stpPortStates?: Record<string, string>;
  stpBridge?: { bridgeId: string; rootId: string };
  topologyChanges?: number;
  lacpdus?: Record<string, { host: LacpSide; switch: LacpSide | null }>;
}

const LOOP_KINDS = ['looped-broadcast', 'own-address', 'wrong-port-learning', 'blackholed-unicast', 'mac-flap'];

function truthOf(s: string): Truth {
  return JSON.parse(readFileSync(join(CAPTURES, s, 'truth.json'), 'utf8')) as Truth;
}

/** sysfs "1000.002590000001" as the findings write a bridge id: 4096/0/00:25:90:00:00:01. */
function bridgeIdText(sysfs: string): string {
  const id = parseSysfsBridgeId(sysfs)!;
  return `${id.priority & 0xf000}/${id.priority & 0xfff}/${formatMac(id.mac)}`;
}

function variants(s: string): [string, () => Finding[]][] {
  const dir = join(CAPTURES, s);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  return [
    ['dumpcap pcapng', () => analyze([join(dir, `${s}.pcapng`)])],
    ['per-interface pcaps', () => analyze(truth.interfaces.map((i) => join(dir, `${i}.pcap`)))],
    ['SLL2 -i any with --links', () => analyze([join(dir, 'any.pcap')], join(dir, 'links.json'))],
  ];
}

describe('stp recording: the NIC the kernel blocks, and nothing else', () => {
  const truth = JSON.parse(readFileSync(join(CAPTURES, 'stp', 'truth.json'), 'utf8')) as Truth;
  const blocking = Object.entries(truth.stpPortStates ?? {})
    .filter(([, s]) => s === 'blocking')
    .map(([p]) => p);
  it('ground truth: the kernel had one NIC blocking', () => {
    expect(blocking).toEqual(['eth1']);
  });
  for (const [name, run] of variants('stp')) {
    it(`${name}: stp-port-blocked for exactly the kernel's blocking NICs`, () => {
      const fs = run();
      expect(control(fs), name).toEqual(blocking.map((p) => `stp-port-blocked ${p}`));
      const f = fs.find((x) => x.kind === 'stp-port-blocked')!;
      expect(f.severity).toBe('info');
      expect(f.evidence.length).toBeGreaterThan(0);
      expect(f.summary).toMatch(/alternate to root port eth0/);
    });
  }
});

describe('stp-root recording: the host is root, and a guest rebooting twice changes the topology twice', () => {
  const t = truthOf('stp-root');
  it('ground truth: sysfs bridge_id is root_id, the kernel flagged two topology changes, no port blocks', () => {
    expect(t.stpBridge!.bridgeId).toBe(t.stpBridge!.rootId);
    expect(t.topologyChanges).toBe(2);
    expect(Object.values(t.stpPortStates!)).not.toContain('blocking');
  });
  for (const [name, run] of variants('stp-root')) {
    it(`${name}: stp-host-is-root naming sysfs's root, stp-topology-change with the kernel's count, nothing else`, () => {
      const fs = run();
      expect(fs.filter((f) => CONTROL_KINDS.includes(f.kind)).map((f) => f.kind).sort()).toEqual(['stp-host-is-root', 'stp-topology-change']);
      const root = fs.find((f) => f.kind === 'stp-host-is-root')!;
      expect(root.details.root).toBe(bridgeIdText(t.stpBridge!.rootId));
      expect(root.interfaces.sort()).toEqual(['eth0', 'eth1', 'vif1.0', 'vif2.0']);
      const tc = fs.find((f) => f.kind === 'stp-topology-change')!;
      expect(tc.details.episodes).toBe(t.topologyChanges);
      expect(tc.evidence.length).toBe(t.topologyChanges);
      expect(fs.filter((f) => LOOP_KINDS.includes(f.kind)).map((f) => f.summary)).toEqual([]);
    });
  }
});

describe('stp-tcn recording: the switch is root, the host sends a TCN for each guest reboot while the root’s TC period spans both', () => {
  const t = truthOf('stp-tcn');
  const blocking = Object.entries(t.stpPortStates!).filter(([, st]) => st === 'blocking').map(([p]) => p);
  it('ground truth: the host is not root, one NIC blocks, the kernel flagged two changes', () => {
    expect(t.stpBridge!.bridgeId).not.toBe(t.stpBridge!.rootId);
    expect(blocking).toEqual(['eth1']);
    expect(t.topologyChanges).toBe(2);
  });
  for (const [name, run] of variants('stp-tcn')) {
    it(`${name}: stp-topology-change with the kernel's count (TCN bursts), the blocked NIC, nothing else`, () => {
      const fs = run();
      expect(control(fs).map((x) => x.split(' ')[0])).toEqual(['stp-port-blocked', 'stp-topology-change']);
      expect(control(fs)).toContain(`stp-port-blocked ${blocking[0]}`);
      const tc = fs.find((f) => f.kind === 'stp-topology-change')!;
      expect(tc.details.episodes).toBe(t.topologyChanges);
      expect(tc.details.tcns).toBeGreaterThanOrEqual(t.topologyChanges!);
      // The host's root, per sysfs, is the root the blocked port hears.
      const blocked = fs.find((f) => f.kind === 'stp-port-blocked')!;
      expect(blocked.summary).toContain(`root ${bridgeIdText(t.stpBridge!.rootId)}`);
    });
  }
});

describe('uplinks captured alone (eth0 and eth1, no directions): the host’s BPDUs must not pass for a switch’s', () => {
  function uplinks(s: string, localMac?: string): Finding[] {
    const topology = emptyTopology();
    if (localMac) topology.localMacs.add(parseMac(localMac));
    const set = openCapture(['eth0', 'eth1'].map((i) => join(CAPTURES, s, `${i}.pcap`)));
    const a = new Analyzer(topology);
    const f = new DecodedFrame();
    while (set.next()) {
      decodeFrame(set.rec, f);
      a.observe(set.rec, f);
    }
    return a.finish();
  }
  /** From the kernel's truth: root per sysfs, blocking NICs, two or more changes flagged. */
  function expected(t: Truth): string[] {
    const out: string[] = [];
    if (t.stpBridge && t.stpBridge.bridgeId === t.stpBridge.rootId) out.push('stp-host-is-root');
    for (const [p, st] of Object.entries(t.stpPortStates ?? {})) if (st === 'blocking' && p.startsWith('eth')) out.push(`stp-port-blocked ${p}`);
    if ((t.topologyChanges ?? 0) >= 2) out.push('stp-topology-change');
    return out.sort();
  }
  const kinds = (fs: Finding[]): string[] =>
    fs
      .filter((f) => CONTROL_KINDS.includes(f.kind))
      .map((f) => (f.kind === 'stp-port-blocked' ? `${f.kind} ${f.interfaces[0]}` : f.kind))
      .sort();
  for (const s of ['stp', 'stp-root', 'stp-tcn']) {
    const t = truthOf(s);
    it(`${s}: without the host's MAC, only what needs no host (topology changes); no NIC passes for blocked`, () => {
      expect(kinds(uplinks(s))).toEqual(expected(t).filter((k) => k === 'stp-topology-change'));
    });
    it(`${s}: with --local-mac (the host's bridge MAC), exactly what the kernel's truth says`, () => {
      expect(kinds(uplinks(s, (t as unknown as { params: { hostMac: string } }).params.hostMac))).toEqual(expected(t));
    });
  }
});

/** What the LACPDUs the lab wrote must lead to: no partner, partners that differ, sides not distributing, long timeouts. */
function expectedLacp(t: Truth): string[] {
  const links = Object.entries(t.lacpdus!);
  const out: string[] = [];
  const answered = links.filter(([, l]) => l.switch !== null);
  for (const [port, l] of links) if (l.switch === null) out.push(`lacp-no-partner ${port}`);
  const partners = new Set(answered.map(([, l]) => `${l.switch!.system}/${l.switch!.key}`));
  if (partners.size > 1) out.push(`lacp-partner-mismatch ${answered.map(([p]) => p).join(',')}`);
  const inSync = (state: number): boolean => (state & 0x38) === 0x38;
  for (const [port, l] of answered) if (!inSync(l.host.state) || !inSync(l.switch!.state)) out.push(`lacp-not-distributing ${port}`);
  const slow = new Map<string, string[]>();
  for (const [port, l] of links) for (const side of [l.host, l.switch]) if (side && !(side.state & 0x02)) slow.set(side.system, [...(slow.get(side.system) ?? []), port]);
  for (const ports of slow.values()) out.push(`lacp-slow-timeout ${ports.join(',')}`);
  return out.sort();
}

for (const s of ['lacp-pdu', 'lacp-split', 'lacp-nopartner']) {
  describe(`${s} recording: LACPDUs written on both sides of each link`, () => {
    const t = truthOf(s);
    it('ground truth: the lab wrote LACPDUs on both links', () => {
      expect(Object.keys(t.lacpdus!)).toEqual(['eth0', 'eth1']);
    });
    const uplinksOnly: [string, () => Finding[]] = ['uplinks only (eth0, eth1 pcaps: no host side, no directions)', () => analyze(['eth0', 'eth1'].map((i) => join(CAPTURES, s, `${i}.pcap`)))];
    for (const [name, run] of [...variants(s), uplinksOnly]) {
      it(`${name}: exactly the LACP findings the written LACPDUs call for`, () => {
        const fs = run();
        const want = expectedLacp(t);
        expect(want.length).toBeGreaterThan(0);
        expect(control(fs)).toEqual(want);
        // Slow timeout is the host's, whose actor system is the bridge's MAC; the switches ask for the short one.
        for (const f of fs.filter((x) => x.kind === 'lacp-slow-timeout')) expect(formatMac(f.mac)).toBe(t.lacpdus!.eth0!.host.system);
        // With one partner in sync the aggregate is the fix working: none of the loop's findings.
        if (s === 'lacp-pdu' && !name.startsWith('uplinks')) expect(fs.filter((f) => LOOP_KINDS.includes(f.kind)).map((f) => f.summary)).toEqual([]);
        const mismatch = fs.find((f) => f.kind === 'lacp-partner-mismatch');
        if (mismatch) for (const l of Object.values(t.lacpdus!)) expect(mismatch.summary).toContain(`${l.switch!.system} key ${l.switch!.key}`);
      });
    }
  });
}

describe('recordings without spanning tree or LACP: no control-plane finding', () => {
  for (const s of ['loop', 'lacp', 'single', 'migrate']) {
    for (const [name, run] of variants(s)) {
      it(`${s}, ${name}`, () => {
        expect(control(run())).toEqual([]);
      });
    }
  }
});

describe('tcpdump’s STP and LACP captures', () => {
  it('STP captures of switches alone: no host bridge, no topology change, nothing found', () => {
    for (const name of ['802.1D_spanning_tree.pcap', 'MSTP_Intra-Region_BPDUs.pcap', 'rpvstp-trunk-native-vid5.pcap', 'spb_bpduv4.pcap']) {
      expect(control(analyze([join(TCPDUMP, name)])), name).toEqual([]);
    }
  });

  it.skipIf(!HAS_TSHARK)("lacp-split's eth1 up to the host's first LACPDU in a state out of sync: a link on its way up, no lacp-not-distributing; up to its second in that state: lacp-not-distributing [needs tshark]", () => {
    const file = join(CAPTURES, 'lacp-split', 'eth1.pcap');
    // tshark is the oracle of which LACPDUs the host sent in sync or not.
    const rows = execFileSync('tshark', ['-r', file, '-Y', 'lacp', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'lacp.actor.sysid', '-e', 'lacp.actor.state.synchronization', '-e', 'lacp.actor.state'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n')
      .map((l) => l.split('|'))
      .filter((r) => r[1] === '00:25:90:00:00:01');
    // The host's first two LACPDUs in a row with one state, out of sync.
    const at = rows.findIndex((r, i) => (r[2] === 'False' || r[2] === '0') && rows[i + 1]?.[3] === r[3]);
    expect(at).toBeGreaterThanOrEqual(0);
    const outOfSync = [Number(rows[at]![0]), Number(rows[at + 1]![0])];
    const dir = mkdtempSync(join(tmpdir(), 'bondscope-lacp-'));
    try {
      const upTo = (n: number): Finding[] => {
        const out = join(dir, `eth1-${n}.pcap`);
        execFileSync('editcap', ['-r', file, out, `1-${n}`], { stdio: 'ignore' });
        return analyze([`eth1=${out}`]);
      };
      expect(upTo(outOfSync[0]!).filter((f) => f.kind === 'lacp-not-distributing')).toEqual([]);
      expect(upTo(outOfSync[1]!).filter((f) => f.kind === 'lacp-not-distributing').map((f) => f.interfaces)).toEqual([['eth1']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!HAS_TSHARK)('LACP.pcap: slow timeout for exactly the systems whose last LACPDU has the long timeout (per tshark); the link ends distributing [needs tshark]', () => {
    const file = join(TCPDUMP, 'LACP.pcap');
    const rows = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'lacp.actor.sysid', '-e', 'lacp.actor.state.timeout', '-e', 'lacp.actor.state.distributing', '-e', 'lacp.partner.sysid'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    const lastBySystem = new Map<string, string[]>();
    for (const r of rows) lastBySystem.set(r[0]!, r);
    const slow = [...lastBySystem].filter(([, r]) => r[1] === 'False' || r[1] === '0').map(([s]) => s).sort();
    const notDistributing = [...lastBySystem].filter(([, r]) => r[2] === 'False' || r[2] === '0').map(([s]) => s);
    const zeroPartner = [...lastBySystem].filter(([, r]) => r[3] === '00:00:00:00:00:00').map(([s]) => s);
    const fs = analyze([file]);
    expect(slow.length).toBeGreaterThan(0);
    expect(fs.filter((f) => f.kind === 'lacp-slow-timeout').map((f) => formatMac(f.mac)).sort()).toEqual(slow);
    expect(fs.filter((f) => f.kind === 'lacp-not-distributing').length).toBe(notDistributing.length);
    expect(fs.filter((f) => f.kind === 'lacp-no-partner').length).toBe(zeroPartner.length);
    expect(fs.filter((f) => f.kind === 'lacp-partner-mismatch')).toEqual([]);
  });
});

describe('the host’s own view, fed to the same evaluators', () => {
  const texts = join(PROJECT_ROOT, 'test/fixtures/host/bonding-texts');
  function bond(name: string): Bond {
    const p = parseProcBonding(readFileSync(join(texts, name), 'utf8'));
    return { name: 'bond0', mode: p.mode, slaves: p.slaves, activeSlave: p.activeSlave, allSlavesActive: null, driverVersion: p.driverVersion };
  }
  it.skipIf(!existsSync(texts))('/proc/net/bonding with two partners: lacp-partner-mismatch naming both switches', () => {
    const fs = evaluateLacp(lacpViewsFromBonds([bond('modern-802.3ad-two-partners.txt')]));
    expect(fs.map((f) => f.kind)).toEqual(['lacp-partner-mismatch']);
    expect(fs[0]!.summary).toContain('ens1f0 → 00:19:06:ea:b8:80 key 1001');
    expect(fs[0]!.summary).toContain('ens1f1 → 00:1b:54:10:20:30 key 2002');
    expect(fs[0]!.interfaces).toEqual(['ens1f0', 'ens1f1']);
  });
  it.skipIf(!existsSync(texts))('with the port states /proc/net/bonding prints: the unselected slave not distributing, the bond’s slow rate', () => {
    const text = readFileSync(join(texts, 'modern-802.3ad-two-partners.txt'), 'utf8');
    // Each slave block: "details actor lacp pdu: … port state: N", then the partner's.
    const states = new Map<string, { actor: number; partner: number }>();
    for (const block of text.split('Slave Interface: ').slice(1)) {
      const name = block.split('\n')[0]!.trim();
      const [actor, partner] = [...block.matchAll(/port state: (\d+)/g)].map((m) => Number(m[1]));
      states.set(name, { actor: actor!, partner: partner! });
    }
    const rate = /LACP rate: (\w+)/.exec(text)![1];
    const fs = evaluateLacp(lacpViewsFromBonds([bond('modern-802.3ad-two-partners.txt')], states));
    const notDistributing = [...states].filter(([, st]) => (st.actor & 0x38) !== 0x38).map(([n]) => n);
    expect(notDistributing).toEqual(['ens1f1']);
    expect(fs.map((f) => `${f.kind} ${f.interfaces.join(',')}`).sort()).toEqual(
      ['lacp-partner-mismatch ens1f0,ens1f1', ...notDistributing.map((n) => `lacp-not-distributing ${n}`), ...(rate === 'slow' ? ['lacp-slow-timeout ens1f0,ens1f1'] : [])].sort(),
    );
  });
    it.skipIf(!existsSync(texts))('bonds not in 802.3ad are no LACP business', () => {
    expect(lacpViewsFromBonds([bond('modern-active-backup.txt'), bond('modern-balance-rr.txt')])).toEqual([]);
  });
  it('bridge sysfs: root when bridge_id is root_id, blocked NIC ports by state', () => {
    expect(parseSysfsBridgeId('8000.002590000001')).toEqual({ priority: 0x8000, mac: 0x002590000001 });
    expect(parseSysfsBridgeId('bogus')).toBeNull();
    const root = { name: 'xenbr0', ports: [{ name: 'eth0', state: 'forwarding' }, { name: 'eth1', state: 'blocking' }, { name: 'vif1.0', state: 'blocking' }], bridgeId: '1000.002590000001', rootId: '1000.002590000001', stpEnabled: true };
    const fs = stpFindingsFromBridges([root], (p) => p.startsWith('eth'));
    expect(fs.map((f) => `${f.kind} ${f.interfaces.join(',')}`)).toEqual(['stp-host-is-root xenbr0', 'stp-port-blocked eth1']);
    expect(stpFindingsFromBridges([{ ...root, rootId: '1000.0665aa000001', ports: [] }], () => true)).toEqual([]);
    expect(stpFindingsFromBridges([{ ...root, stpEnabled: false }], () => true)).toEqual([]);
  });
});
