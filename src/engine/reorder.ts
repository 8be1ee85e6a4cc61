/**
 * Time order first: every decoded frame passes through this stage before any grouping, path or
 * learning, so what the engine concludes never depends on the order records were written in.
 *
 * Why frames arrive out of order: dumpcap writes each interface's frames in batches, up to a few
 * hundred ms apart; a live capture hands several handles' frames over in bursts; `tcpdump -i any`
 * writes what several CPUs queued. Within one capture interface frames are (nearly) in order.
 * So frames are kept per stream (one per capture interface, up to MAX_STREAMS) in FIFO rings, and
 * released by a k-way merge: the oldest head of all streams, once it is older than the latest
 * frame by the horizon. A frame older than the tail of its own stream (a clock step, a disordered
 * `-i any`) goes to a min-heap beside the rings instead of breaking their order.
 *
 * Bounded in time and memory, and what happens past each bound:
 * - Time, REORDER_HORIZON_NS: a frame is held until a frame stamped a horizon later has arrived.
 *   A frame that arrives stamped before a frame already released is *late*: it is released at
 *   once, in arrival order, and counted (`late`); a stream that lags the others by more than the
 *   horizon gives late frames.
 * - Memory, REORDER_MAX_FRAMES frames held (columns of typed arrays, ~60 bytes a frame): at the
 *   limit the oldest held frame is released before its horizon and counted (`releasedEarly`); a
 *   frame arriving after that with an older stamp is late as above.
 * Nothing is dropped: every frame is released exactly once.
 *
 * What is kept per frame is what the stages after it read — never the bytes (the record is a view
 * valid only until the next one): time, port, direction, input and frame number, original length,
 * source, destination, VLAN, broadcast/multicast flags and the frame's identity (identity.ts).
 */

/**
 * How long a frame waits for earlier ones: dumpcap's per-interface batches are up to a few hundred
 * ms out of order; a second covers them with room.
 */
export const REORDER_HORIZON_NS = 1e9;
/** Frames held at most (a second of a ~250k frames/s uplink); past it the oldest go early. */
export const REORDER_MAX_FRAMES = 1 << 18;
/** Capture interfaces with a ring of their own; further ones share the last. */
export const MAX_STREAMS = 16;

const INITIAL_ROWS = 4096;

export const FL_BROADCAST = 1;
export const FL_MULTICAST = 2;

export interface ReorderStats {
  /** Frames that arrived stamped before a frame already released: handled in arrival order. */
  late: number;
  /** Frames released before their horizon because the buffer was full. */
  releasedEarly: number;
  /** Frames held at most at one time. */
  maxHeld: number;
}

/** A FIFO of row numbers. */
class RowRing {
  rows = new Int32Array(256);
  head = 0;
  length = 0;
  /** Time of the newest row pushed (the ring is in time order). */
  tailT = -Infinity;

  push(row: number, t: number): void {
    if (this.length === this.rows.length) {
      const n = new Int32Array(this.rows.length * 2);
      for (let i = 0; i < this.length; i++) n[i] = this.rows[(this.head + i) & (this.rows.length - 1)]!;
      this.rows = n;
      this.head = 0;
    }
    this.rows[(this.head + this.length) & (this.rows.length - 1)] = row;
    this.length++;
    this.tailT = t;
  }

  peek(): number {
    return this.rows[this.head]!;
  }

  shift(): void {
    this.head = (this.head + 1) & (this.rows.length - 1);
    this.length--;
  }
}

export class ReorderBuffer {
  private cap = INITIAL_ROWS;
  /** Free rows, a stack. */
  private free = new Int32Array(INITIAL_ROWS);
  private freeN = 0;
  held = 0;

  // Columns, one entry per row.
  t = new Float64Array(INITIAL_ROWS);
  src = new Float64Array(INITIAL_ROWS);
  dst = new Float64Array(INITIAL_ROWS);
  frame = new Float64Array(INITIAL_ROWS);
  port = new Int32Array(INITIAL_ROWS);
  input = new Int32Array(INITIAL_ROWS);
  origLen = new Int32Array(INITIAL_ROWS);
  vlan = new Int32Array(INITIAL_ROWS);
  key = new Int32Array(INITIAL_ROWS);
  check = new Int32Array(INITIAL_ROWS);
  dir = new Uint8Array(INITIAL_ROWS);
  flags = new Uint8Array(INITIAL_ROWS);
  /** Arrival number: orders frames with one stamp the same way whatever stream they are in. */
  private seq = new Float64Array(INITIAL_ROWS);
  private nextSeq = 0;

