/**
 * The decoder against tshark on every Ethernet and Linux-cooked capture of tcpdump's test suite:
 * frame count and, frame by frame, length, captured length, source and destination MAC and the
 * VLAN ids. tshark runs here, in the test; its output is never committed.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame, formatMac, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL } from '../../src/decode/index.js';
import { CORPUS, HAS_TSHARK } from '../helpers/tools.js';

const run = promisify(execFile);
const DIR = join(CORPUS, 'tcpdump-tests');

interface Ours {
  linkType: number;
  rows: { len: number; caplen: number; src: string; dst: string; vlans: string[] }[];
}

function decodeFile(file: string): Ours {
  const set = openCapture([file]);
  const f = new DecodedFrame();
  const rows: Ours['rows'] = [];
  let linkType = -1;
  while (set.next()) {
    const r = set.rec;
    linkType = r.iface!.linkType;
    decodeFrame(r, f);
    rows.push({
      len: r.origLen,
      caplen: r.caplen,
      src: f.src >= 0 ? formatMac(f.src) : '',
      dst: f.dst >= 0 ? formatMac(f.dst) : '',
      vlans: Array.from(f.vlanIds.subarray(0, f.vlanCount), String),
    });
  }
  return { linkType, rows };
}

async function tsharkRows(file: string, linkType: number): Promise<string[][]> {
  const src = linkType === LINKTYPE_ETHERNET ? 'eth.src' : 'sll.src.eth';
  const { stdout } = await run(
    'tshark',
    ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', src, '-e', 'eth.dst', '-e', 'ieee8021ad.id', '-e', 'vlan.id'],
    { maxBuffer: 1 << 28 },
  );
  return stdout.split('\n').filter(Boolean).map((l) => l.split('|'));
}

const list = (s: string | undefined): string[] => (s ? s.split(',') : []);

describe.skipIf(!HAS_TSHARK)('decoder vs tshark on tcpdump’s test captures [needs tshark]', () => {
  it('every Ethernet and SLL frame: count, len, caplen, src, dst and VLAN ids agree', { timeout: 600_000 }, async () => {
    const files = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f));
    const work = files.map((name) => ({ name, ours: decodeFile(join(DIR, name)) })).filter((w) => w.ours.linkType === LINKTYPE_ETHERNET || w.ours.linkType === LINKTYPE_LINUX_SLL);
    let frames = 0;
    // Two tshark processes at a time: one per core.
    for (let i = 0; i < work.length; i += 2) {
      const batch = work.slice(i, i + 2);
      const outs = await Promise.all(batch.map((w) => tsharkRows(join(DIR, w.name), w.ours.linkType)));
      batch.forEach((w, k) => {
        const theirs = outs[k]!;
        expect(theirs.length, `${w.name}: frame count`).toBe(w.ours.rows.length);
        w.ours.rows.forEach((o, j) => {
          const t = theirs[j]!;
          const at = `${w.name} frame ${j + 1}`;
          expect(Number(t[0]), `${at} len`).toBe(o.len);
          expect(Number(t[1]), `${at} caplen`).toBe(o.caplen);
          const srcs = list(t[2]);
          const dsts = list(t[3]);
          // Tunnels (GRE/ERSPAN, VXLAN…) carry inner Ethernet frames: tshark lists their fields too, after the outer ones.
          expect(srcs[0] ?? '', `${at} src`).toBe(o.src);
          if (w.ours.linkType === LINKTYPE_ETHERNET) expect(dsts[0] ?? '', `${at} dst`).toBe(o.dst);
          // tshark files 802.1ad S-tags under ieee8021ad.id and 802.1Q tags under vlan.id.
          const tags = [...list(t[4]), ...list(t[5])];
          if (srcs.length > 1) expect(tags.slice(0, o.vlans.length), `${at} vlan (outer frame of a tunnel)`).toEqual(o.vlans);
          else expect(tags, `${at} vlan`).toEqual(o.vlans);
        });
        frames += w.ours.rows.length;
      });
    }
    expect(work.length).toBeGreaterThan(300);
    expect(frames).toBeGreaterThan(7000);
  });
});
