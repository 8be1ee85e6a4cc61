/**
 * What each pane lists, given the snapshot and the user's sort and filter: pure functions, so the
 * components stay small and the ordering is tested without a terminal.
 */
import { formatMac } from '../model/mac.js';
import { rowMark, severityRank, type UiEvent, type UiFinding, type UiMacRow } from './model.js';

export const MAC_SORTS = ['problem', 'mac', 'vlan', 'frames', 'recent'] as const;
export type MacSort = (typeof MAC_SORTS)[number];

export const FINDING_SORTS = ['severity', 'time'] as const;
export type FindingSort = (typeof FINDING_SORTS)[number];

export const EVENT_SORTS = ['oldest', 'newest'] as const;
export type EventSort = (typeof EVENT_SORTS)[number];

export function nextSort<T extends string>(list: readonly T[], current: T): T {
  return list[(list.indexOf(current) + 1) % list.length]!;
}

export function macKey(row: UiMacRow): string {
  return `${row.vlan}/${row.mac}`;
}

export function totalFrames(row: UiMacRow): number {
  let n = 0;
  for (const p of row.ports) n += p.inFrames + p.outFrames;
  return n;
}

function markRank(row: UiMacRow): number {
  const m = rowMark(row);
  return m === 'wrong-port' ? 2 : m === 'looped' ? 1 : 0;
}

/**
 * Filter terms, all of which must match (case-insensitive): a word matches the MAC, the vendor,
 * a port or the learned-on port; `vlan:N` the VLAN; `!` only rows marked red or yellow.
 */
export function matchMac(row: UiMacRow, filter: string): boolean {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return true;
  const hay = [formatMac(row.mac), row.vendor ?? '', row.learnedOn ?? '', row.home ?? '', ...row.ports.map((p) => p.port)]
    .join(' ')
    .toLowerCase();
  return terms.every((t) => {
    if (t === '!') return rowMark(row) !== 'none';
    if (t.startsWith('vlan:')) return String(row.vlan) === t.slice(5);
    return hay.includes(t);
  });
}

export function macRows(rows: readonly UiMacRow[], sort: MacSort, filter: string): UiMacRow[] {
  const out = filter ? rows.filter((r) => matchMac(r, filter)) : rows.slice();
  const byMac = (a: UiMacRow, b: UiMacRow): number => a.mac - b.mac || a.vlan - b.vlan;
  switch (sort) {
    case 'problem':
      out.sort(
        (a, b) =>
          markRank(b) - markRank(a) ||
          b.loopedFrames + b.ownAddressFrames - (a.loopedFrames + a.ownAddressFrames) ||
          totalFrames(b) - totalFrames(a) ||
          byMac(a, b),
      );
      break;
    case 'mac':
      out.sort(byMac);
      break;
    case 'vlan':
      out.sort((a, b) => a.vlan - b.vlan || a.mac - b.mac);
      break;
    case 'frames':
      out.sort((a, b) => totalFrames(b) - totalFrames(a) || byMac(a, b));
      break;
    case 'recent':
      out.sort((a, b) => b.lastSeen - a.lastSeen || byMac(a, b));
      break;
  }
  return out;
}

function findingText(f: UiFinding): string {
  return `${f.severity} ${f.kind} ${f.summary}`.toLowerCase();
}

export function findingRows(list: readonly UiFinding[], sort: FindingSort, filter: string): UiFinding[] {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const out = list.filter((f) => terms.every((t) => findingText(f).includes(t)));
  // Within a severity the engine's own order (most occurrences first) stays: the sort is stable.
  if (sort === 'severity') out.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  else out.sort((a, b) => a.first - b.first);
  return out;
}

export function eventRows(list: readonly UiEvent[], sort: EventSort, filter: string): UiEvent[] {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const out = terms.length ? list.filter((e) => terms.every((t) => `${e.kind} ${e.text}`.toLowerCase().includes(t))) : list.slice();
  // The engine keeps the timeline in time order; newest-first is the same list reversed.
  if (sort === 'newest') out.reverse();
  return out;
}

/** First row to draw so that `selected` is visible in a window of `height` rows. */
export function scrollTop(selected: number, previousTop: number, height: number, count: number): number {
  if (height <= 0 || count <= height) return 0;
  let top = Math.min(previousTop, count - height);
  if (selected < top) top = selected;
  if (selected >= top + height) top = selected - height + 1;
  return Math.max(0, top);
}
