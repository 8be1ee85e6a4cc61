/**
 * `npm run bench:live` (root, network namespaces): live capture measured three ways.
 *
 *  - rates: the benchmark capture replayed with tcpreplay out of one end of a veth pair; on the
 *    other end, in one run, `bondscope live` and `tcpdump` capture the same replay. Per rate:
 *    frames sent (tcpreplay's count), kept by each, the kernel's drops as each reports them, and
 *    bondscope's CPU time (frames per CPU-second: what one core sustains, everything included).
 *  - memory: a lab host (a bridge, a bond of two NICs, N guest ports, no loop) idle and with
 *    100 000 frames/s replayed into a NIC for the host (seen on the NIC, the bond and the bridge):
 *    the machine's used memory (MemTotal - MemAvailable) while the capture runs minus before,
 *    and the capture's processes' RSS, for bondscope (ring, and cap with --cap) and tcpdump -i any.
 *  - cpu: ring to engine in one thread, no kernel: TPACKET_V3 blocks built from the benchmark
 *    capture, indexed (block.ts), handed on (handOn), decoded and observed by the engine.
 *
 *   npm run bench:live [-- --parts rates,memory,cpu] [--frames N] [--rates 10000,50000,100000,200000,0]
 *                      [--ports 4,32,64] [--cap] [--prefix P]          (rate 0 = --topspeed)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateBenchPcap } from './generate.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin/bondscope');
const LIVE_EXTRA = (process.env.BENCH_LIVE_ARGS ?? '').split(' ').filter(Boolean);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // USER_HZ: /proc/<pid>/stat times are in 1/100 s

function sh(cmd: string): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench:live: \`${cmd}\` failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout + r.stderr;
}

/** A process and everything it started: pids. */
function tree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

/** CPU seconds (user + system) of a process and its threads. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return NaN;
  }
}

/**
 * Memory of a process tree, MiB: RSS summed, and PSS (shared pages divided among the processes
 * that map them: the fair sum for cap's worker processes). A packet ring is mapped into its
 * process, so it counts in both.
 */
