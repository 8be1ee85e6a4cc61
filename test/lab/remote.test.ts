/**
 * `--ssh` against a real sshd (Debian's openssh-server) in the lab host's namespace, reached from
 * the root namespace over a management veth with keys made for the test (sshd.ts): the findings
 * of a session over ssh equal a local session's on the same scenario and `analyze` of its own
 * --write file, in each capture form the host may offer (dumpcap; tcpdump -i any when the session
 * cannot find dumpcap; a tcpdump per port when the filter names MACs); the healthy setup stays
 * clean; `check --ssh` reads what `check` reads on the host; and each fault gives its one line for
 * real: sshd stopped, a key the host does not know, no capture tool in the session's PATH, a user
 * without capture rights, the link dropped mid-session.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, ringUnavailable } from '../helpers/tools.js';
import { down, labUnavailable, up } from './lab.js';
import { exited, liveDuring, liveDuringAll, startCapturing } from './live-run.js';
import { startSshd, sshdUnavailable, type LabSshd } from './sshd.js';
import { defaultParams, namespaces, type ScenarioName } from './topology.js';

const why = labUnavailable() ?? sshdUnavailable() ?? ringUnavailable();
const prefix = process.env.BONDSCOPE_LAB_PREFIX ?? `bssh${process.pid % 10000}`;
const BIN = join(PROJECT_ROOT, 'bin/bondscope');
/** A bridge and host MAC of its own: the kernel log is shared by every namespace. */
const params = { ...defaultParams(prefix), bridge: 'xenbr6', hostMac: '00:25:90:00:06:01' };
const outside = `${prefix.slice(0, 10)}-m0`;
const work = mkdtempSync(join(tmpdir(), 'bondscope-remote-'));
// The unprivileged login reaches its PATH in here.
chmodSync(work, 0o755);
const bond = `${params.bond}=${params.slaves.join(',')}`;

/** A PATH of links to `tools`: a host without the others, as far as an ssh session can see. */
function pathWith(name: string, tools: string[]): string {
  const d = join(work, `bin-${name}`);
  mkdirSync(d, { recursive: true });
  for (const t of tools) {
    const w = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    if (w) symlinkSync(w, join(d, t));
  }
  return d;
}
const BASIC = ['cat', 'readlink', 'od', 'id', 'uname', 'date', 'grep', 'sleep', 'bridge'];
const LOGINS = [
  { alias: 'lab-tcpdump', user: 'root', path: pathWith('tcpdump', [...BASIC, 'tcpdump']) },
  { alias: 'lab-notools', user: 'root', path: pathWith('notools', BASIC) },
  { alias: 'lab-user', user: `${prefix.slice(0, 12)}u`, path: pathWith('user', [...BASIC, 'tcpdump']) },
];

let sshd: LabSshd | null = null;
async function withSshd(): Promise<() => void> {
  sshd = await startSshd({ ns: namespaces(params).host, outside, logins: LOGINS });
  return () => sshd?.stop();
}

type JsonFinding = { kind: string; mac: string | null; vlan: number; count: number; details: Record<string, unknown> };
type LiveJson = { findings: JsonFinding[]; stats: { capture: { backend: string; remote?: Record<string, unknown>; kernelDrops: number | null; events: { kind: string; text: string }[] } } };
const key = (f: JsonFinding): string => `${f.kind} ${f.mac} ${f.vlan}`;
const keys = (fs: JsonFinding[]): string[] => [...new Set(fs.map(key))].sort();
const counts = (fs: JsonFinding[]): string[] => fs.map((f) => `${key(f)} ${f.count}`).sort();

function analyze(file: string): LiveJson {
  const a = spawnSync(process.execPath, [BIN, 'analyze', '--json', file], { encoding: 'utf8' });
  expect(a.status).toBe(0);
  return JSON.parse(a.stdout) as LiveJson;
}

/** `bondscope live` over ssh during the scenario's traffic, recording to FILE. */
async function overSsh(scenario: ScenarioName, login: string, extra: string[] = []): Promise<{ j: LiveJson; err: string; file: string; startedAfterMs: number }> {
  const file = join(work, `${scenario}-${login}-${extra.length}.pcapng`);
  // The ssh configuration file exists once sshd is up: the command line names it then.
  const cfg = (): string => sshd!.config;
  const r = await liveDuring({
    scenario,
    params,
    around: withSshd,
    get command() {
      return [process.execPath, BIN, 'live', '--ssh', login, '--ssh-config', cfg(), '--json', '--write', file, '--bond', bond, ...extra];
    },
  });
  expect(r.code, r.err).toBe(0);
  return { j: JSON.parse(r.out) as LiveJson, err: r.err, file, startedAfterMs: r.startedAfterMs };
}

