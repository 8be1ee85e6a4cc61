/**
 * The long fuzz run: `npm run fuzz -- --duration 600 --seed 7`.
 *
 * Mutants of every capture in ../shared/corpus and captures/ go through the whole pipeline
 * (reader, decoder, engine, text and JSON reports, frame summaries) with the invariants of
 * test/fuzz/driver.ts. An input that breaks one is written to test/fuzz/crashers/ (or --out DIR)
 * with a .txt note saying what broke and how the input was made; test/fuzz/crashers.test.ts
 * replays every file there. Same --seed, same inputs. Exit 1 when anything broke.
 *
 * Every fourth input (--export-every N; 0 for none) also goes through the evidence export (plain
 * and --sanitize in turn), whose bundle must read back cleanly.
 *
 * An input that hangs (no progress for --hang S, default 60) is saved by a watchdog thread, which then ends
 * the run: the pipeline is synchronous, so nothing else could stop it.
 *
 * Options: --duration S (default 60), --seed N (default: the time), --out DIR, --max-heap MB
 * (heap growth allowed over the whole run after a GC, default 256: a leak shows up as growth),
 * --hang S (default 60); --replay FILE... (or just FILE...) checks saved inputs instead of fuzzing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { checkExport, checkInput, exportStats, saveCrasher, timeBudgetMs } from './driver.js';
import { loadSeed, mutate, PROJECT_ROOT, Rng, seedPaths } from './mutate.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A hang cannot be interrupted from inside (the pipeline is synchronous), so a watchdog thread
 * watches a heartbeat the main thread bumps for each input. When it stops moving, the watchdog
 * saves the input being run (its bytes are on disk under work/input/, how it was made in
 * work/current.json) as a crasher and kills the process.
 */
function startWatchdog(work: string, out: string, limitMs: number): Int32Array {
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const code = String.raw`
    const { workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const path = require('node:path');
    const { beat, work, out, limit } = workerData;
    let last = Atomics.load(beat, 0);
    let since = Date.now();
    setInterval(() => {
      const now = Atomics.load(beat, 0);
      if (now !== last) { last = now; since = Date.now(); return; }
      if (Date.now() - since < limit) return;
      let current = { how: '', ext: '.pcap' };
      try { current = JSON.parse(fs.readFileSync(path.join(work, 'current.json'), 'utf8')); } catch {}
      const target = path.join(out, 'hang-' + Date.now() + current.ext);
      fs.mkdirSync(out, { recursive: true });
      fs.copyFileSync(path.join(work, 'input', 'capture' + current.ext), target);
      fs.writeFileSync(target.replace(/\.\w+$/, '.txt'), 'hang: no progress for ' + limit / 1000 + ' s\n\nmade by: ' + current.how + '\n');
      // Straight to fd 1: a worker's process.stdout goes through the main thread, which is stuck.
      fs.writeSync(1, 'fuzz: FAIL hang: no progress for ' + limit / 1000 + ' s\n      ' + current.how + '\n      saved ' + target + '\n');
      process.kill(process.pid, 'SIGKILL');
    }, 1000);
  `;
  new Worker(code, { eval: true, workerData: { beat, work, out, limit: limitMs } }).unref();
  return beat;
}


