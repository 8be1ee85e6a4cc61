/**
 * The decode stage's public surface: `decodeFrame(rec, out)` fills one preallocated DecodedFrame
 * from a record view, one small decoder per protocol (gopacket's layering), each checking the
 * captured length before it reads and recording where truncation stopped it. Nothing is allocated.
 */
import type { PacketRecord } from '../model/record.js';
import {
  type DecodedFrame,
  MAX_VLAN_DEPTH,
  PK_ARP,
  PK_IPV4,
  PK_IPV6,
  PK_LACP,
  PK_LLC,
  PK_OTHER,
  PK_STP,
  SLL_BROADCAST,
  SLL_MULTICAST,
  SLL_OUTGOING,
  TRUNC_L3,
  TRUNC_L4,
  TRUNC_LINK,
  TRUNC_NONE,
  TRUNC_VLAN,
} from './frame.js';
import { readMac } from '../model/mac.js';
import { decodeBpdu } from './stp.js';
import { decodeLacp } from './lacp.js';

export { DecodedFrame } from './frame.js';
export * from './frame.js';
export { formatMac, parseMac, readMac, isGroupMac, BROADCAST_MAC } from '../model/mac.js';
export * from './stp.js';
export * from './lacp.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_ARP = 0x0806;
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_SLOW = 0x8809;
const ARPHRD_ETHER = 1;

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

function resetLlc(out: DecodedFrame): void {
  out.llcDsap = -1;
  out.llcSsap = -1;
  out.llcControl = -1;
  out.snapOui = -1;
  out.snapPid = -1;
}

