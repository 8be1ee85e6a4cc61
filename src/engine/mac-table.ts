/**
 * The MAC table, keyed by (VLAN, MAC): per port frames and bytes in and out, first and last seen,
 * and where the bridge would have the MAC learned. Numeric keys only, no strings or objects per
 * frame. Bounded: past `limit` MACs new ones are counted, not kept.
 */

/** Per port: frames in, frames out, frames of unknown direction, bytes in, bytes out. */
export const PC_IN = 0;
export const PC_OUT = 1;
export const PC_UNKNOWN = 2;
export const PC_BYTES_IN = 3;
export const PC_BYTES_OUT = 4;

export interface Move {
  t: number;
  from: number;
  to: number;
  byEcho: boolean;
  port: number;
  dir: number;
  input: number;
  frame: number;
}

export interface MacEntry {
  vlan: number;
  mac: number;
  /** ns since the analysis' base second. */
  first: number;
  last: number;
  ports: Map<number, Float64Array>;
  /** Port index the bridge has it learned on (-1: never inbound on a bridge port). */
  learnedOn: number;
  learnedAt: number;
  moves: number;
  echoMoves: number;
  lastMove: Move | null;
  /** Since when the bridge has this guest behind the bond (ns), -1 while right. */
  wrongSince: number;
  /** The port counted last and its counters: most frames of a MAC come through the port before. */
  lastPort: number;
  lastCounts: Float64Array | null;
}

const TWO_32 = 4294967296;
const INITIAL_SLOTS = 1024;

export class MacTable {
  /**
   * Open addressing with linear probing over typed arrays: a MAC is 48 bits, more than V8 keeps
   * as a small integer, so a Map keyed by it hashes a heap number per lookup. Here the key is two
   * int32s (the MAC's low 32 bits; the VLAN and the MAC's high 16 bits) and nothing is allocated.
   */
  private keyLo = new Int32Array(INITIAL_SLOTS);
  private keyHi = new Int32Array(INITIAL_SLOTS);
  /** Entry index + 1 per slot; 0 is an empty slot. Entries are never removed. */
  private slot = new Int32Array(INITIAL_SLOTS);
  private readonly all: MacEntry[] = [];
  /** Entries per VLAN in the order first seen, VLANs in the order first seen: the report's order. */
  private readonly byVlan = new Map<number, MacEntry[]>();
  size = 0;
  /** Distinct MACs seen past the limit: exact until as many as the limit were counted, a lower bound after. */
  dropped = 0;
  /** Whether `dropped` stopped counting (its own set of MACs is bounded too). */
  droppedSaturated = false;
  private readonly droppedSeen = new Set<number>();

  constructor(private readonly limit: number) {}

  entry(vlan: number, mac: number): MacEntry | undefined {
    const lo = mac | 0; // ToInt32 keeps the low 32 bits of the 48-bit MAC
    const hi = (vlan << 16) | ((mac / TWO_32) & 0xffff);
    const mask = this.slot.length - 1;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const at = this.slot[h]!;
      if (at === 0) break;
      if (this.keyLo[h] === lo && this.keyHi[h] === hi) return this.all[at - 1];
      h = (h + 1) & mask;
    }
    if (this.size >= this.limit) {
      // Count distinct MACs past the limit, without letting that set grow without bound either:
      // once it is full the count is a lower bound (counting every lookup would count frames, not MACs).
      if (this.droppedSeen.size < this.limit) {
        if (!this.droppedSeen.has(mac)) {
          this.droppedSeen.add(mac);
          this.dropped++;
        }
      } else this.droppedSaturated = true;
      return undefined;
    }
    const e: MacEntry = { vlan, mac, first: -1, last: -1, ports: new Map(), learnedOn: -1, learnedAt: -1, moves: 0, echoMoves: 0, lastMove: null, wrongSince: -1, lastPort: -1, lastCounts: null };
    this.all.push(e);
    this.size++;
    this.keyLo[h] = lo;
    this.keyHi[h] = hi;
    this.slot[h] = this.all.length;
    let list = this.byVlan.get(vlan);
    if (!list) this.byVlan.set(vlan, (list = []));
    list.push(e);
    if (this.size * 2 > this.slot.length) this.grow();
    return e;
  }

  /** Doubles the slots (load stays at most one half) and re-places every entry. */
  private grow(): void {
    const { keyLo, keyHi, slot } = this;
    const n = slot.length * 2;
    const mask = n - 1;
    this.keyLo = new Int32Array(n);
    this.keyHi = new Int32Array(n);
    this.slot = new Int32Array(n);
    for (let i = 0; i < slot.length; i++) {
      if (slot[i] === 0) continue;
      const lo = keyLo[i]!;
      const hi = keyHi[i]!;
      let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
      h = (h ^ (h >>> 15)) & mask;
      while (this.slot[h] !== 0) h = (h + 1) & mask;
      this.keyLo[h] = lo;
      this.keyHi[h] = hi;
      this.slot[h] = slot[i]!;
    }
  }

  count(vlan: number, mac: number, port: number, dir: number, bytes: number, t: number): void {
    const e = this.entry(vlan, mac);
    if (!e) return;
    if (e.first < 0 || t < e.first) e.first = t;
    if (t > e.last) e.last = t;
    let c = e.lastPort === port ? e.lastCounts : e.ports.get(port);
    if (!c) {
      c = new Float64Array(5);
      e.ports.set(port, c);
    }
    e.lastPort = port;
    e.lastCounts = c;
    if (dir === 1) {
      c[PC_IN]!++;
      c[PC_BYTES_IN]! += bytes;
    } else if (dir === 2) {
      c[PC_OUT]!++;
      c[PC_BYTES_OUT]! += bytes;
    } else c[PC_UNKNOWN]!++;
  }

  *entries(): IterableIterator<MacEntry> {
    for (const list of this.byVlan.values()) yield* list;
  }
}
