/**
 * Sanitizing an evidence bundle (`bondscope export --sanitize`): addresses mapped consistently
 * under a per-run key, payload past the L3/L4 headers cut, names replaced by role names.
 *
 * MACs: every unicast MAC maps to a locally administered unicast MAC (keyed HMAC, collisions
 * re-drawn), so the same host is the same MAC everywhere in the bundle and the analysis finds the
 * same things. Group addresses are not identifying and are kept (broadcast, 01:00:5e:…, 33:33:…),
 * except solicited-node ones (33:33:ff:xx:xx:xx, ff02::1:ffxx:xxxx), which carry the low 24 bits
 * of a unicast IPv6 address: those 24 bits are mapped by one keyed function in both places.
 * Xen's vif MAC fe:ff:ff:ff:ff:ff is on every Xen host and the engine knows it: kept.
 *
 * IP addresses: prefix-preserving in the manner of Crypto-PAn (bit i of the output is bit i of the
 * input XOR a keyed pseudo-random function of the first i input bits), so two addresses sharing a
 * k-bit prefix still share one after mapping. The first 4 bits of IPv4 are kept so unicast stays
 * unicast; multicast, broadcast, 0.0.0.0 and loopback are kept. IPv6: multicast kept (solicited-
 * node as above), link-local keeps fe80::/64, IIDs built from a MAC (EUI-64) are rebuilt from the
 * mapped MAC so they match it, other IIDs and prefixes are mapped prefix-preservingly.
 *
 * Frames: link header and VLAN tags, then the L3 header (ARP, IPv4 without options' content,
 * IPv6 with hop-by-hop options), then the L4 header (UDP, TCP with its options as NOPs, ICMP,
 * ICMPv6, IGMP); STP BPDUs and
 * LACPDUs keep their fixed part with the bridge and system MACs mapped. Everything after is cut:
 * the caplen shrinks, the original length stays.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { PacketRecord } from '../model/record.js';
import { type DecodedFrame, PK_ARP, PK_IPV4, PK_IPV6, PK_LACP, PK_LLC, PK_STP } from '../decode/frame.js';
import { formatMac, readMac } from '../model/mac.js';
import { formatIpv4, formatIpv6 } from '../decode/addr.js';
import { frameBytes } from '../decode/index.js';

const XEN_VIF_MAC = 0xfeffffffffff;
const SOLICITED_MAC_HIGH = 0x3333ff; // 33:33:ff:xx:xx:xx

export function newSanitizeKey(): Uint8Array {
  return randomBytes(32);
}

function writeMac(b: Uint8Array, at: number, mac: number): void {
  const hi = Math.floor(mac / 4294967296);
  const lo = mac % 4294967296;
  b[at] = hi >>> 8;
  b[at + 1] = hi & 0xff;
  b[at + 2] = lo >>> 24;
  b[at + 3] = (lo >>> 16) & 0xff;
  b[at + 4] = (lo >>> 8) & 0xff;
  b[at + 5] = lo & 0xff;
}

/** Maps addresses consistently under one key. Remembers every original it mapped (for the leak check). */
export class AddressMapper {
  private readonly macs = new Map<number, number>();
  private readonly usedMacs = new Set<number>();
  private readonly v4 = new Map<number, number>();
  private readonly v6 = new Map<string, Uint8Array>();
  private readonly low24 = new Map<number, number>();
  private readonly flips = new Map<string, number>();

  constructor(private readonly key: Uint8Array) {}

  private prf(label: string): Buffer {
    return createHmac('sha256', this.key).update(label).digest();
  }

  /** One pseudo-random bit of the prefix `prefix` (its first `i` bits) in tree `tree`. */
  private flip(tree: string, i: number, prefix: bigint): number {
    const k = `${tree}/${i}/${prefix.toString(16)}`;
    let bit = this.flips.get(k);
    if (bit === undefined) {
      bit = this.prf(`pp:${k}`)[0]! & 1;
      this.flips.set(k, bit);
    }
    return bit;
  }

  /** Prefix-preserving permutation of the `bits`-bit value v; the first `fixed` bits are kept. */
  private preserve(tree: string, v: bigint, bits: number, fixed: number): bigint {
    let out = 0n;
    for (let i = 0; i < bits; i++) {
      const shift = BigInt(bits - 1 - i);
      const bit = (v >> shift) & 1n;
      const f = i < fixed ? 0 : this.flip(tree, i, v >> (shift + 1n));
      out |= (bit ^ BigInt(f)) << shift;
    }
    return out;
  }

