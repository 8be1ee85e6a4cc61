/**
 * Compressed captures (`.pcap.gz`, `.pcapng.zst`: what gets attached to tickets), read as the
 * bytes they hold, as Wireshark's wiretap reads them: the format is recognised from the first
 * bytes, not the file's name, and the readers see the decompressed bytes through the same
 * ChunkedInput, so they stay zero-copy on its buffer and their offsets are offsets in the
 * decompressed data.
 *
 * A worker thread decompresses ahead (decompress-worker.ts) into a ring shared with the reading
 * thread, which waits on it (Atomics.wait) only when the ring is empty: decompression runs on
 * another core, beside parsing. gzip goes through Node's zlib (CRC-32 and length of every member
 * checked); zstd through fzstd (pure JavaScript; it does not check zstd's optional content
 * checksum). lz4, xz and bzip2 are refused in one line that says how to decompress them.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../model/package.js';
import type { ByteSource } from './input.js';
import {
  C_CLOSED,
  C_FILLED,
  C_REASON_LEN,
  C_STATE,
  type Compression,
  CONTROL_BYTES,
  type DecompressWorkerData,
  REASON_BYTES,
  RING_BYTES,
  ST_FAILED,
  ST_RUNNING,
} from './decompress-protocol.js';

export type { Compression } from './decompress-protocol.js';

/** The compression a file's first bytes show, or null. */
export function compressionOf(b: Uint8Array, n: number): Compression | null {
  if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (n >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  return null;
}

/** Compressions recognised but not read, each with how to decompress it. */
export function unreadCompression(b: Uint8Array, n: number): string | null {
  const at = (s: number[]): boolean => s.every((x, i) => i < n && b[i] === x);
  if (at([0x04, 0x22, 0x4d, 0x18])) return 'compressed with lz4, which bondscope does not read (it reads gzip and zstd): decompress it with `lz4 -d FILE`';
  if (at([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'compressed with xz, which bondscope does not read (it reads gzip and zstd): decompress it with `xz -dk FILE`';
  if (at([0x42, 0x5a, 0x68])) return 'compressed with bzip2, which bondscope does not read (it reads gzip and zstd): decompress it with `bunzip2 -k FILE`';
  return null;
}

/** The decompressed bytes of a compressed input, from the worker thread's ring. */
export class DecompressingSource implements ByteSource {
  private readonly control: Int32Array;
  private readonly reason: Uint8Array;
  private readonly ring: Uint8Array;
  private readonly worker: Worker;
  private readAt = 0;
  private closed = false;

  /**
   * `path`: a file, which the worker reads again from its start; null for standard input, read on
   * after `prefix`, the bytes the reading thread took from it to recognise the format.
   */
  constructor(
    readonly compression: Compression,
    path: string | null,
    prefix: Uint8Array,
  ) {
    const shared = new SharedArrayBuffer(CONTROL_BYTES + REASON_BYTES + RING_BYTES);
    this.control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
    this.reason = new Uint8Array(shared, CONTROL_BYTES, REASON_BYTES);
    this.ring = new Uint8Array(shared, CONTROL_BYTES + REASON_BYTES, RING_BYTES);
    const data: DecompressWorkerData = { compression, path, prefix: path === null ? prefix : new Uint8Array(0), shared };
    this.worker = new Worker(workerScript(import.meta.url, 'decompress-worker'), { workerData: data });
    // The run may end (a consumer that stops early) while the worker still decompresses ahead.
    this.worker.unref();
    // The worker leaves its reason in the shared block before it ends (decompress-worker.ts);
    // an exit without one (it could not start) is said the same way.
    this.worker.on('error', (err) => this.stopped(`decompression stopped: ${err.message}`));
    this.worker.on('exit', () => this.stopped('decompression stopped: its worker thread ended'));
  }

  read(buf: Uint8Array, at: number, len: number): number {
    const control = this.control;
    for (;;) {
      const filled = Atomics.load(control, C_FILLED);
      if (filled > 0) {
        const n = Math.min(len, filled, RING_BYTES - this.readAt);
        buf.set(this.ring.subarray(this.readAt, this.readAt + n), at);
        this.readAt = (this.readAt + n) % RING_BYTES;
        Atomics.sub(control, C_FILLED, n);
        Atomics.notify(control, C_FILLED);
        return n;
      }
      const state = Atomics.load(control, C_STATE);
      if (state !== ST_RUNNING) {
        // The worker fills the ring before it says it has ended: bytes counted since are still to be taken.
        if (Atomics.load(control, C_FILLED) > 0) continue;
        if (state === ST_FAILED) throw new Error(new TextDecoder().decode(this.reason.subarray(0, Atomics.load(control, C_REASON_LEN))));
        return 0;
      }
      Atomics.wait(control, C_FILLED, 0, 1000);
    }
  }

  /** The worker is gone: if it left no state, the reader must not wait for it. */
  private stopped(reason: string): void {
    if (Atomics.load(this.control, C_STATE) !== ST_RUNNING) return;
    const b = new TextEncoder().encode(reason).subarray(0, REASON_BYTES);
    this.reason.set(b);
    Atomics.store(this.control, C_REASON_LEN, b.length);
    Atomics.store(this.control, C_STATE, ST_FAILED);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, C_CLOSED, 1);
    Atomics.notify(this.control, C_FILLED);
  }
}
