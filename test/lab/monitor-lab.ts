/**
 * What the monitor's lab tests share: the lab host's parameters (a bridge name and MACs of each
 * file's own, so the kernel log lines of labs running at once never pass for each other's), the
 * monitor and a real Prometheus started inside the lab host's namespace (both listen on its
 * loopback), HTTP from inside it, guests that send broadcasts, and reading the metrics.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { liveUnavailable, PROJECT_ROOT } from '../helpers/tools.js';
import { labUnavailable } from './lab.js';
import { defaultParams, type LabParams } from './topology.js';

export const RULES = join(PROJECT_ROOT, 'deploy/prometheus/bondscope-rules.yml');
export const BIN = join(PROJECT_ROOT, 'bin/bondscope');
export const METRICS = '127.0.0.1:10071';
export const PROM = '127.0.0.1:19090';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function has(tool: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Why the monitor's lab tests cannot run here, or null. */
export function monitorLabUnavailable(needs: { prometheus?: boolean } = {}): string | null {
  return labUnavailable() ?? liveUnavailable() ?? (needs.prometheus && !has('prometheus') ? 'needs prometheus (apt-get install prometheus)' : null) ?? (has('curl') ? null : 'needs curl');
}

/**
 * The lab host of one test file: its namespace prefix, a bridge of its own (`xenbr<n>`) and MACs
 * with `n` in them (00:25:90:00:nn:01 for the host, 00:16:3e:00:nn:0g for guest g).
 */
export function monitorLabParams(prefix: string, n: number, guests = 2): LabParams {
  const hex = (n & 0xff).toString(16).padStart(2, '0');
  return {
    ...defaultParams(prefix),
    bridge: `xenbr${n}`,
    hostMac: `00:25:90:00:${hex}:01`,
    guests: Array.from({ length: guests }, (_, i) => ({ vif: `vif${i + 1}.0`, mac: `00:16:3e:00:${hex}:${(i + 1).toString(16).padStart(2, '0')}`, ip: `198.51.100.${11 + i}` })),
  };
}

/** A process inside a namespace (`ip netns exec` execs it: the child's pid is the process's own). */
export function inNs(ns: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
}

/** GET from inside a namespace: the body, or '' when it failed. */
export function get(ns: string, url: string, timeoutS = 5): string {
  return spawnSync('ip', ['netns', 'exec', ns, 'curl', '-sf', '--max-time', String(timeoutS), url], { encoding: 'utf8' }).stdout;
}

export function exited(p: ChildProcess): Promise<void> {
  return new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
}

/** A metric's value in a text exposition, summed over the series matching `labels` (a substring of the label set); NaN when none. */
export function metric(text: string, name: string, labels = ''): number {
  let sum = NaN;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    if (labels && !(m[1] ?? '').includes(labels)) continue;
    sum = (Number.isNaN(sum) ? 0 : sum) + Number(m[2]);
  }
  return sum;
}

export interface MonitorEvent {
  event: string;
  kind?: string;
  mac?: string;
  origin?: string;
  bundle?: string | null;
  message?: string;
  [k: string]: unknown;
}

/** `bondscope monitor` running in the lab host's namespace. */
export class RunningMonitor {
  out = '';
  err = '';
  constructor(
    readonly proc: ChildProcess,
    readonly ns: string,
  ) {
    proc.stdout!.on('data', (d) => (this.out += d));
    proc.stderr!.on('data', (d) => (this.err += d));
  }

  events(): MonitorEvent[] {
    return this.out
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as MonitorEvent);
  }

  /** Findings of the loop's kinds that opened (none may on a healthy host). */
  loopFindingsOpened(): MonitorEvent[] {
    return this.events().filter((e) => e.event === 'opened' && LOOP_KINDS.includes(e.kind ?? ''));
  }

  metrics(): string {
    return get(this.ns, `http://${METRICS}/metrics`);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    await exited(this.proc);
  }
}

/** The finding kinds of a loop and its effects. */
export const LOOP_KINDS = ['looped-broadcast', 'wrong-port-learning', 'blackholed-unicast', 'own-address'];

