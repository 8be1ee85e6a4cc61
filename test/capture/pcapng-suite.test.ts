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
