/** External tools the tests use as oracles, and the one-line reasons tests skip without them. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
export const CORPUS = resolve(PROJECT_ROOT, '../shared/corpus');

function has(cmd: string, arg = '--version'): boolean {
  return spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
}

export const HAS_TSHARK = has('tshark');
export const HAS_CAPINFOS = has('capinfos', '-h');
export const IS_ROOT = process.getuid?.() === 0;

/** Runs tshark; drops the warning it prints on every run as root, so stderr holds only real complaints. */
export function tshark(args: string[]): SpawnSyncReturns<string> {
  const run = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  run.stderr = run.stderr
    .split('\n')
    .filter((l) => !/^Running as user "root" and group "root"\. This could be dangerous\.$/.test(l))
    .join('\n')
    .trim();
  return run;
}

/** Why live capture cannot be tested here (the `cap` module is optional and needs libpcap-dev), or null. */
export function capUnavailable(): string | null {
  try {
    createRequire(import.meta.url)('cap');
    return null;
  } catch {
    return 'the cap module is not built (needs libpcap-dev)';
  }
}

/** Why the capture ring binding cannot be used here (not built: needs g++ and libpcap-dev), or null. */
export function ringUnavailable(): string | null {
  if (!existsSync(resolve(PROJECT_ROOT, 'build/Release/bondscope_ring.node'))) return 'the capture ring binding is not built (needs g++ and libpcap-dev)';
  return null;
}

/** Why neither live backend (the ring, or cap as the fallback) can be tested here, or null. */
export function liveUnavailable(): string | null {
  const ring = ringUnavailable();
  const cap = capUnavailable();
  return ring && cap ? `${ring}; ${cap}` : null;
}
