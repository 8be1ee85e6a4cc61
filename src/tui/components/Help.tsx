/** The key list shown on `?`, and the roles the UI assumed. */
import { safeText } from '../../report/escape.js';
import { wrapText } from '../format.js';

export const KEYS: ReadonlyArray<readonly [string, string]> = [
  ['q', 'quit (closes this and detail views first)'],
  ['tab / shift-tab', 'focus next / previous pane'],
  ['↑ ↓  j k', 'move the selection'],
  ['PgUp PgDn  g G', 'page, first, last'],
  ['enter', 'details of the selected row, finding or event'],
  ['/', 'filter the focused pane (words must all match; in the MAC table vlan:N, ! for marked rows)'],
  ['esc', 'clear the focused pane\'s filter, close a view'],
  ['s', 'next sort order of the focused pane'],
  ['p', 'pause the view (capture and analysis continue)'],
  ['e', 'export evidence of the findings'],
  ['c', 'clear: forget what was seen and count afresh'],
  ['?', 'this list'],
];

export const LEGEND: ReadonlyArray<readonly [string, string]> = [
  ['!! red', 'MAC learned on the wrong port: unicast to it is lost'],
  ['~~ yellow', 'looped broadcasts or own-address frames from this MAC'],
  ['eth0*', 'the bond\'s active slave'],
  ['in/out', 'frames with the MAC as source entering / leaving on the port'],
  ['in/out/n?', 'n more whose direction neither the capture nor the frame\'s path told'],
  ['●', 'a finding still happening (live, replay)'],
  ['drop N!', 'the capture reported N dropped frames on this interface'],
];

/** The help as lines of `width`: keys, marks, and the roles assumed from names. */
export function helpLines(width: number, assumed: readonly string[]): string[] {
  // Descriptions wrap under themselves, so nothing is cut at 80 columns.
  const item = ([k, d]: readonly [string, string]): string[] =>
    wrapText(d, Math.max(20, width - 19)).map((l, i) => (i === 0 ? `  ${k.padEnd(16)} ${l}` : `${' '.repeat(19)}${l}`));
  const lines: string[] = ['Keys', ...KEYS.flatMap(item), '', 'Marks', ...LEGEND.flatMap(item)];
  if (assumed.length) lines.push('', 'Roles assumed', ...assumed.flatMap((a) => wrapText(safeText(a), width - 2, '  ').map((l) => `  ${l}`)));
  lines.push('', 'j/k scroll; ? q esc or enter close.');
  return lines;
}
