/**
 * Several inputs, one timeline: a real capture split into pieces by the test and read back as
 * several files must come out in its original order, each frame keeping the number it has in its
 * own piece; ties go to the earlier input; bad inputs among good ones are reported while the
 * good ones are read; interface names come from file stems or NAME=PATH.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, parseInputSpec } from '../../src/capture/index.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { DIR_IN } from '../../src/model/record.js';
import { CORPUS, PROJECT_ROOT } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-merge-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SOURCE = readFileSync(join(CORPUS, 'tcpdump-tests/arp-oobr.pcap')); // 2282 records, strictly increasing times

function records(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 24; p + 16 <= b.length; p += 16 + b.readUInt32LE(p + 8)) out.push(b.subarray(p, p + 16 + b.readUInt32LE(p + 8)));
  return out;
}
const RECORDS = records(SOURCE);

/** Writes the source's file header and the chosen records as a classic pcap. */
function piece(name: string, recs: Buffer[]): string {
  const path = join(tmp, name);
  writeFileSync(path, Buffer.concat([SOURCE.subarray(0, 24), ...recs]));
  return path;
}

/** Index in RECORDS of a merged frame: its record header is unique (strictly increasing times). */
const indexOf = new Map(RECORDS.map((r, i) => [r.subarray(0, 8).toString('hex'), i]));

function readMerged(specs: string[]) {
  const set = openCapture(specs);
  const out: { i: number; input: number; n: number; iface: string }[] = [];
  while (set.next()) {
    const r = set.rec;
    // The record header sits just before the packet in the reader's buffer.
    const key = Buffer.from(r.buf.subarray(r.offset - 16, r.offset - 8)).toString('hex');
    out.push({ i: indexOf.get(key) ?? -1, input: r.inputIndex, n: r.inputFrame, iface: r.iface!.name });
  }
  return { out, set };
}

