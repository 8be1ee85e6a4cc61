/**
 * `npm run bench`: generates the benchmark capture and measures, in one run and on one core,
 * frames/s and peak RSS for bondscope's read+decode (to MAC/VLAN level), bondscope analyze (its
 * loop timed in a fresh process, and the whole process on the file and on one five times its
 * size), pcap-parser's bare iteration, and tshark's field dump of the same file.
 *
 * Then the multi-port bench (multiport.ts): the same mix as a bonded bridge host's seven ports record
 * it, each frame on 4–6 ports (the loop variant's broadcasts on up to 12), as per-interface pcaps
 * and as one dumpcap-like pcapng; bondscope analyze and tshark's field dump on each, reporting
 * sightings/s (records read: a frame seen on five ports is five sightings), frames/s and peak RSS.
 * `--compare DIR` also runs DIR's bondscope (another checkout, built) on the same files, row by
 * row beside this one, so before and after are measured in one run on one machine state.
 *
 *   npm run bench [-- --frames N] [-- --mp-frames N] [-- --only multiport] [-- --compare DIR] [-- --keep]
 *
 * Every measurement runs as its own child process (wrapped by python3 for wall time and the
 * child's peak RSS from getrusage), so one tool's heap never counts against another's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT_CANNOT_TELL } from '../../src/cli/errors.js';
import { generateBenchPcap } from './generate.js';
import { generateMultiport, type MultiportRun } from './multiport.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SELF = fileURLToPath(import.meta.url);

interface Measured {
  name: string;
  frames: number;
  seconds: number;
  maxRssMiB: number;
  note?: string;
}

/** Runs `cmd` with stdout to /dev/null; returns wall seconds and the child's peak RSS. */
function measure(cmd: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; maxRssMiB: number; stderr: string; ok: boolean } {
  const py = [
    'import resource, subprocess, sys, time',
    't = time.monotonic()',
    'p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)',
    'dt = time.monotonic() - t',
    'sys.stderr.write(p.stderr.decode(errors="replace"))',
    'print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)',
  ].join('\n');
  const run = spawnSync('python3', ['-c', py, ...cmd], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const [dt, rss, rc] = run.stdout.trim().split(/\s+/).map(Number);
  // analyze's CANNOT TELL (exit 4: the single-port file holds no uplink) is an answer, not a failure.
  return { seconds: dt ?? NaN, maxRssMiB: (rss ?? 0) / 1024, stderr: run.stderr, ok: run.status === 0 && (rc === 0 || rc === EXIT_CANNOT_TELL) };
}

/**
 * In-child modes: each prints `{"frames":N,"seconds":S}` on stderr's last line, S being the loop
 * alone (modules are loaded before the clock starts; JIT warm-up is inside it).
 */
async function child(mode: string, file: string): Promise<void> {
  let run: () => number | Promise<number>;
  if (mode === 'pcap-parser') {
    const require = createRequire(import.meta.url);
    const pcapp = require('pcap-parser') as { parse(f: string): NodeJS.EventEmitter };
    run = () =>
      new Promise<number>((done, fail) => {
        let frames = 0;
        const p = pcapp.parse(file);
        p.on('packet', () => frames++);
        p.on('end', () => done(frames));
        p.on('error', fail);
      });
  } else if (mode === 'decode') run = await decodeLoop(file);
  else if (mode === 'analyze') run = await analyzeLoop(file);
  else throw new Error(`unknown bench mode ${mode}`);
  const t0 = process.hrtime.bigint();
  const frames = await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`${JSON.stringify({ frames, seconds })}\n`);
}

/** bondscope's read+decode to MAC/VLAN level: the loop every command runs. */
async function decodeLoop(file: string): Promise<() => number> {
  const { openCapture } = await import('../../src/capture/index.js');
  const { decodeFrame } = await import('../../src/decode/index.js');
  const { DecodedFrame } = await import('../../src/decode/frame.js');
  return () => {
    const source = openCapture([file]);
    const out = new DecodedFrame();
    let frames = 0;
    let check = 0;
    while (source.next()) {
      decodeFrame(source.rec, out);
      // Use what was decoded so the work cannot be optimised away.
      check += out.src + out.dst + out.vlan;
      frames++;
    }
    if (check === -1) process.stderr.write('');
    return frames;
  };
}

