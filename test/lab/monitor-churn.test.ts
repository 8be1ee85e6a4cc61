/**
 * Guests and ports coming and going: on the aggregated lab, a guest port is added to the bridge
 * every 2 to 3 s and removed about 5 s later, for BONDSCOPE_MONITOR_CHURN_SECONDS (60 in `npm test`), while
 * the monitor runs under a real Prometheus. Each transient guest (its end of the port in a
 * namespace of its own, IPv6 off so it sends only what the test sends) starts talking a second
 * after its port appeared, as a booting guest would, and with unicast to the client — no
 * broadcast first, as a guest migrated in with its neighbours still cached: the filter cannot name
 * its MAC yet. Asserted, guest by guest: every frame it sent was captured on its port, no more;
 * within 3 s of a port going its series are gone from /metrics, and at the end from Prometheus's
 * current view; at no scrape are there more `interface` series than the ports that exist; the
 * monitor followed the host without one capture restart; no finding opened.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { down, up } from './lab.js';
import { addGuestPort, guestTalks, METRICS, metric, monitorLabParams, monitorLabUnavailable, removeGuestPort, sleep, startMonitor, startPrometheus } from './monitor-lab.js';
import { namespaces } from './topology.js';

const why = monitorLabUnavailable({ prometheus: true });
const SECONDS = Number(process.env.BONDSCOPE_MONITOR_CHURN_SECONDS ?? 60);
const prefix = `bsmc${process.pid % 10000}`;
const params = monitorLabParams(prefix, 65);
const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-churn-'));
const UNICAST = 5;

describe.skipIf(why !== null)(`guests coming and going${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  it(`a guest port added every 2–3 s and removed about 5 s later for ${SECONDS} s: each guest's frames captured from its first, its series gone with its port, labels bounded, no restart, no finding`, { timeout: (SECONDS + 90) * 1000 }, async () => {
    down(prefix);
    up('lacp', params);
    const ns = namespaces(params);
    const gx = `${prefix}-gx`;
    spawnSync('ip', ['netns', 'add', gx]);
    // Quiet host side: no IPv6 router solicitations or MLD reports from the host and the lasting
    // guests, which the bridge floods out of every port (their MACs are in the filter: they would
    // be counted on the transient ports too).
    for (const dev of [params.bridge, params.bond]) spawnSync('ip', ['netns', 'exec', ns.host, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
    for (const g of ns.guests) spawnSync('ip', ['netns', 'exec', g, 'sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=1']);
    const monitor = await startMonitor(ns.host, ['--listen', METRICS, '--bond', `${params.bond}=${params.slaves.join(',')}`, '--config-every', '2', '--quiet-after', '5']);
    const prometheus = await startPrometheus(ns.host, work);
    prometheus.watch();
    // The bridge knows where the client is: the guests' unicast to it is not flooded to the other ports.
    spawnSync('ip', ['netns', 'exec', ns.client, 'ping', '-c', '2', '-i', '0.2', params.hostIp]);
    const fixed = new Set(['bond0', 'eth0', 'eth1', params.bridge, ...params.guests.map((g) => g.vif), 'all']);
    const alive = new Map<string, number>();
    const goneAt = new Map<string, number>();
    const problems: string[] = [];
    let maxSeries = 0;
    let guests = 0;
    const checkSeries = (text: string): void => {
      const names = new Set([...text.matchAll(/interface="([^"]+)"/g)].map((m) => m[1]!));
      maxSeries = Math.max(maxSeries, names.size);
      for (const n of names) if (!fixed.has(n) && !alive.has(n) && Date.now() - (goneAt.get(n) ?? 0) > 3000) problems.push(`series for ${n}, gone ${((Date.now() - goneAt.get(n)!) / 1000).toFixed(1)} s ago`);
    };
    try {
      const t0 = Date.now();
      for (let k = 0; Date.now() - t0 < SECONDS * 1000; k++) {
        const slot = Date.now();
        const vif = `vif${100 + k}.0`;
        const mac = `00:16:3e:00:65:${(k & 0xff).toString(16).padStart(2, '0')}`;
        const ip = `198.51.100.${100 + (k % 100) + 20}`;
        addGuestPort(ns.host, gx, params.bridge, vif, `g${k}`, mac, params.vifMac);
        alive.set(vif, k);
        guests++;
        await sleep(slot + 1000 - Date.now());
        // The guest has booted: it talks.
        guestTalks(gx, `g${k}`, { mac, ip }, params.client.mac, UNICAST);
        // Ports about 5 s old go (two or three are alive at any time), each checked before it goes.
        const text = monitor.metrics();
        checkSeries(text);
        for (const [old, j] of alive) {
          if (k - j < 2) continue;
          const got = metric(text, 'bondscope_capture_frames_total', `interface="${old}"`);
          if (got !== UNICAST) problems.push(`${old}: ${got} frames captured of the ${UNICAST} its guest sent`);
          removeGuestPort(ns.host, old);
          alive.delete(old);
          goneAt.set(old, Date.now());
        }
        await sleep(slot + 2000 - Date.now());
      }
      for (const old of alive.keys()) {
        removeGuestPort(ns.host, old);
        goneAt.set(old, Date.now());
      }
      alive.clear();
      // The last ones' series go within a poll or two of their ports.
      await sleep(3500);
      const text = monitor.metrics();
      checkSeries(text);
      // Prometheus's current view: no series of a port that is gone (they went stale when they left the scrape).
      const stale = prometheus.query('count by (interface) (bondscope_capture_frames_total)').map((s) => s.metric.interface!).filter((i) => !fixed.has(i));
      const events = monitor.events();
      process.stderr.write(`monitor churn ${SECONDS}s: ${guests} guests came and went; at most ${maxSeries} interface label values at a scrape; ${events.filter((e) => e.event === 'capture-filter').length} filter swaps, ${metric(text, 'bondscope_capture_restarts_total')} restarts; ${problems.length} problems\n`);
      expect(problems).toEqual([]);
      expect(stale).toEqual([]);
      expect(guests).toBeGreaterThanOrEqual(Math.floor(SECONDS / 4));
      expect(maxSeries).toBeLessThanOrEqual(fixed.size + 3);
      expect(metric(text, 'bondscope_capture_restarts_total')).toBe(0);
      expect(events.filter((e) => e.event === 'capture-filter').length).toBeGreaterThan(0);
      expect(monitor.loopFindingsOpened()).toEqual([]);
      expect(prometheus.seenAlerts((Date.now() - t0) / 1000 + 5)).toEqual([]);
    } finally {
      await monitor.stop();
      await prometheus.stop();
      spawnSync('ip', ['netns', 'del', gx]);
      down(prefix);
    }
  });
});
