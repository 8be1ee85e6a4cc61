/**
 * What the kernel itself said, beside the frames: lines of its log (live /dev/kmsg, or
 * `--kernel-log`) and readings of the bridge's forwarding database (live mode polls it), folded
 * into the findings the frames gave at the end.
 */
import { formatMac } from '../model/mac.js';
import type { FindingStore } from './finding-store.js';
import type { PortTable } from './ports.js';

/** A line of the kernel's own log that bears on the findings: own-address warnings, bonding failovers, slave link changes. */
export interface KernelNote {
  kind: 'own-address' | 'failover' | 'link-down' | 'link-up';
  /** Wall seconds since the epoch, null when the log line could not be placed in time. */
  time: number | null;
  port: string | null;
  /** The MAC the line names (newest own-address form), -1 otherwise. */
  mac: number;
  slave: string | null;
  text: string;
}

/** One entry of the kernel bridge's forwarding database. */
export interface KernelFdbEntry {
  mac: number;
  port: string;
  isLocal: boolean;
}

export class KernelLog {
  /** Kernel log lines (own-address warnings, failovers), kept for the timeline and the findings. */
  readonly notes: KernelNote[] = [];
  /** The latest FDB snapshot per bridge port's MAC: where the kernel really has each MAC. */
  readonly fdb = new Map<number, string>();
  /** MACs the kernel's FDB has had on a bond, and that bond. */
  private readonly fdbOnBond = new Map<number, string>();

  constructor(private readonly ports: PortTable) {}

  note(n: KernelNote): void {
    this.notes.push(n);
  }

  /** A fresh read of the bridge's forwarding database. */
  noteFdb(entries: KernelFdbEntry[]): void {
    for (const e of entries) {
      if (e.isLocal) continue;
      this.fdb.set(e.mac, e.port);
      // Kept once seen: a later read that has the MAC right again does not erase the evidence.
      if (this.ports.get(e.port)?.port.role === 'bond') this.fdbOnBond.set(e.mac, e.port);
    }
  }

  /** What the kernel said, folded into the findings the frames gave (at engine time `latestT`, the capture's end). */
  applyTo(findings: FindingStore, latestT: number): void {
    const own = this.notes.filter((n) => n.kind === 'own-address');
    for (const f of findings.values()) {
      if (f.kind === 'own-address' && own.length) {
        const same = own.filter((n) => n.mac < 0 || n.mac === f.mac);
        if (same.length) f.details.kernelWarnings = same.length;
      }
      const bond = f.kind === 'wrong-port-learning' ? this.fdbOnBond.get(f.mac) : undefined;
      if (bond !== undefined) {
        f.details.kernelConfirmed = `the kernel's FDB had ${formatMac(f.mac)} on ${bond}`;
        f.confidence = 'high';
      }
    }
    // The kernel saw own-address frames the captured ports did not show (the bond was not captured,
    // or the frames were dropped before libpcap): the log alone is still evidence of the loop.
    if (own.length && ![...findings.values()].some((f) => f.kind === 'own-address')) {
      const f = findings.finding('own-address', own.find((n) => n.mac >= 0)?.mac ?? -1, 0, latestT, [], [...new Set(own.map((n) => n.port ?? '?'))], 'medium');
      f.count = own.length;
      f.details.kernelWarnings = own.length;
      f.details.source = 'kernel log';
      f.summary = `the kernel logged ${own.length} own-address warning${own.length === 1 ? '' : 's'} (${safeKernelText(own[0]!.text)})`;
    }
  }
}

/** A kernel log line in a summary: one line, printable (the report escapes it again for the terminal). */
function safeKernelText(text: string): string {
  return text.length > 120 ? text.slice(0, 117) + '…' : text;
}
