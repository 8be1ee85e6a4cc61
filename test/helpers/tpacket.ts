/**
 * TPACKET_V3 blocks built byte for byte as the kernel's tpacket_rcv and prb_close_block lay them
 * out (frames 16-byte aligned; tp_mac where SOCK_RAW with PACKET_RESERVE 4 puts an Ethernet
 * header: 86): for the block parser's tests and the ring-to-engine benchmark.
 */
import { BLOCK_HEADER, TP_STATUS_USER, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID } from '../../src/capture/ring/block.js';

export interface FrameSpec {
  bytes: Uint8Array;
  /** tp_len (default bytes.length): larger than bytes for a frame cut at the snaplen. */
  len?: number;
  ifindex: number;
  pkttype: number;
  sec: number;
  nsec: number;
  vlan?: { tci: number; tpid?: number };
  hatype?: number;
  /** tp_mac (default 86, as the kernel puts an Ethernet frame with PACKET_RESERVE 4). */
  mac?: number;
}

export const TP_MAC = 86;
export const align16 = (n: number): number => (n + 15) & ~15;

/** A retired block as the kernel writes it (block_status TP_STATUS_USER, blk_len the used bytes). */
export function buildBlock(frames: FrameSpec[], opts: { blockStatus?: number } = {}): Uint8Array {
  let size = BLOCK_HEADER;
  const at: number[] = [];
  for (const f of frames) {
    at.push(size);
    size += align16((f.mac ?? TP_MAC) + f.bytes.length);
  }
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 3, true); // version (TPACKET_V3 is 2 in the API; the kernel leaves this field to us)
  dv.setUint32(8, opts.blockStatus ?? TP_STATUS_USER, true);
  dv.setUint32(12, frames.length, true);
  dv.setUint32(16, BLOCK_HEADER, true);
  dv.setUint32(20, size, true);
  frames.forEach((f, i) => {
    const o = at[i]!;
    dv.setUint32(o, i + 1 < frames.length ? at[i + 1]! - o : 0, true);
    dv.setUint32(o + 4, f.sec, true);
    dv.setUint32(o + 8, f.nsec, true);
    dv.setUint32(o + 12, f.bytes.length, true);
    dv.setUint32(o + 16, f.len ?? f.bytes.length, true);
    let status = TP_STATUS_USER;
    if (f.vlan) {
      status |= TP_STATUS_VLAN_VALID;
      dv.setUint32(o + 32, f.vlan.tci, true);
      if (f.vlan.tpid !== undefined) {
        status |= TP_STATUS_VLAN_TPID_VALID;
        dv.setUint16(o + 36, f.vlan.tpid, true);
      }
    }
    dv.setUint32(o + 20, status, true);
    const mac = f.mac ?? TP_MAC;
    dv.setUint16(o + 24, mac, true);
    dv.setUint16(o + 26, mac + 14, true);
    dv.setUint16(o + 48, 17, true); // AF_PACKET
    dv.setUint16(o + 50, 0x0008, true); // ETH_P_IP, network order
    dv.setInt32(o + 52, f.ifindex, true);
    dv.setUint16(o + 56, f.hatype ?? 1, true);
    b[o + 58] = f.pkttype;
    b[o + 59] = 6;
    b.set(f.bytes, o + mac);
  });
  return b;
}

