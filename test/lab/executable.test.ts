/**
 * The single executable (`npm run package`, scripts/package.mjs), built here from the compiled
 * dist/ and run as a host without Node would: from an empty directory, with nothing on PATH (no
 * node, no node_modules anywhere near it). It analyses a shipped capture as the npm install does
 * (byte for byte the same JSON), reads a gzip-compressed one (its decompressing worker thread),
 * and in the lab captures live with its own capture ring (the binding it carries) and over ssh
 * (its stream reader), finding the loop as analyze of each recording does.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, ringUnavailable } from '../helpers/tools.js';
import { down, labUnavailable } from './lab.js';
import { liveDuringAll } from './live-run.js';
import { startSshd, sshdUnavailable, type LabSshd } from './sshd.js';
import { defaultParams, namespaces } from './topology.js';

const esbuildMissing = existsSync(join(PROJECT_ROOT, 'node_modules', 'esbuild')) ? null : 'needs the devDependencies (esbuild, postject): npm ci';
const why = esbuildMissing ?? ringUnavailable() ?? (process.platform === 'linux' ? null : 'builds a Linux executable');
const labWhy = labUnavailable() ?? sshdUnavailable();
const work = mkdtempSync(join(tmpdir(), 'bondscope-exe-'));
const exe = join(work, 'empty', 'bondscope-linux-x64');
const LOOP = join(PROJECT_ROOT, 'captures/loop/loop.pcapng');
/** Nothing to run on PATH: no node, no npm. */
const BARE = { PATH: '/nonexistent', HOME: join(work, 'empty') };

function runExe(args: string[], env: Record<string, string> = BARE): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(exe, args, { cwd: join(work, 'empty'), env, encoding: 'utf8', maxBuffer: 1 << 28 });
}

describe.skipIf(why !== null)(`the single executable${why ? ` [skipped: ${why}]` : ''}`, () => {
  beforeAll(() => {
    const built = join(work, 'build', 'bondscope-linux-x64');
    mkdirSync(join(work, 'build'));
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts/package.mjs'), '--out', built], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // An empty directory with the executable alone.
    mkdirSync(join(work, 'empty'));
    copyFileSync(built, exe);
    spawnSync('chmod', ['755', exe]);
    rmSync(join(work, 'build'), { recursive: true, force: true });
  }, 240_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs with no node on PATH: --version, analyze of a shipped capture exactly as the npm install, a gzip-compressed one, the view of files off a terminal', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(runExe(['--version']).stdout).toBe(`bondscope ${pkg.version}\n`);
    const viaNode = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'analyze', '--json', LOOP], { encoding: 'utf8' });
    const a = runExe(['analyze', '--json', LOOP]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toBe(viaNode.stdout);
    const gz = join(work, 'empty', 'loop.pcapng.gz');
    writeFileSync(gz, gzipSync(readFileSync(LOOP)));
    const z = runExe(['analyze', '--json', gz]);
    expect(z.status, z.stderr).toBe(0);
    // The same findings, frame for frame (the evidence names the file it was read from).
    const same = (out: string): unknown => (JSON.parse(out) as { findings: { kind: string; mac: string; count: number; evidence: { frames: number[] }[] }[] }).findings.map((f) => [f.kind, f.mac, f.count, f.evidence.map((e) => e.frames)]);
    expect(same(z.stdout)).toEqual(same(viaNode.stdout));
    // The quick start's command, off a terminal: the plain report.
    const q = runExe([LOOP]);
    expect(q.status).toBe(0);
    expect(q.stdout).toMatch(/ERROR {3}looped-broadcast: broadcasts from 00:16:3e:00:00:01 came back in on the bond/);
    // What it does not carry, said in one line.
    const p = runExe(['probe', '--bond', 'bond0=eth0,eth1']);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(labWhy !== null)(`in the lab: live with its own capture ring on the host, and over ssh, each finding the loop as analyze of its recording${labWhy ? ` [skipped: ${labWhy}]` : ''}`, { timeout: 180_000 }, async () => {
    const prefix = `bsx${process.pid % 10000}`;
    const params = { ...defaultParams(prefix), bridge: 'xenbr5', hostMac: '00:25:90:00:05:01' };
    // ssh, and nothing else, on the PATH of the copy that reaches the host over ssh.
    const sshBin = join(work, 'ssh-only');
    mkdirSync(sshBin);
    symlinkSync(spawnSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).stdout.trim(), join(sshBin, 'ssh'));
    let sshd: LabSshd | null = null;
    const local = join(work, 'empty', 'local.pcapng');
    const remote = join(work, 'empty', 'remote.pcapng');
    const bond = `${params.bond}=${params.slaves.join(',')}`;
    try {
      const runs = await liveDuringAll({
        scenario: 'loop',
        params,
        around: async () => {
          sshd = await startSshd({ ns: namespaces(params).host, outside: `${prefix}-m0` });
          return () => sshd?.stop();
        },
        get command() {
          return [
            ['ip', 'netns', 'exec', namespaces(params).host, 'env', '-i', 'PATH=/nonexistent', exe, 'live', '--json', '--write', local, '--bond', bond],
            ['env', '-i', `PATH=${sshBin}`, `HOME=${join(work, 'empty')}`, exe, 'live', '--ssh', 'lab', '--ssh-config', sshd!.config, '--json', '--write', remote, '--bond', bond],
          ];
        },
      });
      for (const r of runs) expect(r.code, r.err).toBe(0);
      expect(runs[0]!.err).toMatch(/capturing on .* ring backend/);
      expect(runs[1]!.err).toMatch(/capturing on .* of lab .* ssh backend/);
      for (const [r, file] of [[runs[0]!, local], [runs[1]!, remote]] as const) {
        const j = JSON.parse(r.out) as { findings: { kind: string; mac: string; vlan: number; count: number }[] };
        const key = (f: { kind: string; mac: string; vlan: number; count: number }): string => `${f.kind} ${f.mac} ${f.vlan} ${f.count}`;
        expect(j.findings.map(key)).toEqual(expect.arrayContaining([expect.stringMatching(/^looped-broadcast 00:16:3e:00:00:01 0 /), expect.stringMatching(/^wrong-port-learning 00:16:3e:00:00:01 0 /)]));
        const a = runExe(['analyze', '--json', file]);
        expect(a.status, a.stderr).toBe(0);
        expect((JSON.parse(a.stdout) as typeof j).findings.map(key).sort()).toEqual(j.findings.map(key).sort());
      }
    } finally {
      down(prefix);
    }
  });
});