  /** Whether a MAC identifies a device (and so is mapped). */
  static isIdentifying(mac: number): boolean {
    if (mac <= 0 || mac === XEN_VIF_MAC) return false;
    return (Math.floor(mac / 1099511627776) & 1) === 0;
  }

  private map24(v: number): number {
    let m = this.low24.get(v);
    if (m === undefined) {
      const h = this.prf(`sn:${v}`);
      m = (h[0]! << 16) | (h[1]! << 8) | h[2]!;
      this.low24.set(v, m);
    }
    return m;
  }

  mapMac(mac: number): number {
    if (Math.floor(mac / 16777216) === SOLICITED_MAC_HIGH) return SOLICITED_MAC_HIGH * 16777216 + this.map24(mac % 16777216);
    if (!AddressMapper.isIdentifying(mac)) return mac;
    let m = this.macs.get(mac);
    if (m !== undefined) return m;
    for (let n = 0; ; n++) {
      const h = this.prf(`mac:${mac}:${n}`);
      // Locally administered (bit 1 set), unicast (bit 0 clear).
      const b0 = (h[0]! & 0xfc) | 0x02;
      m = b0 * 1099511627776 + h[1]! * 4294967296 + (((h[2]! << 24) >>> 0) + (h[3]! << 16) + (h[4]! << 8) + h[5]!);
      if (m !== XEN_VIF_MAC && !this.usedMacs.has(m) && !this.macs.has(m)) break;
    }
    this.macs.set(mac, m);
    this.usedMacs.add(m);
    return m;
  }

  mapMacAt(b: Uint8Array, at: number): void {
    writeMac(b, at, this.mapMac(readMac(b, at)));
  }

  /** Whether an IPv4 address (as uint32) identifies a host (and so is mapped). */
  static isIdentifyingIpv4(a: number): boolean {
    return a !== 0 && a >>> 29 !== 7 && a >>> 24 !== 127;
  }

  mapIpv4(a: number): number {
    if (!AddressMapper.isIdentifyingIpv4(a)) return a;
    let m = this.v4.get(a);
    if (m === undefined) {
      m = Number(this.preserve('v4', BigInt(a), 32, 4));
      this.v4.set(a, m);
    }
    return m;
  }

  mapIpv4At(b: Uint8Array, at: number): void {
    const a = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    const m = this.mapIpv4(a);
    b[at] = m >>> 24;
    b[at + 1] = (m >>> 16) & 0xff;
    b[at + 2] = (m >>> 8) & 0xff;
    b[at + 3] = m & 0xff;
  }

  /** Whether the 16 bytes at `at` are an IPv6 address that identifies a host. */
  static isIdentifyingIpv6(b: Uint8Array, at: number): boolean {
    if (b[at] === 0xff) {
      // Multicast: only solicited-node groups carry (part of) a host's address.
      return isSolicitedNode(b, at);
    }
    let zero = true;
    for (let i = 0; i < 15; i++) if (b[at + i] !== 0) zero = false;
    return !(zero && (b[at + 15] === 0 || b[at + 15] === 1));
  }

  mapIpv6At(b: Uint8Array, at: number): void {
    if (!AddressMapper.isIdentifyingIpv6(b, at)) return;
    const orig = b.subarray(at, at + 16);
    const k = Buffer.from(orig).toString('hex');
    let m = this.v6.get(k);
    if (!m) {
      m = this.mapIpv6(orig);
      this.v6.set(k, m);
    }
    b.set(m, at);
  }

  private mapIpv6(a: Uint8Array): Uint8Array {
    const out = new Uint8Array(a);
    if (isSolicitedNode(a, 0)) {
      const m = this.map24((a[13]! << 16) | (a[14]! << 8) | a[15]!);
      out[13] = m >>> 16;
      out[14] = (m >>> 8) & 0xff;
      out[15] = m & 0xff;
      return out;
    }
    // IPv4-mapped ::ffff:a.b.c.d
    if (a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff) {
      this.mapIpv4At(out, 12);
      return out;
    }
    const linkLocal = a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;
    if (!linkLocal) {
      let prefix = 0n;
      for (let i = 0; i < 8; i++) prefix = (prefix << 8n) | BigInt(a[i]!);
      const mapped = this.preserve('v6', prefix, 64, 4);
      for (let i = 7; i >= 0; i--) out[i] = Number((mapped >> BigInt((7 - i) * 8)) & 0xffn);
    }
    if (a[11] === 0xff && a[12] === 0xfe && ((a[8]! ^ 0x02) & 1) === 0) {
      // EUI-64 from a MAC: rebuild it from the mapped MAC, so address and MAC still match.
      const mac = readMac(Uint8Array.of(a[8]! ^ 0x02, a[9]!, a[10]!, a[13]!, a[14]!, a[15]!), 0);
      const mb = new Uint8Array(6);
      writeMac(mb, 0, this.mapMac(mac));
      out.set([mb[0]! ^ 0x02, mb[1]!, mb[2]!, 0xff, 0xfe, mb[3]!, mb[4]!, mb[5]!], 8);
    } else {
      let iid = 0n;
      for (let i = 8; i < 16; i++) iid = (iid << 8n) | BigInt(a[i]!);
      const mapped = this.preserve('iid', iid, 64, 0);
      for (let i = 15; i >= 8; i--) out[i] = Number((mapped >> BigInt((15 - i) * 8)) & 0xffn);
    }
    return out;
  }

