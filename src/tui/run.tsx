/**
 * Runs the full-screen UI over a pipeline until the user quits: alternate screen in, Ink
 * rendering from the store, and the terminal restored on the way out whatever the way is.
 */
import { render } from 'ink';
import { App } from './App.js';
import type { UiControls, UiStore } from './store.js';
import { TerminalGuard } from './terminal.js';
import { colorWanted, makeTheme, ThemeContext } from './theme.js';

export interface UiSession {
  store: UiStore;
  controls: UiControls;
  /** Starts feeding the store (after the screen is up, so the first frames are not waited for). */
  start(): void;
  /** Stops feeding it (quit). */
  stop(): void;
}

export async function runUi(session: UiSession): Promise<void> {
  const guard = new TerminalGuard();
  guard.enter();
  try {
    const instance = render(
      <ThemeContext.Provider value={makeTheme(colorWanted())}>
        <App store={session.store} controls={session.controls} />
      </ThemeContext.Provider>,
      {
        exitOnCtrlC: false,
        onRender: ({ renderTime }) => session.store.noteRender(renderTime),
        patchConsole: false,
        // Snapshots come ten times a second; keys may redraw in between, never faster than this.
        maxFps: 20,
        // Not incremental: Ink 6.8's incremental writer puts a frame that ends in a newline one
        // line too low. The frame is a line shorter than the screen, so Ink rewrites it in place.
      },
    );
    session.start();
    await instance.waitUntilExit();
    instance.cleanup();
  } finally {
    session.stop();
    guard.restore();
  }
}
