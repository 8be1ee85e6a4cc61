/**
 * Form invariance (metamorphic testing over every lab recording): each recording in captures/,
 * in each of its three recorded forms, goes through every transform a capture meets on its way
 * to a user (forms.ts), one at a time, and through chains of them that fast-check picks; each
 * result is held to the rule in oracle.ts against the kernel's truth. The failing chain is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { TruthAnalysis } from '../helpers/analyze.js';
import { base, type Form, HAS_TOOLS, recordings, transform, type Transform, TRANSFORMS } from './forms.js';
import { analyzeForm, sameUnderRenaming, violations } from './oracle.js';

const work = mkdtempSync(join(tmpdir(), 'bondscope-forms-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// While working on one class: BONDSCOPE_FORMS_ONLY=loop,pve-loop and BONDSCOPE_FORMS_TRANSFORMS='slaves only,gzip'
// narrow the sweep and the chains (CI runs them whole).
const only = (v: string | undefined): ((x: string) => boolean) => (v ? (x) => v.split(',').includes(x) : () => true);
const RECORDINGS = recordings().filter((r) => only(process.env.BONDSCOPE_FORMS_ONLY)(r.name));
const SWEPT = TRANSFORMS.filter((t) => only(process.env.BONDSCOPE_FORMS_TRANSFORMS)(t.name));
const BASES = ['pcapng', 'pcaps', 'any'] as const;

/** Each renaming and the other one, whose analysis must be the same (oracle.ts, sameUnderRenaming). */
const RENAMINGS: Record<string, string> = { renamed: 'renamed otherwise', 'renamed otherwise': 'renamed' };

/** Analyses by chain, so a base form is analysed once however many transforms start from it. */
const analysed = new Map<string, TruthAnalysis>();
function analysis(f: Form): TruthAnalysis {
  const k = `${f.rec.name}:${f.chain.join(' → ')}`;
  let a = analysed.get(k);
  if (!a) analysed.set(k, (a = analyzeForm(f)));
  return a;
}

/** Applies the chain to the base form; the violations of every form along it, each with its chain. */
function check(baseForm: Form, chain: Transform[]): string[] {
  const baseAnalysis = analysis(baseForm);
  const out = violations(baseForm, baseAnalysis, baseAnalysis, null).map((v) => `${baseForm.rec.name} ${baseForm.chain.join(' → ')}: ${v}`);
  let f = baseForm;
  let parent = baseAnalysis;
  for (const t of chain) {
    const next = t.apply(f, work);
    if (!next) continue;
    const a = analysis(next);
    out.push(...violations(next, a, baseAnalysis, t.reencoding ? parent : null).map((v) => `${next.rec.name} ${next.chain.join(' → ')}: ${v}`));
    // The same files under the other renaming (other names, another order): the same analysis.
    const other = RENAMINGS[t.name];
    const sibling = other ? transform(other).apply(f, work) : null;
    if (sibling) out.push(...sameUnderRenaming(next, a, sibling, analysis(sibling)).map((v) => `${next.rec.name} ${f.chain.join(' → ')}: ${v}`));
    f = next;
    parent = a;
  }
  return out;
}

describe.skipIf(!HAS_TOOLS)('every recording, every form, one transform at a time', () => {
  for (const rec of RECORDINGS) {
    it(rec.name, { timeout: 600_000 }, () => {
      const found: string[] = [];
      for (const b of BASES) for (const t of SWEPT) found.push(...check(base(rec, b), [t]));
      expect([...new Set(found)]).toEqual([]);
    });
  }
});

describe.skipIf(!HAS_TOOLS)('chains of transforms, as fast-check picks them', () => {
  it('a weaker form proves less, never something else', { timeout: 900_000 }, () => {
    const runs = Number(process.env.BONDSCOPE_FORMS_RUNS ?? 40);
    fc.assert(
      fc.property(
        fc.constantFrom(...RECORDINGS),
        fc.constantFrom(...BASES),
        fc.array(fc.constantFrom(...SWEPT), { minLength: 2, maxLength: 4 }),
        (rec, b, chain) => {
          const found = check(base(rec, b), chain);
          if (found.length) throw new Error(`${rec.name} ${b} → ${chain.map((t) => t.name).join(' → ')}:\n  ${[...new Set(found)].join('\n  ')}`);
        },
      ),
      { seed: Number(process.env.BONDSCOPE_FORMS_SEED ?? 19), numRuns: runs, endOnFailure: true },
    );
  });
});
