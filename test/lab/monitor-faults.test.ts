/**
 * Faults a monitor running for months meets, each on the looping lab with the real monitor:
 *  - the evidence directory's disk is full (a 16 MiB tmpfs, filled: room for a whole bundle once emptied): counted as skipped with
 *    reason disk-full, nothing partial left, the monitor goes on, and once there is room again
 *    the next bundle is written whole;
 *  - SIGKILL while a bundle is being written: the bundle never exists under its own name unless
 *    whole; the partial directory is removed at the next start, and said;
 *  - scrapes all through start-up and shutdown: every answer is a complete exposition that
 *    promtool accepts (or the connection is refused before the server listens and after it stops);
 *  - the wall clock stepped forward by five minutes and back by ten, while the loop goes on:
 *    libfaketime in the monitor's process (FAKETIME_DONT_FAKE_MONOTONIC: as NTP steps the wall
 *    clock, not the monotonic one; the kernel's frame stamps stay true): each step said once, no
 *    finding closes while its evidence arrives, and they close on time once it stops;
 *  - a broadcast storm that overflows the capture ring (tcpreplay at top speed, a 2 MiB ring):
 *    the drops are counted and said, BondscopeCaptureDropping fires under a real Prometheus, and
 *    afterwards the looped broadcasts are counted again as they are sent.
 * (The kernel log unreadable: monitor.test.ts.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { down, up } from './lab.js';
import { arpSender, exited, has, METRICS, metric, monitorLabParams, monitorLabUnavailable, sleep, startMonitor, startPrometheus, writePcap, type MonitorEvent } from './monitor-lab.js';
import { namespaces } from './topology.js';

const why = monitorLabUnavailable({ prometheus: true });
const FAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1'].find((p) => existsSync(p));
const prefix = `bsmf${process.pid % 10000}`;
const params = monitorLabParams(prefix, 64);
const ns = namespaces(params);
const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-faults-'));
const bond = ['--bond', `${params.bond}=${params.slaves.join(',')}`];
const BUNDLE_FILES = ['capture.pcapng', 'evidence.pcapng', 'findings.json', 'report.md'];

function lab(): void {
  down(prefix);
  up('loop', params);
}

/** Bundle directories (named, not partial) and what each holds. */
function bundles(dir: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const n of readdirSync(dir)) if (/^\d{8}T/.test(n)) out[n] = readdirSync(join(dir, n)).sort();
  return out;
}

