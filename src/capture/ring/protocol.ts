/** What the capture ring's worker (ring-worker.ts) and the main thread (ring-capture.ts) agree on. */

/** Int32 slots of the shared counters. */
export const SH_BACKLOG = 0; // bytes posted by the worker, not yet handled by the main thread
export const SH_INTERNAL_DROPS = 1; // frames lost inside bondscope: those after damage in a block (a slow main thread leaves blocks in the ring instead)
export const SH_BLOCK_ERRORS = 2; // blocks the parser found damaged
export const SH_STOP = 3; // set by the main thread: stop reading
export const SH_SLOTS = 4;

export interface RingWorkerData {
  handle: number;
  /** Interfaces that count from the start. */
  ifindexes: number[];
  /** -i any: every interface counts, named as its first frame comes. */
  all: boolean;
  /** Captured bridges: a new port of one counts from its first frame. */
  bridges: string[];
  sysNet: string;
  shared: SharedArrayBuffer;
  /** Block-sized buffers going round between the threads (the most in flight at once). */
  buffers: number;
  /** Bytes of one ring block: the size of those buffers. */
  blockSize: number;
}

export type WorkerMessage =
  /** `block` holds `bytes` used bytes; the main thread hands it back (`free`) for reuse. */
  | { type: 'batch'; block: ArrayBuffer; bytes: number; index: ArrayBuffer; frames: number }
  /** A new interface counts from now on: a new port of a captured bridge (master), or any with -i any (master null). */
  | { type: 'iface'; ifindex: number; name: string; master: string | null; time: number }
  | { type: 'warning'; text: string }
  | { type: 'stopped' };
