/** A full-screen, scrollable view of one MAC row, finding or event (enter). */
import { Text } from 'ink';
import { Pane } from './Pane.js';

export interface DetailsProps {
  title: string;
  /** Already safe and wrapped to width - 2. */
  lines: readonly string[];
  scroll: number;
  width: number;
  height: number;
}

export function detailsBodyHeight(height: number): number {
  return Math.max(1, height - 2);
}

export function Details({ title, lines, scroll, width, height }: DetailsProps) {
  const body = detailsBodyHeight(height);
  const more = lines.length > body ? `${scroll + 1}-${Math.min(lines.length, scroll + body)}/${lines.length} j/k` : 'esc closes';
  return (
    <Pane title={title} info={more} width={width} height={height} focused>
      {lines.slice(scroll, scroll + body).map((l, i) => (
        <Text key={i} wrap="truncate">
          {l || ' '}
        </Text>
      ))}
    </Pane>
  );
}