  /**
   * Every original this mapper changed: MACs (numbers), IPv4 (uint32), IPv6 (16 bytes). An
   * address that maps to itself identifies nothing (Xen's vif MAC and the link-local address
   * built from it, the same on every Xen host).
   */
  originals(): { macs: number[]; ipv4: number[]; ipv6: Uint8Array[] } {
    return {
      macs: [...this.macs].filter(([a, b]) => a !== b).map(([a]) => a),
      ipv4: [...this.v4].filter(([a, b]) => a !== b).map(([a]) => a),
      ipv6: [...this.v6]
        .filter(([h, m]) => Buffer.from(m).toString('hex') !== h)
        .map(([h]) => Uint8Array.from(Buffer.from(h, 'hex')))
        .filter((a) => !isSolicitedNode(a, 0)),
    };
  }

  /** Replaces MACs and IPv4 addresses written as text (`00:16:3e:00:00:01`, `198.51.100.11`). */
  mapText(s: string): string {
    return s
      .replace(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi, (t) => formatMac(this.mapMac(parseInt(t.replace(/:/g, ''), 16))))
      .replace(/(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/g, (t, a: string, b: string, c: string, d: string) => {
        const parts = [a, b, c, d].map(Number);
        if (parts.some((x) => x > 255)) return t;
        const bytes = Uint8Array.from(parts);
        this.mapIpv4At(bytes, 0);
        return formatIpv4(bytes, 0);
      });
  }
}

function isSolicitedNode(b: Uint8Array, at: number): boolean {
  if (b[at] !== 0xff || b[at + 1] !== 0x02) return false;
  for (let i = 2; i < 11; i++) if (b[at + i] !== 0) return false;
  return b[at + 11] === 1 && b[at + 12] === 0xff;
}

const PROTO_ICMP = 1;
const PROTO_IGMP = 2;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const IPV6_HOPOPTS = 0;

/**
 * TCP options (MSS, window scale, SACK, timestamps) become NOPs: timestamps tell a host's uptime,
 * and a malformed header's "options" can hold anything, even a copy of the frame's own addresses.
 */
function blankTcpOptions(b: Uint8Array, p: number, n: number): void {
  if (n > 20) b.fill(1, p + 20, p + n);
}

/** Bytes of the L4 header of `proto` at `p`, or -1 when it is not captured whole (or not one we keep). */
function l4HeaderLength(b: Uint8Array, p: number, end: number, proto: number, v6: boolean): number {
  let n: number;
  if (proto === PROTO_UDP || proto === PROTO_IGMP) n = 8;
  else if (proto === PROTO_ICMP && !v6) n = 8;
  else if (proto === PROTO_ICMPV6 && v6) n = 8;
  else if (proto === PROTO_TCP) {
    if (end - p < 13) return -1;
    n = (b[p + 12]! >> 4) * 4;
    if (n < 20) return -1;
  } else return 0;
  return end - p >= n ? n : -1;
}

function ipv4Checksum(b: Uint8Array, p: number, ihl: number): void {
  b[p + 10] = 0;
  b[p + 11] = 0;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (b[p + i]! << 8) | b[p + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[p + 10] = c >>> 8;
  b[p + 11] = c & 0xff;
}

/**
 * Sanitizes one frame: `out` holds a copy of the record's captured bytes, `f` is the record
 * decoded in place (offsets into rec.buf). Returns how many bytes of `out` to keep.
 */
export function sanitizeFrame(rec: PacketRecord, f: DecodedFrame, out: Uint8Array, m: AddressMapper): number {
  if (!f.supported) return 0;
  const base = rec.offset;
  const end = Math.min(out.length, frameBytes(rec));
  const linkType = rec.iface!.linkType;
  let keep = 0;
  if (linkType === 1) {
    if (f.dstOff >= 0) {
      m.mapMacAt(out, f.dstOff - base);
      keep = 6;
    }
    if (f.srcOff >= 0) {
      m.mapMacAt(out, f.srcOff - base);
      keep = 12;
    }
  } else {
    // Linux cooked v1/v2: the link-layer address field (8 bytes); a MAC is mapped, anything else zeroed.
    const addrAt = linkType === 276 ? 12 : 6;
    const headerLen = linkType === 276 ? 20 : 16;
    if (end < headerLen) return 0;
    if (f.srcOff >= 0) m.mapMacAt(out, f.srcOff - base);
    else out.fill(0, addrAt, addrAt + 8);
    keep = headerLen;
  }
  if (f.l3Off < 0) return Math.min(keep, end);
  const l3 = f.l3Off - base;
  keep = l3;
  switch (f.payload) {
    case PK_ARP:
      if (f.arpShaOff >= 0) {
        m.mapMacAt(out, f.arpShaOff - base);
        m.mapIpv4At(out, f.arpSpaOff - base);
        m.mapMacAt(out, f.arpThaOff - base);
        m.mapIpv4At(out, f.arpTpaOff - base);
        keep = l3 + 28;
      } else if (end - l3 >= 8) keep = l3 + 8;
      break;
    case PK_IPV4: {
      if (f.ipVersion !== 4 || end - l3 < 20) break;
      const ihl = (out[l3]! & 0x0f) * 4;
      if (ihl < 20 || end - l3 < ihl) break;
      m.mapIpv4At(out, l3 + 12);
      m.mapIpv4At(out, l3 + 16);
      // Options may carry addresses (record route, source route, timestamps): NOPs in their place.
      out.fill(1, l3 + 20, l3 + ihl);
      ipv4Checksum(out, l3, ihl);
      keep = l3 + ihl;
      if (f.l4Off >= 0) {
        const p = f.l4Off - base;
        const n = l4HeaderLength(out, p, end, f.ipProto, false);
        if (n > 0) keep = p + n;
        if (n > 0 && f.ipProto === PROTO_TCP) blankTcpOptions(out, p, n);
      }
      break;
    }
    case PK_IPV6: {
      if (f.ipVersion !== 6 || end - l3 < 40) break;
      m.mapIpv6At(out, l3 + 8);
      m.mapIpv6At(out, l3 + 24);
      keep = l3 + 40;
      // Hop-by-hop options (MLD's router alert) are kept; any other extension header ends what is kept.
      let next = out[l3 + 6]!;
      let q = l3 + 40;
      while (next === IPV6_HOPOPTS && end - q >= 2 && end - q >= (out[q + 1]! + 1) * 8) {
        next = out[q]!;
        q += (out[q + 1]! + 1) * 8;
        keep = q;
      }
      if (f.l4Off >= 0 && f.l4Off - base === q && next === f.ipProto) {
        const n = l4HeaderLength(out, q, end, next, true);
        if (n > 0) keep = q + n;
        if (n > 0 && next === PROTO_TCP) blankTcpOptions(out, q, n);
      }
      break;
    }
    case PK_STP: {
      const bpdu = l3 + (f.snapOui >= 0 ? 8 : 3);
      keep = Math.min(bpdu, end);
      if (end - bpdu >= 4 && out[bpdu + 3] === 0x80) keep = bpdu + 4; // topology change notice: no IDs
      else if (end - bpdu >= 35) {
        m.mapMacAt(out, bpdu + 7); // root identifier: priority, then MAC
        m.mapMacAt(out, bpdu + 19); // bridge identifier
        keep = bpdu + (end - bpdu >= 36 ? 36 : 35);
      }
      break;
    }
    case PK_LACP:
      if (end - l3 >= 42) {
        m.mapMacAt(out, l3 + 6); // actor system
        m.mapMacAt(out, l3 + 26); // partner system
        keep = l3 + 42;
      } else keep = Math.min(l3 + 2, end);
      break;
    case PK_LLC:
      keep = Math.min(l3 + (f.snapOui >= 0 ? 8 : 3), end);
      break;
    default:
      break;
  }
  return Math.min(keep, end);
}

/** Formats an IPv6 address held in 16 bytes (for the leak check's text forms). */
export function ipv6Text(a: Uint8Array): string {
  return formatIpv6(a, 0);
}
