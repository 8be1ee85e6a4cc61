/**
 * The issue-13 scenarios on the real kernel: each is rebuilt in private namespaces, driven, and
 * the kernel's truth asserted — the bond's own IPv6 frames on a host that does not loop make no
 * own-address warning (the emulated backup slave drops what it receives, as bonding does), a loop
 * that starts mid-run moves the guests to bond0 only after it starts, a failover keeps them on
 * their vifs. Needs root and namespaces.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { down, labNamespaces, labUnavailable, traffic, up } from './lab.js';
import { defaultParams, type ScenarioName } from './topology.js';

const why = labUnavailable();
const prefix = `bsqv${process.pid % 1000}`;
/** A bridge name and host MAC of its own (the kernel log is shared with the other lab test files, which run at the same time). */
const params = { ...defaultParams(prefix), bridge: 'xenbr14', hostMac: '00:25:90:00:14:01' };
/** The link-local address the host's MAC gives (EUI-64). */
const HOST_LL = 'fe80::225:90ff:fe00:1401';
const ON_VIFS = { '00:16:3e:00:00:01': 'vif1.0', '00:16:3e:00:00:02': 'vif2.0' };
const ON_BOND = { '00:16:3e:00:00:01': 'bond0', '00:16:3e:00:00:02': 'bond0' };

async function run(s: ScenarioName) {
  down(prefix);
  await new Promise((r) => setTimeout(r, 1500));
  const lab = up(s, params);
  try {
    return await traffic(lab);
  } finally {
    down(prefix);
  }
}

describe.skipIf(why !== null)(`issue-13 scenarios on the kernel bridge${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
  });

  it('bond-ll: the bridge and then the bond send the same IPv6 frames; no loop, no warning, guests on their vifs', { timeout: 60_000 }, async () => {
    const t = await run('bond-ll');
    const ll = t.bondLinkLocal!;
    expect(ll.bondEnabledAt - ll.bridgeEnabledAt).toBeGreaterThan(0.03);
    expect(ll.bondEnabledAt - ll.bridgeEnabledAt).toBeLessThan(0.5);
    // Both have the same link-local address, and neither failed DAD: nothing came back.
    const lls = (ll.addresses as { ifname: string; addr_info: { local: string; dadfailed?: boolean }[] }[])
      .filter((a) => a.ifname === params.bridge || a.ifname === 'bond0')
      .map((a) => a.addr_info.filter((x) => x.local.startsWith('fe80:')).map((x) => `${a.ifname} ${x.local}${x.dadfailed ? ' dadfailed' : ''}`))
      .flat()
      .sort();
    expect(lls).toEqual([`bond0 ${HOST_LL}`, `${params.bridge} ${HOST_LL}`]);
    expect(t.loops).toBe(false);
    expect(t.ownAddressWarnings).toEqual([]);
    expect(t.guestPortsAfterBroadcast).toEqual(ON_VIFS);
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
  });

  it('loop-late: guests on their vifs until the loop starts, then on bond0; every warning after it started', { timeout: 60_000 }, async () => {
    const t = await run('loop-late');
    expect(t.loops).toBe(true);
    expect(t.guestPortsBeforeLoop).toEqual(ON_VIFS);
    expect(t.guestPortsAfterBroadcast).toEqual(ON_BOND);
    expect(t.loopStartedAt).toBeGreaterThan(t.startedAt!);
    expect(t.ownAddressWarningsAt!.length).toBeGreaterThan(0);
    // dmesg stamps converted through the boot time: allow 50 ms.
    for (const at of t.ownAddressWarningsAt!) expect(at).toBeGreaterThan(t.loopStartedAt! - 0.05);
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(100);
  });

  it('failover: the active slave changes mid-run, gratuitous ARPs follow; no loop, no warning, no loss', { timeout: 60_000 }, async () => {
    const t = await run('failover');
    expect(t.failover).toMatchObject({ from: 'eth0', to: 'eth1' });
    expect(t.failover!.at).toBeGreaterThan(t.startedAt!);
    expect(t.ownAddressWarnings).toEqual([]);
    expect(t.guestPortsAfterBroadcast).toEqual(ON_VIFS);
    expect(t.pingLoss).toMatchObject({ clientToGuestAfterBroadcast: 0, clientToHost: 0 });
  });

  it('leaves no namespace behind', () => {
    expect(labNamespaces(prefix)).toEqual([]);
  });
});