/** analyze's loop as the command runs it (read, decode, engine, findings), without Node's start or the output. */
async function analyzeLoop(file: string): Promise<() => number> {
  const { openCapture } = await import('../../src/capture/index.js');
  const { decodeFrame } = await import('../../src/decode/index.js');
  const { DecodedFrame } = await import('../../src/decode/frame.js');
  const { Analyzer, DEFAULT_OPTIONS } = await import('../../src/engine/analyzer.js');
  const { emptyTopology } = await import('../../src/model/topology.js');
  return () => {
    const source = openCapture([file]);
    const out = new DecodedFrame();
    const analyzer = new Analyzer(emptyTopology(), DEFAULT_OPTIONS);
    while (source.next()) {
      decodeFrame(source.rec, out);
      analyzer.observe(source.rec, out);
    }
    if (analyzer.finish().length === -1) process.stderr.write('');
    return analyzer.stats.frames;
  };
}

function lastJson(stderr: string): { frames: number; seconds: number } | null {
  const line = stderr.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { frames: number; seconds: number };
  } catch {
    return null;
  }
}

function fmtRate(frames: number, seconds: number): string {
  return `${(frames / seconds / 1e6).toFixed(2)} M/s`;
}

/**
 * Median of `runs` fresh processes per command: each includes its own JIT warm-up, none reuses
 * another's (this machine's speed wanders). Several commands are run in turn, round by round, so
 * a slow spell of the machine falls on all of them alike.
 */
function medianOf(cmds: string[][], inner: boolean, runs: number): { seconds: number; rss: number }[] {
  const all = cmds.map(() => [] as { seconds: number; rss: number }[]);
  for (let r = 0; r < runs; r++) {
    cmds.forEach((cmd, i) => {
      const m = measure(cmd);
      if (!m.ok) throw new Error(`${cmd.slice(1).join(' ')} failed: ${m.stderr.trim().split('\n').pop()}`);
      all[i]!.push({ seconds: inner ? (lastJson(m.stderr)?.seconds ?? m.seconds) : m.seconds, rss: m.maxRssMiB });
    });
  }
  return all.map((xs) => xs.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs / 2)]!);
}

