/**
 * Spanning tree BPDUs (802.1D STP, 802.1w RSTP, 802.1s/802.1Q MSTP and SPB's version 4) and Cisco's
 * PVST+ TLV, decoded into one preallocated Bpdu: nothing is allocated per frame. Offsets follow
 * IEEE 802.1Q-2018 clause 14 (the BPDU starts at its protocol identifier). Each step checks the
 * captured length first; `complete` says whether the fixed part of the BPDU's type was all there.
 */
import { u16, u32 } from './bytes.js';

export const BPDU_TYPE_CONFIG = 0x00;
export const BPDU_TYPE_TCN = 0x80;
export const BPDU_TYPE_RST = 0x02;

export const STP_VERSION_STP = 0;
export const STP_VERSION_RSTP = 2;
export const STP_VERSION_MSTP = 3;
export const STP_VERSION_SPB = 4;

/** BPDU flags (config BPDUs use only TC and TCA; RST/MST BPDUs all of them). */
export const STP_FLAG_TC = 0x01;
export const STP_FLAG_PROPOSAL = 0x02;
export const STP_FLAG_ROLE_MASK = 0x0c;
export const STP_FLAG_LEARNING = 0x10;
export const STP_FLAG_FORWARDING = 0x20;
export const STP_FLAG_AGREEMENT = 0x40;
export const STP_FLAG_TCA = 0x80;

/** Port role in bits 2-3 of RST flags. */
export const STP_ROLE_UNKNOWN = 0;
export const STP_ROLE_ALTERNATE_BACKUP = 1;
export const STP_ROLE_ROOT = 2;
export const STP_ROLE_DESIGNATED = 3;

/** 802.1Q allows 64 MSTIs in one BPDU; records past it are counted but not kept. */
export const MAX_MSTI = 64;

const CONFIG_SIZE = 35;
const RST_SIZE = 36;
/** MST BPDU without MSTI records: up to and including CIST remaining hops. */
const MST_BASE_SIZE = 102;
const MSTI_SIZE = 16;
const PVST_TLV_OFFSET = 36;
const PVST_TLV_ORIG_VLAN = 0x0000;

export class Bpdu {
  /** Offset of the protocol identifier in the buffer. */
  off = -1;
  /** The fixed part for this BPDU's type (and version) was captured whole. */
  complete = false;
  protocolId = -1;
  version = -1;
  type = -1;
  flags = -1;
  /** Bridge ids split as tshark shows them: priority (top 4 bits, a multiple of 4096), system id extension (12 bits), MAC. */
  rootPriority = -1;
  rootExt = -1;
  rootMac = -1;
  rootCost = -1;
  bridgePriority = -1;
  bridgeExt = -1;
  bridgeMac = -1;
  portId = -1;
  /** Timers in 1/256 s, as sent. */
  messageAge = -1;
  maxAge = -1;
  helloTime = -1;
  forwardDelay = -1;
  version1Length = -1;

  /** MST (version >= 3, type RST): -1 / not set when absent. */
  version3Length = -1;
  mstConfigSelector = -1;
  /** Offset of the 32-byte configuration name (NUL-padded) and of the 16-byte digest. */
  mstConfigNameOff = -1;
  mstConfigRevision = -1;
  mstConfigDigestOff = -1;
  cistInternalRootCost = -1;
  cistBridgePriority = -1;
  cistBridgeExt = -1;
  cistBridgeMac = -1;
  cistRemainingHops = -1;
  /** MSTI records the version 3 length announces, and how many of them were captured (at most MAX_MSTI kept). */
  mstiAnnounced = 0;
  mstiCount = 0;
  readonly mstiFlags = new Uint8Array(MAX_MSTI);
  /** Regional root: priority nibble (0..15), MSTID, MAC. */
  readonly mstiRootPriority = new Uint8Array(MAX_MSTI);
  readonly mstiId = new Uint16Array(MAX_MSTI);
  readonly mstiRootMac = new Float64Array(MAX_MSTI);
  readonly mstiRootCost = new Uint32Array(MAX_MSTI);
  /** Bridge and port priority nibbles, as the record carries them (bits 7-4 of their bytes). */
  readonly mstiBridgePriority = new Uint8Array(MAX_MSTI);
  readonly mstiPortPriority = new Uint8Array(MAX_MSTI);
  readonly mstiRemainingHops = new Uint8Array(MAX_MSTI);

  /** PVST+: the originating VLAN from Cisco's TLV, -1 when none. */
  pvstVlan = -1;
}

function mac(b: Uint8Array, p: number): number {
  return u16(b, p) * 4294967296 + u32(b, p + 2);
}

function resetBpdu(x: Bpdu): void {
  x.off = -1;
  x.complete = false;
  x.protocolId = -1;
  x.version = -1;
  x.type = -1;
  x.flags = -1;
  x.rootPriority = -1;
  x.rootExt = -1;
  x.rootMac = -1;
  x.rootCost = -1;
  x.bridgePriority = -1;
  x.bridgeExt = -1;
  x.bridgeMac = -1;
  x.portId = -1;
  x.messageAge = -1;
  x.maxAge = -1;
  x.helloTime = -1;
  x.forwardDelay = -1;
  x.version1Length = -1;
  x.version3Length = -1;
  x.mstConfigSelector = -1;
  x.mstConfigNameOff = -1;
  x.mstConfigRevision = -1;
  x.mstConfigDigestOff = -1;
  x.cistInternalRootCost = -1;
  x.cistBridgePriority = -1;
  x.cistBridgeExt = -1;
  x.cistBridgeMac = -1;
  x.cistRemainingHops = -1;
  x.mstiAnnounced = 0;
  x.mstiCount = 0;
  x.pvstVlan = -1;
}

