/**
 * The adapter on the lab's recordings: what the UI shows agrees with analyze's report of the same
 * engine run and with the kernel's ground truth of the lab (its FDB, its own-address log lines).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMac } from '../../src/model/mac.js';
import { capabilities } from '../../src/engine/capabilities.js';
import { analysisJson } from '../../src/report/analysis.js';
import type { UiSnapshot } from '../../src/tui/model.js';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { HAVE_RECORDINGS, readToEnd, RECORDING } from './snapshots.js';

interface Truth {
  fdbAfterGuestBroadcast: Array<{ mac: string; ifname: string; vlan?: number }>;
  guestPortsFinal: Record<string, string>;
  ownAddressWarnings: string[];
}
const truth = (s: string): Truth => JSON.parse(readFileSync(resolve(PROJECT_ROOT, `captures/${s}/truth.json`), 'utf8')) as Truth;
const row = (snap: UiSnapshot, mac: string, vlan = 0) => snap.macs.find((r) => formatMac(r.mac) === mac && r.vlan === vlan);

describe.skipIf(!HAVE_RECORDINGS)('adapter on the lab recordings [needs captures/]', () => {
  it.each(['loop', 'lacp', 'migrate', 'stp', 'single'])('%s: every MAC row agrees with analyze --json of the same run', async (scenario) => {
    const { snapshot, pipeline } = await readToEnd([RECORDING(scenario)]);
    // The pipeline's analysis after its end: the engine's finish() has run, as for analyze.
    const a = pipeline.analysis.analyzer;
    const findings = a.currentFindings();
    const json = analysisJson(a, findings, capabilities(a.ports.ports), [{ index: 0, name: RECORDING(scenario) }], a.stats) as {
      macs: Array<{ mac: string; vlan: number; vendor: string | null; learnedOn: string | null; ports: Record<string, { in: number; out: number; unknown: number }> }>;
      findings: Array<{ kind: string; summary: string }>;
    };
    expect(snapshot.macs.length).toBe(json.macs.length);
    for (const m of json.macs) {
      const r = row(snapshot, m.mac, m.vlan)!;
      expect(r, m.mac).toBeDefined();
      expect(r.vendor).toBe(m.vendor);
      expect(r.learnedOn).toBe(m.learnedOn);
      expect(Object.fromEntries(r.ports.map((p) => [p.port, { in: p.inFrames, out: p.outFrames, unknown: p.unknownFrames }]))).toEqual(m.ports);
    }
    expect(snapshot.findings.map((f) => f.summary)).toEqual(json.findings.map((f) => f.summary));
    expect(snapshot.frames).toBe(a.stats.frames);
    expect(snapshot.state).toBe('done');
  });

  it('loop: the red rows are the guests the kernel learned on bond0; the host is yellow; the learned column is the kernel FDB', async () => {
    const { snapshot } = await readToEnd([RECORDING('loop')]);
    const t = truth('loop');
    const onBond = t.fdbAfterGuestBroadcast.filter((e) => e.mac.startsWith('00:16:3e') && e.ifname === 'bond0').map((e) => e.mac).sort();
    expect(onBond.length).toBe(2);
    expect(snapshot.macs.filter((r) => r.vlan === 0 && r.wrongPort).map((r) => formatMac(r.mac)).sort()).toEqual(onBond);
    for (const [mac, port] of Object.entries(t.guestPortsFinal)) {
      expect(row(snapshot, mac)!.learnedOn).toBe(port);
      expect(row(snapshot, mac)!.home).toMatch(/^vif[12]\.0$/);
    }
    const host = row(snapshot, '00:25:90:00:00:01')!;
    expect(host.wrongPort).toBe(false);
    expect(host.ownAddressFrames).toBeGreaterThan(0);
    expect(host.home).toBe('host');
  });

  it.each(['lacp', 'single', 'stp', 'migrate'])('%s: no row is red; the learned column is the kernel FDB', async (scenario) => {
    const { snapshot } = await readToEnd([RECORDING(scenario)]);
    expect(snapshot.macs.filter((r) => r.wrongPort)).toEqual([]);
    for (const [mac, port] of Object.entries(truth(scenario).guestPortsFinal)) expect(row(snapshot, mac)!.learnedOn).toBe(port);
  });

  it('loop: the timeline has the kernel own-address warning word for word, and the guest moved onto bond0 by an echo', async () => {
    const { snapshot } = await readToEnd([RECORDING('loop')]);
    const kernel = new Set(truth('loop').ownAddressWarnings.map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, '')));
    const warnings = snapshot.timeline.filter((e) => e.kind === 'kernel-warning');
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) expect(kernel.has(w.text.replace(/ ×\d+$/, ''))).toBe(true);
    expect(snapshot.timeline.some((e) => e.kind === 'fdb-move' && /^00:16:3e:00:00:01 learned on bond0 \(was vif1\.0\) by an echo/.test(e.text))).toBe(true);
    expect(snapshot.timeline.filter((e) => e.kind === 'finding-start').length).toBe(snapshot.findings.length);
    for (let i = 1; i < snapshot.timeline.length; i++) expect(snapshot.timeline[i]!.time).toBeGreaterThanOrEqual(snapshot.timeline[i - 1]!.time);
  });

  it('migrate: the guest that left is one plain move on the timeline, no echo', async () => {
    const { snapshot } = await readToEnd([RECORDING('migrate')]);
    const moves = snapshot.timeline.filter((e) => e.kind === 'fdb-move');
    expect(moves.map((e) => e.text)).toEqual(['00:16:3e:00:00:01 learned on bond0 (was vif1.0)']);
    expect(snapshot.findings.map((f) => f.kind)).toContain('mac-move');
  });

  it('loop: looped frames per second add up to the looped-broadcast counts, within the capture', async () => {
    const { snapshot, pipeline } = await readToEnd([RECORDING('loop')]);
    const total = snapshot.findings.filter((f) => f.kind === 'looped-broadcast').reduce((n, f) => n + Number(/(\d+) time/.exec(f.summary)![1]), 0);
    const series = snapshot.loopedPerSecond;
    expect(series.reduce((a, b) => a + b, 0)).toBeCloseTo(total, 6);
    const first = Math.min(...snapshot.findings.filter((f) => f.kind === 'looped-broadcast').map((f) => Math.floor(f.first)));
    const start = Math.floor(snapshot.now) - series.length + 1;
    series.forEach((v, i) => {
      if (start + i < first) expect(v).toBe(0);
    });
    expect(pipeline.finished).toBe(true);
  });

  it('loop read in slices of 50 frames with a snapshot after each: the same rows as in one go (cached rows stay right)', async () => {
    const whole = (await readToEnd([RECORDING('loop')])).snapshot;
    let ended: () => void = () => {};
    const done = new Promise<void>((res) => (ended = res));
    const { fileSession } = await import('../../src/tui/session.js');
    const { emptyTopology } = await import('../../src/model/topology.js');
    const p = fileSession({ specs: [RECORDING('loop')], replaySpeed: null, topology: emptyTopology, sliceFrames: 50, onEnd: () => ended() });
    let reads = 0;
    const ui = (): void => {
      if (p.store.dirty) (p.store.read(), reads++);
      if (!p.finished) setImmediate(ui);
    };
    p.start();
    setImmediate(ui);
    await done;
    const sliced = p.store.read();
    expect(reads).toBeGreaterThan(10);
    const norm = (s: UiSnapshot) => s.macs.map((r) => ({ ...r, ports: [...r.ports].sort((a, b) => a.port.localeCompare(b.port)) })).sort((a, b) => a.mac - b.mac || a.vlan - b.vlan);
    expect(norm(sliced)).toEqual(norm(whole));
    expect(sliced.findings.map((f) => f.id).sort()).toEqual(whole.findings.map((f) => f.id).sort());
    expect(sliced.loopedPerSecond.reduce((a, b) => a + b, 0)).toBeCloseTo(whole.loopedPerSecond.reduce((a, b) => a + b, 0), 6);
  });
});

describe('adapter: live capture events', () => {
  it('interfaces appearing and going go on the timeline once each, at their wall time; drops pass to the status', async () => {
    const { AnalysisView } = await import('../../src/tui/adapter.js');
    const { Analyzer, DEFAULT_OPTIONS } = await import('../../src/engine/analyzer.js');
    const { emptyTopology } = await import('../../src/model/topology.js');
    const view = new AnalysisView(['host']);
    const a = new Analyzer(emptyTopology(), DEFAULT_OPTIONS);
    const events = [{ time: 1795684707.25, text: 'vif3.0: appeared as a port of xenbr0: captured from its first frame' }];
    const status = (drops: { kernel: number | null; internal: number; lastSec: number }) => ({ title: 'host', mode: 'live' as const, state: 'capturing' as const, frames: 0, now: 1795684708, interfaces: [], messages: [], drops, captureEvents: events });
    view.snapshot(a, status({ kernel: 0, internal: 0, lastSec: 0 }));
    events.push({ time: 1795684709.5, text: 'vif2.0: the interface was removed; capturing on the rest (vif1.0)' });
    const s = view.snapshot(a, status({ kernel: 12, internal: 1, lastSec: 5 }));
    expect(s.timeline.filter((e) => e.kind === 'capture').map((e) => [e.time, e.text])).toEqual(events.map((e) => [e.time, e.text]));
    expect(s.drops).toEqual({ kernel: 12, internal: 1, lastSec: 5 });
  });
});
