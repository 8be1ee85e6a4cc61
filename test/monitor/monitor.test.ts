/**
 * The monitor's parts on the lab's real recordings, replayed in capture time: findings open as
 * their evidence arrives and close after the quiet period; what the counters add up to is what the
 * engine counted; the frame ring keeps the newest frames within its caps and writes them as a
 * pcapng that tshark and `analyze` read; the metrics pass `promtool check metrics`; the shipped
 * alert rules pass `promtool check rules` and their unit tests (`promtool test rules`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import type { Finding } from '../../src/engine/findings.js';
import { FrameRing } from '../../src/monitor/frame-ring.js';
import { EvidenceKeeper, oldestFirst } from '../../src/monitor/evidence-keeper.js';
import { FindingTracker, type LifecycleEvent, type Tracked } from '../../src/monitor/lifecycle.js';
import { Monitor, type MonitorSession } from '../../src/monitor/monitor.js';
import { diagnosisFilter } from '../../src/monitor/filter.js';
import { emptyTopology } from '../../src/model/topology.js';
import { parseMac } from '../../src/model/mac.js';
import { analyzeFiles } from '../helpers/analyze.js';
import { HAS_TSHARK, PROJECT_ROOT, tshark } from '../helpers/tools.js';

const LOOP = join(PROJECT_ROOT, 'captures/loop/loop.pcapng');
const LACP = join(PROJECT_ROOT, 'captures/lacp/lacp.pcapng');
const HAS_PROMTOOL = spawnSync('/bin/sh', ['-c', 'command -v promtool']).status === 0;
const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Replays a recording through an engine, reading its findings every `pollMs` of capture time. */
function replay(file: string, pollMs: number, onPoll: (a: Analyzer, nowMs: number) => void, onFrame?: (a: Analyzer) => void): { a: Analyzer; endMs: number } {
  const set = openCapture([file]);
  const a = new Analyzer(emptyTopology());
  const f = new DecodedFrame();
  let next = -1;
  let nowMs = 0;
  while (set.next()) {
    nowMs = set.rec.tsSec * 1000 + set.rec.tsNsec / 1e6;
    if (next < 0) next = nowMs + pollMs;
    while (nowMs >= next) {
      a.advanceTo(Math.floor(next / 1000), (next % 1000) * 1e6);
      onPoll(a, next);
      next += pollMs;
    }
    decodeFrame(set.rec, f);
    a.observe(set.rec, f);
    onFrame?.(a);
  }
  return { a, endMs: nowMs };
}

const keyOf = (f: Finding): string => `${f.kind} ${f.mac} ${f.vlan}`;

