/**
 * What the decompressing worker (decompress-worker.ts) and the reading thread (decompress.ts)
 * share: a ByteRing (byte-ring.ts) of decompressed bytes, ended by the worker as done (every byte
 * decompressed and, for gzip, each member's CRC-32 and length checked) or failed with its reason.
 */

export type Compression = 'gzip' | 'zstd';

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
  /** The ByteRing's buffer. */
  shared: SharedArrayBuffer;
}
