/**
 * Loads the capture ring binding (native/ring.cc, built by node-gyp on `npm ci` into
 * build/Release). Loaded by the main thread (open, promiscuous mode, statistics, close) and by the
 * capture worker (next): a native module is loaded once per process, so both see the same rings.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadExecutableRingBinding, packageRoot, runningAsExecutable } from '../../model/package.js';

export interface RingOpenOptions {
  blockSize: number;
  blockCount: number;
  frameSize: number;
  /** Milliseconds after which a block that is not full is handed over anyway (tp_retire_blk_tov). */
  retireMs: number;
  snaplen: number;
  /** A libpcap filter, compiled for Ethernet; empty for every frame. */
  filter: string;
  /** ifindexes whose inbound frames are kept whatever the filter says (at most 250). */
  keepInbound?: number[];
}

export interface RingNative {
  /** Opens the socket, attaches the filter, maps the ring, binds to every interface. Throws an Error with `code` and `step`. */
  open(options: RingOpenOptions): number;
  promisc(handle: number, ifindex: number, on: boolean): void;
  /** Replaces the socket's filter (libpcap syntax, empty for every frame); throws code EFILTER when it does not compile. Absent in a binding built before it. */
  setFilter?(handle: number, filter: string, keepInbound?: number[]): void;
  /** [tp_packets, tp_drops, tp_freeze_q_cnt] since the last call (reading PACKET_STATISTICS resets it). */
  stats(handle: number): [number, number, number];
  /**
   * The next retired block's used bytes, or null after `timeoutMs` without one: a new ArrayBuffer,
   * or with `into` (at least a block long) copied there and their count returned.
   */
  next(handle: number, timeoutMs: number, into?: ArrayBuffer): ArrayBuffer | number | null;
  close(handle: number): void;
  libpcapVersion: string;
}

export const RING_BINDING_PATH = join(packageRoot(), 'build', 'Release', 'bondscope_ring.node');

/**
 * Why the binding is not there, in the words of the install that should have built it: npm never
 * ran the install script (no build/install-script.json: a global install whose scripts npm did
 * not allow), or it ran and the build failed (no compiler or libpcap-dev).
 */
export function notBuilt(root = packageRoot()): string {
  if (!existsSync(join(root, 'build', 'install-script.json'))) {
    if (/[/\\]lib[/\\]node_modules[/\\]bondscope$/.test(root)) {
      return 'the capture ring binding was not built: npm did not run bondscope\'s install scripts (npm install -g runs them only when allowed): npm install -g --allow-scripts=bondscope,cap bondscope (or the tarball or directory you installed from)';
    }
    return `the capture ring binding was not built: its install script did not run: npm run install in ${root}`;
  }
  return 'the capture ring binding is not built (it needs g++ and libpcap-dev: `apt-get install g++ make libpcap-dev`, then `npm run install` in the bondscope directory)';
}

let loaded: RingNative | string | undefined;

/** The binding, or why it cannot be loaded (in words for the one-line fallback message). */
export function loadRing(): RingNative | string {
  if (loaded === undefined) {
    if (process.env.BONDSCOPE_NO_RING === '1') loaded = 'the ring is turned off (BONDSCOPE_NO_RING=1)';
    else if (runningAsExecutable()) {
      // The single executable carries its own copy.
      try {
        loaded = loadExecutableRingBinding() as RingNative;
      } catch (err) {
        loaded = `the capture ring binding does not load on this host (${(err as Error).message.split('\n')[0]})`;
      }
    } else if (!existsSync(RING_BINDING_PATH)) loaded = notBuilt();
    else {
      try {
        loaded = createRequire(import.meta.url)(RING_BINDING_PATH) as RingNative;
      } catch (err) {
        loaded = `the capture ring binding does not load (${(err as Error).message.split('\n')[0]})`;
      }
    }
  }
  return loaded;
}
