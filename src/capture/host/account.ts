/**
 * The host's own account beside the frames of a live session — its kernel log lines about
 * own-address frames and failovers, and where its bridges have each MAC — read the same way
 * whether the host is this machine (LocalHostAccount: /dev/kmsg, sysfs brforward, ovs-appctl) or
 * one reached over ssh (remote/remote-capture.ts: the same files and commands, read there).
 */
import type { Bridge } from '../../model/topology.js';
import { KmsgReader, readBridgeFdb, type KernelEvent } from './kernel.js';
import { OvsFdbPoller } from './ovs.js';

/** One entry of a bridge's learning table, by port name. */
export interface LearnedEntry {
  mac: number;
  port: string;
  isLocal: boolean;
}

export interface HostAccount {
  /** Kernel log events (own-address warnings, failovers, links) logged since the last call. */
  kernelEvents(): KernelEvent[];
  /** The bridge's learning table as last read; null when it could not be read. */
  fdb(bridge: Bridge): LearnedEntry[] | null;
  /** Why the kernel log cannot be read (said once), or null. */
  readonly kernelLogProblem: string | null;
  close(): void;
}

/** This machine's account. /dev/kmsg is opened here (as root), before privileges are dropped. */
export class LocalHostAccount implements HostAccount {
  private readonly kmsg: KmsgReader | null = null;
  /** Open vSwitch bridges' learning tables (fdb/show), polled every 2 s. */
  private readonly ovs = new OvsFdbPoller();
  readonly kernelLogProblem: string | null = null;

  /** Kernel lines logged before `since` (wall seconds) are not this session's. */
  constructor(since: number) {
    try {
      this.kmsg = new KmsgReader(since);
    } catch (err) {
      this.kernelLogProblem = `kernel log: /dev/kmsg not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); own-address warnings come from the frames only`;
    }
  }

  kernelEvents(): KernelEvent[] {
    return this.kmsg?.poll() ?? [];
  }

  fdb(bridge: Bridge): LearnedEntry[] | null {
    try {
      return bridge.kind === 'ovs' ? this.ovs.poll(bridge.name) : readBridgeFdb(bridge.name);
    } catch {
      // The bridge went away, or this is not its namespace: the frames still tell.
      return null;
    }
  }

  close(): void {
    this.kmsg?.close();
  }
}
