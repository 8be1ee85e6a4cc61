/**
 * The capture ring's block parser on TPACKET_V3 blocks built here byte for byte as the kernel's
 * tpacket_rcv/prb_close_block lay them out (frames 16-byte aligned, tp_mac where SOCK_RAW with
 * PACKET_RESERVE 4 puts an Ethernet header: 86), and the choice between the ring and cap. No root.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseBackend, parseBackend } from '../../src/capture/live-backend.js';
import {
  BLOCK_HEADER,
  frameCapacity,
  INDEX_STRIDE,
  IX_CAPLEN,
  IX_DIR,
  IX_HATYPE,
  IX_IFINDEX,
  IX_LEN,
  IX_NSEC,
  IX_OFFSET,
  IX_SEC,
  parseBlock,
  TP_STATUS_USER,
  TP_STATUS_VLAN_TPID_VALID,
  TP_STATUS_VLAN_VALID,
} from '../../src/capture/ring/block.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { DIR_IN, DIR_OUT, InterfaceRegistry, PacketRecord } from '../../src/model/record.js';
import { PROJECT_ROOT, ringUnavailable } from '../helpers/tools.js';
import { align16, buildBlock, TP_MAC } from '../helpers/tpacket.js';

/** An Ethernet II frame: dst, src, EtherType, payload. */
function eth(dst: number, src: number, type: number, payload: number[]): Uint8Array {
  const b = new Uint8Array(14 + payload.length);
  for (let i = 0; i < 6; i++) {
    b[i] = (dst / 2 ** (8 * (5 - i))) & 0xff;
    b[6 + i] = (src / 2 ** (8 * (5 - i))) & 0xff;
  }
  b[12] = type >> 8;
  b[13] = type & 0xff;
  b.set(payload, 14);
  return b;
}

function parse(block: Uint8Array) {
  const index = new Uint32Array(frameCapacity(block.length) * INDEX_STRIDE);
  const res = parseBlock(block, index);
  const frames = Array.from({ length: res.frames }, (_, i) => {
    const o = i * INDEX_STRIDE;
    return {
      bytes: [...block.subarray(index[o + IX_OFFSET]!, index[o + IX_OFFSET]! + index[o + IX_CAPLEN]!)],
      caplen: index[o + IX_CAPLEN],
      len: index[o + IX_LEN],
      ifindex: index[o + IX_IFINDEX],
      dir: index[o + IX_DIR],
      sec: index[o + IX_SEC],
      nsec: index[o + IX_NSEC],
      hatype: index[o + IX_HATYPE],
    };
  });
  return { res, frames };
}

const GUEST = 0x00163e000001;
const BCAST = 0xffffffffffff;
const arp = eth(BCAST, GUEST, 0x0806, Array.from({ length: 28 }, (_, i) => i));

