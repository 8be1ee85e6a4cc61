/**
 * Discovery and `bondscope check` on fixture trees: copies of sys/class/net and proc/net/bonding as
 * hosts have them (test/fixtures/host/make.sh), modern and 2.6-era bonding text, active-backup,
 * balance-rr and 802.3ad.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverHost, parseProcBonding } from '../../src/capture/host/discover.js';
import { formatMac } from '../../src/model/mac.js';
import { checkTopology, versionBelow } from '../../src/engine/host-check.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const FIX = join(PROJECT_ROOT, 'test/fixtures/host');
const text = (name: string): string => readFileSync(join(FIX, 'bonding-texts', name), 'utf8');

function check(args: string[]) {
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'check', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('/proc/net/bonding', () => {
  it('reads a modern active-backup bond: mode, active slave, permanent MACs, link state', () => {
    const b = parseProcBonding(text('modern-active-backup.txt'));
    expect(b.driverVersion).toBe('5.10.0-28-amd64');
    expect(b.mode).toBe('active-backup');
    expect(b.activeSlave).toBe('eth0');
    expect(b.slaves.map((s) => [s.name, formatMac(s.permanentMac), s.linkUp])).toEqual([
      ['eth0', '00:25:90:aa:00:01', true],
      ['eth1', '00:25:90:aa:00:02', true],
    ]);
  });

  it('reads the 2.6-era text (driver 3.0.1, no speed or queue lines)', () => {
    const b = parseProcBonding(text('2.6-active-backup.txt'));
    expect(b.driverVersion).toBe('3.0.1');
    expect(b.mode).toBe('active-backup');
    expect(b.slaves.map((s) => s.name)).toEqual(['peth0', 'peth1']);
    expect(formatMac(b.slaves[1]!.permanentMac)).toBe('00:25:90:bb:00:02');
  });

  it('reads 802.3ad aggregators and the partner each slave sees (not the actor)', () => {
    const b = parseProcBonding(text('modern-802.3ad-two-partners.txt'));
    expect(b.mode).toBe('802.3ad');
    expect(b.activeAggregatorId).toBe(1);
    expect(b.slaves.map((s) => [s.name, s.aggregatorId, formatMac(s.partnerMac), s.partnerKey])).toEqual([
      ['ens1f0', 1, '00:19:06:ea:b8:80', 1001],
      ['ens1f1', 2, '00:1b:54:10:20:30', 2002],
    ]);
    // "port state" of the actor and partner details blocks, per slave.
    expect(Object.fromEntries(b.lacpStates)).toEqual({ ens1f0: { actor: 61, partner: 61 }, ens1f1: { actor: 5, partner: 61 } });
  });

  it('reads balance-rr and has no active slave', () => {
    const b = parseProcBonding(text('modern-balance-rr.txt'));
    expect(b.mode).toBe('balance-rr');
    expect(b.activeSlave).toBeNull();
  });

  it('compares driver versions as numbers', () => {
    expect(versionBelow('3.0.1', '3.0.2')).toBe(true);
    expect(versionBelow('3.0.2', '3.0.2')).toBe(false);
    expect(versionBelow('3.10.0', '3.0.2')).toBe(false);
    expect(versionBelow('2.6.3', '3.0.2')).toBe(true);
    expect(versionBelow('5.10.0-28-amd64', '3.0.2')).toBe(false);
  });
});

describe('discovery on fixture trees', () => {
  it('finds the bridge, the bond under it, slaves, guests, own MACs and ifindexes', () => {
    const info = discoverHost(join(FIX, 'xen-active-backup'));
    const t = info.topology;
    expect(info.warnings).toEqual([]);
    expect(t.bridges.map((b) => [b.name, b.ports.map((p) => `${p.name}:${p.state}`), b.stpEnabled])).toEqual([['xenbr0', ['bond0:forwarding', 'vif1.0:forwarding', 'vif2.0:forwarding'], false]]);
    expect(t.bonds[0]).toMatchObject({ name: 'bond0', mode: 'active-backup', activeSlave: 'eth0', allSlavesActive: false });
    expect(Object.fromEntries([...t.ports].map(([n, p]) => [n, `${p.role}/${p.roleSource}`]))).toEqual({
      eth0: 'slave/discovered',
      eth1: 'slave/discovered',
      bond0: 'bond/discovered',
      xenbr0: 'bridge/discovered',
      'vif1.0': 'guest/discovered',
      'vif2.0': 'guest/discovered',
    });
    expect(t.ports.get('bond0')!.bridge).toBe('xenbr0');
    expect([...t.localMacs].map(formatMac).sort()).toEqual(['00:25:90:aa:00:01', '00:25:90:aa:00:02']);
    expect(t.ifNames.get(6)).toBe('vif1.0');
  });

  it('a 2.6-era host without all_slaves_active leaves it unknown', () => {
    const t = discoverHost(join(FIX, 'xen-2.6-old-driver')).topology;
    expect(t.bonds[0]).toMatchObject({ allSlavesActive: null, driverVersion: '3.0.1', slaves: [{ name: 'peth0' }, { name: 'peth1' }] });
  });

  it('says what it could not read instead of failing', () => {
    const info = discoverHost(join(FIX, 'no-such-host'));
    expect(info.interfaces).toEqual([]);
    expect(info.warnings[0]).toMatch(/sys\/class\/net: not found/);
  });
});

describe('check', () => {
  it.each([
    ['xen-active-backup', [], 0],
    ['xen-2.6-old-driver', ['driver 3.0.1'], 3],
    ['kvm-balance-rr', ['mode'], 3],
    ['kvm-all-slaves-active', ['all_slaves_active=1'], 3],
  ] as const)('%s: loop-prone settings %j', (host, settings, code) => {
    const c = checkTopology(discoverHost(join(FIX, host)).topology);
    expect(c.findings.filter((f) => f.kind === 'loop-prone-bond').map((f) => f.details.setting)).toEqual(settings);
    const r = check(['--root', join(FIX, host), '--fail-on', 'error']);
    expect(r.err).toBe('');
    expect(r.code).toBe(code);
  });

  it('802.3ad to two switches: the partners differ, the second slave does not distribute, the slow timeout', () => {
    const info = discoverHost(join(FIX, 'kvm-lacp-two-switches'));
    const c = checkTopology(info.topology, info.lacpStates);
    expect(c.findings.map((f) => `${f.severity} ${f.kind} ${f.interfaces.join(',')}`)).toEqual([
      'error lacp-partner-mismatch ens1f0,ens1f1',
      'warning lacp-not-distributing ens1f1',
      'info lacp-slow-timeout ens1f0,ens1f1',
    ]);
    expect(c.findings[0]!.summary).toContain('ens1f0 → 00:19:06:ea:b8:80 key 1001; ens1f1 → 00:1b:54:10:20:30 key 2002');
    const r = check(['--root', join(FIX, 'kvm-lacp-two-switches'), '--fail-on', 'error']);
    expect(r.code).toBe(3);
  });

  it('both NICs in the bridge with STP: the host is root, eth1 blocks', () => {
    const info = discoverHost(join(FIX, 'xen-stp-root'));
    expect(info.topology.ports.get('eth1')).toMatchObject({ role: 'slave', bridge: 'xenbr0' });
    const c = checkTopology(info.topology, info.lacpStates);
    expect(c.findings.map((f) => `${f.severity} ${f.kind} ${f.interfaces.join(',')}`)).toEqual(['warning stp-host-is-root xenbr0', 'info stp-port-blocked eth1']);
    expect(check(['--root', join(FIX, 'xen-stp-root'), '--fail-on', 'warning']).code).toBe(3);
    expect(check(['--root', join(FIX, 'xen-stp-root'), '--fail-on', 'error']).code).toBe(0);
  });

  it('--json gives the bond, its slaves and the findings', () => {
    const r = check(['--root', join(FIX, 'kvm-all-slaves-active'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.bonds[0]).toMatchObject({ name: 'bond0', mode: 'active-backup', bridge: 'br0', allSlavesActive: true, activeSlave: 'eth0' });
    expect(j.findings.map((f: { kind: string; severity: string }) => `${f.kind}/${f.severity}`)).toEqual(['loop-prone-bond/error']);
    expect(j.bridges[0].ports).toEqual([
      { name: 'bond0', role: 'bond', state: 'forwarding' },
      { name: 'tap0', role: 'guest', state: 'forwarding' },
    ]);
  });

  it('a root without sys/class/net is a one-line usage error', () => {
    const r = check(['--root', join(FIX, 'no-such-host')]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^bondscope: check: .*no-such-host\/sys\/class\/net: not found/);
  });
});
