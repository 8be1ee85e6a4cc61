/**
 * `--help` and the manual page come from the same usage data (src/cli/help.ts): each command's
 * printed help is that data rendered, every option its parser takes is in it (and nothing it does
 * not take), and man/bondscope.1 — written by the build — is that data rendered as roff, clean
 * under groff's warnings, with every command's every option and its words.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers/tools.js';
import { OPTIONS as analyzeOptions } from '../src/cli/analyze.js';
import { OPTIONS as checkOptions } from '../src/cli/check.js';
import { OPTIONS as exportOptions } from '../src/cli/export.js';
import { OPTIONS as framesOptions } from '../src/cli/frames.js';
import { helpText, type CommandHelp } from '../src/cli/help.js';
import { LIVE_OPTIONS } from '../src/cli/live.js';
import { ALL_HELP, manual } from '../src/cli/manual.js';
import { OPTIONS as monitorOptions } from '../src/cli/monitor.js';
import { OPTIONS as probeOptions } from '../src/cli/probe.js';
import { OPTIONS as viewOptions } from '../src/cli/ui.js';

const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const PARSERS: Record<string, Record<string, { short?: string }>> = {
  '': { ...viewOptions, replay: {} },
  analyze: analyzeOptions,
  frames: framesOptions,
  export: exportOptions,
  check: checkOptions,
  live: LIVE_OPTIONS,
  monitor: monitorOptions,
  probe: probeOptions,
};

/** `-i, --interface IF` → ['interface', 'i']. */
function documented(h: CommandHelp): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const g of h.groups) {
    for (const [flags] of g.options) {
      const long = /--([a-z][a-z-]*)/.exec(flags)![1]!;
      out.set(long, /^-([a-zA-Z]),/.exec(flags)?.[1]);
    }
  }
  return out;
}

describe('--help and bondscope(1) from one source', () => {
  it('documents every option each command parses, with its short form, and none it does not', () => {
    expect(ALL_HELP.map((h) => h.name).sort()).toEqual(Object.keys(PARSERS).sort());
    for (const h of ALL_HELP) {
      const doc = documented(h);
      const parser = PARSERS[h.name]!;
      expect([...doc.keys()].sort(), `bondscope ${h.name}`).toEqual(Object.keys(parser).sort());
      for (const [long, o] of Object.entries(parser)) expect(doc.get(long), `bondscope ${h.name} --${long}`).toBe(o.short);
    }
  });

  it('prints that usage for --help', () => {
    for (const h of ALL_HELP) {
      const r = spawnSync(process.execPath, [BIN, ...(h.name ? [h.name] : []), '--help'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      // `bondscope --help` lists the commands first, then the view's own usage.
      if (h.name) expect(r.stdout).toBe(helpText(h));
      else expect(r.stdout.endsWith(helpText(h))).toBe(true);
      for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    }
  });

  it('man/bondscope.1 is that usage as roff: every command and option, clean under groff', () => {
    const file = join(PROJECT_ROOT, 'man', 'bondscope.1');
    expect(existsSync(file), 'npm run build writes man/bondscope.1').toBe(true);
    const page = readFileSync(file, 'utf8');
    expect(page).toBe(manual());
    const g = spawnSync('groff', ['-man', '-ww', '-z', file], { encoding: 'utf8' });
    if (!g.error) expect(g.stderr).toBe('');
    // Rendered as a reader sees it: each command's options, each with its text.
    const text = spawnSync('groff', ['-man', '-Tutf8', '-P', '-cbou', file], { encoding: 'utf8' });
    if (text.error) return;
    const flat = text.stdout.replace(/‐\n\s*/g, '').replace(/\s+/g, ' ');
    for (const h of ALL_HELP) {
      expect(flat).toContain(h.name ? `bondscope ${h.name}` : 'bondscope FILE... (the view)');
      for (const g2 of h.groups) for (const [flags, words] of g2.options) {
        expect(flat, flags).toContain(flags.replace(/\s+/g, ' '));
        expect(flat, words).toContain(words.replace(/`/g, '').replace(/\s+/g, ' '));
      }
    }
  });
});