describe('TPACKET_V3 block parser', () => {
  it('indexes every frame: ifindex, direction from sll_pkttype, kernel timestamp, lengths, bytes', () => {
    const out = eth(0x525400000001, GUEST, 0x0800, [0x45, 0, 0, 20]);
    const { res, frames } = parse(
      buildBlock([
        { bytes: arp, ifindex: 7, pkttype: 4, sec: 1795684707, nsec: 123456789 }, // PACKET_OUTGOING
        { bytes: arp, ifindex: 3, pkttype: 1, sec: 1795684707, nsec: 123460000 }, // PACKET_BROADCAST
        { bytes: out, ifindex: 2, pkttype: 0, sec: 4000000000, nsec: 999999999, hatype: 772 }, // PACKET_HOST
      ]),
    );
    expect(res).toEqual({ frames: 3, vlanRestored: 0, error: null });
    expect(frames.map((f) => [f.ifindex, f.dir, f.sec, f.nsec, f.caplen, f.len, f.hatype])).toEqual([
      [7, DIR_OUT, 1795684707, 123456789, 42, 42, 1],
      [3, DIR_IN, 1795684707, 123460000, 42, 42, 1],
      // tp_sec past 2038 stays unsigned.
      [2, DIR_IN, 4000000000, 999999999, 18, 18, 772],
    ]);
    expect(frames[0]!.bytes).toEqual([...arp]);
    expect(frames[2]!.bytes).toEqual([...out]);
  });

  it('an empty block (retired by the timer with nothing in it) has no frames and no error', () => {
    expect(parse(buildBlock([])).res).toEqual({ frames: 0, vlanRestored: 0, error: null });
  });

  it('puts a stripped 802.1Q tag back after the MACs, so the decoder sees the frame as on the wire', () => {
    const block = buildBlock([
      { bytes: arp, ifindex: 5, pkttype: 1, sec: 1, nsec: 2, vlan: { tci: (5 << 13) | 100 } }, // no TPID: 0x8100
      { bytes: arp, ifindex: 5, pkttype: 1, sec: 1, nsec: 3, vlan: { tci: 200, tpid: 0x88a8 } },
    ]);
    const { res, frames } = parse(block);
    expect(res.vlanRestored).toBe(2);
    const want = (tpid: number, tci: number): number[] => [...arp.subarray(0, 12), tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff, ...arp.subarray(12)];
    expect(frames[0]!.bytes).toEqual(want(0x8100, (5 << 13) | 100));
    expect(frames[1]!.bytes).toEqual(want(0x88a8, 200));
    expect([frames[0]!.caplen, frames[0]!.len]).toEqual([46, 46]);
    // Through the project's decoder: VLAN 100 (priority 5 is not part of the id), then ARP.
    const reg = new InterfaceRegistry();
    const iface = reg.add({ name: 'vif1.0', description: null, linkType: 1, fcsLen: 0, snaplen: 65535, tsDigits: 9, input: 'live', inputIndex: 0, section: 0, localId: 0 });
    const rec = new PacketRecord();
    const f = new DecodedFrame();
    const index = new Uint32Array(frameCapacity(block.length) * INDEX_STRIDE);
    const again = buildBlock([{ bytes: arp, ifindex: 5, pkttype: 1, sec: 1, nsec: 2, vlan: { tci: (5 << 13) | 100 } }]);
    parseBlock(again, index);
    Object.assign(rec, { buf: again, offset: index[IX_OFFSET], caplen: index[IX_CAPLEN], origLen: index[IX_LEN], iface });
    decodeFrame(rec, f);
    expect([f.vlanCount, f.vlan, f.vlanTpids[0], f.etherType, f.src]).toEqual([1, 100, 0x8100, 0x0806, GUEST]);
  });

  it('a frame cut at the snaplen keeps its wire length; a tag put back adds 4 to both', () => {
    const cut = arp.subarray(0, 20);
    const { frames } = parse(
      buildBlock([
        { bytes: cut, len: 1514, ifindex: 4, pkttype: 0, sec: 1, nsec: 0 },
        { bytes: cut, len: 1514, ifindex: 4, pkttype: 0, sec: 1, nsec: 0, vlan: { tci: 7 } },
        // Too short to hold the MACs: the tag cannot go after them and is not invented.
        { bytes: arp.subarray(0, 10), len: 60, ifindex: 4, pkttype: 0, sec: 1, nsec: 0, vlan: { tci: 7 } },
        // No room before tp_mac (a kernel without PACKET_RESERVE): the header is never overwritten.
        { bytes: arp, ifindex: 9, pkttype: 4, sec: 1, nsec: 0, vlan: { tci: 7 }, mac: 68 },
      ]),
    );
    expect(frames[3]!).toMatchObject({ bytes: [...arp], caplen: 42, len: 42, ifindex: 9, dir: DIR_OUT });
    expect(frames.map((f) => [f.caplen, f.len])).toEqual([
      [20, 1514],
      [24, 1518],
      [10, 60],
      [42, 42],
    ]);
    expect(frames[1]!.bytes.slice(12, 16)).toEqual([0x81, 0x00, 0x00, 0x07]);
  });

  describe('rejects bad offsets, naming the frame and byte, keeping the frames before', () => {
    const two = (): Uint8Array =>
      buildBlock([
        { bytes: arp, ifindex: 1, pkttype: 0, sec: 1, nsec: 0 },
        { bytes: arp, ifindex: 2, pkttype: 0, sec: 1, nsec: 0 },
      ]);
    const second = BLOCK_HEADER + align16(TP_MAC + arp.length);
    const cases: [string, (b: Uint8Array, dv: DataView) => void, number, RegExp][] = [
      ['a block the kernel still owns', (_b, dv) => dv.setUint32(8, 0, true), 0, /block status 0x0 does not say the kernel handed it over/],
      ['blk_len past the copy', (b, dv) => dv.setUint32(20, b.length + 1, true), 0, /blk_len \d+ runs past the block's \d+ bytes/],
      ['the first frame inside the block header', (_b, dv) => dv.setUint32(16, 40, true), 0, /offset_to_first_pkt 40 is inside the block header/],
      ['tp_mac inside the frame header', (_b, dv) => dv.setUint16(second + 24, 60, true), 1, new RegExp(`frame 2 of 2 at byte ${second}: tp_mac 60 points inside the frame's 68-byte header`)],
      ['bytes past blk_len', (_b, dv) => dv.setUint32(second + 12, 4000, true), 1, /frame 2 of 2 at byte \d+: 4000 bytes at tp_mac 86 run past blk_len/],
      ['tp_snaplen above tp_len', (_b, dv) => dv.setUint32(second + 16, 10, true), 1, /tp_snaplen 42 is more than tp_len 10/],
      ['tp_next_offset that does not move on', (_b, dv) => dv.setUint32(BLOCK_HEADER, 0, true), 1, /frame 1 of 2 at byte 48: tp_next_offset 0 does not move past the frame header/],
      // The last frame's tp_next_offset is 0 (prb_close_block): a count past it is caught there.
      ['more frames than the block holds', (_b, dv) => dv.setUint32(12, 3, true), 2, /frame 2 of 3 at byte \d+: tp_next_offset 0 does not move past the frame header/],
      ['a frame header past blk_len', (_b, dv) => dv.setUint32(20, second + 40, true), 1, /frame 2 of 2 at byte \d+: its header runs past blk_len/],
      ['an unaligned first frame', (_b, dv) => dv.setUint32(16, 50, true), 0, /offset_to_first_pkt 50 is not 4-byte aligned/],
      ['an unaligned tp_next_offset', (_b, dv) => dv.setUint32(BLOCK_HEADER, 130, true), 1, /frame 1 of 2 at byte 48: tp_next_offset 130 is not 4-byte aligned/],
      ['num_pkts beyond any block', (_b, dv) => dv.setUint32(12, 0xffffffff, true), 0, /frames do not fit the index/],
    ];
    for (const [what, damage, kept, message] of cases) {
      it(what, () => {
        const b = two();
        damage(b, new DataView(b.buffer));
        const { res, frames } = parse(b);
        expect(res.error).toMatch(/^ring block: /);
        expect(res.error).toMatch(message);
        expect(res.frames).toBe(kept);
        if (kept) expect(frames[0]!.ifindex).toBe(1);
      });
    }
    it('a block shorter than its header', () => {
      expect(parse(new Uint8Array(20)).res.error).toBe('ring block: block of 20 bytes is shorter than its 48-byte header');
    });
  });
});

describe('TPACKET_V3 block parser on damaged blocks (property)', () => {
  it('never throws, and every frame it indexes lies inside the block with caplen <= len', () => {
    const sound = buildBlock([
      { bytes: arp, ifindex: 2, pkttype: 0, sec: 1, nsec: 0 },
      { bytes: arp, ifindex: 3, pkttype: 4, sec: 1, nsec: 1, vlan: { tci: 10 } },
      { bytes: arp.subarray(0, 20), len: 1500, ifindex: 4, pkttype: 1, sec: 1, nsec: 2, vlan: { tci: 20, tpid: 0x88a8 } },
    ]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 24 }), fc.nat(sound.length), (flips, cut) => {
        const b = sound.slice(0, sound.length - cut);
        for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
        const index = new Uint32Array(frameCapacity(b.length) * INDEX_STRIDE);
        const res = parseBlock(b, index);
        expect(res.frames).toBeLessThanOrEqual(3);
        for (let i = 0; i < res.frames; i++) {
          const o = i * INDEX_STRIDE;
          expect(index[o + IX_OFFSET]!).toBeGreaterThanOrEqual(64);
          expect(index[o + IX_OFFSET]! + index[o + IX_CAPLEN]!).toBeLessThanOrEqual(b.length);
          expect(index[o + IX_CAPLEN]!).toBeLessThanOrEqual(index[o + IX_LEN]!);
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});

describe('choosing the live backend', () => {
  it('the ring where it can be set up; cap with the reason in one line where not; cap or ring when asked', () => {
    expect(chooseBackend('auto', null)).toEqual({ backend: 'ring', fallback: null, error: null });
    const fb = chooseBackend('auto', 'the capture ring binding is not built');
    expect(fb.backend).toBe('cap');
    expect(fb.fallback).toMatch(/^live capture uses cap .*: the capture ring binding is not built$/);
    expect(fb.fallback).not.toContain('\n');
    expect(chooseBackend('cap', null)).toEqual({ backend: 'cap', fallback: null, error: null });
    expect(chooseBackend('ring', 'setsockopt(PACKET_VERSION, TPACKET_V3): Invalid argument').error).toBe('--backend ring: setsockopt(PACKET_VERSION, TPACKET_V3): Invalid argument');
    expect([parseBackend(undefined), parseBackend('auto'), parseBackend('ring'), parseBackend('cap'), parseBackend('pcap')]).toEqual(['auto', 'auto', 'ring', 'cap', null]);
  });

  const root = process.getuid?.() === 0;
  it.skipIf(!root)(`without the binding, live says so in one line and captures with cap${root ? '' : ' [skipped: needs root]'}`, () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'live', '-i', 'lo', '--duration', '1', '--no-kernel', '--json'], { encoding: 'utf8', env: { ...process.env, BONDSCOPE_NO_RING: '1' } });
    if (/`cap` module|cap, the fallback, is not built/.test(r.stderr)) {
      // Neither backend here: the error says how to build cap.
      expect(r.status).toBe(2);
      return;
    }
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^bondscope: live capture uses cap \(.*\): the ring is turned off \(BONDSCOPE_NO_RING=1\)$/m);
    expect(r.stderr).toMatch(/cap backend\)/);
    expect(JSON.parse(r.stdout).stats.capture).toMatchObject({ backend: 'cap', kernelDrops: null });
  });
});

const ringWhy = process.getuid?.() !== 0 ? 'needs root' : ringUnavailable();
describe.skipIf(ringWhy !== null)(`live's report says how it captured and what it lost${ringWhy ? ` [skipped: ${ringWhy}]` : ''}`, () => {
  it('the header names the ring and its size, the frames, and the kernel\'s and bondscope\'s drops', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'live', '-i', 'lo', '-B', '8', '--duration', '1', '--no-kernel'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/ring backend\)/);
    expect(r.stdout).toMatch(/^Capture: ring \(one TPACKET_V3 ring for every interface, 8 MiB\)\n {2}\d+ frames; kernel drops 0 \(peak 0\/s\); bondscope drops 0 \(peak 0\/s\)\n/);
  });
});
