/**
 * Live capture's two backends behind one interface, and the one place that chooses between them:
 *
 *  - `ring` (ring/ring-capture.ts): one AF_PACKET TPACKET_V3 ring for the whole host through the
 *    project's binding — kernel timestamps, exact directions, the kernel's drop counts, new guest
 *    ports captured from their first frame;
 *  - `cap` (live.ts): a worker process per interface with two libpcap handles each — the fallback
 *    where the ring cannot be set up (binding not built, a kernel without TPACKET_V3), or asked
 *    for with `--backend cap`. Frames stamped on arrival, no drop counters.
 */
import type { CaptureInterface, InterfaceRegistry, PacketRecord } from '../model/record.js';

export type BackendName = 'ring' | 'cap' | 'ssh';
/** What --backend can ask for (a host reached over ssh is --ssh's). */
export type BackendChoice = 'ring' | 'cap' | 'auto';

export interface LiveOptions {
  interfaces: string[];
  /** A BPF filter applied on every interface. */
  filter?: string;
  /** cap: kernel ring per handle; ring: the one ring's size. Bytes. */
  bufferSize?: number;
  /** cap: the workers become this user once their handles are open (null: stay as they are). */
  user?: string | null;
  /** ring: bridges whose new ports are captured from their first frame. */
  bridges?: string[];
  /** ring: where interfaces are named (default /sys/class/net). */
  sysNet?: string;
  /** cap: the workers also send frames (LiveCapture.send), for the active probe. */
  send?: boolean;
  /**
   * ring: interfaces whose inbound frames are kept whatever the filter says, and whether new
   * ports of the captured bridges join them (the monitor: everything a guest sends on its own
   * port, from its first frame, before its MAC is known to the filter).
   */
  keepInbound?: string[];
  keepInboundOnNewPorts?: boolean;
}

export interface LiveEvents {
  /** Called for each frame; the record is valid only during the call. */
  onPacket(rec: PacketRecord): void;
  /** An interface joined the capture after the start (a new port of a captured bridge). */
  onInterfaceAdded?(iface: CaptureInterface, why: string, time: number): void;
  /** An interface went away; capture goes on on the rest. */
  onInterfaceGone?(name: string, why: string, time: number): void;
  /** Something the user should know (a backlog drop, a damaged block, a non-Ethernet interface). */
  onWarning?(text: string): void;
  /** Capture ended by itself (over ssh: the link dropped, the host's tool stopped): nothing more will come. */
  onEnded?(why: string, time: number): void;
}

/** Frames lost, by whom: the kernel (ring full) and bondscope itself (it fell behind the ring). */
export interface CaptureDrops {
  /** The kernel's tp_drops summed (null: the backend cannot tell, as cap). */
  kernel: number | null;
  /** Frames dropped inside bondscope. */
  internal: number;
  /** The most in one second so far. */
  kernelPeakPerSec: number | null;
  internalPeakPerSec: number;
  /** The last whole second's. */
  kernelLastSec: number | null;
  internalLastSec: number;
  /** Frames the kernel put in the ring (tp_packets, every interface), null where unknown. */
  ringFrames: number | null;
  /** tp_freeze_q_cnt summed. */
  freezes: number | null;
}

export interface LiveBackend {
  readonly kind: BackendName;
  readonly registry: InterfaceRegistry;
  readonly rec: PacketRecord;
  /** Wall seconds when capture started. */
  readonly startedAt: number;
  /** The capture's clock (the frames' timestamps) minus this machine's, in ms: 0 here, the host's offset over ssh. */
  readonly clockOffsetMs: number;
  readonly framesCaptured: number;
  /** Interfaces still capturing. */
  readonly active: string[];
  /** Opens everything that needs root. No frame is read before begin(). */
  start(): Promise<void>;
  /** Privileges are dropped: frames may be read. */
  begin(): void;
  drops(): CaptureDrops;
  /** What the capture is, for the report's header: "ring (TPACKET_V3, 64 MiB)". */
  describe(): string;
  /** Lets frames the kernel already holds reach onPacket before stop(). */
  drain(): Promise<void>;
  /**
   * Replaces the capture filter while capturing, without a gap (ring: the socket's program is
   * swapped atomically). Absent, or false, where the backend cannot (cap: its handles are reopened
   * instead).
   */
  setFilter?(filter: string): boolean;
  stop(): void;
  /** Backend-specific facts for the JSON's stats.capture (the ssh link's), if any. */
  extraStats?(): Record<string, unknown>;
}

/**
 * Which backend to use: the one asked for, else the ring where it can be set up, else cap with the
 * reason. `ringProblem` says why the ring cannot be used (null: it can).
 */
export function chooseBackend(requested: BackendChoice, ringProblem: string | null): { backend: BackendName; fallback: string | null; error: string | null } {
  if (requested === 'cap') return { backend: 'cap', fallback: null, error: null };
  if (ringProblem === null) return { backend: 'ring', fallback: null, error: null };
  if (requested === 'ring') return { backend: 'ring', fallback: null, error: `--backend ring: ${ringProblem}` };
  return { backend: 'cap', fallback: `live capture uses cap (one libpcap handle pair per interface, frames stamped on arrival, no drop counts): ${ringProblem}`, error: null };
}

export function parseBackend(v: string | undefined): BackendChoice | null {
  if (v === undefined || v === 'auto') return 'auto';
  return v === 'ring' || v === 'cap' ? v : null;
}

/**
 * Starts live capture with the chosen backend: the ring where it can be set up (the binding loads
 * and the kernel takes a TPACKET_V3 ring), else cap, saying why in one line (`fallback`). With
 * `--backend ring` a ring that cannot be set up is an error.
 */
export async function startLiveBackend(requested: BackendChoice, options: LiveOptions, events: LiveEvents): Promise<{ backend: LiveBackend; fallback: string | null }> {
  const { LiveCapture, LiveCaptureError, loadCap } = await import('./live.js');
  const { loadRing } = await import('./ring/native.js');
  const { RingCapture, RingSetupError } = await import('./ring/ring-capture.js');
  const loaded = loadRing();
  const choice = chooseBackend(requested, typeof loaded === 'string' ? loaded : null);
  if (choice.error) throw new LiveCaptureError(choice.error);
  if (choice.backend === 'ring') {
    const ring = new RingCapture(options, events);
    try {
      await ring.start();
      return { backend: ring, fallback: null };
    } catch (err) {
      ring.stop();
      if (!(err instanceof RingSetupError)) throw err;
      const retry = chooseBackend(requested, `the kernel refused the ring (${err.message})`);
      if (retry.error) throw new LiveCaptureError(retry.error);
      const cap = new LiveCapture(options, events);
      await cap.start();
      return { backend: cap, fallback: retry.fallback };
    }
  }
  // Neither the ring nor its fallback: one line, the ring's (whose fix makes live capture work).
  if (requested === 'auto' && typeof loaded === 'string') {
    try {
      loadCap();
    } catch {
      throw new LiveCaptureError(`${loaded}; cap, the fallback, is not built either`);
    }
  }
  const cap = new LiveCapture(options, events);
  await cap.start();
  return { backend: cap, fallback: choice.fallback };
}
