/**
 * LACPDUs (IEEE 802.1AX, Slow Protocols subtype 1) decoded into one preallocated Lacpdu. Version 1
 * fixes the layout: actor TLV (type 1, 20 bytes), partner TLV (type 2, 20), collector TLV (type 3,
 * 16), terminator. Each TLV is read only when captured whole; version 2's extra TLVs are not read.
 */
import { u16 } from './bytes.js';

export const LACP_STATE_ACTIVITY = 0x01;
/** Set: short timeout (LACPDUs every second); clear: long timeout (every 30 s, 90 s to notice a dead partner). */
export const LACP_STATE_TIMEOUT = 0x02;
export const LACP_STATE_AGGREGATION = 0x04;
export const LACP_STATE_SYNCHRONIZATION = 0x08;
export const LACP_STATE_COLLECTING = 0x10;
export const LACP_STATE_DISTRIBUTING = 0x20;
export const LACP_STATE_DEFAULTED = 0x40;
export const LACP_STATE_EXPIRED = 0x80;

export class Lacpdu {
  /** Offset of the subtype byte. */
  off = -1;
  version = -1;
  /** Whether the actor / partner / collector TLV was captured whole and had its type and length. */
  hasActor = false;
  hasPartner = false;
  hasCollector = false;
  actorSystemPriority = -1;
  actorSystem = -1;
  actorKey = -1;
  actorPortPriority = -1;
  actorPort = -1;
  actorState = -1;
  partnerSystemPriority = -1;
  partnerSystem = -1;
  partnerKey = -1;
  partnerPortPriority = -1;
  partnerPort = -1;
  partnerState = -1;
  collectorMaxDelay = -1;
}

const TLV_ACTOR = 1;
const TLV_PARTNER = 2;
const TLV_COLLECTOR = 3;
const INFO_LENGTH = 20;
const COLLECTOR_LENGTH = 16;

function mac(b: Uint8Array, p: number): number {
  return u16(b, p) * 4294967296 + (((b[p + 2]! << 24) | (b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!) >>> 0);
}

/**
 * Decodes the LACPDU whose subtype byte is at p. Returns false when the capture cut it before the
 * end of the collector TLV (what was captured whole is set).
 */
export function decodeLacp(b: Uint8Array, p: number, end: number, x: Lacpdu): boolean {
  x.off = p;
  x.version = -1;
  x.hasActor = x.hasPartner = x.hasCollector = false;
  x.actorSystemPriority = x.actorSystem = x.actorKey = x.actorPortPriority = x.actorPort = x.actorState = -1;
  x.partnerSystemPriority = x.partnerSystem = x.partnerKey = x.partnerPortPriority = x.partnerPort = x.partnerState = -1;
  x.collectorMaxDelay = -1;
  const n = end - p;
  if (n < 2) return false;
  x.version = b[p + 1]!;
  // Actor: p+2 type, p+3 length, then priority, system, key, port priority, port, state, 3 reserved.
  if (n < 2 + INFO_LENGTH) return false;
  if (b[p + 2] === TLV_ACTOR && b[p + 3] === INFO_LENGTH) {
    x.hasActor = true;
    x.actorSystemPriority = u16(b, p + 4);
    x.actorSystem = mac(b, p + 6);
    x.actorKey = u16(b, p + 12);
    x.actorPortPriority = u16(b, p + 14);
    x.actorPort = u16(b, p + 16);
    x.actorState = b[p + 18]!;
  }
  if (n < 22 + INFO_LENGTH) return false;
  if (b[p + 22] === TLV_PARTNER && b[p + 23] === INFO_LENGTH) {
    x.hasPartner = true;
    x.partnerSystemPriority = u16(b, p + 24);
    x.partnerSystem = mac(b, p + 26);
    x.partnerKey = u16(b, p + 32);
    x.partnerPortPriority = u16(b, p + 34);
    x.partnerPort = u16(b, p + 36);
    x.partnerState = b[p + 38]!;
  }
  if (n < 42 + COLLECTOR_LENGTH) return false;
  if (b[p + 42] === TLV_COLLECTOR && b[p + 43] === COLLECTOR_LENGTH) {
    x.hasCollector = true;
    x.collectorMaxDelay = u16(b, p + 44);
  }
  return true;
}

const STATE_LETTERS = 'EFDCSGSA';

/**
 * The state byte as tshark's "[Actor State Flags: **DCSG*A]": one letter per bit from bit 7
 * (Expired, deFaulted, Distributing, Collecting, Synchronization, aGgregation, Short timeout,
 * Activity), `*` where the bit is clear.
 */
export function lacpStateFlags(state: number): string {
  let s = '';
  for (let bit = 7; bit >= 0; bit--) s += state & (1 << bit) ? STATE_LETTERS[7 - bit]! : '*';
  return s;
}

/** In sync, collecting and distributing: the link carries the aggregate's traffic. */
export function lacpDistributing(state: number): boolean {
  const all = LACP_STATE_SYNCHRONIZATION | LACP_STATE_COLLECTING | LACP_STATE_DISTRIBUTING;
  return (state & all) === all;
}
