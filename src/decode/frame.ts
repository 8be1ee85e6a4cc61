/**
 * What the decoder learns about one frame, written into one preallocated object per pipeline
 * (gopacket's DecodingLayerParser style): decoding allocates nothing. Offsets point into the
 * record's `buf`; -1 means "not present" (or cut off by the snap length).
 * MAC addresses are 48-bit integers held in a double (exact): hi16 * 2^32 + lo32.
 * The link-layer fields are always current. Deeper layers' fields are current only when the frame
 * reached that layer: LLC/SNAP when llcLength >= 0 (or payload is PK_LLC/PK_STP), ARP when payload
 * is PK_ARP, IP and L4 when payload is PK_IPV4/PK_IPV6; otherwise they hold an earlier frame's values.
 */

import { Bpdu } from './stp.js';
import { Lacpdu } from './lacp.js';

/** What the frame carries above the link layer, as far as the decoder went. */
export type PayloadKind = number;
export const PK_OTHER = 0;
export const PK_ARP = 1;
export const PK_IPV4 = 2;
export const PK_IPV6 = 3;
/** 802.3 + LLC 42/42 to 01:80:c2:00:00:00, or PVST+ over SNAP. */
export const PK_STP = 4;
/** EtherType 0x8809 subtype 1. */
export const PK_LACP = 5;
/** 802.3 frame with LLC/SNAP that is none of the above. */
export const PK_LLC = 6;

/** Decoding stopped early: the snap length (caplen) cut the frame before a header's end. */
export const TRUNC_NONE = 0;
export const TRUNC_LINK = 1;
export const TRUNC_VLAN = 2;
export const TRUNC_L3 = 3;
export const TRUNC_L4 = 4;

/** Linux SLL/SLL2 packet types (if_packet.h): 0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing. */
export const SLL_HOST = 0;
export const SLL_BROADCAST = 1;
export const SLL_MULTICAST = 2;
export const SLL_OTHERHOST = 3;
export const SLL_OUTGOING = 4;

export const MAX_VLAN_DEPTH = 8;

export class DecodedFrame {
  /** True when the link type was one the decoder knows (Ethernet, SLL, SLL2); else only counted. */
  supported = false;
  truncated = TRUNC_NONE;

  /** Destination MAC, or -1 where the link layer has none (SLL). */
  dst = -1;
  /** Source MAC (link-layer address), or -1 when absent or not 6 bytes long. */
  src = -1;
  /** Offset of the destination MAC in buf, -1 when absent. */
  dstOff = -1;
  srcOff = -1;

  /** VLAN tags outermost first: ids (12 bits) and TPIDs (0x8100, 0x88a8, 0x9100). */
  vlanCount = 0;
  readonly vlanIds = new Uint16Array(MAX_VLAN_DEPTH);
  readonly vlanTpids = new Uint16Array(MAX_VLAN_DEPTH);
  /** Innermost VLAN id, or 0 for untagged: the key the MAC table uses. */
  vlan = 0;

  /** EtherType after all tags; for 802.3 frames the length field is in `llcLength` and this is -1. */
  etherType = -1;
  /** 802.3 length field, -1 for Ethernet II. */
  llcLength = -1;
  /** LLC DSAP/SSAP/control, -1 when absent. SNAP OUI and PID when DSAP=SSAP=0xAA. */
  llcDsap = -1;
  llcSsap = -1;
  llcControl = -1;
  snapOui = -1;
  snapPid = -1;

  /** Linux cooked capture: packet type (SLL_*), -1 elsewhere; SLL2 interface index, -1 elsewhere. */
  sllPacketType = -1;
  sllIfIndex = -1;
  /** Link-layer frame direction the link header itself tells (SLL: 4 = out, 0..3 = in), 0 if not. */
  linkDirection: 0 | 1 | 2 = 0;
  /** Destination is broadcast / group address (from the MAC, or from the SLL packet type). */
  isBroadcast = false;
  isMulticast = false;

  /** Offset of the bytes that follow the link header and tags (the L3 header), and how many are captured. */
  l3Off = -1;
  l3Len = 0;
  payload: PayloadKind = PK_OTHER;

  /** ARP: operation, and offsets of sender/target hardware and protocol addresses (IPv4 over Ethernet only). */
  arpOp = -1;
  arpShaOff = -1;
  arpSpaOff = -1;
  arpThaOff = -1;
  arpTpaOff = -1;

  /** IPv4/IPv6: version 4 or 6 (0 when none), offsets of the addresses, next protocol, L4 offset. */
  ipVersion = 0;
  ipSrcOff = -1;
  ipDstOff = -1;
  ipProto = -1;
  l4Off = -1;

  /** ICMPv6 type/code (-1 when none); for neighbour solicitation/advertisement the target address offset. */
  icmp6Type = -1;
  icmp6Code = -1;
  ndTargetOff = -1;

  /** UDP ports, -1 when not UDP. */
  udpSrcPort = -1;
  udpDstPort = -1;

  /** The BPDU when payload is PK_STP, the LACPDU when PK_LACP (preallocated, reused per frame). */
  readonly bpdu = new Bpdu();
  readonly lacp = new Lacpdu();
}
