/**
 * A bordered pane of a fixed size with its title in the top border. The focused pane has a double
 * border and a ▶ before its title, so focus shows without colour too.
 */
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { useTheme } from '../theme.js';

export interface PaneProps {
  title: string;
  /** Right-hand text in the top border (sort, filter, counts). */
  info?: string;
  width: number;
  height: number;
  focused: boolean;
  children: ReactNode;
}

export function Pane({ title, info, width, height, focused, children }: PaneProps) {
  const theme = useTheme();
  const [tl, h, tr] = focused ? ['╔', '═', '╗'] : ['┌', '─', '┐'];
  const head = `${tl}${h}${focused ? '▶' : h} ${title} `;
  const tail = info ? ` ${info} ${h}${tr}` : `${tr}`;
  const fill = width - head.length - tail.length;
  // When the info does not fit, it is the first to go; the title is cut last.
  const top = fill >= 0 ? head + h.repeat(fill) + tail : (head + h.repeat(Math.max(0, width - head.length - 1))).slice(0, width - 1) + tr;
  const borderColor = focused ? theme.accent : undefined;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={borderColor} bold={focused} wrap="truncate">
        {top}
      </Text>
      {/* Remounted when focus changes: Ink re-applies only changed style props, and a new
          borderStyle alone would bring back the top border this box leaves to the title line. */}
      <Box
        key={focused ? 'focused' : 'plain'}
        flexDirection="column"
        width={width}
        height={height - 1}
        borderStyle={focused ? 'double' : 'single'}
        borderTop={false}
        borderColor={borderColor}
        paddingX={0}
      >
        {children}
      </Box>
    </Box>
  );
}
