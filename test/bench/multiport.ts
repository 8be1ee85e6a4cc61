/**
 * The multi-port benchmark capture: the traffic of generate.ts as the ports of a bonded bridge host
 * record it. Host: active-backup bond0 over eth0 (active) and eth1, bridge xenbr0 (promiscuous
 * while captured, so it sees every frame it forwards), guests behind vif1.0, vif2.0, vif3.0.
 * Each frame is seen on every port its path crosses, a hop later on each (HOP_US): outside → guest
 * unicast on eth0, bond0, xenbr0 and the guest's vif (4); guest → outside on the vif, xenbr0, bond0,
 * eth0 (4); broadcasts and multicast flooded to every other guest (6). The loop variant is the
 * host whose backup slave passes up what the switch floods back: each broadcast a guest or the host
 * sends comes back in on eth1 a switch latency later (SWITCH_US), up bond0, and a guest's is
 * flooded to every vif again, its MAC learned on bond0 until it next sends from its vif; unicast
 * to a guest while it is learned there is seen up to xenbr0 and on no vif (the bridge drops it).
 *
 * Two forms of one run, as users bring them:
 *  - `IFACE.pcap` per port, as `tcpdump -i IFACE` writes (each in its own time order);
 *  - `host.pcapng`, as `dumpcap -i eth0 -i eth1 …` writes: one IDB per port, records in per-port
 *    batches (a batch goes when it holds its port's batch size or its oldest frame is BATCH_AGE_US
 *    old), so the file is not in time order across ports.
 * Deterministic (seeded); frames kept once in memory, sightings as typed-array columns.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { benchFrame, rng } from './generate.js';

export const PORTS = ['eth0', 'eth1', 'bond0', 'xenbr0', 'vif1.0', 'vif2.0', 'vif3.0'] as const;
const ETH0 = 0;
const ETH1 = 1;
const BOND = 2;
const BRIDGE = 3;
const VIF0 = 4;
const GUESTS = 3;
const HOST_MAC = [0x00, 0x25, 0x90, 0x00, 0x00, 0x01];
/** One in-host hop (NIC → bond → bridge → vif, and back): 1–4 µs. */
const HOP_US = 1;
/** The switch fabric's flood back into the other slave: 20–83 µs. */
const SWITCH_US = 20;
const BATCH_AGE_US = 20_000;

export interface MultiportRun {
  dir: string;
  perInterface: string[];
  pcapng: string;
  frames: number;
  sightings: number;
}

