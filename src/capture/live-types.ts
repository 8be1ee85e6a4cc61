/**
 * What the live-capture backends (ring/ring-capture.ts, live.ts, remote/remote-capture.ts) and their chooser
 * (live-backend.ts) share: the backend's interface, its options and events, its drop counts and
 * its error. Kept apart so the backends import it and the chooser imports them, without a circle.
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

/** Live capture could not start or go on: a one-line reason the CLI shows as a usage error. */
export class LiveCaptureError extends Error {
  override name = 'LiveCaptureError';
}
