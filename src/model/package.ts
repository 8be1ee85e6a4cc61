/**
 * Where bondscope's own files are: the package root (bin/, build/Release/ with the ring binding),
 * and a worker thread's script beside the module that starts it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
