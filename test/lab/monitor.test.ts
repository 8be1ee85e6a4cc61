/**
 * `bondscope monitor` watched by a real Prometheus (Debian's server, a temporary config and data
 * directory, the shipped rules as they are) in the lab: on the looping host the loop alert fires
 * within its `for:` and resolves once the switch is aggregated in place (the finding closes after
 * --quiet-after), and nothing is pending or firing afterwards (the healthy setups on their own:
 * monitor-healthy.test.ts). The kernel's own view is asserted beside Prometheus's: its FDB had the
 * guest on bond0 in the loop. Both run in the lab host's network namespace (the monitor listens on
 * its loopback); the test asks Prometheus's HTTP API from inside it. Needs root, the lab, live
 * capture, and prometheus.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregate } from './aggregate.js';
import { down, up, type Lab } from './lab.js';
import { arpSender, dashboardQueries, exited, has, METRICS, metric, monitorLabParams, monitorLabUnavailable, RULES, sleep, startMonitor, startPrometheus, type MonitorEvent, type RunningMonitor, type RunningPrometheus } from './monitor-lab.js';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { namespaces, type ScenarioName } from './topology.js';

const why = monitorLabUnavailable({ prometheus: true });
const prefix = `bsm${process.pid % 10000}`;
const params = monitorLabParams(prefix, 61);
const QUIET_S = 10;
const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-'));

/** The loop alert's `for:` as the shipped rules have it, in seconds. */
function loopAlertFor(): number {
  const m = /alert: BondscopeBondLoop[\s\S]*?for: (\d+)([smh])/.exec(readFileSync(RULES, 'utf8'))!;
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

interface Running {
  lab: Lab;
  monitor: RunningMonitor;
  prometheus: RunningPrometheus;
  senders: ReturnType<typeof arpSender>[];
  ping: ChildProcess;
}

async function start(scenario: ScenarioName): Promise<Running> {
  down(prefix);
  const lab = up(scenario, params);
  const ns = namespaces(params);
  const dir = mkdtempSync(join(work, `${scenario}-`));
  const monitor = await startMonitor(ns.host, ['--listen', METRICS, '--quiet-after', String(QUIET_S), '--evidence-dir', join(dir, 'evidence'), '--evidence-after', '2', '--bond', `${params.bond}=${params.slaves.join(',')}`]);
  const prometheus = await startPrometheus(ns.host, dir);
  const senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 200));
  // The host's own broadcasts (echoed: own-address frames and kernel lines), the client talking to a guest (blackholed while it is learned on the bond).
  spawnSync('ip', ['netns', 'exec', ns.host, 'arping', '-q', '-c', '2', '-w', '1000000', '-i', params.bridge, '198.51.100.250']);
  const ping = spawn('ip', ['netns', 'exec', ns.client, 'ping', '-q', '-i', '0.05', params.guests[0]!.ip], { stdio: 'ignore' });
  return { lab, monitor, prometheus, senders, ping };
}

async function stop(r: Running): Promise<void> {
  for (const s of r.senders) s.proc.kill();
  r.ping.kill();
  await Promise.all([r.monitor.stop(), r.prometheus.stop()]);
  down(prefix);
}