describe('finding lifecycle on the loop recording', () => {
  it('opens each finding once as its evidence arrives, counts what the engine counts, closes after the quiet period', () => {
    const events: LifecycleEvent[] = [];
    const added = new Map<string, number>();
    const t = new FindingTracker({ quietAfterMs: 30_000, updateEveryMs: 5_000 }, (f, d) => added.set(keyOf(f), (added.get(keyOf(f)) ?? 0) + d));
    const { a, endMs } = replay(LOOP, 500, (a, now) => events.push(...t.observe(a.currentFindings(), 1, now)));
    a.settle(true);
    events.push(...t.observe(a.currentFindings(), 1, endMs + 1));
    const truth = analyzeFiles([LOOP]).filter((f) => !['mac-flap', 'mac-move'].includes(f.kind));
    const opened = events.filter((e) => e.event === 'opened');
    // Every finding analyze reports (flaps and moves are only judged at the end) opened exactly once.
    expect(opened.map((e) => keyOf(e.tracked.finding)).sort()).toEqual([...new Set(truth.map(keyOf))].sort());
    // What the counters were given adds up to the engine's counts.
    for (const f of truth.filter((x) => x.kind === 'looped-broadcast' || x.kind === 'own-address')) {
      const same = truth.filter((x) => keyOf(x) === keyOf(f)).reduce((s, x) => s + x.count, 0);
      expect(added.get(keyOf(f)), keyOf(f)).toBe(same);
    }
    // Nothing closed while the loop went on (the recording is 20 s; quiet is 30 s) ...
    expect(events.filter((e) => e.event === 'closed')).toEqual([]);
    expect(events.filter((e) => e.event === 'updated').length).toBeGreaterThan(0);
    // ... and everything closes 30 s after its last evidence, in order, with no new opening.
    const later = t.observe(a.currentFindings(), 1, endMs + 31_000);
    expect(later.every((e) => e.event === 'closed')).toBe(true);
    expect(later.length).toBe(opened.length);
    expect(t.activeCount).toBe(0);
    expect([...t.activeBy.values()]).toEqual([]);
  });

  it('with a short quiet period, a finding closes only after that long without evidence, and opens again when evidence returns', () => {
    const events: LifecycleEvent[] = [];
    const t = new FindingTracker({ quietAfterMs: 3_000, updateEveryMs: 60_000 });
    replay(LOOP, 250, (a, now) => events.push(...t.observe(a.currentFindings(), 1, now)));
    const closed = events.filter((e) => e.event === 'closed');
    expect(closed.length).toBeGreaterThan(0);
    for (const e of closed) expect(e.at - e.tracked.lastEvidenceAt, e.tracked.id).toBeGreaterThanOrEqual(3_000);
    // The guest's broadcasts loop every few seconds: its finding stayed open while they came.
    const byKey = new Map<string, string[]>();
    for (const e of events) byKey.set(e.tracked.key, [...(byKey.get(e.tracked.key) ?? []), e.event]);
    for (const [key, seq] of byKey) {
      // opened, (updated…), closed, opened … alternate properly.
      const life = seq.filter((x) => x !== 'updated');
      life.forEach((x, i) => expect(x, `${key}: ${life.join(' ')}`).toBe(i % 2 === 0 ? 'opened' : 'closed'));
    }
  });

  it('a fresh engine (epoch) keeps open findings open while the new engine finds them again; counts continue', () => {
    const t = new FindingTracker({ quietAfterMs: 30_000, updateEveryMs: 5_000 });
    const first = replay(LOOP, 500, (a, now) => t.observe(a.currentFindings(), 1, now));
    first.a.settle(true);
    t.observe(first.a.currentFindings(), 1, first.endMs);
    const open = t.activeCount;
    const total = [...t.active].find((x) => x.finding.kind === 'looped-broadcast')!.total;
    // The same frames again into a new engine, later: same findings, no reopening, counts grow.
    const events: LifecycleEvent[] = [];
    const second = replay(LOOP, 500, (a, now) => events.push(...t.observe(a.currentFindings(), 2, now + 10_000)));
    second.a.settle(true);
    events.push(...t.observe(second.a.currentFindings(), 2, second.endMs + 10_000));
    expect(events.filter((e) => e.event !== 'updated')).toEqual([]);
    expect(t.activeCount).toBe(open);
    expect([...t.active].find((x) => x.finding.kind === 'looped-broadcast')!.total).toBeGreaterThan(total);
  });

  it('on the aggregated recording nothing of the loop opens', () => {
    const t = new FindingTracker();
    const events: LifecycleEvent[] = [];
    replay(LACP, 500, (a, now) => events.push(...t.observe(a.currentFindings(), 1, now)));
    expect(events.filter((e) => ['looped-broadcast', 'wrong-port-learning', 'blackholed-unicast', 'own-address'].includes(e.tracked.finding.kind))).toEqual([]);
  });
});

