/**
 * What the stream reader (stream-worker.ts) and the main thread (remote-capture.ts) agree on. The
 * main thread puts each ssh session's bytes into a ByteRing; the worker reads them with the
 * capture readers (pcap.ts, pcapng.ts, through ChunkedInput) and posts the records in batches laid
 * out as the capture ring's are (ring/block.ts INDEX_STRIDE, IX_*: IX_IFINDEX holds the worker's
 * interface id), so the main thread hands them on with the same handOn().
 */
import type { Direction } from '../../model/record.js';

export interface StreamSpec {
  /** The ByteRing's buffer. */
  shared: SharedArrayBuffer;
  /** How messages name the stream ("tcpdump -i eth0 on hv1"). */
  display: string;
  /** The interface name of a classic pcap stream (one port per tcpdump). */
  name: string;
  /** The direction every frame of this stream has (0: the records say, or nobody knows). */
  direction: Direction;
}

export interface StreamWorkerData {
  streams: StreamSpec[];
  /** Int32 bumped by every ring's writer: the worker waits on it when no ring has bytes. */
  doorbell: SharedArrayBuffer;
  /** Batch buffers going round between the threads, and each one's size. */
  buffers: number;
  blockSize: number;
}

export interface IfaceStats {
  id: number;
  /** isb_ifdrop / isb_osdrop of the stream's last ISB (dumpcap writes one per interface at its end), -1 unknown. */
  drops: number;
  osDrops: number;
}

export type StreamMessage =
  /** An interface of a stream (a pcapng IDB, a classic pcap's header), before any of its frames. */
  | { type: 'iface'; id: number; stream: number; name: string; description: string | null; linkType: number; snaplen: number; fcsLen: number }
  /** `frames` records in `block` (`bytes` used), indexed in `index`; handed back with `free`. */
  | { type: 'batch'; block: ArrayBuffer; bytes: number; index: ArrayBuffer; frames: number }
  /** A stream ended: its reader's damage (null at a clean end), its interfaces' statistics. */
  | { type: 'end'; stream: number; error: string | null; stats: IfaceStats[] }
  | { type: 'stopped' };

export type StreamControl = { type: 'free'; block: ArrayBuffer; index: ArrayBuffer };
