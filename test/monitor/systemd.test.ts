/**
 * The shipped systemd unit: `systemd-analyze verify` accepts it (with ExecStart pointed at this
 * checkout, since verify checks the binary exists), and `systemd-analyze security --offline` rates
 * its exposure as a hardened service's (a bare unit with the same ExecStart rates 9.6 UNSAFE).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';

const UNIT = join(PROJECT_ROOT, 'deploy/systemd/bondscope-monitor.service');
const why = spawnSync('systemd-analyze', ['--version']).status === 0 ? null : 'needs systemd-analyze';
const work = mkdtempSync(join(tmpdir(), 'bondscope-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The unit as shipped, run from this checkout. */
function local(text = readFileSync(UNIT, 'utf8')): string {
  const file = join(work, 'bondscope-monitor.service');
  writeFileSync(file, text.replace('/usr/local/bin/bondscope', join(PROJECT_ROOT, 'bin/bondscope')));
  return file;
}

function exposure(file: string): number {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', file], { encoding: 'utf8' });
  return Number(/Overall exposure level for .*: (\d+\.\d+)/.exec(r.stdout)?.[1]);
}

describe.skipIf(why !== null)(`systemd unit${why ? ` [skipped: ${why}]` : ''}`, () => {
  it('passes systemd-analyze verify without a warning', () => {
    const r = spawnSync('systemd-analyze', ['verify', local()], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // verify does complain about a broken unit (the check can fail).
    const broken = spawnSync('systemd-analyze', ['verify', local(readFileSync(UNIT, 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=stricter'))], { encoding: 'utf8' });
    expect(broken.stderr).toMatch(/protect system value/);
  });

  it('limits capabilities to capture and the kernel log, with a read-only system, and rates as hardened', () => {
    const text = readFileSync(UNIT, 'utf8');
    expect(text).toMatch(/^CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN CAP_SYSLOG$/m);
    expect(text).toMatch(/^AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_SYSLOG$/m);
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'StateDirectory=bondscope', 'DynamicUser=yes', 'DeviceAllow=/dev/kmsg r']) expect(text).toContain(`\n${line}\n`);
    expect(text).toContain('--evidence-dir /var/lib/bondscope/evidence');
    const score = exposure(local());
    const bare = exposure(local(`[Service]\nExecStart=/usr/local/bin/bondscope monitor\n`));
    expect(score).toBeLessThan(3.5);
    expect(bare).toBeGreaterThan(9);
  });
});
