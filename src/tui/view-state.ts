/**
 * The UI's view state (focus, selections, sort, filters, overlays, pause) and what each key does
 * to it: a pure function of the latest state, so keys that arrive together (a paste, tmux
 * send-keys, key repeat: Ink hands them over synchronously, before React re-renders) each see the
 * state the previous one left. The App keeps the state in a ref and re-renders after each key.
 */
import type { Key } from 'ink';
import { formatMac } from '../model/mac.js';
import { findingLines, findingListHeight } from './components/Findings.js';
import { helpLines } from './components/Help.js';
import { macBodyHeight } from './components/MacTable.js';
import { eventDetailLines, macDetailLines } from './details.js';
import type { UiEvent, UiFinding, UiMacRow, UiSnapshot } from './model.js';
import {
  EVENT_SORTS,
  type EventSort,
  eventRows,
  FINDING_SORTS,
  type FindingSort,
  findingRows,
  MAC_SORTS,
  type MacSort,
  macKey,
  macRows,
  nextSort,
  scrollTop,
} from './views.js';

export type PaneId = 'macs' | 'findings' | 'timeline';
export const PANES: readonly PaneId[] = ['macs', 'findings', 'timeline'];
export const PANE_NAMES: Record<PaneId, string> = { macs: 'MAC table', findings: 'findings', timeline: 'timeline' };

/** Below this the UI asks for a bigger terminal instead of drawing garbage. */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 16;

export interface Layout {
  width: number;
  height: number;
  header: number;
  /** The verdict band under the header (Verdict.tsx). */
  verdict: number;
  macs: number;
  bottom: number;
  /** Height of help and details, which replace the panes. */
  overlay: number;
  /** Wide terminals get a third bottom pane for the selected finding's explanation. */
  wide: boolean;
  findingsWidth: number;
  detailWidth: number;
  timelineWidth: number;
}

/**
 * Sizes of the panes. The last terminal line stays empty: output that fills the whole screen
 * makes Ink clear and redraw all of it on every update (flicker); one line short, it rewrites in place.
 */
export function layout(columns: number, rows: number): Layout {
  const width = columns;
  const height = rows - 1;
  const header = height >= 40 ? 5 : height >= 27 ? 4 : 3;
  // The answer before any table: six lines on a tall terminal (verdict, guests, remedy, each with room), fewer on small ones.
  const verdict = height >= 39 ? 6 : height >= 30 ? 5 : height >= 23 ? 3 : height >= 20 ? 2 : 1;
  const body = height - header - verdict - 1;
  const bottom = Math.max(8, Math.round(body * 0.42));
  const wide = columns >= 120;
  const findingsWidth = wide ? Math.floor(columns * 0.3) : Math.ceil(columns * 0.55);
  const detailWidth = wide ? Math.floor(columns * 0.36) : 0;
  return {
    width,
    height,
    header,
    verdict,
    macs: body - bottom,
    bottom,
    overlay: body,
    wide,
    findingsWidth,
    detailWidth,
    timelineWidth: columns - findingsWidth - detailWidth,
  };
}

export interface Selection {
  /** The selected row's identity (MAC key, finding id): the selection follows it through re-sorts. */
  key: string | null;
  index: number;
}

export interface ViewState {
  focus: PaneId;
  macSort: MacSort;
  findingSort: FindingSort;
  eventSort: EventSort;
  filters: Record<PaneId, string>;
  /** The filter being typed, null when not typing. */
  draft: string | null;
  macSel: Selection;
  findingSel: Selection;
  /** Timeline: an index, or following the newest event like tail -f. */
  eventSel: { index: number; following: boolean };
  overlay: null | { kind: 'help' } | { kind: 'details'; pane: PaneId; key: string | UiEvent };
  detailScroll: number;
  /** The view is frozen on the snapshot it shows; capture and analysis go on. */
  paused: boolean;
  /** First row drawn in each pane (kept so scrolling moves the window only when needed). */
  tops: Record<PaneId, number>;
}

export function initialViewState(): ViewState {
  return {
    focus: 'macs',
    macSort: 'problem',
    findingSort: 'severity',
    eventSort: 'oldest',
    filters: { macs: '', findings: '', timeline: '' },
    draft: null,
    macSel: { key: null, index: 0 },
    findingSel: { key: null, index: 0 },
    eventSel: { index: 0, following: true },
    overlay: null,
    detailScroll: 0,
    paused: false,
    tops: { macs: 0, findings: 0, timeline: 0 },
  };
}

/** What the panes list and where the selections are, for one state and snapshot. */
export interface Derived {
  macs: UiMacRow[];
  findings: UiFinding[];
  events: UiEvent[];
  index: Record<PaneId, number>;
  count: Record<PaneId, number>;
  /** Rows each pane's list shows. */
  rows: Record<PaneId, number>;
  tops: Record<PaneId, number>;
}

