/**
 * The decode stage's public surface: `decodeFrame(rec, out)` fills one preallocated DecodedFrame
 * from a record view. One decoder per protocol, one file each (gopacket's layers/): ethernet, vlan,
 * ethertype (the EtherType → decoder table), llc (+ stp), arp, ipv4, ipv6, ipproto (the protocol →
 * transport table), udp, icmpv6, slow (+ lacp), sll (v1 and v2). Each is `decodeX(bytes, offset,
 * end, out)` in DecodeFromBytes's manner: it checks the captured length before every read, sets
 * its layer's fields, flags `out.truncated` with its layer's TRUNC_* where the capture cut its
 * header, and hands the rest to the next layer's decoder. Nothing is allocated.
 */
import type { PacketRecord } from '../model/record.js';
import { type DecodedFrame, PK_OTHER, TRUNC_NONE } from './frame.js';
import { decodeEthernet } from './ethernet.js';
import { decodeSll, decodeSll2 } from './sll.js';

export { DecodedFrame } from './frame.js';
export * from './frame.js';
export { formatMac, parseMac, readMac, isGroupMac, BROADCAST_MAC } from '../model/mac.js';
export * from './stp.js';
export * from './lacp.js';
export { decodeEthernet } from './ethernet.js';
export { decodeSll, decodeSll2 } from './sll.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

/**
 * Resets what every frame sets or tests. Fields of deeper layers (LLC, ARP, IP, L4) are reset by
 * their own decoder on entry and are meaningful only when `payload` (or llcLength) says the frame
 * reached that layer: resetting all forty fields per frame cost a fifth of the decode time.
 */
function reset(out: DecodedFrame): void {
  out.supported = false;
  out.truncated = TRUNC_NONE;
  out.dst = -1;
  out.src = -1;
  out.dstOff = -1;
  out.srcOff = -1;
  out.vlanCount = 0;
  out.vlan = 0;
  out.etherType = -1;
  out.llcLength = -1;
  out.sllPacketType = -1;
  out.sllIfIndex = -1;
  out.linkDirection = 0;
  out.isBroadcast = false;
  out.isMulticast = false;
  out.l3Off = -1;
  out.l3Len = 0;
  out.payload = PK_OTHER;
}

/**
 * Bytes of the record that are the frame, from its start: FCS bytes (when the file says they are
 * there) are not payload. A record whose original length is below its captured length (a writer
 * that got it wrong: 0, or the length of a header) is decoded from the bytes captured, as tshark
 * does; its FCS, if any, is then taken to end what was captured.
 */
export function frameBytes(rec: PacketRecord): number {
  const fcs = rec.iface!.fcsLen;
  return Math.max(0, rec.origLen >= rec.caplen ? Math.min(rec.caplen, rec.origLen - fcs) : rec.caplen - fcs);
}

/** Decodes rec's bytes by its interface's link type. */
export function decodeFrame(rec: PacketRecord, out: DecodedFrame): void {
  reset(out);
  const iface = rec.iface!;
  const end = rec.offset + frameBytes(rec);
  const b = rec.buf;
  switch (iface.linkType) {
    case LINKTYPE_ETHERNET:
      out.supported = true;
      decodeEthernet(b, rec.offset, end, out);
      break;
    case LINKTYPE_LINUX_SLL:
      out.supported = true;
      decodeSll(b, rec.offset, end, out);
      break;
    case LINKTYPE_LINUX_SLL2:
      out.supported = true;
      decodeSll2(b, rec.offset, end, out);
      break;
    default:
      break;
  }
}