describe('merging inputs by timestamp', () => {
  it('two halves (alternate records) come back in the original order, numbered within their own file', () => {
    const even = piece('even.pcap', RECORDS.filter((_, i) => i % 2 === 0));
    const odd = piece('odd.pcap', RECORDS.filter((_, i) => i % 2 === 1));
    const { out, set } = readMerged([odd, even]);
    expect(set.errors).toEqual([]);
    expect(out.map((x) => x.i)).toEqual(RECORDS.map((_, i) => i));
    expect(out.slice(0, 4)).toEqual([
      { i: 0, input: 1, n: 1, iface: 'even' },
      { i: 1, input: 0, n: 1, iface: 'odd' },
      { i: 2, input: 1, n: 2, iface: 'even' },
      { i: 3, input: 0, n: 2, iface: 'odd' },
    ]);
    expect(set.frames).toBe(RECORDS.length);
    expect(set.registry.list.map((i) => [i.name, i.frames])).toEqual([
      ['odd', RECORDS.length / 2],
      ['even', RECORDS.length / 2],
    ]);
  });

  it('forty pieces (records dealt round-robin, uneven runs) merge back into the original order', () => {
    const specs = Array.from({ length: 40 }, (_, k) => piece(`p${k}.pcap`, RECORDS.filter((_, i) => (i * 7 + (i >> 5)) % 40 === k)));
    const { out, set } = readMerged(specs);
    expect(set.errors).toEqual([]);
    expect(out.map((x) => x.i)).toEqual(RECORDS.map((_, i) => i));
    // Every piece numbers its own frames 1, 2, 3 … in order.
    const seen = new Map<number, number>();
    for (const x of out) {
      expect(x.n).toBe((seen.get(x.input) ?? 0) + 1);
      seen.set(x.input, x.n);
    }
  });

  it('equal timestamps go to the earlier input on the command line', () => {
    const part = piece('part.pcap', RECORDS.slice(0, 5));
    const { out } = readMerged([`eth1=${part}`, `eth0=${part}`]);
    expect(out.map((x) => `${x.iface}#${x.n}`)).toEqual(['eth1#1', 'eth0#1', 'eth1#2', 'eth0#2', 'eth1#3', 'eth0#3', 'eth1#4', 'eth0#4', 'eth1#5', 'eth0#5']);
  });

  it('pcap (µs) and pcapng (ns) inputs interleave at nanosecond precision', () => {
    const first = RECORDS[0]!;
    const sec = first.readUInt32LE(0);
    const usec = first.readUInt32LE(4);
    const path = join(tmp, 'ns.pcapng');
    const w = new PcapngWriter(path);
    const id = w.addInterface({ name: 'vif1.0', linkType: 1, snaplen: 262144 });
    const data = first.subarray(16);
    // 1 ns before, and 1 ns after, the pcap's first frame.
    w.writePacket(id, sec, usec * 1000 - 1, data, 0, data.length, data.length, { direction: DIR_IN });
    w.writePacket(id, sec, usec * 1000 + 1, data, 0, data.length, data.length);
    w.close();
    const pcap = piece('bond0.pcap', RECORDS.slice(0, 2));
    const set = openCapture([pcap, path]);
    const got: string[] = [];
    while (set.next()) got.push(`${set.rec.iface!.name}#${set.rec.inputFrame}`);
    expect(got).toEqual(['vif1.0#1', 'bond0#1', 'vif1.0#2', 'bond0#2']);
  });

  it('an unreadable input and a damaged one among good ones: both reported, everything readable merged', () => {
    const good = piece('good.pcap', RECORDS.slice(0, 100));
    const cut = piece('cut.pcap', RECORDS.slice(100, 110));
    const cutBytes = readFileSync(cut);
    writeFileSync(cut, cutBytes.subarray(0, cutBytes.length - 5)); // last record cut short
    const text = join(tmp, 'notes.txt');
    writeFileSync(text, 'not a capture\n');
    const { out, set } = readMerged([text, good, cut]);
    expect(out).toHaveLength(100 + 9);
    expect(set.errors.map((e) => [e.input, e.unreadable])).toEqual([
      [text, true],
      [cut, false],
    ]);
    expect(set.errors[1]!.message).toContain('record 10 cut short at end of file');
  });

  it('no inputs readable at all: no frames, every input reported', () => {
    const set = openCapture([join(tmp, 'missing-1.pcap'), join(tmp, 'missing-2.pcap')]);
    expect(set.next()).toBe(false);
    expect(set.errors.map((e) => e.what)).toEqual(['cannot open: no such file', 'cannot open: no such file']);
  });

  it('a header-only pcap is a valid empty input', () => {
    const empty = piece('empty.pcap', []);
    const good = piece('one.pcap', RECORDS.slice(0, 3));
    const { out, set } = readMerged([empty, good]);
    expect(set.errors).toEqual([]);
    expect(out.map((x) => x.iface)).toEqual(['one', 'one', 'one']);
    expect(set.registry.list.map((i) => [i.name, i.frames])).toEqual([
      ['empty', 0],
      ['one', 3],
    ]);
  });
});

