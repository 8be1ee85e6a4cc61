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
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../model/package.js';
import { ByteRing } from './byte-ring.js';
import type { ByteSource } from './input.js';
import { type Compression, type DecompressWorkerData, RING_BYTES } from './decompress-protocol.js';

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
  private readonly ring = ByteRing.create(RING_BYTES);
  private readonly worker: Worker;
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
    const data: DecompressWorkerData = { compression, path, prefix: path === null ? prefix : new Uint8Array(0), shared: this.ring.shared };
    this.worker = startWorker(import.meta.url, 'decompress-worker', { workerData: data });
    // The run may end (a consumer that stops early) while the worker still decompresses ahead.
    this.worker.unref();
    // The worker ends the ring with its reason before it ends (decompress-worker.ts); an exit
    // without one (it could not start) is said the same way, so the reader never waits for it.
    this.worker.on('error', (err) => this.ring.finish(`decompression stopped: ${err.message}`));
    this.worker.on('exit', () => this.ring.finish('decompression stopped: its worker thread ended'));
  }

  read(buf: Uint8Array, at: number, len: number): number {
    return this.ring.read(buf, at, len);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.stopReading();
  }
}