/** Starts the monitor (with `args` after `monitor`) and waits until it says it is monitoring. */
export async function startMonitor(ns: string, args: string[], env: NodeJS.ProcessEnv = process.env, prefix: string[] = []): Promise<RunningMonitor> {
  const m = new RunningMonitor(inNs(ns, [...prefix, process.execPath, BIN, 'monitor', ...args], env), ns);
  for (let i = 0; !m.err.includes('monitoring '); i++) {
    if (m.proc.exitCode !== null) throw new Error(`monitor exited (${m.proc.exitCode}): ${m.err}`);
    if (i > 600) throw new Error(`monitor did not start in 60 s: ${m.err}`);
    await sleep(100);
  }
  return m;
}

export interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

/** Debian's Prometheus with a temporary config and data directory: scrapes and evaluates every second. */
export class RunningPrometheus {
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  constructor(
    readonly proc: ChildProcess,
    readonly ns: string,
  ) {}

  alerts(): Alert[] {
    const body = get(this.ns, `http://${PROM}/api/v1/alerts`);
    const list = body ? (JSON.parse(body) as { data: { alerts: Alert[] } }).data.alerts : [];
    for (const a of list) this.seen.add(`${a.labels.alertname} ${a.state}`);
    return list;
  }

  /** Polls the alerts every second from now on (what `seenAlerts` returns). */
  watch(): void {
    this.timer ??= setInterval(() => this.alerts(), 1000);
  }

  /**
   * Every alert that was pending or firing in the last `seconds`: Prometheus's own ALERTS series
   * (written at every evaluation, so nothing between two polls is missed) and what the polls saw.
   */
  seenAlerts(seconds: number): string[] {
    const r = this.query(`max_over_time(ALERTS[${Math.ceil(seconds)}s])`);
    for (const s of r) this.seen.add(`${s.metric.alertname} ${s.metric.alertstate}`);
    return [...this.seen].sort();
  }

