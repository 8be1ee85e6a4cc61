/** ICMPv6 (RFC 4443): type and code; for neighbour solicitation/advertisement (RFC 4861) the target address's offset. */
import { type DecodedFrame, TRUNC_L4 } from './frame.js';

const ND_NEIGHBOR_SOLICIT = 135;
const ND_NEIGHBOR_ADVERT = 136;

export function decodeIcmpv6(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < 4) {
    out.truncated = TRUNC_L4;
    return;
  }
  out.icmp6Type = b[p]!;
  out.icmp6Code = b[p + 1]!;
  // The target follows 4 reserved bytes.
  if (out.icmp6Type === ND_NEIGHBOR_SOLICIT || out.icmp6Type === ND_NEIGHBOR_ADVERT) {
    if (end - p < 24) {
      out.truncated = TRUNC_L4;
      return;
    }
    out.ndTargetOff = p + 8;
  }
}
