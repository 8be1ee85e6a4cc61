/**
 * The Proxmox VE and libvirt scenarios against the real kernel bridge: built in private
 * namespaces, driven, and the kernel's own truth asserted (where vmbr0/virbr0 and Proxmox's
 * firewall bridge learned the guests, own-address warnings, ping loss). Needs root and namespaces.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { down, labNamespaces, labUnavailable, traffic, up } from './lab.js';
import { scenarioParams, type ScenarioName } from './topology.js';

const why = labUnavailable();
const prefix = `bsh${process.pid % 10000}`;

async function run(s: ScenarioName) {
  down(prefix);
  // The kernel log is shared: let the last scenario's bridge go quiet before this one's warnings count.
  await new Promise((r) => setTimeout(r, 1500));
  const lab = up(s, scenarioParams(s, prefix));
  try {
    return await traffic(lab);
  } finally {
    down(prefix);
  }
}

describe.skipIf(why !== null)(`Proxmox and libvirt lab scenarios on the kernel bridge${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
  });

  it('pve-loop: vmbr0 learns both guests on bond0, fwbr100i0 learns its guest on fwln100i0 (the echo came back down), the client loses guest 1', async () => {
    const t = await run('pve-loop');
    expect(t.guestPortsAfterBroadcast).toEqual({ 'bc:24:11:00:01:00': 'bond0', 'bc:24:11:00:01:01': 'bond0' });
    expect(t.firewallBridges!.fwbr100i0!.guestPortsAfterBroadcast['bc:24:11:00:01:00']).toBe('fwln100i0');
    expect(t.ownAddressWarnings.length).toBeGreaterThan(0);
    expect(t.ownAddressWarnings[0]).toMatch(/vmbr0: received packet on bond0 with own address as source address/);
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(100);
  });

  it('pve-noloop: guest 1 stays on fwpr100p0 (its firewall port), guest 2 on tap101i0; no warning, no loss', async () => {
    const t = await run('pve-noloop');
    expect(t.guestPortsAfterBroadcast).toEqual({ 'bc:24:11:00:01:00': 'fwpr100p0', 'bc:24:11:00:01:01': 'tap101i0' });
    expect(t.firewallBridges!.fwbr100i0!.guestPortsAfterBroadcast['bc:24:11:00:01:00']).toBe('tap100i0');
    expect(t.ownAddressWarnings).toEqual([]);
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
  });

  it('libvirt-loop: virbr0 learns both guests on bond0; libvirt-noloop keeps them on vnet0/vnet1', async () => {
    const loop = await run('libvirt-loop');
    expect(loop.guestPortsAfterBroadcast).toEqual({ '52:54:00:6b:00:01': 'bond0', '52:54:00:6b:00:02': 'bond0' });
    expect(loop.pingLoss.clientToGuestAfterBroadcast).toBe(100);
    const fixed = await run('libvirt-noloop');
    expect(fixed.guestPortsAfterBroadcast).toEqual({ '52:54:00:6b:00:01': 'vnet0', '52:54:00:6b:00:02': 'vnet1' });
    expect(fixed.ownAddressWarnings).toEqual([]);
    expect(fixed.pingLoss.clientToGuestAfterBroadcast).toBe(0);
  }, 60_000);

  it('leaves no namespace behind', () => {
    expect(labNamespaces(prefix)).toEqual([]);
  });
});
