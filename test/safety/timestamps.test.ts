/**
 * pcapng timestamps are 64-bit counts: with a coarse if_tsresol they reach past the last date a
 * JavaScript Date holds (year 275760). Such a frame is printed by its epoch seconds, never as NaN,
 * and nothing throws on it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/index.js';
import { arpRequest, ethernet } from '../fuzz/pcap-file.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const tmp = mkdtempSync(join(tmpdir(), 'bondscope-ts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 2^50 s: about 35 million years, far past Date's range. */
const FAR = 2 ** 50;

function bondscope(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('a timestamp past the range of a Date', () => {
  const path = join(tmp, 'far.pcapng');
  const w = new PcapngWriter(path);
  const id = w.addInterface({ name: 'eth0', linkType: 1, snaplen: 65535, tsDigits: 0 });
  const data = ethernet(0xffffffffffff, 0x00163e000001, 0x0806, arpRequest(0x00163e000001, 1, 2));
  w.writePacket(id, 1_700_000_000, 0, data, 0, data.length, data.length);
  w.writePacket(id, FAR, 0, data, 0, data.length, data.length);
  w.close();

  it('frames prints its epoch seconds in the date column, not NaN', () => {
    const r = bondscope(['frames', path]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toContain('2023-11-14 22:13:20 eth0');
    expect(lines[1]).toMatch(new RegExp(`^\\s+2 ${FAR} eth0 `));
    expect(r.out).not.toContain('NaN');
  });

  it('analyze and the plain report take it without an internal error', () => {
    for (const args of [['analyze', path], ['analyze', '--json', path], [path]]) {
      const r = bondscope(args);
      expect(r.err).not.toContain('internal error');
      // Read whole: 0, or 4 when the frames cannot tell whether a host loops (the verdict).
      expect([0, 4]).toContain(r.code);
    }
  });
});
