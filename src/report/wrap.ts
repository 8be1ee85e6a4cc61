/**
 * Lines of prose for the text report, wrapped at a width with a hanging indent, so no line of
 * explanation runs past the terminal (tables are laid out by their own columns, not here).
 */

/** The text report's widest line outside table cells. */
export const REPORT_WIDTH = 160;
/** The verdict's block: it must fit a 120-column terminal's first screen. */
export const VERDICT_WIDTH = 120;

/**
 * `text` as lines of at most `width` columns: the first starts with `first`, the others with
 * `rest` (both counted). Words longer than a line are cut, never left to overflow.
 */
export function wrap(text: string, width: number, first: string, rest = ' '.repeat(first.length)): string[] {
  const out: string[] = [];
  let line = first;
  let fresh = true;
  const room = (prefix: string): number => Math.max(8, width - prefix.length);
  for (let word of text.split(/ +/)) {
    if (!word) continue;
    const sep = fresh ? '' : ' ';
    if (line.length + sep.length + word.length <= width) {
      line += sep + word;
      fresh = false;
      continue;
    }
    if (!fresh) {
      out.push(line);
      line = rest;
      fresh = true;
    }
    while (line.length + word.length > width) {
      const n = room(line);
      out.push(line + word.slice(0, n));
      word = word.slice(n);
      line = rest;
    }
    line += word;
    fresh = word.length === 0;
  }
  if (!fresh || out.length === 0) out.push(line);
  return out.map((l) => l.trimEnd());
}
