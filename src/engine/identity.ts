/**
 * Frame identity across observation points: the same frame seen out on eth0, back in on eth1, up
 * through bond0 and flooded to a vif must hash alike. So the key leaves out what differs between
 * points — the destination MAC (absent in Linux cooked captures), VLAN tags (stripped or added on
 * the way), Ethernet padding and the snap length — and covers the source MAC, the EtherType and
 * the first bytes of the L3 packet up to its own length.
 */
import type { DecodedFrame } from '../decode/frame.js';

const HASHED = 40;

/**
 * A frame's identity: two independent 32-bit hashes of the identifying bytes, taken four bytes at
 * a time (byte-at-a-time FNV was a fifth of the grouping time). `key` is folded to 30 bits so V8
 * keeps it a small integer, for maps and indexes; `check` tells apart the frames whose keys
 * collide, which among the tens of thousands of frames in one window happens (a 30-bit key alone
 * merged two different ARP requests into a frame and its echo). One object per user, reused.
 */
export class FrameIdentity {
  key = 0;
  check = 0;

  of(b: Uint8Array, f: DecodedFrame): this {
    const src = f.src;
    // The MAC as two int32s (ToInt32 keeps its low 32 bits): no floating-point modulo.
    const lo = src | 0;
    const hi = (src / 0x100000000) | 0;
    const type = f.etherType >= 0 ? f.etherType : f.llcLength + 0x10000;
    let h = mix(mix(mix(0x811c9dc5, lo), hi), type);
    let g = mix2(mix2(mix2(0x2545f491, lo), hi), type);
    let n = f.l3Len < HASHED ? f.l3Len : HASHED;
    const p = f.l3Off;
    if (p >= 0 && n > 0) {
      // The packet's own length, so padding after it never counts.
      if (f.etherType === 0x0806) n = n < 28 ? n : 28;
      else if (f.etherType === 0x0800 && f.l3Len >= 4) {
        const total = (b[p + 2]! << 8) | b[p + 3]!;
        if (total < n) n = total;
      } else if (f.etherType === 0x86dd && f.l3Len >= 6) {
        const total = 40 + ((b[p + 4]! << 8) | b[p + 5]!);
        if (total < n) n = total;
      }
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const w = (b[p + i]! << 24) | (b[p + i + 1]! << 16) | (b[p + i + 2]! << 8) | b[p + i + 3]!;
        h = mix(h, w);
        g = mix2(g, w);
      }
      // The last one to three bytes, with their count so that "ab" and "ab\0" differ.
      let tail = n - i;
      for (; i < n; i++) tail = (tail << 8) | b[p + i]!;
      h = mix(h, tail);
      g = mix2(g, tail);
    }
    this.key = finish(h) & 0x3fffffff;
    this.check = finish(g ^ n);
    return this;
  }
}

/** MurmurHash3's block step. */
function mix(h: number, word: number): number {
  const k = Math.imul(word, 0xcc9e2d51);
  h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}

/** A second, independent step (other multipliers and rotations) for `check`. */
function mix2(h: number, word: number): number {
  const k = Math.imul(word ^ (word >>> 16), 0x7feb352d);
  h ^= Math.imul((k << 11) | (k >>> 21), 0x846ca68b);
  return (Math.imul((h << 17) | (h >>> 15), 9) + 0x52dce729) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
