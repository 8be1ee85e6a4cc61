/** IPv6 (RFC 8200): addresses, then the extension-header chain to the transport header (first fragment only). */
import { type DecodedFrame, PK_IPV6, TRUNC_L3, TRUNC_L4, TRUNC_NONE } from './frame.js';
import { u16 } from './bytes.js';
import { decodeL4, resetIp } from './ipproto.js';

const IPV6_HOPOPTS = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DSTOPTS = 60;
/** Extension headers followed at most, so a crafted chain cannot loop long. */
const MAX_EXTENSION_HEADERS = 8;

export function decodeIpv6(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  out.payload = PK_IPV6;
  resetIp(out);
  if (end - p < 40 || b[p]! >> 4 !== 6) {
    out.truncated = end - p < 40 ? TRUNC_L3 : TRUNC_NONE;
    return;
  }
  out.ipVersion = 6;
  out.ipSrcOff = p + 8;
  out.ipDstOff = p + 24;
  let next = b[p + 6]!;
  let q = p + 40;
  for (let hops = 0; hops < MAX_EXTENSION_HEADERS; hops++) {
    if (next === IPV6_HOPOPTS || next === IPV6_ROUTING || next === IPV6_DSTOPTS) {
      if (end - q < 2) {
        out.ipProto = next;
        out.truncated = TRUNC_L4;
        return;
      }
      next = b[q]!;
      q += (b[q + 1]! + 1) * 8;
    } else if (next === IPV6_FRAGMENT) {
      if (end - q < 8) {
        out.ipProto = next;
        out.truncated = TRUNC_L4;
        return;
      }
      const firstFragment = (u16(b, q + 2) & 0xfff8) === 0;
      next = b[q]!;
      q += 8;
      if (!firstFragment) {
        out.ipProto = next;
        return;
      }
    } else break;
  }
  out.ipProto = next;
  if (q > end) {
    out.truncated = TRUNC_L4;
    return;
  }
  decodeL4(b, q, end, next, out);
}
