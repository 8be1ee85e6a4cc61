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
  /** Only slaves captured: frames came back in on another slave; whether the bond delivered them cannot be seen (reflections.ts). */
  | 'switch-reflection'
  /** Only the bond captured: frames went out of it and came in again; an echo or a repeat, which the bond alone cannot tell. */
  | 'echo-or-repeat'
  /** From the host's configuration alone (`bondscope check`, live mode): a bond under a bridge set up so it loops. */
  | 'loop-prone-bond'
  /** Spanning tree and LACP, the fixes users switch to (control-plane.ts): from BPDUs, LACPDUs and the host's view. */
  | 'stp-host-is-root'
  | 'stp-topology-change'
  | 'stp-port-blocked'
  | 'lacp-partner-mismatch'
  | 'lacp-not-distributing'
  | 'lacp-no-partner'
  | 'lacp-slow-timeout';

export type Confidence = 'high' | 'medium' | 'low';

/**
 * What an evidence frame is, as the engine worked it out (path.ts and the detectors): the
 * frame's place in its path, or the part it plays for the finding. Sinks (report, export, UI)
 * word these; they never work a path out again.
 *  - original, out, flooded, echo, up-the-bond, echo-flooded, inbound: the place in the path
 *    (PLACE_NAMES);
 *  - blackholed: the unicast for a guest that never reached the guest's port;
 *  - set-state: the frame that set the state the finding depends on (the echo that taught the
 *    bridge the guest on the bond);
 *  - moved: the frame that made the bridge learn the MAC on its new port;
 *  - last-before-move: the MAC's last frame on its old port before it moved.
 */
export type EvidenceRole =
  | 'original'
  | 'out'
  | 'flooded'
  | 'echo'
  | 'up-the-bond'
  | 'echo-flooded'
  | 'inbound'
  | 'promiscuous'
  | 'blackholed'
  | 'set-state'
  | 'moved'
  | 'last-before-move';

/**
 * What each word of a frame's path means: the one legend the text report, `analyze --help`, the
 * UI and report.md print.
 */
export const ROLE_MEANING: Record<EvidenceRole, string> = {
  original: 'where the frame started: in on a guest’s port, out of the bridge device (the host’s own), out of the bond (its own), or in on a slave from outside',
  out: 'on its way out of the host: out of the bond, out of the slave it left by',
  flooded: 'sent on by the bridge to that port (to every port for a broadcast, to the port it learned for unicast), or up to the host',
  echo: 'back in on another slave than it left by: the switches flooded it back',
  'up-the-bond': 'the echo passed up by the bond to the bridge: the loop (the bridge learns the sender on the bond)',
  'echo-flooded': 'the echo sent on by the bridge to the guests’ ports and the host, the sender’s own port too',
  inbound: 'a frame from outside on its way in: in on a slave, up the bond',
  promiscuous: 'the bridge device’s copy of unicast for another MAC: tcpdump’s promiscuous mode shows it every frame the bridge receives, whether it then forwards or drops it (not a delivery)',
  blackholed: 'unicast for a guest that came in on the uplink and never reached the guest’s port',
  'set-state': 'the frame that made the bridge’s entry wrong: the echo that taught it the guest on the bond',
  moved: 'the frame that made the bridge learn the MAC on its new port',
  'last-before-move': 'the MAC’s last frame on its old port before it moved',
};

/** A frame as the user finds it again: its input file and its number there (as Wireshark numbers it). */
export interface FrameRef {
  input: number;
  frame: number;
  /** What the frame is for the finding (engine findings; absent on configuration and control-plane ones). */
  role?: EvidenceRole;
  /** Its direction on its port, as captured or as its path showed (null: not known). */
  dir?: 'in' | 'out' | null;
  /** The port it was seen on. */
  port?: string;
  /** Which occurrence of the finding (1 for the first) it belongs to: the frames of one path share it. */
  occurrence?: number;
  /**
   * A frame of the state the occurrence depends on (the echo that taught the bridge the guest on
   * the bond, and that echo's other copies): another frame than the occurrence's own, with a path
   * of its own.
   */
  ofState?: boolean;
}

/** What every finding has (the JSON keys of `analyze --json`'s findings, with `details` by kind). */
interface FindingFields {
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
  /** Up to EVIDENCE_LIMIT frames (the first ones), tagged; `count` keeps counting past it. */
  evidence: FrameRef[];
  confidence: Confidence;
  explanation: string;
  remedies: RemedyId[];
}

/** A kind's own numbers, open to more (the kernel's confirmation, the source of a finding from the log). */
type Details<T> = T & { [key: string]: number | string | undefined };

