/** Slow Protocols (IEEE 802.3 Annex 57A, EtherType 0x8809): subtype 1 is LACP, the only one decoded. */
import { type DecodedFrame, PK_LACP, TRUNC_L3 } from './frame.js';
import { decodeLacp } from './lacp.js';

const SLOW_SUBTYPE_LACP = 1;

export function decodeSlowProtocols(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p >= 1 && b[p] === SLOW_SUBTYPE_LACP) {
    out.payload = PK_LACP;
    if (!decodeLacp(b, p, end, out.lacp)) out.truncated = TRUNC_L3;
  } else if (end - p < 1) out.truncated = TRUNC_L3;
}
