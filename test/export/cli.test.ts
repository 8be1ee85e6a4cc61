/**
 * `bondscope export` as a user runs it (node bin/bondscope, built dist/): what it prints, exit
 * codes, one-line errors without stack traces, and a bundle analyze agrees with.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { freshDir, jsonFindingKeys } from './helpers.js';

const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const LOOP = join(PROJECT_ROOT, 'captures/loop/loop.pcapng');
const ANY = join(PROJECT_ROOT, 'captures/loop/any.pcap');
const LINKS = join(PROJECT_ROOT, 'captures/loop/links.json');

function bondscope(args: string[], input?: Buffer): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function oneLine(err: string): void {
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).not.toContain('internal error');
  expect(err.trim().split('\n')).toHaveLength(1);
}

describe('bondscope export', () => {
  it('writes the bundle, says what it wrote on stderr, prints nothing on stdout; analyze --json of the input is findings.json', () => {
    const dir = freshDir('cli');
    const r = bondscope(['export', LOOP, '-o', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    // 11: the tagged echoes move the guests' one FDB entry each (the lab's bridge is not VLAN-aware), no wrong-port-learning per VLAN.
    expect(r.err).toMatch(/^bondscope: exported 11 findings: \d+ frames \(\d+ with a comment: evidence and its path; \d+ context\) to /);
    for (const f of ['evidence.pcapng', 'report.md', 'findings.json']) {
      expect(r.err).toContain(join(dir, f));
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
    const analyzed = bondscope(['analyze', '--json', LOOP]);
    expect(jsonFindingKeys(JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8')))).toEqual(jsonFindingKeys(JSON.parse(analyzed.out)));
    const bundle = bondscope(['analyze', '--json', join(dir, 'evidence.pcapng')]);
    expect(bundle.code).toBe(0);
    expect(jsonFindingKeys(JSON.parse(bundle.out))).toEqual(jsonFindingKeys(JSON.parse(analyzed.out)));
  });

  it('an -i any capture with --links: the sanitized bundle carries links.json, and analyze with it finds the same kinds', () => {
    const dir = freshDir('cli-any');
    const r = bondscope(['export', '--sanitize', '--links', LINKS, ANY, '-o', dir]);
    expect(r.code).toBe(0);
    const links = JSON.parse(readFileSync(join(dir, 'links.json'), 'utf8')) as { ifname: string }[];
    expect(links.map((l) => l.ifname).sort()).toEqual(['bond0', 'bridge0', 'guest0', 'guest1', 'port0', 'slave0', 'slave1']);
    const original = bondscope(['analyze', '--json', '--links', LINKS, ANY]);
    const bundle = bondscope(['analyze', '--json', '--links', join(dir, 'links.json'), join(dir, 'evidence.pcapng')]);
    const kinds = (out: string): string[] => [...new Set((JSON.parse(out).findings as { kind: string }[]).map((f) => f.kind))].sort();
    expect(kinds(original.out).length).toBeGreaterThan(0);
    expect(kinds(bundle.out)).toEqual(kinds(original.out));
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('bondscope analyze --links links.json evidence.pcapng');
  });

  it('usage errors: one line, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['export'], /^bondscope: export: no capture file given/],
      [['export', LOOP], /^bondscope: export: -o DIR is required/],
      [['export', '-o', freshDir('x'), '-'], /stdin cannot be read twice: save it to a file first/],
      [['export', '--context', '2.5', '-o', freshDir('x'), LOOP], /--context takes a whole number of frames, not '2\.5'/],
      [['export', '--bond', 'nonsense', '-o', freshDir('x'), LOOP], /--bond takes NAME=PORT,PORT/],
      [['export', '-o', freshDir('x'), join(PROJECT_ROOT, 'nonexistent.pcap')], /nonexistent\.pcap: cannot open: no such file/],
      [['export', '-o', '/proc/bondscope-cannot', LOOP], /^bondscope: export: cannot create \/proc\/bondscope-cannot: /],
    ];
    for (const [args, message] of cases) {
      const r = bondscope(args, args.includes('-') ? readFileSync(LOOP) : undefined);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      oneLine(r.err);
    }
    const file = join(freshDir('f'));
    writeFileSync(file, 'not a directory');
    const r = bondscope(['export', '-o', file, LOOP]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not a directory/);
    oneLine(r.err);
  });

  it('a damaged input: the frames before the damage are exported, one line says where, exit 1', () => {
    const cut = join(freshDir('cut') + '.pcapng');
    const bytes = readFileSync(LOOP);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const dir = freshDir('cut-out');
    const r = bondscope(['export', cut, '-o', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/block cut short at end of file/);
    expect(r.err).toMatch(/bondscope: exported \d+ findings?/);
    expect(statSync(join(dir, 'evidence.pcapng')).size).toBeGreaterThan(0);
  });

  it('--help lists the options; the command list names export', () => {
    const r = bondscope(['export', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['-o, --output DIR', '--context N', '--sanitize', '--bond', '--links']) expect(r.out).toContain(o);
    expect(bondscope(['--help']).out).toMatch(/^ {2}export {5}write an evidence bundle/m);
  });
});
