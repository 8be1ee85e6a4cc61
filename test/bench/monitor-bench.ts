/**
 * `npm run bench:monitor` (root, the lab): what `bondscope monitor` costs on a busy host and how
 * fast it tells.
 *
 *  1. Cost: the lab's aggregated host (no loop) with 32 guest ports; tcpreplay sends unicast between
 *     two sets of outside hosts into the host's uplink at --pps (default 100 000/s; the bridge has
 *     both ends learned on the bond, as a real host's bridge does, so it does not flood them to the
 *     guests) and ARP broadcasts from outside hosts at 1 000/s through the switch (flooded to every
 *     guest port). CPU (user+system of the monitor and its capture workers) and memory (anonymous
 *     RSS, main process and workers) are sampled every 5 s for --seconds (default 120).
 *  2. Latency: on the looping host, one guest broadcast at a time; the time from sending it to the
 *     /metrics counter bondscope_looped_frames_total changing (polled every 20 ms), --trials times.
 *  3. Scrape: 10 000 outside hosts' ARP broadcasts (10 000 MACs tracked), then /metrics timed.
 *  4. Soak (--soak S, default 600; `--only soak --soak 3600` for an hour): memory over time on
 *     the looping lab with everything a host meets in months, accelerated — unicast between
 *     outside hosts into the uplink at --pps, broadcasts from 40 000 outside MACs at 4 000/s, half
 *     of them 802.1Q-tagged (VLANs 10–19), a new set of 40 000 MACs every minute (six sets in
 *     turn: MACs come and go), eight guests broadcasting every 200 ms (so the loop's findings
 *     stay open and evidence is kept), a guest port created every 3 s and destroyed 6 s later
 *     (each guest sends a gratuitous ARP and unicast), a fresh engine every 60 s (--forget-after;
 *     1 h by default), an evidence bundle at most every 30 s (300 s by default). Its own lab
 *     prefix and bridge, so it may run beside the test suite (it is a memory measurement). A probe
 *     preloaded into the monitor (memory-probe.ts) writes its memory every 10 s: resident,
 *     anonymous, V8's heap committed and used, its young generation, the memory outside it.
 *
 *   npm run bench:monitor [-- --seconds 120 --pps 100000 --trials 10 --soak 600 --only latency|scrape|cost|soak]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { down, up } from '../lab/lab.js';
import { addGuestPort, arpSender, guestTalks, monitorLabParams, removeGuestPort, writePcap } from '../lab/monitor-lab.js';
import { defaultParams, namespaces, type LabParams, type ScenarioName } from '../lab/topology.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin/bondscope');
const PREFIX = 'bsmb';
const METRICS = '127.0.0.1:10071';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function params(guests: number): LabParams {
  const p = { ...defaultParams(PREFIX), bridge: 'xenbr6', hostMac: '00:25:90:00:06:21' };
  p.guests = Array.from({ length: guests }, (_, i) => ({ vif: `vif${i + 1}.0`, mac: `00:16:3e:00:6${(i >> 8) & 0xf}:${(i & 0xff).toString(16).padStart(2, '0')}`, ip: `198.51.100.${10 + i}` }));
  return p;
}

function mac(prefix: number, n: number): number[] {
  return [0x02, prefix, (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function udp(src: number[], dst: number[], len = 128): Uint8Array {
  const b = new Uint8Array(len);
  b.set(dst, 0);
  b.set(src, 6);
  b[12] = 0x08;
  b[14] = 0x45;
  b[23] = 17;
  return b;
}

function arpRequest(src: number[], n: number): Uint8Array {
  const b = new Uint8Array(60);
  b.fill(0xff, 0, 6);
  b.set(src, 6);
  b.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
  b.set(src, 22);
  b.set([203, 0, 113, n & 0xff], 28);
  b.set([203, 0, 113, (n + 1) & 0xff], 38);
  return b;
}

interface Usage {
  cpuSec: number;
  mainCpuSec: number;
  mainAnonMiB: number;
  workersAnonMiB: number;
  workers: number;
}

/** CPU seconds (user+system, the process and its live children) and anonymous RSS. */
function usage(pid: number): Usage {
  const hz = 100;
  const stat = (p: number): { cpu: number; ppid: number } => {
    const s = readFileSync(`/proc/${p}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { cpu: (Number(f[11]) + Number(f[12])) / hz, ppid: Number(f[1]) };
  };
  const anon = (p: number): number => Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const mainCpu = stat(pid).cpu;
  let cpu = mainCpu;
  let workersAnon = 0;
  let workers = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = stat(Number(d));
      if (s.ppid !== pid) continue;
      cpu += s.cpu;
      workersAnon += anon(Number(d));
      workers++;
    } catch {
      /* gone */
    }
  }
  return { cpuSec: cpu, mainCpuSec: mainCpu, mainAnonMiB: anon(pid), workersAnonMiB: workersAnon, workers };
}

function get(ns: string, url: string): { body: string; seconds: number } {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'curl', '-sf', '-w', '\n%{time_total}', url], { encoding: 'utf8' });
  const at = r.stdout.lastIndexOf('\n');
  return { body: r.stdout.slice(0, at), seconds: Number(r.stdout.slice(at + 1)) };
}

async function startMonitor(p: LabParams, extra: string[] = []): Promise<ChildProcess> {
  const ns = namespaces(p).host;
  const m = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, 'monitor', '--listen', METRICS, '--bond', `${p.bond}=${p.slaves.join(',')}`, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  m.stderr!.on('data', (d) => (err += d));
  const t0 = Date.now();
  while (!err.includes('monitoring ')) {
    if (m.exitCode !== null || Date.now() - t0 > 120_000) throw new Error(`monitor did not start: ${err}`);
    await sleep(100);
  }
  return m;
}

async function stopMonitor(m: ChildProcess): Promise<void> {
  m.kill('SIGTERM');
  await new Promise((r) => (m.exitCode !== null ? r(null) : m.once('exit', r)));
}

function lab(scenario: ScenarioName, p: LabParams): void {
  down(PREFIX);
  up(scenario, p);
}

async function cost(work: string, seconds: number, pps: number): Promise<void> {
  const p = params(32);
  lab('lacp', p);
  const ns = namespaces(p);
  // Unicast between 64 pairs of outside hosts, with a frame back from each destination every
  // 1 000 frames so the host's bridge keeps both ends learned on the bond (it then drops them).
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 20_000; i++) {
    const pair = i % 64;
    frames.push(i % 1000 < 64 ? udp(mac(0xbb, pair), mac(0xaa, pair)) : udp(mac(0xaa, pair), mac(0xbb, pair)));
  }
  writePcap(join(work, 'unicast.pcap'), frames);
  writePcap(join(work, 'broadcast.pcap'), Array.from({ length: 1000 }, (_, i) => arpRequest(mac(0xcc, i % 200), i)));
  const m = await startMonitor(p);
  const started = usage(m.pid!);
  // Unicast straight into the host's uplink (the switch's side of eth0); broadcasts through the switch.
  const uni = spawn('ip', ['netns', 'exec', ns.sw, 'tcpreplay', '-q', '-i', 'sw-p0', `--pps=${pps}`, '--loop=0', join(work, 'unicast.pcap')], { stdio: 'ignore' });
  const bc = spawn('ip', ['netns', 'exec', ns.client, 'tcpreplay', '-q', '-i', 'eth0', '--pps=1000', '--loop=0', join(work, 'broadcast.pcap')], { stdio: 'ignore' });
  const rxBefore = Number(spawnSync('ip', ['netns', 'exec', ns.host, 'cat', `/sys/class/net/${p.slaves[0]}/statistics/rx_packets`], { encoding: 'utf8' }).stdout);
  const t0 = Date.now();
  let prev = { t: t0, u: usage(m.pid!) };
  const rows: string[] = [];
  let peakMain = 0;
  let maxCpu = 0;
  await sleep(10_000); // warm-up, not counted
  prev = { t: Date.now(), u: usage(m.pid!) };
  const first = prev;
  while (Date.now() - t0 < seconds * 1000 + 10_000) {
    await sleep(5000);
    const u = usage(m.pid!);
    const now = Date.now();
    const cpu = (u.cpuSec - prev.u.cpuSec) / ((now - prev.t) / 1000);
    maxCpu = Math.max(maxCpu, cpu);
    peakMain = Math.max(peakMain, u.mainAnonMiB);
    rows.push(`  t=${((now - t0) / 1000).toFixed(0)}s cpu ${(cpu * 100).toFixed(1)}% main ${u.mainAnonMiB.toFixed(0)} MiB workers ${u.workersAnonMiB.toFixed(0)} MiB (${u.workers})`);
    prev = { t: now, u };
  }
  const rxAfter = Number(spawnSync('ip', ['netns', 'exec', ns.host, 'cat', `/sys/class/net/${p.slaves[0]}/statistics/rx_packets`], { encoding: 'utf8' }).stdout);
  const elapsed = (Date.now() - t0) / 1000;
  uni.kill('SIGINT');
  bc.kill('SIGINT');
  const metrics = get(ns.host, `http://${METRICS}/metrics`).body;
  await stopMonitor(m);
  const avgCpu = (prev.u.cpuSec - first.u.cpuSec) / ((prev.t - first.t) / 1000);
  const avgMain = (prev.u.mainCpuSec - first.u.mainCpuSec) / ((prev.t - first.t) / 1000);
  const captured = [...metrics.matchAll(/^bondscope_capture_frames_total\{interface="([^"]+)"\} (\d+)/gm)].reduce((s, x) => s + Number(x[2]), 0);
  const dropped = [...metrics.matchAll(/^bondscope_capture_dropped_frames_total\{[^}]*\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
  process.stdout.write(rows.join('\n') + '\n');
  process.stdout.write(
    `cost: ${seconds} s measured (after 10 s warm-up), 32 guest ports, eth0 received ${((rxAfter - rxBefore) / elapsed).toFixed(0)} frames/s (asked ${pps} unicast + 1000 broadcast); ` +
      `monitor+workers CPU ${(avgCpu * 100).toFixed(1)}% of one core on average (max 5 s sample ${(maxCpu * 100).toFixed(1)}%), of which the main process ${(avgMain * 100).toFixed(1)}%; ` +
      `main anonymous RSS ${started.mainAnonMiB.toFixed(0)} → peak ${peakMain.toFixed(0)} MiB, workers ${prev.u.workersAnonMiB.toFixed(0)} MiB over ${prev.u.workers}; ` +
      `captured ${captured} frames after the filter, ${dropped} dropped\n`,
  );
}

async function latency(trials: number): Promise<void> {
  const p = params(2);
  lab('loop', p);
  const ns = namespaces(p);
  const m = await startMonitor(p, ['--quiet-after', '3600']);
  const value = (): number => [...get(ns.host, `http://${METRICS}/metrics`).body.matchAll(/^bondscope_looped_frames_total\{[^}]*\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
  const times: number[] = [];
  for (let i = 0; i < trials; i++) {
    const before = value();
    const g = p.guests[i % 2]!;
    const t0 = Date.now();
    spawnSync('ip', ['netns', 'exec', ns.guests[i % 2]!, 'arping', '-q', '-U', '-c', '1', '-w', '0', '-i', 'eth0', '-S', g.ip, g.ip]);
    while (value() === before && Date.now() - t0 < 10_000) await sleep(20);
    times.push((Date.now() - t0) / 1000);
    await sleep(1500);
  }
  await stopMonitor(m);
  times.sort((a, b) => a - b);
  process.stdout.write(`latency: first looped frame → bondscope_looped_frames_total changed: median ${times[Math.floor(times.length / 2)]!.toFixed(2)} s, max ${times.at(-1)!.toFixed(2)} s over ${trials} broadcasts (${times.map((t) => t.toFixed(2)).join(' ')})\n`);
}

async function scrape(work: string): Promise<void> {
  const p = params(2);
  lab('lacp', p);
  const ns = namespaces(p);
  const m = await startMonitor(p);
  writePcap(join(work, 'macs.pcap'), Array.from({ length: 10_500 }, (_, i) => arpRequest(mac(0xdd, i), i)));
  spawnSync('ip', ['netns', 'exec', ns.client, 'tcpreplay', '-q', '-i', 'eth0', '--pps=5000', join(work, 'macs.pcap')]);
  await sleep(2000);
  const tracked = Number(/^bondscope_macs_tracked (\d+)/m.exec(get(ns.host, `http://${METRICS}/metrics`).body)?.[1]);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) times.push(get(ns.host, `http://${METRICS}/metrics`).seconds * 1000);
  await stopMonitor(m);
  times.sort((a, b) => a - b);
  process.stdout.write(`scrape: ${tracked} MACs tracked; /metrics in ${times[25]!.toFixed(1)} ms median, ${times[49]!.toFixed(1)} ms max of 50 (curl's time_total)\n`);
}


/** The soak's lab: a prefix and bridge of its own (it may run beside the test suite), eight guests. */
const SOAK_PREFIX = 'bsmk';

/** ARP requests from `count` outside MACs (set `set`), every other one tagged with a VLAN of 10–19. */
function churnBroadcasts(set: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const src = [0x02, 0xe0 + set, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0x01];
    const arp = arpRequest(src, i);
    if (i % 2 === 0) return arp;
    const tagged = new Uint8Array(64);
    tagged.set(arp.subarray(0, 12), 0);
    tagged.set([0x81, 0x00, 0, 10 + (i % 10)], 12);
    tagged.set(arp.subarray(12, 60), 16);
    return tagged;
  });
}

interface ProbeLine {
  t: number;
  rss: number;
  anon: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, number>;
  status?: Record<string, number>;
}

async function soak(work: string, seconds: number, pps: number): Promise<void> {
  const p = monitorLabParams(SOAK_PREFIX, 69, 8);
  down(SOAK_PREFIX);
  up('loop', p);
  const ns = namespaces(p);
  const gx = `${SOAK_PREFIX}-gx`;
  spawnSync('ip', ['netns', 'add', gx]);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 20_000; i++) {
    const pair = i % 64;
    frames.push(i % 1000 < 64 ? udp(mac(0xbb, pair), mac(0xaa, pair)) : udp(mac(0xaa, pair), mac(0xbb, pair)));
  }
  writePcap(join(work, 'unicast.pcap'), frames);
  const SETS = 6;
  for (let set = 0; set < SETS; set++) writePcap(join(work, `macs${set}.pcap`), churnBroadcasts(set, 40_000));
  const probe = join(work, 'probe.jsonl');
  const m = spawn(
    'ip',
    // BONDSCOPE_PROFILE_DIR: the monitor's CPU profile (node --cpu-prof), written there when it exits.
    ['netns', 'exec', ns.host, process.execPath, ...(process.env.BONDSCOPE_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BONDSCOPE_PROFILE_DIR}`] : []), '--import', join(ROOT, 'dist/test/bench/memory-probe.js'), BIN, 'monitor', '--listen', METRICS, '--bond', `${p.bond}=${p.slaves.join(',')}`, '--forget-after', '60', '--evidence-dir', join(work, 'evidence'), '--evidence-every', '30', '--quiet-after', '30'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BONDSCOPE_MEMORY_PROBE: probe, BONDSCOPE_MEMORY_PROBE_MS: '10000' } },
  );
  // The monitor's event lines: when it dropped, what its filter was, the bundles it wrote.
  let events = '';
  m.stdout!.on('data', (d) => (events += d));
  let err = '';
  m.stderr!.on('data', (d) => (err += d));
  while (!err.includes('monitoring ')) {
    if (m.exitCode !== null) throw new Error(`monitor did not start: ${err}`);
    await sleep(100);
  }
  const guests = p.guests.map((g, i) => arpSender(ns.guests[i]!, g, 200, { vary: true }).proc);
  const uni = spawn('ip', ['netns', 'exec', ns.sw, 'tcpreplay', '-q', '-i', 'sw-p0', `--pps=${pps - 4000}`, '--loop=0', join(work, 'unicast.pcap')], { stdio: 'ignore' });
  let macs: ChildProcess | null = null;
  let set = 0;
  const nextSet = (): void => {
    macs?.kill('SIGINT');
    macs = spawn('ip', ['netns', 'exec', ns.sw, 'tcpreplay', '-q', '-i', 'sw-p0', '--pps=4000', '--loop=0', join(work, `macs${set++ % SETS}.pcap`)], { stdio: 'ignore' });
  };
  nextSet();
  const rx = (): number => Number(spawnSync('ip', ['netns', 'exec', ns.host, 'cat', `/sys/class/net/${p.slaves[0]}/statistics/rx_packets`], { encoding: 'utf8' }).stdout);
  const t0 = Date.now();
  const rx0 = rx();
  const loads: number[] = [];
  let k = 0;
  const alive: [string, number][] = [];
  let lastSet = Date.now();
  const cpu0 = usage(m.pid!).mainCpuSec;
  while (Date.now() - t0 < seconds * 1000) {
    if (Date.now() - lastSet >= 60_000) {
      nextSet();
      lastSet = Date.now();
    }
    // A guest port every 3 s, destroyed 6 s later.
    const vif = `vif${200 + (k % 500)}.0`;
    const g = { mac: `00:16:3e:01:${((k >> 8) & 0xff).toString(16).padStart(2, '0')}:${(k & 0xff).toString(16).padStart(2, '0')}`, ip: `198.51.100.${20 + (k % 200)}` };
    addGuestPort(ns.host, gx, p.bridge, vif, `g${k % 500}`, g.mac, p.vifMac);
    alive.push([vif, Date.now()]);
    await sleep(500);
    guestTalks(gx, `g${k % 500}`, g, p.client.mac, 5, { arpFirst: true });
    k++;
    while (alive.length && Date.now() - alive[0]![1] > 6000) removeGuestPort(ns.host, alive.shift()![0]);
    loads.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
    await sleep(2500);
  }
  const elapsed = (Date.now() - t0) / 1000;
  const rate = (rx() - rx0) / elapsed;
  const cpu = (usage(m.pid!).mainCpuSec - cpu0) / elapsed;
  const metrics = get(ns.host, `http://${METRICS}/metrics`).body;
  uni.kill('SIGINT');
  (macs as ChildProcess | null)?.kill('SIGINT');
  for (const gp of guests) gp.kill();
  await stopMonitor(m);
  if (process.env.BONDSCOPE_SOAK_EVENTS) writeFileSync(process.env.BONDSCOPE_SOAK_EVENTS, events);
  spawnSync('ip', ['netns', 'del', gx]);
  down(SOAK_PREFIX);
  const rows = readFileSync(probe, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProbeLine);
  const at = (r: ProbeLine): string =>
    `  t=${r.t.toFixed(0)}s RSS ${r.rss.toFixed(0)} MiB (anonymous ${r.anon.toFixed(0)}), V8 heap ${r.heapTotal.toFixed(0)} committed / ${r.heapUsed.toFixed(0)} used (young generation ${(r.spaces.new_space ?? 0).toFixed(0)}, old ${(r.spaces.old_space ?? 0).toFixed(0)}), outside the heap ${r.external.toFixed(0)} (array buffers ${r.arrayBuffers.toFixed(0)})${r.status?.RssShmem !== undefined ? `; resident shared ${r.status.RssShmem.toFixed(0)} (the capture ring), file ${r.status.RssFile!.toFixed(0)}, ${r.status.Threads} threads` : ''}`;
  const every = Math.max(1, Math.round(rows.length / 24));
  process.stdout.write(rows.filter((_, i) => i % every === 0 || i === rows.length - 1).map(at).join('\n') + '\n');
  const max = (list: ProbeLine[], key: 'rss' | 'heapUsed' | 'heapTotal' | 'external' | 'anon'): number => Math.max(...list.map((r) => r[key]));
  const warm = rows.filter((r) => r.t >= 300);
  const halves = [warm.slice(0, Math.floor(warm.length / 2)), warm.slice(Math.floor(warm.length / 2))];
  const dropped = [...metrics.matchAll(/^bondscope_capture_dropped_frames_total\{[^}]*\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
  const tracked = Number(/^bondscope_macs_tracked (\d+)/m.exec(metrics)?.[1]);
  const lines = events.trim().split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { event: string; time?: string; dropped?: number; peakPerSecond?: number; filter?: string | null; note?: string | null; error?: string; frames?: number }];
    } catch {
      return [];
    }
  });
  const dropping = lines.filter((e) => e.event === 'capture-dropping');
  const at0 = Date.parse(lines[0]?.time ?? '') || 0;
  const since = (e: { time?: string }): string => ((Date.parse(e.time ?? '') - at0) / 1000).toFixed(0);
  const bundles = lines.filter((e) => e.event === 'evidence');
  process.stdout.write(
    `soak events: ${dropping.length} capture-dropping lines${dropping.length ? ` (${since(dropping[0]!)}–${since(dropping.at(-1)!)} s after start, peak ${Math.max(...dropping.map((e) => e.peakPerSecond ?? 0))}/s)` : ''}; ${lines.filter((e) => e.event === 'capture-filter').length} filter swaps, notes: ${[...new Set(lines.filter((e) => e.note).map((e) => e.note))].join('; ') || 'none'}; ${bundles.filter((e) => !e.error).length} bundles written (${bundles.filter((e) => !e.error).map((e) => e.frames).join(', ')} frames), ${bundles.filter((e) => e.error).length} failed\n`,
  );
  process.stdout.write(
    `soak: ${elapsed.toFixed(0)} s, eth0 received ${rate.toFixed(0)} frames/s, ${k} guest ports came and went, ${SETS} sets of 40 000 MACs in turn (a new set each minute), ${tracked} MACs tracked at the end, ${dropped} frames dropped; monitor CPU ${(cpu * 100).toFixed(1)}% of a core; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}\n` +
      (halves[1]!.length
        ? `soak memory after the first 5 min: first half RSS max ${max(halves[0]!, 'rss').toFixed(0)} MiB (heap used ${max(halves[0]!, 'heapUsed').toFixed(0)}, committed ${max(halves[0]!, 'heapTotal').toFixed(0)}, outside ${max(halves[0]!, 'external').toFixed(0)}); second half RSS max ${max(halves[1]!, 'rss').toFixed(0)} MiB (heap used ${max(halves[1]!, 'heapUsed').toFixed(0)}, committed ${max(halves[1]!, 'heapTotal').toFixed(0)}, outside ${max(halves[1]!, 'external').toFixed(0)})\n`
        : ''),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '120' }, pps: { type: 'string', default: '100000' }, trials: { type: 'string', default: '10' }, soak: { type: 'string', default: '600' }, only: { type: 'string' } } });
  if (process.getuid?.() !== 0) throw new Error('bench:monitor needs root (the lab)');
  const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-bench-'));
  try {
    if (!values.only || values.only === 'latency') await latency(Number(values.trials));
    if (!values.only || values.only === 'scrape') await scrape(work);
    if (!values.only || values.only === 'cost') await cost(work, Number(values.seconds), Number(values.pps));
    if (!values.only || values.only === 'soak') await soak(work, Number(values.soak), Number(values.pps));
  } finally {
    // Only this run's labs (the soak may run alone, outside the lab lock, beside another bench's).
    if (values.only !== 'soak') down(PREFIX);
    down(SOAK_PREFIX);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  if (!process.argv.includes('soak')) down(PREFIX);
  down(SOAK_PREFIX);
  process.exitCode = 1;
});
