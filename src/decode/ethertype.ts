/**
 * The EtherType (or 802.3 length) that follows the link header and its tags, and the decoder it
 * hands the rest of the frame to: gopacket's EthernetType → LayerType table, as one switch.
 */
import { type DecodedFrame } from './frame.js';
import { decodeArp } from './arp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeLlc } from './llc.js';
import { decodeSlowProtocols } from './slow.js';

export const ETH_VLAN = 0x8100;
export const ETH_QINQ = 0x88a8;
export const ETH_QINQ_OLD = 0x9100;
export const ETH_ARP = 0x0806;
export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_SLOW = 0x8809;
/** Below this a type/length field is an 802.3 length (IEEE 802.3 clause 3.2.6). */
export const ETH_MIN_TYPE = 0x0600;

/** `type` is the EtherType or 802.3 length; p is the first byte after it. */
export function decodeAboveLink(b: Uint8Array, p: number, end: number, type: number, out: DecodedFrame): void {
  out.l3Off = p;
  out.l3Len = end - p;
  if (type < ETH_MIN_TYPE) {
    out.llcLength = type;
    decodeLlc(b, p, end, out);
    return;
  }
  out.etherType = type;
  switch (type) {
    case ETH_ARP:
      decodeArp(b, p, end, out);
      break;
    case ETH_IPV4:
      decodeIpv4(b, p, end, out);
      break;
    case ETH_IPV6:
      decodeIpv6(b, p, end, out);
      break;
    case ETH_SLOW:
      decodeSlowProtocols(b, p, end, out);
      break;
    default:
      break;
  }
}
