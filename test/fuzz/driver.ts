/**
 * One fuzz input through the pipeline with every invariant checked, including the one that needs
 * a second run: when an input stops at damage, the frames before the damage are analysed exactly
 * as the undamaged prefix (the file cut at the damage's byte offset) is analysed on its own.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { CaptureError } from '../../src/capture/index.js';
import { ExportError, exportEvidence } from '../../src/export/evidence.js';
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

/**
 * The evidence export on `bytes`: it either refuses with an ExportError (one line) or writes,
 * within the same time budget as the pipeline, a bundle whose evidence.pcapng reads cleanly through the whole pipeline, holding the frames the
 * export says it wrote, and whose findings.json parses. Returns what broke, or null.
 */
/** How the exports of a run went: bundles written and read back, refusals (ExportError). */
export const exportStats = { bundles: 0, refused: 0, evidenceFrames: 0 };

export async function checkExport(bytes: Uint8Array, ext: string, dir: string, sanitize: boolean): Promise<string | null> {
  const whole = join(dir, 'input');
  const out = join(dir, 'bundle');
  mkdirSync(whole, { recursive: true });
  rmSync(out, { recursive: true, force: true });
  const path = join(whole, `capture${ext}`);
  writeFileSync(path, bytes);
  try {
    let summary;
    const started = performance.now();
    try {
      summary = await exportEvidence({ specs: [path], outDir: out, sanitize, sanitizeKey: new Uint8Array(32), now: new Date(0) });
    } catch (err) {
      if (err instanceof ExportError) {
        exportStats.refused++;
        return err.message.includes('\n') ? `export error of several lines: ${err.message}` : null;
      }
      throw err;
    }
    const ms = performance.now() - started;
    if (ms > timeBudgetMs(bytes.length)) return `export${sanitize ? ' --sanitize' : ''}: took ${Math.round(ms)} ms, more than the ${Math.round(timeBudgetMs(bytes.length))} ms budget`;
    const r = runPipeline([join(out, 'evidence.pcapng')]);
    if (r.errors.length) return `export${sanitize ? ' --sanitize' : ''}: its evidence.pcapng does not read cleanly: ${r.errors[0]!.message}`;
    if (r.frames !== summary.frames) return `export${sanitize ? ' --sanitize' : ''}: says ${summary.frames} frames, evidence.pcapng holds ${r.frames}`;
    JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8'));
    exportStats.bundles++;
    exportStats.evidenceFrames += r.frames;
    return null;
  } catch (err) {
    if (err instanceof InvariantError) return `export${sanitize ? ' --sanitize' : ''}: bundle: ${err.message}`;
    const e = err as Error;
    return `export${sanitize ? ' --sanitize' : ''}: uncaught ${e?.name ?? typeof err}: ${e?.message ?? String(err)}\n${(e?.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  }
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
