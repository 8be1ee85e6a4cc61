/**
 * Frame identity across observation points: the same frame seen out on eth0, back in on eth1, up
 * through bond0 and flooded to a vif must hash alike. So the key leaves out what differs between
 * points — the destination MAC (absent in Linux cooked captures), VLAN tags (stripped or added on
 * the way), Ethernet padding and the snap length — and covers the source MAC, the EtherType and
 * the first bytes of the L3 packet up to its own length.
 */
import type { DecodedFrame } from '../decode/frame.js';

const HASHED = 40;

/** FNV-1a over the identifying bytes, folded to 30 bits so V8 keeps it a small integer. */
export function frameIdentity(b: Uint8Array, f: DecodedFrame): number {
  let h = 0x811c9dc5;
  const src = f.src;
  h = Math.imul(h ^ (src % 0x1000000), 0x01000193);
  h = Math.imul(h ^ Math.floor(src / 0x1000000), 0x01000193);
  h = Math.imul(h ^ (f.etherType >= 0 ? f.etherType : f.llcLength + 0x10000), 0x01000193);
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
    for (let i = 0; i < n; i++) h = Math.imul(h ^ b[p + i]!, 0x01000193);
  }
  return (h ^ (h >>> 30)) & 0x3fffffff;
}
