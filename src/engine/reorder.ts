/**
 * Time order first: every decoded frame passes through this stage before any grouping, path or
 * learning, so what the engine concludes never depends on the order records were written in.
 *
 * Why frames arrive out of order: dumpcap writes each interface's frames in batches, up to a few
 * hundred ms apart; a live capture hands several handles' frames over in bursts; `tcpdump -i any`
 * writes what several CPUs queued. Within one capture interface frames are (nearly) in order.
 * So frames are kept per stream (one per capture interface, up to MAX_STREAMS) in FIFO rings, and
 * released by a k-way merge: the oldest head of all streams, once no stream can still deliver an
 * earlier frame. Files of one interface each (tcpdump's) are merged in time order by the reader
 * (src/capture/index.ts), so there a frame goes once every stream that delivered within the
 * horizon is STREAM_SLACK_NS past it (the watermark): a few ms of frames are held, not a second.
 * Once an input shows two interfaces (dumpcap's pcapng, a live session, `-i any` is one), its
 * interfaces may be a few hundred ms apart: frames are then held for the whole horizon.
 * A frame older than the tail of its own stream (a clock step, a disordered `-i any`) goes to a
 * min-heap beside the rings instead of breaking their order.
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
/**
 * How far behind the slowest interface a frame of single-interface inputs waits: none. Such files
 * (tcpdump's) are merged by time by the reader; within one, frames are in the kernel's order, at
 * worst µs apart between CPUs — those are handled as they come (counted as late): the grouping and
 * the path stage order the copies of one frame by their stamps themselves.
 */
export const STREAM_SLACK_NS = 0;
/**
 * How far within an `-i any` capture a frame may come after a later-stamped one and still be put
 * in order: the kernel hands each CPU's frames over separately (µs to a few ms apart).
 */
export const COOKED_SLACK_NS = 20e6;
/** Frames held at most (a second of a ~250k frames/s uplink); past it the oldest go early. */
export const REORDER_MAX_FRAMES = 1 << 18;
/** Inputs whose interfaces are told apart; past it an input counts as having several. */
const MAX_INPUTS = 4096;
/** Capture interfaces with a ring of their own; further ones share the last. */
export const MAX_STREAMS = 16;

const INITIAL_ROWS = 4096;

export const FL_BROADCAST = 1;
export const FL_MULTICAST = 2;
/** The frame's identity (key, check) was taken: it may be grouped with its other copies. */
export const FL_IDENTIFIED = 4;

export interface ReorderStats {
  /** Frames that arrived stamped before a frame already released: handled in arrival order. */
  late: number;
  /** How far before the newest released frame the latest of them was stamped, at most (ns). */
  maxLateNs: number;
  /** Frames released before their horizon because the buffer was full. */
  releasedEarly: number;
  /** Frames held at most at one time. */
  maxHeld: number;
}

/**
 * A held frame is one 64-byte row (a cache line): written once on arrival, read once when it is
 * released. As doubles (F_*: index within the row's 8) and, over the same bytes, as int32s (I_*:
 * within its 16).
 */
export const ROW_F64 = 8;
export const ROW_I32 = 16;
export const F_T = 0;
export const F_SRC = 1;
export const F_DST = 2;
export const F_FRAME = 3;
export const I_PORT = 8;
export const I_INPUT = 9;
export const I_ORIG_LEN = 10;
export const I_VLAN = 11;
export const I_KEY = 12;
export const I_CHECK = 13;
/** Direction (low byte) and FL_* flags (next byte). */
export const I_DIR_FLAGS = 14;
export const I_STREAM = 15;

function writeRow(f: Float64Array, i: Int32Array, row: number, t: number, src: number, dst: number, frame: number, port: number, input: number, origLen: number, vlan: number, dirFlags: number, key: number, check: number, s: number): void {
  const b = row * ROW_F64;
  f[b + F_T] = t;
  f[b + F_SRC] = src;
  f[b + F_DST] = dst;
  f[b + F_FRAME] = frame;
  const c = row * ROW_I32;
  i[c + I_PORT] = port;
  i[c + I_INPUT] = input;
  i[c + I_ORIG_LEN] = origLen;
  i[c + I_VLAN] = vlan;
  i[c + I_KEY] = key;
  i[c + I_CHECK] = check;
  i[c + I_DIR_FLAGS] = dirFlags;
  i[c + I_STREAM] = s;
}

/** A FIFO of rows, in time order: one capture interface's frames. */
class StreamRing {
  f = new Float64Array(INITIAL_ROWS * ROW_F64);
  i = new Int32Array(this.f.buffer);
  /** Rows the ring holds at most (a power of two). */
  cap = INITIAL_ROWS;
  head = 0;
  length = 0;
  /** Time of the newest row pushed (the ring is in time order). */
  tailT = -Infinity;

