/**
 * The capture ring's reader: a worker thread that waits on the ring (the binding's next() blocks
 * in poll()), indexes each retired block (block.ts), keeps the frames of the interfaces that
 * count and posts the block and its index to the main thread, both transferred, not copied. The
 * main thread's engine and screen never stall the ring: while they work, this thread goes on
 * emptying it.
 *
 * Which interfaces count is decided here, by ifindex: the ones the main thread chose, and any new
 * interface whose master is a captured bridge (a guest started while capturing), named from
 * /sys/class/net. The worker reads nothing until the main thread says `go` (privileges dropped).
 *
 * Back-pressure: the bytes posted and not yet handled by the main thread are counted in shared
 * memory; past `maxBacklog` a block's frames are dropped here and counted (never silently).
 *
 * Memory stays flat: each block is copied into a block-sized buffer the main thread hands back
 * once it has handed the frames on (`free`), so under load the same few buffers go round instead
 * of a new one per block waiting for the garbage collector.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { frameCapacity, INDEX_STRIDE, IX_HATYPE, IX_IFINDEX, parseBlock } from './block.js';
import { loadRing } from './native.js';
import { SH_BACKLOG, SH_BLOCK_ERRORS, SH_INTERNAL_DROPS, SH_STOP, type RingWorkerData, type WorkerMessage } from './protocol.js';

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;
/** How long an interface found not to count is not looked at again (it may join a bridge). */
const RECHECK_MS = 1000;

const data = workerData as RingWorkerData;
const shared = new Int32Array(data.shared);
const port = parentPort!;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const wanted = new Set<number>(data.ifindexes);
const bridges = new Set<string>(data.bridges);
/** ifindex → when it was last found not to count. */
const ignored = new Map<number, number>();
/** Block-sized buffers handed back by the main thread, for the next copies. */
const pool: ArrayBuffer[] = [];
const POOL_MAX = 32;
/** Interfaces that count but are not Ethernet: said once. */
const notEthernet = new Set<number>();

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The name of `ifindex` and its master, from /sys/class/net (the namespace's own). */
function nameOf(ifindex: number): { name: string; master: string | null } | null {
  let names: string[];
  try {
    names = readdirSync(data.sysNet);
  } catch {
    return null;
  }
  for (const name of names) {
    if (Number(readText(join(data.sysNet, name, 'ifindex'))) !== ifindex) continue;
    let master: string | null = null;
    try {
      master = basename(readlinkSync(join(data.sysNet, name, 'master')));
    } catch {
      /* not enslaved */
    }
    return { name, master };
  }
  return null;
}

/** Whether frames of `ifindex` count; a new port of a captured bridge is taken on here. */
function counts(ifindex: number, now: number): boolean {
  if (wanted.has(ifindex)) return true;
  const seen = ignored.get(ifindex);
  if (seen !== undefined && now - seen < RECHECK_MS) return false;
  const found = nameOf(ifindex);
  if (found && found.master !== null && bridges.has(found.master)) {
    wanted.add(ifindex);
    ignored.delete(ifindex);
    post({ type: 'iface', ifindex, name: found.name, master: found.master, time: Date.now() / 1000 });
    return true;
  }
  ignored.set(ifindex, now);
  return false;
}

function handle(ab: ArrayBuffer, used: number): void {
  const block = new Uint8Array(ab, 0, used);
  const declared = block.length >= 16 ? new DataView(ab).getUint32(12, true) : 0;
  const index = new Uint32Array(Math.min(declared, frameCapacity(block.length)) * INDEX_STRIDE);
  const res = parseBlock(block, index);
  if (res.error) {
    Atomics.add(shared, SH_BLOCK_ERRORS, 1);
    post({ type: 'warning', text: res.error });
  }
  // Keep the frames that count, in place: the index stays in ring order.
  const now = Date.now();
  let kept = 0;
  for (let i = 0; i < res.frames; i++) {
    const o = i * INDEX_STRIDE;
    const ifindex = index[o + IX_IFINDEX]!;
    if (!counts(ifindex, now)) continue;
    const hatype = index[o + IX_HATYPE]!;
    if (hatype !== ARPHRD_ETHER && hatype !== ARPHRD_LOOPBACK) {
      if (!notEthernet.has(ifindex)) {
        notEthernet.add(ifindex);
        post({ type: 'warning', text: `ifindex ${ifindex} (${nameOf(ifindex)?.name ?? '?'}) is not Ethernet (ARPHRD ${hatype}): its frames are not captured by the ring` });
      }
      continue;
    }
    if (kept !== i) index.copyWithin(kept * INDEX_STRIDE, o, o + INDEX_STRIDE);
    kept++;
  }
  if (kept === 0 || Atomics.load(shared, SH_BACKLOG) + ab.byteLength > data.maxBacklog) {
    if (kept) Atomics.add(shared, SH_INTERNAL_DROPS, kept);
    if (ab.byteLength === data.blockSize && pool.length < POOL_MAX) pool.push(ab);
    return;
  }
  Atomics.add(shared, SH_BACKLOG, ab.byteLength);
  post({ type: 'batch', block: ab, bytes: used, index: index.buffer as ArrayBuffer, frames: kept }, [ab, index.buffer as ArrayBuffer]);
}

async function run(): Promise<void> {
  const ring = loadRing();
  if (typeof ring === 'string') {
    post({ type: 'warning', text: ring });
    return;
  }
  while (Atomics.load(shared, SH_STOP) === 0) {
    // Up to 64 blocks in a row, then let the main thread's messages (a new interface) in.
    for (let i = 0; i < 64 && Atomics.load(shared, SH_STOP) === 0; i++) {
      const into = pool.pop() ?? new ArrayBuffer(data.blockSize);
      let got: ArrayBuffer | number | null;
      try {
        got = ring.next(data.handle, 50, into);
      } catch (err) {
        post({ type: 'warning', text: `ring: ${(err as Error).message}` });
        return;
      }
      if (got === null) {
        pool.push(into);
        break;
      }
      if (typeof got === 'number') handle(into, got);
      else handle(got, got.byteLength);
    }
    await new Promise((r) => setImmediate(r));
  }
}

port.on('message', (m: { type: 'go' } | { type: 'want'; ifindex: number } | { type: 'free'; block: ArrayBuffer }) => {
  if (m.type === 'free') {
    if (pool.length < POOL_MAX) pool.push(m.block);
    return;
  }
  if (m.type === 'go') {
    run()
      .catch((err: unknown) => post({ type: 'warning', text: `ring reader: ${(err as Error).message}` }))
      .finally(() => post({ type: 'stopped' }));
  } else if (m.type === 'want') wanted.add(m.ifindex);
});
