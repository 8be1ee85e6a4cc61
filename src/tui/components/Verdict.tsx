/**
 * The verdict band under the header: the engine's answer (loops / does not loop / cannot tell),
 * the guests it hurts and the remedy that fits this host, before any table — what a user must
 * see on the first screen. It shows the engine's words (UiVerdict), cut to the lines it has: the
 * answer, the guests and the remedy get a line each first, then the answer and the remedy their
 * second lines, then a line per guest.
 */
import { Box, Text } from 'ink';
import { safeText } from '../../report/escape.js';
import { wrap } from '../../report/wrap.js';
import type { UiVerdict } from '../model.js';
import { useTheme } from '../theme.js';

interface Row {
  text: string;
  kind: 'verdict' | 'hurt' | 'remedy' | 'tell';
}

/** The rows the band draws in `height` lines of `width` columns (exported for the layout's tests). */
export function verdictRows(v: UiVerdict | null, width: number, height: number): Row[] {
  if (height <= 0) return [];
  if (!v) return [{ text: 'no frames yet: no verdict', kind: 'tell' }];
  const w = Math.max(20, width - 1);
  const head = wrap(safeText(v.line), w, '', '  ').slice(0, 2);
  const hurtJoined = v.hurt.length ? `hurt: ${v.hurt.map(safeText).join('; ')}` : null;
  const remedy = v.remedy ? wrap(safeText(v.remedy), w, 'do here: ', '  ').slice(0, 2) : v.tell ? wrap(safeText(v.tell), w, 'to tell: ', '  ').slice(0, 2) : [];
  const remedyKind = v.remedy ? 'remedy' : 'tell';
  // What each extra line buys, in order.
  let headN = 1;
  let remedyN = Math.min(1, remedy.length);
  let perGuest = false;
  const count = (): number => headN + (hurtJoined ? (perGuest ? v.hurt.length : 1) : 0) + remedyN;
  if (count() < height && head.length > 1) headN = 2;
  if (count() < height && remedy.length > 1) remedyN = 2;
  if (hurtJoined && v.hurt.length > 1 && count() - 1 + v.hurt.length <= height) perGuest = true;
  const rows: Row[] = head.slice(0, headN).map((text) => ({ text, kind: 'verdict' }));
  if (hurtJoined) rows.push(...(perGuest ? v.hurt.map((h) => ({ text: `hurt: ${safeText(h)}`, kind: 'hurt' as const })) : [{ text: hurtJoined, kind: 'hurt' as const }]));
  rows.push(...remedy.slice(0, remedyN).map((text) => ({ text, kind: remedyKind as Row['kind'] })));
  return rows.slice(0, height);
}

export function Verdict({ verdict, width, height }: { verdict: UiVerdict | null; width: number; height: number }) {
  const theme = useTheme();
  const colour = verdict?.state === 'loops' ? theme.bad : verdict?.state === 'does-not-loop' ? theme.good : theme.warn;
  const rows = verdictRows(verdict, width, height);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {rows.map((r, i) => (
        <Text key={i} wrap="truncate" color={r.kind === 'verdict' ? colour : r.kind === 'hurt' ? theme.bad : undefined} bold={r.kind === 'verdict' && i === 0}>
          {r.text}
        </Text>
      ))}
    </Box>
  );
}
