/**
 * What IPv4 and IPv6 share: the fields both reset on entry, and the IP protocol number → transport
 * decoder table (UDP for both, ICMPv6 for IPv6 only).
 */
import { type DecodedFrame } from './frame.js';
import { decodeUdp } from './udp.js';
import { decodeIcmpv6 } from './icmpv6.js';

export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

export function resetIp(out: DecodedFrame): void {
  out.ipVersion = 0;
  out.ipSrcOff = -1;
  out.ipDstOff = -1;
  out.ipProto = -1;
  out.l4Off = -1;
  out.icmp6Type = -1;
  out.icmp6Code = -1;
  out.ndTargetOff = -1;
  out.udpSrcPort = -1;
  out.udpDstPort = -1;
}

/** p is the first byte after the IP header (and IPv6's extension headers). */
export function decodeL4(b: Uint8Array, p: number, end: number, proto: number, out: DecodedFrame): void {
  out.l4Off = p;
  if (proto === PROTO_UDP) decodeUdp(b, p, end, out);
  else if (proto === PROTO_ICMPV6 && out.ipVersion === 6) decodeIcmpv6(b, p, end, out);
}
