/**
 * The reader of captures streamed over ssh: a worker thread that reads each stream's ByteRing
 * with the project's own readers (recognised and opened by readerOn, as files are), and posts the
 * records in batches to the main thread, as the capture ring's reader posts blocks. The readers
 * pull synchronously; the bytes come when the host sends them: so a stream's reader is asked for a
 * record only when its ring holds bytes (it then waits, if at all, for the rest of a record already
 * on its way), and with no bytes anywhere the worker waits on the rings' doorbell without holding
 * the thread, so the batch buffers the main thread hands back are taken in meanwhile.
 *
 * Memory is fixed as in the ring's reader: `buffers` batch buffers made once and handed back and
 * forth. With all of them at the main thread the rings fill, the main thread stops reading ssh,
 * and the host's capture tool is held back by the link: what it cannot hold its kernel drops, and
 * it counts them (said at the end).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { ByteRing } from '../byte-ring.js';
import { readerOn } from '../index.js';
import { ChunkedInput, type ByteSource } from '../input.js';
import { InterfaceRegistry, type RecordSource } from '../../model/record.js';
import { indexFrame, INDEX_STRIDE } from '../ring/block.js';
import type { StreamControl, StreamMessage, StreamWorkerData } from './protocol.js';

const data = workerData as StreamWorkerData;
const port = parentPort!;
const post = (m: StreamMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const doorbell = new Int32Array(data.doorbell);
const registry = new InterfaceRegistry();
/** Atomics.waitAsync (Node 16 and later; ES2024 in TypeScript's library): waits without holding the thread. */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
/** Records in a batch at most (the index's size). */
const INDEX_FRAMES = Math.max(1024, data.blockSize >> 6);
/** A batch that is not full goes after this long: frames reach the engine within it. */
const BATCH_MS = 4;

interface Slot {
  block: ArrayBuffer;
  bytes: Uint8Array;
  index: Uint32Array;
}
const free: Slot[] = [];
let made = 0;
let slotBack: (() => void) | null = null;

function takeSlot(): Slot | null {
  const s = free.pop();
  if (s) return s;
  if (made >= data.buffers) return null;
  made++;
  const block = new ArrayBuffer(data.blockSize);
  return { block, bytes: new Uint8Array(block), index: new Uint32Array(INDEX_FRAMES * INDEX_STRIDE) };
}

let slot: Slot | null = null;
let used = 0;
let count = 0;
let firstAt = 0;

function flush(): void {
  if (!slot || count === 0) return;
  post({ type: 'batch', block: slot.block, bytes: used, index: slot.index.buffer as ArrayBuffer, frames: count }, [slot.block, slot.index.buffer as ArrayBuffer]);
  slot = null;
  used = 0;
  count = 0;
}

/** Interfaces registered by the readers, said before any of their frames. */
let said = 0;
const streamOfIface: number[] = [];
function sayInterfaces(stream: number): void {
  for (; said < registry.list.length; said++) {
    const i = registry.list[said]!;
    streamOfIface[i.id] = stream;
    post({ type: 'iface', id: i.id, stream, name: i.name, description: i.description, linkType: i.linkType, snaplen: i.snaplen, fcsLen: i.fcsLen });
  }
}

/** The stream's bytes; before waiting for more, what is ready goes to the main thread. */
class RingSource implements ByteSource {
  readonly compression = null;
  constructor(
    readonly ring: ByteRing,
    private readonly stream: number,
  ) {}
  read(buf: Uint8Array, at: number, len: number): number {
    return this.ring.read(buf, at, len, () => {
      sayInterfaces(this.stream);
      flush();
    }, 50);
  }
  close(): void {
    this.ring.stopReading();
  }
}

interface Stream {
  source: RingSource;
  input: ChunkedInput;
  reader: RecordSource | null;
  done: boolean;
}

const streams: Stream[] = data.streams.map((s, i) => {
  const source = new RingSource(new ByteRing(s.shared), i);
  return { source, input: new ChunkedInput(source), reader: null, done: false };
});

