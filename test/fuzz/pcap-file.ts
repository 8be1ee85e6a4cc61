/** A classic pcap built in memory, for tests that make their own captures (floods, storms, properties). */

export interface PcapRecord {
  sec: number;
  /** Microseconds, or nanoseconds when the file is nanosecond. */
  frac: number;
  data: Uint8Array;
  /** Length on the wire; the data's length when absent. */
  origLen?: number;
}

export interface PcapFileOptions {
  linkType?: number;
  littleEndian?: boolean;
  nanoseconds?: boolean;
  snaplen?: number;
}

export function pcapFile(records: Iterable<PcapRecord>, opts: PcapFileOptions = {}): Uint8Array {
  const le = opts.littleEndian ?? true;
  const parts: Uint8Array[] = [];
  const head = new Uint8Array(24);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, le);
  hv.setUint16(4, 2, le);
  hv.setUint16(6, 4, le);
  hv.setUint32(16, opts.snaplen ?? 262144, le);
  hv.setUint32(20, opts.linkType ?? 1, le);
  parts.push(head);
  let total = 24;
  for (const r of records) {
    const rh = new Uint8Array(16);
    const rv = new DataView(rh.buffer);
    rv.setUint32(0, r.sec >>> 0, le);
    rv.setUint32(4, r.frac >>> 0, le);
    rv.setUint32(8, r.data.length, le);
    rv.setUint32(12, (r.origLen ?? r.data.length) >>> 0, le);
    parts.push(rh, r.data);
    total += 16 + r.data.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An Ethernet frame: destination, source (48-bit integers), EtherType, payload (padded to 60 bytes). */
export function ethernet(dst: number, src: number, etherType: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(Math.max(60, 14 + payload.length));
  putMac(b, 0, dst);
  putMac(b, 6, src);
  b[12] = etherType >> 8;
  b[13] = etherType & 0xff;
  b.set(payload, 14);
  return b;
}

export function putMac(b: Uint8Array, at: number, mac: number): void {
  const hi = Math.floor(mac / 4294967296);
  const lo = mac >>> 0;
  b[at] = hi >> 8;
  b[at + 1] = hi & 0xff;
  b[at + 2] = lo >>> 24;
  b[at + 3] = (lo >>> 16) & 0xff;
  b[at + 4] = (lo >>> 8) & 0xff;
  b[at + 5] = lo & 0xff;
}

/** An ARP who-has from `mac`/`ip` for `target` (28 bytes, Ethernet/IPv4). */
export function arpRequest(mac: number, ip: number, target: number): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 0x08, 0x00, 6, 4, 0, 1]);
  putMac(a, 8, mac);
  new DataView(a.buffer).setUint32(14, ip >>> 0);
  new DataView(a.buffer).setUint32(24, target >>> 0);
  return a;
}
