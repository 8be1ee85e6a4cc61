/**
 * Preloaded into a process under measurement (`node --import dist/test/bench/memory-probe.js …`)
 * by the monitor's soak bench: every BONDSCOPE_MEMORY_PROBE_MS (default 5000) it appends one JSON
 * line to the file BONDSCOPE_MEMORY_PROBE names — where the process's memory is: resident and
 * anonymous (from /proc), V8's heap committed and used, each heap space's committed size (the
 * young generation's semispaces among them), and the memory outside V8's heap (array buffers).
 * The main thread's only (the capture ring's reader thread has a heap of its own, a few MiB).
 * With BONDSCOPE_MEMORY_SNAPSHOT_AT=S it also writes a V8 heap snapshot S seconds in (to
 * BONDSCOPE_MEMORY_SNAPSHOT, or beside the file).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BONDSCOPE_MEMORY_PROBE;
const every = Number(process.env.BONDSCOPE_MEMORY_PROBE_MS ?? 5000);
const MiB = 2 ** 20;

function rollup(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of readFileSync('/proc/self/smaps_rollup', 'utf8').matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]) / 1024;
  } catch {
    /* not Linux */
  }
  return out;
}

const snapshotAt = Number(process.env.BONDSCOPE_MEMORY_SNAPSHOT_AT ?? NaN);

if (file && isMainThread) {
  const t0 = Date.now();
  if (snapshotAt >= 0) setTimeout(() => writeHeapSnapshot(process.env.BONDSCOPE_MEMORY_SNAPSHOT ?? `${file}.heapsnapshot`), snapshotAt * 1000).unref();
  const timer = setInterval(() => {
    const u = process.memoryUsage();
    const r = rollup();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, +(s.space_size / MiB).toFixed(2)]));
    const line = { t: (Date.now() - t0) / 1000, rss: u.rss / MiB, anon: r.Anonymous ?? NaN, heapTotal: u.heapTotal / MiB, heapUsed: u.heapUsed / MiB, external: u.external / MiB, arrayBuffers: u.arrayBuffers / MiB, spaces };
    appendFileSync(file, JSON.stringify(line) + '\n');
  }, every);
  timer.unref();
}