function singlePort(n: number, dir: string, node: string): void {
  const big = resolve(dir, `bench-${n}.pcap`);
  const quarter = resolve(dir, `bench-${Math.floor(n / 4)}.pcap`);
  const large = resolve(dir, `bench-${5 * n}.pcap`);
  for (const [path, count] of [[big, n], [quarter, Math.floor(n / 4)], [large, 5 * n]] as const) {
    if (!existsSync(path)) {
      process.stderr.write(`bench: generating ${count} frames into ${path}\n`);
      generateBenchPcap(path, count);
    }
  }
  process.stderr.write(`bench: ${n} frames, ${(statSync(big).size / 2 ** 20).toFixed(0)} MiB\n`);

  const results: Measured[] = [];
  const bin = resolve(ROOT, 'bin/bondscope');
  const median = (cmd: string[], inner: boolean) => medianOf([cmd], inner, 5)[0]!;

  for (const [name, file, frames] of [
    ['bondscope read+decode', big, n],
    [`bondscope read+decode (${Math.floor(n / 4)} frames: memory vs size)`, quarter, Math.floor(n / 4)],
  ] as const) {
    const mid = median([node, SELF, 'child', 'decode', file], true);
    results.push({ name, frames, seconds: mid.seconds, maxRssMiB: mid.rss, note: 'timed loop in a fresh process, median of 5' });
  }
  if (existsSync(resolve(ROOT, 'dist/src/cli/analyze.js'))) {
    const loop = median([node, SELF, 'child', 'analyze', big], true);
    results.push({ name: 'bondscope analyze (read, decode, engine, findings)', frames: n, seconds: loop.seconds, maxRssMiB: loop.rss, note: 'timed loop in a fresh process, median of 5' });
    const whole = median([node, bin, 'analyze', '--json', big], false);
    results.push({ name: 'bondscope analyze --json', frames: n, seconds: whole.seconds, maxRssMiB: whole.rss, note: 'whole process, median of 5' });
    const five = median([node, bin, 'analyze', '--json', large], false);
    results.push({ name: `bondscope analyze --json (${5 * n} frames: fixed costs, memory vs size)`, frames: 5 * n, seconds: five.seconds, maxRssMiB: five.rss, note: 'whole process, median of 5' });
  }
  {
    const m = measure([node, SELF, 'child', 'pcap-parser', big]);
    const inner = lastJson(m.stderr);
    results.push({ name: 'pcap-parser (bare iteration)', frames: inner?.frames ?? n, seconds: inner?.seconds ?? m.seconds, maxRssMiB: m.maxRssMiB, note: 'timed loop in process' });
  }
  if (spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0) {
    const m = measure(['tshark', '-r', big, '-T', 'fields', '-e', 'eth.src', '-e', 'eth.dst', '-e', 'vlan.id']);
    results.push({ name: 'tshark -T fields eth.src eth.dst vlan.id', frames: n, seconds: m.seconds, maxRssMiB: m.maxRssMiB, note: 'whole process' });
  } else {
    process.stderr.write('bench: tshark not installed, its row is skipped\n');
  }

  const tshark = results.find((r) => r.name.startsWith('tshark'));
  const lines = ['| what | frames | seconds | frames/s | peak RSS | vs tshark | how timed |', '|---|---:|---:|---:|---:|---:|---|'];
  for (const r of results) {
    // Per frame, so rows on the larger file compare too.
    const vs = tshark ? `${(tshark.seconds / tshark.frames / (r.seconds / r.frames)).toFixed(1)}×` : '–';
    lines.push(`| ${r.name} | ${r.frames} | ${r.seconds.toFixed(3)} | ${fmtRate(r.frames, r.seconds)} | ${r.maxRssMiB.toFixed(0)} MiB | ${vs} | ${r.note ?? ''} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** Runs of each multi-port row (whole processes of ~1–3 s each). */
const MULTIPORT_RUNS = 3;

function multiPort(frames: number, dir: string, node: string, compare: string | undefined): void {
  const runs: { label: string; run: MultiportRun }[] = [];
  for (const loop of [false, true]) {
    const sub = resolve(dir, `multiport-${frames}${loop ? '-loop' : ''}`);
    process.stderr.write(`bench: generating the multi-port capture (${frames} frames${loop ? ', loop' : ''}) into ${sub}\n`);
    runs.push({ label: loop ? 'loop' : 'no loop', run: generateMultiport(sub, frames, loop) });
  }
  const bins: { who: string; bin: string }[] = [{ who: 'bondscope', bin: resolve(ROOT, 'bin/bondscope') }];
  if (compare) bins.push({ who: `bondscope (${compare})`, bin: resolve(compare, 'bin/bondscope') });
  const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
  const rows: string[] = [
    '| what | form | frames | sightings | seconds | sightings/s | frames/s | peak RSS | how timed |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  const row = (what: string, form: string, r: MultiportRun, seconds: number, rss: number, how: string): void => {
    rows.push(`| ${what} | ${form} | ${r.frames} | ${r.sightings} | ${seconds.toFixed(3)} | ${fmtRate(r.sightings, seconds)} | ${fmtRate(r.frames, seconds)} | ${rss.toFixed(0)} MiB | ${how} |`);
  };
  for (const { label, run } of runs) {
    for (const [form, files] of [
      [`${run.perInterface.length} per-interface pcaps`, run.perInterface],
      ['one dumpcap-like pcapng', [run.pcapng]],
    ] as const) {
      const got = medianOf(bins.map((b) => [node, b.bin, 'analyze', '--json', ...files]), false, MULTIPORT_RUNS);
      bins.forEach((b, i) => row(`${b.who} analyze --json, ${label}`, form, run, got[i]!.seconds, got[i]!.rss, `whole process, median of ${MULTIPORT_RUNS}`));
      if (hasTshark) {
        // tshark reads one file a process: the per-interface form is one tshark per file, in turn.
        const script = 'for f in "$@"; do tshark -r "$f" -T fields -e eth.src -e eth.dst -e vlan.id || exit 1; done';
        const m = measure(['sh', '-c', script, 'sh', ...files]);
        if (!m.ok) throw new Error(`tshark failed: ${m.stderr.trim().split('\n').pop()}`);
        row(`tshark -T fields eth.src eth.dst vlan.id, ${label}`, form, run, m.seconds, m.maxRssMiB, files.length > 1 ? 'whole processes, one per file in turn, once' : 'whole process, once');
      }
    }
  }
  if (!hasTshark) process.stderr.write('bench: tshark not installed, its rows are skipped\n');
  process.stdout.write('\nMulti-port (each frame on every port its path crosses):\n' + rows.join('\n') + '\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      frames: { type: 'string', default: '2000000' },
      'mp-frames': { type: 'string', default: '400000' },
      only: { type: 'string' },
      compare: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals[0] === 'child') return child(positionals[1]!, positionals[2]!);

  const dir = resolve(ROOT, 'bench-data');
  mkdirSync(dir, { recursive: true });
  const node = process.execPath;
  if (values.only !== 'multiport') singlePort(Number(values.frames), dir, node);
  if (values.only === undefined || values.only === 'multiport') multiPort(Number(values['mp-frames']), dir, node, values.compare);
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
