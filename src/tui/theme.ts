/**
 * Colours of the UI, and whether to use any: NO_COLOR (https://no-color.org: set and not empty)
 * turns them all off. Every colour-coded state also has a textual mark, so nothing is said by
 * colour alone.
 */
import { createContext, useContext } from 'react';

export interface Theme {
  /** False under NO_COLOR: components pass no colour props at all. */
  color: boolean;
  /** Wrong-port learning, errors. */
  bad: string | undefined;
  /** Looped broadcasts, own-address frames, warnings. */
  warn: string | undefined;
  good: string | undefined;
  /** Focused pane border, selection. */
  accent: string | undefined;
  dim: boolean;
}

export function makeTheme(color: boolean): Theme {
  return color
    ? { color, bad: 'red', warn: 'yellow', good: 'green', accent: 'cyan', dim: true }
    : { color, bad: undefined, warn: undefined, good: undefined, accent: undefined, dim: false };
}

/** NO_COLOR set to anything but the empty string disables colour. */
export function colorWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

export const ThemeContext = createContext<Theme>(makeTheme(true));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
