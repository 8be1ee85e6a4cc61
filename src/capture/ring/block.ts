/**
 * One retired TPACKET_V3 block, as the kernel's net/packet/af_packet.c writes it and the capture
 * ring binding (native/ring.cc) copies it out, read into an index of frames. The layout
 * (include/uapi/linux/if_packet.h, little-endian on every host bondscope runs on):
 *
 *   block:  tpacket_block_desc { u32 version, u32 offset_to_priv, tpacket_hdr_v1 {
 *             u32 block_status @8, u32 num_pkts @12, u32 offset_to_first_pkt @16, u32 blk_len @20,
 *             u64 seq_num @24, ts_first_pkt @32, ts_last_pkt @40 } }                   (48 bytes)
 *   frame:  tpacket3_hdr { u32 tp_next_offset @0, u32 tp_sec @4, u32 tp_nsec @8, u32 tp_snaplen @12,
 *             u32 tp_len @16, u32 tp_status @20, u16 tp_mac @24, u16 tp_net @26,
 *             hv1 { u32 tp_rxhash @28, u32 tp_vlan_tci @32, u16 tp_vlan_tpid @36 } }  (48 bytes)
 *           sockaddr_ll @48 { u16 family, be16 protocol @50, i32 ifindex @52, u16 hatype @56,
 *             u8 pkttype @58, … }                                                    (20 bytes)
 *           the frame's bytes at tp_mac, tp_snaplen of them (tp_len on the wire)
 *
 * The kernel writes these headers in the host's byte order (read here as native u32 words; every
 * machine bondscope runs on is little-endian, as the layout above is written).
 *
 * Every length and offset is checked, in a fixed order, against the block before it is used; a
 * bad one ends the block with an error naming the frame and byte, and the frames before it are
 * kept. A VLAN tag the NIC stripped (TP_STATUS_VLAN_VALID) is put back into the bytes in place,
 * as libpcap does: the 12 bytes of MAC addresses move 4 bytes toward the header (the binding asks
 * for that room with PACKET_RESERVE) and the tag goes after them, so the decoder sees the frame as
 * it was on the wire.
 */
import { DIR_IN, DIR_OUT } from '../../model/record.js';

export const BLOCK_HEADER = 48;
/** tpacket3_hdr (48) + sockaddr_ll (20): the frame's bytes start no earlier. */
export const FRAME_HEADER = 68;
export const TP_STATUS_USER = 1;
export const TP_STATUS_VLAN_VALID = 1 << 4;
export const TP_STATUS_VLAN_TPID_VALID = 1 << 6;
export const PACKET_OUTGOING = 4;
const VLAN_TAG = 4;
const MACS = 12;
const ETH_P_8021Q = 0x8100;

/** Per frame in the index: these many u32s. */
export const INDEX_STRIDE = 8;
export const IX_OFFSET = 0;
export const IX_CAPLEN = 1;
export const IX_LEN = 2;
export const IX_IFINDEX = 3;
export const IX_DIR = 4;
export const IX_SEC = 5;
export const IX_NSEC = 6;
/** ARPHRD_* of the interface (1 Ethernet, 772 loopback, 65534 none …). */
export const IX_HATYPE = 7;

/**
 * One frame's entry in an index (at `o`, a multiple of INDEX_STRIDE): where its bytes are, its
 * lengths, interface, direction, time and ARPHRD. The one layout handOn() reads, written here for
 * the ring's blocks and by the ssh stream reader for its batches.
 */
export function indexFrame(index: Uint32Array, o: number, offset: number, caplen: number, len: number, ifindex: number, dir: number, sec: number, nsec: number, hatype: number): void {
  index[o + IX_OFFSET] = offset;
  index[o + IX_CAPLEN] = caplen;
  index[o + IX_LEN] = len;
  index[o + IX_IFINDEX] = ifindex;
  index[o + IX_DIR] = dir;
  index[o + IX_SEC] = sec;
  index[o + IX_NSEC] = nsec;
  index[o + IX_HATYPE] = hatype;
}

export interface BlockResult {
  /** Frames indexed (those before any error). */
  frames: number;
  /** Frames whose stripped VLAN tag was put back. */
  vlanRestored: number;
  /** What was wrong, naming the frame and the byte; null for a sound block. */
  error: string | null;
}

/**
 * Indexes the frames of `block` into `index` (INDEX_STRIDE u32s per frame, grown by the caller to
 * `frameCapacity(block)`) and puts stripped VLAN tags back into `block` in place.
 */
