/**
 * The MAC table, keyed by (VLAN, MAC): per port frames and bytes in and out, first and last seen,
 * and where the bridge would have the MAC learned. Numeric keys only, no strings or objects per
 * frame. Bounded: past `limit` MACs new ones are counted, not kept.
 */

import { keyHi, keyLo, MacIndex } from './mac-index.js';

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
  /** It left a port the MAC was learned on only by echoes of its own frames: a return, not a migration. */
  fromEcho: boolean;
  port: number;
  dir: number;
  input: number;
  frame: number;
  /** The MAC's last inbound frame on the old port (input, frame; -1 when not seen). */
  prevInput: number;
  prevFrame: number;
}

/** A copy of a frame as the table counts it (a path's sighting). */
export interface CountedCopy {
  readonly port: number;
  readonly dir: number;
  readonly t: number;
}

/** Per-MAC hot record (Float64Array, HOT_STRIDE numbers per MAC: one cache line). */
const H_FIRST = 0;
const H_LAST = 1;
/** The port the counters below are for (-1: none yet); they move to the port's own counters when it changes. */
const H_PORT = 2;
const H_COUNTS = 3;
const HOT_STRIDE = 8;

/**
 * One (VLAN, MAC). Its per-frame numbers (first and last seen, the current port's counters) live
 * in the table's hot record, where counting a frame touches one cache line and writes no object;
 * the getters read them.
 */
export class MacEntry {
  /** Port index the bridge has it learned on (-1: never inbound on a bridge port). */
  learnedOn = -1;
  learnedAt = -1;
  /** Learned where it is only by echoes of its own frames (up the bond), no frame of its own from there. */
  learnedByEcho = false;
  moves = 0;
  echoMoves = 0;
  lastMove: Move | null = null;
  /** The first move (kept for the flap's first frame and time). */
  firstMove: Move | null = null;
  /** Since when the bridge has this guest behind the bond (ns), -1 while right. */
  wrongSince = -1;
  /** When the bridge first had this guest behind the bond (ns), -1 never. */
  firstWrong = -1;
  /** Since when the entry is right again after having been wrong (ns), -1 otherwise. */
  rightSince = -1;
  /** The echo that made the entry wrong (input, frame, port), while wrong. */
  wrongInput = -1;
  wrongFrame = -1;
  wrongPort = -1;
  /** Every copy of that echo's frame, with its place in the path (kept once per episode, for evidence). */
  wrongPath: { input: number; frame: number; port: number; dir: number; place: number }[] | null = null;
  /** The latest frame from this MAC that came in on the port it is learned on (input, frame). */
  lastInInput = -1;
  lastInFrame = -1;
  /** Counters per port, in the order the ports were first seen (what `ports` shows), except what the hot record holds for its port. */
  private readonly counted = new Map<number, Float64Array>();
  /**
   * The same counters by port index: a frame seen on four to six ports changes the hot record's
   * port at every copy, and a Map lookup per change (a heap number's hash: the port comes from the
   * Float64Array) was 6% of a multi-port analysis.
   */
  private readonly byPort: (Float64Array | undefined)[] = [];

  constructor(
    private readonly table: MacTable,
    /** @internal Row in the table's hot record. */
    readonly id: number,
    readonly vlan: number,
    readonly mac: number,
  ) {}

  /** ns since the analysis' base second (-1: not counted yet). */
  get first(): number {
    return this.table.hot[this.id * HOT_STRIDE + H_FIRST]!;
  }

  get last(): number {
    return this.table.hot[this.id * HOT_STRIDE + H_LAST]!;
  }

  /** Port index → counters (PC_IN … PC_BYTES_OUT). */
  get ports(): ReadonlyMap<number, Float64Array> {
    this.table.settleCounts(this);
    return this.counted;
  }

  /** @internal The counters of a port, created on its first frame. */
  countersOn(port: number): Float64Array {
    let c = this.byPort[port];
    if (c === undefined) {
      c = new Float64Array(5);
      this.byPort[port] = c;
      this.counted.set(port, c);
    }
    return c;
  }
}

export class MacTable {
  /** (VLAN, MAC) → entry id (mac-index.ts: no heap number per lookup). */
  private readonly index = new MacIndex();
  /** @internal Hot records, HOT_STRIDE numbers per entry (see H_*). */
  hot = new Float64Array(64 * HOT_STRIDE);
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

  /** The entry if it is in the table (never creates one). */
  peek(vlan: number, mac: number): MacEntry | undefined {
    const id = this.index.find(keyLo(mac), keyHi(vlan, mac));
    return id >= 0 ? this.all[id] : undefined;
  }

  /** The entry, created when new (undefined past the limit). */
  entry(vlan: number, mac: number): MacEntry | undefined {
    const id = this.idOf(vlan, mac);
    return id >= 0 ? this.all[id] : undefined;
  }

