/**
 * The MAC table, keyed by (VLAN, MAC): per port frames and bytes in and out, first and last seen,
 * and where the bridge would have the MAC learned. Numeric keys only (a Map per VLAN keyed by the
 * 48-bit MAC), no strings per frame. Bounded: past `limit` MACs new ones are counted, not kept.
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
}

export class MacTable {
  private readonly vlans = new Map<number, Map<number, MacEntry>>();
  size = 0;
  /** Distinct MACs seen past the limit: exact until as many as the limit were counted, a lower bound after. */
  dropped = 0;
  /** Whether `dropped` stopped counting (its own set of MACs is bounded too). */
  droppedSaturated = false;
  private readonly droppedSeen = new Set<number>();

  constructor(private readonly limit: number) {}

  entry(vlan: number, mac: number): MacEntry | undefined {
    let m = this.vlans.get(vlan);
    if (!m) {
      m = new Map();
      this.vlans.set(vlan, m);
    }
    let e = m.get(mac);
    if (!e) {
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
      e = { vlan, mac, first: -1, last: -1, ports: new Map(), learnedOn: -1, learnedAt: -1, moves: 0, echoMoves: 0, lastMove: null, wrongSince: -1 };
      m.set(mac, e);
      this.size++;
    }
    return e;
  }

  count(vlan: number, mac: number, port: number, dir: number, bytes: number, t: number): void {
    const e = this.entry(vlan, mac);
    if (!e) return;
    if (e.first < 0 || t < e.first) e.first = t;
    if (t > e.last) e.last = t;
    let c = e.ports.get(port);
    if (!c) {
      c = new Float64Array(5);
      e.ports.set(port, c);
    }
    if (dir === 1) {
      c[PC_IN]!++;
      c[PC_BYTES_IN]! += bytes;
    } else if (dir === 2) {
      c[PC_OUT]!++;
      c[PC_BYTES_OUT]! += bytes;
    } else c[PC_UNKNOWN]!++;
  }

  *entries(): IterableIterator<MacEntry> {
    for (const m of this.vlans.values()) yield* m.values();
  }
}
