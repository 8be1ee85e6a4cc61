/** The view rendered by ink-testing-library on a snapshot, with keys typed into it (component and safety tests). */
import { render } from 'ink-testing-library';
import { App } from '../../src/tui/App.js';
import type { UiSnapshot } from '../../src/tui/model.js';
import { staticStore, type UiControls } from '../../src/tui/store.js';
import { makeTheme, ThemeContext } from '../../src/tui/theme.js';

const instances: Array<{ unmount: () => void }> = [];

/** Unmounts every view `show` rendered (call from afterEach). */
export function unmountShown(): void {
  while (instances.length) instances.pop()!.unmount();
}

export function show(snapshot: UiSnapshot, opts: { color?: boolean; columns?: number; rows?: number; controls?: Partial<UiControls> } = {}) {
  const controls: UiControls = { clear: () => {}, exportEvidence: null, ...opts.controls };
  const columns = opts.columns ?? 100;
  const tree = (
    <ThemeContext.Provider value={makeTheme(opts.color ?? true)}>
      <App store={staticStore(snapshot)} controls={controls} size={{ columns, rows: opts.rows ?? 30 }} />
    </ThemeContext.Provider>
  );
  const r = render(tree);
  instances.push(r);
  // ink-testing-library's stdout is 100 columns wide; Ink lays out at stdout's width.
  if (columns !== 100) {
    Object.defineProperty(r.stdout, 'columns', { get: () => columns });
    r.rerender(tree);
  }
  /** Types keys and waits (event loop turns, no clock) until the screen has drawn them. */
  const press = async (...keys: string[]): Promise<string> => {
    for (const k of keys) {
      const before = r.frames.length;
      r.stdin.write(k);
      for (let i = 0; i < 200 && r.frames.length === before; i++) await new Promise((res) => setImmediate(res));
    }
    return r.lastFrame()!;
  };
  /** Every frame Ink drew so far, not only the last. */
  return { frame: () => r.lastFrame()!, press, frames: () => r.frames };
}
