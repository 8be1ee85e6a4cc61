/**
 * `npm run bench:live` (root, network namespaces): how much of a replay live capture keeps. The
 * benchmark capture is replayed with tcpreplay out of one end of a veth pair; on the other end,
 * in one run, `bondscope live` (cap) and `tcpdump` both capture it. Each rate prints frames sent
 * (tcpreplay's count), received by bondscope, received by tcpdump and dropped by the kernel for
 * tcpdump, so "no loss wherever tcpdump has none" can be read off the table.
 *
 *   npm run bench:live [-- --frames N] [-- --rates 10000,50000,100000,0]   (0 = --topspeed)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateBenchPcap } from './generate.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin/bondscope');
const NS_TX = 'bslbench-tx';
const NS_RX = 'bslbench-rx';
const LIVE_EXTRA = (process.env.BENCH_LIVE_ARGS ?? '').split(' ').filter(Boolean);

function sh(cmd: string): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench:live: \`${cmd}\` failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout + r.stderr;
}

function teardown(): void {
  spawnSync('/bin/sh', ['-c', `ip netns del ${NS_TX} 2>/dev/null; ip netns del ${NS_RX} 2>/dev/null`]);
}

function setup(): void {
  teardown();
  sh(`ip netns add ${NS_TX} && ip netns add ${NS_RX}`);
  sh(`ip link add tx0 netns ${NS_TX} type veth peer name rx0 netns ${NS_RX}`);
  sh(`ip -n ${NS_TX} link set tx0 up && ip -n ${NS_RX} link set rx0 up`);
  // No IPv6 on the pair: only the replay's frames cross it.
  sh(`ip netns exec ${NS_RX} sysctl -qw net.ipv6.conf.rx0.disable_ipv6=1 && ip netns exec ${NS_TX} sysctl -qw net.ipv6.conf.tx0.disable_ipv6=1`);
}

interface Row {
  rate: string;
  sent: number;
  bondscope: number;
  tcpdump: number;
  tcpdumpDropped: number;
}

async function runOnce(file: string, rate: number): Promise<Row> {
  const live = spawn('ip', ['netns', 'exec', NS_RX, process.execPath, BIN, 'live', '-i', 'rx0', '--no-kernel', '--json', ...LIVE_EXTRA], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dump = spawn('ip', ['netns', 'exec', NS_RX, 'tcpdump', '-n', '-i', 'rx0', '-B', '8192', '-w', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let liveErr = '';
  let dumpErr = '';
  live.stderr.on('data', (d) => (liveErr += d));
  dump.stderr.on('data', (d) => (dumpErr += d));
  // Both capturing before the first frame leaves.
  const t0 = Date.now();
  while (!(liveErr.includes('capturing on') && dumpErr.includes('listening on')) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  const replay = sh(`ip netns exec ${NS_TX} tcpreplay -i tx0 ${rate > 0 ? `--pps ${rate}` : '--topspeed'} ${file}`);
  await new Promise((r) => setTimeout(r, 1500));
  const exited = (p: ReturnType<typeof spawn>): Promise<void> => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', () => r())));
  live.kill('SIGINT');
  dump.kill('SIGINT');
  await Promise.all([exited(live), exited(dump)]);
  const sent = Number(/Actual: (\d+) packets/.exec(replay)?.[1] ?? NaN);
  const got = Number(/(\d+) frames captured/.exec(liveErr)?.[1] ?? NaN);
  const td = Number(/(\d+) packets captured/.exec(dumpErr)?.[1] ?? NaN);
  const tdDrop = Number(/(\d+) packets dropped by kernel/.exec(dumpErr)?.[1] ?? NaN);
  return { rate: rate > 0 ? `${rate}/s` : 'topspeed', sent, bondscope: got, tcpdump: td, tcpdumpDropped: tdDrop };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:live needs root (network namespaces, capture)');
  const { values } = parseArgs({ options: { frames: { type: 'string', default: '200000' }, rates: { type: 'string', default: '10000,50000,100000,200000,0' } } });
  const frames = Number(values.frames);
  const rates = values.rates.split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'bondscope-live-bench-'));
  const file = join(dir, 'replay.pcap');
  generateBenchPcap(file, frames);
  setup();
  const rows: Row[] = [];
  try {
    for (const r of rates) {
      process.stderr.write(`bench:live: replaying ${frames} frames at ${r > 0 ? `${r}/s` : 'top speed'}\n`);
      rows.push(await runOnce(file, r));
    }
  } finally {
    teardown();
    rmSync(dir, { recursive: true, force: true });
  }
  const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(1)}%`;
  const lines = ['| replay rate | sent | bondscope live | tcpdump | tcpdump: dropped by kernel |', '|---|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.rate} | ${r.sent} | ${r.bondscope} (${pct(r.bondscope, r.sent)}) | ${r.tcpdump} (${pct(r.tcpdump, r.sent)}) | ${r.tcpdumpDropped} |`);
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  teardown();
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
