/**
 * The lab against the real kernel bridge: each scenario is built in private namespaces, driven,
 * and its ground truth asserted (where the kernel learned the guest, its own-address warnings,
 * ping loss); everything is torn down even when an assertion fails. Needs root and namespaces.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { down, labNamespaces, labUnavailable, traffic, up } from './lab.js';
import { scenarioParams, type ScenarioName } from './topology.js';

const why = labUnavailable();
// A prefix of its own: never collides with a lab a person has up, or another test file's.
const prefix = `bslt${process.pid % 10000}`;

async function run(s: ScenarioName) {
  down(prefix);
  // `ip netns del` returns before the kernel has destroyed the namespace's devices: let the last
  // scenario's bridge go quiet, the kernel log is shared by every namespace.
  await new Promise((r) => setTimeout(r, 1500));
  const lab = up(s, scenarioParams(s, prefix));
  try {
    return await traffic(lab);
  } finally {
    down(prefix);
  }
}

describe.skipIf(why !== null)(`lab scenarios on the kernel bridge${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
  });

  it('loop: the kernel learns the guests on bond0, warns of its own address, and the client loses the guest', async () => {
    const t = await run('loop');
    expect(t.guestPortsAfterBroadcast).toEqual({ '00:16:3e:00:00:01': 'bond0', '00:16:3e:00:00:02': 'bond0' });
    expect(t.ownAddressWarnings.length).toBeGreaterThan(0);
    expect(t.ownAddressWarnings[0]).toMatch(/xenbr0: received packet on bond0 with own address as source address \(addr:00:25:90:00:00:01, vlan:0\)/);
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(100);
    expect(t.pingLoss.clientToHost).toBe(0);
  });

  for (const s of ['lacp', 'single'] as const) {
    it(`${s}: the kernel keeps every guest on its vif, no warning, no loss`, async () => {
      const t = await run(s);
      expect(t.guestPortsAfterBroadcast).toEqual({ '00:16:3e:00:00:01': 'vif1.0', '00:16:3e:00:00:02': 'vif2.0' });
      expect(t.ownAddressWarnings).toEqual([]);
      expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
    });
  }

  it('stp: one NIC blocks, guests stay on their vifs, no loss', async () => {
    const t = await run('stp');
    expect(t.stpPortStates).toMatchObject({ eth0: 'forwarding', eth1: 'blocking' });
    // The switch (priority 4096) is root, not the host.
    expect(t.stpBridge!.bridgeId).not.toBe(t.stpBridge!.rootId);
    expect(t.guestPortsAfterBroadcast).toEqual({ '00:16:3e:00:00:01': 'vif1.0', '00:16:3e:00:00:02': 'vif2.0' });
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
  });

  it('migrate: the guest that left is then learned on bond0 (a move), the one that stayed on its vif', async () => {
    const t = await run('migrate');
    expect(t.guestPortsAfterBroadcast).toEqual({ '00:16:3e:00:00:01': 'bond0', '00:16:3e:00:00:02': 'vif2.0' });
    expect(t.ownAddressWarnings).toEqual([]);
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
  });

  it('stp-root: the host bridge (priority 4096) is root, both NICs forward, each guest reboot is a topology change', { timeout: 120_000 }, async () => {
    const t = await run('stp-root');
    expect(t.stpBridge!.bridgeId).toBe(t.stpBridge!.rootId);
    expect(t.stpBridge!.bridgeId).toBe('1000.002590000001');
    expect(t.stpPortStates).toMatchObject({ eth0: 'forwarding', eth1: 'forwarding' });
    expect(t.topologyChanges).toBe(2);
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
  });

  it('stp-tcn: the switch stays root, eth1 blocks, each guest reboot is a topology change the host signals', { timeout: 150_000 }, async () => {
    const t = await run('stp-tcn');
    expect(t.stpBridge!.bridgeId).not.toBe(t.stpBridge!.rootId);
    expect(t.stpPortStates).toMatchObject({ eth0: 'forwarding', eth1: 'blocking' });
    expect(t.topologyChanges).toBe(2);
  });

  for (const s of ['lacp-pdu', 'lacp-split', 'lacp-nopartner'] as const) {
    it(`${s}: LACPDUs written on both links, guests stay on their vifs`, async () => {
      const t = await run(s);
      expect(Object.keys(t.lacpdus!)).toEqual(['eth0', 'eth1']);
      const partners = new Set(Object.values(t.lacpdus!).map((l) => l.switch?.system ?? 'none'));
      expect(partners.size).toBe(s === 'lacp-split' ? 2 : 1);
      expect(t.guestPortsAfterBroadcast).toEqual({ '00:16:3e:00:00:01': 'vif1.0', '00:16:3e:00:00:02': 'vif2.0' });
      expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
    });
  }

  it('leaves no namespace behind', () => {
    expect(labNamespaces(prefix)).toEqual([]);
  });
});
