/**
 * The capture ring (one TPACKET_V3 ring for the host) on the real kernel, in the lab: a guest
 * port added while capturing is captured from its first frame and a removed one is survived; a
 * ring made too small, with the reader stopped under a top-speed replay, reports the kernel's own
 * drop count (and it adds up with what was captured); a guest's VLAN-tagged frames keep their tag,
 * which the kernel strips into tp_vlan_tci on every hop. Needs root, namespaces and the binding.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { generateBenchPcap } from '../bench/generate.js';
import { HAS_TSHARK, PROJECT_ROOT, ringUnavailable, tshark } from '../helpers/tools.js';
import { down, labUnavailable, up } from './lab.js';
import { defaultParams, namespaces } from './topology.js';

const why = labUnavailable() ?? ringUnavailable() ?? (HAS_TSHARK ? null : 'needs tshark');
/** BONDSCOPE_LAB_PREFIX / BONDSCOPE_LAB_BRIDGE: an engineer's own lab names when several run at once. */
const prefix = process.env.BONDSCOPE_LAB_PREFIX ?? `bslr${process.pid % 10000}`;
const params = { ...defaultParams(prefix), bridge: process.env.BONDSCOPE_LAB_BRIDGE ?? 'xenbr6', hostMac: '00:25:90:00:06:01' };
const ns = namespaces(params);
const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const work = mkdtempSync(join(tmpdir(), 'bondscope-ring-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`\`${cmd}\` failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Raw frames from inside a namespace: `count` broadcasts from `src`, EtherType 0x88b5, optionally 802.1Q-tagged. */
function rawBroadcasts(netns: string, dev: string, src: string, count: number, tci: number | null): void {
  const mac = src.split(':').map((x) => `\\x${x}`).join('');
  const tag = tci === null ? '' : ` + struct.pack('!HH', 0x8100, ${tci})`;
  const py = [
    'import socket, struct, time',
    `s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)`,
    `s.bind(('${dev}', 0))`,
    `for i in range(${count}):`,
    `    s.send(b'\\xff'*6 + b'${mac}'${tag} + b'\\x88\\xb5' + bytes([i]) + b'bondscope ring test' + b'\\x00'*30)`,
    `    time.sleep(0.05)`,
  ].join('\n');
  sh(`ip netns exec ${netns} python3 -c "${py}"`);
}

interface Live {
  p: ChildProcess;
  out: () => string;
  err: () => string;
  exit: () => Promise<number | null>;
}

async function startLive(netns: string, args: string[]): Promise<Live> {
  const p = spawn('ip', ['netns', 'exec', netns, process.execPath, BIN, 'live', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  while (!err.includes('capturing on')) {
    if (p.exitCode !== null) throw new Error(`live exited early: ${err}`);
    await sleep(50);
  }
  expect(err).toContain('ring backend');
  return { p, out: () => out, err: () => err, exit: () => exited };
}

type Json = {
  interfaces: { name: string; frames: number; framesIn: number }[];
  macs: { mac: string; vlan: number; ports: Record<string, { in: number; out: number }> }[];
  findings: { kind: string; mac: string; vlan: number; count: number }[];
  stats: { capture: { backend: string; frames: number; kernelDrops: number; internalDrops: number; ringFrames: number; events: { time: number; kind: string; iface: string; text: string }[] } };
};

describe.skipIf(why !== null)(`the capture ring on the real kernel${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  it('a guest port added while capturing is captured from its first frame; a removed one ends nothing', { timeout: 90_000 }, async () => {
    down(prefix);
    up('loop', params);
    const file = join(work, 'ports.pcapng');
    try {
      const live = await startLive(ns.host, ['--write', file, '--bond', `${params.bond}=${params.slaves.join(',')}`]);
      // A guest starts: its vif joins the bridge, then the guest speaks (three marked broadcasts).
      const g3 = `${prefix}-g3`;
      sh(`ip netns add ${g3}`);
      sh(`ip link add name vif3.0 netns ${ns.host} type veth peer name eth0 netns ${g3}`);
      sh(`ip -n ${ns.host} link set vif3.0 master ${params.bridge} && ip -n ${ns.host} link set vif3.0 up && ip -n ${g3} link set eth0 up`);
      rawBroadcasts(g3, 'eth0', '00:16:3e:00:00:33', 3, null);
      // Another guest stops: its vif goes; the first guest goes on talking.
      sh(`ip -n ${ns.host} link del vif2.0`);
      await sleep(1500);
      rawBroadcasts(ns.guests[0]!, 'eth0', '00:16:3e:00:00:01', 3, null);
      await sleep(500);
      live.p.kill('SIGINT');
      expect(await live.exit()).toBe(0);
      const j = JSON.parse(live.out()) as Json;
      // Every marked frame, the first included, came in on vif3.0.
      const marker = j.macs.find((m) => m.mac === '00:16:3e:00:00:33')!;
      expect(marker.ports['vif3.0']!.in).toBe(3);
      expect(live.err()).toContain(`bondscope: vif3.0: appeared as a port of ${params.bridge}: captured from its first frame`);
      expect(live.err()).toMatch(/bondscope: vif2\.0: the interface was removed; capturing on the rest \(bond0, eth0, eth1, vif1\.0, xenbr\d+, vif3\.0\)/);
      const ev = j.stats.capture.events.filter((e) => e.kind === 'appeared' || e.kind === 'gone').map((e) => [e.kind, e.iface]);
      expect(ev).toEqual([
        ['appeared', 'vif3.0'],
        ['gone', 'vif2.0'],
      ]);
      // After vif2.0 went, capture went on: the first guest's later frames are there.
      const g1 = j.macs.find((m) => m.mac === '00:16:3e:00:00:01' && m.vlan === 0)!;
      expect(g1.ports['vif1.0']!.in).toBeGreaterThanOrEqual(3);
      // The recording has an interface block for vif3.0, added when it appeared, with its frames.
      const t = tshark(['-r', file, '-Y', 'eth.src == 00:16:3e:00:00:33 && eth.type == 0x88b5', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction']);
      expect(t.status).toBe(0);
      const rows = t.stdout.trim().split('\n');
      expect(rows.filter((r) => r === 'vif3.0\t0x00000001')).toHaveLength(3);
    } finally {
      down(prefix);
    }
  });

  it("a guest's 802.1Q-tagged frames keep their tag: the kernel strips it into tp_vlan_tci on every hop and the ring puts it back", { timeout: 90_000 }, async () => {
    down(prefix);
    up('loop', params);
    const file = join(work, 'vlan.pcapng');
    try {
      const live = await startLive(ns.host, ['--write', file, '--bond', `${params.bond}=${params.slaves.join(',')}`]);
      // Priority 3, VLAN 10: the whole TCI must come back, not only the id.
      rawBroadcasts(ns.guests[0]!, 'eth0', '00:16:3e:00:00:01', 4, (3 << 13) | 10);
      await sleep(500);
      live.p.kill('SIGINT');
      expect(await live.exit()).toBe(0);
      const j = JSON.parse(live.out()) as Json;
      const tagged = j.macs.find((m) => m.mac === '00:16:3e:00:00:01' && m.vlan === 10)!;
      expect(tagged.ports['vif1.0']!.in).toBe(4);
      const t = tshark(['-r', file, '-Y', 'eth.src == 00:16:3e:00:00:01 && (vlan.etype == 0x88b5 || eth.type == 0x88b5)', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'vlan.id', '-e', 'vlan.priority', '-e', 'frame.len', '-e', 'frame.packet_flags_direction']);
      const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
      // Into the bridge from the guest, and every hop the bridge flooded it to (the loop brings it
      // back, and out to vif1.0 again).
      expect(rows.filter((r) => r[0] === 'vif1.0' && r[4] === '0x00000001')).toEqual(Array(4).fill(['vif1.0', '10', '3', '68', '0x00000001']));
      expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['vif1.0', params.bridge, 'bond0', 'eth0', 'eth1', 'vif2.0']));
      expect(rows.every((r) => r[1] === '10' && r[2] === '3' && r[3] === '68')).toBe(true);
    } finally {
      down(prefix);
    }
  });

  it.skipIf(spawnSync('/bin/sh', ['-c', 'command -v tcpreplay']).status !== 0)(
    "a ring made too small, its reader stopped during a top-speed replay: the kernel's drops are reported, and with what was captured they make what was sent",
    { timeout: 120_000 },
    async () => {
      const tx = `${prefix}-tx`;
      const rx = `${prefix}-rx`;
      down(prefix);
      const pcap = join(work, 'replay.pcap');
      const file = join(work, 'drops.pcapng');
      generateBenchPcap(pcap, 100_000);
      try {
        sh(`ip netns add ${tx} && ip netns add ${rx}`);
        sh(`ip link add tx0 netns ${tx} type veth peer name rx0 netns ${rx}`);
        sh(`ip netns exec ${rx} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && ip netns exec ${tx} sysctl -qw net.ipv6.conf.all.disable_ipv6=1`);
        sh(`ip -n ${tx} link set tx0 up && ip -n ${rx} link set rx0 up`);
        const live = await startLive(rx, ['-i', 'rx0', '-B', '2', '--no-kernel', '--write', file]);
        // The whole process (reader thread included) stops for a second while the replay runs.
        const replay = spawn('ip', ['netns', 'exec', tx, 'tcpreplay', '-i', 'tx0', '--topspeed', pcap], { stdio: ['ignore', 'pipe', 'pipe'] });
        let replayOut = '';
        replay.stdout.on('data', (d) => (replayOut += d));
        await sleep(100);
        live.p.kill('SIGSTOP');
        await sleep(1000);
        live.p.kill('SIGCONT');
        await new Promise((r) => (replay.exitCode !== null ? r(null) : replay.once('exit', r)));
        await sleep(1500);
        live.p.kill('SIGINT');
        expect(await live.exit()).toBe(0);
        const sent = Number(/Actual: (\d+) packets/.exec(replayOut)?.[1]);
        const c = (JSON.parse(live.out()) as Json).stats.capture;
        expect(c.kernelDrops).toBeGreaterThan(0);
        expect(c.internalDrops).toBe(0);
        // Only the replay crosses rx0 (IPv6 off): every frame sent was either captured or dropped by the kernel.
        expect(c.frames + c.kernelDrops).toBe(sent);
        expect(c.ringFrames).toBe(sent);
        // The recording's interface statistics carry the kernel's drops.
        const set = openCapture([file]);
        while (set.next());
        expect(set.registry.list.map((i) => [i.name, i.frames, i.osDrops])).toEqual([['rx0', c.frames, c.kernelDrops]]);
      } finally {
        down(prefix);
      }
    },
  );
});
