/**
 * 802.2 LLC (DSAP, SSAP, control) and SNAP (OUI, PID) after an 802.3 length field, and the BPDUs
 * they carry: 802.1D/w/s on LLC 42/42, Cisco PVST+ on SNAP 00:00:0c / 0x010b.
 */
import { type DecodedFrame, PK_LLC, PK_STP, TRUNC_L3 } from './frame.js';
import { u16 } from './bytes.js';
import { decodeBpdu } from './stp.js';

function resetLlc(out: DecodedFrame): void {
  out.llcDsap = -1;
  out.llcSsap = -1;
  out.llcControl = -1;
  out.snapOui = -1;
  out.snapPid = -1;
}

export function decodeLlc(b: Uint8Array, p: number, end: number, out: DecodedFrame): void {
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