  /** Every alert pending or firing during the next `seconds` (polled each second, and Prometheus's ALERTS series over the span). */
  async alertsDuring(seconds: number): Promise<string[]> {
    const seen = new Set<string>();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      for (const a of this.alerts()) seen.add(`${a.labels.alertname} ${a.state}`);
      await sleep(1000);
    }
    for (const s of this.query(`max_over_time(ALERTS[${seconds}s])`)) seen.add(`${s.metric.alertname} ${s.metric.alertstate}`);
    return [...seen].sort();
  }

  query(q: string): { metric: Record<string, string>; value: [number, string] }[] {
    const body = get(this.ns, `http://${PROM}/api/v1/query?query=${encodeURIComponent(q)}`);
    if (!body) throw new Error(`prometheus query failed: ${q}`);
    return (JSON.parse(body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  }

  /** Whether the rules were evaluated (every group healthy, evaluated within the last few seconds). */
  rulesEvaluated(): boolean {
    const body = get(this.ns, `http://${PROM}/api/v1/rules`);
    const groups = (JSON.parse(body) as { data: { groups: { rules: { health: string }[]; lastEvaluation: string }[] } }).data.groups;
    return groups.length > 0 && groups.every((g) => g.rules.every((r) => r.health === 'ok') && Date.now() - Date.parse(g.lastEvaluation) < 10_000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.proc.kill('SIGTERM');
    await exited(this.proc);
  }
}

export async function startPrometheus(ns: string, dir: string, rules = RULES): Promise<RunningPrometheus> {
  writeFileSync(
    join(dir, 'prometheus.yml'),
    ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files:', `  - ${rules}`, 'scrape_configs:', '  - job_name: bondscope', '    static_configs:', `      - targets: ['${METRICS}']`, ''].join('\n'),
  );
  const p = new RunningPrometheus(inNs(ns, ['prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROM}`, '--log.level=warn']), ns);
  for (let i = 0; !get(ns, `http://${PROM}/-/ready`, 1); i++) {
    if (p.proc.exitCode !== null) throw new Error('prometheus exited');
    if (i > 300) throw new Error('prometheus did not get ready in 30 s');
    await sleep(100);
  }
  return p;
}

/**
 * A guest sending a gratuitous ARP broadcast every `ms` (for `seconds`, or until killed; the same
 * bytes each time unless `vary`, which changes the target address per frame). `sent` resolves
 * with how many it sent. Errors on send (its interface went down: a migration) are skipped.
 */
export function arpSender(ns: string, guest: { mac: string; ip: string }, ms: number, o: { seconds?: number; vary?: boolean; dev?: string } = {}): { proc: ChildProcess; sent: Promise<number> } {
  const mac = guest.mac.split(':').map((x) => `\\x${x}`).join('');
  const target = o.vary ? 'bytes([198, 51, 100, 20 + n % 200])' : 'ip';
  const py = [
    'import signal, socket, struct, sys, time',
    'signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))',
    `s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('${o.dev ?? 'eth0'}', 0))`,
    `src = b'${mac}'; ip = bytes([${guest.ip.split('.').join(',')}])`,
    `end = time.time() + ${o.seconds ?? 1e9}; n = 0`,
    'try:',
    '    while time.time() < end:',
    `        arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, src, ip, b'\\x00'*6, ${target})`,
    '        try:',
    "            s.send(b'\\xff'*6 + src + b'\\x08\\x06' + arp + b'\\x00'*18); n += 1",
    '        except OSError:',
    '            pass',
    `        time.sleep(${ms / 1000})`,
    'finally:',
    '    print(n, flush=True)',
  ].join('\n');
  const proc = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  const sent = new Promise<number>((r) => proc.once('exit', () => r(Number(out.trim()) || 0)));
  return { proc, sent };
}

/** Anonymous RSS of a process, MiB. */
export function rssMiB(pid: number): number {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A classic pcap (µs stamps, Ethernet) of the given frames, for tcpreplay. */
export function writePcap(path: string, frames: Uint8Array[]): void {
  const fd = openSync(path, 'w');
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  writeSync(fd, h);
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_800_000_000 + Math.floor(i / 1e6), 0);
    r.writeUInt32LE(i % 1e6, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    writeSync(fd, r);
    writeSync(fd, f);
  });
  closeSync(fd);
}

/**
 * Every query of the shipped Grafana dashboard (deploy/grafana/bondscope-fleet.json) as
 * Prometheus runs it: Grafana's variables put in ($__rate_interval a few scrapes of this lab's
 * 1 s interval, every host chosen).
 */
export function dashboardQueries(): { panel: string; expr: string }[] {
  const d = JSON.parse(readFileSync(join(PROJECT_ROOT, 'deploy/grafana/bondscope-fleet.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', '10s').replaceAll('$instance', '.*') })));
}

/**
 * A guest port that comes and goes: `vif` in the lab host's namespace, its guest's end `dev` in
 * namespace `gx` with `mac`, IPv6 off on both (they send only what they are made to send).
 */
export function addGuestPort(host: string, gx: string, bridge: string, vif: string, dev: string, mac: string, vifMac: string): void {
  shell(
    [
      `ip link add name ${vif} netns ${host} type veth peer name ${dev} netns ${gx}`,
      `ip netns exec ${gx} sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1`,
      `ip netns exec ${host} sysctl -qw net/ipv6/conf/${vif}/disable_ipv6=1`,
      `ip -n ${host} link set ${vif} address ${vifMac} master ${bridge} up`,
      `ip -n ${gx} link set ${dev} address ${mac} up`,
    ].join(' && '),
  );
}

export function removeGuestPort(host: string, vif: string): void {
  shell(`ip -n ${host} link del ${vif}`);
}

/** The guest behind `dev` sends `count` unicast UDP frames to `to` (a MAC), 10 ms apart, optionally a gratuitous ARP first. */
export function guestTalks(gx: string, dev: string, guest: { mac: string; ip: string }, to: string, count: number, o: { arpFirst?: boolean } = {}): void {
  const m = (x: string): string => x.split(':').map((b) => `\\x${b}`).join('');
  const py = [
    'import socket, struct, time',
    `s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('${dev}', 0))`,
    `src = b'${m(guest.mac)}'; ip = bytes([${guest.ip.split('.').join(',')}])`,
    o.arpFirst ? "s.send(b'\\xff'*6 + src + b'\\x08\\x06' + struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, src, ip, b'\\x00'*6, ip) + b'\\x00'*18)" : '',
    `for i in range(${count}):`,
    '    time.sleep(0.01)',
    `    s.send(b'${m(to)}' + src + b'\\x08\\x00' + bytes([0x45, 0, 0, 28, 0, i, 0, 0, 64, 17, 0, 0]) + ip + bytes([198, 51, 100, 100]) + bytes([0, 9, 0, 9, 0, 8, 0, 0]) + b'\\x00'*18)`,
  ].join('\n');
  const r = spawnSync('ip', ['netns', 'exec', gx, 'python3', '-c', py], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`guest on ${dev}: ${r.stderr}`);
}

function shell(cmd: string): void {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}
