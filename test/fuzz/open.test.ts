/**
 * Inputs that break an invariant in code this work does not own, kept until their owner fixes it
 * (test/fuzz/open/, each with a .txt note whose "fails with:" line starts the failure). Each is
 * expected to still fail that way: when one passes, the
 * bug is fixed and its file belongs in test/fuzz/crashers/, where it is replayed for good.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkExport, checkInput, timeBudgetMs } from './driver.js';

const DIR = join(import.meta.dirname, 'open');
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort() : [];
const work = mkdtempSync(join(tmpdir(), 'bondscope-open-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(files.length === 0)('known open fuzz failures (move a file to crashers/ once it passes)', () => {
  it.each(files)('%s still fails as its note says', async (f) => {
    const bytes = new Uint8Array(readFileSync(join(DIR, f)));
    const ext = f.endsWith('.pcapng') ? '.pcapng' : '.pcap';
    // The note's "fails with: " line gives the start of the failure it documents.
    const note = /^fails with: (.*)$/m.exec(readFileSync(join(DIR, f.replace(/\.\w+$/, '.txt')), 'utf8'))![1]!;
    const reason =
      checkInput(bytes, ext, join(work, f), { timeLimitMs: timeBudgetMs(bytes.length) }) ??
      (await checkExport(bytes, ext, join(work, f), false)) ??
      (await checkExport(bytes, ext, join(work, f), true));
    expect(reason, 'fixed: move it to test/fuzz/crashers/').not.toBeNull();
    // The same failure as noted, not another one.
    expect(reason!.startsWith(note)).toBe(true);
  });
});
