/**
 * What a capture worker (live-worker.ts) and the main process (live.ts) agree on. Frames on the
 * worker's stdout: a 16-byte little-endian header — u32 caplen, u32 monotonic ns high, u32
 * monotonic ns low, u8 direction (1 in, 2 out), 3 zero bytes — then the bytes. Control lines on its
 * stderr start with WORKER_PREFIX.
 */
export const FRAME_HEADER = 16;
export const WORKER_PREFIX = 'bondscope-worker:';
