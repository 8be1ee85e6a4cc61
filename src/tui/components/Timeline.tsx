/** The timeline: kernel warnings, FDB moves, failovers, findings starting and stopping, in capture time. */
import { Text } from 'ink';
import { safeText } from '../../report/escape.js';
import { clockTime } from '../format.js';
import type { UiEvent } from '../model.js';
import { useTheme } from '../theme.js';
import { severityColor } from './Findings.js';
import { Pane } from './Pane.js';

/** Short tags for the engine's event kinds, so narrow panes keep room for the text. */
const KIND_TAGS: Record<string, string> = {
  'kernel-warning': 'kernel',
  'fdb-move': 'fdb',
  failover: 'failover',
  'finding-start': '+finding',
  'finding-stop': '-finding',
};

export function eventLine(e: UiEvent, width: number): string {
  const time = clockTime(e.time);
  // Milliseconds matter in a loop (events a few ms apart); narrow panes keep whole seconds.
  return `${width >= 50 ? time : time.slice(0, 8)} ${safeText(KIND_TAGS[e.kind] ?? e.kind)}: ${safeText(e.text)}`;
}

export interface TimelineProps {
  list: readonly UiEvent[];
  total: number;
  selected: number;
  top: number;
  width: number;
  height: number;
  focused: boolean;
  sort: string;
  filter: string;
  /** Following the newest event (like tail -f) until the user scrolls away. */
  following: boolean;
}

export function Timeline({ list, total, selected, top, width, height, focused, sort, filter, following }: TimelineProps) {
  const theme = useTheme();
  const rows = Math.max(0, height - 2);
  const shown = list.slice(top, top + rows);
  const count = filter ? `${list.length}/${total}` : `${total}`;
  const info = `${sort}${following ? ' │ follow' : ''}${filter ? ` │ /${safeText(filter)}` : ''}`;
  return (
    <Pane title={`Timeline ${count}`} info={info} width={width} height={height} focused={focused}>
      {shown.length === 0 ? (
        <Text dimColor={theme.dim}>{total === 0 ? 'no events yet' : 'none matches the filter'}</Text>
      ) : (
        shown.map((e, i) => (
          <Text
            key={top + i}
            wrap="truncate"
            color={severityColor(e.severity, theme)}
            inverse={focused && top + i === selected}
            underline={!focused && top + i === selected && !following}
          >
            {eventLine(e, width - 2)}
          </Text>
        ))
      )}
    </Pane>
  );
}