/** Details every data-plane finding may carry from the kernel's own account (live mode, --kernel-log). */
interface KernelDetails {
  /** Own-address warnings the kernel logged for this MAC. */
  kernelWarnings?: number;
  /** "the kernel's FDB had … on bond0". */
  kernelConfirmed?: string;
  /** 'kernel log' when the finding comes from the log alone. */
  source?: string;
}

export interface LoopedBroadcastFinding extends FindingFields {
  kind: 'looped-broadcast';
  /** Shortest time from leaving by a slave to coming back up (µs). */
  details: Details<KernelDetails & { loopDelayUs?: number }>;
}
export interface OwnAddressFinding extends FindingFields {
  kind: 'own-address';
  details: Details<KernelDetails>;
}
export interface WrongPortLearningFinding extends FindingFields {
  kind: 'wrong-port-learning';
  /** Times the entry was right again, how long it was wrong, and whether it still was at the end. */
  details: Details<
    KernelDetails & {
      /** Time within the capture the bridge had the guest on the bond (every episode, the one open at the end included). */
      wrongMs?: number;
      /** From the first time it went wrong to the end of the capture. */
      sinceFirstMs?: number;
      episodes?: number;
      longestWrongMs?: number;
      totalWrongMs?: number;
      /** Time the entry was right again between episodes (and after the last), and the longest such stretch. */
      rightMs?: number;
      longestRightMs?: number;
      rightAtEndForMs?: number;
      wrongAtEnd?: 'yes';
      wrongAtEndForMs?: number;
    }
  >;
}
export interface BlackholedUnicastFinding extends FindingFields {
  kind: 'blackholed-unicast';
  /** Unicast for the guest from outside while its port was captured, and how much of it never reached it. */
  details: Details<KernelDetails & { arrived?: number; lost?: number }>;
}
export interface MacFlapFinding extends FindingFields {
  kind: 'mac-flap';
  details: Details<{ moves?: number; movesByEcho?: number }>;
}
export interface MacMoveFinding extends FindingFields {
  kind: 'mac-move';
  details: Details<{ from?: string; to?: string }>;
}
export interface SwitchReflectionFinding extends FindingFields {
  kind: 'switch-reflection';
  /** MACs whose frames came back (the first few), how many more, and the shortest and longest time from leaving to coming back (µs). */
  details: Details<{ macs?: string; moreMacs?: number; minDelayUs?: number; maxDelayUs?: number }>;
}
export interface EchoOrRepeatFinding extends FindingFields {
  kind: 'echo-or-repeat';
  details: Details<{ macs?: string; moreMacs?: number; minDelayUs?: number; maxDelayUs?: number }>;
}
export interface MacFloodFinding extends FindingFields {
  kind: 'mac-flood';
  details: Details<{ limit?: number; tracked?: number; untrackedAtLeast?: number; untrackedCountSaturated?: 'yes' | 'no'; findingsNotKept?: number }>;
}
/** From the host's configuration and the control plane (control-plane.ts, host-check.ts): details as each check writes them. */
export interface HostFinding extends FindingFields {
  kind: Exclude<FindingKind, DataPlaneKind>;
  details: Details<{ source?: string; setting?: string }>;
}

type DataPlaneKind = 'looped-broadcast' | 'own-address' | 'wrong-port-learning' | 'blackholed-unicast' | 'mac-flap' | 'mac-move' | 'mac-flood' | 'switch-reflection' | 'echo-or-repeat';

/** A finding, typed by its kind. */
export type Finding =
  | LoopedBroadcastFinding
  | OwnAddressFinding
  | WrongPortLearningFinding
  | BlackholedUnicastFinding
  | MacFlapFinding
  | MacMoveFinding
  | MacFloodFinding
  | SwitchReflectionFinding
  | EchoOrRepeatFinding
  | HostFinding;

/**
 * A finding's identity across readings (the monitor's lifecycle, the UI's list): kind, MAC, VLAN;
 * for MAC-less ones (spanning tree, LACP: one per port) the ports too.
 */
export function findingIdentity(f: Finding): string {
  return `${f.kind}|${f.mac}|${f.vlan}${f.mac < 0 ? `|${f.interfaces.join(',')}` : ''}`;
}

/** The finding of one kind. */
export type FindingOf<K extends FindingKind> = Extract<Finding, { kind: K }>;

export const EVIDENCE_LIMIT = 64;

export type RemedyId =
  | 'lacp'
  | 'active-backup-drop'
  | 'single-nic'
  | 'stp'
  | 'avoid-modes'
  | 'none-needed'
  | 'stp-bridge-priority'
  | 'stp-edge-ports'
  | 'lacp-one-partner'
  | 'lacp-switch-config'
  | 'lacp-fast-rate';

