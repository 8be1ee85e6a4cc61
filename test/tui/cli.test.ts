/** `bondscope FILE...` off a terminal: the same report as `bondscope analyze`, flags and exit codes alike. */
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { HAVE_RECORDINGS, RECORDING } from './snapshots.js';

const BIN = resolve(PROJECT_ROOT, 'bin/bondscope');
const run = (args: string[]) => spawnSync('node', [BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe.skipIf(!HAVE_RECORDINGS)('bondscope FILE off a terminal [needs captures/]', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', '.'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  }, 120_000);

  it.each([[['loop']], [['lacp']], [['loop', '--replay', '4']], [['--replay', 'loop', '--bond', 'bond0=eth0,eth1']]])('prints what analyze prints: %j', (args) => {
    const files = args.map((a) => (['loop', 'lacp'].includes(a) ? RECORDING(a) : a));
    const ui = run(files);
    const analyze = run(['analyze', ...files.filter((a, i) => a !== '--replay' && !(files[i - 1] === '--replay' && /^\d+$/.test(a)))]);
    expect(ui.status).toBe(analyze.status);
    expect(ui.stdout).toBe(analyze.stdout);
    expect(ui.stdout).toMatch(/Topology as understood/);
    expect(ui.stderr).toBe(analyze.stderr);
  });

  it('usage errors are one line and exit 2, before anything is drawn', () => {
    for (const [args, msg] of [
      [['--replay', '0', RECORDING('loop')], /--replay takes a speed above 0/],
      [['--replay'], /no capture file given/],
      [[RECORDING('loop'), '--bogus'], /Unknown option '--bogus'/],
      [[RECORDING('loop'), '--bond', 'bond0'], /--bond takes NAME=PORT,PORT/],
    ] as const) {
      const r = run([...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('--help lists --replay and the role flags', () => {
    const r = run(['--replay', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--replay \[SPEED\]/);
    expect(r.stdout).toMatch(/--bond BOND=SLAVE,SLAVE/);
  });
});
