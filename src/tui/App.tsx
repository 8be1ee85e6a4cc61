/**
 * The whole screen. The snapshot lives outside React (UiStore); a timer reads it at most ten
 * times a second, and only when the pipeline changed something, so packets never drive redraws.
 * View state (focus, selection, sort, filter, pause, overlays) is in view-state.ts; it is kept
 * in a ref so that every key sees what the previous key did, however fast they come.
 */
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useReducer, useRef, useState } from 'react';
import { Details } from './components/Details.js';
import { FindingDetail, Findings } from './components/Findings.js';
import { Footer } from './components/Footer.js';
import { Header } from './components/Header.js';
import { MacTable } from './components/MacTable.js';
import { Timeline } from './components/Timeline.js';
import { Verdict } from './components/Verdict.js';
import type { UiSnapshot } from './model.js';
import type { UiControls, UiStore } from './store.js';
import { derive, detailView, type Effect, helpView, initialViewState, layout, MIN_COLUMNS, MIN_ROWS, PANE_NAMES, reduceKey, splitKeys, type ViewState } from './view-state.js';

export interface AppProps {
  store: UiStore;
  controls: UiControls;
  /** Least time between two snapshot reads (ms): 100 keeps redraws at ten a second at most. */
  refreshMs?: number;
  /** Fixed terminal size (tests); otherwise stdout's, following resizes. */
  size?: { columns: number; rows: number };
  /** Called when the user quits (q, ctrl-c), after Ink was told to exit. */
  onQuit?: () => void;
}

function useTerminalSize(fixed: AppProps['size']): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = (): { columns: number; rows: number } => fixed ?? { columns: stdout.columns || 80, rows: stdout.rows || 24 };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}

export function App({ store, controls, refreshMs = 100, size: fixedSize, onQuit }: AppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(fixedSize);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const snap = useRef<UiSnapshot | null>(null);
  if (snap.current === null) snap.current = store.read();
  const view = useRef<ViewState>(initialViewState());
  const [message, setMessage] = useState<{ text: string; until: number } | null>(null);
  const L = layout(size.columns, size.rows);
  const layoutRef = useRef(L);
  layoutRef.current = L;

  // The one place snapshots are read: a timer, never the pipeline.
  useEffect(() => {
    const timer = setInterval(() => {
      if (!view.current.paused && store.due(refreshMs)) {
        snap.current = store.read();
        redraw();
      }
      setMessage((m) => (m && Date.now() > m.until ? null : m));
      // Ticks twice per period: the store decides when a redraw is due.
    }, refreshMs / 2);
    return () => clearInterval(timer);
  }, [store, refreshMs]);

  const say = (text: string): void => setMessage({ text, until: Date.now() + 5000 });

  useInput((input, key) => {
    const effects: Effect[] = [];
    for (const [i, k] of splitKeys(input, key)) {
      const r = reduceKey(view.current, i, k, snap.current!, layoutRef.current);
      view.current = r.state;
      effects.push(...r.effects);
      if (r.effects.includes('quit')) break;
    }
    for (const e of effects) {
      if (e === 'quit') {
        exit();
        onQuit?.();
        return;
      }
      if (e === 'resume') snap.current = store.read();
      if (e === 'clear') {
        controls.clear();
        if (!view.current.paused) snap.current = store.read();
        say('cleared: counting afresh from here');
      }
      if (e === 'export') {
        const run = controls.exportEvidence;
        if (!run) say('export evidence: not available yet');
        else {
          say('exporting evidence…');
          run().then(say, (err: unknown) => say(`export failed: ${err instanceof Error ? err.message : String(err)}`));
        }
      }
    }
    redraw();
  });

  if (size.columns < MIN_COLUMNS || size.rows < MIN_ROWS) {
    return <Text wrap="truncate">{`bondscope needs a terminal of at least ${MIN_COLUMNS}×${MIN_ROWS} (this one is ${size.columns}×${size.rows}); q quits`}</Text>;
  }

  const s = view.current;
  const S = snap.current;
  const d = derive(s, S, L);
  // Remember where each pane's window is, so the next move scrolls only when it must.
  view.current = { ...s, tops: d.tops };

  let body;
  if (s.overlay) {
    const dv = s.overlay.kind === 'help' ? helpView(S, L.width - 2) : detailView(s, S, L.width - 2);
    body = <Details title={dv.title} lines={dv.lines} scroll={s.detailScroll} width={L.width} height={L.overlay} />;
  } else {
    body = (
      <>
        <MacTable
          rows={d.macs}
          total={S.macs.length}
          selected={d.index.macs}
          top={d.tops.macs}
          width={L.width}
          height={L.macs}
          focused={s.focus === 'macs'}
          sort={s.macSort}
          filter={s.filters.macs}
        />
        <Box flexDirection="row" height={L.bottom}>
          <Findings
            list={d.findings}
            total={S.findings.length}
            selected={d.index.findings}
            top={d.tops.findings}
            width={L.findingsWidth}
            height={L.bottom}
            focused={s.focus === 'findings'}
            sort={s.findingSort}
            filter={s.filters.findings}
            withDetail={!L.wide}
          />
          {L.wide ? <FindingDetail finding={d.findings[d.index.findings]} width={L.detailWidth} height={L.bottom} /> : null}
          <Timeline
            list={d.events}
            total={S.timeline.length}
            selected={d.index.timeline}
            top={d.tops.timeline}
            width={L.timelineWidth}
            height={L.bottom}
            focused={s.focus === 'timeline'}
            sort={s.eventSort}
            filter={s.filters.timeline}
            following={s.eventSel.following}
          />
        </Box>
      </>
    );
  }
  const status = message?.text ?? (S.messages.length ? `${S.messages.length} input problem(s): ${S.messages[0]}` : '');
  return (
    <Box flexDirection="column" width={L.width} height={L.height}>
      <Header snapshot={S} width={L.width} height={L.header} paused={s.paused} />
      <Verdict verdict={S.verdict} width={L.width} height={L.verdict} />
      {body}
      <Footer width={L.width} looped={S.loopedPerSecond} paused={s.paused} draft={s.draft} draftPane={PANE_NAMES[s.focus]} message={status} />
    </Box>
  );
}