  private readonly streams: RowRing[] = [];
  /** Rows that arrived older than their stream's tail: a binary min-heap on (t, seq). */
  private heap = new Int32Array(256);
  private heapN = 0;

  /** Time of the newest frame released (late frames are those stamped before it). */
  releasedT = -Infinity;
  /** Time of the latest frame pushed. */
  latestT = -Infinity;
  readonly stats: ReorderStats = { late: 0, releasedEarly: 0, maxHeld: 0 };

  constructor(
    readonly horizonNs = REORDER_HORIZON_NS,
    readonly maxFrames = REORDER_MAX_FRAMES,
  ) {
    for (let r = INITIAL_ROWS - 1; r >= 0; r--) this.free[this.freeN++] = r;
  }

  /** Holds one frame; returns its row (its columns are filled by the caller before the next call). */
  push(stream: number, t: number): number {
    if (this.freeN === 0) this.grow();
    const row = this.free[--this.freeN]!;
    this.held++;
    if (this.held > this.stats.maxHeld) this.stats.maxHeld = this.held;
    this.t[row] = t;
    this.seq[row] = this.nextSeq++;
    if (t < this.releasedT) this.stats.late++;
    this.latestT = t;
    const s = stream < MAX_STREAMS ? stream : MAX_STREAMS - 1;
    while (this.streams.length <= s) this.streams.push(new RowRing());
    const ring = this.streams[s]!;
    if (t >= ring.tailT) ring.push(row, t);
    else this.heapPush(row);
    return row;
  }

  /**
   * The next row to release, or -1: the oldest held frame once it is a horizon older than the
   * latest arrival (`all`: whatever its age, at the end), or when the buffer is full. The caller
   * reads its columns, then calls `release(row)`.
   */
  next(all: boolean): number {
    if (this.held === 0) return -1;
    let best = -1;
    let bestT = Infinity;
    let bestSeq = Infinity;
    let bestStream = -1;
    const streams = this.streams;
    for (let i = 0; i < streams.length; i++) {
      const ring = streams[i]!;
      if (ring.length === 0) continue;
      const row = ring.peek();
      const t = this.t[row]!;
      if (t < bestT || (t === bestT && this.seq[row]! < bestSeq)) {
        best = row;
        bestT = t;
        bestSeq = this.seq[row]!;
        bestStream = i;
      }
    }
    if (this.heapN > 0) {
      const row = this.heap[0]!;
      const t = this.t[row]!;
      if (t < bestT || (t === bestT && this.seq[row]! < bestSeq)) {
        best = row;
        bestT = t;
        bestStream = -1;
      }
    }
    if (!all && bestT > this.latestT - this.horizonNs) {
      if (this.held < this.maxFrames) return -1;
      this.stats.releasedEarly++;
    }
    if (bestStream >= 0) streams[bestStream]!.shift();
    else this.heapPop();
    if (bestT > this.releasedT) this.releasedT = bestT;
    return best;
  }

  /** Time passed without frames (live mode): frames a horizon older than `t` may go. */
  advance(t: number): void {
    if (t > this.latestT) this.latestT = t;
  }

  release(row: number): void {
    this.free[this.freeN++] = row;
    this.held--;
  }

  private grow(): void {
    const n = this.cap * 2;
    const grown = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
      const out = new (a.constructor as new (n: number) => T)(n);
      out.set(a);
      return out;
    };
    this.t = grown(this.t);
    this.src = grown(this.src);
    this.dst = grown(this.dst);
    this.frame = grown(this.frame);
    this.port = grown(this.port);
    this.input = grown(this.input);
    this.origLen = grown(this.origLen);
    this.vlan = grown(this.vlan);
    this.key = grown(this.key);
    this.check = grown(this.check);
    this.dir = grown(this.dir);
    this.flags = grown(this.flags);
    this.seq = grown(this.seq);
    this.free = new Int32Array(n);
    this.freeN = 0;
    for (let r = n - 1; r >= this.cap; r--) this.free[this.freeN++] = r;
    this.cap = n;
  }

  private before(a: number, b: number): boolean {
    const ta = this.t[a]!;
    const tb = this.t[b]!;
    return ta < tb || (ta === tb && this.seq[a]! < this.seq[b]!);
  }

  private heapPush(row: number): void {
    if (this.heapN === this.heap.length) {
      const n = new Int32Array(this.heap.length * 2);
      n.set(this.heap);
      this.heap = n;
    }
    const h = this.heap;
    let i = this.heapN++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(row, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = row;
  }

  private heapPop(): void {
    const h = this.heap;
    const last = h[--this.heapN]!;
    const n = this.heapN;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(h[c + 1]!, h[c]!)) c++;
      if (!this.before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    if (n > 0) h[i] = last;
  }
}
