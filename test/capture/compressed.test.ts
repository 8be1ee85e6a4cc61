/**
 * Compressed captures, made by the real gzip and zstd tools from the shipped recordings and the
 * corpus: read as the capture they hold (the same records, byte for byte and stamp for stamp, as
 * the plain file), from a file or from stdin, whatever their name; a cut or damaged one delivers
 * the records decompressed before the damage and one line that says what and where.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { CORPUS, PROJECT_ROOT } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-compressed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const HAVE = ['gzip', 'zstd'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);

/** Every record of an input as [interface name, seconds, nanoseconds, original length, bytes as hex]. */
function records(spec: string): { recs: string[]; errors: string[] } {
  const set = openCapture([spec]);
  const recs: string[] = [];
  while (set.next()) {
    const r = set.rec;
    recs.push(`${r.iface!.name} ${r.tsSec}.${r.tsNsec} ${r.origLen} ${Buffer.from(r.buf.subarray(r.offset, r.offset + r.caplen)).toString('hex')}`);
  }
  return { recs, errors: set.errors.map((e) => e.message) };
}

function compress(tool: 'gzip' | 'zstd', file: string, out: string): string {
  writeFileSync(out, execFileSync(tool, ['-c', file], { maxBuffer: 1 << 28 }));
  return out;
}

const SAMPLES = [
  join(PROJECT_ROOT, 'captures/loop/loop.pcapng'),
  join(PROJECT_ROOT, 'captures/loop/eth0.pcap'),
  join(PROJECT_ROOT, 'captures/background-loop/any.pcap'),
  ...readdirSync(join(CORPUS, 'pcapng-suite'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.pcapng'))
    .slice(0, 12)
    .map((f) => join(CORPUS, 'pcapng-suite', f)),
];

describe.skipIf(!HAVE)('compressed captures (gzip, zstd)', () => {
  for (const tool of ['gzip', 'zstd'] as const) {
    it(`${tool}: the same records as the plain file, named after the file without its endings`, () => {
      for (const plain of SAMPLES) {
        const want = records(plain);
        const packed = compress(tool, plain, join(tmp, `${plain.split('/').pop()}.${tool === 'gzip' ? 'gz' : 'zst'}`));
        const got = records(packed);
        expect(got.recs, packed).toEqual(want.recs);
        expect(got.errors.length, packed).toBe(want.errors.length);
      }
    });
  }

  it('a compressed file under any name (the format is read from its bytes) and on stdin', () => {
    const plain = join(PROJECT_ROOT, 'captures/loop/loop.pcapng');
    const want = records(plain).recs;
    const odd = compress('gzip', plain, join(tmp, 'attachment.bin'));
    expect(records(odd).recs).toEqual(want);
    const run = spawnSync('node', [join(PROJECT_ROOT, 'bin/bondscope'), 'frames', '--json', '-'], { input: readFileSync(odd), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n').length).toBe(want.length);
  });

  it('gzip members concatenated (cat a.gz b.gz) are one stream, as gzip -d reads them', () => {
    const plain = readFileSync(join(PROJECT_ROOT, 'captures/loop/eth0.pcap'));
    const half = 24 + 16 * 10 + 2000;
    writeFileSync(join(tmp, 'a'), plain.subarray(0, half));
    writeFileSync(join(tmp, 'b'), plain.subarray(half));
    const cat = join(tmp, 'two-members.pcap.gz');
    writeFileSync(cat, Buffer.concat([execFileSync('gzip', ['-c', join(tmp, 'a')]), execFileSync('gzip', ['-c', join(tmp, 'b')])]));
    expect(records(`eth0=${cat}`).recs).toEqual(records(join(PROJECT_ROOT, 'captures/loop/eth0.pcap')).recs);
  });

  for (const tool of ['gzip', 'zstd'] as const) {
    it(`${tool} cut short: the whole records before the cut, then one line saying the compressed stream was cut`, () => {
      // A capture large enough to span many compressed blocks.
      const big = join(tmp, `big-${tool}.pcapng`);
      execFileSync('mergecap', ['-w', big, ...['loop', 'background-loop', 'pve-loop', 'bond-ll-loop'].map((s) => join(PROJECT_ROOT, 'captures', s, `${s}.pcapng`))]);
      const all = records(big).recs;
      const packed = compress(tool, big, `${big}.${tool}`);
      const bytes = readFileSync(packed);
      const cut = join(tmp, `cut.pcapng.${tool}`);
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const got = records(cut);
      expect(got.errors.length).toBe(1);
      expect(got.errors[0]).toMatch(new RegExp(`^${cut}: read failed \\(${tool} data cut short: the file ends inside the compressed stream, after ${Math.floor(bytes.length * 0.6)} compressed bytes\\) after ${got.recs.length} frames at byte \\d+ of the ${tool}-decompressed data \\(\\w+\\)$`));
      // What was read is the start of the capture, and most of what the cut file held.
      expect(got.recs).toEqual(all.slice(0, got.recs.length));
      expect(got.recs.length).toBeGreaterThan(all.length * 0.3);
    });
  }

  it('gzip damaged: the records decompressed before the damage, then zlib\'s reason and where in the compressed file', () => {
    const big = join(tmp, 'big-damage.pcapng');
    execFileSync('mergecap', ['-w', big, ...['loop', 'background-loop', 'pve-loop'].map((s) => join(PROJECT_ROOT, 'captures', s, `${s}.pcapng`))]);
    const all = records(big).recs;
    const bytes = Buffer.from(execFileSync('gzip', ['-c', big], { maxBuffer: 1 << 28 }));
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)]! ^= 0x55;
    const damaged = join(tmp, 'damaged.pcapng.gz');
    writeFileSync(damaged, flipped);
    const got = records(damaged);
    expect(got.errors.length).toBe(1);
    // zlib's decoder trips on the bytes, or the reader on what they decompressed to (before the
    // member's CRC-32 would have at its end): either way where, in which data.
    expect(got.errors[0]).toMatch(/gzip data damaged (in compressed bytes \d+–\d+|at the end of the compressed stream \(byte \d+\)): (invalid|incorrect)|at byte \d+ of the gzip-decompressed data \((EPB|SHB|IDB|block header)\)$/);
    expect(got.recs).toEqual(all.slice(0, got.recs.length));
    const crc = Buffer.from(bytes);
    crc[crc.length - 6]! ^= 0x01; // the CRC-32 in the trailer
    writeFileSync(damaged, crc);
    expect(records(damaged).errors[0]).toContain('incorrect data check');
    expect(statSync(damaged).size).toBe(bytes.length);
  });
});
