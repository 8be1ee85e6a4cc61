/** IPv4 (RFC 791): addresses and protocol; the transport header only in the first fragment. */
import { type DecodedFrame, PK_IPV4, TRUNC_L3, TRUNC_NONE } from './frame.js';
import { u16 } from './bytes.js';
import { decodeL4, resetIp } from './ipproto.js';

export function decodeIpv4(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  out.payload = PK_IPV4;
  resetIp(out);
  if (end - p < 20 || b[p]! >> 4 !== 4) {
    out.truncated = end - p < 20 ? TRUNC_L3 : TRUNC_NONE;
    return;
  }
  const ihl = (b[p]! & 0x0f) * 4;
  out.ipVersion = 4;
  out.ipProto = b[p + 9]!;
  out.ipSrcOff = p + 12;
  out.ipDstOff = p + 16;
  if (ihl < 20 || end - p < ihl) {
    out.truncated = TRUNC_L3;
    return;
  }
  // Only the first fragment carries the transport header.
  if ((u16(b, p + 6) & 0x1fff) !== 0) return;
  decodeL4(b, p + ihl, end, out.ipProto, out);
}
