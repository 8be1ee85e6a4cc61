/** UDP (RFC 768): the ports, when the 8-byte header was captured. */
import { type DecodedFrame, TRUNC_L4 } from './frame.js';
import { u16 } from './bytes.js';

export function decodeUdp(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < 8) {
    out.truncated = TRUNC_L4;
    return;
  }
  out.udpSrcPort = u16(b, p);
  out.udpDstPort = u16(b, p + 2);
}
