/**
 * The pcapng conformance suite (hadrielk/pcapng-test-generator) in both byte orders: packet counts
 * from each test's own description, interface names per section, if_tsresol timestamps, comments,
 * epb_flags, and the big-endian twin of every file read exactly like its little-endian one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTimestamp, openCapture } from '../../src/capture/index.js';
import { safeText } from '../../src/report/escape.js';
import { CORPUS, HAS_TSHARK, tshark } from '../helpers/tools.js';

const SUITE = join(CORPUS, 'pcapng-suite');

function tests(order: 'le' | 'be'): string[] {
  const root = join(SUITE, `output_${order}`);
  return readdirSync(root).flatMap((cat) =>
    readdirSync(join(root, cat))
      .filter((f) => f.endsWith('.pcapng'))
      .map((f) => join(root, cat, f)),
  );
}

/** Packet blocks the test's description lists (EPB, SPB and the obsolete Packet Block). */
function expectedPackets(pcapng: string): number {
  const txt = readFileSync(pcapng.replace(/\.pcapng$/, '.txt'), 'utf8');
  let n = 0;
  for (const m of txt.matchAll(/^\s+(EPB|SPB|PB|OPB):\s+(\d+)/gm)) n += Number(m[2]);
  return n;
}

interface Row {
  iface: string;
  section: number;
  ts: string;
  caplen: number;
  len: number;
  dir: number;
  flags: number;
  comment: string | null;
  bytes: string;
}

function readAll(file: string): { rows: Row[]; errors: string[] } {
  const set = openCapture([file]);
  const rows: Row[] = [];
  while (set.next()) {
    const r = set.rec;
    rows.push({
      iface: r.iface!.name,
      section: r.iface!.section,
      ts: formatTimestamp(r.tsSec, r.tsFrac, r.iface!.tsDigits),
      caplen: r.caplen,
      len: r.origLen,
      dir: r.direction,
      flags: r.epbFlags,
      comment: r.comment,
      bytes: Buffer.from(r.buf.subarray(r.offset, r.offset + r.caplen)).toString('hex'),
    });
  }
  return { rows, errors: set.errors.map((e) => e.message) };
}