describe.skipIf(why !== null)(`live over ssh to a real sshd in the lab${why ? ` [skipped: ${why}]` : ''}`, () => {
  afterAll(() => {
    sshd?.stop();
    down(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  it('loop: over ssh (dumpcap on the host) the same findings as on the host itself during the same traffic, as analyze of its recording, and monitor --ssh counts and opens the loop', { timeout: 180_000 }, async () => {
    const localFile = join(work, 'local.pcapng');
    const remoteFile = join(work, 'remote.pcapng');
    const port = 10_071 + (process.pid % 500);
    let metrics = '';
    const [remote, local, mon] = await liveDuringAll({
      scenario: 'loop',
      params,
      around: withSshd,
      ready: ['capturing on', 'capturing on', 'bondscope: monitoring'],
      get command() {
        return [
          [process.execPath, BIN, 'live', '--ssh', 'lab', '--ssh-config', sshd!.config, '--json', '--write', remoteFile, '--bond', bond],
          ['ip', 'netns', 'exec', namespaces(params).host, process.execPath, BIN, 'live', '--json', '--write', localFile, '--bond', bond],
          [process.execPath, BIN, 'monitor', '--ssh', 'lab', '--ssh-config', sshd!.config, '--listen', `127.0.0.1:${port}`, '--bond', bond],
        ];
      },
      during: async () => {
        metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      },
    });
    for (const r of [remote!, local!, mon!]) expect(r.code, r.err).toBe(0);
    const lj = JSON.parse(local!.out) as LiveJson;
    const rj = JSON.parse(remote!.out) as LiveJson;
    expect(remote!.err).toMatch(/capturing on bond0, eth0, eth1, vif1\.0, vif2\.0, xenbr6 of lab .*ssh backend/);
    expect(rj.stats.capture.backend).toBe('ssh');
    expect(rj.stats.capture.remote).toMatchObject({ host: 'lab', tool: 'dumpcap', fallback: null, endedBy: null, readerErrors: [] });
    // The ssh connection carrying the stream is never captured (it crosses mgmt0, not a captured port, and is filtered out anyway).
    expect(String(rj.stats.capture.remote!.filter)).toMatch(/^not \(tcp and host 203\.0\.113\.1 and host 203\.0\.113\.2 and port 22\)$/);
    expect(Number(rj.stats.capture.remote!.linkBytesPerSec)).toBeGreaterThan(0);
    expect(rj.stats.capture.kernelDrops).toBe(0);
    expect(keys(rj.findings)).toEqual(expect.arrayContaining(['looped-broadcast 00:16:3e:00:00:01 0', 'wrong-port-learning 00:16:3e:00:00:01 0', `own-address ${params.hostMac} 0`]));
    // The host's own account came over the link too: its kernel log and its FDB.
    const own = rj.findings.find((f) => f.kind === 'own-address')!;
    expect(Number(own.details.kernelWarnings)).toBeGreaterThan(0);
    const wrong = rj.findings.find((f) => f.kind === 'wrong-port-learning' && f.mac === '00:16:3e:00:00:01' && f.vlan === 0)!;
    expect(wrong.details.kernelConfirmed).toBe("the kernel's FDB had 00:16:3e:00:00:01 on bond0");
    // Remote finds what local finds in the same traffic (how many frames each finding counts
    // depends on when each capture began: the host's IPv6 start-up chatter falls before or inside
    // it), and exactly what analyze finds in its own recording.
    expect(keys(rj.findings)).toEqual(keys(lj.findings));
    expect(counts(analyze(remoteFile).findings)).toEqual(counts(rj.findings));

    const looped = metrics.split('\n').filter((l) => l.startsWith('bondscope_looped_frames_total{')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(looped).toBeGreaterThan(0);
    const events = mon!.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; kind?: string; filter?: string });
    // The monitor's own filter (broadcast and multicast, the host's and guests' MACs), applied on the host by its dumpcap.
    expect(events[0]).toMatchObject({ event: 'started' });
    expect(events[0]!.filter).toMatch(/^\(ether multicast and inbound\) or ether host /);
    expect(events.some((e) => e.event === 'opened' && e.kind === 'looped-broadcast')).toBe(true);
  });

  it('lacp: no loop over ssh either', { timeout: 120_000 }, async () => {
    const { j, file } = await overSsh('lacp', 'lab');
    expect(j.findings.filter((f) => ['looped-broadcast', 'wrong-port-learning', 'blackholed-unicast', 'own-address'].includes(f.kind))).toEqual([]);
    expect(counts(analyze(file).findings)).toEqual(counts(j.findings));
  });

  it('without dumpcap: tcpdump -i any (SLL2) and, for a filter naming MACs, one tcpdump per port filtered on the host: each finds the loop as analyze of its recording does', { timeout: 150_000 }, async () => {
    const filter = 'ether multicast or ether host 00:16:3e:00:00:01 or ether host 00:16:3e:00:00:02';
    const anyFile = join(work, 'any.pcapng');
    const portsFile = join(work, 'ports.pcapng');
    const runs = await liveDuringAll({
      scenario: 'loop',
      params,
      around: withSshd,
      get command() {
        const ssh = ['--ssh', 'lab-tcpdump', '--ssh-config', sshd!.config, '--json', '--bond', bond];
        return [
          [process.execPath, BIN, 'live', ...ssh, '--write', anyFile],
          [process.execPath, BIN, 'live', ...ssh, '--write', portsFile, '--filter', filter],
        ];
      },
    });
    for (const r of runs) expect(r.code, r.err).toBe(0);
    const [any, ports] = runs.map((r) => JSON.parse(r.out) as LiveJson);
    expect(runs[0]!.err).toContain('lab-tcpdump has no dumpcap: one tcpdump -i any (cooked, SLL2');
    expect(any!.stats.capture.remote).toMatchObject({ tool: 'tcpdump -i any' });
    expect(runs[1]!.err).toContain('the filter names link-layer addresses, which a cooked -i any capture has no field for: one tcpdump per port');
    expect(ports!.stats.capture.remote).toMatchObject({ tool: 'tcpdump per port' });
    expect(String(ports!.stats.capture.remote!.filter)).toContain(filter);
    for (const [j, file] of [[any!, anyFile], [ports!, portsFile]] as const) {
      expect(keys(j.findings)).toEqual(expect.arrayContaining(['looped-broadcast 00:16:3e:00:00:01 0', 'wrong-port-learning 00:16:3e:00:00:01 0']));
      expect(counts(analyze(file).findings)).toEqual(counts(j.findings));
    }
  });

  it('check --ssh reads what check reads on the host; each fault is one line; a dropped link keeps what was captured', { timeout: 180_000 }, async () => {
    down(prefix);
    up('loop', params);
    const stop = await withSshd();
    try {
      const cfg = sshd!.config;
      const run = (args: string[]): { status: number | null; stderr: string; stdout: string } => spawnSync(process.execPath, [BIN, ...args, '--ssh-config', cfg], { encoding: 'utf8' });
      const onHost = spawnSync('ip', ['netns', 'exec', namespaces(params).host, process.execPath, BIN, 'check', '--json'], { encoding: 'utf8' });
      const over = run(['check', '--json', '--ssh', 'lab']);
      expect(over.status).toBe(0);
      const strip = (t: string): unknown => ({ ...(JSON.parse(t) as object), root: undefined });
      expect(strip(over.stdout)).toEqual(strip(onHost.stdout));

      const fault = (args: string[], re: RegExp): void => {
        const r = run(args);
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(re);
        expect(r.stdout).toBe('');
      };
      fault(['live', '--ssh', 'lab-nokey', '--duration', '1'], /^bondscope: live: --ssh lab-nokey: authentication refused \(ssh: root@203\.0\.113\.2: Permission denied \(publickey\)\.\); no terminal, so ssh ran with BatchMode=yes/);
      fault(['live', '--ssh', 'lab-notools', '--duration', '1'], /^bondscope: live: lab-notools has neither dumpcap nor tcpdump in the PATH of an ssh session \(.*bin-notools\): install tcpdump there/);
      fault(['live', '--ssh', 'lab-user', '--duration', '1'], /^bondscope: live: lab-user: \S+tcpdump may not capture as \S+ \(.*(permission|not permitted).*\): log in as root \(--ssh root@lab-user\), add --sudo with a NOPASSWD sudoers rule for \S+tcpdump, or on the host: setcap cap_net_raw,cap_net_admin=eip \S+tcpdump$/);
      fault(['probe', '--ssh', 'lab'], /^bondscope: probe: --ssh: the probe sends frames of its own/);

      // The link dropped mid-session: capture ends by itself, the report says when, the file is whole.
      const file = join(work, 'dropped.pcapng');
      const run = await startCapturing([process.execPath, BIN, 'live', '--ssh', 'lab', '--ssh-config', cfg, '--json', '--write', file, '--bond', bond]);
      // Frames before the drop: the host's own broadcasts.
      spawnSync('ip', ['netns', 'exec', namespaces(params).host, 'arping', '-q', '-c', '3', '-w', '1000000', '-i', params.bridge, '198.51.100.250']);
      await new Promise((r) => setTimeout(r, 1000));
      const droppedAt = Date.now();
      sshd!.link(false);
      const code = await exited(run.p);
      // ServerAliveInterval 1 × ServerAliveCountMax 3 in the test's ssh configuration.
      expect(Date.now() - droppedAt).toBeLessThan(15_000);
      expect(code).toBe(0);
      const j = JSON.parse(run.out) as LiveJson;
      const ended = j.stats.capture.events.find((e) => e.kind === 'ended')!;
      expect(ended.text).toMatch(/^lab: the link to the host dropped \(ssh.*\): capture stopped at \d{4}-\d\d-\d\dT[\d:.]+Z; the \d+ frames before it are kept$/);
      expect(j.stats.capture.remote!.endedAt).toEqual(expect.any(Number));
      const frames = Number(/the (\d+) frames before it/.exec(ended.text)![1]);
      expect(frames).toBeGreaterThanOrEqual(3);
      const a = analyze(file);
      expect((a as unknown as { stats: { frames: number } }).stats.frames).toBe(frames);
      sshd!.link(true);

      sshd!.sshd.kill('SIGTERM');
      await new Promise((r) => sshd!.sshd.once('exit', r));
      fault(['live', '--ssh', 'lab', '--duration', '1'], /^bondscope: live: --ssh lab: cannot reach the host \(ssh: connect to host 203\.0\.113\.2 port 22: Connection refused\)$/);
    } finally {
      stop();
      down(prefix);
    }
  });
});