function end(i: number, error: string | null): void {
  const s = streams[i]!;
  s.done = true;
  sayInterfaces(i);
  flush();
  const stats = registry.list.filter((x) => streamOfIface[x.id] === i).map((x) => ({ id: x.id, drops: x.drops, osDrops: x.osDrops }));
  post({ type: 'end', stream: i, error, stats });
  s.source.close();
}

/** Whether stream i has bytes to read now (or has ended, which its reader must see). */
function ready(s: Stream): boolean {
  return s.input.available > 0 || s.source.ring.filled > 0 || s.source.ring.ended;
}

/** Reads what the rings hold now; false when nothing could be read (no bytes, or no buffer free). */
function pass(): boolean {
  let progressed = false;
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i]!;
    if (s.done || !ready(s)) continue;
    if (!s.reader) {
      s.input.ensure(24);
      try {
        s.reader = readerOn(s.input, data.streams[i]!.display, data.streams[i]!.name, registry, 0);
      } catch (err) {
        end(i, (err as Error).message);
        continue;
      }
      sayInterfaces(i);
      progressed = true;
    }
    const direction = data.streams[i]!.direction;
    while (ready(s)) {
      if (!slot) {
        slot = takeSlot();
        if (!slot) return progressed;
      }
      const reader = s.reader;
      if (!reader.next()) {
        end(i, reader.error?.message ?? null);
        break;
      }
      sayInterfaces(i);
      const rec = reader.rec;
      if (used + rec.caplen > slot.bytes.length || count === INDEX_FRAMES) {
        flush();
        slot = takeSlot();
        if (!slot) {
          // The record is read but has nowhere to go yet: wait for a buffer, then keep it.
          pending = { bytes: rec.buf.slice(rec.offset, rec.offset + rec.caplen), origLen: rec.origLen, id: rec.iface!.id, dir: direction || rec.direction, sec: rec.tsSec, nsec: rec.tsNsec };
          return true;
        }
      }
      append(rec.buf, rec.offset, rec.caplen, rec.origLen, rec.iface!.id, direction || rec.direction, rec.tsSec, rec.tsNsec);
      progressed = true;
      if (Date.now() - firstAt >= BATCH_MS) flush();
    }
  }
  return progressed;
}

/** A record read while every buffer was at the main thread. */
let pending: { bytes: Uint8Array; origLen: number; id: number; dir: number; sec: number; nsec: number } | null = null;

function append(b: Uint8Array, off: number, caplen: number, origLen: number, id: number, dir: number, sec: number, nsec: number): void {
  const s = slot!;
  if (count === 0) firstAt = Date.now();
  s.bytes.set(b.subarray(off, off + caplen), used);
  // The worker's interface id where the ring has an ifindex; no ARPHRD (the stream's link type says).
  indexFrame(s.index, count * INDEX_STRIDE, used, caplen, origLen, id, dir, sec, nsec, 0);
  used += caplen;
  count++;
}

port.on('message', (m: StreamControl) => {
  if (m.type === 'free') {
    free.push({ block: m.block, bytes: new Uint8Array(m.block), index: new Uint32Array(m.index) });
    slotBack?.();
  }
});

async function run(): Promise<void> {
  while (streams.some((s) => !s.done)) {
    if (pending) {
      slot ??= takeSlot();
      if (!slot) {
        await new Promise<void>((r) => (slotBack = r));
        slotBack = null;
        continue;
      }
      append(pending.bytes, 0, pending.bytes.length, pending.origLen, pending.id, pending.dir, pending.sec, pending.nsec);
      pending = null;
    }
    const bell = Atomics.load(doorbell, 0);
    if (pass()) {
      // Let the main thread's messages (buffers back) in between passes.
      await yieldNow();
      continue;
    }
    flush();
    if (!slot && made >= data.buffers && free.length === 0) {
      await new Promise<void>((r) => (slotBack = r));
      slotBack = null;
      continue;
    }
    const w = waitAsync(doorbell, 0, bell, 100);
    if (w.async) await w.value;
  }
  flush();
  post({ type: 'stopped' });
}

run().catch((err: unknown) => {
  for (let i = 0; i < streams.length; i++) if (!streams[i]!.done) end(i, `stream reader: ${(err as Error).message}`);
  post({ type: 'stopped' });
});