function resetIp(out: DecodedFrame): void {
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

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function setGroupFlags(b: Uint8Array, out: DecodedFrame): void {
  const p = out.dstOff;
  if (b[p]! & 1) {
    out.isMulticast = true;
    out.isBroadcast = (b[p]! & b[p + 1]! & b[p + 2]! & b[p + 3]! & b[p + 4]! & b[p + 5]!) === 0xff;
    if (out.isBroadcast) out.isMulticast = false;
  }
}

export function decodeEthernet(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < 14) {
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
  decodeTagsFrom(b, u16(b, p + 12), p + 14, end, out);
}

/** From a type/length field `type` followed by byte p: VLAN tags at any depth, then 802.3/LLC or the EtherType's payload. */
function decodeTagsFrom(b: Uint8Array, type: number, p: number, end: number, out: DecodedFrame): void {
  while (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
    if (end - p < 4) {
      out.truncated = TRUNC_VLAN;
      return;
    }
    const n = out.vlanCount;
    if (n < MAX_VLAN_DEPTH) {
      out.vlanIds[n] = u16(b, p) & 0x0fff;
      out.vlanTpids[n] = type;
      out.vlanCount = n + 1;
      out.vlan = u16(b, p) & 0x0fff;
    }
    type = u16(b, p + 2);
    p += 4;
  }
  decodeAboveLink(b, p, end, type, out);
}

/** `type` is the EtherType or 802.3 length; p is the first byte after it. */
function decodeAboveLink(b: Uint8Array, p: number, end: number, type: number, out: DecodedFrame): void {
  out.l3Off = p;
  out.l3Len = end - p;
  if (type < 0x0600) {
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
      if (end - p >= 1 && b[p] === 1) {
        out.payload = PK_LACP;
        if (!decodeLacp(b, p, end, out.lacp)) out.truncated = TRUNC_L3;
      } else if (end - p < 1) out.truncated = TRUNC_L3;
      break;
    default:
      break;
  }
}

function decodeLlc(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  resetLlc(out);
  if (end - p < 3) {
    out.truncated = TRUNC_L3;
    return;
  }
  // The 802.3 length bounds the LLC payload: what follows it is Ethernet padding, not BPDU or TLVs.
  // A length past the captured end means the capture cut the payload, whatever its decoder makes of the rest.
  const llcEnd = out.llcLength >= 3 && p + out.llcLength < end ? p + out.llcLength : end;
  const llcCut = out.llcLength >= 0 && p + out.llcLength > end;
  out.llcDsap = b[p]!;
  out.llcSsap = b[p + 1]!;
  out.llcControl = b[p + 2]!;
  out.payload = PK_LLC;
  if (out.llcDsap === 0x42 && out.llcSsap === 0x42) {
    out.payload = PK_STP;
    if ((!decodeBpdu(b, p + 3, llcEnd, false, out.bpdu) && llcEnd === end) || llcCut) out.truncated = TRUNC_L3;
    return;
  }
  if (out.llcDsap === 0xaa && out.llcSsap === 0xaa) {
    if (end - p < 8) {
      out.truncated = TRUNC_L3;
      return;
    }
    out.snapOui = (b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!;
    out.snapPid = u16(b, p + 6);
    // Cisco PVST+ BPDUs ride SNAP 00:00:0c / 0x010b.
    if (out.snapOui === 0x00000c && out.snapPid === 0x010b) {
      out.payload = PK_STP;
      if ((!decodeBpdu(b, p + 8, llcEnd, true, out.bpdu) && llcEnd === end) || llcCut) out.truncated = TRUNC_L3;
    }
  }
}

function decodeArp(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  out.payload = PK_ARP;
  out.arpOp = -1;
  out.arpShaOff = -1;
  out.arpSpaOff = -1;
  out.arpThaOff = -1;
  out.arpTpaOff = -1;
  if (end - p < 8) {
    out.truncated = TRUNC_L3;
    return;
  }
  out.arpOp = u16(b, p + 6);
  // Only Ethernet/IPv4 ARP has the fixed layout the summaries and detectors use.
  if (u16(b, p) !== ARPHRD_ETHER || u16(b, p + 2) !== ETH_IPV4 || b[p + 4] !== 6 || b[p + 5] !== 4) return;
  if (end - p < 28) {
    out.truncated = TRUNC_L3;
    return;
  }
  out.arpShaOff = p + 8;
  out.arpSpaOff = p + 14;
  out.arpThaOff = p + 18;
  out.arpTpaOff = p + 24;
}

function decodeIpv4(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
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

const IPV6_HOPOPTS = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DSTOPTS = 60;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;

function decodeIpv6(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
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
  // Extension headers, bounded so a crafted chain cannot loop long.
  for (let hops = 0; hops < 8; hops++) {
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

function decodeL4(b: Uint8Array, p: number, end: number, proto: number, out: DecodedFrame): void {
  out.l4Off = p;
  if (proto === PROTO_UDP) {
    if (end - p < 8) {
      out.truncated = TRUNC_L4;
      return;
    }
    out.udpSrcPort = u16(b, p);
    out.udpDstPort = u16(b, p + 2);
  } else if (proto === PROTO_ICMPV6 && out.ipVersion === 6) {
    if (end - p < 4) {
      out.truncated = TRUNC_L4;
      return;
    }
    out.icmp6Type = b[p]!;
    out.icmp6Code = b[p + 1]!;
    // Neighbour solicitation (135) / advertisement (136): the target follows 4 reserved bytes.
    if (out.icmp6Type === 135 || out.icmp6Type === 136) {
      if (end - p < 24) {
        out.truncated = TRUNC_L4;
        return;
      }
      out.ndTargetOff = p + 8;
    }
  }
}

/** Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
export function decodeSll(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < 16) {
    out.truncated = TRUNC_LINK;
    return;
  }
  setSllPacketType(u16(b, p), out);
  const hatype = u16(b, p + 2);
  const halen = u16(b, p + 4);
  if (halen === 6) {
    out.srcOff = p + 6;
    out.src = readMac(b, p + 6);
  }
  decodeSllProtocol(b, p + 16, end, u16(b, p + 14), hatype, out);
}

/** Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes. */
export function decodeSll2(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < 20) {
    out.truncated = TRUNC_LINK;
    return;
  }
  out.sllIfIndex = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
  const hatype = u16(b, p + 8);
  setSllPacketType(b[p + 10]!, out);
  const halen = b[p + 11]!;
  if (halen === 6) {
    out.srcOff = p + 12;
    out.src = readMac(b, p + 12);
  }
  decodeSllProtocol(b, p + 20, end, u16(b, p), hatype, out);
}

function setSllPacketType(t: number, out: DecodedFrame): void {
  out.sllPacketType = t;
  out.linkDirection = t === SLL_OUTGOING ? 2 : t <= 3 ? 1 : 0;
  out.isBroadcast = t === SLL_BROADCAST;
  out.isMulticast = t === SLL_MULTICAST;
}

const LINUX_SLL_P_802_3 = 0x0001;
const LINUX_SLL_P_802_2 = 0x0004;
const ARPHRD_NETLINK = 824;

function decodeSllProtocol(b: Uint8Array, p: number, end: number, proto: number, hatype: number, out: DecodedFrame): void {
  if (hatype === ARPHRD_NETLINK) return;
  if (proto === LINUX_SLL_P_802_2) {
    out.l3Off = p;
    out.l3Len = end - p;
    decodeLlc(b, p, end, out);
    return;
  }
  if (proto === LINUX_SLL_P_802_3 || proto < 0x0600) return; // Novell raw 802.3 and other non-Ethernet payloads
  // libpcap puts tags the kernel stripped back in: the protocol field is then the TPID.
  decodeTagsFrom(b, proto, p, end, out);
}
