/**
 * Every input that once broke an invariant (test/fuzz/crashers/, written by `npm run fuzz` or made
 * for a bug found by hand, each with a .txt note saying what broke) passes every invariant now,
 * through the pipeline and through the evidence export.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkExport, checkInput, timeBudgetMs } from './driver.js';

const DIR = join(import.meta.dirname, 'crashers');
const files = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
const work = mkdtempSync(join(tmpdir(), 'bondscope-crashers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fuzz crashers replayed', () => {
  it('the folder holds regression inputs, each with its note', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(DIR, f.replace(/\.\w+$/, '.txt')), 'utf8').length).toBeGreaterThan(0);
  });

  it.each(files)('%s', async (f) => {
    const bytes = new Uint8Array(readFileSync(join(DIR, f)));
    const ext = f.endsWith('.pcapng') ? '.pcapng' : '.pcap';
    expect(checkInput(bytes, ext, join(work, f), { timeLimitMs: timeBudgetMs(bytes.length) })).toBeNull();
    // And through the evidence export, plain and sanitized: the bundle must read back.
    expect(await checkExport(bytes, ext, join(work, f), false)).toBeNull();
    expect(await checkExport(bytes, ext, join(work, f), true)).toBeNull();
  });
});