  put(t: number, src: number, dst: number, frame: number, port: number, input: number, origLen: number, vlan: number, dirFlags: number, key: number, check: number, s: number): void {
    if (this.length === this.cap) this.grow();
    const row = (this.head + this.length) & (this.cap - 1);
    this.length++;
    this.tailT = t;
    writeRow(this.f, this.i, row, t, src, dst, frame, port, input, origLen, vlan, dirFlags, key, check, s);
  }

  headT(): number {
    return this.f[this.head * ROW_F64 + F_T]!;
  }

  private grow(): void {
    const n = this.cap * 2;
    const f = new Float64Array(n * ROW_F64);
    const first = Math.min(this.length, this.cap - this.head);
    f.set(this.f.subarray(this.head * ROW_F64, (this.head + first) * ROW_F64));
    f.set(this.f.subarray(0, (this.length - first) * ROW_F64), first * ROW_F64);
    this.f = f;
    this.i = new Int32Array(f.buffer);
    this.cap = n;
    this.head = 0;
  }
}

export class ReorderBuffer {
  held = 0;
  private readonly streams: StreamRing[] = [];
  /** Rows that arrived older than their stream's tail: a pool of rows and a binary min-heap on (t, stream) over it. */
  private poolF = new Float64Array(64 * ROW_F64);
  private poolI = new Int32Array(this.poolF.buffer);
  private poolFree: number[] = [];
  private poolN = 0;
  private heap = new Int32Array(64);
  private heapN = 0;
  /** The released row, read by the caller until the next `next()`. */
  readonly cur = new Float64Array(ROW_F64);
  readonly curI = new Int32Array(this.cur.buffer);

  /** Time of the newest frame released (late frames are those stamped before it). */
  releasedT = -Infinity;
  /** Time of the latest frame pushed, and the newest. */
  latestT = -Infinity;
  newestT = -Infinity;
  /** Per input (index < MAX_INPUTS): its first stream + 1, 0 before its first frame. */
  private readonly inputStream = new Int32Array(MAX_INPUTS);
  /** How far behind the slowest active stream a frame must be to go: the slack, or the horizon once an input has several interfaces. */
  private margin = STREAM_SLACK_NS;
  readonly stats: ReorderStats = { late: 0, maxLateNs: 0, releasedEarly: 0, maxHeld: 0 };

  constructor(
    readonly horizonNs = REORDER_HORIZON_NS,
    readonly maxFrames = REORDER_MAX_FRAMES,
  ) {}

  /**
   * Whether a frame of `stream` stamped `t` may skip the buffer, and is taken as released: nothing
   * is held, its input has shown one interface so far and it is not older than what went before.
   * (Then no frame can come that should go before it.)
   */
  passThrough(stream: number, input: number, t: number): boolean {
    if (this.held !== 0 || this.margin !== STREAM_SLACK_NS || t < this.releasedT) return false;
    const s = stream < MAX_STREAMS ? stream : MAX_STREAMS - 1;
    if (input >= MAX_INPUTS) return false;
    const known = this.inputStream[input]!;
    if (known !== s + 1) {
      if (known !== 0) return false;
      this.inputStream[input] = s + 1;
    }
    if (s >= this.streams.length) this.addStreams(s);
    const ring = this.streams[s]!;
    if (t > ring.tailT) ring.tailT = t;
    this.latestT = t;
    if (t > this.newestT) this.newestT = t;
    this.releasedT = t;
    return true;
  }

  /** Holds one frame. */
  push(stream: number, t: number, src: number, dst: number, frame: number, port: number, input: number, origLen: number, vlan: number, dirFlags: number, key: number, check: number): void {
    this.held++;
    if (t < this.releasedT) {
      this.stats.late++;
      if (this.releasedT - t > this.stats.maxLateNs) this.stats.maxLateNs = this.releasedT - t;
    }
    this.latestT = t;
    if (t > this.newestT) this.newestT = t;
    const s = stream < MAX_STREAMS ? stream : MAX_STREAMS - 1;
    if (this.margin !== this.horizonNs) {
      // A second interface in one input: its interfaces are not merged by time for us.
      if (input >= MAX_INPUTS) this.margin = this.horizonNs;
      else if (this.inputStream[input] === 0) this.inputStream[input] = s + 1;
      else if (this.inputStream[input] !== s + 1) this.margin = this.horizonNs;
    }
    if (s >= this.streams.length) this.addStreams(s);
    const ring = this.streams[s]!;
    if (t >= ring.tailT) ring.put(t, src, dst, frame, port, input, origLen, vlan, dirFlags, key, check, s);
    else this.putLate(t, src, dst, frame, port, input, origLen, vlan, dirFlags, key, check, s);
  }

