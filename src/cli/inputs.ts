/** How every command reports the state of its inputs at the end, and the exit code that follows. */
import type { CaptureSet } from '../capture/index.js';
import { safeText } from '../report/escape.js';
import { EXIT_DAMAGED, EXIT_OK, EXIT_USAGE } from './errors.js';

const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'NULL', 9: 'PPP', 12: 'RAW', 101: 'RAW', 104: 'C_HDLC', 105: 'IEEE802_11', 108: 'LOOP', 127: 'IEEE802_11_RADIOTAP',
  113: 'LINUX_SLL', 276: 'LINUX_SLL2', 228: 'IPV4', 229: 'IPV6', 239: 'NFLOG', 220: 'USB_LINUX_MMAPPED',
};

export function linkTypeName(t: number): string {
  return LINK_TYPE_NAMES[t] ?? `LINKTYPE ${t}`;
}

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
