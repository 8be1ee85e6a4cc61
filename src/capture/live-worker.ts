/**
 * One capture worker: a child process that captures on one interface with `cap` and streams the
 * frames to the main process. Why a process per interface: when an interface goes down or is
 * removed (a guest shut down takes its vif with it), cap 0.2.1 aborts the whole process on the
 * poll error (an assertion in its C++). In a worker that ends one interface's capture; the main
 * process says so and goes on with the rest.
 *
 * Protocol (live-protocol.ts). argv[2] is JSON {device, filter, bufferSize, user}. On stderr, lines
 * prefixed `bondscope-worker:` — `ready LINKTYPE` once both handles are open, `error MESSAGE` if one
 * could not be, `dropped N` when frames had to be dropped because the main process fell behind;
 * anything else on stderr is libpcap's own chatter. On stdout, the frames. With `send`, frames to
 * send out of the interface come on stdin (a u32 little-endian length, then the bytes), sent by
 * the outbound handle: the active probe sends through the worker, so libpcap's chatter of an open
 * stays off the user's terminal there too. The monotonic clock is
 * the system's (CLOCK_MONOTONIC), the same in every worker, so the main process puts all
 * interfaces on one time line.
 */
import { dropPrivileges } from './host/privileges.js';
import { FRAME_HEADER, WORKER_PREFIX } from './live-protocol.js';
import { loadCap, SNAPLEN } from './live.js';
/** Bytes buffered toward the main process before frames are dropped (it fell behind). */
const MAX_BACKLOG = 64 << 20;
const BATCH = 256 << 10;

interface WorkerArgs {
  device: string;
  filter?: string;
  bufferSize: number;
  user: string | null;
  /** Frames to send come on stdin. */
  send?: boolean;
}

function say(line: string): void {
  process.stderr.write(`${WORKER_PREFIX} ${line.replace(/\n/g, ' ')}\n`);
}

function main(): void {
  const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
  let mod;
  try {
    mod = loadCap();
  } catch (err) {
    say(`error ${(err as Error).message}`);
    process.exit(1);
  }
  let batch = Buffer.allocUnsafe(BATCH);
  let used = 0;
  let dropped = 0;
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (used === 0) return;
    if (process.stdout.writableLength > MAX_BACKLOG) {
      // The main process is not keeping up: drop this batch rather than grow without bound.
      dropped++;
      say(`dropped ${dropped}`);
    } else {
      process.stdout.write(batch.subarray(0, used));
      batch = Buffer.allocUnsafe(BATCH);
    }
    used = 0;
  };
  const handles: { cap: { close(): void; send(b: Buffer, n: number): void }; buffer: Buffer }[] = [];
  let linkType = '';
  for (const direction of [1, 2]) {
    const cap = new mod.Cap();
    // Referenced for the handle's life: cap writes into it from C.
    const buffer = Buffer.alloc(SNAPLEN);
    const dirFilter = direction === 1 ? 'inbound' : 'outbound';
    const user = args.filter?.trim();
    try {
      linkType = cap.open(args.device, user ? `(${user}) and ${dirFilter}` : dirFilter, args.bufferSize, buffer);
    } catch (err) {
      say(`error ${(err as Error).message}`);
      process.exit(1);
    }
    cap.setMinBytes?.(0);
    cap.on('packet', (nbytes: number) => {
      if (used + FRAME_HEADER + nbytes > batch.length) flush();
      const now = process.hrtime.bigint();
      batch.writeUInt32LE(nbytes, used);
      batch.writeUInt32LE(Number(now >> 32n), used + 4);
      batch.writeUInt32LE(Number(now & 0xffffffffn), used + 8);
      batch.writeUInt32LE(direction, used + 12);
      buffer.copy(batch, used + FRAME_HEADER, 0, nbytes);
      used += FRAME_HEADER + nbytes;
      // One write per burst of packets: they come synchronously inside one poll callback.
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flush);
      }
    });
    handles.push({ cap, buffer });
  }
  if (args.user) dropPrivileges(args.user);
  if (args.send) {
    let pending: Buffer = Buffer.alloc(0);
    process.stdin.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32LE(0)) {
        const n = pending.readUInt32LE(0);
        const frame = Buffer.from(pending.subarray(4, 4 + n));
        handles[handles.length - 1]!.cap.send(frame, frame.length);
        pending = pending.subarray(4 + n);
      }
    });
  }
  say(`ready ${linkType}`);
  const stop = (): void => {
    for (const h of handles) h.cap.close();
    flush();
    process.stdout.end(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => {}); // the main process decides when capture ends
  // Keep the handles (and their buffers) reachable for the process's life.
  (globalThis as { bondscopeHandles?: unknown }).bondscopeHandles = handles;
}

main();
