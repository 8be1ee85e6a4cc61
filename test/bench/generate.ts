/**
 * Writes the benchmark capture: classic little-endian µs pcap (the one format every tool compared
 * can read), a host's mix of traffic on a bonded bridge uplink: unicast IPv4/UDP between guests
 * and outside hosts, ARP broadcasts, IPv6 neighbour-discovery multicast, and 802.1Q-tagged frames.
 * Deterministic (seeded), written in 1 MiB chunks so memory stays flat whatever the size.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const HOSTS = 256;

/** xorshift32: reproducible files across runs and machines. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function putMac(b: Uint8Array, at: number, host: number): void {
  // Guests 00:16:3e:00:xx:yy (Xen), outside hosts 52:54:00:00:xx:yy.
  const guest = host % 2 === 0;
  b.set(guest ? [0x00, 0x16, 0x3e, 0x00] : [0x52, 0x54, 0x00, 0x00], at);
  b[at + 4] = host >> 8;
  b[at + 5] = host & 0xff;
}

/** Writes one frame of the mix at b[0..] and returns its length. */
export function benchFrame(b: Uint8Array, next: () => number): number {
  const r = next() % 100;
  const src = next() % HOSTS;
  let at = 12;
  const tagged = r >= 90;
  if (r < 5) {
    // ARP who-has, broadcast.
    b.fill(0xff, 0, 6);
    putMac(b, 6, src);
    b.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01], 12);
    putMac(b, 22, src);
    b.set([198, 51, 100, src & 0xff], 28);
    b.fill(0, 32, 38);
    b.set([198, 51, 100, next() & 0xff], 38);
    b.fill(0, 42, 60);
    return 60;
  }
  if (r < 10) {
    // ICMPv6 neighbour solicitation to the solicited-node multicast group.
    const t = next() & 0xff;
    b.set([0x33, 0x33, 0xff, 0x00, 0x00, t], 0);
    putMac(b, 6, src);
    b.set([0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255], 12);
    b.set([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x16, 0x3e, 0xff, 0xfe, 0, src >> 8, src & 0xff], 22);
    b.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, t], 38);
    b.set([135, 0, 0, 0, 0, 0, 0, 0], 54);
    b.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, t], 62);
    b.set([1, 1], 78);
    putMac(b, 80, src);
    return 86;
  }
  // Unicast IPv4/UDP, 10% of all frames tagged with one of 4 VLANs.
  putMac(b, 0, (src + 1 + (next() % (HOSTS - 1))) % HOSTS);
  putMac(b, 6, src);
  if (tagged) {
    b.set([0x81, 0x00, 0x00, 10 + (next() & 3)], 12);
    at = 16;
  }
  const payload = 18 + (next() % 120);
  const ipLen = 28 + payload;
  b.set([0x08, 0x00, 0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0], at);
  b.set([198, 51, 100, src & 0xff, 203, 0, 113, next() & 0xff], at + 14);
  b.set([0xc0, 0x00, 0x00, 0x35, (payload + 8) >> 8, (payload + 8) & 0xff, 0, 0], at + 22);
  const end = at + 30 + payload;
  for (let i = at + 30; i < end; i++) b[i] = i & 0xff;
  return end;
}

export function generateBenchPcap(path: string, frames: number, seed = 0x5eed): void {
  const fd = openSync(path, 'w');
  const chunk = new Uint8Array(1 << 20);
  const view = new DataView(chunk.buffer);
  const next = rng(seed);
  let used = 0;
  const header = [0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1];
  view.setUint32(0, header[0]!, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, 0, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 1, true);
  used = 24;
  const scratch = new Uint8Array(256);
  let usec = 0;
  for (let n = 0; n < frames; n++) {
    const len = benchFrame(scratch, next);
    if (used + 16 + len > chunk.length) {
      writeSync(fd, chunk, 0, used);
      used = 0;
    }
    usec += 2 + (next() & 7); // ~200k frames/s of traffic
    view.setUint32(used, 1700000000 + Math.floor(usec / 1e6), true);
    view.setUint32(used + 4, usec % 1e6, true);
    view.setUint32(used + 8, len, true);
    view.setUint32(used + 12, len, true);
    chunk.set(scratch.subarray(0, len), used + 16);
    used += 16 + len;
  }
  writeSync(fd, chunk, 0, used);
  closeSync(fd);
}
