/** Ethernet II / 802.3 MAC header: destination, source, then the type/length field and what it leads to. */
import { type DecodedFrame, TRUNC_LINK } from './frame.js';
import { readMac } from '../model/mac.js';
import { u16 } from './bytes.js';
import { decodeTagsFrom } from './vlan.js';

export const ETHERNET_HEADER_LEN = 14;

/** Group bit of the destination; all-ones is broadcast, not multicast. */
function setGroupFlags(b: Uint8Array, out: DecodedFrame): void {
  const p = out.dstOff;
  if (b[p]! & 1) {
    out.isMulticast = true;
    out.isBroadcast = (b[p]! & b[p + 1]! & b[p + 2]! & b[p + 3]! & b[p + 4]! & b[p + 5]!) === 0xff;
    if (out.isBroadcast) out.isMulticast = false;
  }
}

export function decodeEthernet(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < ETHERNET_HEADER_LEN) {
    // Addresses may still be there when the type field is not.
    if (end - p >= 6) {
      out.dstOff = p;
      out.dst = readMac(b, p);
      setGroupFlags(b, out);
    }
    if (end - p >= 12) {
      out.srcOff = p + 6;
      out.src = readMac(b, p + 6);
    }
    out.truncated = TRUNC_LINK;
    return;
  }
  out.dstOff = p;
  out.srcOff = p + 6;
  out.dst = readMac(b, p);
  out.src = readMac(b, p + 6);
  setGroupFlags(b, out);
  decodeTagsFrom(b, u16(b, p + 12), p + ETHERNET_HEADER_LEN, end, out);
}
