/**
 * The byte input under the readers: stdin through real pipes (a child process reads `-`, as
 * `tcpdump -w - | bondscope frames -` does), including a slow writer on a non-blocking pipe,
 * and a file many times larger than the read buffer, read with a buffer that never grows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { DEFAULT_CHUNK } from '../../src/capture/input.js';
import { CORPUS, PROJECT_ROOT } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DIST = join(tmp, 'dist');
const SOURCE = readFileSync(join(CORPUS, 'tcpdump-tests/arp-oobr.pcap'));
const PCAPNG = join(CORPUS, 'pcapng-suite/output_be/difficult/test202.pcapng');

/** What a reader saw: frames, a hash over every frame's bytes and lengths, names, errors. */
interface Seen {
  frames: number;
  hash: number;
  names: string[];
  errors: string[];
}

/** Hash and summary over a source; the same code runs in the child (as text) and here. */
const SUMMARISE = `(set) => {
  let frames = 0, hash = 0;
  while (set.next()) {
    const r = set.rec;
    frames++;
    hash = (Math.imul(hash, 31) + r.caplen + r.origLen + r.tsSec + r.tsNsec) >>> 0;
    for (let i = r.offset; i < r.offset + r.caplen; i++) hash = (Math.imul(hash, 31) + r.buf[i]) >>> 0;
  }
  return { frames, hash, names: set.registry.list.map((i) => i.name), errors: set.errors.map((e) => e.message) };
}`;
const summarise = new Function(`return ${SUMMARISE}`)() as (set: ReturnType<typeof openCapture>) => Seen;

/** Runs the compiled reader in a child with `shell` feeding its stdin; `touchStdin` makes the pipe non-blocking first. */
function child(shell: string, spec = '-', touchStdin = false): Seen {
  const script = `
    const { openCapture } = await import(${JSON.stringify(join(DIST, 'src/capture/index.js'))});
    // Node's own stdin handle puts a pipe into non-blocking mode: reads then meet EAGAIN.
    if (${touchStdin}) process.stdin.pause();
    const set = openCapture([${JSON.stringify(spec)}]);
    process.stdout.write(JSON.stringify((${SUMMARISE})(set)));
    process.exit(0);`;
  const run = spawnSync('sh', ['-c', `${shell} | "${process.execPath}" --input-type=module -e "$SCRIPT"`], {
    encoding: 'utf8',
    env: { ...process.env, SCRIPT: script },
    maxBuffer: 1 << 24,
  });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Seen;
}

/** A classic pcap of `copies` × the source's records, timestamps moved on so they keep rising. */
function bigPcap(copies: number): string {
  const path = join(tmp, `big-${copies}.pcap`);
  const body = SOURCE.subarray(24);
  const parts: Buffer[] = [SOURCE.subarray(0, 24)];
  for (let k = 0; k < copies; k++) {
    const copy = Buffer.from(body);
    for (let p = 0; p + 16 <= copy.length; p += 16 + copy.readUInt32LE(p + 8)) copy.writeUInt32LE(copy.readUInt32LE(p) + k * 100000, p);
    parts.push(copy);
  }
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

describe('stdin', () => {
  beforeAll(() => {
    // The child runs compiled JavaScript: build the project into a private directory.
    spawnSync('npx', ['tsc', '-p', '.', '--outDir', DIST], { cwd: PROJECT_ROOT, stdio: 'ignore' });
    expect(existsSync(join(DIST, 'src/capture/index.js'))).toBe(true);
  });

  it('a classic pcap through a pipe reads exactly like the file', () => {
    const file = join(CORPUS, 'tcpdump-tests/arp-oobr.pcap');
    const direct = summarise(openCapture([file]));
    const piped = child(`cat "${file}"`);
    expect(piped).toEqual({ ...direct, names: ['stdin'] });
    expect(piped.frames).toBe(2282);
  });

  it('a pcapng with sections of both byte orders through a pipe, named with NAME=-', () => {
    const direct = summarise(openCapture([PCAPNG]));
    expect(child(`cat "${PCAPNG}"`, 'bond0=-')).toEqual(direct);
  });

  it('a pipe stream far larger than the read buffer (records straddle every refill)', () => {
    const file = bigPcap(250); // ≈ 43 MB
    const direct = summarise(openCapture([file]));
    expect(direct.frames).toBe(2282 * 250);
    expect(child(`cat "${file}"`)).toEqual({ ...direct, names: ['stdin'] });
  });

  it('a slow writer on a non-blocking pipe: the reader waits for the rest instead of stopping', () => {
    const file = join(CORPUS, 'tcpdump-tests/arp-oobr.pcap');
    const direct = summarise(openCapture([file]));
    // The first 3000 bytes end inside a record; the rest comes later.
    const slow = `(head -c 3000 "${file}"; sleep 0.3; tail -c +3001 "${file}")`;
    expect(child(slow, '-', true)).toEqual({ ...direct, names: ['stdin'] });
  });

  it('nothing on stdin, and text on stdin: unreadable, named "stdin"', () => {
    expect(child('true').errors).toEqual(['stdin: no input on stdin, no capture header at byte 0 (file header)']);
    expect(child('echo "<!DOCTYPE html>"').errors).toEqual(['stdin: not a pcap or pcapng file (starts 3c 21 44 4f 43 54 59 50 45 20 68 74 6d 6c 3e 0a) at byte 0 (file header)']);
  });

  it('a capture cut short on stdin: the frames before the cut, then the damage', () => {
    const file = join(CORPUS, 'tcpdump-tests/arp-oobr.pcap');
    const seen = child(`head -c 100000 "${file}"`);
    expect(seen.frames).toBeGreaterThan(1000);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toMatch(new RegExp(`^stdin: record ${seen.frames + 1} cut short at end of file \\(\\d+ of \\d+ bytes\\) after ${seen.frames} frames at byte \\d+ \\(pcap record\\)$`));
  });
});

describe('files far larger than the read buffer', () => {
  it('are read with flat memory: the buffer never grows, every record arrives whole', () => {
    const file = bigPcap(250);
    const set = openCapture([file]);
    const sizes = new Set<number>();
    let frames = 0;
    let bytes = 0;
    while (set.next()) {
      sizes.add(set.rec.buf.length);
      frames++;
      bytes += 16 + set.rec.caplen;
    }
    expect(set.errors).toEqual([]);
    expect(frames).toBe(2282 * 250);
    expect(24 + bytes).toBe(readFileSync(file).length);
    // One buffer of the default size for a 43 MB file, reused to the end.
    expect([...sizes]).toEqual([DEFAULT_CHUNK]);
    expect(DEFAULT_CHUNK * 40).toBeLessThan(readFileSync(file).length);
  });
});
