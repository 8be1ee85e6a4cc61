import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapngWriter } from '../src/capture/pcapng-writer.js';
import { DIR_IN, DIR_OUT } from '../src/model/record.js';
import { HAS_TSHARK, tshark } from './helpers/tools.js';

function arpFrame(srcLastByte: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16, 0x3e, 0x00, 0x00, srcLastByte, 0x08, 0x06]);
  f.set([0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01], 14);
  f.set([0x00, 0x16, 0x3e, 0x00, 0x00, srcLastByte, 198, 51, 100, 10], 22);
  f.set([0, 0, 0, 0, 0, 0, 198, 51, 100, 1], 32);
  return f;
}

function writeSample(path: string): void {
  const w = new PcapngWriter(path, { comment: 'bondscope test section', userappl: 'bondscope test' });
  const eth0 = w.addInterface({ name: 'eth0', description: 'slave of bond0', linkType: 1, snaplen: 65535 });
  const eth1 = w.addInterface({ name: 'eth1', linkType: 1, snaplen: 65535 });
  w.writePacket(eth0, 1700000000, 123456789, arpFrame(1), 0, 60, 60, { direction: DIR_OUT, comment: 'sent' });
  w.writePacket(eth1, 1700000000, 123999999, arpFrame(1), 0, 42, 60, { direction: DIR_IN, comment: 'echo ✓' });
  w.writePacket(eth1, 1700000001, 5, arpFrame(2), 0, 60, 60, { dropCount: 3 });
  w.writeStats(eth1, 1700000002, 0, 7, { sec: 1700000000, nsec: 0 });
  w.close();
}

describe('PcapngWriter', () => {
  it('creates files readable only by their owner (captures are sensitive)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'bondscope-w-')), 'x.pcapng');
    writeSample(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!HAS_TSHARK)('writes files tshark reads cleanly, with names, directions, comments and timestamps [needs tshark]', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'bondscope-w-')), 'x.pcapng');
    writeSample(path);
    const run = tshark(
      ['-r', path, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'frame.time_epoch',
        '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.comment', '-e', 'frame.packet_flags_direction', '-e', 'eth.src'],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const rows = run.stdout.trim().split('\n').map((l) => l.split('|'));
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r[0])).toEqual(['eth0', 'eth1', 'eth1']);
    expect(rows[0]![1]).toBe('1700000000.123456789');
    expect(rows[2]![1]).toBe('1700000001.000000005');
    expect(rows.map((r) => r[2])).toEqual(['60', '60', '60']);
    expect(rows[1]![3]).toBe('42');
    expect(rows[0]![4]).toBe('sent');
    expect(rows[1]![4]).toBe('echo ✓');
    // tshark prints the direction bits as 0x1 (inbound) / 0x2 (outbound).
    expect(Number(rows[0]![5])).toBe(2);
    expect(Number(rows[1]![5])).toBe(1);
    expect(rows[2]![6]).toBe('00:16:3e:00:00:02');
    const info = execFileSync('capinfos', ['-c', '-M', path], { encoding: 'utf8' });
    expect(info).toMatch(/Number of packets:\s+3/);
  });
});
