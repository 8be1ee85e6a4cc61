/**
 * The switch-latency relay (relay.py) on the real kernel: loop-latency and lacp-latency are
 * rebuilt with the relay holding every frame 0.15-1 ms per hop, and the kernel's truth checked —
 * through the relay the loop still makes the bridge log its own address and learn the guests on
 * bond0, the aggregated twin keeps them on their vifs, and the delay is really there (round trips
 * through the switch take at least two hops' minimum). Needs root and namespaces.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { down, labNamespaces, labUnavailable, traffic, up } from './lab.js';
import { defaultParams, namespaces, SWITCH_DELAY_MS, type ScenarioName } from './topology.js';

const why = labUnavailable();
const prefix = `bsqt${process.pid % 1000}`;
/**
 * A bridge name and host MAC of its own: the kernel log is shared by every namespace, and the other
 * lab test files run at the same time and count their own bridge's warnings.
 */
const params = { ...defaultParams(prefix), bridge: 'xenbr13', hostMac: '00:25:90:00:13:01' };

async function run(s: ScenarioName) {
  down(prefix);
  await new Promise((r) => setTimeout(r, 1500));
  const lab = up(s, params);
  try {
    const ns = namespaces(lab.params);
    const ping = spawnSync('ip', ['netns', 'exec', ns.client, 'ping', '-c', '5', '-i', '0.2', '-W', '1', lab.params.hostIp], { encoding: 'utf8' }).stdout;
    const rttMin = Number(/= ([\d.]+)\//.exec(ping)?.[1] ?? NaN);
    return { truth: await traffic(lab), rttMin };
  } finally {
    down(prefix);
  }
}

interface RelayStats {
  configuredMs: [number, number];
  frames: number;
  relayed: Record<string, number>;
  appliedMs: { min: number; median: number; max: number };
}

describe.skipIf(why !== null)(`switch latency relay on the kernel bridge${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
  });

  it('loop-latency: through the delaying switch the kernel still warns of its own address and learns the guests on bond0', { timeout: 90_000 }, async () => {
    const { truth: t, rttMin } = await run('loop-latency');
    expect(t.ownAddressWarnings.length).toBeGreaterThan(0);
    expect(t.ownAddressWarnings[0]).toContain(`xenbr13: received packet on bond0 with own address as source address (addr:${params.hostMac}, vlan:0)`);
    expect(t.guestPortsAfterBroadcast).toEqual({ '00:16:3e:00:00:01': 'bond0', '00:16:3e:00:00:02': 'bond0' });
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(100);
    const relay = t.switchDelay as RelayStats;
    expect(relay.configuredMs).toEqual(SWITCH_DELAY_MS);
    // The host sends out of eth0 only (the active slave), the switch floods back into both: the
    // relay carried eth0's frames in, and the switch's out to eth0 and to eth1 (the loop's way back).
    expect(Object.keys(relay.relayed).sort()).toEqual(['sw-p0->sw-r0', 'sw-r0->sw-p0', 'sw-r1->sw-p1']);
    // Every delay applied is within the range.
    expect(relay.appliedMs.min).toBeGreaterThanOrEqual(SWITCH_DELAY_MS[0]);
    expect(relay.appliedMs.max).toBeLessThanOrEqual(SWITCH_DELAY_MS[1]);
    // A ping from the client to the host crosses the relay twice (in and back).
    expect(rttMin).toBeGreaterThanOrEqual(2 * SWITCH_DELAY_MS[0]);
  });

  it('lacp-latency: the aggregated twin keeps the guests on their vifs, no warning, no loss', { timeout: 90_000 }, async () => {
    const { truth: t, rttMin } = await run('lacp-latency');
    expect(t.ownAddressWarnings).toEqual([]);
    expect(t.guestPortsAfterBroadcast).toEqual({ '00:16:3e:00:00:01': 'vif1.0', '00:16:3e:00:00:02': 'vif2.0' });
    expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
    expect((t.switchDelay as RelayStats).frames).toBeGreaterThan(0);
    expect(rttMin).toBeGreaterThanOrEqual(2 * SWITCH_DELAY_MS[0]);
  });

  it('leaves no namespace and no relay behind', () => {
    expect(labNamespaces(prefix)).toEqual([]);
    expect(spawnSync('pgrep', ['-f', `bondscope-lab-${prefix}-relay`]).status).not.toBe(0);
  });
});
