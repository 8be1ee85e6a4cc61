/**
 * What the decompressing worker (decompress-worker.ts) and the reading thread (decompress.ts)
 * share: a SharedArrayBuffer with a control block, a ring of decompressed bytes and room for the
 * worker's one-line reason when it stops early.
 */

export type Compression = 'gzip' | 'zstd';

/** Int32 slots of the control block. */
export const C_FILLED = 0; // bytes in the ring not yet taken by the reader
export const C_STATE = 1; // ST_*
export const C_CLOSED = 2; // 1: the reader stopped; the worker ends
export const C_REASON_LEN = 3; // bytes of the reason (UTF-8)
export const CONTROL_BYTES = 64;
export const REASON_BYTES = 1024;

export const ST_RUNNING = 0;
/** Every byte of the input was decompressed (and, for gzip, each member's CRC-32 and length checked). */
export const ST_DONE = 1;
/** Stopped early: the reason says why; what is in the ring was decompressed before that. */
export const ST_FAILED = 2;

/** Decompressed bytes in flight between the threads: enough to keep both busy, small enough to stay in cache. */
export const RING_BYTES = 4 << 20;

export interface DecompressWorkerData {
  compression: Compression;
  /**
   * A file's path, which the worker opens (and closes) itself and reads from its start; or null
   * for standard input, fd 0, shared by every thread of the process and read on from where the
   * reading thread stopped.
   */
  path: string | null;
  /** For standard input: the bytes already read from it to recognise the format, decompressed first. */
  prefix: Uint8Array;
  shared: SharedArrayBuffer;
}
