/** The key list shown on `?`, and the roles the UI assumed. */
import { Text } from 'ink';
import { safeText } from '../../report/escape.js';
import { Pane } from './Pane.js';

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
];

export function Help({ width, height, assumed }: { width: number; height: number; assumed: readonly string[] }) {
  const lines: string[] = ['Keys', ...KEYS.map(([k, d]) => `  ${k.padEnd(16)} ${d}`), '', 'Marks', ...LEGEND.map(([k, d]) => `  ${k.padEnd(16)} ${d}`)];
  if (assumed.length) lines.push('', 'Roles assumed', ...assumed.map((a) => `  ${safeText(a)}`));
  lines.push('', 'Press ? q esc or enter to close.');
  return (
    <Pane title="Help" width={width} height={height} focused>
      {lines.slice(0, Math.max(0, height - 2)).map((l, i) => (
        <Text key={i} wrap="truncate" bold={l !== '' && !l.startsWith(' ')}>
          {l || ' '}
        </Text>
      ))}
    </Pane>
  );
}
