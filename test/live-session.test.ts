/**
 * A live session and `analyze` of its own `--write` file are one pipeline: the same frames, in the
 * same order, with the same stamps, give the same findings with the same counts (issue #20). Here
 * without a host: the session's capture backend replays a recording the lab's dumpcap or tcpdump
 * wrote (in the order they wrote it, each frame handed on when the replay clock reaches its stamp,
 * the session's timer ticking on that clock), the session records what it gets, and the file
 * pipeline reads the recording. Once as a backend that stamps in the kernel (the ring, dumpcap or
 * tcpdump over ssh), once as one that stamps on arrival in user space (cap): the engine groups
 * copies of a frame by how they were stamped, and the recording must say which.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CaptureSet, openCapture } from '../src/capture/index.js';
import type { CaptureDrops, LiveBackend, LiveEvents } from '../src/capture/live-types.js';
import { LiveSession } from '../src/cli/live-session.js';
import type { Finding } from '../src/engine/findings.js';
import { formatMac } from '../src/model/mac.js';
import { type FrameStamps, InterfaceRegistry, type PacketRecord } from '../src/model/record.js';
import { stampsFromComment } from '../src/model/topology.js';
import { analyzeFiles, settleFiles } from '../src/pipeline/files.js';
import { PROJECT_ROOT } from './helpers/tools.js';

/** The backend the session starts: set by each case before start(). */
const replay = vi.hoisted(() => ({ make: null as null | ((events: LiveEvents) => LiveBackend) }));
vi.mock('../src/capture/live-backend.js', async (original) => ({
  ...(await original<typeof import('../src/capture/live-backend.js')>()),
  startLiveBackend: async (_requested: unknown, _options: unknown, events: LiveEvents) => ({ backend: replay.make!(events), fallback: null }),
}));

/** The session's timer: every 250 ms of the replay clock (LiveSession.begin's interval). */
const TICK_MS = 250;

/** A recording handed on as a capture would: its interfaces up front, its frames in the file's order. */
class Replay implements LiveBackend {
  readonly kind;
  readonly registry = new InterfaceRegistry();
  readonly startedAt = Date.now() / 1000;
  readonly clockOffsetMs = 0;
  framesCaptured = 0;
  readonly active: string[];
  private readonly set: CaptureSet;
  private more: boolean;

  constructor(
    file: string,
    readonly stamps: FrameStamps,
    private readonly events: LiveEvents,
  ) {
    this.kind = stamps === 'kernel' ? ('ring' as const) : ('cap' as const);
    this.set = openCapture([file], this.registry);
    // dumpcap and tcpdump write every interface block before the first frame.
    this.more = this.set.next();
    this.active = this.registry.list.map((i) => i.name);
  }

  get rec(): PacketRecord {
    return this.set.rec;
  }

  /** Hands every frame on; `arrives` is told each frame's stamp (ms) first. */
  play(arrives: (ms: number) => void): void {
    for (; this.more; this.more = this.set.next()) {
      const r = this.set.rec;
      arrives(r.tsSec * 1000 + r.tsNsec / 1e6);
      this.framesCaptured++;
      this.events.onPacket(r);
    }
  }

  async start(): Promise<void> {}
  begin(): void {}
  drops(): CaptureDrops {
    return { kernel: 0, internal: 0, kernelPeakPerSec: 0, internalPeakPerSec: 0, kernelLastSec: 0, internalLastSec: 0, ringFrames: null, freezes: null };
  }
  describe(): string {
    return 'a recording replayed';
  }
  async drain(): Promise<void> {}
  stop(): void {
    this.set.close();
  }
}

const work = mkdtempSync(join(tmpdir(), 'bondscope-session-'));
const counts = (fs: Finding[]): string[] => fs.map((f) => `${f.kind} ${f.mac >= 0 ? formatMac(f.mac) : '-'} ${f.vlan} ${f.count}`).sort();

/** A live session over the replayed recording, writing its own: its findings, and the recording's path. */
async function session(capture: string, stamps: FrameStamps): Promise<{ findings: Finding[]; written: string }> {
  const written = join(work, `${capture.replace(/[/.]/g, '_')}-${stamps}.pcapng`);
  const file = join(PROJECT_ROOT, 'captures', capture);
  const { topology } = settleFiles([file]);
  let backend: Replay | null = null;
  replay.make = (events) => (backend = new Replay(file, stamps, events));
  // The replay's monotonic clock: the latest stamp handed on (a frame arrives when it was stamped).
  let clock = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
  const s = new LiveSession({ interfaces: [], topology, write: written, kernel: false });
  await s.start();
  s.begin();
  let nextTick = -1;
  backend!.play((ms) => {
    if (nextTick < 0) nextTick = ms + TICK_MS;
    for (; nextTick <= ms; nextTick += TICK_MS) {
      clock = Math.max(clock, nextTick);
      s.tick();
    }
    clock = Math.max(clock, ms);
  });
  // Time goes on after the last frame, as it does before the user stops a session.
  for (let i = 0; i < 12; i++) {
    clock += TICK_MS;
    s.tick();
  }
  await s.drain();
  return { findings: s.stop(), written };
}

describe('a live session finds exactly what analyze finds in its own --write file', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // Recordings of looping hosts in both forms a host's tools give: dumpcap's pcapng (interfaces in
  // batches, out of time order) and tcpdump -i any (SLL2). On these the hop gap a session chose
  // for its stamps, against the one analyze took for the file, changed how many times a guest's
  // MAC flapped (37 against 39 on a lab recording by the ring).
  const recordings = ['libvirt-loop/libvirt-loop.pcapng', 'bond-ll-loop/bond-ll-loop.pcapng', 'loop-latency/any.pcap', 'bond-ll-loop/any.pcap'];
  for (const stamps of ['kernel', 'arrival'] as const) {
    for (const capture of recordings) {
      it(`${capture}, frames stamped by ${stamps === 'kernel' ? 'the kernel (ring, ssh)' : 'the capture workers on arrival (cap)'}`, async () => {
        const live = await session(capture, stamps);
        const file = analyzeFiles([live.written]);
        // The recording says who stamped its frames, and the file's engine took it.
        expect(file.run.set.sectionComments.map(stampsFromComment)).toEqual([stamps]);
        expect(file.run.analyzer.options.stamps).toBe(stamps);
        // A loop, in both: nothing here agrees by finding nothing.
        expect(live.findings.some((f) => f.kind === 'looped-broadcast')).toBe(true);
        expect(live.findings.some((f) => f.kind === 'mac-flap')).toBe(true);
        expect(counts(file.findings)).toEqual(counts(live.findings));
      });
    }
  }
});
