/**
 * A saved kernel log given to `analyze --kernel-log` is input like a capture: impossible dates,
 * escape sequences in the names it quotes, junk lines. The report must come out whole, escaped,
 * with no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TERMINAL_UNSAFE } from '../fuzz/pipeline.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const LOOP = join(PROJECT_ROOT, 'captures/loop/loop.pcapng');
const tmp = mkdtempSync(join(tmpdir(), 'bondscope-klog-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function analyze(log: string, json = false): { code: number; out: string; err: string } {
  const path = join(tmp, `k${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(path, log);
  const r = spawnSync(process.execPath, [BIN, 'analyze', ...(json ? ['--json'] : []), '--kernel-log', path, LOOP], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('analyze --kernel-log on a hostile or broken log', () => {
  it('a line dated month 13 is kept without a time, not a crash', () => {
    const r = analyze('2026-13-45T10:00:00+0000 host kernel: xenbr0: received packet on bond0 with own address as source address (addr:00:16:3e:00:00:01, vlan:0)\n');
    expect(r.err).not.toContain('internal error');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Kernel log\n {2}1 own-address\n {2}xenbr0: received packet on bond0 with own address/);
  });

  it('escape sequences in the names a log line quotes stay escaped, in text and JSON', () => {
    const evil = 'br\x1b[2J\u009b31m\u202e';
    const line = `2026-11-25T10:00:00+0000 host kernel: ${evil}: received packet on bond0\x1b]52;c;QQ==\x07 with own address as source address (addr:00:16:3e:00:00:01, vlan:0)\n`;
    const text = analyze(line);
    expect(text.err).not.toContain('internal error');
    expect(text.out.search(TERMINAL_UNSAFE)).toBe(-1);
    expect(text.out).toContain('br\\x1b[2J\\x9b31m\\u{202e}');
    const json = analyze(line, true);
    expect(json.out.search(TERMINAL_UNSAFE)).toBe(-1);
    const j = JSON.parse(json.out) as { kernel: { events: { text: string }[] } };
    expect(j.kernel.events[0]!.text).toContain(evil);
  });
});
