/**
 * The screen as ink-testing-library draws it from engine snapshots of the lab recordings: colours
 * show up as ANSI escapes in lastFrame() (FORCE_COLOR is set before chalk loads), and every colour
 * has a textual mark beside it for NO_COLOR users.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import type { UiSnapshot } from '../../src/tui/model.js';
import { show, unmountShown } from './show.js';
import { HAVE_RECORDINGS, readToEnd, RECORDING } from './snapshots.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const plain = (s: string): string => s.replace(ANSI, '');
const RED = /\x1b\[(?:[0-9;]*;)?31m/;
const ANY_COLOUR = /\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7])m/;
const MAC_ROW = /[0-9a-f]{2}(:[0-9a-f]{2}){5}/;

let loop: UiSnapshot;
let lacp: UiSnapshot;

beforeAll(async () => {
  if (!HAVE_RECORDINGS) return;
  loop = (await readToEnd([RECORDING('loop')])).snapshot;
  lacp = (await readToEnd([RECORDING('lacp')])).snapshot;
});

afterEach(unmountShown);

function rowOf(frame: string, mac: string, vlan = 0): string {
  const line = frame.split('\n').find((l) => plain(l).includes(` ${vlan} ${mac} `));
  if (!line) throw new Error(`no row for ${mac} vlan ${vlan} in\n${plain(frame)}`);
  return line;
}

describe.skipIf(!HAVE_RECORDINGS)('the screen on the lab recordings [needs captures/]', () => {
  it('loop: the guest learned on the bond is red and marked !!; the host is yellow and marked ~~', () => {
    const f = show(loop).frame();
    const guest = rowOf(f, '00:16:3e:00:00:01');
    expect(guest).toMatch(RED);
    expect(plain(guest)).toMatch(/!!\s+0 00:16:3e:00:00:01 Xensource\s+bond0/);
    const host = rowOf(f, '00:25:90:00:00:01');
    expect(host).toMatch(/\x1b\[(?:[0-9;]*;)?33m/);
    expect(host).not.toMatch(RED);
    expect(plain(host)).toMatch(/~~\s+0 00:25:90:00:00:01/);
    // Someone else's MAC (the client): no mark, no colour.
    const client = rowOf(f, '52:54:00:00:00:c1');
    expect(plain(client)).toMatch(/^║ {3}\s*0 52:54:00:00:00:c1 QEMU\/KVM/);
    expect(client.replace(/\x1b\[[0-9;]*m║|║\x1b\[[0-9;]*m/g, '')).not.toMatch(ANY_COLOUR);
  });

  it('loop: header shows bond, slaves, bridge with its ports by role, and each interface with rate and frames', () => {
    const p = plain(show(loop).frame());
    expect(p).toMatch(/bondscope browse .*loop\.pcapng │ end of file │ 803 frames/);
    expect(p).toContain('bond0: eth0 eth1');
    expect(p).toContain('xenbr0: bond bond0, guests vif1.0 vif2.0');
    for (const i of loop.interfaces) expect(p).toMatch(new RegExp(`${i.name.replace('.', '\\.')} \\d+(\\.\\d)?k?/s \\d+`));
    // 11: one wrong-port-learning per guest (the bridge is not VLAN-aware: one FDB entry per MAC).
    expect(p).toMatch(/Findings 11/);
    expect(p).toMatch(/Timeline \d+/);
    expect(p).toMatch(/looped\/s .*[▁▂▃▄▅▆▇█].* \d+\/s max \d+/);
  });

  it('live: the header says what the capture lost, red when anything; cap\'s unknown kernel count is "?"', () => {
    const live = (drops: UiSnapshot['drops']): UiSnapshot => ({ ...loop, title: 'host', mode: 'live', state: 'capturing', drops });
    const none = show(live({ kernel: 0, internal: 0, lastSec: 0 }), { columns: 132 }).frame();
    expect(plain(none)).toMatch(/capturing │ 803 frames │ drops 0 │/);
    expect(none.split('\n')[0]).not.toMatch(RED);
    const lost = show(live({ kernel: 1200, internal: 34, lastSec: 500 }), { columns: 132 }).frame();
    expect(plain(lost)).toMatch(/803 frames │ drops 1,234 \(500\/s\) │/);
    expect(lost.split('\n')[0]).toMatch(RED);
    expect(plain(show(live({ kernel: null, internal: 0, lastSec: 0 }), { columns: 132 }).frame())).toMatch(/│ drops \?\+0 │/);
    // Narrow: the short form keeps the drops.
    expect(plain(show(live({ kernel: 7, internal: 0, lastSec: 0 }), { columns: 60 }).frame())).toMatch(/│ dr 7 │/);
  });

  it('lacp: no red row, no marked row, no findings', () => {
    const f = show(lacp).frame();
    const rows = f.split('\n').filter((l) => MAC_ROW.test(plain(l)) && plain(l).startsWith('║'));
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) {
      expect(r).not.toMatch(RED);
      expect(plain(r)).toMatch(/^║ {2}/);
    }
    expect(plain(f)).toMatch(/Findings 0/);
    expect(plain(f)).toContain('no findings');
  });

  it('NO_COLOR: no colour at all, the marks stay', () => {
    const f = show(loop, { color: false }).frame();
    expect(f).not.toMatch(ANY_COLOUR);
    expect(plain(rowOf(f, '00:16:3e:00:00:01'))).toMatch(/^║!!/);
    expect(plain(rowOf(f, '00:25:90:00:00:01'))).toMatch(/^║~~/);
  });

  it.each([
    [80, 24],
    [100, 30],
    [132, 43],
  ])('%i×%i: fills the terminal but one line, no line wider than it', (columns, rows) => {
    const p = plain(show(loop, { columns, rows }).frame()).split('\n');
    expect(p.length).toBe(rows - 1);
    for (const l of p) expect([...l].length).toBeLessThanOrEqual(columns);
    // Larger terminals show more of the table: every MAC fits from 30 rows up.
    if (rows >= 30) for (const r of loop.macs) expect(p.join('\n')).toContain(r.vlan === 0 ? ` 0 ` : ` ${r.vlan} `);
  });

  it('wide terminals give the selected finding its own pane with explanation and remedies', () => {
    const narrow = plain(show(loop, { columns: 100, rows: 40 }).frame());
    expect(narrow).not.toContain('Explanation and remedies');
    // The verdict band takes the lines under the header: 50 rows leave the detail pane room for the remedies.
    const wide = plain(show(loop, { columns: 150, rows: 50 }).frame());
    expect(wide).toContain('Explanation and remedies');
    expect(wide).toContain('Remedies:');
    expect(wide).toMatch(/1\. Use 802\.3ad \(LACP\)/);
    // and the MAC table's extra columns
    expect(wide).toMatch(/belongs\s+looped\s+last seen/);
  });

  it('keys: filter, sort, details of a MAC and of a finding, help, pause, export not available yet', async () => {
    const ui = show(loop);
    let p = plain(await ui.press('/', '0', '0', ':', '1', '6', ':', '3', 'e', '\r'));
    expect(p).toMatch(/MAC table 4\/10/);
    const rows = p.split('\n').filter((l) => MAC_ROW.test(l) && l.startsWith('║'));
    expect(rows.length).toBe(4);
    for (const r of rows) expect(r).toContain('00:16:3e:00:00:0');
    p = plain(await ui.press('s'));
    expect(p).toContain('sort mac');
    p = plain(await ui.press('\r'));
    expect(p).toMatch(/MAC 00:16:3e:00:00:01/);
    expect(p).toMatch(/WRONG PORT/);
    expect(p).toMatch(/vif1\.0\s+\d+\s+\d+/);
    p = plain(await ui.press('\x1b'));
    expect(p).toMatch(/MAC table 4\/10/);
    p = plain(await ui.press('\x1b'));
    expect(p).toMatch(/MAC table 10 /);
    p = plain(await ui.press('\t', '\r'));
    expect(p).toMatch(/▶ Finding /);
    expect(p).toContain('Remedies:');
    expect(p).toContain('Use 802.3ad (LACP)');
    p = plain(await ui.press('q'));
    expect(p).toMatch(/▶ Findings 11/);
    p = plain(await ui.press('?'));
    for (const k of ['q ', 'tab / shift-tab', 'enter', '/', 's ', 'p ', 'e ', 'c ', '?']) expect(p).toContain(`  ${k}`);
    p = plain(await ui.press('\x1b', 'p'));
    expect(p).toContain('PAUSED (capture continues)');
    p = plain(await ui.press('e'));
    expect(p).toContain('export evidence: not available yet');
  });

  it('keys arriving together (a paste, key repeat) each see what the one before did', async () => {
    const ui = show(loop);
    // Tab, then j j, then enter, all in one write: the details must be of the third finding.
    const p = plain(await ui.press('\tjj\r'));
    // The findings pane lists them most severe first, in the engine's order within a severity.
    const third = loop.findings[2]!;
    expect(p).toMatch(/▶ Finding /);
    expect(p).toContain(third.summary.slice(0, 40));
  });

  it('c clears through the controls', async () => {
    let cleared = 0;
    const ui = show(loop, { controls: { clear: () => void cleared++ } });
    const p = plain(await ui.press('c'));
    expect(cleared).toBe(1);
    expect(p).toContain('cleared');
  });
});

describe('nothing from a file reaches the terminal unescaped', () => {
  it('interface names, comments and file names with escape sequences are shown escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bondscope-tui-'));
    try {
      const path = join(dir, 'evil\x1b[2J.pcapng');
      const w = new PcapngWriter(path);
      const evil = w.addInterface({ name: 'eth\x1b]0;owned\x07\x1b[31m0', description: 'x\x1b[2J', linkType: 1, snaplen: 65535 });
      const frame = new Uint8Array(60);
      frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01, 0x08, 0x06]);
      for (let i = 0; i < 5; i++) w.writePacket(evil, 1_700_000_000 + i, 0, frame, 0, 60, 60, { comment: 'c\x1b[2J' });
      w.close();
      const { snapshot } = await readToEnd([path]);
      const f = show(snapshot, { color: false }).frame();
      // No escape from the input: only Ink's own SGR codes (bold, inverse) may remain.
      expect(f.replace(/\x1b\[[0-9;]*m/g, '')).not.toContain('\x1b');
      expect(f).not.toContain('\x07');
      expect(plain(f)).toContain('eth\\x1b]0;owned\\x07\\x1b[31m0');
      expect(plain(f)).toContain('evil\\x1b[2J.pcapng');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