describe.skipIf(why !== null)(`faults the monitor survives${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  it('the evidence disk is full: counted (reason disk-full), nothing partial left, the monitor goes on; with room again the next bundle is whole', { timeout: 120_000 }, async () => {
    lab();
    const dir = join(work, 'full');
    mkdirSync(dir);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
    expect(mount.status, mount.stderr).toBe(0);
    let monitor: Awaited<ReturnType<typeof startMonitor>> | null = null;
    let senders: ReturnType<typeof arpSender>[] = [];
    try {
      // Leave a few kB: enough for a bundle's directory, never for its capture.
      const st = statfsSync(dir);
      const fill = openSync(join(dir, 'filler'), 'w');
      writeSync(fill, Buffer.alloc(Number(st.bavail * st.bsize) - 8192));
      closeSync(fill);
      monitor = await startMonitor(ns.host, ['--listen', METRICS, ...bond, '--evidence-dir', dir, '--evidence-after', '1', '--evidence-every', '1', '--quiet-after', '3']);
      senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 20, { vary: true }));
      const t0 = Date.now();
      while (!monitor.events().some((e) => e.event === 'evidence') && Date.now() - t0 < 20_000) await sleep(200);
      const failed = monitor.events().find((e) => e.event === 'evidence')!;
      expect(failed.reason, JSON.stringify(failed)).toBe('disk-full');
      expect(String(failed.error)).toMatch(/disk is full \(ENOSPC\)/);
      let text = monitor.metrics();
      expect(metric(text, 'bondscope_evidence_skipped_total', 'reason="disk-full"')).toBeGreaterThanOrEqual(1);
      // Nothing partial, no bundle: only the filler.
      expect(readdirSync(dir)).toEqual(['filler']);
      // It goes on: frames counted, loops found.
      const looped = metric(text, 'bondscope_looped_frames_total');
      await sleep(2000);
      text = monitor.metrics();
      expect(metric(text, 'bondscope_looped_frames_total')).toBeGreaterThan(looped);
      expect(monitor.proc.exitCode).toBeNull();
      // Room again; the findings close (quiet 3 s) and open again: that bundle is written whole.
      rmSync(join(dir, 'filler'));
      for (const s of senders) s.proc.kill();
      await sleep(5000);
      senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 20, { vary: true }));
      const t1 = Date.now();
      while (!monitor.events().some((e) => e.event === 'evidence' && e.frames) && Date.now() - t1 < 20_000) await sleep(200);
      const written = monitor.events().find((e) => e.event === 'evidence' && e.frames);
      expect(written, monitor.events().filter((e) => e.event !== 'updated').map((e) => JSON.stringify(e).slice(0, 300)).join('\n')).toBeDefined();
      expect(written!.error ?? null).toBeNull();
      // Each finding that opened again has its bundle (one every --evidence-every second, so a
      // second may be on the disk by the time the first one's event is read): every one whole.
      const all = bundles(dir);
      expect(Object.values(all).length).toBeGreaterThanOrEqual(1);
      for (const files of Object.values(all)) expect(files).toEqual(BUNDLE_FILES);
      expect(readdirSync(dir).filter((n) => n.startsWith('.partial-'))).toEqual([]);
    } finally {
      for (const s of senders) s.proc.kill();
      await monitor?.stop();
      spawnSync('umount', [dir]);
    }
  });

  it('SIGKILL while a bundle is written: never a bundle under its name that is not whole; the partial one is removed at the next start, and said', { timeout: 120_000 }, async () => {
    lab();
    const dir = join(work, 'killed');
    const args = ['--listen', METRICS, ...bond, '--evidence-dir', dir, '--evidence-after', '6', '--evidence-before', '120', '--ring', '64', '--quiet-after', '60'];
    const monitor = await startMonitor(ns.host, args);
    // Fast senders fill the frame ring, so the bundle takes a while to write.
    const senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 1, { vary: true }));
    let partial: string | undefined;
    try {
      const t0 = Date.now();
      while (!partial && Date.now() - t0 < 30_000) {
        partial = existsSync(dir) ? readdirSync(dir).find((n) => n.startsWith('.partial-')) : undefined;
        if (!partial) await sleep(2);
      }
      expect(partial, 'a bundle being written').toBeDefined();
      await monitor.stop('SIGKILL');
    } finally {
      for (const s of senders) s.proc.kill();
      await monitor.stop('SIGKILL');
    }
    // Killed mid-bundle: its partial directory, and nothing under the bundle's own name unless whole.
    for (const files of Object.values(bundles(dir))) expect(files).toEqual(BUNDLE_FILES);
    expect(readdirSync(dir)).toContain(partial);
    const again = await startMonitor(ns.host, ['--listen', METRICS, ...bond, '--evidence-dir', dir, '--duration', '2']);
    await exited(again.proc);
    expect(readdirSync(dir).filter((n) => n.startsWith('.partial-'))).toEqual([]);
    const said = again.events().filter((e) => e.event === 'message' && String(e.message).startsWith('evidence: removed 1 partial bundle'));
    expect(said.map((e) => e.message)).toEqual([`evidence: removed 1 partial bundle(s) a stopped monitor had left unfinished (${partial})`]);
  });

  it.skipIf(!has('promtool'))('scrapes all through start-up and shutdown: each answer a complete exposition promtool accepts, or refused', { timeout: 90_000 }, async () => {
    lab();
    const dir = join(work, 'scrapes');
    mkdirSync(dir);
    // A scraper in the host's namespace: GET /metrics every 20 ms, each answer kept with its status.
    const py = [
      'import http.client, sys, time, os',
      `out = '${dir}'; i = 0; end = time.time() + 40`,
      'while time.time() < end and not os.path.exists(out + "/stop"):',
      '    try:',
      `        c = http.client.HTTPConnection('${METRICS.split(':')[0]}', ${METRICS.split(':')[1]}, timeout=5); c.request('GET', '/metrics'); r = c.getresponse(); body = r.read()`,
      "        open('%s/%05d-%d' % (out, i, r.status), 'wb').write(body); i += 1",
      '    except ConnectionRefusedError:',
      "        open('%s/%05d-refused' % (out, i), 'w').close(); i += 1",
      '    except Exception as e:',
      "        open('%s/%05d-error' % (out, i), 'w').write(repr(e)); i += 1",
      '    time.sleep(0.02)',
    ].join('\n');
    const scraper = spawn('ip', ['netns', 'exec', ns.host, 'python3', '-c', py], { stdio: 'ignore' });
    // The scraper is at work (its first connection refused) before the monitor starts: python's
    // start-up on a loaded machine can take longer than the monitor's to listen.
    for (let t0 = Date.now(); readdirSync(dir).length === 0 && Date.now() - t0 < 10_000; ) await sleep(50);
    const senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 20, { vary: true }));
    const monitor = await startMonitor(ns.host, ['--listen', METRICS, ...bond, '--evidence-dir', join(work, 'scrape-evidence'), '--evidence-after', '1']);
    await sleep(4000);
    await monitor.stop();
    await sleep(1000);
    writeFileSync(join(dir, 'stop'), '');
    await exited(scraper);
    for (const s of senders) s.proc.kill();
    const answers = readdirSync(dir).filter((n) => /^\d+-/.test(n)).sort();
    const kinds = answers.map((n) => n.split('-')[1]);
    // Refused before it listened and after it stopped; served in between; nothing else.
    expect(kinds.filter((k) => k !== '200' && k !== 'refused'), answers.join(' ')).toEqual([]);
    const served = answers.filter((n) => n.endsWith('-200'));
    expect(served.length).toBeGreaterThan(50);
    expect(kinds[0]).toBe('refused');
    expect(kinds.at(-1)).toBe('refused');
    // Every body complete: promtool reads each one (the first and the last ones served among them).
    const bodies = served.map((n) => join(dir, n));
    for (const f of [...bodies.slice(0, 10), ...bodies.slice(-10)]) {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(f), encoding: 'utf8' });
      expect(r.status, `${f}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    // The last answer before it stopped: every finding closed, the monitor's own counters there.
    const last = readFileSync(bodies.at(-1)!, 'utf8');
    expect(last).toMatch(/^bondscope_build_info\{/m);
  });

  it.skipIf(FAKETIME === undefined)('the wall clock stepped forward 5 min and back 10 min while the loop goes on: each step said once, nothing closes early or late, epochs on time', { timeout: 120_000 }, async () => {
    lab();
    const clock = join(work, 'faketime');
    writeFileSync(clock, '+0\n');
    const env = { ...process.env, LD_PRELOAD: FAKETIME!, FAKETIME_TIMESTAMP_FILE: clock, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
    const monitor = await startMonitor(ns.host, ['--listen', METRICS, ...bond, '--quiet-after', '8', '--forget-after', '6', '--evidence-dir', join(work, 'clock-evidence'), '--evidence-after', '1'], env);
    let senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 50, { vary: true }));
    try {
      const opened = (): number => monitor.events().filter((e) => e.event === 'opened' && e.kind === 'looped-broadcast').length;
      const t0 = Date.now();
      while (opened() < 2 && Date.now() - t0 < 15_000) await sleep(200);
      expect(opened()).toBeGreaterThanOrEqual(2);
      writeFileSync(clock, '+300\n');
      await sleep(5000);
      writeFileSync(clock, '-300\n');
      await sleep(5000);
      let events = monitor.events();
      const messages = events.filter((e) => e.event === 'message' && String(e.message).startsWith('the wall clock stepped')).map((e) => String(e.message).slice(0, 44));
      expect(messages).toEqual(['the wall clock stepped forward by 300.0 s: q', 'the wall clock stepped back by 600.0 s: quie']);
      // The loop went on: nothing closed, nothing opened twice, across the steps and the epochs (every 6 s).
      expect(events.filter((e) => e.event === 'closed')).toEqual([]);
      const looped = events.filter((e) => e.event === 'opened' && e.kind === 'looped-broadcast').map((e) => e.mac);
      expect(new Set(looped).size).toBe(looped.length);
      expect(metric(monitor.metrics(), 'bondscope_findings_active', 'kind="looped-broadcast"')).toBeGreaterThanOrEqual(2);
      // The loop stops (the guests fall silent): the findings close 8 s later, not 10 minutes late.
      for (const s of senders) s.proc.kill();
      senders = [];
      const quiet = Date.now();
      const guestLoop = (e: MonitorEvent): boolean => e.event === 'closed' && e.kind === 'looped-broadcast' && params.guests.some((g) => g.mac === e.mac);
      while (!monitor.events().some(guestLoop) && Date.now() - quiet < 30_000) await sleep(200);
      const after = (Date.now() - quiet) / 1000;
      expect(after, monitor.events().filter((e) => e.event === 'closed' || e.event === 'opened').map((e) => `${e.event} ${e.kind} ${e.mac} ${e.time} ${e.lastEvidenceAt}`).join('\n')).toBeGreaterThanOrEqual(6);
      expect(after).toBeLessThan(14);
      events = monitor.events();
      // Its times are the wall clock's, as set (five minutes behind the real one).
      const closed = events.find(guestLoop)!;
      expect(Date.now() - Date.parse(String(closed.time))).toBeGreaterThan(290_000);
      process.stderr.write(`monitor clock: steps said once each; the guests' findings closed ${after.toFixed(1)} s after the loop stopped (--quiet-after 8)\n`);
    } finally {
      for (const s of senders) s.proc.kill();
      await monitor.stop();
    }
  });

  it.skipIf(!has('tcpreplay'))('a broadcast storm overflows the capture ring: drops counted and said, BondscopeCaptureDropping fires, looped broadcasts counted again afterwards', { timeout: 120_000 }, async () => {
    lab();
    const dir = join(work, 'storm');
    mkdirSync(dir);
    // ARP requests from 1 000 outside hosts, each frame different.
    const mac = (n: number): number[] => [0x02, 0xcc, 0, 0, (n >> 8) & 0xff, n & 0xff];
    writePcap(
      join(dir, 'storm.pcap'),
      Array.from({ length: 20_000 }, (_, i) => {
        const b = new Uint8Array(60);
        b.fill(0xff, 0, 6);
        b.set(mac(i % 1000), 6);
        b.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
        b.set(mac(i % 1000), 22);
        b.set([203, 0, 113, i & 0xff], 28);
        b.set([203, 0, 114, (i >> 8) & 0xff], 38);
        return b;
      }),
    );
    const monitor = await startMonitor(ns.host, ['--listen', METRICS, ...bond, '-B', '2', '--quiet-after', '60']);
    const prometheus = await startPrometheus(ns.host, dir);
    let senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 50, { vary: true }));
    try {
      await sleep(3000);
      const storm = spawn('ip', ['netns', 'exec', ns.client, 'tcpreplay', '-q', '-i', 'eth0', '--topspeed', '--loop=0', '--duration=8', join(dir, 'storm.pcap')], { stdio: 'ignore' });
      await exited(storm);
      await sleep(2000);
      let text = monitor.metrics();
      const dropped = metric(text, 'bondscope_capture_dropped_frames_total', 'interface="all"');
      const said = monitor.events().filter((e) => e.event === 'capture-dropping');
      expect(dropped, 'frames dropped in the storm').toBeGreaterThan(0);
      expect(said.length).toBeGreaterThanOrEqual(1);
      expect(said.reduce((n, e) => n + Number(e.dropped), 0)).toBeLessThanOrEqual(dropped);
      expect(Number(said[0]!.peakPerSecond)).toBeGreaterThan(0);
      // Prometheus sees the drops per second and the alert fires (for: 0m).
      const t0 = Date.now();
      while (!prometheus.alerts().some((a) => a.labels.alertname === 'BondscopeCaptureDropping' && a.state === 'firing') && Date.now() - t0 < 15_000) await sleep(500);
      expect(prometheus.alerts().map((a) => `${a.labels.alertname} ${a.state}`)).toContain('BondscopeCaptureDropping firing');
      const rate = Number(prometheus.query('max_over_time(rate(bondscope_capture_dropped_frames_total[5s])[60s:1s])')[0]?.value[1]);
      expect(rate).toBeGreaterThan(0);
      // Afterwards: the storm over, the guests' broadcasts counted as looped as they are sent (within 3%).
      for (const s of senders) s.proc.kill();
      // Once the monitor has caught up (its counters stand still for 2 s).
      let last = '';
      for (let i = 0; i < 30; i++) {
        const m = monitor.metrics();
        const now = `${metric(m, 'bondscope_looped_frames_total')} ${metric(m, 'bondscope_capture_dropped_frames_total')}`;
        if (now === last) break;
        last = now;
        await sleep(2000);
      }
      const before = metric(monitor.metrics(), 'bondscope_looped_frames_total', `slave="eth1"`);
      const droppedBefore = metric(monitor.metrics(), 'bondscope_capture_dropped_frames_total', 'interface="all"');
      senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 20, { vary: true, seconds: 8 }));
      const sent = (await Promise.all(senders.map((s) => s.sent))).reduce((a, b) => a + b, 0);
      senders = [];
      await sleep(2000);
      text = monitor.metrics();
      const counted = metric(text, 'bondscope_looped_frames_total', `slave="eth1"`) - before;
      process.stderr.write(`monitor storm: ${dropped} frames dropped (peak ${said[0]!.peakPerSecond}/s, ${said.length} capture-dropping lines, Prometheus rate up to ${rate.toFixed(0)}/s); afterwards ${counted} of ${sent} broadcasts counted looped\n`);
      // The ring keeps up again: drops afterwards, if any, no more than the 3% the count allows
      // (a loaded machine drops a frame or two of the storm's tail that was still in flight).
      expect(metric(text, 'bondscope_capture_dropped_frames_total', 'interface="all"') - droppedBefore).toBeLessThanOrEqual(Math.ceil(sent * 0.03));
      expect(counted).toBeGreaterThanOrEqual(Math.floor(sent * 0.97));
      expect(counted).toBeLessThanOrEqual(sent + 10);
      // The storm's hosts were outside: no finding names one of them.
      expect(monitor.loopFindingsOpened().filter((e) => String(e.mac).startsWith('02:cc:'))).toEqual([]);
    } finally {
      for (const s of senders) s.proc.kill();
      await monitor.stop();
      await prometheus.stop();
    }
  });
});

