/**
 * The hosts people run: Proxmox VE (with and without its firewall bridges, VLAN devices of the
 * bond), libvirt, a VLAN-aware bridge, XCP-ng / Open vSwitch bonds; names, discovery and `check`'s
 * rules with their sources, on the fixture trees of test/fixtures/host (see its README) and on
 * Open vSwitch's own test-suite output.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverHost, parseBridgeVlans } from '../../src/capture/host/discover.js';
import { ovsFdbEntries, ovsLayout, parseBondShow, parseFdbShow, parseLacpShow, parseOvsTable, readOvsDir } from '../../src/capture/host/ovs.js';
import { bondingVersionKind, checkTopology, RULE_SOURCES } from '../../src/engine/host-check.js';
import { formatMac } from '../../src/model/mac.js';
import { linkProxmoxChains, roleFromName } from '../../src/model/roles.js';
import { emptyTopology, topologyFromComment, topologyToComment, uplinkPortOf, type Bond } from '../../src/model/topology.js';
import { kernelSilenceNote } from '../../src/report/kernel-silence.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const FIX = join(PROJECT_ROOT, 'test/fixtures/host');
const OVS_TEXT = (f: string): string => readFileSync(join(FIX, 'ovs-texts', f), 'utf8');

function check(args: string[]) {
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'check', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const roles = (host: string, opts = {}) => {
  const t = discoverHost(join(FIX, host), opts).topology;
  return Object.fromEntries([...t.ports].map(([n, p]) => [n, `${p.role}${p.via ? ` via ${p.via}` : ''}`]));
};

describe('roles from the names hypervisors give', () => {
  it.each([
    ['vmbr0', 'bridge', undefined],
    ['vmbr1v20', 'bridge', undefined],
    ['bond0.20', 'bond', undefined],
    ['tap100i0', 'guest', undefined],
    ['veth101i1', 'guest', undefined],
    ['fwbr100i0', 'guest', 'fwpr100p0'],
    ['fwln100i0', 'guest', 'fwpr100p0'],
    ['fwpr100p0', 'guest', undefined],
    ['fwln100o0', 'guest', undefined],
    ['virbr0', 'bridge', undefined],
    ['virbr0-nic', 'unknown', undefined],
    ['vnet12', 'guest', undefined],
    ['macvtap0', 'guest', undefined],
    ['xenbr0', 'bridge', undefined],
    ['xapi1', 'bridge', undefined],
    ['vif3.0', 'guest', undefined],
    ['tap3.0', 'guest', undefined],
    ['eno1.50', 'slave', undefined],
    ['ovs-system', 'unknown', undefined],
    ['wlan0', 'unknown', undefined],
  ])('%s is %s', (name, role, via) => {
    const r = roleFromName(name);
    expect(r.role).toBe(role);
    expect(r.via).toBe(via);
    expect(r.reason.length).toBeGreaterThan(10);
  });

  it('a tap joins its firewall port only when that port is there', () => {
    const ports = [
      { name: 'tap100i0', role: 'guest' as const, roleSource: 'name', via: null as string | null },
      { name: 'tap101i0', role: 'guest' as const, roleSource: 'name', via: null as string | null },
      { name: 'tap102i0', role: 'guest' as const, roleSource: 'flag', via: null as string | null },
    ];
    linkProxmoxChains(ports, new Set(['tap100i0', 'tap101i0', 'tap102i0', 'fwpr100p0', 'fwpr102p0']));
    expect(ports.map((p) => p.via)).toEqual(['fwpr100p0', null, null]);
  });

  it('via survives the recorded topology (live --write → analyze)', () => {
    const t = emptyTopology();
    t.ports.set('tap100i0', { name: 'tap100i0', role: 'guest', bond: null, bridge: 'vmbr0', roleSource: 'discovered', reason: 'x', via: 'fwpr100p0' });
    t.ports.set('fwpr100p0', { name: 'fwpr100p0', role: 'guest', bond: null, bridge: 'vmbr0', roleSource: 'discovered', reason: 'x' });
    const back = topologyFromComment(topologyToComment(t))!;
    expect(back.ports.get('tap100i0')).toMatchObject({ role: 'guest', bridge: 'vmbr0', via: 'fwpr100p0', roleSource: 'recorded' });
    expect(back.ports.get('fwpr100p0')!.via).toBeUndefined();
    expect([...back.ports.values()].map(uplinkPortOf)).toEqual(['fwpr100p0', 'fwpr100p0']);
  });
});

describe('discovery on Proxmox, libvirt and VLAN-aware hosts', () => {
  it('Proxmox with the firewall: the fwbr chain is found from veth peers, each hop a guest via fwpr100p0', () => {
    expect(roles('pve-firewall')).toEqual({
      eno1: 'slave',
      eno2: 'slave',
      bond0: 'bond',
      vmbr0: 'bridge',
      fwbr100i0: 'guest via fwpr100p0',
      fwln100i0: 'guest via fwpr100p0',
      tap100i0: 'guest via fwpr100p0',
      fwpr100p0: 'guest',
      tap101i0: 'guest',
    });
    const t = discoverHost(join(FIX, 'pve-firewall')).topology;
    expect(t.ports.get('tap100i0')).toMatchObject({ bridge: 'vmbr0', roleSource: 'discovered' });
    expect(t.ports.get('tap100i0')!.reason).toMatch(/reaches vmbr0 through fwpr100p0 \(veth peer of fwln100i0, sysfs iflink\)/);
    expect(t.ports.get('fwpr100p0')!.reason).toMatch(/the port on vmbr0 of tap100i0/);
  });

  it('Proxmox without the firewall: bond0.20 (a VLAN device of the bond) is vmbr20’s uplink; balance-rr under both bridges is loop-prone', () => {
    const info = discoverHost(join(FIX, 'pve-nofirewall'));
    expect(info.topology.ports.get('bond0.20')).toMatchObject({ role: 'bond', bond: 'bond0', bridge: 'vmbr20', roleSource: 'discovered' });
    expect(info.kernelRelease).toBe('6.8.12-4-pve');
    const c = checkTopology(info.topology, info.lacpStates, info.kernelRelease);
    const f = c.findings.filter((x) => x.kind === 'loop-prone-bond');
    expect(f.map((x) => x.summary)).toEqual([expect.stringMatching(/^bond0 under vmbr0 is in balance-rr mode.*Red Hat does not support balance-rr/)]);
    expect(String(f[0]!.details.source)).toContain('Red Hat Enterprise Linux 7 Virtualization Deployment and Administration Guide');
  });

  it('libvirt: virbr0 (NAT, no uplink) is not judged for spanning tree; virbr0-nic is a placeholder; macvtap0 is no bridge port', () => {
    const info = discoverHost(join(FIX, 'libvirt-host'));
    expect(roles('libvirt-host')).toMatchObject({ br0: 'bridge', bond0: 'bond', vnet0: 'guest', vnet1: 'guest', virbr0: 'bridge', vnet2: 'guest', 'virbr0-nic': 'unknown' });
    const c = checkTopology(info.topology, info.lacpStates, info.kernelRelease);
    expect(c.findings).toEqual([]);
    expect(c.fine).toContain('virbr0: no uplink (no bond or NIC among its ports): it reaches no switch, so it cannot loop through one and its spanning tree stays inside the host');
  });

  it('a VLAN-aware bridge: vlan_filtering and each port’s VLANs from bridge -j vlan show', () => {
    const vlansJson = readFileSync(join(FIX, 'pve-vlan-aware/bridge-vlan.json'), 'utf8');
    const t = discoverHost(join(FIX, 'pve-vlan-aware'), { vlansJson }).topology;
    const br = t.bridges.find((b) => b.name === 'vmbr0')!;
    expect(br.vlanFiltering).toBe(true);
    const port = (n: string) => br.ports.find((p) => p.name === n)!;
    expect(port('tap100i0').vlans).toEqual([{ vid: 20, pvid: true, untagged: true }]);
    expect(port('tap101i0').vlans).toEqual([{ vid: 30, pvid: false, untagged: false }]);
    expect(port('bond0').vlans).toHaveLength(4094);
    const r = check(['--root', join(FIX, 'pve-vlan-aware'), '--vlans', join(FIX, 'pve-vlan-aware/bridge-vlan.json')]);
    expect(r.out).toMatch(/bridge vmbr0 \(VLAN-aware\)/);
    expect(r.out).toMatch(/tap100i0 +guest +forwarding vlans 20 pvid untagged/);
    expect(r.out).toMatch(/bond0 +bond +forwarding vlans 1 pvid untagged, 2-4094/);
  });

  it('bridge -j vlan show in iproute2 4.x’s object form reads the same', () => {
    const v = parseBridgeVlans('{"tap100i0":[{"vlan":20,"flags":["PVID","Egress Untagged"]}],"eno1":[{"vlan":10,"vlanEnd":12}]}');
    expect(v.get('tap100i0')).toEqual([{ vid: 20, pvid: true, untagged: true }]);
    expect(v.get('eno1')!.map((x) => x.vid)).toEqual([10, 11, 12]);
  });
});

describe('Open vSwitch output as its test suite prints it', () => {
  it('lacp/show, negotiated (tests/lacp.at)', () => {
    const [l] = parseLacpShow(OVS_TEXT('lacp-show-negotiated.txt'));
    expect(l).toMatchObject({ name: 'bond0', status: 'active negotiated', lacpTime: 'fast' });
    expect(l!.members.map((m) => [m.name, m.status, formatMac(m.partnerSysId), m.partnerKey])).toEqual([
      ['p0', 'current attached', 'aa:66:aa:66:00:00', 4],
      ['p1', 'current attached', 'aa:66:aa:66:00:00', 4],
    ]);
  });

  it('lacp/show with a partner of zeros (tests/lacp.at "lacp - config")', () => {
    const [l] = parseLacpShow(OVS_TEXT('lacp-show-config.txt'));
    expect(l!.members[0]).toMatchObject({ name: 'p1', status: 'expired attached', partnerSysId: 0, partnerKey: 0, partnerState: 'timeout' });
  });

  it('bond/show in the "member" wording and in 2.5’s "slave" wording', () => {
    const [now] = parseBondShow(OVS_TEXT('bond-show-multi-port-config.txt'));
    expect(now).toMatchObject({ name: 'bond', mode: 'active-backup', lacpStatus: 'negotiated', lacpFallbackAb: false, activeMember: null });
    expect(now!.members).toEqual([
      { name: 'p1', enabled: false, active: false, mayEnable: false },
      { name: 'p2', enabled: false, active: false, mayEnable: false },
    ]);
    const [old] = parseBondShow(OVS_TEXT('bond-show-2.5-negotiated.txt'));
    expect(old).toMatchObject({ name: 'bond0', mode: 'balance-tcp', lacpStatus: 'negotiated' });
    expect(old!.members.map((m) => [m.name, m.enabled, m.mayEnable])).toEqual([
      ['p0', true, true],
      ['p1', true, true],
    ]);
  });

  it('fdb/show (tests/ofproto-dpif.at): OpenFlow port numbers, not names', () => {
    expect(parseFdbShow(OVS_TEXT('fdb-show.txt')).map((r) => [r.port, r.vlan, formatMac(r.mac)])).toEqual([
      ['3', 0, '50:54:00:00:00:05'],
      ['1', 0, '50:54:00:00:00:06'],
      ['2', 0, '50:54:00:00:00:07'],
    ]);
  });

  it('ovs-vsctl --format=json cells: uuid, set (and a set of one as the atom), map', () => {
    const rows = parseOvsTable('{"data":[[["uuid","u1"],"bond0",["set",[["uuid","a"],["uuid","b"]]],["map",[["all-members-active","true"]]],["set",[]]],[["uuid","u2"],"vif1.0",["uuid","c"],["map",[]],3]],"headings":["_uuid","name","interfaces","other_config","tag"]}', 'Port.json');
    expect(rows).toEqual([
      { _uuid: 'u1', name: 'bond0', interfaces: ['a', 'b'], other_config: { 'all-members-active': 'true' }, tag: [] },
      { _uuid: 'u2', name: 'vif1.0', interfaces: 'c', other_config: {}, tag: 3 },
    ]);
    expect(() => parseOvsTable('[1,2]', 'Port.json')).toThrow(/Port.json: no "headings" and "data"/);
  });
});

describe('Open vSwitch hosts', () => {
  const ovsCheck = (host: string) => {
    const info = discoverHost(join(FIX, host), { ovsDir: join(FIX, host, 'ovs') });
    return { info, c: checkTopology(info.topology, info.lacpStates, info.kernelRelease) };
  };

  it('XCP-ng with OVS 2.5: the bond is a Port of two Interfaces, its members slaves, vifs and the HVM tap guests', () => {
    const { info, c } = ovsCheck('xcpng-ovs-active-backup');
    expect(info.warnings).toEqual([]);
    expect(roles('xcpng-ovs-active-backup', { ovsDir: join(FIX, 'xcpng-ovs-active-backup/ovs') })).toMatchObject({ xenbr0: 'bridge', bond0: 'bond', eth0: 'slave', eth1: 'slave', 'vif1.0': 'guest', 'vif2.0': 'guest', 'tap3.0': 'guest' });
    expect(info.topology.bonds[0]).toMatchObject({ name: 'bond0', kind: 'ovs', mode: 'active-backup', activeSlave: 'eth0', ovs: { lacp: 'off', lacpStatus: 'off', bridge: 'xenbr0' } });
    expect(c.findings).toEqual([]);
    expect(c.fine.join('\n')).toContain('bond0 under xenbr0 (Open vSwitch active-backup): frames arriving on backup members are dropped; eth0 is active');
  });

  it('balance-slb: fine, with the EtherChannel caveat and its source', () => {
    const { c } = ovsCheck('ovs-balance-slb');
    expect(c.findings).toEqual([]);
    expect(c.fine.join('\n')).toMatch(/balance-slb\): broadcasts and multicasts are accepted only on the active member \(eth0\).*must NOT form an EtherChannel \[Open vSwitch Documentation\/topics\/bonding.rst/);
  });

  it('balance-slb with all-members-active=true loops; its fdb/show has the guest on the bond', () => {
    const { c } = ovsCheck('ovs-all-members-active');
    expect(c.findings.map((f) => `${f.kind} ${f.details.setting}`)).toEqual(['loop-prone-bond other_config:all-members-active=true']);
    expect(String(c.findings[0]!.details.source)).toContain('1b53826d6c74');
    const r = check(['--root', join(FIX, 'ovs-all-members-active'), '--ovs', join(FIX, 'ovs-all-members-active/ovs'), '--json']);
    const j = JSON.parse(r.out);
    expect(j.findings.map((f: { kind: string; mac: string | null }) => `${f.kind} ${f.mac}`).sort()).toEqual(['loop-prone-bond null', 'wrong-port-learning 00:16:3e:00:00:01']);
    // The fdb rows named by Port: eth1's OpenFlow port 2 is bond0; LOCAL is the bridge (the host's own).
    const rec = readOvsDir(join(FIX, 'ovs-all-members-active/ovs'), [])!;
    expect(ovsFdbEntries(rec, 'xenbr0').map((e) => `${formatMac(e.mac)} ${e.port}${e.isLocal ? ' local' : ''}`)).toEqual([
      '00:16:3e:00:00:01 bond0',
      '00:16:3e:00:00:02 vif2.0',
      '00:19:06:ea:b8:c1 bond0',
      '00:25:90:cc:00:01 xenbr0 local',
    ]);
    expect(ovsLayout(rec).interfaces.get('vif1.0')!.attachedMac).toBe(0x00163e000001);
  });

  it('balance-slb without all-members-active: the same fdb check finds the guests at home', () => {
    const r = check(['--root', join(FIX, 'ovs-balance-slb'), '--ovs', join(FIX, 'ovs-balance-slb/ovs'), '--json', '--fail-on', 'error']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).fine).toContain('xenbr0: 2 guest MACs checked in its learning table (Open vSwitch ovs-appctl fdb/show (' + join(FIX, 'ovs-balance-slb/ovs') + '); guests from Interface external_ids:attached-mac)');
  });

  it('balance-tcp whose LACP never negotiated drops everything: lacp-no-partner, exit 3', () => {
    const { c } = ovsCheck('ovs-balance-tcp-nolacp');
    expect(c.findings.map((f) => `${f.severity} ${f.kind}`)).toEqual(['error lacp-no-partner']);
    expect(check(['--root', join(FIX, 'ovs-balance-tcp-nolacp'), '--ovs', join(FIX, 'ovs-balance-tcp-nolacp/ovs'), '--fail-on', 'error']).code).toBe(3);
  });

  it('a missing --ovs directory is a note, not a crash', () => {
    const r = check(['--root', join(FIX, 'ovs-balance-slb'), '--ovs', join(FIX, 'no-such-dir')]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/note: .*no-such-dir: not found/);
  });
});

describe('the kernel bonding rules, each with its source', () => {
  const bond = (over: Partial<Bond>): Bond => ({ name: 'bond0', mode: 'active-backup', slaves: [{ name: 'eth0', permanentMac: -1, linkUp: true, aggregatorId: -1, partnerMac: -1, partnerKey: -1 }], activeSlave: 'eth0', allSlavesActive: false, driverVersion: null, ...over });
  const judge = (b: Bond, release: string | null = null) => {
    const t = emptyTopology();
    t.bonds.push(b);
    t.ports.set('bond0', { name: 'bond0', role: 'bond', bond: null, bridge: 'br0', roleSource: 'discovered', reason: '' });
    t.bridges.push({ name: 'br0', ports: [{ name: 'bond0', state: 'forwarding' }], bridgeId: null, rootId: null, stpEnabled: false });
    return checkTopology(t, undefined, release);
  };

  it('what the version line of /proc/net/bonding is', () => {
    expect(bondingVersionKind('3.0.1')).toBe('driver');
    expect(bondingVersionKind('3.5.0')).toBe('driver');
    expect(bondingVersionKind('3.7.1')).toBe('frozen');
    expect(bondingVersionKind('5.10.0-28-amd64')).toBe('kernel');
    expect(bondingVersionKind('6.8.12-4-pve')).toBe('kernel');
  });

  it('3.7.1 is not read as a date: a 2019 kernel with driver 3.7.1 is judged by its release', () => {
    const c = judge(bond({ driverVersion: '3.7.1' }), '4.19.0-6-amd64');
    expect(c.findings).toEqual([]);
    expect(c.fine[0]).toMatch(/driver 3.7.1 says only "Linux 3.0 to 5.6"; judged by kernel 4.19.0-6-amd64/);
  });

  it('a kernel before bonding 3.0.2 with no driver version: loop-prone, medium', () => {
    const f = judge(bond({ allSlavesActive: null }), '2.6.16.60').findings[0]!;
    expect(f).toMatchObject({ kind: 'loop-prone-bond', confidence: 'medium' });
    expect(f.details.source).toBe(RULE_SOURCES.duplicateSuppression);
  });

  it('all_slaves_active=1 and a pre-3.0.2 driver name their sources', () => {
    expect(judge(bond({ allSlavesActive: true }), '6.1.0').findings[0]!.details.source).toBe(RULE_SOURCES.allSlavesActive);
    expect(judge(bond({ allSlavesActive: null, driverVersion: '3.0.1' })).findings[0]!.details).toMatchObject({ source: RULE_SOURCES.duplicateSuppression, basis: 'configuration', setting: 'driver 3.0.1' });
  });

  it('tlb/alb: a warning from Red Hat’s document; a kernel before the 2014 bond_open() change says so', () => {
    const now = judge(bond({ mode: 'balance-alb' }), '6.1.0-18-amd64').findings[0]!;
    expect(now).toMatchObject({ severity: 'warning', confidence: 'medium' });
    expect(now.details.kernelNote).toBeUndefined();
    const old = judge(bond({ mode: 'balance-tlb' }), '3.10.0-1160.el7.x86_64').findings[0]!;
    expect(old).toMatchObject({ severity: 'warning', confidence: 'high' });
    expect(old.details.kernelNote).toMatch(/predates the 2014 bond_open\(\) change/);
    expect(String(old.details.source)).toContain(RULE_SOURCES.tlbAlbInactive);
  });

  it('every loop-prone-bond rule names a source; link-local delivery is said with its commits', () => {
    for (const mode of ['balance-rr', 'balance-xor', 'broadcast', 'balance-tlb', 'balance-alb']) {
      const f = judge(bond({ mode }), '6.1.0').findings[0]!;
      expect(f.details.source, mode).toMatch(/bonding.rst|Red Hat/);
    }
    expect(judge(bond({}), '6.1.0').fine.join('\n')).toContain('b89f04c61efe');
  });
});

describe('what the kernel never says', () => {
  it('check says it, with the bond’s name, where a loop would be awaited in the log', () => {
    const r = check(['--root', join(FIX, 'pve-firewall')]);
    // The kernel's own words with this host's names: "vmbr0: received packet on bond0 …".
    expect(r.out).toContain('Do not wait for a kernel log line to confirm a loop: "vmbr0: received packet on bond0 with own address as source address" is printed only for the host\'s own MACs, and a guest\'s MAC learned on bond0 is logged nowhere.');
  });

  it('the evidence bundle’s report.md says it too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bondscope-silence-'));
    try {
      const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'export', '-o', join(dir, 'b'), join(PROJECT_ROOT, 'captures/loop/loop.pcapng')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(dir, 'b', 'report.md'), 'utf8')).toContain('a guest\'s MAC on bond0 is silent');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('analyze says it beside wrong-port-learning and own-address', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'analyze', join(PROJECT_ROOT, 'captures/loop/loop.pcapng')], { encoding: 'utf8' });
    // The report wraps its prose at 160 columns: read it as one paragraph.
    const text = r.stdout.replace(/\n +/g, ' ');
    expect(text).toContain(kernelSilenceNote('wrong-port-learning', { bond: 'bond0', bridge: 'xenbr0' }));
    expect(text).toContain(kernelSilenceNote('own-address', { bond: 'bond0', bridge: 'xenbr0' }));
  });
});

describe('analyze --ovs', () => {
  const analyze = (args: string[]) => spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'analyze', ...args], { encoding: 'utf8' });

  it('roles come from Open vSwitch’s database and its learning table is fed to the engine’s FDB confirmation', () => {
    // The lab's loop recording (Xen names) read with an OVS host's recorded state of the same names:
    // the plumbing, not a claim about that host.
    const r = analyze(['--json', '--ovs', join(FIX, 'ovs-all-members-active/ovs'), join(PROJECT_ROOT, 'captures/loop/loop.pcapng')]);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    const port = (n: string) => j.interfaces.find((i: { name: string }) => i.name === n);
    expect(port('eth1')).toMatchObject({ role: 'slave', roleSource: 'discovered', bond: 'bond0' });
    expect(port('eth1').reason).toMatch(/member of Open vSwitch bond bond0/);
    expect(j.kernel.fdb['00:16:3e:00:00:01']).toBe('bond0');
    expect(j.findings.find((f: { kind: string; mac: string; vlan: number }) => f.kind === 'wrong-port-learning' && f.mac === '00:16:3e:00:00:01' && f.vlan === 0).details.kernelConfirmed).toMatch(/00:16:3e:00:00:01 on bond0/);
  });

  it('a missing directory is a one-line usage error', () => {
    const r = analyze(['--ovs', join(FIX, 'no-such-dir'), join(PROJECT_ROOT, 'captures/loop/loop.pcapng')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--ovs .*no-such-dir: not found/);
  });
});

describe('Open vSwitch on the host itself (ovs-vsctl and ovs-appctl on PATH)', () => {
  // Stand-ins that print the recorded output of an OVS host, so the live path (asking the tools)
  // runs here, where there is no Open vSwitch.
  const bin = mkdtempSync(join(tmpdir(), 'bondscope-ovs-bin-'));
  const rec = join(FIX, 'ovs-all-members-active/ovs');
  writeFileSync(join(bin, 'ovs-vsctl'), `#!/bin/sh\n[ "$1" = --format=json ] && [ "$2" = list ] && exec cat "${rec}/$3.json"\nexit 1\n`, { mode: 0o755 });
  writeFileSync(join(bin, 'ovs-appctl'), `#!/bin/sh\ncase "$1" in bond/show) exec cat "${rec}/bond-show.txt";; lacp/show) exec cat "${rec}/lacp-show.txt";; fdb/show) exec cat "${rec}/fdb-show-$2.txt";; esac\nexit 1\n`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

  it('check on "/" asks them and judges the bond; the FDB poller names the bond and waits between polls', async () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'check', '--json'], { encoding: 'utf8', env });
    const j = JSON.parse(r.stdout);
    expect(j.bonds.find((b: { name: string }) => b.name === 'bond0')).toMatchObject({ implementation: 'openvswitch', mode: 'balance-slb', bridge: 'xenbr0' });
    expect(j.findings.map((f: { kind: string }) => f.kind).sort()).toEqual(['loop-prone-bond', 'wrong-port-learning']);
    const old = process.env.PATH;
    process.env.PATH = env.PATH;
    try {
      const { OvsFdbPoller } = await import('../../src/capture/host/ovs.js');
      const poller = new OvsFdbPoller(2000);
      expect(poller.poll('xenbr0', 10_000).map((e) => `${formatMac(e.mac)} ${e.port}`)).toContain('00:16:3e:00:00:01 bond0');
      expect(poller.poll('xenbr0', 11_000)).toEqual([]);
      expect(poller.poll('xenbr0', 12_001).length).toBe(4);
    } finally {
      process.env.PATH = old;
    }
  });

  afterAll(() => rmSync(bin, { recursive: true, force: true }));
});
