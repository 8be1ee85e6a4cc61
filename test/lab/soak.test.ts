/**
 * Soak: `bondscope live` on the looping lab for a while with steady traffic — each guest sends a
 * gratuitous-ARP broadcast every 20 ms, the client pings a guest — sampling the process's memory.
 * Memory must stay flat (the second half grows no more than a small slack) and no finding may be
 * lost: every broadcast a guest sent loops, so each guest's looped-broadcast count must reach
 * (nearly) what it sent. `npm test` runs it briefly; set BONDSCOPE_SOAK_SECONDS=1800 for the
 * 30-minute run reported in docs/speed.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveUnavailable, PROJECT_ROOT } from '../helpers/tools.js';
import { down, labUnavailable, up } from './lab.js';
import { defaultParams, namespaces } from './topology.js';

const why = labUnavailable() ?? liveUnavailable();
const SECONDS = Number(process.env.BONDSCOPE_SOAK_SECONDS ?? 40);
const prefix = process.env.BONDSCOPE_LAB_PREFIX ?? `bsls${process.pid % 10000}`;
// Its own bridge name and MACs: the kernel log is shared with the other lab tests.
const params = {
  ...defaultParams(prefix),
  bridge: process.env.BONDSCOPE_LAB_BRIDGE ?? 'xenbr8',
  hostMac: '00:25:90:00:08:01',
  guests: [
    { vif: 'vif1.0', mac: '00:16:3e:00:08:01', ip: '198.51.100.11' },
    { vif: 'vif2.0', mac: '00:16:3e:00:08:02', ip: '198.51.100.12' },
  ],
};

/**
 * Anonymous resident memory of a process, MiB: the heap and everything bondscope allocates. The
 * capture rings libpcap maps (RssFile) are fixed at open (-B) and left out.
 */
function rssMiB(pid: number): number {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A guest sending one gratuitous ARP broadcast every `ms` for `seconds`; prints how many it sent. */
function arpSender(ns: string, mac: string, ip: string, seconds: number, ms: number) {
  const macBytes = mac.split(':').map((x) => `\\x${x}`).join('');
  const ipBytes = ip.split('.').join(',');
  const py = [
    'import socket, struct, time',
    "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eth0', 0))",
    `src = b'${macBytes}'; ip = bytes([${ipBytes}])`,
    "arp = lambda n: struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, src, ip, b'\\x00'*6, bytes([198, 51, 100, 20 + n % 200]))",
    `end = time.time() + ${seconds}; n = 0`,
    'while time.time() < end:',
    "    s.send(b'\\xff'*6 + src + b'\\x08\\x06' + arp(n) + b'\\x00'*18); n += 1",
    `    time.sleep(${ms / 1000})`,
    'print(n)',
  ].join('\n');
  return spawn('ip', ['netns', 'exec', ns, 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
}

describe.skipIf(why !== null)(`soak: live on the looping lab${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => down(prefix));

  it(`${SECONDS} s of steady traffic: memory flat, every looped broadcast counted`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    down(prefix);
    up('loop', params);
    const ns = namespaces(params);
    try {
      const live = spawn('ip', ['netns', 'exec', ns.host, process.execPath, join(PROJECT_ROOT, 'bin/bondscope'), 'live', '--json', '--bond', `${params.bond}=${params.slaves.join(',')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      live.stdout.on('data', (d) => (out += d));
      live.stderr.on('data', (d) => (err += d));
      while (!err.includes('capturing on')) {
        if (live.exitCode !== null) throw new Error(`live exited: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const senders = params.guests.map((g, i) => arpSender(ns.guests[i]!, g.mac, g.ip, SECONDS, 20));
      const sent = senders.map((p) => new Promise<number>((r) => {
        let o = '';
        p.stdout!.on('data', (d) => (o += d));
        p.once('exit', () => r(Number(o.trim())));
      }));
      const ping = spawn('ip', ['netns', 'exec', ns.client, 'ping', '-q', '-i', '0.05', '-w', String(SECONDS), params.guests[1]!.ip], { stdio: 'ignore' });
      const samples: { t: number; rss: number }[] = [];
      const t0 = Date.now();
      const sampler = setInterval(() => samples.push({ t: (Date.now() - t0) / 1000, rss: rssMiB(live.pid!) }), 1000);
      const counts = await Promise.all(sent);
      clearInterval(sampler);
      ping.kill();
      await new Promise((r) => setTimeout(r, 2500));
      live.kill('SIGINT');
      await new Promise((r) => (live.exitCode !== null ? r(null) : live.once('exit', r)));

      const j = JSON.parse(out) as { findings: { kind: string; mac: string; vlan: number; count: number }[] };
      params.guests.forEach((g, i) => {
        const looped = j.findings.find((f) => f.kind === 'looped-broadcast' && f.mac === g.mac && f.vlan === 0);
        expect(looped, `looped-broadcast for ${g.mac}`).toBeDefined();
        // Each broadcast a guest sent came back; a few may be lost to capture, none to the engine.
        expect(looped!.count).toBeGreaterThanOrEqual(Math.floor(counts[i]! * 0.97));
        expect(looped!.count).toBeLessThanOrEqual(counts[i]! + 20);
      });
      // Flat memory: past the warm-up, the last third grows no more than the slack over the second.
      const third = Math.floor(samples.length / 3);
      const mid = Math.max(...samples.slice(third, 2 * third).map((s) => s.rss));
      const last = Math.max(...samples.slice(2 * third).map((s) => s.rss));
      const report = `soak ${SECONDS}s: sent ${counts.join('+')} broadcasts; anonymous RSS MiB first ${samples[0]?.rss.toFixed(0)}, middle max ${mid.toFixed(0)}, last max ${last.toFixed(0)}`;
      process.stderr.write(`${report}\n`);
      expect(last - mid, report).toBeLessThan(24);
    } finally {
      down(prefix);
    }
  });
});