export const REMEDIES: Record<RemedyId, string> = {
  lacp: 'Use 802.3ad (LACP) with both NICs to one switch or to a stacked/MLAG pair: the switch then treats the links as one port and never floods a frame back into the bond.',
  'active-backup-drop':
    'Use active-backup with a bonding driver that drops what arrives on the backup slave: all_slaves_active=0 (the default) and bonding 3.0.2 or later (Linux 2.6.17, 2006; older drivers pass the backup slave’s frames up). Judge by the kernel release: /proc/net/bonding said 3.7.1 from 2011 to 2020 and prints the kernel release since. On Open vSwitch (XCP-ng, XenServer): active-backup, or balance-slb without other_config:all-members-active=true and with switch ports that are NOT an EtherChannel.',
  'single-nic': 'Use a single NIC under the bridge until the switches are fixed.',
  stp: 'Put both NICs in the bridge and run STP so one of them blocks (slow convergence on failover, and the Linux bridge tends to become root: raise its bridge priority).',
  'avoid-modes':
    'Avoid balance-rr, balance-xor and broadcast bonds, and balance-tlb/alb, under a bridge: they either flood back or confuse the switches’ learning. Red Hat supports only active-backup, balance-xor (with a static EtherChannel) and 802.3ad under a bridge for guests (RHEL 7 Virtualization Deployment and Administration Guide, 17.2).',
  'none-needed': 'Nothing to fix: this is not a fault.',
  'stp-bridge-priority':
    'Make a switch the spanning-tree root, never the host: raise the Linux bridge’s priority (`ip link set BRIDGE type bridge priority 61440`, or `brctl setbridgeprio BRIDGE 61440`) and give the core switch a low one (4096).',
  'stp-edge-ports':
    'Find where the topology changes start (the bridge sending TCNs or first setting TC): a flapping link, or switch ports facing hosts and guests that are not edge ports. Configure those as edge ports (portfast, with BPDU guard) so a link going up or down there changes no topology.',
  'lacp-one-partner':
    'Connect every slave of the bond to one switch, or to switches that act as one LACP system (a stack, MLAG, vPC); with two independent switches each slave finds its own partner and only the aggregator the bond selects (ad_select) carries traffic.',
  'lacp-switch-config':
    'Configure the switch ports as one LACP port-channel (mode active or passive) with the same speed, duplex and VLANs on every member; compare the aggregator id and partner per slave in /proc/net/bonding/BOND with the switch’s `show lacp neighbor`.',
  'lacp-fast-rate': 'Set lacp_rate=fast on the bond (and `lacp rate fast` on the switch ports): LACPDUs every second, a dead link noticed in 3 s instead of 90 s.',
};

export const SEVERITY: Record<FindingKind, Severity> = {
  'looped-broadcast': 'error',
  'own-address': 'warning',
  'wrong-port-learning': 'error',
  'blackholed-unicast': 'error',
  'mac-flap': 'warning',
  'mac-move': 'info',
  'mac-flood': 'warning',
  'switch-reflection': 'info',
  'echo-or-repeat': 'info',
  'loop-prone-bond': 'error',
  'stp-host-is-root': 'warning',
  'stp-topology-change': 'warning',
  'stp-port-blocked': 'info',
  'lacp-partner-mismatch': 'error',
  'lacp-not-distributing': 'warning',
  'lacp-no-partner': 'error',
  'lacp-slow-timeout': 'info',
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
  // Not faults in themselves: what settles them is in the explanation.
  'switch-reflection': [],
  'echo-or-repeat': [],
  'loop-prone-bond': LOOP_REMEDIES,
  'stp-host-is-root': ['stp-bridge-priority'],
  'stp-topology-change': ['stp-edge-ports'],
  'stp-port-blocked': ['none-needed'],
  'lacp-partner-mismatch': ['lacp-one-partner'],
  'lacp-not-distributing': ['lacp-switch-config'],
  'lacp-no-partner': ['lacp-switch-config'],
  'lacp-slow-timeout': ['lacp-fast-rate'],
};

