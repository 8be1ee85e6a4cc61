/**
 * Cooked (`-i any`, SLL/SLL2) frames have no destination MAC. What stands in for it: the IPv4
 * address a unicast is sent to, which names a guest once the guest's ARP has been seen. Senders'
 * IPv4 addresses are noted from their ARP packets and IPv4 sources as frames arrive (before the
 * reorder stage); a frame's stand-in is resolved to a MAC when it is processed, in time order.
 */
import type { DecodedFrame } from '../decode/frame.js';
import { readMac } from '../model/mac.js';

/** An IPv4 address within a VLAN, as one number (exact: VLAN ids are 12 bits). */
function ipv4Key(vlan: number, ip: number): number {
  return vlan * 0x100000000 + ip;
}

export class CookedDestinations {
  /** (VLAN, IPv4 address) → the MAC that claimed it (-1: claimed by several). */
  private readonly ipv4Owner = new Map<number, number>();
  /** The (VLAN, IPv4 address) keys a gratuitous ARP announced: their owner is settled. */
  private readonly ipv4Announced = new Set<number>();

  /** Owners noted at most (AnalyzerOptions.maxMacs): a flood of sources must not grow the map without end. */
  constructor(private readonly maxOwners: number) {}

  /**
   * A cooked frame as it arrives (its bytes `b`): notes its sender's claim to an address and
   * returns what stands in for its destination: -1 (none), or -2 - the IPv4 address it is sent to.
   */
  destinationOf(b: Uint8Array, f: DecodedFrame): number {
    const p = f.l3Off;
    if (f.etherType === 0x0806 && f.l3Len >= 28) {
      // ARP over Ethernet/IPv4: the sender's MAC (bytes 8-13) and IPv4 (14-17), when it is the
      // frame's own source. A reply answers for the address and a gratuitous ARP announces it; a
      // request's sender address claims nothing (arping -s, address-conflict probes and
      // misconfigured hosts ask with an address not theirs: the lab's fdblog guest does).
      if (b[p + 4] === 6 && b[p + 5] === 4 && readMac(b, p + 8) === f.src && this.ipv4Owner.size < this.maxOwners) {
        const ip = ((b[p + 14]! << 24) | (b[p + 15]! << 16) | (b[p + 16]! << 8) | b[p + 17]!) >>> 0;
        const target = ((b[p + 24]! << 24) | (b[p + 25]! << 16) | (b[p + 26]! << 8) | b[p + 27]!) >>> 0;
        const reply = b[p + 6] === 0 && b[p + 7] === 2;
        if (ip !== 0 && (reply || ip === target)) this.claim(f.vlan, ip, f.src, ip === target);
      }
      return -1;
    }
    if (f.etherType === 0x0800 && f.l3Len >= 20) {
      // The source address of an IPv4 packet is its sender's claim to it, as an ARP's is.
      const from = ((b[p + 12]! << 24) | (b[p + 13]! << 16) | (b[p + 14]! << 8) | b[p + 15]!) >>> 0;
      if (from !== 0 && this.ipv4Owner.size < this.maxOwners) this.claim(f.vlan, from, f.src, false);
    }
    if (f.etherType === 0x0800 && f.l3Len >= 20 && !f.isBroadcast && !f.isMulticast) {
      const ip = ((b[p + 16]! << 24) | (b[p + 17]! << 16) | (b[p + 18]! << 8) | b[p + 19]!) >>> 0;
      // Multicast and broadcast IPv4 destinations are no one's.
      if (ip >>> 28 === 0xe || ip === 0xffffffff) return -1;
      return -2 - ip;
    }
    return -1;
  }

  /** A stand-in from destinationOf (< -1) as the MAC that owns the address now, -1 when no one does. */
  resolve(vlan: number, standIn: number): number {
    return this.ipv4Owner.get(ipv4Key(vlan, -2 - standIn)) ?? -1;
  }

  /**
   * `mac` sent with `ip` as its own address in `vlan` (an ARP reply's sender, an IPv4 packet's source). An
   * address is a MAC's within its broadcast domain. A gratuitous ARP (sender = target address) is
   * the owner announcing itself and wins; any other claim names an owner only while no other MAC
   * has made one (a host may send with another's address): two claimants name no one.
   */
  private claim(vlan: number, ip: number, mac: number, announced: boolean): void {
    const k = ipv4Key(vlan, ip);
    if (announced) {
      this.ipv4Owner.set(k, mac);
      this.ipv4Announced.add(k);
    } else if (!this.ipv4Announced.has(k)) {
      const owner = this.ipv4Owner.get(k);
      if (owner === undefined) this.ipv4Owner.set(k, mac);
      else if (owner !== mac && owner !== -1) this.ipv4Owner.set(k, -1);
    }
  }
}