/** Sorting and filtering a large table ten times a second is fine; a hundred keys a second are not: cache by input. */
const cache = new WeakMap<UiSnapshot, Map<string, unknown>>();
function cached<T>(snap: UiSnapshot, key: string, make: () => T): T {
  let m = cache.get(snap);
  if (!m) cache.set(snap, (m = new Map()));
  if (!m.has(key)) m.set(key, make());
  return m.get(key) as T;
}

function clamp(i: number, n: number): number {
  return Math.max(0, Math.min(i, n - 1));
}

export function derive(s: ViewState, snap: UiSnapshot, L: Layout): Derived {
  const macs = cached(snap, `m${s.macSort}\0${s.filters.macs}`, () => macRows(snap.macs, s.macSort, s.filters.macs));
  const findings = cached(snap, `f${s.findingSort}\0${s.filters.findings}`, () => findingRows(snap.findings, s.findingSort, s.filters.findings));
  const events = cached(snap, `e${s.eventSort}\0${s.filters.timeline}`, () => eventRows(snap.timeline, s.eventSort, s.filters.timeline));
  const find = <T>(list: readonly T[], sel: Selection, id: (x: T) => string): number => {
    if (sel.key !== null) {
      const i = list.findIndex((x) => id(x) === sel.key);
      if (i >= 0) return i;
    }
    return clamp(sel.index, list.length);
  };
  const index: Record<PaneId, number> = {
    macs: find(macs, s.macSel, macKey),
    findings: find(findings, s.findingSel, (f) => f.id),
    timeline: s.eventSel.following ? (s.eventSort === 'oldest' ? Math.max(0, events.length - 1) : 0) : clamp(s.eventSel.index, events.length),
  };
  const count: Record<PaneId, number> = { macs: macs.length, findings: findings.length, timeline: events.length };
  const rows: Record<PaneId, number> = {
    macs: macBodyHeight(L.macs),
    findings: findingListHeight(L.bottom, findings.length, !L.wide),
    timeline: Math.max(0, L.bottom - 2),
  };
  const tops = { ...s.tops };
  for (const p of PANES) tops[p] = scrollTop(index[p], s.tops[p], rows[p], count[p]);
  return { macs, findings, events, index, count, rows, tops };
}

/** Title and lines of the open details view, from the current snapshot (they stay live). */
export function detailView(s: ViewState, snap: UiSnapshot, width: number): { title: string; lines: string[] } {
  const o = s.overlay;
  if (!o || o.kind !== 'details') return { title: '', lines: [] };
  if (o.pane === 'macs') {
    const row = snap.macs.find((r) => macKey(r) === o.key);
    return row ? { title: `MAC ${formatMac(row.mac)}`, lines: macDetailLines(row, width) } : { title: 'MAC', lines: ['(no longer in the table: cleared)'] };
  }
  if (o.pane === 'findings') {
    const f = snap.findings.find((x) => x.id === o.key);
    return f ? { title: 'Finding', lines: findingLines(f, width) } : { title: 'Finding', lines: ['(no longer present: cleared)'] };
  }
  return { title: 'Event', lines: eventDetailLines(o.key as UiEvent, width) };
}

export function helpView(snap: UiSnapshot, width: number): { title: string; lines: string[] } {
  return { title: 'Help', lines: helpLines(width, snap.topology.assumed) };
}

/** What a key asks of the world outside the view. */
export type Effect = 'quit' | 'clear' | 'export' | 'resume';