describe.skipIf(why !== null)(`monitor scraped by a real Prometheus in the lab${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  it('loop: the loop alert fires within its for: time, with the kernel agreeing; aggregated in place, it resolves and nothing else fires', { timeout: 240_000 }, async () => {
    const r = await start('loop');
    const ns = namespaces(params);
    try {
      const forS = loopAlertFor();
      const t0 = Date.now();
      let firingAt = -1;
      let state = '';
      while (Date.now() - t0 < (forS + 30) * 1000) {
        const loop = r.prometheus.alerts().find((a) => a.labels.alertname === 'BondscopeBondLoop');
        state = loop?.state ?? '';
        if (state === 'firing') {
          firingAt = (Date.now() - t0) / 1000;
          break;
        }
        await sleep(1000);
      }
      expect(state, 'BondscopeBondLoop firing').toBe('firing');
      // Pending from the first looped broadcast (within 2 s), firing once `for:` has passed.
      expect(firingAt).toBeGreaterThanOrEqual(forS - 2);
      expect(firingAt).toBeLessThanOrEqual(forS + 15);
      process.stderr.write(`monitor lab: BondscopeBondLoop firing ${firingAt.toFixed(1)} s after the monitor and Prometheus were up (for: ${forS} s)\n`);

      // The kernel's truth while it loops: a guest on bond0 in the FDB, and the metric saying so.
      const fdb = JSON.parse(spawnSync('bridge', ['-n', ns.host, '-j', 'fdb', 'show', 'br', params.bridge], { encoding: 'utf8' }).stdout) as { mac: string; ifname: string }[];
      const onBond = fdb.filter((e) => params.guests.some((g) => g.mac === e.mac) && e.ifname === params.bond);
      const metrics = r.monitor.metrics();
      expect(metric(metrics, 'bondscope_looped_frames_total', `bridge="${params.bridge}",bond="bond0",slave="eth1"`)).toBeGreaterThan(100);
      if (onBond.length) expect(metric(metrics, 'bondscope_wrong_port_macs', `bridge="${params.bridge}",bond="bond0"`)).toBeGreaterThanOrEqual(1);
      // One looped-broadcast finding per guest (and the host's own MAC when it broadcast lately).
      expect(metric(metrics, 'bondscope_findings_active', 'kind="looped-broadcast"')).toBeGreaterThanOrEqual(2);

      // The fleet dashboard (deploy/grafana): every panel's query parses and has series from this monitor.
      const empty: string[] = [];
      for (const q of dashboardQueries()) if (r.prometheus.query(q.expr).length === 0) empty.push(`${q.panel}: ${q.expr}`);
      expect(empty, 'dashboard queries without series').toEqual([]);

      // The events: opened lines naming the bundle, and the bundle written from the ring.
      const events = r.monitor.events();
      const opened = events.filter((e) => e.event === 'opened' && e.kind === 'looped-broadcast');
      expect(opened.map((e) => e.mac)).toEqual(expect.arrayContaining(params.guests.map((g) => g.mac)));
      // The first finding's bundle (those opening later within --evidence-every are counted as skipped).
      const bundle = opened.find((e) => e.bundle)!.bundle!;
      expect(events.some((e) => e.event === 'evidence' && e.bundle === bundle && Number(e.frames) > 0)).toBe(true);
      expect(readdirSync(bundle), readdirSync(bundle).join(' ')).toEqual(expect.arrayContaining(['capture.pcapng', 'evidence.pcapng', 'findings.json', 'report.md']));
      const bundled = JSON.parse(readFileSync(join(bundle, 'findings.json'), 'utf8')) as { findings: { kind: string }[] };
      expect(bundled.findings.map((f) => f.kind)).toContain('looped-broadcast');

      // The switch team configures the port-channel: no more loop. The findings close after the
      // quiet period and the alert resolves; nothing fires while the host stays healthy.
      r.lab = aggregate(r.lab);
      const t1 = Date.now();
      while (r.prometheus.alerts().some((a) => a.labels.alertname === 'BondscopeBondLoop') && Date.now() - t1 < (QUIET_S + 30) * 1000) await sleep(1000);
      const resolvedAfter = (Date.now() - t1) / 1000;
      expect(r.prometheus.alerts().filter((a) => a.labels.alertname === 'BondscopeBondLoop'), `resolved after ${resolvedAfter} s`).toEqual([]);
      expect(resolvedAfter).toBeGreaterThanOrEqual(QUIET_S - 2);
      process.stderr.write(`monitor lab: resolved ${resolvedAfter.toFixed(1)} s after the switch was aggregated (--quiet-after ${QUIET_S})\n`);
      // Every finding of the loop closes within the quiet period too (the guests' wrong-port learning).
      await sleep(3000);
      expect(await r.prometheus.alertsDuring(12)).toEqual([]);
      const closed = r.monitor.events().filter((e) => e.event === 'closed' && e.kind === 'looped-broadcast');
      expect(closed.map((e) => e.mac)).toEqual(expect.arrayContaining(params.guests.map((g) => g.mac)));
    } finally {
      await stop(r);
    }
  });

  it.skipIf(!has('setpriv'))(
    "runs as an unprivileged user with only the unit's capabilities (CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYSLOG); without CAP_SYSLOG the kernel log is unreadable: said once, the loop is still found from the frames",
    { timeout: 90_000 },
    async () => {
      down(prefix);
      up('loop', params);
      const ns = namespaces(params);
      try {
        const unit = readFileSync(join(PROJECT_ROOT, 'deploy/systemd/bondscope-monitor.service'), 'utf8');
        const caps = /^AmbientCapabilities=(.*)$/m.exec(unit)![1]!.split(' ').map((c) => c.replace(/^CAP_/, '').toLowerCase());
        expect([...caps].sort()).toEqual(['net_admin', 'net_raw', 'syslog']);
        const run = async (set: string[]): Promise<{ events: MonitorEvent[]; metrics: string }> => {
          const list = set.map((c) => `+${c}`).join(',');
          const setpriv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', `--inh-caps=-all,${list}`, `--ambient-caps=-all,${list}`, `--bounding-set=-all,${list}`];
          const m = await startMonitor(ns.host, ['--listen', METRICS, '--bond', `${params.bond}=${params.slaves.join(',')}`, '--duration', '8'], process.env, setpriv);
          const sender = arpSender(ns.guests[0]!, params.guests[0]!, 100, { vary: true });
          await sleep(5000);
          const metrics = m.metrics();
          sender.proc.kill();
          await exited(m.proc);
          expect(m.proc.exitCode, m.err).toBe(0);
          return { events: m.events(), metrics };
        };
        const full = await run(caps);
        expect(metric(full.metrics, 'bondscope_capture_frames_total', 'interface="vif1.0"')).toBeGreaterThan(10);
        // /dev/kmsg read: the kernel's own-address lines of this lab's bridge counted.
        expect(full.events.filter((e) => e.event === 'message' && e.message!.startsWith('kernel log:'))).toEqual([]);
        expect(metric(full.metrics, 'bondscope_kernel_own_address_lines_total', `bridge="${params.bridge}"`)).toBeGreaterThan(0);
        const noSyslog = await run(caps.filter((c) => c !== 'syslog'));
        const said = noSyslog.events.filter((e) => e.event === 'message' && e.message!.startsWith('kernel log:'));
        expect(said.map((e) => e.message)).toEqual(["kernel log: /dev/kmsg not readable (EPERM); own-address warnings come from the frames only"]);
        // The rest works: the loop's frames counted, its findings opened, no kernel line counted.
        expect(metric(noSyslog.metrics, 'bondscope_looped_frames_total', `bridge="${params.bridge}",bond="bond0",slave="eth1"`)).toBeGreaterThan(10);
        expect(noSyslog.events.filter((e) => e.event === 'opened' && e.kind === 'looped-broadcast').map((e) => e.mac)).toContain(params.guests[0]!.mac);
        expect(metric(noSyslog.metrics, 'bondscope_kernel_own_address_lines_total')).toBe(0);
      } finally {
        down(prefix);
      }
    },
  );
});
