/**
 * Frame identity on the real loop recording (every interface of the host in one pcapng, and the
 * same run as per-interface pcaps): copies of one frame seen at different points — out on a
 * slave, back in on the other, up the bond, on the bridge — hash alike, and frames with different
 * identifying bytes never share both hashes. The oracle is the identifying content itself, built
 * here from the bytes: source MAC, EtherType, and the L3 packet up to its own length (at most 40
 * bytes), leaving out what differs between points (destination, VLAN tags, padding).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame, formatMac } from '../../src/decode/index.js';
import { FrameIdentity } from '../../src/engine/identity.js';
import { arpRequest, ethernet, pcapFile, type PcapRecord } from '../fuzz/pcap-file.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const LOOP = join(PROJECT_ROOT, 'captures/loop');

function content(b: Uint8Array, f: DecodedFrame): string {
  let n = Math.min(f.l3Len, 40);
  const p = f.l3Off;
  if (f.etherType === 0x0806) n = Math.min(n, 28);
  if (f.etherType === 0x0800 && f.l3Len >= 4) n = Math.min(n, (b[p + 2]! << 8) | b[p + 3]!);
  if (f.etherType === 0x86dd && f.l3Len >= 6) n = Math.min(n, 40 + ((b[p + 4]! << 8) | b[p + 5]!));
  const bytes = p >= 0 && n > 0 ? Buffer.from(b.subarray(p, p + n)).toString('hex') : '';
  return `${formatMac(f.src)} ${f.etherType >= 0 ? f.etherType : `llc${f.llcLength}`} ${bytes}`;
}

function identities(files: string[]): { byContent: Map<string, Set<string>>; copies: number } {
  const set = openCapture(files);
  const f = new DecodedFrame();
  const id = new FrameIdentity();
  const byContent = new Map<string, Set<string>>();
  let copies = 0;
  while (set.next()) {
    decodeFrame(set.rec, f);
    if (!f.supported || f.src < 0) continue;
    id.of(set.rec.buf, f);
    const c = content(set.rec.buf, f);
    const seen = byContent.get(c);
    if (seen) copies++;
    byContent.set(c, (seen ?? new Set()).add(`${id.key}/${id.check}`));
  }
  return { byContent, copies };
}

describe('FrameIdentity on the loop recording', () => {
  for (const [name, files] of [
    ['loop.pcapng (all interfaces)', [join(LOOP, 'loop.pcapng')]],
    ['eth0, eth1, bond0 as separate pcaps', ['eth0.pcap', 'eth1.pcap', 'bond0.pcap'].map((n) => join(LOOP, n))],
  ] as const) {
    it(`${name}: one identity per content, and no two contents share one`, () => {
      const { byContent, copies } = identities([...files]);
      // The recording has the loop in it: many frames are seen at several points.
      expect(copies).toBeGreaterThan(100);
      const owner = new Map<string, string>();
      for (const [c, ids] of byContent) {
        expect([...ids], c).toHaveLength(1);
        const both = [...ids][0]!;
        expect(owner.get(both), `${c} and ${owner.get(both)} share ${both}`).toBeUndefined();
        owner.set(both, c);
      }
    });
  }
});

describe('FrameIdentity on built frames', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bondscope-identity-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, recs: PcapRecord[]): string => {
    const path = join(dir, name);
    writeFileSync(path, pcapFile(recs));
    return path;
  };
  const all = (path: string): { key: number; check: number }[] => {
    const set = openCapture([path]);
    const f = new DecodedFrame();
    const id = new FrameIdentity();
    const out: { key: number; check: number }[] = [];
    while (set.next()) {
      decodeFrame(set.rec, f);
      id.of(set.rec.buf, f);
      out.push({ key: id.key, check: id.check });
    }
    return out;
  };
  const GUEST = 0x00163e000001;

  it('a frame is the same frame sent unpadded, padded on the wire, VLAN-tagged, or to another destination', () => {
    const arp = arpRequest(GUEST, 0xc6336401, 0xc6336402);
    const bare = new Uint8Array(42);
    bare.set(ethernet(0xffffffffffff, GUEST, 0x0806, arp).subarray(0, 42));
    const padded = ethernet(0xffffffffffff, GUEST, 0x0806, arp); // 60 bytes, zero padding
    const junk = padded.slice();
    junk.fill(0xaa, 42); // padding some NICs fill with garbage
    const tagged = new Uint8Array(64);
    tagged.set(padded.subarray(0, 12));
    tagged.set([0x81, 0x00, 0x00, 0x0a], 12);
    tagged.set(padded.subarray(12), 16);
    const unicast = ethernet(0x525400000009, GUEST, 0x0806, arp);
    const ids = all(file('same.pcap', [bare, padded, junk, tagged, unicast].map((data, i) => ({ sec: 1, frac: i, data }))));
    for (const x of ids) expect(x).toEqual(ids[0]);
  });

  it('200 000 different ARP requests: 30-bit keys collide, key and check together never do', () => {
    const n = 200_000;
    const recs: PcapRecord[] = [];
    for (let i = 0; i < n; i++) recs.push({ sec: 1, frac: 0, data: ethernet(0xffffffffffff, GUEST, 0x0806, arpRequest(GUEST, i, i + 1)) });
    const ids = all(file('many.pcap', recs));
    const keys = new Set(ids.map((x) => x.key));
    const both = new Set(ids.map((x) => `${x.key}/${x.check}`));
    // About n²/2^31 ≈ 19 key collisions are expected by chance; without `check` each would merge two frames.
    expect(keys.size).toBeLessThan(n);
    expect(both.size).toBe(n);
  });
});
