/**
 * The bottom line: the looped-frames-per-second sparkline, the pause state and the last status
 * message; while typing a filter, the filter prompt instead.
 */
import { Text } from 'ink';
import { safeText } from '../../report/escape.js';
import { shortCount, sparkline } from '../format.js';
import { useTheme } from '../theme.js';

export interface FooterProps {
  width: number;
  looped: readonly number[];
  paused: boolean;
  /** Filter being typed (null when not typing) and the pane it applies to. */
  draft: string | null;
  draftPane: string;
  message: string;
}

export function Footer({ width, looped, paused, draft, draftPane, message }: FooterProps) {
  const theme = useTheme();
  if (draft !== null) {
    return (
      <Text wrap="truncate">
        <Text bold color={theme.accent}>
          filter {draftPane}: /
        </Text>
        {safeText(draft)}
        <Text inverse> </Text>
        <Text dimColor={theme.dim}> enter apply · esc cancel · ctrl-u erase</Text>
      </Text>
    );
  }
  const now = looped.length ? looped[looped.length - 1]! : 0;
  let max = 0;
  for (const v of looped) if (v > max) max = v;
  // The message is what the user just asked for: the sparkline and the pause note make room for it.
  const text = message ? ` ${safeText(message)}` : '';
  const pausedText = paused ? (text ? ' PAUSED ' : ' PAUSED (capture continues) ') : '';
  const rates = ` ${shortCount(now)}/s max ${shortCount(max)} `;
  const sparkWidth = Math.max(8, Math.min(60, Math.floor(width / 4), width - 'looped/s '.length - rates.length - pausedText.length - text.length - 1));
  return (
    <Text wrap="truncate">
      <Text dimColor={theme.dim}>looped/s </Text>
      <Text color={now > 0 ? theme.warn : undefined}>{sparkline(looped, sparkWidth)}</Text>
      <Text color={now > 0 ? theme.warn : undefined} bold={now > 0}>
        {` ${shortCount(now)}/s`}
      </Text>
      <Text dimColor={theme.dim}>{` max ${shortCount(max)} `}</Text>
      {paused ? (
        <Text inverse bold>
          {pausedText}
        </Text>
      ) : null}
      <Text>{text}</Text>
    </Text>
  );
}
