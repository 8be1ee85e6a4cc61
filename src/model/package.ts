/**
 * Where bondscope's own files are: the package root (bin/, build/Release/ with the ring binding),
 * a worker thread's script beside the module that starts it — or, inside the single executable
 * (Node's single-executable application, `npm run package`), the assets it carries instead: the
 * worker threads' code, the ring binding (written to a private directory once, as a native
 * module must be a file to be loaded), the vendor registry, package.json.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The package root: from dist/src/<stage>/… or src/<stage>/… (vitest runs the sources), the first folder up with package.json and bin/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin'))) return dir;
    dir = resolve(dir, '..');
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

/**
 * The compiled script of a worker thread (`name`.js beside the module at `moduleUrl`). Run from
 * the TypeScript sources (vitest), there is none beside it: the build's copy in dist/ is used
 * (`npm test` compiles first).
 */
export function workerScript(moduleUrl: string, name: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const beside = join(here, `${name}.js`);
  if (existsSync(beside)) return beside;
  const root = packageRoot();
  return join(root, 'dist', relative(root, here), `${name}.js`);
}

interface Sea {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
  getAsset(key: string, encoding: string): string;
}

let sea: Sea | null | undefined;

/** node:sea when running as the single executable, else null (node:sea has isSea since Node 20.12). */
function executable(): Sea | null {
  if (sea === undefined) {
    try {
      const s = createRequire(import.meta.url)('node:sea') as Sea;
      sea = typeof s.isSea === 'function' && s.isSea() ? s : null;
    } catch {
      sea = null;
    }
  }
  return sea;
}

export function runningAsExecutable(): boolean {
  return executable() !== null;
}

/** An asset the single executable carries (scripts/package.mjs lists them), or null outside it. */
export function executableAsset(name: string): Uint8Array | null {
  const s = executable();
  return s ? new Uint8Array(s.getAsset(name)) : null;
}

/** Set by the thread that wrote the ring binding out, and by startWorker in the threads it starts: one path per process. */
const RING_PATH_KEY = '__bondscopeRingBinding';

/**
 * Loads the single executable's ring binding, or returns null outside the executable. The first
 * thread writes it to a private 0700 directory, loads it and removes it at once (before any
 * privilege is dropped, nothing is left behind): later threads load the same path, which the
 * dynamic loader finds already loaded, so every thread sees the same rings.
 */
export function loadExecutableRingBinding(): unknown {
  const s = executable();
  if (!s) return null;
  const g = globalThis as Record<string, unknown>;
  const module = { exports: {} as unknown };
  if (typeof g[RING_PATH_KEY] === 'string') {
    process.dlopen(module, g[RING_PATH_KEY]);
    return module.exports;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bondscope-'));
  const path = join(dir, 'bondscope_ring.node');
  try {
    writeFileSync(path, new Uint8Array(s.getAsset('bondscope_ring.node')), { mode: 0o700 });
    process.dlopen(module, path);
    g[RING_PATH_KEY] = path;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return module.exports;
}

/**
 * Starts the worker thread `name` (the module beside `moduleUrl`): its compiled script, or inside
 * the single executable the code it carries for it (run as eval code, told where the ring
 * binding was written).
 */
export function startWorker(moduleUrl: string, name: string, options: WorkerOptions): Worker {
  const s = executable();
  if (!s) return new Worker(workerScript(moduleUrl, name), options);
  const ring = (globalThis as Record<string, unknown>)[RING_PATH_KEY];
  const prelude = typeof ring === 'string' ? `globalThis[${JSON.stringify(RING_PATH_KEY)}] = ${JSON.stringify(ring)};\n` : '';
  return new Worker(prelude + s.getAsset(`${name}.js`, 'utf8'), { ...options, eval: true });
}