function select(s: ViewState, d: Derived, pane: PaneId, index: number): ViewState {
  const n = d.count[pane];
  const i = clamp(index, n);
  if (pane === 'macs') return { ...s, macSel: { key: d.macs[i] ? macKey(d.macs[i]!) : null, index: i } };
  if (pane === 'findings') return { ...s, findingSel: { key: d.findings[i]?.id ?? null, index: i } };
  // Reaching the newest end again resumes following.
  const newest = s.eventSort === 'oldest' ? n - 1 : 0;
  return { ...s, eventSel: { index: i, following: n === 0 || i === newest } };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/**
 * Ink hands over a run of plain characters read at once (keys typed while a slice of frames was
 * being read, key repeat, a paste) as one input. Split into one key each, so `jjj` moves three
 * rows and `\tj\r` is tab, down, enter. Escape sequences (arrows) always come on their own.
 */
export function splitKeys(input: string, key: Key): Array<[string, Key]> {
  if (input.length <= 1 || input.includes('\x1b')) return [[input, key]];
  return [...input].map((c): [string, Key] => {
    if (c === '\t') return ['', { ...NO_KEY, tab: true }];
    if (c === '\r' || c === '\n') return ['', { ...NO_KEY, return: true }];
    if (c === '\x7f' || c === '\b') return ['', { ...NO_KEY, backspace: true }];
    const code = c.charCodeAt(0);
    if (code < 0x20) return [String.fromCharCode(code + 0x60), { ...NO_KEY, ctrl: true }];
    return [c, { ...NO_KEY, shift: c !== c.toLowerCase() }];
  });
}

export function reduceKey(s: ViewState, input: string, key: Key, snap: UiSnapshot, L: Layout): { state: ViewState; effects: Effect[] } {
  const none = (state: ViewState): { state: ViewState; effects: Effect[] } => ({ state, effects: [] });
  if (key.ctrl && input === 'c') return { state: s, effects: ['quit'] };

  if (s.draft !== null) {
    if (key.return) return none({ ...s, filters: { ...s.filters, [s.focus]: s.draft.trim() }, draft: null });
    if (key.escape) return none({ ...s, draft: null });
    if (key.backspace || key.delete) return none({ ...s, draft: s.draft.slice(0, -1) });
    if (key.ctrl && input === 'u') return none({ ...s, draft: '' });
    // Printable text only: pasted control sequences never reach the filter.
    if (!key.ctrl && !key.meta && input && !CONTROL.test(input)) return none({ ...s, draft: s.draft + input });
    return none(s);
  }

  if (s.overlay) {
    const body = Math.max(1, L.overlay - 2);
    const n = (s.overlay.kind === 'details' ? detailView(s, snap, L.width - 2) : helpView(snap, L.width - 2)).lines.length;
    const max = Math.max(0, n - body);
    const scroll = (to: number): ViewState => ({ ...s, detailScroll: Math.max(0, Math.min(max, to)) });
    if (input === 'q' || input === '?' || key.escape || key.return || key.backspace) return none({ ...s, overlay: null });
    if (key.downArrow || input === 'j') return none(scroll(s.detailScroll + 1));
    if (key.upArrow || input === 'k') return none(scroll(s.detailScroll - 1));
    if (key.pageDown || input === ' ') return none(scroll(s.detailScroll + body));
    if (key.pageUp) return none(scroll(s.detailScroll - body));
    if (key.home || input === 'g') return none(scroll(0));
    if (key.end || input === 'G') return none(scroll(max));
    return none(s);
  }

  const d = derive(s, snap, L);
  const here = d.index[s.focus];
  const page = Math.max(1, d.rows[s.focus] - 1);
  const step = (delta: number): ViewState => select(s, d, s.focus, here + delta);
  if (input === 'q') return { state: s, effects: ['quit'] };
  if (input === '?') return none({ ...s, overlay: { kind: 'help' }, detailScroll: 0 });
  if (key.tab) {
    const by = key.shift ? PANES.length - 1 : 1;
    return none({ ...s, focus: PANES[(PANES.indexOf(s.focus) + by) % PANES.length]! });
  }
  if (key.downArrow || input === 'j') return none(step(1));
  if (key.upArrow || input === 'k') return none(step(-1));
  if (key.pageDown) return none(step(page));
  if (key.pageUp) return none(step(-page));
  if (key.home || input === 'g') return none(select(s, d, s.focus, 0));
  if (key.end || input === 'G') return none(select(s, d, s.focus, d.count[s.focus] - 1));
  if (key.return) {
    const k = s.focus === 'macs' ? (d.macs[here] ? macKey(d.macs[here]!) : null) : s.focus === 'findings' ? (d.findings[here]?.id ?? null) : (d.events[here] ?? null);
    return none(k === null ? s : { ...s, overlay: { kind: 'details', pane: s.focus, key: k }, detailScroll: 0 });
  }
  if (input === '/') return none({ ...s, draft: s.filters[s.focus] });
  if (key.escape) return none(s.filters[s.focus] ? { ...s, filters: { ...s.filters, [s.focus]: '' } } : s);
  if (input === 's') {
    if (s.focus === 'macs') return none({ ...s, macSort: nextSort(MAC_SORTS, s.macSort) });
    if (s.focus === 'findings') return none({ ...s, findingSort: nextSort(FINDING_SORTS, s.findingSort) });
    return none({ ...s, eventSort: nextSort(EVENT_SORTS, s.eventSort), eventSel: { index: 0, following: true } });
  }
  if (input === 'p') return { state: { ...s, paused: !s.paused }, effects: s.paused ? ['resume'] : [] };
  if (input === 'c') {
    const fresh = initialViewState();
    return {
      state: { ...s, macSel: fresh.macSel, findingSel: fresh.findingSel, eventSel: fresh.eventSel, tops: fresh.tops },
      effects: ['clear'],
    };
  }
  if (input === 'e') return { state: s, effects: ['export'] };
  return none(s);
}
