/**
 * A ring of bytes in a SharedArrayBuffer between one writer and one reader in different threads,
 * so a synchronous pull reader (ChunkedInput and the capture readers on it) can read bytes that
 * another thread produces as they come: a decompressor working ahead of the reader
 * (decompress.ts), or a capture streamed over ssh into a reading worker (remote/).
 *
 * The reader blocks (Atomics.wait) only while the ring is empty and the writer has not finished;
 * the writer either waits for room (a worker thread may block) or copies what fits and keeps the
 * rest itself (the main thread must not). The writer ends the stream once: done (every byte is in
 * the ring) or failed with a one-line reason the reader throws when it has taken every byte before
 * it. Either side may go away: the reader says it stopped (the writer's next put throws), the
 * writer's end is set by whoever sees it gone.
 */

/** Int32 slots of the control block. */
const FILLED = 0; // bytes in the ring not yet taken by the reader
const STATE = 1; // RUNNING, DONE, FAILED
const READER_GONE = 2; // 1: the reader stopped; the writer ends
const REASON_LEN = 3; // bytes of the reason (UTF-8)
const CONTROL_BYTES = 64;
const REASON_BYTES = 1024;

const RUNNING = 0;
/** Every byte of the stream is in the ring. */
const DONE = 1;
/** Stopped early: the reason says why; what is in the ring came before that. */
const FAILED = 2;

/** Thrown by a blocking put once the reader has stopped: nothing more is wanted. */
export class ReaderGone extends Error {
  override name = 'ReaderGone';
}

export class ByteRing {
  private readonly control: Int32Array;
  private readonly reasonBytes: Uint8Array;
  private readonly bytes: Uint8Array;
  /** Where the reader takes next and the writer puts next (each side keeps its own). */
  private readAt = 0;
  private writeAt = 0;

  /**
   * `doorbell`: an Int32 (shared by several rings) bumped and notified on every put and end, so
   * one reader of several rings can wait for any of them.
   */
  constructor(
    readonly shared: SharedArrayBuffer,
    private readonly doorbell: Int32Array | null = null,
  ) {
    this.control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
    this.reasonBytes = new Uint8Array(shared, CONTROL_BYTES, REASON_BYTES);
    this.bytes = new Uint8Array(shared, CONTROL_BYTES + REASON_BYTES);
  }

  /** A ring holding `capacity` bytes in flight. */
  static create(capacity: number, doorbell: Int32Array | null = null): ByteRing {
    return new ByteRing(new SharedArrayBuffer(CONTROL_BYTES + REASON_BYTES + capacity), doorbell);
  }

  get capacity(): number {
    return this.bytes.length;
  }

  /** Bytes in the ring not yet read. */
  get filled(): number {
    return Atomics.load(this.control, FILLED);
  }

  /** Whether the writer has ended the stream (done or failed). */
  get ended(): boolean {
    return Atomics.load(this.control, STATE) !== RUNNING;
  }

  // --- reader side -------------------------------------------------------------------------

  /** Copies up to `len` bytes that are there now into buf[at…); 0 when none are. Never blocks. */
  take(buf: Uint8Array, at: number, len: number): number {
    const filled = Atomics.load(this.control, FILLED);
    if (filled === 0) return 0;
    const n = Math.min(len, filled, this.bytes.length - this.readAt);
    buf.set(this.bytes.subarray(this.readAt, this.readAt + n), at);
    this.readAt = (this.readAt + n) % this.bytes.length;
    Atomics.sub(this.control, FILLED, n);
    Atomics.notify(this.control, FILLED);
    return n;
  }

  /**
   * Reads as a ByteSource does: some bytes (at most `len`), waiting while the ring is empty and the
   * stream goes on; 0 at its end; throws an Error with the writer's reason when it failed (after
   * every byte before the failure was read). `idle` runs before each wait (a reader that has
   * something to hand on does it then, instead of holding it while nothing comes).
   */
  read(buf: Uint8Array, at: number, len: number, idle?: () => void, waitMs = 1000): number {
    for (;;) {
      const n = this.take(buf, at, len);
      if (n > 0) return n;
      const state = Atomics.load(this.control, STATE);
      if (state !== RUNNING) {
        // The writer fills the ring before it says it has ended: bytes counted since are still to be taken.
        if (Atomics.load(this.control, FILLED) > 0) continue;
        if (state === FAILED) throw new Error(this.reason());
        return 0;
      }
      idle?.();
      Atomics.wait(this.control, FILLED, 0, waitMs);
    }
  }

  /** The reader stops: the writer's next put throws ReaderGone (or puts nothing). */
  stopReading(): void {
    Atomics.store(this.control, READER_GONE, 1);
    Atomics.notify(this.control, FILLED);
  }

  // --- writer side -------------------------------------------------------------------------

  get readerGone(): boolean {
    return Atomics.load(this.control, READER_GONE) === 1;
  }

  /** Room for bytes now. */
  get room(): number {
    return this.bytes.length - Atomics.load(this.control, FILLED);
  }

  /** Copies what fits of chunk[from…) now and returns how many bytes that was. Never blocks. */
  put(chunk: Uint8Array, from = 0): number {
    let off = from;
    while (off < chunk.length) {
      const room = this.room;
      if (room === 0) break;
      const n = Math.min(room, chunk.length - off, this.bytes.length - this.writeAt);
      this.bytes.set(chunk.subarray(off, off + n), this.writeAt);
      this.writeAt = (this.writeAt + n) % this.bytes.length;
      off += n;
      Atomics.add(this.control, FILLED, n);
    }
    if (off > from) this.ring();
    return off - from;
  }

  /** Puts every byte of `chunk`, waiting for room (not on the main thread); throws ReaderGone once the reader has stopped. */
  putAll(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.readerGone) throw new ReaderGone();
      const filled = Atomics.load(this.control, FILLED);
      if (filled === this.bytes.length) {
        Atomics.wait(this.control, FILLED, filled, 1000);
        continue;
      }
      off += this.put(chunk, off);
    }
  }

  /** Ends the stream: done (reason null) or failed with a one-line reason. Only the first end counts. */
  finish(reason: string | null): void {
    if (Atomics.load(this.control, STATE) !== RUNNING) return;
    if (reason !== null) {
      const b = new TextEncoder().encode(reason).subarray(0, REASON_BYTES);
      this.reasonBytes.set(b);
      Atomics.store(this.control, REASON_LEN, b.length);
    }
    Atomics.store(this.control, STATE, reason === null ? DONE : FAILED);
    this.ring();
  }

  private reason(): string {
    return new TextDecoder().decode(this.reasonBytes.subarray(0, Atomics.load(this.control, REASON_LEN)));
  }

  /** Wakes the reader, and the reader of several rings through the doorbell. */
  private ring(): void {
    Atomics.notify(this.control, FILLED);
    if (this.doorbell) {
      Atomics.add(this.doorbell, 0, 1);
      Atomics.notify(this.doorbell, 0);
    }
  }
}
