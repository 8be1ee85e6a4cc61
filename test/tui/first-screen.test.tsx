/**
 * What a 120×40 terminal shows first, for every shipped capture in every form: the verdict (its
 * word), the guests the loop hurts (each one's MAC) and the remedy — before anything is scrolled
 * or pressed. The verdict and its words come from the engine (verdict.ts); here only whether the
 * screen holds them is checked, against the engine's own verdict for the same files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { readToEnd } from './snapshots.js';
import { show, unmountShown } from './show.js';

afterEach(unmountShown);

const CAPTURES = join(PROJECT_ROOT, 'captures');
const RECORDINGS = readdirSync(CAPTURES).filter((d) => existsSync(join(CAPTURES, d, 'truth.json'))).sort();
const WORD = { loops: 'LOOPS', 'does-not-loop': 'DOES NOT LOOP', 'cannot-tell': 'CANNOT TELL' } as const;

describe('the first screen of a 120×40 terminal: verdict, hurt guests, remedy', () => {
  for (const d of RECORDINGS) {
    const t = JSON.parse(readFileSync(join(CAPTURES, d, 'truth.json'), 'utf8')) as { interfaces: string[]; loops: boolean };
    const forms: [string, string[]][] = [
      ['pcapng', [join(CAPTURES, d, `${d}.pcapng`)]],
      ['pcaps', t.interfaces.map((i) => join(CAPTURES, d, `${i}.pcap`))],
    ];
    for (const [form, specs] of forms) {
      it(`${d} ${form}`, async () => {
        const { snapshot, pipeline } = await readToEnd(specs);
        pipeline.stop();
        const v = snapshot.verdict!;
        expect(v, 'a verdict').not.toBeNull();
        // The verdict the truth calls for (the truth test holds every form to it; here: that it is what the screen shows).
        expect(v.state === 'loops', 'the verdict').toBe(t.loops);
        const screen = show(snapshot, { columns: 120, rows: 40, color: false }).frame();
        const lines = screen.split('\n');
        expect(lines.length).toBeLessThanOrEqual(40);
        for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(120);
        expect(screen).toContain(WORD[v.state]);
        for (const h of v.hurt) expect(screen, 'each hurt guest').toContain(h.slice(0, 17));
        if (v.remedy) expect(screen, 'the remedy').toContain(v.remedy.slice(0, 60));
      });
    }
  }
});
