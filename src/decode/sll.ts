/**
 * Linux cooked captures (tcpdump -i any): SLL v1 (LINKTYPE 113) and SLL2 (276). No destination MAC;
 * the packet type says in/out and broadcast/multicast, SLL2 adds the interface index.
 */
import { type DecodedFrame, SLL_BROADCAST, SLL_MULTICAST, SLL_OUTGOING, TRUNC_LINK } from './frame.js';
import { readMac } from '../model/mac.js';
import { u16, u32 } from './bytes.js';
import { decodeLlc } from './llc.js';
import { decodeTagsFrom } from './vlan.js';
import { ETH_MIN_TYPE } from './ethertype.js';

const SLL_HEADER_LEN = 16;
const SLL2_HEADER_LEN = 20;
const LINUX_SLL_P_802_3 = 0x0001;
const LINUX_SLL_P_802_2 = 0x0004;
const ARPHRD_NETLINK = 824;

/** Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
export function decodeSll(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < SLL_HEADER_LEN) {
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
  decodeSllProtocol(b, p + SLL_HEADER_LEN, end, u16(b, p + 14), hatype, out);
}

/** Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes. */
export function decodeSll2(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
  if (end - p < SLL2_HEADER_LEN) {
    out.truncated = TRUNC_LINK;
    return;
  }
  out.sllIfIndex = u32(b, p + 4);
  const hatype = u16(b, p + 8);
  setSllPacketType(b[p + 10]!, out);
  const halen = b[p + 11]!;
  if (halen === 6) {
    out.srcOff = p + 12;
    out.src = readMac(b, p + 12);
  }
  decodeSllProtocol(b, p + SLL2_HEADER_LEN, end, u16(b, p), hatype, out);
}

function setSllPacketType(t: number, out: DecodedFrame): void {
  out.sllPacketType = t;
  out.linkDirection = t === SLL_OUTGOING ? 2 : t <= 3 ? 1 : 0;
  out.isBroadcast = t === SLL_BROADCAST;
  out.isMulticast = t === SLL_MULTICAST;
}

function decodeSllProtocol(b: Uint8Array, p: number, end: number, proto: number, hatype: number, out: DecodedFrame): void {
  if (hatype === ARPHRD_NETLINK) return;
  if (proto === LINUX_SLL_P_802_2) {
    out.l3Off = p;
    out.l3Len = end - p;
    decodeLlc(b, p, end, out);
    return;
  }
  if (proto === LINUX_SLL_P_802_3 || proto < ETH_MIN_TYPE) return; // Novell raw 802.3 and other non-Ethernet payloads
  // libpcap puts tags the kernel stripped back in: the protocol field is then the TPID.
  decodeTagsFrom(b, proto, p, end, out);
}
