/** ARP (RFC 826): the operation always; the address offsets only for Ethernet/IPv4 ARP, the fixed layout summaries and detectors use. */
import { type DecodedFrame, PK_ARP, TRUNC_L3 } from './frame.js';
import { u16 } from './bytes.js';

const ARPHRD_ETHER = 1;
const ARP_PTYPE_IPV4 = 0x0800;

export function decodeArp(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
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
  if (u16(b, p) !== ARPHRD_ETHER || u16(b, p + 2) !== ARP_PTYPE_IPV4 || b[p + 4] !== 6 || b[p + 5] !== 4) return;
  if (end - p < 28) {
    out.truncated = TRUNC_L3;
    return;
  }
  out.arpShaOff = p + 8;
  out.arpSpaOff = p + 14;
  out.arpThaOff = p + 18;
  out.arpTpaOff = p + 24;
}
