/**
 * The file pipeline over the lab's recordings: every frame reaches the engine once, the per-interface
 * counts and rates agree with tshark, and reading gives the event loop back between slices.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PacketRecord } from '../../src/model/record.js';
import { emptySnapshot } from '../../src/tui/model.js';
import { FilePipeline, type PipelineStatus } from '../../src/tui/pipeline.js';
import { HAS_TSHARK, PROJECT_ROOT, tshark } from '../helpers/tools.js';

const LOOP = resolve(PROJECT_ROOT, 'captures/loop/loop.pcapng');
const HAVE_LOOP = existsSync(LOOP);

class Counter {
  frames = 0;
  observe(rec: PacketRecord): void {
    if (rec.caplen > 0) this.frames++;
  }
}

function run(specs: string[], opts: { slice?: number; replay?: number | null } = {}) {
  let last: PipelineStatus | null = null;
  let analysis: Counter | null = null;
  let ended: () => void = () => {};
  const done = new Promise<void>((res) => (ended = res));
  const p = new FilePipeline({
    specs,
    replaySpeed: opts.replay ?? null,
    sliceFrames: opts.slice ?? 50_000,
    makeAnalysis: () => new Counter(),
    toSnapshot: (a, st) => {
      analysis = a;
      last = st;
      return emptySnapshot(st.title, st.mode);
    },
    onEnd: () => ended(),
  });
  return { p, done, status: () => (p.store.read(), last!), analysis: () => analysis! };
}

describe.skipIf(!HAVE_LOOP)('file pipeline on the loop recording', () => {
  it.skipIf(!HAS_TSHARK)('observes every frame once; per-interface frames and last-second rates agree with tshark [needs tshark]', async () => {
    const r = run([LOOP], { slice: 100 });
    r.p.start();
    await r.done;
    const st = r.status();
    const rows = tshark(['-r', LOOP, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.time_epoch']).stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(r.analysis().frames).toBe(rows.length);
    expect(st.frames).toBe(rows.length);
    expect(st.state).toBe('done');
    const newest = Math.max(...rows.map(([, t]) => Math.floor(Number(t))));
    for (const i of st.interfaces) {
      const mine = rows.filter(([n]) => n === i.name);
      expect(i.frames, i.name).toBe(mine.length);
      // The rate is the last whole second before the newest frame's second.
      expect(i.rate, i.name).toBe(mine.filter(([, t]) => Math.floor(Number(t)) === newest - 1).length);
    }
    expect(st.interfaces.reduce((n, i) => n + i.rate, 0)).toBeGreaterThan(0);
    expect(st.interfaces.map((i) => i.name).sort()).toEqual(['bond0', 'eth0', 'eth1', 'vif1.0', 'vif2.0', 'xenbr0']);
  });

  it('yields to the event loop between slices, and tells the store once per slice', async () => {
    const r = run([LOOP], { slice: 100 });
    let ticks = 0;
    let changes = 0;
    let seen = -1;
    // Stands in for Ink: an event-loop task that must keep running while the file is read.
    const ui = (): void => {
      ticks++;
      if (r.p.store.dirty) changes++, (seen = r.status().frames);
      if (!r.p.finished) setImmediate(ui);
    };
    r.p.start();
    setImmediate(ui);
    await r.done;
    expect(ticks).toBeGreaterThanOrEqual(8); // 803 frames in slices of 100
    expect(changes).toBeGreaterThanOrEqual(8);
    expect(seen).toBeGreaterThan(0);
  });

  it('replay releases the same frames in capture-time order of arrival (at a speed that needs no waiting)', async () => {
    const a = run([LOOP], { replay: 1e12 });
    a.p.start();
    await a.done;
    const b = run([LOOP]);
    b.p.start();
    await b.done;
    expect(a.status().mode).toBe('replay');
    expect(a.status().frames).toBe(b.status().frames);
    expect(a.status().interfaces).toEqual(b.status().interfaces);
  });

  it('clear starts a fresh engine and counts afresh; reading continues', async () => {
    const r = run([LOOP], { slice: 200 });
    let cleared = false;
    const first = new Promise<void>((res) => {
      const poll = (): void => {
        if (!cleared && r.p.store.dirty && r.status().frames >= 200) {
          r.p.clear();
          cleared = true;
          res();
        } else setImmediate(poll);
      };
      setImmediate(poll);
    });
    r.p.start();
    await first;
    await r.done;
    const st = r.status();
    expect(st.frames).toBeLessThan(803);
    expect(st.frames).toBe(r.analysis().frames);
    expect(st.interfaces.reduce((n, i) => n + i.frames, 0)).toBe(st.frames);
  });
});

describe('file pipeline on bad input', () => {
  it('reports an unreadable file as a message and ends', async () => {
    const r = run([resolve(PROJECT_ROOT, 'package.json')]);
    r.p.start();
    await r.done;
    const st = r.status();
    expect(st.frames).toBe(0);
    expect(st.messages.join('\n')).toMatch(/package\.json: not a pcap or pcapng file/);
  });
});