export function parseBlock(block: Uint8Array, index: Uint32Array): BlockResult {
  const res: BlockResult = { frames: 0, vlanRestored: 0, error: null };
  if (block.length < BLOCK_HEADER) return fail(res, `block of ${block.length} bytes is shorter than its ${BLOCK_HEADER}-byte header`);
  if (block.byteOffset % 4 !== 0) return fail(res, `block at byte ${block.byteOffset} of its buffer is not 4-byte aligned`);
  // Headers are host-endian u32s at 4-byte-aligned offsets (frames are 16-byte aligned): read
  // them as words. Every offset below is a multiple of 4 once checked.
  const w = new Uint32Array(block.buffer, block.byteOffset, block.length >> 2);
  const status = w[2]!;
  if (!(status & TP_STATUS_USER)) return fail(res, `block status 0x${status.toString(16)} does not say the kernel handed it over (TP_STATUS_USER)`);
  const count = w[3]!;
  const first = w[4]!;
  const blkLen = w[5]!;
  if (blkLen > block.length) return fail(res, `blk_len ${blkLen} runs past the block's ${block.length} bytes`);
  if (blkLen < BLOCK_HEADER) return fail(res, `blk_len ${blkLen} is shorter than the block header`);
  if (count === 0) return res;
  if (first < BLOCK_HEADER) return fail(res, `offset_to_first_pkt ${first} is inside the block header`);
  if (first % 4 !== 0) return fail(res, `offset_to_first_pkt ${first} is not 4-byte aligned`);
  const end = blkLen;
  if (index.length < count * INDEX_STRIDE) return fail(res, `${count} frames do not fit the index (${index.length / INDEX_STRIDE})`);
  let at = first;
  for (let i = 0; i < count; i++) {
    if (at + FRAME_HEADER > end) return fail(res, `${where(i, count, at)}: its header runs past blk_len ${end}`);
    const h = at >> 2;
    const snaplen = w[h + 3]!;
    const len = w[h + 4]!;
    const fstatus = w[h + 5]!;
    const mac = w[h + 6]! & 0xffff;
    if (mac < FRAME_HEADER) return fail(res, `${where(i, count, at)}: tp_mac ${mac} points inside the frame's ${FRAME_HEADER}-byte header`);
    if (at + mac + snaplen > end) return fail(res, `${where(i, count, at)}: ${snaplen} bytes at tp_mac ${mac} run past blk_len ${end}`);
    if (snaplen > len) return fail(res, `${where(i, count, at)}: tp_snaplen ${snaplen} is more than tp_len ${len}`);
    let offset = at + mac;
    let caplen = snaplen;
    let wire = len;
    if (fstatus & TP_STATUS_VLAN_VALID && snaplen >= MACS && mac >= FRAME_HEADER + VLAN_TAG) {
      const tpid = fstatus & TP_STATUS_VLAN_TPID_VALID ? w[h + 9]! & 0xffff || ETH_P_8021Q : ETH_P_8021Q;
      const tci = w[h + 8]! & 0xffff;
      block.copyWithin(offset - VLAN_TAG, offset, offset + MACS);
      offset -= VLAN_TAG;
      block[offset + MACS] = tpid >> 8;
      block[offset + MACS + 1] = tpid & 0xff;
      block[offset + MACS + 2] = tci >> 8;
      block[offset + MACS + 3] = tci & 0xff;
      caplen += VLAN_TAG;
      wire += VLAN_TAG;
      res.vlanRestored++;
    }
    const o = i * INDEX_STRIDE;
    // sll_ifindex (@52, positive, as u32), the direction from sll_pkttype (@58), sll_hatype (@56).
    indexFrame(index, o, offset, caplen, wire, w[h + 13]!, block[at + 58] === PACKET_OUTGOING ? DIR_OUT : DIR_IN, w[h + 1]!, w[h + 2]!, w[h + 14]! & 0xffff);
    res.frames++;
    if (i + 1 < count) {
      const next = w[h]!;
      if (next < FRAME_HEADER) return fail(res, `${where(i, count, at)}: tp_next_offset ${next} does not move past the frame header`);
      if (next % 4 !== 0) return fail(res, `${where(i, count, at)}: tp_next_offset ${next} is not 4-byte aligned`);
      at += next;
    }
  }
  return res;
}

function where(i: number, count: number, at: number): string {
  return `frame ${i + 1} of ${count} at byte ${at}`;
}

function fail(res: BlockResult, what: string): BlockResult {
  res.error = `ring block: ${what}`;
  return res;
}

/** Most frames a block of this size can hold: the index size that always fits. */
export function frameCapacity(blockBytes: number): number {
  return Math.max(1, Math.floor((blockBytes - BLOCK_HEADER) / (FRAME_HEADER + 12)) + 1);
}
