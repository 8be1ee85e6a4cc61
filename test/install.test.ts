/**
 * `npm install -g` of the packed tarball, as a new user installs it, into a prefix of its own
 * (from npm's cache: npm ci filled it). With the install scripts allowed to run (npm 11 runs them
 * with a notice, and says how to allow them), the binding is built and `man bondscope` finds the
 * manual; with the scripts not run (--ignore-scripts, as npm does for a global package it does
 * not allow), analysis works and `bondscope live` says in one line what to run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers/tools.js';

const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
const why = npm.status !== 0 ? 'needs npm' : !existsSync(join(PROJECT_ROOT, 'man', 'bondscope.1')) ? 'needs the build (npm run build writes the manual)' : null;
const work = mkdtempSync(join(tmpdir(), 'bondscope-install-'));
let tarball = '';

function install(prefix: string, extra: string[]): { status: number | null; out: string } {
  mkdirSync(prefix, { recursive: true });
  const r = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', ...extra, tarball], { encoding: 'utf8', cwd: work });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe.skipIf(why !== null)(`npm install -g${why ? ` [skipped: ${why}]` : ''}`, () => {
  beforeAll(() => {
    // What `npm publish` would ship (the build is done: npm test built it).
    const r = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    tarball = join(work, r.stdout.trim().split('\n').pop()!);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('with the install scripts run: the binding built (or one line why not), npm naming --allow-scripts, man bondscope found', { timeout: 240_000 }, () => {
    const prefix = join(work, 'allowed');
    const r = install(prefix, []);
    expect(r.status, r.out).toBe(0);
    const pkg = join(prefix, 'lib', 'node_modules', 'bondscope');
    const built = existsSync(join(pkg, 'build', 'Release', 'bondscope_ring.node'));
    if (!built) expect(r.out).toMatch(/bondscope: the capture ring binding did not build \(it needs a C\+\+ compiler and libpcap-dev/);
    expect(existsSync(join(pkg, 'build', 'install-script.json'))).toBe(true);
    // npm 11 runs a global package's scripts it has not been told to allow, and says how to allow them.
    if (/install-scripts/.test(r.out)) expect(r.out).toMatch(/npm install -g --allow-scripts=bondscope/);
    // npm links the manual where man looks under the prefix (share/man/man1 for /usr/local).
    expect(realpathSync(join(prefix, 'share', 'man', 'man1', 'bondscope.1'))).toBe(realpathSync(join(pkg, 'man', 'bondscope.1')));
    const man = spawnSync('man', ['-M', join(prefix, 'share', 'man'), 'bondscope'], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '100' } });
    if (!man.error) expect(man.stdout).toMatch(/BONDSCOPE\(1\)[\s\S]*--ssh \[USER@\]HOST/);
  });

  it('with the install scripts not run: analysis works, live says in one line to allow them', { timeout: 120_000 }, () => {
    const prefix = join(work, 'ignored');
    const r = install(prefix, ['--ignore-scripts']);
    expect(r.status, r.out).toBe(0);
    const bin = join(prefix, 'bin', 'bondscope');
    const a = spawnSync(bin, ['analyze', '--fail-on', 'error', join(PROJECT_ROOT, 'captures/loop/loop.pcapng')], { encoding: 'utf8' });
    expect(a.status).toBe(3);
    const l = spawnSync(bin, ['live', '-i', 'lo', '--duration', '1'], { encoding: 'utf8' });
    expect(l.status).toBe(2);
    expect(l.stderr.trim().split('\n')).toHaveLength(1);
    expect(l.stderr.trim()).toBe(
      "bondscope: live: the capture ring binding was not built: npm did not run bondscope's install scripts (npm install -g runs them only when allowed): npm install -g --allow-scripts=bondscope,cap bondscope (or the tarball or directory you installed from); cap, the fallback, is not built either",
    );
  });
});
