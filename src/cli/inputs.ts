/** How every command reports the state of its inputs at the end, and the exit code that follows. */
import type { CaptureSet } from '../capture/index.js';
import { safeText } from '../report/escape.js';
import { linkTypeName } from '../model/link-types.js';
import { EXIT_DAMAGED, EXIT_OK, EXIT_USAGE } from './errors.js';

/** Writes one line per input problem and per undecoded link type to stderr; returns the exit code. */
export function reportInputs(set: CaptureSet, undecoded: Map<number, number>): number {
  const lines: string[] = [];
  for (const [linkType, count] of undecoded) {
    lines.push(`bondscope: ${count} frame${count === 1 ? '' : 's'} of link type ${linkType} (${linkTypeName(linkType)}) not decoded`);
  }
  for (const w of set.warnings) lines.push(`bondscope: warning: ${safeText(w.message)}`);
  for (const e of set.errors) lines.push(`bondscope: ${safeText(e.message)}`);
  if (lines.length) process.stderr.write(lines.join('\n') + '\n');
  if (set.errors.some((e) => e.unreadable)) return EXIT_USAGE;
  return set.errors.length ? EXIT_DAMAGED : EXIT_OK;
}