describe('input specs', () => {
  it('names a classic pcap after its stem, or NAME of NAME=PATH', () => {
    expect(parseInputSpec('eth1.pcap')).toEqual({ path: 'eth1.pcap', name: 'eth1', display: 'eth1.pcap' });
    expect(parseInputSpec('/x/bond0.pcap')).toEqual({ path: '/x/bond0.pcap', name: 'bond0', display: '/x/bond0.pcap' });
    expect(parseInputSpec('/x/vif1.0.pcapng')).toEqual({ path: '/x/vif1.0.pcapng', name: 'vif1.0', display: '/x/vif1.0.pcapng' });
    expect(parseInputSpec('/x/capture')).toEqual({ path: '/x/capture', name: 'capture', display: '/x/capture' });
    expect(parseInputSpec('bond0=/x/y.pcap')).toEqual({ path: '/x/y.pcap', name: 'bond0', display: '/x/y.pcap' });
    expect(parseInputSpec('-')).toEqual({ path: '-', name: 'stdin', display: 'stdin' });
    expect(parseInputSpec('eth0=-')).toEqual({ path: '-', name: 'eth0', display: 'stdin' });
  });

  it('does not split on = when the left part is no interface name, or the whole spec is a file', () => {
    expect(parseInputSpec('./dir/a=b.pcap').path).toBe('./dir/a=b.pcap');
    expect(parseInputSpec('has space=x.pcap').path).toBe('has space=x.pcap');
    const odd = join(tmp, 'x=y.pcap');
    writeFileSync(odd, SOURCE.subarray(0, 24));
    const rel = 'x=y.pcap';
    // An existing file whose name holds '=' is that file.
    expect(parseInputSpec(odd).path).toBe(odd);
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      expect(parseInputSpec(rel)).toEqual({ path: rel, name: 'x=y', display: rel });
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('pcapng interfaces without if_name', () => {
  const HAS_MERGECAP = spawnSync('mergecap', ['-h'], { stdio: 'ignore' }).status === 0;
  const loop = join(PROJECT_ROOT, 'captures', 'loop');
  const ports = ['eth0', 'eth1', 'bond0', 'xenbr0'];
  /** Frames per interface of a file, as tshark numbers its interfaces (frame.interface_id). */
  const tsharkCounts = (file: string): number[] => {
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_id'], { encoding: 'utf8' });
    const counts: number[] = [];
    for (const l of r.stdout.trim().split('\n')) counts[Number(l)] = (counts[Number(l)] ?? 0) + 1;
    return counts;
  };
  const names = (specs: string[]): [string, number][] => {
    const set = openCapture(specs);
    while (set.next());
    expect(set.errors).toEqual([]);
    return set.registry.list.map((i) => [i.name, i.frames]);
  };

  it.skipIf(!HAS_MERGECAP)('mergecap -I none of per-interface pcaps: each IDB its own interface, FILE#N, with the frames tshark gives it', () => {
    // Inputs under names that say nothing, as a ticket's attachments are.
    const inputs = ports.map((p, i) => {
      const to = join(tmp, `part${i}.pcap`);
      copyFileSync(join(loop, `${p}.pcap`), to);
      return to;
    });
    const merged = join(tmp, 'merged.pcapng');
    expect(spawnSync('mergecap', ['-I', 'none', '-w', merged, ...inputs]).status).toBe(0);
    const counts = tsharkCounts(merged);
    expect(counts.length).toBe(ports.length);
    expect(names([merged])).toEqual(counts.map((c, n) => [`merged#${n}`, c]));
    // NAME=PATH names them NAME#N.
    expect(names([`all=${merged}`]).map(([n]) => n)).toEqual(counts.map((_, n) => `all#${n}`));
    // Two such files side by side: no interface of one is taken for the other's.
    const again = join(tmp, 'again.pcapng');
    copyFileSync(merged, again);
    expect(new Set(names([merged, again]).map(([n]) => n)).size).toBe(2 * ports.length);
  });

  it.skipIf(!HAS_MERGECAP)("a pcap converted to pcapng (editcap -F pcapng): its one interface is named after the file, as the pcap's is", () => {
    const out = join(tmp, 'eth1.pcapng');
    expect(spawnSync('editcap', ['-F', 'pcapng', join(loop, 'eth1.pcap'), out]).status).toBe(0);
    expect(names([out])).toEqual([['eth1', tsharkCounts(out)[0]!]]);
  });

  it('if_description names an interface without if_name, once per file; the rest are FILE#N', () => {
    const path = join(tmp, 'described.pcapng');
    const w = new PcapngWriter(path);
    const a = w.addInterface({ name: '', description: 'uplink port 3', linkType: 1, snaplen: 262144 });
    const b = w.addInterface({ name: '', description: 'uplink port 3', linkType: 1, snaplen: 262144 });
    const c = w.addInterface({ name: '', linkType: 1, snaplen: 262144 });
    const frame = new Uint8Array(60).fill(0xff);
    for (const id of [a, b, c, c]) w.writePacket(id, 1700000000, 0, frame, 0, 60, 60);
    w.close();
    expect(names([path])).toEqual([
      ['uplink port 3', 1],
      ['described#1', 1],
      ['described#2', 2],
    ]);
  });
});
