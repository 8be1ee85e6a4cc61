/**
 * Soak: `bondscope monitor` on the looping lab with steady traffic — each guest sends a gratuitous
 * ARP broadcast every 20 ms, the client pings a guest — with everything that must stay bounded
 * turned short so a brief run goes through it many times: a fresh engine every 10 s
 * (--forget-after), a 4 MiB frame ring, an evidence bundle every 5 s into a directory capped at
 * 1 MiB (pruning itself is tested in test/monitor). Memory (anonymous RSS, sampled every second) must stay flat, every broadcast a guest sent
 * must be counted as looped in the metrics, the loop's findings must stay open throughout (one
 * opening each, across the engine's epochs), and the evidence directory must stay under its cap.
 * `npm test` runs it for 40 s; BONDSCOPE_MONITOR_SOAK_SECONDS=1800 for the long run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { down, up } from './lab.js';
import { arpSender, METRICS, metric, monitorLabParams, monitorLabUnavailable, rssMiB, startMonitor } from './monitor-lab.js';
import { namespaces } from './topology.js';

const why = monitorLabUnavailable();
const SECONDS = Number(process.env.BONDSCOPE_MONITOR_SOAK_SECONDS ?? 40);
const prefix = `bsms${process.pid % 10000}`;
const params = monitorLabParams(prefix, 63);
const work = mkdtempSync(join(tmpdir(), 'bondscope-monitor-soak-'));

describe.skipIf(why !== null)(`soak: monitor on the looping lab${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  it(`${SECONDS} s of steady looping traffic: memory flat, every looped broadcast counted, findings open throughout, evidence under its cap`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    down(prefix);
    up('loop', params);
    const ns = namespaces(params);
    const evidence = join(work, 'evidence');
    try {
      const mon = await startMonitor(ns.host, ['--listen', METRICS, '--bond', `${params.bond}=${params.slaves.join(',')}`, '--forget-after', '10', '--ring', '4', '--evidence-dir', evidence, '--evidence-every', '5', '--evidence-after', '1', '--evidence-max', '1', '--quiet-after', '30']);
      const sent = params.guests.map((g, i) => arpSender(ns.guests[i]!, g, 20, { seconds: SECONDS, vary: true }).sent);
      const ping = spawn('ip', ['netns', 'exec', ns.client, 'ping', '-q', '-i', '0.05', '-w', String(SECONDS), params.guests[1]!.ip], { stdio: 'ignore' });
      const samples: { t: number; rss: number; heap: number; external: number }[] = [];
      let evidenceMax = 0;
      const t0 = Date.now();
      const sampler = setInterval(() => {
        const m = mon.metrics();
        samples.push({ t: (Date.now() - t0) / 1000, rss: rssMiB(mon.pid), heap: metric(m, 'nodejs_heap_size_used_bytes') / 2 ** 20, external: metric(m, 'nodejs_external_memory_bytes') / 2 ** 20 });
        let bytes = 0;
        try {
          for (const b of readdirSync(evidence)) for (const f of readdirSync(join(evidence, b))) bytes += statSync(join(evidence, b, f)).size;
        } catch {
          /* a bundle removed while summed */
        }
        evidenceMax = Math.max(evidenceMax, bytes);
      }, 1000);
      const counts = await Promise.all(sent);
      clearInterval(sampler);
      ping.kill();
      await new Promise((r) => setTimeout(r, 2000));
      const metrics = mon.metrics();
      await mon.stop();
      let evidenceAfter = 0;
      for (const b of readdirSync(evidence)) for (const f of readdirSync(join(evidence, b))) evidenceAfter += statSync(join(evidence, b, f)).size;

      const series = [...metrics.matchAll(/^bondscope_looped_frames_total(\{[^}]*\}) (\d+)$/gm)];
      const looped = metric(metrics, 'bondscope_looped_frames_total', `bridge="${params.bridge}",bond="bond0",slave="eth1"`);
      const total = counts[0]! + counts[1]!;
      const dropped = [...metrics.matchAll(/^bondscope_capture_dropped_frames_total\{[^}]*\} (\d+)$/gm)].reduce((n, x) => n + Number(x[1]), 0);
      const events = mon.events();
      const opened = (mac: string) => events.filter((e) => e.event === 'opened' && e.kind === 'looped-broadcast' && e.mac === mac).length;
      const third = Math.floor(samples.length / 3);
      const mid = Math.max(...samples.slice(third, 2 * third).map((s) => s.rss));
      const last = Math.max(...samples.slice(2 * third).map((s) => s.rss));
      const heap = samples.slice(2 * third).map((s) => s.heap);
      const external = samples.slice(2 * third).map((s) => s.external);
      const report = `monitor soak ${SECONDS}s: sent ${counts.join('+')} broadcasts, ${looped} counted looped on eth1 (${series.map((x) => x[1] + ' ' + x[2]).join(', ')}), ${dropped} dropped by capture; anonymous RSS MiB first ${samples[0]?.rss.toFixed(0)}, middle max ${mid.toFixed(0)}, last max ${last.toFixed(0)} (V8 heap used ${Math.min(...heap).toFixed(0)}–${Math.max(...heap).toFixed(0)}, external ${Math.min(...external).toFixed(0)}–${Math.max(...external).toFixed(0)} in the last third); ${events.filter((e) => e.event === 'evidence').length} bundles, directory at most ${(evidenceMax / 2 ** 20).toFixed(2)} MiB, ${(evidenceAfter / 2 ** 20).toFixed(2)} MiB at the end`;
      process.stderr.write(`${report}\n`);
      // Every broadcast came back; a few may be lost to capture or an engine's epoch boundary.
      expect(looped, report).toBeGreaterThanOrEqual(Math.floor(total * 0.97));
      expect(looped, report).toBeLessThanOrEqual(total + 40);
      // One opening per guest: the findings stayed open across the fresh engines.
      for (const g of params.guests) expect(opened(g.mac), g.mac).toBe(1);
      // The evidence directory is under its cap once each bundle is written; while one is written
      // it can pass it by at most that bundle (the 4 MiB ring is larger than the 1 MiB cap here).
      expect(events.filter((e) => e.event === 'evidence').length).toBeGreaterThanOrEqual(1);
      expect(evidenceAfter, report).toBeLessThanOrEqual(2 ** 20);
      expect(evidenceMax, report).toBeLessThan(2 ** 20 + 5 * 2 ** 20 + 2 ** 20);
      expect(last - mid, report).toBeLessThan(24);
    } finally {
      down(prefix);
    }
  });
});