async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        duration: { type: 'string', default: '60' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'max-heap': { type: 'string', default: '256' },
        hang: { type: 'string', default: '60' },
        // Every how many inputs the evidence export runs too (it reads the input twice and writes a bundle); 0: never.
        'export-every': { type: 'string', default: '4' },
        replay: { type: 'string', multiple: true },
      },
    });
  } catch (err) {
    process.stderr.write(`fuzz: ${(err as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  // Files after the options are replayed like --replay FILE.
  if (positionals.length) values.replay = [...(values.replay ?? []), ...positionals];
  const duration = Number(values.duration);
  const seed = values.seed === undefined ? Date.now() % 0x7fffffff : Number(values.seed);
  const maxHeap = Number(values['max-heap']) * (1 << 20);
  const hangMs = Number(values.hang) * 1000;
  const exportEvery = Number(values['export-every']);
  if (!(duration > 0) || !Number.isInteger(seed) || !(maxHeap > 0) || !(hangMs > 0) || !(Number.isInteger(exportEvery) && exportEvery >= 0)) {
    process.stderr.write('usage: npm run fuzz -- [--duration SECONDS] [--seed N] [--out DIR] [--max-heap MB] [--hang SECONDS] [--export-every N] [FILE...]\n');
    return 2;
  }
  const out = resolve(values.out ?? join(PROJECT_ROOT, 'test/fuzz/crashers'));
  const work = mkdtempSync(join(tmpdir(), 'bondscope-fuzz-'));
  if (values.replay) {
    // One or more saved inputs, each through the pipeline and both exports, under the watchdog.
    const beat = startWatchdog(work, out, hangMs);
    let bad = 0;
    for (const file of values.replay) {
      const ext = /\.pcapng$/.test(file) ? '.pcapng' : '.pcap';
      writeFileSync(join(work, 'current.json'), JSON.stringify({ how: `--replay ${file}`, ext }));
      Atomics.add(beat, 0, 1);
      const bytes = new Uint8Array(readFileSync(file));
      const reason = checkInput(bytes, ext, work, { timeLimitMs: timeBudgetMs(bytes.length) }) ?? (await checkExport(bytes, ext, work, false)) ?? (await checkExport(bytes, ext, work, true));
      process.stdout.write(`${file}: ${reason ?? 'ok'}\n`);
      if (reason) bad++;
    }
    rmSync(work, { recursive: true, force: true });
    return bad ? 1 : 0;
  }
  const seeds = seedPaths().map(loadSeed);
  if (!seeds.length) {
    process.stderr.write('fuzz: no seed captures found (../shared/corpus, captures/)\n');
    return 2;
  }
  process.stdout.write(`fuzz: ${seeds.length} seeds, seed ${seed}, ${duration} s, crashers to ${out}\n`);
  const beat = startWatchdog(work, out, hangMs);
  const running = (how: string, ext: string): void => {
    writeFileSync(join(work, 'current.json'), JSON.stringify({ how, ext }));
    Atomics.add(beat, 0, 1);
  };
  const rng = new Rng(seed);
  const failures = new Map<string, number>();
  let saved = 0;
  const record = (bytes: Uint8Array, ext: string, reason: string, how: string): void => {
    // One signature per kind of failure (numbers stripped), three examples each at most.
    const signature = reason.split('\n')[0]!.replace(/\d+/g, 'N');
    const n = failures.get(signature) ?? 0;
    failures.set(signature, n + 1);
    if (n < 3) {
      const path = saveCrasher(out, bytes, ext, `${reason}\n\nmade by: ${how}\n`);
      saved++;
      process.stdout.write(`fuzz: FAIL ${reason.split('\n')[0]}\n      ${how}\n      saved ${path}\n`);
    }
  };

  // The seeds themselves first: they must pass untouched.
  for (const [i, s] of seeds.entries()) {
    running(`seed ${s.name}, unmutated`, s.ext);
    const reason = checkInput(s.bytes, s.ext, work, { timeLimitMs: timeBudgetMs(s.bytes.length) }) ?? (exportEvery > 0 ? await checkExport(s.bytes, s.ext, work, i % 2 === 1) : null);
    if (reason) record(s.bytes, s.ext, reason, `seed ${s.name}, unmutated`);
  }
  gc();
  const baseHeap = process.memoryUsage().heapUsed;
  let peakHeap = baseHeap;
  const start = Date.now();
  let lastReport = start;
  let execs = 0;
  while (Date.now() - start < duration * 1000) {
    const s = rng.pick(seeds);
    const { bytes, ops } = mutate(s, rng, seeds);
    running(`seed ${s.name}; ${ops.join('; ')}`, s.ext);
    let reason = checkInput(bytes, s.ext, work, { timeLimitMs: timeBudgetMs(bytes.length) });
    if (!reason && exportEvery > 0 && execs % exportEvery === 0) reason = await checkExport(bytes, s.ext, work, execs % (2 * exportEvery) === 0);
    execs++;
    if (reason) record(bytes, s.ext, reason, `seed ${s.name}; ${ops.join('; ')}`);
    if (execs % 500 === 0) {
      gc();
      const heap = process.memoryUsage().heapUsed;
      peakHeap = Math.max(peakHeap, heap);
      if (heap - baseHeap > maxHeap) {
        record(bytes, s.ext, `heap grew ${Math.round((heap - baseHeap) / 1048576)} MiB over the run (limit ${maxHeap / 1048576}): a leak`, `after ${execs} inputs; last seed ${s.name}; ${ops.join('; ')}`);
        break;
      }
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const secs = (lastReport - start) / 1000;
      process.stdout.write(`fuzz: ${execs} inputs in ${secs.toFixed(0)} s (${(execs / secs).toFixed(0)}/s), ${failures.size} kinds of failure\n`);
    }
  }
  rmSync(work, { recursive: true, force: true });
  const secs = (Date.now() - start) / 1000;
  process.stdout.write(
    `fuzz: done: ${execs} inputs in ${secs.toFixed(0)} s, heap after GC ${Math.round(baseHeap / 1048576)} -> peak ${Math.round(peakHeap / 1048576)} MiB, ` +
      `${exportStats.bundles} evidence bundles written and read back (${exportStats.evidenceFrames} frames), ${exportStats.refused} exports refused, ` +
      `${failures.size} kinds of failure${saved ? `, ${saved} crashers saved in ${out}` : ''}\n`,
  );
  for (const [sig, n] of failures) process.stdout.write(`  ${n}x ${sig}\n`);
  return failures.size ? 1 : 0;
}

process.exitCode = await main();
