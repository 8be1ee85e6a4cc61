/**
 * `bondscope monitor` watched by a real Prometheus (Debian's server, a temporary config and data
 * directory, the shipped rules as they are) in the lab: on the looping host the loop alert fires
 * within its `for:` and resolves once the switch is aggregated in place (the finding closes after
 * --quiet-after); on the aggregated and single-NIC hosts no alert is ever pending or firing. The
 * kernel's own view is asserted beside Prometheus's: its FDB had the guest on bond0 in the loop.
 * Both run in the lab host's network namespace (the monitor listens on its loopback); the test
 * asks Prometheus's HTTP API from inside it. Needs root, the lab, `cap`, and prometheus.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capUnavailable, PROJECT_ROOT } from '../helpers/tools.js';
import { aggregate } from './aggregate.js';
import { down, labUnavailable, up, type Lab } from './lab.js';
import { defaultParams, namespaces, type ScenarioName } from './topology.js';

const has = (tool: string): boolean => spawnSync('/bin/sh', ['-c', `command -v ${tool}`]).status === 0;
const why = labUnavailable() ?? capUnavailable() ?? (has('prometheus') ? null : 'needs prometheus (apt-get install prometheus)') ?? (has('curl') ? null : 'needs curl');
const prefix = `bsm${process.pid % 10000}`;
const params = {
  ...defaultParams(prefix),
  bridge: 'xenbr6',
  hostMac: '00:25:90:00:06:01',
  guests: [
    { vif: 'vif1.0', mac: '00:16:3e:00:06:01', ip: '198.51.100.11' },
    { vif: 'vif2.0', mac: '00:16:3e:00:06:02', ip: '198.51.100.12' },
  ],
};
const RULES = join(PROJECT_ROOT, 'deploy/prometheus/bondscope-rules.yml');
const METRICS = '127.0.0.1:10071';
const PROM = '127.0.0.1:19090';
const QUIET_S = 10;
const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The loop alert's `for:` as the shipped rules have it, in seconds. */
function loopAlertFor(): number {
  const m = /alert: BondscopeBondLoop[\s\S]*?for: (\d+)([smh])/.exec(readFileSync(RULES, 'utf8'))!;
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

interface Running {
  lab: Lab;
  monitor: ChildProcess;
  prometheus: ChildProcess;
  out: () => string;
  senders: ChildProcess[];
}

function inHost(args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', namespaces(params).host, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** GET from inside the host namespace (Prometheus and the monitor listen on its loopback). */
function get(url: string): string {
  return spawnSync('ip', ['netns', 'exec', namespaces(params).host, 'curl', '-sf', '--max-time', '5', url], { encoding: 'utf8' }).stdout;
}

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}
function alerts(): Alert[] {
  const body = get(`http://${PROM}/api/v1/alerts`);
  return body ? (JSON.parse(body) as { data: { alerts: Alert[] } }).data.alerts : [];
}

/** A guest sending a gratuitous ARP broadcast every `ms` until killed. */
function arpSender(i: number, ms: number): ChildProcess {
  const g = params.guests[i]!;
  const mac = g.mac.split(':').map((x) => `\\x${x}`).join('');
  const py = [
    'import socket, struct, time',
    "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eth0', 0))",
    `src = b'${mac}'; ip = bytes([${g.ip.split('.').join(',')}])`,
    "arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, src, ip, b'\\x00'*6, ip)",
    'while True:',
    "    s.send(b'\\xff'*6 + src + b'\\x08\\x06' + arp + b'\\x00'*18)",
    `    time.sleep(${ms / 1000})`,
  ].join('\n');
  return spawn('ip', ['netns', 'exec', namespaces(params).guests[i]!, 'python3', '-c', py], { stdio: 'ignore' });
}

async function start(scenario: ScenarioName): Promise<Running> {
  down(prefix);
  const lab = up(scenario, params);
  const dir = mkdtempSync(join(work, `${scenario}-`));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${RULES}`,
      'scrape_configs:',
      '  - job_name: bondscope',
      '    static_configs:',
      `      - targets: ['${METRICS}']`,
      '',
    ].join('\n'),
  );
  let out = '';
  const bond = ['--bond', `${params.bond}=${scenario === 'single' ? params.slaves[0] : params.slaves.join(',')}`];
  const monitor = inHost([process.execPath, join(PROJECT_ROOT, 'bin/bondscope'), 'monitor', '--listen', METRICS, '--quiet-after', String(QUIET_S), '--evidence-dir', join(dir, 'evidence'), '--evidence-after', '2', ...bond]);
  monitor.stdout!.on('data', (d) => (out += d));
  let err = '';
  monitor.stderr!.on('data', (d) => (err += d));
  const prometheus = inHost(['prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROM}`, '--log.level=warn']);
  for (let i = 0; !err.includes('monitoring ') || !get(`http://${PROM}/-/ready`); i++) {
    if (monitor.exitCode !== null) throw new Error(`monitor exited: ${err}`);
    if (prometheus.exitCode !== null) throw new Error('prometheus exited');
    if (i > 300) throw new Error(`monitor or prometheus did not start: ${err}`);
    await sleep(100);
  }
  const senders = params.guests.map((_, i) => arpSender(i, 200));
  return { lab, monitor, prometheus, out: () => out, senders };
}

