/**
 * What bondscope reports: the finding kinds (fixed strings, part of the JSON contract), their
 * severities, the plain explanation of each mechanism, and the one catalogue of remedies.
 */
import type { Severity } from './severity.js';

export type FindingKind =
  | 'looped-broadcast'
  | 'own-address'
  | 'wrong-port-learning'
  | 'blackholed-unicast'
  | 'mac-flap'
  | 'mac-move'
  | 'mac-flood'
  /** From the host's configuration alone (`bondscope check`, live mode): a bond under a bridge set up so it loops. */
  | 'loop-prone-bond';

export type Confidence = 'high' | 'medium' | 'low';

/** A frame as the user finds it again: its input file and its number there (as Wireshark numbers it). */
export interface FrameRef {
  input: number;
  frame: number;
}

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  summary: string;
  /** The MAC the finding is about (48-bit integer), -1 when none. */
  mac: number;
  vlan: number;
  /** Ports involved, in the order the frames took them. */
  interfaces: string[];
  count: number;
  /** First and last time, ns since the epoch split as seconds + ns. */
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  /** Up to EVIDENCE_LIMIT frames (the first ones); `count` keeps counting past it. */
  evidence: FrameRef[];
  confidence: Confidence;
  explanation: string;
  remedies: RemedyId[];
  /** Kind-specific numbers: loop delay (µs), how long a wrong entry lasted (ms), moves. */
  details: Record<string, number | string>;
}

export const EVIDENCE_LIMIT = 64;

export type RemedyId = 'lacp' | 'active-backup-drop' | 'single-nic' | 'stp' | 'avoid-modes' | 'none-needed';

export const REMEDIES: Record<RemedyId, string> = {
  lacp: 'Use 802.3ad (LACP) with both NICs to one switch or to a stacked/MLAG pair: the switch then treats the links as one port and never floods a frame back into the bond.',
  'active-backup-drop':
    'Use active-backup with a bonding driver that drops what arrives on the backup slave: all_slaves_active=0 (the default) and bonding >= 3.0.2 (older drivers pass the backup slave’s frames up).',
  'single-nic': 'Use a single NIC under the bridge until the switches are fixed.',
  stp: 'Put both NICs in the bridge and run STP so one of them blocks (slow convergence on failover, and the Linux bridge tends to become root: raise its bridge priority).',
  'avoid-modes': 'Avoid balance-rr, balance-xor and broadcast bonds, and balance-tlb/alb, under a bridge: they either flood back or confuse the switches’ learning.',
  'none-needed': 'Nothing to fix: this is not a fault.',
};

export const SEVERITY: Record<FindingKind, Severity> = {
  'looped-broadcast': 'error',
  'own-address': 'warning',
  'wrong-port-learning': 'error',
  'blackholed-unicast': 'error',
  'mac-flap': 'warning',
  'mac-move': 'info',
  'mac-flood': 'warning',
  'loop-prone-bond': 'error',
};

const LOOP_REMEDIES: RemedyId[] = ['lacp', 'active-backup-drop', 'single-nic', 'stp', 'avoid-modes'];

export const REMEDIES_FOR: Record<FindingKind, RemedyId[]> = {
  'looped-broadcast': LOOP_REMEDIES,
  'own-address': LOOP_REMEDIES,
  'wrong-port-learning': LOOP_REMEDIES,
  'blackholed-unicast': LOOP_REMEDIES,
  'mac-flap': LOOP_REMEDIES,
  'mac-move': ['none-needed'],
  'mac-flood': [],
  'loop-prone-bond': LOOP_REMEDIES,
};

export const EXPLANATION: Record<FindingKind, string> = {
  'looped-broadcast':
    'A broadcast or multicast the host sent out of one slave came back in on the bond: the switches flooded it into the other slave, and the bond passed it up to the bridge. Every broadcast the host or its guests send makes this round trip.',
  'own-address':
    'Frames with one of the host’s own MACs as their source arrived on the uplink. This is what the kernel logs as "received packet on bond0 with own address as source address". The message alone is harmless (the bridge drops such frames), but it is the fingerprint of the loop: the host’s own broadcasts are coming back.',
  'wrong-port-learning':
    'A guest’s own frame came back in on the bond, so the bridge learned the guest’s MAC behind the bond instead of its vif. Until the guest speaks again, the bridge sends frames for the guest out of the bond, and drops frames for it arriving from the bond: the guest is unreachable from outside.',
  'blackholed-unicast':
    'Unicast for a guest arrived on the bond while the bridge had the guest learned on the bond, and never reached the guest’s port: the bridge dropped it because it would have had to send it back where it came from. This is the outage users see: the guest is unreachable from some hosts, intermittently.',
  'mac-flap':
    'The bridge saw this MAC alternate between ports again and again. With a bonded uplink this is the loop at work: each echo of the guest’s broadcasts moves it behind the bond, each frame it sends moves it back.',
  'mac-move':
    'This MAC moved once, from one port to another, and stayed: a guest migrated away (or a device was moved). A one-time move is not a fault.',
  'mac-flood':
    'More source MACs than bondscope tracks were seen: a MAC flood (random source addresses, as switch-table attacks or broken devices send). Counting went on, but MACs past the limit were not tracked one by one.',
  'loop-prone-bond':
    'This bond sits under a bridge in a setup that passes frames arriving on every slave up to the bridge. When the switches flood a broadcast the host sent out of one slave back into another (two switches, or one switch that does not treat the slaves as one port), the bridge gets its own and its guests’ frames back: the kernel logs "received packet on bond0 with own address", and the bridge learns guests behind the bond.',
};
