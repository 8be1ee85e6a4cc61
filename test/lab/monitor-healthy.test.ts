/**
 * No false alert: `bondscope monitor` on every healthy setup of the lab, watched by a real
 * Prometheus evaluating the shipped rules unchanged (scrape and evaluation every second), while
 * the setup's own traffic runs — aggregated (802.3ad to one switch), a single NIC, active-backup
 * with a failover, the bond's own IPv6 link-local address, busy background traffic with a guest
 * re-sending the same ARP request, a guest migrating off the host — beside both guests sending
 * the same gratuitous ARP every 200 ms. Every alert Prometheus ever held pending or firing
 * (its ALERTS series, plus a poll of /api/v1/alerts every second) must be none, no loop finding
 * may open, and the monitor must have seen the traffic.
 *
 * `npm test` runs each setup once; BONDSCOPE_MONITOR_HEALTHY_RUNS=N runs each N times (the README
 * says how many runs the claim rests on). Every run is made and counted before the test fails; a
 * run that raised anything keeps its directory (the monitor's event lines, its evidence bundles,
 * Prometheus's data) under the system's temporary directory, named in the failure.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { down, traffic, up } from './lab.js';
import { arpSender, METRICS, type MonitorEvent, metric, monitorLabParams, monitorLabUnavailable, sleep, startMonitor, startPrometheus } from './monitor-lab.js';
import { namespaces, variant, type ScenarioName } from './topology.js';

const why = monitorLabUnavailable({ prometheus: true });
const RUNS = Number(process.env.BONDSCOPE_MONITOR_HEALTHY_RUNS ?? 1);
const prefix = `bsmh${process.pid % 10000}`;
const params = monitorLabParams(prefix, 62);
const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-healthy-'));

const SETUPS: { scenario: ScenarioName; what: string }[] = [
  { scenario: 'lacp', what: 'aggregated (802.3ad to one switch)' },
  { scenario: 'single', what: 'a single NIC' },
  { scenario: 'failover', what: 'active-backup, failing over from eth0 to eth1' },
  { scenario: 'bond-ll', what: "the bond's own IPv6 link-local address beside the bridge's" },
  { scenario: 'background', what: 'background pings and multicast, a guest re-sending one ARP request' },
  { scenario: 'migrate', what: 'a guest migrating off the host' },
];

describe.skipIf(why !== null)(`no false alert on a healthy host${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  for (const { scenario, what } of SETUPS) {
    it(`${scenario} (${what}), ${RUNS} run${RUNS === 1 ? '' : 's'}: no alert ever pending or firing, no loop finding, the traffic seen`, { timeout: RUNS * 120_000 }, async () => {
      const failed: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        down(prefix);
        const lab = up(scenario, params);
        const ns = namespaces(params);
        const dir = mkdtempSync(join(work, `${scenario}-`));
        const single = variant(scenario).mode === 'single';
        const t0 = Date.now();
        const monitor = await startMonitor(ns.host, ['--listen', METRICS, '--bond', `${params.bond}=${single ? params.slaves[0] : params.slaves.join(',')}`, '--quiet-after', '10', '--evidence-dir', join(dir, 'evidence'), '--evidence-after', '1']);
        const prometheus = await startPrometheus(ns.host, dir);
        prometheus.watch();
        const senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 200));
        let alerts: string[] = [];
        let opened: MonitorEvent[] = [];
        let looped = NaN;
        try {
          await sleep(1000);
          await traffic(lab);
          await sleep(4000);
          const seconds = (Date.now() - t0) / 1000 + 5;
          alerts = prometheus.seenAlerts(seconds);
          opened = monitor.loopFindingsOpened();
          const metrics = monitor.metrics();
          const up = prometheus.query(`min_over_time(up[${Math.ceil(seconds)}s])`)[0]?.value[1];
          const scrape = prometheus.query(`max_over_time(scrape_duration_seconds[${Math.ceil(seconds)}s])`)[0]?.value[1];
          process.stderr.write(`monitor healthy ${scenario} run ${run + 1}/${RUNS}: alerts [${alerts.join(', ')}], loop findings opened ${opened.length}, up min ${up}, slowest scrape ${Number(scrape).toFixed(3)} s, load ${loadavg()[0]!.toFixed(1)}\n`);
          expect(prometheus.rulesEvaluated()).toBe(true);
          expect(up).toBe('1');
          // It was watching: each guest's broadcasts captured on its port.
          for (const g of params.guests) expect(metric(metrics, 'bondscope_capture_frames_total', `interface="${g.vif}"`), g.vif).toBeGreaterThan(20);
          // The loop's counters are there (at 0 unless this run fails).
          looped = metric(metrics, 'bondscope_looped_frames_total');
          expect(looped).not.toBeNaN();
        } finally {
          for (const s of senders) s.proc.kill();
          await monitor.stop();
          await prometheus.stop();
          down(prefix);
        }
        if (alerts.length || opened.length || looped !== 0) {
          const kept = mkdtempSync(join(tmpdir(), `bondscope-monitor-healthy-failed-${scenario}-`));
          writeFileSync(join(dir, 'monitor.jsonl'), monitor.out);
          cpSync(dir, kept, { recursive: true });
          failed.push(`run ${run + 1}: alerts [${alerts.join(', ')}], ${looped} looped frames; kept in ${kept}\n${opened.map((e) => JSON.stringify(e)).join('\n')}`);
        }
      }
      expect(failed, `${failed.length} of ${RUNS} runs raised an alert or a loop finding`).toEqual([]);
    });
  }
});
