/**
 * What a detector sees of the engine: settled paths come in as arguments; this is the state they
 * read (ports, the MAC table, who is a guest or the host) and the one way they record a finding.
 * The Analyzer implements it; detectors never touch frames or the reorder and path stages.
 */
import type { Confidence, EvidenceRole, FindingKind, FindingOf } from '../findings.js';
import type { MacTable } from '../mac-table.js';
import type { PortState } from '../ports.js';
import type { UnicastTally } from './unicast-tally.js';

/** A frame a finding cites: where it is, and what it was in its path (a place) or for the finding (a role). */
export interface EvidenceSource {
  input: number;
  frame: number;
  port: number;
  dir: number;
  place?: number;
  role?: EvidenceRole;
  /** A frame of the state the finding depends on (the echo that made the entry wrong), not of the occurrence's own frame. */
  ofState?: boolean;
}

/** One frame's group as it settles: who sent it, to whom, whether it was flooded. */
export interface SettledGroup {
  src: number;
  dst: number;
  vlan: number;
  /** A broadcast or multicast. */
  group: boolean;
}

export interface DetectorContext {
  readonly ports: { readonly ports: PortState[] };
  readonly macs: MacTable;
  readonly guestPorts: Map<number, number>;
  readonly localMacs: Set<number>;
  /** The VLAN the bridge's forwarding database keys a frame of this VLAN by (0 unless the bridge is VLAN-aware). */
  fdbVlan(vlan: number): number;
  /** Whether the capture holding `port` was running at `t` (capture windows). */
  capturing(port: number, t: number): boolean;
  /** The finding of this kind for this MAC and VLAN, created on first use; counts one occurrence and cites `refs`. */
  finding<K extends FindingKind>(kind: K, mac: number, vlan: number, t: number, refs: readonly EvidenceSource[], interfaces: string[], confidence: Confidence): FindingOf<K>;
  /** The finding if it exists (no occurrence counted). */
  existing<K extends FindingKind>(kind: K, mac: number, vlan: number): FindingOf<K> | undefined;
  /** The tally of unicast from outside for a guest (created on first use; undefined past the bound). */
  unicastTally(vlan: number, mac: number, guestPort: number): UnicastTally | undefined;
  /** Engine time of the latest frame. */
  readonly latestT: number;
}