describe('frame ring', () => {
  it('keeps the newest frames within its byte cap, drops whole records, and writes them as pcapng that tshark and analyze read', () => {
    const ring = new FrameRing({ bytes: 64 << 10, seconds: 3600, snap: 1600 });
    const set = openCapture([LOOP]);
    const all: { sec: number; nsec: number; len: number }[] = [];
    while (set.next()) {
      ring.push(set.rec);
      all.push({ sec: set.rec.tsSec, nsec: set.rec.tsNsec, len: set.rec.caplen });
      expect(ring.used).toBeLessThanOrEqual(64 << 10);
    }
    expect(ring.evicted).toBeGreaterThan(0);
    expect(ring.frames + ring.evicted).toBe(all.length);
    const kept: { sec: number; nsec: number; len: number }[] = [];
    ring.forEach(0, (_i, sec, nsec, bytes) => kept.push({ sec, nsec, len: bytes.length }));
    // Exactly the newest frames, in order.
    expect(kept).toEqual(all.slice(all.length - ring.frames));
    const file = join(work, 'ring.pcapng');
    expect(ring.writePcapng(file, 0, 'test', 'bondscope test')).toBe(ring.frames);
    if (HAS_TSHARK) {
      const r = tshark(['-r', file, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.len']);
      expect(r.status).toBe(0);
      expect(r.stdout.trim().split('\n').length).toBe(ring.frames);
    }
    expect(analyzeFiles([file]).some((f) => f.kind === 'looped-broadcast')).toBe(true);
  });

  it('forgets frames older than its time window, measured from the newest', () => {
    const ring = new FrameRing({ bytes: 1 << 20, seconds: 5, snap: 1600 });
    const set = openCapture([LOOP]);
    let newest = 0;
    while (set.next()) {
      ring.push(set.rec);
      newest = Math.max(newest, set.rec.tsSec);
    }
    let oldest = Infinity;
    ring.forEach(0, (_i, sec) => (oldest = Math.min(oldest, sec)));
    expect(newest - oldest).toBeLessThanOrEqual(5);
    expect(ring.evicted).toBeGreaterThan(0);
  });
});

/** A frame ring holding the whole loop recording. */
function loopRing(): FrameRing {
  const ring = new FrameRing({ bytes: 1 << 20, seconds: 3600, snap: 1600 });
  const set = openCapture([LOOP]);
  while (set.next()) ring.push(set.rec);
  return ring;
}

describe('evidence keeper', () => {
  it('writes a bundle from the ring through the exporter, joins findings that open meanwhile, rate-limits, and removes the oldest bundles past the cap', async () => {
    const ring = new FrameRing({ bytes: 1 << 20, seconds: 3600, snap: 1600 });
    const set = openCapture([LOOP]);
    let first = 0;
    while (set.next()) {
      ring.push(set.rec);
      first ||= set.rec.tsSec;
    }
    const dir = join(work, 'evidence');
    const keeper = new EvidenceKeeper({ dir, beforeSec: 3600, afterMs: 1000, minIntervalMs: 10_000, maxBytes: 60_000 }, ring, () => emptyTopology());
    const findings = analyzeFiles([LOOP]);
    const tracked = (f: Finding, at: number): Tracked => ({ id: `${f.kind}/${at}`, key: f.kind, origin: 'frames', finding: f, openedAt: at, lastEvidenceAt: at, openedWall: at, lastEvidenceWall: at, total: 1, lastEventAt: at, lastEventTotal: 1, bundle: null });
    const written: string[] = [];
    // Opened as the recording ended: its frames are the ones before.
    let now = (first + 30) * 1000;
    for (let round = 0; round < 4; round++, now += 20_000) {
      const a = tracked(findings[0]!, now);
      const b = tracked(findings[1]!, now + 100);
      const bundle = keeper.request(a, now);
      expect(bundle).not.toBeNull();
      expect(keeper.request(b, now + 100)).toBe(bundle);
      expect(await keeper.tick(now + 500)).toBeNull();
      const w = (await keeper.tick(now + 1000))!;
      expect(w.error).toBeNull();
      expect(w.findings).toEqual([a.id, b.id]);
      written.push(w.bundle);
      // Within the interval: counted as skipped, no bundle.
      expect(keeper.request(tracked(findings[2]!, now + 5000), now + 5000)).toBeNull();
    }
    expect(keeper.skipped).toBe(4);
    const last = written.at(-1)!;
    // The newest bundle alone is over the cap: its raw capture went, its trimmed evidence stayed.
    expect(readdirSync(last).sort()).toEqual(['evidence.pcapng', 'findings.json', 'report.md']);
    const bundled = JSON.parse(readFileSync(join(last, 'findings.json'), 'utf8')) as { findings: { kind: string }[] };
    expect(new Set(bundled.findings.map((f) => f.kind))).toEqual(new Set(findings.map((f) => f.kind)));
    // Each bundle is larger than the 60 kB cap: only the newest is left.
    expect(readdirSync(dir)).toEqual([basename(last)]);
    expect(keeper.bytes).toBe(readdirSync(last).reduce((n, f) => n + statSync(join(last, f)).size, 0));
  });

  it('a partial bundle a killed monitor left is removed at the next start and named; a bundle is whole under its name or not there', async () => {
    const dir = join(work, 'evidence-partial');
    const half = join(dir, '.partial-20261201T000000Z-looped-broadcast');
    mkdirSync(half, { recursive: true });
    writeFileSync(join(half, 'capture.pcapng'), Buffer.alloc(100));
    const ring = loopRing();
    const keeper = new EvidenceKeeper({ dir, beforeSec: 3600, afterMs: 0, minIntervalMs: 0, maxBytes: 64 << 20 }, ring, () => emptyTopology());
    expect(keeper.leftovers).toEqual(['.partial-20261201T000000Z-looped-broadcast']);
    expect(readdirSync(dir)).toEqual([]);
    const f = analyzeFiles([LOOP])[0]!;
    const t: Tracked = { id: 'x', key: 'x', origin: 'frames', finding: f, openedAt: 0, lastEvidenceAt: 0, openedWall: Date.UTC(2026, 11, 1), lastEvidenceWall: 0, total: 1, lastEventAt: 0, lastEventTotal: 1, bundle: null };
    const bundle = keeper.request(t, 0, Date.UTC(2026, 11, 1))!;
    expect(basename(bundle)).toBe('20261201T000000Z-looped-broadcast');
    const w = (await keeper.tick(1))!;
    expect(w.error).toBeNull();
    // Only the finished bundle, with every file; nothing partial beside it.
    expect(readdirSync(dir)).toEqual([basename(bundle)]);
    expect(readdirSync(bundle).sort()).toEqual(['capture.pcapng', 'evidence.pcapng', 'findings.json', 'report.md']);
    // The report names its capture as it is found in the bundle.
    expect(readFileSync(join(bundle, 'report.md'), 'utf8')).toContain('`capture.pcapng`');
    expect(readFileSync(join(bundle, 'report.md'), 'utf8')).not.toContain('.partial-');
  });

  it('prunes in the order the bundles were written, not by the stamps in their names (a wall clock stepped back)', () => {
    // Written at noon, then after the clock stepped back ten minutes: the second's name sorts first.
    const written = ['20261201T120000Z-looped-broadcast', '20261201T115000Z-looped-broadcast'];
    expect(oldestFirst(['20261201T115000Z-looped-broadcast', '20261201T120000Z-looped-broadcast', '20261130T080000Z-own-address'], written)).toEqual(['20261130T080000Z-own-address', ...written]);
  });
});

describe('metrics and rules', () => {
  it('the loop recording through the monitor: counters by bond and slave, text that promtool accepts, no MAC in any label', async () => {
    const lines: string[] = [];
    const m = new Monitor({ lifecycle: { quietAfterMs: 60_000, updateEveryMs: 60_000 }, epochMs: 3_600_000, ring: { bytes: 1 << 20, seconds: 60, snap: 1600 }, evidence: null, kernel: false, emit: (l) => lines.push(l) }, emptyTopology());
    const observers: MonitorSession['observers'] = [];
    let analyzer!: Analyzer;
    const session: MonitorSession = {
      get analyzer() {
        return analyzer;
      },
      observers,
      messages: [],
      dropped: new Set(),
      reset: () => {},
    };
    analyzer = new Analyzer(emptyTopology());
    m.attach(session, emptyTopology());
    const set = openCapture([LOOP]);
    const f = new DecodedFrame();
    let last = 0;
    while (set.next()) {
      decodeFrame(set.rec, f);
      analyzer.observe(set.rec, f);
      for (const o of observers) o(set.rec, f);
      last = set.rec.tsSec * 1000;
    }
    analyzer.settle(true);
    m.poll(last + 1000);
    const text = await m.metrics.text();
    const truth = analyzeFiles([LOOP]);
    const looped = truth.filter((x) => x.kind === 'looped-broadcast').reduce((s, x) => s + x.count, 0);
    const exported = [...text.matchAll(/^bondscope_looped_frames_total\{bridge="[^"]*",bond="bond0",slave="eth1"\} (\d+)$/gm)].reduce((s, x) => s + Number(x[1]), 0);
    expect(exported).toBe(looped);
    expect(text).toMatch(/^bondscope_capture_frames_total\{interface="vif1\.0"\} \d+$/m);
    expect(text).toMatch(/^bondscope_findings_active\{kind="wrong-port-learning",severity="error"\} 2$/m);
    expect(text).toMatch(/^bondscope_blackholed_unicast_frames_total\{bridge="",bond="bond0"\} 9$/m);
    // Never a MAC in a label value.
    expect(text).not.toMatch(/="[^"]*[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:/);
    // Events: one JSON object per line, each finding opened once.
    const events = lines.map((l) => JSON.parse(l) as { event: string; kind: string; mac: string });
    expect([...new Set(events.filter((e) => e.event === 'opened' && e.kind === 'looped-broadcast').map((e) => e.mac))].sort()).toEqual(['00:16:3e:00:00:01', '00:16:3e:00:00:02', '00:25:90:00:00:01']);
    if (HAS_PROMTOOL) {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('event lines are terminal-safe: names from the host with escape and bidi characters come out as \\u escapes, and parse back unchanged', () => {
    const lines: string[] = [];
    const m = new Monitor({ lifecycle: { quietAfterMs: 1000, updateEveryMs: 1000 }, epochMs: 3_600_000, ring: { bytes: 1 << 20, seconds: 60, snap: 1600 }, evidence: null, kernel: false, emit: (l) => lines.push(l) }, emptyTopology());
    const evil = 'br\u001b[31m0\u202e\u0085';
    const t = emptyTopology();
    t.bridges.push({ name: evil, ports: [{ name: 'bond0', state: 'forwarding' }], bridgeId: null, rootId: null, stpEnabled: false } as (typeof t.bridges)[number]);
    m.checkConfiguration({ topology: t, interfaces: [], warnings: [], root: '/', lacpStates: new Map() }, t);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\u001b\u202e\u0085]/);
    expect((JSON.parse(lines[0]!) as { bridges: { name: string }[] }).bridges[0]!.name).toBe(evil);
  });

  it('the default capture filter: multicast coming in (broadcast, BPDUs, LACPDUs) and the host and guest MACs; past the limit, none', () => {
    expect(diagnosisFilter([parseMac('00:25:90:00:00:01'), parseMac('00:16:3e:00:00:01'), parseMac('fe:ff:ff:ff:ff:ff'), -1])).toBe('(ether multicast and inbound) or ether host 00:16:3e:00:00:01 or ether host 00:25:90:00:00:01');
    expect(diagnosisFilter(Array.from({ length: 300 }, (_, i) => 0x00163e000000 + i))).toBeNull();
  });

  it.skipIf(!HAS_PROMTOOL)(`the shipped alert rules pass promtool check and their unit tests${HAS_PROMTOOL ? '' : ' [skipped: needs promtool (apt-get install prometheus)]'}`, () => {
    const dir = join(PROJECT_ROOT, 'deploy/prometheus');
    const check = spawnSync('promtool', ['check', 'rules', 'bondscope-rules.yml'], { cwd: dir, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toContain('SUCCESS: 5 rules found');
    expect(check.status).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', 'bondscope-rules.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(test.stdout + test.stderr).toContain('SUCCESS');
    expect(test.status).toBe(0);
    // Every alert has a summary that says what to do, and the test file exercises every alert.
    const rules = readFileSync(join(dir, 'bondscope-rules.yml'), 'utf8');
    const names = [...rules.matchAll(/- alert: (\w+)/g)].map((x) => x[1]);
    expect(names).toEqual(['BondscopeBondLoop', 'BondscopeGuestOnWrongPort', 'BondscopeBlackholedUnicast', 'BondscopeCaptureDropping', 'BondscopeDown']);
    const tests = readFileSync(join(dir, 'bondscope-rules.test.yml'), 'utf8');
    for (const n of names) expect(tests).toContain(`alertname: ${n}`);
  });
});

/** The loop recording through a Monitor on a clock of the test's own (monotonic and wall set apart). */
function loopMonitor(clock: { mono: number; wall: number }, quietAfterMs: number): { m: Monitor; lines: string[]; events: { kind: string; iface: string | null }[]; analyzer: Analyzer } {
  const lines: string[] = [];
  const m = new Monitor({ lifecycle: { quietAfterMs, updateEveryMs: 3_600_000 }, epochMs: 3_600_000, ring: { bytes: 1 << 20, seconds: 60, snap: 1600 }, evidence: null, kernel: false, emit: (l) => lines.push(l), clock: { mono: () => clock.mono, wall: () => clock.wall } }, emptyTopology());
  const analyzer = new Analyzer(emptyTopology());
  const events: { kind: string; iface: string | null }[] = [];
  // A fresh engine is an empty one, as the live session's.
  const session = { analyzer, observers: [] as MonitorSession['observers'], messages: [], events, dropped: new Set<string>(), reset(): void { this.analyzer = new Analyzer(emptyTopology()); } };
  m.attach(session, emptyTopology());
  const set = openCapture([LOOP]);
  const f = new DecodedFrame();
  while (set.next()) {
    decodeFrame(set.rec, f);
    analyzer.observe(set.rec, f);
    for (const o of session.observers) o(set.rec, f);
  }
  analyzer.settle(true);
  return { m, lines, events, analyzer };
}

const parsed = (lines: string[]): { event: string; kind?: string; mac?: string; message?: string; reason?: string; time: string }[] => lines.map((l) => JSON.parse(l));

describe('monitor over time', () => {
  it('a wall clock stepped forward and back by minutes: said once each, no finding closes early or stays open late; quiet periods run on the monotonic clock', () => {
    const clock = { mono: 1_000, wall: Date.UTC(2026, 11, 1, 12) };
    const { m, lines } = loopMonitor(clock, 30_000);
    m.poll();
    const open = parsed(lines).filter((e) => e.event === 'opened').length;
    expect(open).toBeGreaterThan(0);
    // NTP steps the wall clock five minutes forward (ten times the quiet period): nothing closes.
    clock.mono += 1_000;
    clock.wall += 300_000 + 1_000;
    m.poll();
    clock.mono += 1_000;
    clock.wall += 1_000;
    m.poll();
    let events = parsed(lines);
    expect(events.filter((e) => e.event === 'closed')).toEqual([]);
    expect(events.filter((e) => e.event === 'message' && e.message!.startsWith('the wall clock stepped forward by 300.0 s'))).toHaveLength(1);
    // Then ten minutes back: still open, said once.
    clock.mono += 1_000;
    clock.wall -= 600_000 - 1_000;
    m.poll();
    events = parsed(lines);
    expect(events.filter((e) => e.event === 'closed')).toEqual([]);
    expect(events.filter((e) => e.event === 'message' && e.message!.startsWith('the wall clock stepped back by 600.0 s'))).toHaveLength(1);
    // 30 s of monotonic time after the last evidence: every finding closes, on time, stamped by the wall clock.
    clock.mono += 27_000;
    clock.wall += 27_000;
    m.poll();
    events = parsed(lines);
    const closed = events.filter((e) => e.event === 'closed');
    expect(closed).toHaveLength(open);
    expect(Date.parse(closed[0]!.time)).toBe(clock.wall);
    expect(events.filter((e) => e.event === 'message')).toHaveLength(2);
  });

  it('a guest port that goes away takes its metric series with it and closes the findings about its guest', async () => {
    const clock = { mono: 1_000, wall: Date.UTC(2026, 11, 1, 12) };
    const { m, lines, events } = loopMonitor(clock, 3_600_000);
    m.poll();
    let text = await m.metrics.text();
    expect(text).toMatch(/^bondscope_capture_frames_total\{interface="vif1\.0"\} \d+$/m);
    const before = parsed(lines).filter((e) => e.event === 'opened' && e.mac === '00:16:3e:00:00:01').map((e) => e.kind).sort();
    expect(before).toEqual(expect.arrayContaining(['looped-broadcast', 'wrong-port-learning']));
    events.push({ kind: 'gone', iface: 'vif1.0' });
    clock.mono += 500;
    m.poll();
    await new Promise((r) => setTimeout(r, 10));
    text = await m.metrics.text();
    expect(text).not.toContain('"vif1.0"');
    expect(text).toMatch(/^bondscope_capture_frames_total\{interface="vif2\.0"\} \d+$/m);
    const closed = parsed(lines).filter((e) => e.event === 'closed');
    expect(closed.every((e) => e.mac === '00:16:3e:00:00:01' && e.reason === 'port-gone')).toBe(true);
    expect(closed.map((e) => e.kind).sort()).toEqual(before);
    // The other guest's findings stay open.
    expect(m.tracker.activeCount).toBeGreaterThan(0);
  });
});

describe('the kernel clock stepped mid-capture', () => {
  it('frames stamped five minutes back (NTP stepped the wall clock the kernel stamps by): a fresh engine from the step, the loop counted as without it', async () => {
    const truth = analyzeFiles([LOOP]);
    const count = (kind: string): number => truth.filter((f) => f.kind === kind).reduce((n, f) => n + f.count, 0);
    const run = async (shiftSec: number): Promise<{ text: string; lines: string[] }> => {
      const clock = { mono: 0, wall: 0 };
      const lines: string[] = [];
      const m = new Monitor({ lifecycle: { quietAfterMs: 3_600_000, updateEveryMs: 3_600_000 }, epochMs: 3_600_000, ring: { bytes: 1 << 20, seconds: 60, snap: 1600 }, evidence: null, kernel: false, emit: (l) => lines.push(l), clock: { mono: () => clock.mono, wall: () => clock.wall } }, emptyTopology());
      const session = { analyzer: new Analyzer(emptyTopology()), observers: [] as MonitorSession['observers'], messages: [], dropped: new Set<string>(), reset(): void { this.analyzer = new Analyzer(emptyTopology()); } };
      const set = openCapture([LOOP]);
      const f = new DecodedFrame();
      const all: number[] = [];
      { const s2 = openCapture([LOOP]); while (s2.next()) all.push(s2.rec.tsSec * 1000 + s2.rec.tsNsec / 1e6); }
      m.attach(session, emptyTopology());
      const jumpAt = all[Math.floor(all.length / 2)]!;
      let next = all[0]! + 500;
      let shifted = false;
      while (set.next()) {
        const t = set.rec.tsSec * 1000 + set.rec.tsNsec / 1e6;
        if (t >= jumpAt) shifted = true;
        if (shifted) set.rec.tsSec += shiftSec;
        while (t >= next) {
          clock.mono = next;
          clock.wall = next + (shifted ? shiftSec * 1000 : 0);
          session.analyzer.advanceTo(Math.floor(clock.wall / 1000), (clock.wall % 1000) * 1e6);
          m.poll();
          next += 500;
        }
        decodeFrame(set.rec, f);
        session.analyzer.observe(set.rec, f);
        for (const o of session.observers) o(set.rec, f);
      }
      session.analyzer.settle(true);
      clock.mono = next;
      m.poll();
      return { text: await m.metrics.text(), lines };
    };
    const sum = (text: string, name: string): number => [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((n, x) => n + Number(x[1]), 0);
    const steady = await run(0);
    const stepped = await run(-300);
    // What the bridge learned before the step stays right after it (blackholing is judged by it: with one engine across the step, none was found after it).
    for (const name of ['bondscope_blackholed_unicast_frames_total', 'bondscope_wrong_port_learning_total']) expect(sum(stepped.text, name), name).toBe(sum(steady.text, name));
    // The frames of the one poll (0.5 s) in which the step came may be split between the engines.
    expect(Math.abs(sum(stepped.text, 'bondscope_looped_frames_total') - sum(steady.text, 'bondscope_looped_frames_total'))).toBeLessThanOrEqual(1);
    expect(sum(steady.text, 'bondscope_blackholed_unicast_frames_total')).toBe(count('blackholed-unicast'));
    expect(stepped.lines.filter((l) => l.includes('the wall clock stepped back by 300.0 s'))).toHaveLength(1);
  });
});