function memMiB(pid: number): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of tree(pid)) {
    try {
      rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

/** The median of five samples of used memory, 200 ms apart. */
async function usedMedian(): Promise<number> {
  const v: number[] = [];
  for (let i = 0; i < 5; i++) {
    v.push(usedMiB());
    await sleep(200);
  }
  return v.sort((a, b) => a - b)[2]!;
}

/** The machine's used memory, MiB: MemTotal - MemAvailable. */
function usedMiB(): number {
  const m = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(m)?.[1] ?? 0);
  return (kb('MemTotal') - kb('MemAvailable')) / 1024;
}

const exited = (p: ChildProcess): Promise<void> => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

interface Started {
  p: ChildProcess;
  out: () => string;
  err: () => string;
}

async function startUntil(cmd: string, args: string[], ready: string, timeoutMs = 120_000): Promise<Started> {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  const t0 = Date.now();
  while (!err.includes(ready)) {
    if (p.exitCode !== null) throw new Error(`bench:live: ${cmd} ${args.join(' ')} ended: ${err}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`bench:live: ${cmd} not ready after ${timeoutMs} ms: ${err}`);
    await sleep(50);
  }
  return { p, out: () => out, err: () => err };
}

// ---- rates ------------------------------------------------------------------------------------

interface RateRow {
  rate: string;
  sent: number;
  bondscope: number;
  kernelDrops: number | null;
  internalDrops: number;
  cpu: number;
  tcpdump: number;
  tcpdumpDropped: number;
}

async function rates(file: string, rateList: number[], prefix: string): Promise<RateRow[]> {
  const tx = `${prefix}-tx`;
  const rx = `${prefix}-rx`;
  const teardown = (): void => void spawnSync('/bin/sh', ['-c', `ip netns del ${tx} 2>/dev/null; ip netns del ${rx} 2>/dev/null`]);
  teardown();
  sh(`ip netns add ${tx} && ip netns add ${rx}`);
  sh(`ip link add tx0 netns ${tx} type veth peer name rx0 netns ${rx}`);
  // No IPv6 on the pair: only the replay's frames cross it.
  sh(`ip netns exec ${rx} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && ip netns exec ${tx} sysctl -qw net.ipv6.conf.all.disable_ipv6=1`);
  sh(`ip -n ${tx} link set tx0 up && ip -n ${rx} link set rx0 up`);
  const rows: RateRow[] = [];
  try {
    for (const rate of rateList) {
      process.stderr.write(`bench:live: replaying at ${rate > 0 ? `${rate}/s` : 'top speed'}\n`);
      const live = await startUntil('ip', ['netns', 'exec', rx, process.execPath, BIN, 'live', '-i', 'rx0', '--no-kernel', '--json', ...LIVE_EXTRA], 'capturing on');
      const dump = await startUntil('ip', ['netns', 'exec', rx, 'tcpdump', '-n', '-i', 'rx0', '-B', '8192', '-w', '/dev/null'], 'listening on');
      await sleep(300);
      const cpu0 = cpuSeconds(live.p.pid!);
      const replay = sh(`ip netns exec ${tx} tcpreplay -i tx0 ${rate > 0 ? `--pps ${rate}` : '--topspeed'} ${file}`);
      await sleep(1500);
      const cpu = cpuSeconds(live.p.pid!) - cpu0;
      live.p.kill('SIGINT');
      dump.p.kill('SIGINT');
      await Promise.all([exited(live.p), exited(dump.p)]);
      const c = (JSON.parse(live.out()) as { stats: { capture: { frames: number; kernelDrops: number | null; internalDrops: number } } }).stats.capture;
      rows.push({
        rate: rate > 0 ? `${rate}/s` : 'top speed',
        sent: Number(/Actual: (\d+) packets/.exec(replay)?.[1] ?? NaN),
        bondscope: c.frames,
        kernelDrops: c.kernelDrops,
        internalDrops: c.internalDrops,
        cpu,
        tcpdump: Number(/(\d+) packets captured/.exec(dump.err())?.[1] ?? NaN),
        tcpdumpDropped: Number(/(\d+) packets dropped by kernel/.exec(dump.err())?.[1] ?? NaN),
      });
    }
  } finally {
    teardown();
  }
  return rows;
}

// ---- memory -----------------------------------------------------------------------------------

interface MemRow {
  tool: string;
  ports: number;
  load: string;
  usedDelta: number;
  rss: number;
  pss: number;
  frames: string;
}

async function memory(file: string, portCounts: number[], withCap: boolean, prefix: string): Promise<MemRow[]> {
  const { up, down } = await import('../lab/lab.js');
  const { defaultParams, namespaces } = await import('../lab/topology.js');
  const rows: MemRow[] = [];
  for (const n of portCounts) {
    const params = {
      ...defaultParams(`${prefix}m`),
      bridge: process.env.BONDSCOPE_LAB_BRIDGE ?? 'xenbr9',
      hostMac: '00:25:90:00:09:01',
      guests: Array.from({ length: n }, (_, i) => ({ vif: `vif${i + 1}.0`, mac: `00:16:3e:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, ip: `198.51.${100 + (i >> 7)}.${(i & 0x7f) + 11}` })),
    };
    down(params.prefix);
    process.stderr.write(`bench:live: lab host with ${n} guest ports\n`);
    up('lacp', params);
    const ns = namespaces(params);
    const tools: [string, string, string[], string][] = [
      ['bondscope live (ring)', 'ip', ['netns', 'exec', ns.host, process.execPath, BIN, 'live', '--no-kernel', '--json', '--bond', `${params.bond}=${params.slaves.join(',')}`], 'capturing on'],
      ...(withCap ? ([['bondscope live (cap)', 'ip', ['netns', 'exec', ns.host, process.execPath, BIN, 'live', '--backend', 'cap', '--no-kernel', '--json', '--bond', `${params.bond}=${params.slaves.join(',')}`], 'capturing on']] as [string, string, string[], string][]) : []),
      ['tcpdump -i any', 'ip', ['netns', 'exec', ns.host, 'tcpdump', '-n', '-i', 'any', '-w', '/dev/null'], 'listening on'],
    ];
    try {
      for (const [tool, cmd, args, ready] of tools) {
        for (const load of ['idle', '100000/s']) {
          await sleep(1000);
          const before = await usedMedian();
          const s = await startUntil(cmd, args, ready);
          let replay: ChildProcess | null = null;
          let replayOut = '';
          if (load !== 'idle') {
            // For the host (its MAC): seen on the NIC, the bond and the bridge, not flooded to guests.
            replay = spawn('ip', ['netns', 'exec', ns.sw, 'tcpreplay-edit', '-i', 'sw-p1', '--pps', '100000', '--loop', '4', `--enet-dmac=${params.hostMac}`, file], { stdio: ['ignore', 'pipe', 'pipe'] });
            replay.stdout!.on('data', (d) => (replayOut += d));
          }
          await sleep(1500);
          const during: number[] = [];
          let rss = 0;
          let pss = 0;
          for (let i = 0; i < 10; i++) {
            during.push(usedMiB());
            const m = memMiB(s.p.pid!);
            rss = Math.max(rss, m.rss);
            pss = Math.max(pss, m.pss);
            await sleep(300);
          }
          s.p.kill('SIGINT');
          if (replay) await exited(replay);
          await exited(s.p);
          await sleep(500);
          // The machine is shared: used memory before and after, against the median while running.
          const after = await usedMedian();
          const used = during.sort((a, b) => a - b)[5]! - (before + after) / 2;
          let frames = '';
          if (tool.startsWith('bondscope')) {
            try {
              const c = (JSON.parse(s.out()) as { stats: { capture: { frames: number; kernelDrops: number | null; internalDrops: number } } }).stats.capture;
              frames = `${c.frames} captured, drops ${c.kernelDrops ?? '?'}+${c.internalDrops}`;
            } catch {
              frames = 'no report';
            }
          } else frames = `${/(\d+) packets captured/.exec(s.err())?.[1]} captured, drops ${/(\d+) packets dropped by kernel/.exec(s.err())?.[1]}`;
          const rated = /Rated: .*?([\d.]+) pps/.exec(replayOut);
          rows.push({ tool, ports: n, load: load === 'idle' ? 'idle' : `${rated ? Math.round(Number(rated[1])) : '?'} frames/s`, usedDelta: used, rss, pss, frames });
          process.stderr.write(`bench:live:   ${tool}, ${load}: +${used.toFixed(0)} MiB used, ${rss.toFixed(0)} MiB RSS, ${pss.toFixed(0)} MiB PSS\n`);
        }
      }
    } finally {
      down(params.prefix);
    }
  }
  return rows;
}

