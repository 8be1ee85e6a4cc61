/**
 * The decompressing worker thread (see decompress.ts): reads the compressed input from its file
 * descriptor, decompresses it — gzip with Node's zlib (each member's CRC-32 and length checked,
 * members concatenated as gzip allows), zstd with fzstd — and puts the bytes into the shared ring,
 * waiting while the ring is full. A file it opens itself, by path (a descriptor opened by another
 * thread is not this thread's to close); standard input it reads on from where the reading thread
 * stopped. When it stops early it leaves one line saying why and where in the compressed input.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { once } from 'node:events';
import { workerData } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { ByteRing, ReaderGone } from './byte-ring.js';
import type { DecompressWorkerData } from './decompress-protocol.js';

const d = workerData as DecompressWorkerData;
/** The compressed input: standard input, or the file once this thread has opened it. */
let fd = d.path === null ? 0 : -1;
const ring = new ByteRing(d.shared);
/** Compressed bytes read so far (the prefix included): where a failure is said to be. */
let compressedRead = 0;
let prefixSent = false;
let ended = false;

const COMPRESSED_CHUNK = 256 << 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** The next piece of compressed input, null at its end. */
function readCompressed(): Uint8Array | null {
  if (!prefixSent) {
    prefixSent = true;
    if (d.prefix.length) {
      compressedRead += d.prefix.length;
      return d.prefix;
    }
  }
  const b = new Uint8Array(COMPRESSED_CHUNK);
  for (;;) {
    try {
      const n = readSync(fd, b, 0, b.length, null);
      compressedRead += n;
      return n ? b.subarray(0, n) : null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // A non-blocking pipe with nothing in it yet.
        Atomics.wait(sleeper, 0, 0, 5);
        continue;
      }
      if (code === 'EOF') return null;
      throw err;
    }
  }
}

/** Copies decompressed bytes into the ring, waiting for room; throws ReaderGone when the reader has stopped. */
function put(chunk: Uint8Array): void {
  ring.putAll(chunk);
}

/** Ends the ring (done, or failed with the reason) and closes the file this thread opened. */
function end(reason: string | null = null): void {
  if (ended) return;
  ended = true;
  ring.finish(reason);
  if (d.path !== null && fd >= 0) closeSync(fd);
}

/** zlib's and fzstd's words for a stream that stops inside its data: the file was cut short. */
const CUT_SHORT = /unexpected end|unexpected EOF/i;

/** The one line for a decompression that stopped; the damage lies in compressed bytes [from, to). */
function failure(err: unknown, from: number, to: number): string {
  const what = d.compression;
  const msg = err instanceof Error ? err.message : String(err);
  if (CUT_SHORT.test(msg)) return `${what} data cut short: the file ends inside the compressed stream, after ${compressedRead} compressed bytes`;
  if ((err as NodeJS.ErrnoException).syscall === 'read') return `read failed (${msg}) at compressed byte ${compressedRead}`;
  const where = to > from ? `in compressed bytes ${from}–${to}` : `at the end of the compressed stream (byte ${from})`;
  return `${what} data damaged ${where}: ${msg.replace(/\.$/, '')}`;
}

/**
 * Compressed bytes handed to zlib at a time. zlib's stream gives up the output of the step an
 * error stops (what it decompressed there before the damage): small steps keep that to one
 * OUTPUT_CHUNK, and say within a few KiB where in the file the damage is.
 */
const GZIP_STEP = 16 << 10;
const OUTPUT_CHUNK = 64 << 10;

async function gunzip(): Promise<void> {
  const z = createGunzip({ chunkSize: OUTPUT_CHUNK });
  let closed = false;
  z.on('data', (c: Buffer) => {
    try {
      put(c);
    } catch {
      // The reader stopped: nothing more to decompress.
      closed = true;
      z.destroy();
      end();
    }
  });
  // zlib reports damage as an 'error' event; the write under way may never call back after it.
  const failed = new Promise<never>((_, reject) => z.once('error', reject));
  failed.catch(() => undefined); // seen through the races below
  const write = (b: Uint8Array): Promise<void> => Promise.race([new Promise<void>((resolve) => z.write(b, () => resolve())), failed]);
  const finished = Promise.race([once(z, 'end'), failed]);
  finished.catch(() => undefined); // awaited only once the input is all written
  /** Compressed bytes zlib had taken before the step under way: where a failure lies, to within one step. */
  let taken = 0;
  let step = 0;
  try {
    for (;;) {
      if (closed || ring.readerGone) return end();
      const c = readCompressed();
      if (c === null) break;
      for (let off = 0; off < c.length && !closed; off += GZIP_STEP) {
        const piece = c.subarray(off, off + GZIP_STEP);
        step = piece.length;
        await write(piece);
        taken += piece.length;
      }
    }
    step = 0;
    z.end();
    await finished;
    end();
  } catch (err) {
    if (!closed) end(failure(err, taken, taken + step));
  }
}

function unzstd(): void {
  const z = new Decompress((chunk) => put(chunk));
  /** Bytes of the piece being decompressed: where a failure lies. */
  let lastPush = 0;
  try {
    for (;;) {
      const c = readCompressed();
      if (c === null) {
        lastPush = 0;
        z.push(new Uint8Array(0), true);
        break;
      }
      lastPush = c.length;
      z.push(c);
    }
    end();
  } catch (err) {
    if (err instanceof ReaderGone) end();
    else end(failure(err, compressedRead - lastPush, compressedRead));
  }
}

// Whatever stops this thread must leave the reading thread a reason: it waits on the ring until the state changes.
process.on('uncaughtException', (err) => end(`decompression stopped: ${err.message}`));
process.on('unhandledRejection', (err) => end(`decompression stopped: ${err instanceof Error ? err.message : String(err)}`));

try {
  if (d.path !== null) fd = openSync(d.path, 'r');
  if (d.compression === 'gzip') void gunzip();
  else unzstd();
} catch (err) {
  end(`cannot read: ${(err as Error).message}`);
}
