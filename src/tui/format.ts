/** Small text helpers of the UI: numbers, times, sparklines. Pure functions, no Ink. */

/** 950 → "950", 12345 → "12.3k", 4.2e6 → "4.2M": fits rates and counts in five columns. */
export function shortCount(n: number): string {
  if (n < 0) return '?';
  if (n < 1000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

/** 12345678 → "12,345,678". */
export function groupedCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Capture time (seconds since the epoch) as UTC HH:MM:SS.mmm; "--:--:--" before any frame. */
export function clockTime(sec: number): string {
  if (!(sec > 0)) return '--:--:--.---';
  const d = new Date(Math.floor(sec * 1000));
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** Capture time as a UTC date and time, for details. */
export function dateTime(sec: number): string {
  if (!(sec > 0)) return '-';
  const d = new Date(Math.floor(sec * 1000));
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${clockTime(sec)} UTC`;
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * The last `width` values as bars scaled to the largest of them. Zero is a blank, so "none" and
 * "a few" look different; any non-zero value gets at least the lowest bar.
 */
export function sparkline(values: readonly number[], width: number): string {
  if (width <= 0) return '';
  const tail = values.slice(-width);
  let max = 0;
  for (const v of tail) if (v > max) max = v;
  let s = '';
  for (const v of tail) {
    if (!(v > 0)) s += ' ';
    else s += BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1) + 0.5))] ?? BARS[0];
  }
  return s.padStart(width, ' ');
}

/** Pads or cuts plain ASCII-ish text to exactly `width` columns (for fixed table columns). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width > 1 ? text.slice(0, width - 1) + '…' : text.slice(0, width);
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/**
 * Word-wraps text to `width` columns, keeping the text's own line breaks; continuation lines of a
 * paragraph start with `indent`; words longer than a line are cut. Lines are made here (not by
 * Ink) so panes can scroll by line.
 */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  const w = Math.max(indent.length + 1, width);
  for (const para of text.split('\n')) {
    // `start` is what an empty line holds: nothing on a paragraph's first line, the indent after.
    let start = '';
    let line = '';
    const gap = (): string => (line === start ? '' : ' ');
    const newLine = (): void => {
      lines.push(line);
      start = indent;
      line = indent;
    };
    for (const word of para.split(/\s+/).filter(Boolean)) {
      let rest = word;
      if (line !== start && line.length + 1 + rest.length > w) newLine();
      while (line.length + gap().length + rest.length > w) {
        const room = w - line.length - gap().length;
        line += gap() + rest.slice(0, room);
        rest = rest.slice(room);
        newLine();
      }
      if (rest) line += gap() + rest;
    }
    lines.push(line);
  }
  return lines;
}
