/**
 * One fuzz input through the pipeline with every invariant checked, including the one that needs
 * a second run: when an input stops at damage, the frames before the damage are analysed exactly
 * as the undamaged prefix (the file cut at the damage's byte offset) is analysed on its own.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { CaptureError } from '../../src/capture/index.js';
import { InvariantError, type PipelineOptions, runPipeline } from './pipeline.js';

export interface CheckOptions extends PipelineOptions {
  /** Wall-clock budget for one input (ms); both runs of a damaged input together. */
  timeLimitMs: number;
}

/** Time budget for an input of `bytes` bytes: a fixed allowance plus a rate far below the reader's speed. */
export function timeBudgetMs(bytes: number): number {
  return 2000 + bytes / 2000; // 2 s + 0.5 ms per KB (the pipeline does ~100 MB/s here)
}

/**
 * Runs `bytes` (named `name` + `ext` in `dir`) and returns what broke, or null. The input is
 * written under dir/input/ and its prefix under dir/prefix/ with the same file name, so both runs
 * name their interfaces alike.
 */
export function checkInput(bytes: Uint8Array, ext: string, dir: string, opts: CheckOptions): string | null {
  const whole = join(dir, 'input');
  const cut = join(dir, 'prefix');
  mkdirSync(whole, { recursive: true });
  mkdirSync(cut, { recursive: true });
  const path = join(whole, `capture${ext}`);
  writeFileSync(path, bytes);
  const started = performance.now();
  try {
    const r = runPipeline([path], opts);
    const damage = r.errors[0];
    if (r.errors.length > 1) return `one input gave ${r.errors.length} errors`;
    if (damage && !damage.unreadable) {
      if (!(damage.offset > 0 && damage.offset <= bytes.length)) return `damage offset ${damage.offset} outside the file of ${bytes.length} bytes: ${damage.message}`;
      const prefixPath = join(cut, `capture${ext}`);
      writeFileSync(prefixPath, bytes.subarray(0, damage.offset));
      const p = runPipeline([prefixPath], opts);
      if (p.errors.length) return `the prefix before the damage (${damage.message}) does not read cleanly: ${p.errors[0]!.message}`;
      if (p.frames !== r.frames) return `${r.frames} frames before the damage, ${p.frames} in the undamaged prefix (${damage.message})`;
      if (!isDeepStrictEqual(p.json, r.json)) return `the analysis of the frames before the damage differs from the prefix's (${damage.message})`;
    }
    if (damage?.unreadable && r.frames > 0) return `unreadable input delivered ${r.frames} frames first: ${damage.message}`;
  } catch (err) {
    if (err instanceof InvariantError) return err.message;
    if (err instanceof CaptureError) return `CaptureError thrown instead of reported: ${err.message}`;
    const e = err as Error;
    return `uncaught ${e?.name ?? typeof err}: ${e?.message ?? String(err)}\n${(e?.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  }
  const ms = performance.now() - started;
  if (ms > opts.timeLimitMs) return `took ${Math.round(ms)} ms, more than the ${Math.round(opts.timeLimitMs)} ms budget`;
  return null;
}

/** A short stable name for a crasher: FNV-1a of its bytes. */
export function crasherName(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return `${(h >>> 0).toString(16).padStart(8, '0')}-${bytes.length}`;
}

/** Writes a crasher and a note (what broke, which seed and mutations made it) into `dir`. */
export function saveCrasher(dir: string, bytes: Uint8Array, ext: string, note: string): string {
  mkdirSync(dir, { recursive: true });
  const name = crasherName(bytes);
  writeFileSync(join(dir, `${name}${ext}`), bytes);
  writeFileSync(join(dir, `${name}.txt`), note.endsWith('\n') ? note : note + '\n');
  return join(dir, `${name}${ext}`);
}