  private addStreams(s: number): void {
    while (this.streams.length <= s) this.streams.push(new StreamRing());
  }

  /** A frame older than its stream's newest: into the heap. */
  private putLate(t: number, src: number, dst: number, frame: number, port: number, input: number, origLen: number, vlan: number, dirFlags: number, key: number, check: number, s: number): void {
    const row = this.poolRow();
    writeRow(this.poolF, this.poolI, row, t, src, dst, frame, port, input, origLen, vlan, dirFlags, key, check, s);
    this.heapPush(row);
  }

  /**
   * Releases the next frame into `cur`/`curI` and returns true, or returns false: the oldest held
   * frame goes once no stream can still deliver an earlier one (see the top of this file), at the
   * end (`all`) whatever its age, or early when the buffer is full.
   */
  next(all: boolean): boolean {
    if (this.held === 0) return false;
    const horizon = this.latestT - this.horizonNs;
    const streams = this.streams;
    let bestT = Infinity;
    let bestStream = -1;
    let watermark = Infinity;
    const active = this.newestT - this.horizonNs;
    for (let k = 0; k < streams.length; k++) {
      const ring = streams[k]!;
      if (ring.tailT >= active && ring.tailT < watermark) watermark = ring.tailT;
      if (ring.length === 0) continue;
      const t = ring.headT();
      if (t < bestT) {
        bestT = t;
        bestStream = k;
      }
    }
    let fromHeap = false;
    if (this.heapN > 0) {
      const row = this.heap[0]!;
      const t = this.poolF[row * ROW_F64 + F_T]!;
      if (t < bestT || (t === bestT && this.poolI[row * ROW_I32 + I_STREAM]! < bestStream)) {
        bestT = t;
        fromHeap = true;
      }
    }
    if (!all && bestT > horizon && bestT > watermark - this.margin) {
      if (this.held < this.maxFrames) return false;
      this.stats.releasedEarly++;
    }
    const cur = this.cur;
    if (fromHeap) {
      const row = this.heap[0]!;
      cur.set(this.poolF.subarray(row * ROW_F64, row * ROW_F64 + ROW_F64));
      this.heapPop();
      this.poolFree.push(row);
    } else {
      const ring = streams[bestStream]!;
      const b = ring.head * ROW_F64;
      const f = ring.f;
      cur[0] = f[b]!;
      cur[1] = f[b + 1]!;
      cur[2] = f[b + 2]!;
      cur[3] = f[b + 3]!;
      cur[4] = f[b + 4]!;
      cur[5] = f[b + 5]!;
      cur[6] = f[b + 6]!;
      cur[7] = f[b + 7]!;
      ring.head = (ring.head + 1) & (ring.cap - 1);
      ring.length--;
    }
    if (this.held > this.stats.maxHeld) this.stats.maxHeld = this.held;
    this.held--;
    if (bestT > this.releasedT) this.releasedT = bestT;
    return true;
  }

  /**
   * Hold frames at least `ns` behind the slowest interface from now on: the whole horizon for an
   * input known to hold several interfaces before its first frame (a dumpcap pcapng lists them
   * all up front), COOKED_SLACK_NS for `-i any` captures (one interface fed by several CPUs).
   */
  holdFor(ns: number): void {
    if (ns > this.margin) this.margin = Math.min(ns, this.horizonNs);
  }

  /** Time passed without frames (live mode): frames a horizon older than `t` may go. */
  advance(t: number): void {
    if (t > this.latestT) this.latestT = t;
    if (t > this.newestT) this.newestT = t;
  }

  private poolRow(): number {
    if (this.poolFree.length) return this.poolFree.pop()!;
    if (this.poolN * ROW_F64 === this.poolF.length) {
      const f = new Float64Array(this.poolF.length * 2);
      f.set(this.poolF);
      this.poolF = f;
      this.poolI = new Int32Array(f.buffer);
    }
    return this.poolN++;
  }

  /** Heap order: time, then stream (frames with one stamp in stream order, as the rings give them). */
  private before(a: number, b: number): boolean {
    const ta = this.poolF[a * ROW_F64 + F_T]!;
    const tb = this.poolF[b * ROW_F64 + F_T]!;
    return ta < tb || (ta === tb && this.poolI[a * ROW_I32 + I_STREAM]! < this.poolI[b * ROW_I32 + I_STREAM]!);
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
