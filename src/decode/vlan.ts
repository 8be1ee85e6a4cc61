/**
 * 802.1Q / 802.1ad VLAN tags (TPID 0x8100, 0x88a8 and the pre-standard 0x9100), stacked to any
 * depth: the first MAX_VLAN_DEPTH are kept, outermost first; the innermost id is the MAC table's key.
 */
import { type DecodedFrame, MAX_VLAN_DEPTH, TRUNC_VLAN } from './frame.js';
import { u16 } from './bytes.js';
import { decodeAboveLink, ETH_QINQ, ETH_QINQ_OLD, ETH_VLAN } from './ethertype.js';

/** From a type/length field `type` followed by byte p: VLAN tags at any depth, then 802.3/LLC or the EtherType's payload. */
export function decodeTagsFrom(b: Uint8Array, type: number, p: number, end: number, out: DecodedFrame): void {
  while (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
    if (end - p < 4) {
      out.truncated = TRUNC_VLAN;
      return;
    }
    const n = out.vlanCount;
    if (n < MAX_VLAN_DEPTH) {
      out.vlanIds[n] = u16(b, p) & 0x0fff;
      out.vlanTpids[n] = type;
      out.vlanCount = n + 1;
      out.vlan = u16(b, p) & 0x0fff;
    }
    type = u16(b, p + 2);
    p += 4;
  }
  decodeAboveLink(b, p, end, type, out);
}