  /** The entry's id, created when new; -1 past the limit. */
  private idOf(vlan: number, mac: number): number {
    // Small enough to inline into the per-frame callers, so the 48-bit MAC never needs a heap
    // number; creating an entry is the rare, separate path.
    const lo = keyLo(mac);
    const hi = keyHi(vlan, mac);
    const found = this.index.find(lo, hi);
    return found >= 0 ? found : this.insert(vlan, mac, lo, hi, -1 - found);
  }

  private insert(vlan: number, mac: number, lo: number, hi: number, free: number): number {
    if (this.size >= this.limit) {
      // Count distinct MACs past the limit, without letting that set grow without bound either:
      // once it is full the count is a lower bound (counting every lookup would count frames, not MACs).
      if (this.droppedSeen.size < this.limit) {
        if (!this.droppedSeen.has(mac)) {
          this.droppedSeen.add(mac);
          this.dropped++;
        }
      } else this.droppedSaturated = true;
      return -1;
    }
    const id = this.all.length;
    const e = new MacEntry(this, id, vlan, mac);
    this.all.push(e);
    this.size++;
    this.index.insertAt(free, lo, hi, id);
    if ((id + 1) * HOT_STRIDE > this.hot.length) {
      const hot = new Float64Array(this.hot.length * 2);
      hot.set(this.hot);
      this.hot = hot;
    }
    const r = id * HOT_STRIDE;
    this.hot[r + H_FIRST] = -1;
    this.hot[r + H_LAST] = -1;
    this.hot[r + H_PORT] = -1;
    let list = this.byVlan.get(vlan);
    if (!list) this.byVlan.set(vlan, (list = []));
    list.push(e);
    return id;
  }

  count(vlan: number, mac: number, port: number, dir: number, bytes: number, t: number): void {
    const id = this.idOf(vlan, mac);
    if (id < 0) return;
    const hot = this.hot;
    const r = id * HOT_STRIDE;
    const first = hot[r + H_FIRST]!;
    if (first < 0 || t < first) hot[r + H_FIRST] = t;
    if (t > hot[r + H_LAST]!) hot[r + H_LAST] = t;
    // Most frames of a MAC on one port come through the port before (a single-port capture: all
    // of them): count there, in the hot record; on a change of port its counters go to their
    // port's own first.
    if (hot[r + H_PORT] !== port) this.makeHot(id, port);
    const c = r + H_COUNTS;
    if (dir === 1) {
      hot[c + PC_IN]!++;
      hot[c + PC_BYTES_IN]! += bytes;
    } else if (dir === 2) {
      hot[c + PC_OUT]!++;
      hot[c + PC_BYTES_OUT]! += bytes;
    } else hot[c + PC_UNKNOWN]!++;
  }

  /**
   * A frame's copies (no bytes: a group's copies are counted by frame), looked up once: a copy on
   * the hot record's port counts there, every other copy on its port's own counters, so the hot
   * record stays where the MAC's ungrouped frames (unicast between outside hosts) come through.
   */
  countCopies(vlan: number, mac: number, copies: readonly CountedCopy[], n: number): void {
    const id = this.idOf(vlan, mac);
    if (id < 0) return;
    const hot = this.hot;
    const r = id * HOT_STRIDE;
    if (hot[r + H_PORT]! < 0) this.makeHot(id, copies[0]!.port);
    const hotPort = hot[r + H_PORT]!;
    const e = this.all[id]!;
    for (let i = 0; i < n; i++) {
      const x = copies[i]!;
      const t = x.t;
      const first = hot[r + H_FIRST]!;
      if (first < 0 || t < first) hot[r + H_FIRST] = t;
      if (t > hot[r + H_LAST]!) hot[r + H_LAST] = t;
      const k = x.dir === 1 ? PC_IN : x.dir === 2 ? PC_OUT : PC_UNKNOWN;
      if (x.port === hotPort) hot[r + H_COUNTS + k]!++;
      else e.countersOn(x.port)[k]!++;
    }
  }

  /**
   * The hot record goes to `port`: what it counted goes to its old port's counters, and the new
   * port's counters exist from now on, so `ports` lists ports in the order they were first seen.
   */
  private makeHot(id: number, port: number): void {
    const e = this.all[id]!;
    this.settleCounts(e);
    this.hot[id * HOT_STRIDE + H_PORT] = port;
    e.countersOn(port);
  }

  /** @internal Moves the hot counters of `e` to its port's own. */
  settleCounts(e: MacEntry): void {
    const hot = this.hot;
    const r = e.id * HOT_STRIDE;
    const port = hot[r + H_PORT]!;
    if (port < 0) return;
    const c = e.countersOn(port | 0);
    for (let i = 0; i < 5; i++) {
      c[i]! += hot[r + H_COUNTS + i]!;
      hot[r + H_COUNTS + i] = 0;
    }
  }

  *entries(): IterableIterator<MacEntry> {
    for (const list of this.byVlan.values()) yield* list;
  }
}
