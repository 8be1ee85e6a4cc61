/** What keys do to the view, on the loop recording's snapshot: selection, filters, sorting, scrolling. */
import type { Key } from 'ink';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatMac } from '../../src/model/mac.js';
import type { UiSnapshot } from '../../src/tui/model.js';
import { derive, initialViewState, layout, reduceKey, splitKeys, type ViewState } from '../../src/tui/view-state.js';
import { HAVE_RECORDINGS, readToEnd, RECORDING } from './snapshots.js';

const K = (over: Partial<Key> = {}): Key =>
  ({ upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false, ...over }) as Key;

let snap: UiSnapshot;
const L = layout(80, 24);

/** Types a string of keys the way the App does: split, then one reduceKey each. */
function type(s: ViewState, keys: string): { state: ViewState; effects: string[] } {
  const effects: string[] = [];
  for (const [i, k] of splitKeys(keys, K())) {
    const r = reduceKey(s, i, k, snap, L);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}
const selectedMac = (s: ViewState): string => {
  const d = derive(s, snap, L);
  const r = d.macs[d.index.macs]!;
  return `${r.vlan} ${formatMac(r.mac)}`;
};

describe.skipIf(!HAVE_RECORDINGS)('view state on the loop recording [needs captures/]', () => {
  beforeAll(async () => {
    snap = (await readToEnd([RECORDING('loop')])).snapshot;
  });

  it('the default sort puts the wrong-port rows first, then the looped ones', () => {
    const d = derive(initialViewState(), snap, L);
    const marks = d.macs.map((r) => (r.wrongPort ? 2 : r.loopedFrames + r.ownAddressFrames > 0 ? 1 : 0));
    expect(marks).toEqual([...marks].sort((a, b) => b - a));
    expect(marks[0]).toBe(2);
  });

  it('the selection follows its row through a re-sort', () => {
    let s = type(initialViewState(), 'jj').state;
    const before = selectedMac(s);
    s = type(s, 's').state;
    expect(s.macSort).toBe('mac');
    expect(selectedMac(s)).toBe(before);
    const d = derive(s, snap, L);
    expect(d.macs.map((r) => r.mac)).toEqual([...d.macs.map((r) => r.mac)].sort((a, b) => a - b));
  });

  it('filters: words, vlan:N, and ! for marked rows; esc clears; a pasted control character never enters', () => {
    let s = type(initialViewState(), '/vlan:10\r').state;
    let d = derive(s, snap, L);
    expect(d.macs.length).toBeGreaterThan(0);
    expect(d.macs.every((r) => r.vlan === 10)).toBe(true);
    s = type(s, '/').state;
    s = reduceKey(s, '', K({ ctrl: true }), snap, L).state; // nothing typed by a bare ctrl
    s = type(s, '\x15! 00:16:3e\r').state; // ctrl-u erases, then "! 00:16:3e"
    d = derive(s, snap, L);
    expect(s.filters.macs).toBe('! 00:16:3e');
    expect(d.macs.map((r) => formatMac(r.mac)).sort()).toEqual(['00:16:3e:00:00:01', '00:16:3e:00:00:01', '00:16:3e:00:00:02', '00:16:3e:00:00:02']);
    s = reduceKey(s, '', K({ escape: true }), snap, L).state;
    expect(s.filters.macs).toBe('');
    s = type(s, '/a').state;
    s = reduceKey(s, '\x1b[2J', K(), snap, L).state;
    expect(s.draft).toBe('a');
  });

  it('moving stops at both ends; g and G jump; the timeline follows the newest event until moved away', () => {
    let s = type(initialViewState(), 'kkk').state;
    expect(derive(s, snap, L).index.macs).toBe(0);
    s = type(s, 'G').state;
    expect(derive(s, snap, L).index.macs).toBe(snap.macs.length - 1);
    s = type(s, 'jjj').state;
    expect(derive(s, snap, L).index.macs).toBe(snap.macs.length - 1);
    s = type(s, '\t\t').state;
    expect(s.focus).toBe('timeline');
    expect(s.eventSel.following).toBe(true);
    expect(derive(s, snap, L).index.timeline).toBe(snap.timeline.length - 1);
    s = type(s, 'k').state;
    expect(s.eventSel.following).toBe(false);
    s = type(s, 'j').state;
    expect(s.eventSel.following).toBe(true);
    // the window scrolls so the selection stays visible
    const d = derive(type(s, 'g').state, snap, L);
    expect(d.tops.timeline).toBe(0);
  });

  it('details scroll within their lines; q closes them before it quits', () => {
    let s = type(initialViewState(), '\t\r').state;
    expect(s.overlay).toEqual({ kind: 'details', pane: 'findings', key: derive(s, snap, L).findings[0]!.id });
    s = type(s, 'jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj').state;
    expect(s.detailScroll).toBeGreaterThan(0);
    const max = s.detailScroll;
    s = type(s, 'j').state;
    expect(s.detailScroll).toBe(max);
    let r = type(s, 'q');
    expect(r.state.overlay).toBeNull();
    expect(r.effects).toEqual([]);
    r = type(r.state, 'q');
    expect(r.effects).toEqual(['quit']);
  });

  it('p, c and e ask the world outside the view', () => {
    expect(type(initialViewState(), 'p').state.paused).toBe(true);
    expect(type(initialViewState(), 'pp').effects).toEqual(['resume']);
    expect(type(initialViewState(), 'c').effects).toEqual(['clear']);
    expect(type(initialViewState(), 'e').effects).toEqual(['export']);
    expect(reduceKey(initialViewState(), 'c', K({ ctrl: true }), snap, L).effects).toEqual(['quit']);
  });
});
