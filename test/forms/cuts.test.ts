/**
 * Cuts, everywhere: a capture stopped part way (tcpdump or dumpcap killed, a copy broken off, a
 * file truncated to attach it) is the weakening users bring most, and where it ends decides what
 * the engine is left with — the forms sweep (forms.test.ts) cuts each file at one place only. Here
 * every recording's pcapng is cut at offsets spread over the file (dense over its first blocks,
 * where dumpcap's batches leave some interfaces ahead of others), and each per-interface file of
 * a recording is cut while the others stay whole (one tcpdump killed early). Each cut is held to
 * the same rule as every form (oracle.ts) against the kernel's truth: a weaker form proves less,
 * never something else.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { base, type Form, HAS_TOOLS, recordings } from './forms.js';
import { analyzeForm, violations } from './oracle.js';

const work = mkdtempSync(join(tmpdir(), 'bondscope-cuts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Offsets into a file of `size` bytes: every 250 bytes over its first 6 000, then every 4% of it. */
function offsets(size: number): number[] {
  const out = new Set<number>();
  for (let n = 1000; n < Math.min(size, 6000); n += 250) out.add(n);
  for (let k = 1; k < 25; k++) out.add(Math.floor((size * k) / 25));
  return [...out].filter((n) => n < size).sort((a, b) => a - b);
}

/** Whether Wireshark's reader (capinfos) says the file ends in the middle of a packet: what makes the form `cut`. */
const endsMidPacket = (file: string): boolean => spawnSync('capinfos', ['-c', file], { stdio: 'ignore' }).status !== 0;

let counter = 0;
/** The form with file `i` of its specs cut to `bytes`. */
function cut(f: Form, i: number, bytes: number): Form {
  const d = join(work, String(++counter));
  mkdirSync(d);
  const src = f.specs[i]!;
  const out = join(d, basename(src));
  writeFileSync(out, readFileSync(src).subarray(0, bytes));
  // A cut on a block's boundary is a shorter capture, whole as far as it goes: partial, not damaged.
  const damaged = endsMidPacket(out);
  return { ...f, chain: [...f.chain, `${basename(src)} cut at ${bytes} bytes`], specs: f.specs.map((s, j) => (j === i ? out : s)), cut: damaged, partial: true };
}

describe.skipIf(!HAS_TOOLS)('a capture cut anywhere proves less, never something else', () => {
  for (const rec of recordings()) {
    it(rec.name, { timeout: 300_000 }, () => {
      const found: string[] = [];
      const whole = base(rec, 'pcapng');
      const wholeAnalysis = analyzeForm(whole);
      const size = readFileSync(whole.specs[0]!).length;
      for (const n of offsets(size)) {
        const f = cut(whole, 0, n);
        found.push(...violations(f, analyzeForm(f), wholeAnalysis, null).map((v) => `${rec.name} ${f.chain.join(' → ')}: ${v}`));
      }
      // One tcpdump of the per-interface set killed early (at half its file, and near its end).
      const files = base(rec, 'pcaps');
      const filesAnalysis = analyzeForm(files);
      for (let i = 0; i < files.specs.length; i++) {
        const bytes = readFileSync(files.specs[i]!).length;
        if (bytes < 200) continue;
        for (const share of [0.5, 0.85]) {
          const f = cut(files, i, Math.floor(bytes * share));
          found.push(...violations(f, analyzeForm(f), filesAnalysis, null).map((v) => `${rec.name} ${f.chain.join(' → ')}: ${v}`));
        }
      }
      expect([...new Set(found)]).toEqual([]);
    });
  }
});
