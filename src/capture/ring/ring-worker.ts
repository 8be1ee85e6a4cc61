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
 * Memory is fixed: blocks are copied into a set of `buffers` block-sized buffers (each with its
 * frame index), made once and handed back by the main thread when it has handed the frames on
 * (`free`). None is freed and none made anew under load: a buffer per block left to the garbage
 * collector cost 100 MiB more (glibc keeps freed 1 MiB chunks once its mmap threshold has risen).
 * Back-pressure follows: with every buffer at the main thread, the reader leaves the blocks in
 * the kernel's ring — sized by -B, the one buffer — until one comes back; what the ring cannot
 * hold the kernel counts as drops.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { frameCapacity, INDEX_STRIDE, IX_HATYPE, IX_IFINDEX, parseBlock } from './block.js';
import { loadRing } from './native.js';
import { SH_BACKLOG, SH_BLOCK_ERRORS, SH_INTERNAL_DROPS, SH_STOP, type RingWorkerData, type WorkerMessage } from './protocol.js';

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;
/** How long an interface found not to count is not looked at again: it may join a bridge (a vif is made, then enslaved); one readlink each time. */
const RECHECK_MS = 100;

const data = workerData as RingWorkerData;
const shared = new Int32Array(data.shared);
const port = parentPort!;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const wanted = new Set<number>(data.ifindexes);
const bridges = new Set<string>(data.bridges);
/** ifindex → when it was last found not to count. */
const ignored = new Map<number, number>();
/** A block-sized buffer and the index of its frames: what goes round between the threads. */
interface Slot {
  block: ArrayBuffer;
  index: Uint32Array;
}
/** Slots back from the main thread, ready for the next block. */
const free: Slot[] = [];
let made = 0;
const INDEX_FRAMES = frameCapacity(data.blockSize);

/** A free slot, a new one while fewer than `buffers` exist, or null: all are at the main thread. */
function takeSlot(): Slot | null {
  const s = free.pop();
  if (s) return s;
  if (made >= data.buffers) return null;
  made++;
  return { block: new ArrayBuffer(data.blockSize), index: new Uint32Array(INDEX_FRAMES * INDEX_STRIDE) };
}
/** Interfaces that count but are not Ethernet: said once. */
const notEthernet = new Set<number>();

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** ifindex → name, from the last scan of /sys/class/net (the namespace's own). */
let names = new Map<number, string>();

/**
 * The name of `ifindex`, scanning /sys/class/net again when the last scan did not have it: a new
 * interface is named at its first frame (no rate limit here, or a guest's first frames would be
 * lost; an ifindex that is named and does not count is not looked up again for RECHECK_MS).
 */
function nameOf(ifindex: number): string | null {
  if (!names.has(ifindex)) {
    const next = new Map<number, string>();
    try {
      for (const name of readdirSync(data.sysNet)) {
        const n = Number(readText(join(data.sysNet, name, 'ifindex')));
        if (n > 0) next.set(n, name);
      }
      names = next;
    } catch {
      /* keep the last scan */
    }
  }
  return names.get(ifindex) ?? null;
}

function masterOf(name: string): string | null {
  try {
    return basename(readlinkSync(join(data.sysNet, name, 'master')));
  } catch {
    return null; // not enslaved
  }
}

/**
 * Whether frames of `ifindex` count; a new port of a captured bridge (or with -i any, any new
 * interface) is taken on here. One that does not count is looked at again after RECHECK_MS (it
 * may join a bridge, or with -i any not have been named yet), and never when that cannot matter.
 */
function counts(ifindex: number, now: number): boolean {
  if (wanted.has(ifindex)) return true;
  const seen = ignored.get(ifindex);
  if (seen !== undefined && ((bridges.size === 0 && !data.all) || now - seen < RECHECK_MS)) return false;
  const name = nameOf(ifindex);
  const master = name !== null && bridges.size ? masterOf(name) : null;
  const bridgePort = master !== null && bridges.has(master);
  if (name !== null && (bridgePort || data.all)) {
    wanted.add(ifindex);
    ignored.delete(ifindex);
    post({ type: 'iface', ifindex, name, master: bridgePort ? master : null, time: Date.now() / 1000 });
    return true;
  }
  ignored.set(ifindex, now);
  return false;
}

function handle(slot: Slot, used: number): void {
  const ab = slot.block;
  const index = slot.index;
  const block = new Uint8Array(ab, 0, used);
  const declared = block.length >= 16 ? new DataView(ab).getUint32(12, true) : 0;
  const res = parseBlock(block, index);
  if (res.error) {
    // The frames after the damage cannot be read: lost inside bondscope, and counted so.
    Atomics.add(shared, SH_BLOCK_ERRORS, 1);
    Atomics.add(shared, SH_INTERNAL_DROPS, Math.max(0, declared - res.frames));
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
        post({ type: 'warning', text: `${nameOf(ifindex) ?? `ifindex ${ifindex}`} is not Ethernet (ARPHRD ${hatype}): its frames are not captured by the ring` });
      }
      continue;
    }
    if (kept !== i) index.copyWithin(kept * INDEX_STRIDE, o, o + INDEX_STRIDE);
    kept++;
  }
  if (kept === 0) {
    free.push(slot);
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
    // Up to 64 blocks in a row, then let the main thread's messages (slots back, a new interface) in.
    for (let i = 0; i < 64 && Atomics.load(shared, SH_STOP) === 0; i++) {
      const slot = takeSlot();
      // Every slot is at the main thread: the blocks wait in the ring until one comes back.
      if (!slot) break;
      let got: ArrayBuffer | number | null;
      try {
        got = ring.next(data.handle, 50, slot.block);
      } catch (err) {
        post({ type: 'warning', text: `ring: ${(err as Error).message}` });
        return;
      }
      if (got === null) {
        free.push(slot);
        break;
      }
      // A number: the block went into the slot (it always fits: the slot is a block long).
      if (typeof got === 'number') handle(slot, got);
      else handle({ block: got, index: slot.index }, got.byteLength);
    }
    await new Promise((r) => (free.length || made < data.buffers ? setImmediate(r) : setTimeout(r, 1)));
  }
}

port.on('message', (m: { type: 'go' } | { type: 'want'; ifindex: number } | { type: 'free'; block: ArrayBuffer; index: ArrayBuffer }) => {
  if (m.type === 'free') {
    if (m.block.byteLength === data.blockSize) free.push({ block: m.block, index: new Uint32Array(m.index) });
    else made--; // not one of ours (the binding made it): a slot may be made again
    return;
  }
  if (m.type === 'go') {
    run()
      .catch((err: unknown) => post({ type: 'warning', text: `ring reader: ${(err as Error).message}` }))
      .finally(() => post({ type: 'stopped' }));
  } else if (m.type === 'want') wanted.add(m.ifindex);
});