/** Classic little-endian µs pcap, written in 1 MiB chunks. */
class PcapFile {
  private readonly fd: number;
  private readonly chunk = new Uint8Array(1 << 20);
  private readonly view = new DataView(this.chunk.buffer);
  private used = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
    const v = this.view;
    v.setUint32(0, 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, 65535, true);
    v.setUint32(20, 1, true);
    this.used = 24;
  }
  write(us: number, b: Uint8Array, off: number, len: number): void {
    if (this.used + 16 + len > this.chunk.length) this.flush();
    const v = this.view;
    v.setUint32(this.used, 1700000000 + Math.floor(us / 1e6), true);
    v.setUint32(this.used + 4, us % 1e6, true);
    v.setUint32(this.used + 8, len, true);
    v.setUint32(this.used + 12, len, true);
    this.chunk.set(b.subarray(off, off + len), this.used + 16);
    this.used += 16 + len;
  }
  private flush(): void {
    writeSync(this.fd, this.chunk, 0, this.used);
    this.used = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function guestMac(b: Uint8Array, at: number, g: number): void {
  b.set([0x00, 0x16, 0x3e, 0x00, 0x00, g + 1], at);
}

/** Outside hosts 52:54:00:00:00:01 … 52:54:00:00:00:fe. */
function outsideMac(b: Uint8Array, at: number, h: number): void {
  b.set([0x52, 0x54, 0x00, 0x00, 0x00, 1 + (h % 254)], at);
}

/** The sender's MAC inside ARP and an NS's source link-layer option follows the frame's source. */
function senderFollowsSource(b: Uint8Array): void {
  if (b[12] === 0x08 && b[13] === 0x06) b.copyWithin(22, 6, 12);
  else if (b[12] === 0x86 && b[13] === 0xdd) b.copyWithin(80, 6, 12);
}

export function generateMultiport(dir: string, frames: number, loop: boolean, seed = 0x5eed): MultiportRun {
  mkdirSync(dir, { recursive: true });
  const next = rng(seed);
  // Frames' bytes once; sightings as (µs, port, frame) packed in one double each, sorted natively.
  const bytes = new Uint8Array(frames * 140);
  const fOff = new Int32Array(frames);
  const fLen = new Int32Array(frames);
  let keys = new Float64Array(frames * 6);
  let n = 0;
  const see = (us: number, port: number, f: number): void => {
    if (n === keys.length) {
      const k = new Float64Array(keys.length * 2);
      k.set(keys);
      keys = k;
    }
    // µs < 2^26, port < 8, frame < 2^23: exact in a double's 53 bits.
    keys[n++] = (us * 8 + port) * 8388608 + f;
  };
  const hop = (): number => HOP_US + (next() & 3);
  const learnedOnBond = new Uint8Array(GUESTS);
  let used = 0;
  let us = 0;
  for (let f = 0; f < frames; f++) {
    us += 2 + (next() & 7);
    const b = bytes.subarray(used);
    const len = benchFrame(b, next);
    fOff[f] = used;
    fLen[f] = len;
    used += len;
    const g = next() % GUESTS;
    const vif = VIF0 + g;
    const flooded = (b[0]! & 1) === 1;
    const fromInside = next() % 100 < 45;
    if (flooded && next() % 10 === 0) {
      // The host's own broadcast: out of the bridge, to every guest and up the bond.
      b.set(HOST_MAC, 6);
      senderFollowsSource(b);
      let t = us;
      see(t, BRIDGE, f);
      for (let v = 0; v < GUESTS; v++) see(t + hop(), VIF0 + v, f);
      see((t += hop()), BOND, f);
      see((t += hop()), ETH0, f);
      if (loop) {
        see((t += SWITCH_US + (next() & 63)), ETH1, f);
        see(t + hop(), BOND, f);
      }
    } else if (fromInside) {
      // A guest's frame: in on its vif, through the bridge; flooded to the other guests too.
      guestMac(b, 6, g);
      if (!flooded) outsideMac(b, 0, next());
      senderFollowsSource(b);
      learnedOnBond[g] = 0;
      let t = us;
      see(t, vif, f);
      see((t += hop()), BRIDGE, f);
      if (flooded) for (let v = 0; v < GUESTS; v++) if (v !== g) see(t + hop(), VIF0 + v, f);
      see((t += hop()), BOND, f);
      see((t += hop()), ETH0, f);
      if (loop && flooded) {
        see((t += SWITCH_US + (next() & 63)), ETH1, f);
        see((t += hop()), BOND, f);
        see((t += hop()), BRIDGE, f);
        for (let v = 0; v < GUESTS; v++) see(t + hop(), VIF0 + v, f);
        learnedOnBond[g] = 1;
      }
    } else {
      // From outside: in on the active slave, up the bond and the bridge; to the guest, or flooded.
      outsideMac(b, 6, next());
      if (!flooded) guestMac(b, 0, g);
      senderFollowsSource(b);
      let t = us;
      see(t, ETH0, f);
      see((t += hop()), BOND, f);
      see((t += hop()), BRIDGE, f);
      if (flooded) for (let v = 0; v < GUESTS; v++) see(t + hop(), VIF0 + v, f);
      else if (!learnedOnBond[g]) see(t + hop(), vif, f);
    }
  }
  const sorted = keys.subarray(0, n).sort();
  const perInterface = PORTS.map((p) => join(dir, `${p}.pcap`));
  const files = perInterface.map((p) => new PcapFile(p));
  const pcapng = join(dir, 'host.pcapng');
  const ng = new PcapngWriter(pcapng, { userappl: 'bondscope bench (dumpcap-like batches)' });
  for (const name of PORTS) ng.addInterface({ name, linkType: 1, snaplen: 262144, tsDigits: 6 });
  // dumpcap's per-interface batches: each port's own batch size, flushed when full or old.
  const batchSize = PORTS.map(() => 32 + (next() % 224));
  const queues: number[][] = PORTS.map(() => []);
  const writeNg = (port: number): void => {
    for (const k of queues[port]!) {
      const f = k % 8388608;
      const t = Math.floor(k / 8388608 / 8);
      ng.writePacket(port, 1700000000 + Math.floor(t / 1e6), (t % 1e6) * 1000, bytes, fOff[f]!, fLen[f]!, fLen[f]!);
    }
    queues[port]!.length = 0;
  };
  const oldest = new Float64Array(PORTS.length);
  for (let i = 0; i < n; i++) {
    const k = sorted[i]!;
    const f = k % 8388608;
    const pt = Math.floor(k / 8388608);
    const port = pt % 8;
    const t = (pt - port) / 8;
    files[port]!.write(t, bytes, fOff[f]!, fLen[f]!);
    const q = queues[port]!;
    if (q.length === 0) oldest[port] = t;
    q.push(k);
    if (q.length >= batchSize[port]!) writeNg(port);
    for (let p = 0; p < PORTS.length; p++) if (queues[p]!.length > 0 && t - oldest[p]! >= BATCH_AGE_US) writeNg(p);
  }
  for (let p = 0; p < PORTS.length; p++) writeNg(p);
  ng.close();
  for (const file of files) file.close();
  return { dir, perInterface, pcapng, frames, sightings: n };
}