async function stop(r: Running): Promise<void> {
  for (const s of r.senders) s.kill();
  r.monitor.kill('SIGTERM');
  r.prometheus.kill('SIGTERM');
  await Promise.all([r.monitor, r.prometheus].map((p) => new Promise((res) => (p.exitCode !== null ? res(null) : p.once('exit', res)))));
  down(prefix);
}

/** Samples every alert for `seconds`, returning every (name, state) seen. */
async function watch(seconds: number): Promise<string[]> {
  const seen = new Set<string>();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (const a of alerts()) seen.add(`${a.labels.alertname} ${a.state}`);
    await sleep(1000);
  }
  return [...seen];
}

describe.skipIf(why !== null)(`monitor scraped by a real Prometheus in the lab${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  it('loop: the loop alert fires within its for: time, with the kernel agreeing; aggregated in place, it resolves and nothing else fires', { timeout: 240_000 }, async () => {
    const r = await start('loop');
    try {
      const forS = loopAlertFor();
      const t0 = Date.now();
      let firingAt = -1;
      let state = '';
      while (Date.now() - t0 < (forS + 30) * 1000) {
        const loop = alerts().find((a) => a.labels.alertname === 'BondscopeBondLoop');
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
      const fdb = JSON.parse(spawnSync('bridge', ['-n', namespaces(params).host, '-j', 'fdb', 'show', 'br', params.bridge], { encoding: 'utf8' }).stdout) as { mac: string; ifname: string }[];
      const onBond = fdb.filter((e) => params.guests.some((g) => g.mac === e.mac) && e.ifname === params.bond);
      const metrics = get(`http://${METRICS}/metrics`);
      const looped = /^bondscope_looped_frames_total\{bridge="xenbr6",bond="bond0",slave="eth1"\} (\d+)/m.exec(metrics);
      expect(Number(looped?.[1])).toBeGreaterThan(100);
      if (onBond.length) expect(metrics).toMatch(/^bondscope_wrong_port_macs\{bridge="xenbr6",bond="bond0"\} [12]$/m);
      // One looped-broadcast finding per guest (and the host's own MAC when it broadcast lately).
      expect(Number(/^bondscope_findings_active\{kind="looped-broadcast",severity="error"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);

      // The events: opened lines naming the bundle, and the bundle written from the ring.
      const events = r.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const opened = events.filter((e) => e.event === 'opened' && e.kind === 'looped-broadcast');
      expect(opened.map((e) => e.mac)).toEqual(expect.arrayContaining(params.guests.map((g) => g.mac)));
      const bundle = opened.find((e) => e.mac === params.guests[0]!.mac)!.bundle as string;
      expect(events.some((e) => e.event === 'evidence' && e.bundle === bundle && Number(e.frames) > 0)).toBe(true);
      expect(readdirSync(bundle).sort()).toEqual(expect.arrayContaining(['capture.pcapng', 'evidence.pcapng', 'findings.json', 'report.md']));
      const bundled = JSON.parse(readFileSync(join(bundle, 'findings.json'), 'utf8')) as { findings: { kind: string }[] };
      expect(bundled.findings.map((f) => f.kind)).toContain('looped-broadcast');

      // The switch team configures the port-channel: no more loop. The findings close after the
      // quiet period and the alert resolves; nothing fires while the host stays healthy.
      r.lab = aggregate(r.lab);
      const t1 = Date.now();
      while (alerts().some((a) => a.labels.alertname === 'BondscopeBondLoop') && Date.now() - t1 < (QUIET_S + 30) * 1000) await sleep(1000);
      const resolvedAfter = (Date.now() - t1) / 1000;
      expect(alerts().filter((a) => a.labels.alertname === 'BondscopeBondLoop'), `resolved after ${resolvedAfter} s`).toEqual([]);
      expect(resolvedAfter).toBeGreaterThanOrEqual(QUIET_S - 2);
      process.stderr.write(`monitor lab: resolved ${resolvedAfter.toFixed(1)} s after the switch was aggregated (--quiet-after ${QUIET_S})\n`);
      await sleep(3000);
      expect(await watch(12)).toEqual([]);
      const closed = r.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'closed' && e.kind === 'looped-broadcast');
      expect(closed.map((e) => e.mac)).toEqual(expect.arrayContaining(params.guests.map((g) => g.mac)));
    } finally {
      await stop(r);
    }
  });

  it.skipIf(!has('setpriv'))('runs as an unprivileged user with only the unit\'s capabilities (CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYSLOG); without CAP_SYSLOG it says the kernel log is unreadable', { timeout: 60_000 }, async () => {
    down(prefix);
    up('lacp', params);
    try {
      const unit = readFileSync(join(PROJECT_ROOT, 'deploy/systemd/bondscope-monitor.service'), 'utf8');
      const caps = /^AmbientCapabilities=(.*)$/m.exec(unit)![1]!.split(' ').map((c) => c.replace(/^CAP_/, '').toLowerCase());
      const run = async (set: string[]): Promise<{ out: string; metrics: string }> => {
        const list = set.map((c) => `+${c}`).join(',');
        const p = inHost(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', `--inh-caps=-all,${list}`, `--ambient-caps=-all,${list}`, `--bounding-set=-all,${list}`, process.execPath, join(PROJECT_ROOT, 'bin/bondscope'), 'monitor', '--listen', METRICS, '--bond', `${params.bond}=${params.slaves.join(',')}`, '--duration', '6']);
        let out = '';
        let err = '';
        p.stdout!.on('data', (d) => (out += d));
        p.stderr!.on('data', (d) => (err += d));
        while (!err.includes('monitoring ') && p.exitCode === null) await sleep(100);
        const sender = arpSender(0, 100);
        await sleep(3000);
        const metrics = get(`http://${METRICS}/metrics`);
        sender.kill();
        await new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
        expect(p.exitCode, err).toBe(0);
        return { out, metrics };
      };
      const full = await run(caps);
      expect(caps.sort()).toEqual(['net_admin', 'net_raw', 'syslog']);
      expect(Number(/^bondscope_capture_frames_total\{interface="vif1.0"\} (\d+)/m.exec(full.metrics)?.[1])).toBeGreaterThan(10);
      expect(full.out).not.toContain('/dev/kmsg not readable');
      const noSyslog = await run(caps.filter((c) => c !== 'syslog'));
      expect(noSyslog.out).toContain('kernel log: /dev/kmsg not readable (EPERM)');
    } finally {
      down(prefix);
    }
  });

  for (const scenario of ['lacp', 'single'] as const) {
    it(`${scenario}: no alert is ever pending or firing, while the monitor sees the traffic`, { timeout: 120_000 }, async () => {
      const r = await start(scenario);
      try {
        const seen = await watch(15);
        const opened = r.out().trim().split('\n').filter((l) => l.includes('"event":"opened"'));
        expect(seen, opened.join('\n')).toEqual([]);
        expect(opened.filter((l) => /"kind":"(looped-broadcast|wrong-port-learning|blackholed-unicast|own-address)"/.test(l))).toEqual([]);
        const metrics = get(`http://${METRICS}/metrics`);
        // It was watching: the guests' broadcasts were captured on their vifs, none came back.
        expect(Number(/^bondscope_capture_frames_total\{interface="vif1.0"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(50);
        expect(metrics).not.toMatch(/^bondscope_looped_frames_total\{/m);
        expect(get(`http://${PROM}/api/v1/query?query=up`)).toContain('"value":[');
      } finally {
        await stop(r);
      }
    });
  }
});