export const EXPLANATION: Record<FindingKind, string> = {
  'looped-broadcast':
    'A broadcast or multicast the host sent out of one slave came back in on {bond}: the switches flooded it into the other slave, and {bond} passed it up to {bridge}. Every broadcast the host or its guests send makes this round trip.',
  'own-address':
    'Frames with one of the host’s own MACs as their source arrived on the uplink. This is what the kernel logs as "{bridge}: received packet on {bond} with own address as source address". The message alone is harmless (the bridge drops such frames), but it is the fingerprint of the loop: the host’s own broadcasts are coming back.',
  'wrong-port-learning':
    'A guest’s own frame came back in on {bond}, so {bridge} learned the guest’s MAC behind {bond} instead of its own port ({port}). Until the guest speaks again, the bridge sends frames for the guest out of {bond}, and drops frames for it arriving from {bond}: the guest is unreachable from outside for as long as the bridge has it there.',
  'blackholed-unicast':
    'Unicast for a guest arrived on {bond} while {bridge} had the guest learned on {bond}, and never reached the guest’s port ({port}): the bridge dropped it because it would have had to send it back where it came from. This is the outage users see: the guest is unreachable from outside for as long as the bridge has it on {bond} (the verdict says how long, and how much of its unicast was lost).',
  'mac-flap':
    'The bridge saw this MAC alternate between ports again and again. With a bonded uplink this is the loop at work: each echo of the guest’s broadcasts moves it behind the bond, each frame it sends moves it back.',
  'mac-move':
    'This MAC moved once, from one port to another, and stayed: a guest migrated away (or a device was moved). A one-time move is not a fault.',
  'mac-flood':
    'More source MACs than bondscope tracks were seen: a MAC flood (random source addresses, as switch-table attacks or broken devices send). Counting went on, but MACs past the limit were not tracked one by one.',
  'switch-reflection':
    'The switches sent frames of the host side back into another slave than they left by: each such frame was seen leaving by one NIC and arriving on the other. With two switches that are not one stack, or NICs not aggregated on one switch, they flood every broadcast into both NICs. That is harmless when the bond drops what arrives on its backup slave (active-backup with all_slaves_active=0, as meant) and it is the loop when the bond passes it up. The captures running then hold only the slaves (the bond’s capture, if any, had ended or not yet begun), so they cannot show which: capture the bond or the bridge too, or run `bondscope check` on the host (it reads the bond’s mode and all_slaves_active from /proc/net/bonding and sysfs).',
  'echo-or-repeat':
    'Frames went out of the bond and came in on it again moments later. That is either an echo (the switches sent the frame back and the bond passed it up: the loop) or the sender sending the same bytes twice, as some network stacks do. With only the bond captured the two cannot be told apart: capture a slave, the bridge or a guest’s port beside it.',
  'loop-prone-bond':
    'This bond sits under a bridge in a setup that passes frames arriving on every slave up to the bridge. When the switches flood a broadcast the host sent out of one slave back into another (two switches, or one switch that does not treat the slaves as one port), the bridge gets its own and its guests’ frames back: the kernel logs "{bridge}: received packet on {bond} with own address", and the bridge learns guests behind {bond}.',
  'stp-host-is-root':
    'The host’s Linux bridge is the spanning-tree root. A Linux bridge starts with priority 32768, the same as most switches, so the lowest MAC wins and that is often the host’s: traffic between switches may then cross the host’s NICs, and every change at the host reshapes the whole tree.',
  'stp-topology-change':
    'Spanning tree signalled topology changes again and again (TC flags in BPDUs, TCNs). After each, every bridge ages its MAC table out in forward-delay seconds (15 by default) instead of minutes, and floods unicast for the MACs it forgot: guests see floods and short outages each time.',
  'stp-port-blocked':
    'Spanning tree blocks this NIC: it hears the root through a better path on another port (it is an alternate or backup port). With both NICs in the bridge this is STP working as meant: one NIC carries the traffic, the other waits, and takes over after the failover delay.',
  'lacp-partner-mismatch':
    'Slaves of one 802.3ad bond reach different LACP partners (system MAC or key): the links end on two switches that do not form one LACP system. The bond puts such slaves in different aggregators and uses only one of them, so the other links carry nothing, and failover waits for LACP.',
  'lacp-not-distributing':
    'One side of an LACP link is not in sync, collecting and distributing: the link is up but carries none of the aggregate’s traffic (the switch or the bond holds it out, e.g. a port not in the port-channel, a key or speed mismatch, or defaulted/expired partner information).',
  'lacp-no-partner':
    'LACP has no partner on this link: the host sends LACPDUs but the switch never answers, or the LACPDUs name a partner of zeros. The switch port is not in an LACP port-channel; the bond falls back to a single link, and a switch with a static or no port-channel may flood frames back into the other slaves.',
  'lacp-slow-timeout':
    'LACP runs with the long timeout: LACPDUs every 30 s, and a partner that stops answering is noticed only after 90 s, while frames sent down that link are lost.',
};

/** The names an explanation uses: this host's bridge, bond and the guest's own port. */
export interface ExplanationNames {
  bridge?: string | null;
  bond?: string | null;
  port?: string | null;
}

/**
 * A kind's explanation in this host's names (`{bridge}`, `{bond}`, `{port}` in EXPLANATION); where
 * a name is not known, words that name no port ("the bridge", "the bond", "the guest's port"),
 * never another host's.
 */
export function explanationFor(kind: FindingKind, names: ExplanationNames = {}): string {
  return EXPLANATION[kind]
    .replace(/\{bridge\}/g, names.bridge || 'the bridge')
    .replace(/\{bond\}/g, names.bond || 'the bond')
    .replace(/ \(\{port\}\)/g, names.port ? ` (${names.port})` : '');
}