/**
 * Decodes the BPDU at p (after LLC, or after SNAP for PVST+). Returns true when the fixed part of
 * its type was captured whole; false when the capture cut it (fields up to the cut are set).
 */
export function decodeBpdu(b: Uint8Array, p: number, end: number, pvst: boolean, x: Bpdu): boolean {
  resetBpdu(x);
  x.off = p;
  const n = end - p;
  if (n < 4) return false;
  x.protocolId = u16(b, p);
  x.version = b[p + 2]!;
  x.type = b[p + 3]!;
  if (x.type === BPDU_TYPE_TCN) {
    x.complete = true;
    return true;
  }
  if (x.type !== BPDU_TYPE_CONFIG && x.type !== BPDU_TYPE_RST) {
    // An unknown type has no layout to read; it is whole as far as we know.
    x.complete = true;
    return true;
  }
  if (n < CONFIG_SIZE) return false;
  x.flags = b[p + 4]!;
  const root = u16(b, p + 5);
  x.rootPriority = root & 0xf000;
  x.rootExt = root & 0x0fff;
  x.rootMac = mac(b, p + 7);
  x.rootCost = u32(b, p + 13);
  const bridge = u16(b, p + 17);
  x.bridgePriority = bridge & 0xf000;
  x.bridgeExt = bridge & 0x0fff;
  x.bridgeMac = mac(b, p + 19);
  x.portId = u16(b, p + 25);
  x.messageAge = u16(b, p + 27);
  x.maxAge = u16(b, p + 29);
  x.helloTime = u16(b, p + 31);
  x.forwardDelay = u16(b, p + 33);
  if (x.type === BPDU_TYPE_RST) {
    if (n < RST_SIZE) return false;
    x.version1Length = b[p + 35]!;
    if (x.version >= STP_VERSION_MSTP && !pvst) return decodeMst(b, p, n, x);
  }
  if (pvst) decodePvstTlvs(b, p, n, x);
  x.complete = true;
  return true;
}

function decodeMst(b: Uint8Array, p: number, n: number, x: Bpdu): boolean {
  // The MST part is read only when it is there whole (as tshark does): a version 3 BPDU of RST
  // size is what an MSTP bridge sends to an RSTP one; anything between is cut or malformed.
  if (n < MST_BASE_SIZE) {
    x.complete = n === RST_SIZE;
    return x.complete;
  }
  x.version3Length = u16(b, p + 36);
  x.mstConfigSelector = b[p + 38]!;
  x.mstConfigNameOff = p + 39;
  x.mstConfigRevision = u16(b, p + 71);
  x.mstConfigDigestOff = p + 73;
  x.cistInternalRootCost = u32(b, p + 89);
  const cist = u16(b, p + 93);
  x.cistBridgePriority = cist & 0xf000;
  x.cistBridgeExt = cist & 0x0fff;
  x.cistBridgeMac = mac(b, p + 95);
  x.cistRemainingHops = b[p + 101]!;
  // Version 3 length counts the MST part after itself: 64 bytes, then 16 per MSTI.
  const announced = x.version3Length >= 64 ? Math.floor((x.version3Length - 64) / MSTI_SIZE) : 0;
  x.mstiAnnounced = announced;
  let q = p + MST_BASE_SIZE;
  let i = 0;
  for (; i < announced && q + MSTI_SIZE <= p + n; i++, q += MSTI_SIZE) {
    if (i >= MAX_MSTI) continue;
    x.mstiFlags[i] = b[q]!;
    const id = u16(b, q + 1);
    x.mstiRootPriority[i] = id >> 12;
    x.mstiId[i] = id & 0x0fff;
    x.mstiRootMac[i] = mac(b, q + 3);
    x.mstiRootCost[i] = u32(b, q + 9);
    x.mstiBridgePriority[i] = b[q + 13]! >> 4;
    x.mstiPortPriority[i] = b[q + 14]! >> 4;
    x.mstiRemainingHops[i] = b[q + 15]!;
  }
  x.mstiCount = Math.min(i, MAX_MSTI);
  x.complete = i === announced;
  return x.complete;
}

/** Cisco PVST+ appends TLVs after the BPDU; type 0 carries the VLAN the BPDU was sent for. */
function decodePvstTlvs(b: Uint8Array, p: number, n: number, x: Bpdu): void {
  let q = PVST_TLV_OFFSET;
  for (let hops = 0; hops < 16 && n - q >= 4; hops++) {
    const type = u16(b, p + q);
    const len = u16(b, p + q + 2);
    if (type === PVST_TLV_ORIG_VLAN && len === 2 && n - q >= 6) {
      x.pvstVlan = u16(b, p + q + 4);
      return;
    }
    q += 4 + len;
  }
}

/** The RST/MST port role in `flags`. */
export function stpRole(flags: number): number {
  return (flags & STP_FLAG_ROLE_MASK) >> 2;
}