describe('pcapng conformance suite', () => {
  const le = tests('le');

  it('holds the 24 tests in each byte order', () => {
    expect(le).toHaveLength(24);
    expect(tests('be')).toHaveLength(24);
  });

  for (const file of le) {
    const name = file.slice(SUITE.length + 1);
    it(`${name}: every packet block read, no error, identical to its big-endian twin`, () => {
      const little = readAll(file);
      const big = readAll(file.replace('output_le', 'output_be'));
      expect(little.errors).toEqual([]);
      expect(little.rows).toHaveLength(expectedPackets(file));
      expect(big).toEqual(little);
    });
  }

  it('test008: two interfaces named by if_name, timestamps in their if_tsresol', () => {
    const { rows } = readAll(join(SUITE, 'output_le/basic/test008.pcapng'));
    expect(rows.map((r) => r.iface)).toEqual(['eth-_0 foo', 'en1', 'eth-_0 foo', 'en1']);
    // Nanosecond resolution: 9 digits, exactly as written.
    expect(rows.map((r) => r.ts)).toEqual(['1340954.905298858', '1340954.905299858', '1340954.905300858', '1340954.905301858']);
  });

  it('test009: packet comments and epb_flags', () => {
    const { rows } = readAll(join(SUITE, 'output_le/basic/test009.pcapng'));
    expect(rows.map((r) => r.comment)).toEqual(['test009-1', 'test009-2']);
    // The second packet's flags carry link-layer error bits only (tshark: 0x48000000): direction unknown.
    expect(rows.map((r) => r.flags)).toEqual([0, 0x48000000]);
    expect(rows.map((r) => r.dir)).toEqual([0, 0]);
  });

  it('test202: three sections of mixed byte order, each with its own interfaces', () => {
    const { rows, errors } = readAll(join(SUITE, 'output_le/difficult/test202.pcapng'));
    expect(errors).toEqual([]);
    expect(rows.map((r) => r.section)).toEqual([0, 0, 0, 1, 1, 1, 1, 2]);
    expect(new Set(rows.filter((r) => r.section === 1).map((r) => r.iface))).toEqual(new Set(['silly ethernet interface 2']));
  });

  it('test005: an interface block after packets is honoured', () => {
    const { rows, errors } = readAll(join(SUITE, 'output_le/basic/test005.pcapng'));
    expect(errors).toEqual([]);
    expect(new Set(rows.map((r) => r.iface)).size).toBe(2);
  });

  for (const order of ['le', 'be'] as const) {
    const file = (name: string): string => join(SUITE, `output_${order}`, name);
    const ifaces = (name: string) => {
      const set = openCapture([file(name)]);
      while (set.next());
      expect(set.errors).toEqual([]);
      return set.registry.list.map((i) => ({ s: i.section, id: i.localId, name: i.name, link: i.linkType, snap: i.snaplen, frames: i.frames, drops: i.drops, os: i.osDrops }));
    };

    it(`${order}: test200, three sections of one interface each: each section's IDB registered anew`, () => {
      expect(ifaces('difficult/test200.pcapng')).toEqual([
        { s: 0, id: 0, name: 'eth0', link: 1, snap: 96, frames: 0, drops: -1, os: -1 },
        { s: 1, id: 0, name: 'eth0', link: 1, snap: 0, frames: 0, drops: -1, os: -1 },
        { s: 2, id: 0, name: 'null1', link: 0, snap: 128, frames: 0, drops: -1, os: -1 },
      ]);
    });

    it(`${order}: test201, ISBs in different sections give drops to that section's interface`, () => {
      expect(ifaces('difficult/test201.pcapng')).toEqual([
        { s: 0, id: 0, name: 'eth0', link: 1, snap: 96, frames: 1, drops: -1, os: -1 },
        { s: 0, id: 1, name: 'null1', link: 0, snap: 0, frames: 0, drops: -1, os: -1 },
        { s: 1, id: 0, name: 'silly ethernet interface 2', link: 1, snap: 128, frames: 2, drops: 10, os: -1 },
        { s: 2, id: 0, name: 'eth0', link: 1, snap: 96, frames: 0, drops: 1, os: 42 },
        { s: 2, id: 1, name: 'null1', link: 0, snap: 0, frames: 1, drops: -1, os: -1 },
      ]);
    });

    it(`${order}: test202, packets are attributed to their own section's interfaces, inputFrame counts packets only`, () => {
      const set = openCapture([file('difficult/test202.pcapng')]);
      const got: [string, number, number][] = [];
      while (set.next()) got.push([set.rec.iface!.name, set.rec.iface!.section, set.rec.inputFrame]);
      expect(got).toEqual([
        ['eth0', 0, 1],
        ['eth0', 0, 2],
        ['null1', 0, 3],
        ['silly ethernet interface 2', 1, 4],
        ['silly ethernet interface 2', 1, 5],
        ['silly ethernet interface 2', 1, 6],
        ['silly ethernet interface 2', 1, 7],
        ['null1', 2, 8],
      ]);
    });

    it(`${order}: test101, the last ISB of an interface holds its totals (isb_ifdrop, isb_osdrop)`, () => {
      const list = ifaces('advanced/test101.pcapng');
      expect(list.map((i) => [i.name, i.drops, i.os])).toEqual([
        ['eth0', 1, 42],
        ['null1', -1, -1],
        ['silly ethernet interface 2', 10, -1],
      ]);
    });

    it(`${order}: test009, epb_dropcount per packet and summed on the interface`, () => {
      const set = openCapture([file('basic/test009.pcapng')]);
      const drops: number[] = [];
      while (set.next()) drops.push(set.rec.dropCount);
      expect(drops).toEqual([0, 12345]);
      expect(set.registry.list[0]!.drops).toBe(12345);
    });
  }

  it.skipIf(!HAS_TSHARK)('agrees with tshark on lengths, timestamps and first-section interface names [needs tshark]', () => {
    for (const file of le) {
      const ours = readAll(file).rows;
      const run = tshark(['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'frame.interface_name', '-e', 'frame.time_epoch', '-e', 'frame.protocols']);
      // tshark 4.0 shows custom blocks as frames of bare data with no interface: drop those rows.
      const theirs = run.stdout
        .split('\n')
        .filter((l) => /^\d+\|/.test(l))
        .map((l) => l.split('|'))
        .filter((t) => !(t[2] === '' && t[4] === 'data'));
      expect(theirs.length, file).toBe(ours.length);
      theirs.forEach((t, i) => {
        expect(Number(t[0]), `${file} #${i + 1} caplen`).toBe(ours[i]!.caplen);
        expect(Number(t[1]), `${file} #${i + 1} len`).toBe(ours[i]!.len);
        // tshark names later sections' interfaces from the first section: compare section 0 only.
        // (tshark shows control characters in names as \r, \n: so does safeText.)
        if (ours[i]!.section === 0) expect(t[2], `${file} #${i + 1} iface`).toBe(safeText(ours[i]!.iface));
        if (t[3] && ours[i]!.ts !== '0.000000') expect(Number(t[3]), `${file} #${i + 1} ts`).toBeCloseTo(Number(ours[i]!.ts), 6);
      });
    }
  });
});