// ---- cpu: ring to engine ----------------------------------------------------------------------

async function cpu(file: string): Promise<{ frames: number; seconds: number; blocks: number }> {
  const { openCapture } = await import('../../src/capture/index.js');
  const { buildBlock } = await import('../helpers/tpacket.js');
  const { parseBlock, frameCapacity, INDEX_STRIDE } = await import('../../src/capture/ring/block.js');
  const { handOn } = await import('../../src/capture/ring/ring-capture.js');
  const { decodeFrame, DecodedFrame } = await import('../../src/decode/index.js');
  const { Analyzer, DEFAULT_OPTIONS } = await import('../../src/engine/analyzer.js');
  const { emptyTopology } = await import('../../src/model/topology.js');
  const { InterfaceRegistry, PacketRecord } = await import('../../src/model/record.js');
  // Blocks of at most 1 MiB, as the ring's, from the replay file, received on one interface: the
  // same frames the rate runs capture on rx0.
  const blocks: Uint8Array[] = [];
  const set = openCapture([file]);
  let batch: Parameters<typeof buildBlock>[0] = [];
  let bytes = 48;
  while (set.next()) {
    const r = set.rec;
    batch.push({ bytes: r.buf.slice(r.offset, r.offset + r.caplen), len: r.origLen, ifindex: 2, pkttype: 0, sec: r.tsSec, nsec: r.tsNsec });
    bytes += (86 + r.caplen + 15) & ~15;
    if (bytes > (1 << 20) - 2048) {
      blocks.push(buildBlock(batch));
      batch = [];
      bytes = 48;
    }
  }
  if (batch.length) blocks.push(buildBlock(batch));
  const reg = new InterfaceRegistry();
  const ifaces = new Map([[2, reg.add({ name: 'rx0', description: null, linkType: 1, fcsLen: 0, snaplen: 65535, tsDigits: 9, input: 'live', inputIndex: 0, section: 0, localId: 0 })]]);
  const analyzer = new Analyzer(emptyTopology(), DEFAULT_OPTIONS);
  const frame = new DecodedFrame();
  const rec = new PacketRecord();
  const onPacket = (p: InstanceType<typeof PacketRecord>): void => {
    decodeFrame(p, frame);
    analyzer.observe(p, frame);
  };
  // Each block is a fresh copy, as the binding hands it (parseBlock puts VLAN tags back in place).
  const copies = blocks.map((b) => b.slice());
  const t0 = process.hrtime.bigint();
  let frames = 0;
  for (const b of copies) {
    const index = new Uint32Array(frameCapacity(b.length) * INDEX_STRIDE);
    const res = parseBlock(b, index);
    frames = handOn(b, index, res.frames, ifaces, rec, frames, onPacket);
  }
  analyzer.finish();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { frames, seconds, blocks: blocks.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      parts: { type: 'string', default: 'rates,memory,cpu' },
      frames: { type: 'string', default: '200000' },
      rates: { type: 'string', default: '10000,50000,100000,200000,0' },
      ports: { type: 'string', default: '4,32,64' },
      cap: { type: 'boolean', default: false },
      prefix: { type: 'string', default: process.env.BONDSCOPE_LAB_PREFIX ?? 'bslbench' },
    },
  });
  const parts = new Set(values.parts.split(','));
  if ((parts.has('rates') || parts.has('memory')) && process.getuid?.() !== 0) throw new Error('bench:live needs root (network namespaces, capture)');
  const dir = mkdtempSync(join(tmpdir(), 'bondscope-live-bench-'));
  const file = join(dir, 'replay.pcap');
  generateBenchPcap(file, Number(values.frames));
  const out: string[] = [];
  try {
    if (parts.has('cpu')) {
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await cpu(file));
      runs.sort((a, b) => a.seconds - b.seconds);
      const m = runs[2]!;
      out.push('| ring to engine, one thread (blocks built from the replay file) | frames | blocks | seconds | frames/s |', '|---|---:|---:|---:|---:|');
      out.push(`| index, hand on, decode, observe (median of 5) | ${m.frames} | ${m.blocks} | ${m.seconds.toFixed(3)} | ${(m.frames / m.seconds / 1e6).toFixed(2)} M/s |`, '');
    }
    if (parts.has('rates')) {
      const rows = await rates(file, values.rates.split(',').map(Number), values.prefix);
      const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(1)}%`;
      out.push('| replay rate | sent | bondscope live (ring) | its kernel drops | its own drops | bondscope CPU s | frames per CPU-second | tcpdump | tcpdump: dropped by kernel |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
      for (const r of rows) out.push(`| ${r.rate} | ${r.sent} | ${r.bondscope} (${pct(r.bondscope, r.sent)}) | ${r.kernelDrops ?? '?'} | ${r.internalDrops} | ${r.cpu.toFixed(2)} | ${r.cpu > 0 ? `${Math.round(r.bondscope / r.cpu)}` : '-'} | ${r.tcpdump} (${pct(r.tcpdump, r.sent)}) | ${r.tcpdumpDropped} |`);
      out.push('');
    }
    if (parts.has('memory')) {
      const rows = await memory(file, values.ports.split(',').map(Number), values.cap, values.prefix);
      out.push('| capture | guest ports | load | used memory while running − before/after | PSS of its processes | RSS of its processes | frames |', '|---|---:|---|---:|---:|---:|---|');
      for (const r of rows) out.push(`| ${r.tool} | ${r.ports} | ${r.load} | ${r.usedDelta.toFixed(0)} MiB | ${r.pss.toFixed(0)} MiB | ${r.rss.toFixed(0)} MiB | ${r.frames} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
