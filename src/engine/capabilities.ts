/**
 * What a set of observation points can prove, so the report claims no more than the frames show.
 * One table (CAPABILITY_RULES): each row is one thing a capture may or may not be able to prove,
 * with what it takes, judged from the ports the engine saw. The report's "What these captures can
 * prove", the JSON's `capabilities`, and the README's table of capture forms all come from it.
 */
import { MAX_OFFSET_NS, NEGLIGIBLE_OFFSET_NS, type UnsettledClock } from './clock.js';
import type { PortState } from './ports.js';

/** The things a capture set can prove or not, one per row of the table. */
export type CapabilityId =
  | 'ports-apart'
  | 'echo-up-bond'
  | 'bond-passed-echo'
  | 'echo-or-resend'
  | 'loop-path'
  | 'origin'
  | 'blackhole'
  | 'directions'
  | 'inferred-roles'
  | 'unknown-roles'
  | 'clocks';

export interface Capabilities {
  canProve: string[];
  cannotProve: string[];
  /** The rows that hold, and those that do not, by id (for the verdict, the tests, the README's table). */
  proven: CapabilityId[];
  unproven: CapabilityId[];
}

/** What the rules read of a capture set: its ports that carried frames, and how. */
export interface CaptureView {
  /** Ports that carried at least one frame. */
  seen: PortState[];
  slaves: number;
  has(role: string): boolean;
  withDirection: boolean;
  cooked: boolean;
  /** Per input whose clock the pre-pass could not line up with the others': its ports that carried frames, and what the frames said. */
  unsettledClocks: { ports: PortState[]; aboutNs: number | null }[];
}

export interface CapabilityRule {
  id: CapabilityId;
  /** What a capture must hold for the row to be proven, in a few words (the README's table). */
  needs: string;
  /** The row for this capture set: proven or not, in words; null when it says nothing here. */
  judge(c: CaptureView): { proven: boolean; text: string } | null;
}

const names = (ps: PortState[]): string => ps.map((p) => p.port.name).join(', ');

export const CAPABILITY_RULES: CapabilityRule[] = [
  {
    id: 'ports-apart',
    needs: 'one interface per capture point (pcapng IDBs, one file per port, -i any ifindexes)',
    judge: (c) => {
      const merged = c.seen.filter((p) => p.mergedPoints);
      if (!merged.length) return null;
      return {
        proven: false,
        text: `which port saw each frame: ${names(merged)} holds copies of one frame from several capture points (interfaces merged into one, as mergecap does by default or a multi-interface capture saved as pcap); capture or merge again with one interface per port (mergecap -I none), or analyse the per-interface files`,
      };
    },
  },
  {
    id: 'echo-up-bond',
    needs: 'the bond',
    judge: (c) => (c.has('bond') ? { proven: true, text: 'echoes coming up the bond (own-address frames, wrong-port learning)' } : null),
  },
  {
    id: 'loop-path',
    needs: 'both slaves',
    judge: (c) =>
      c.slaves >= 2
        ? { proven: true, text: 'which slave a looped frame left by and which it came back on' }
        : c.slaves === 1
          ? { proven: false, text: 'the loop path: only one slave was captured, so a frame leaving by the other cannot be seen' }
          : null,
  },
  {
    id: 'origin',
    needs: 'the bridge or a guest port, with the bond or a slave (or the capture’s directions)',
    // Without the uplink, a frame from outside and one from the host side reach the bridge and the
    // guests' ports alike: only the capture's directions tell them apart (path.ts, R2).
    judge: (c) =>
      (c.has('guest') || c.has('bridge')) && (c.has('bond') || c.slaves > 0 || c.withDirection)
        ? { proven: true, text: 'where frames started (a guest’s port or the host itself)' }
        : c.has('guest') || c.has('bridge')
          ? { proven: false, text: 'where frames started: no bond or slave was captured and the capture gives no directions, so a frame from outside and one from the host or a guest reach the bridge alike' }
          : { proven: false, text: 'which MACs are guests’ or the host’s: no guest port or bridge was captured (guessed from Xen/KVM OUIs and --local-mac)' },
  },
  {
    id: 'blackhole',
    needs: 'a guest port and the bond or a slave',
    // Cooked (-i any) captures have no destination MAC: the unicast is matched to the guest by the
    // IPv4 address the guest announced in its own ARP (only IPv4 unicast, only after that ARP).
    judge: (c) =>
      c.has('guest') && (c.has('bond') || c.slaves > 0)
        ? { proven: true, text: c.cooked ? 'IPv4 unicast for a guest that never reached its port (blackholed), matched by the address in the guest’s own ARP: cooked captures have no destination MAC' : 'unicast for a guest that never reached its port (blackholed)' }
        : { proven: false, text: c.has('guest') ? 'blackholed unicast: no bond or slave was captured, so unicast arriving for a guest cannot be seen' : 'blackholed unicast: no guest port was captured' },
  },
  {
    id: 'echo-or-resend',
    needs: 'a slave or the host side beside the bond',
    judge: (c) =>
      c.has('bond') && c.slaves === 0 && !c.has('guest') && !c.has('bridge')
        ? { proven: false, text: 'an echo from a frame sent twice: with only the bond captured, a second copy moments later may be either (findings have medium confidence)' }
        : null,
  },
  {
    id: 'bond-passed-echo',
    needs: 'the bond, or the bridge or a guest port beside the slaves',
    judge: (c) =>
      !c.has('bond') && c.slaves > 0 && !c.has('bridge') && !c.has('guest')
        ? { proven: false, text: 'whether the bond passed echoes up to the bridge: only slaves were captured, and a reflection the switches send back into a slave is harmless unless the bond delivers it (capture the bond or the bridge too; `bondscope check` reads the bond’s mode and all_slaves_active)' }
        : !c.has('bond') && c.slaves > 0
          ? { proven: false, text: 'whether the bond passed echoes up to the bridge: no bond capture (findings have medium confidence)' }
          : null,
  },
  {
    id: 'directions',
    needs: 'pcapng direction flags or cooked (-i any) headers',
    judge: (c) => (c.withDirection ? null : { proven: false, text: 'direction from the capture itself: no pcapng direction flags or cooked headers, so directions are inferred from each frame’s path' }),
  },
  {
    id: 'inferred-roles',
    needs: 'names, flags or a recorded topology',
    judge: (c) => {
      const inferred = c.seen.filter((p) => p.port.roleSource === 'inferred' && !p.mergedPoints);
      return inferred.length
        ? { proven: false, text: `roles named by nothing but the frames: ${inferred.map((p) => `${p.port.name} (${p.port.role})`).join(', ')} were inferred from which ports saw each frame and in what order; confirm them with --bond/--bridge` }
        : null;
    },
  },
  {
    id: 'unknown-roles',
    needs: 'names, flags, a recorded topology, or frames that tell the roles',
    judge: (c) => {
      const unknown = c.seen.filter((p) => p.port.role === 'unknown' && !p.mergedPoints);
      return unknown.length ? { proven: false, text: `the role of ${names(unknown)}: name them with --bond/--bridge (or --links for an -i any capture)` } : null;
    },
  },
  {
    id: 'clocks',
    needs: 'files on one clock, or frames they share through the host',
    judge: (c) => {
      const parts = c.unsettledClocks.map((u) =>
        u.aboutNs === null
          ? `the order of ${names(u.ports)}’s frames against the other files’: its file shares too few frames with them to line its clock up (none that pair without doubt within ±${MAX_OFFSET_NS / 1e9} s), so they are taken as stamped, right only if it was recorded on the same clock (synchronise a second machine’s clock, or capture the host’s side of that port too)`
          : Math.abs(u.aboutNs) < NEGLIGIBLE_OFFSET_NS
            ? `whether ${names(u.ports)}’s file shares the other files’ clock: its frames meet theirs only across the switch, where a loop’s delay and a clock apart look alike; they agree to within ${NEGLIGIBLE_OFFSET_NS / 1e6} ms, taken as one clock`
            : `the order of ${names(u.ports)}’s frames against the other files’: its clock reads about ${Math.abs(u.aboutNs / 1e6).toFixed(1)} ms ${u.aboutNs > 0 ? 'ahead of' : 'behind'} theirs, but its frames meet theirs only across the switch or through ports of unknown role, where the path itself takes time, so it is not lined up (taken as stamped)`,
      );
      return parts.length ? { proven: false, text: parts.join('; ') } : null;
    },
  },
];

export function captureView(ports: PortState[], clocks: readonly UnsettledClock[] = []): CaptureView {
  const seen = ports.filter((p) => p.frames > 0);
  return {
    seen,
    slaves: seen.filter((p) => p.port.role === 'slave').length,
    has: (role) => seen.some((p) => p.port.role === role),
    withDirection: seen.some((p) => p.framesWithDirection > 0),
    cooked: seen.some((p) => p.cooked),
    unsettledClocks: clocks.map((u) => ({ ports: seen.filter((p) => p.input === u.input), aboutNs: u.aboutNs })).filter((u) => u.ports.length > 0),
  };
}

/** `clocks`: the inputs whose clock the pre-pass could not line up (AnalyzerOptions.unsettledClocks). */
export function capabilities(ports: PortState[], clocks: readonly UnsettledClock[] = []): Capabilities {
  const view = captureView(ports, clocks);
  const out: Capabilities = { canProve: [], cannotProve: [], proven: [], unproven: [] };
  for (const rule of CAPABILITY_RULES) {
    const j = rule.judge(view);
    if (!j) continue;
    (j.proven ? out.canProve : out.cannotProve).push(j.text);
    (j.proven ? out.proven : out.unproven).push(rule.id);
  }
  return out;
}

/**
 * What the capture set holds, as the verdict reads it (verdict.ts): the small interface through
 * which "cannot tell" is decided, fed from the ports today.
 */
export interface Provable {
  /** Slaves captured (a slave that carried no frame counts: it was captured and received nothing). */
  slaves: string[];
  bond: string[];
  bridge: string[];
  guestPorts: string[];
  /** Ports of no known role (interfaces merged into one not among them: `merged`). */
  unknown: string[];
  /** Interfaces that hold several capture points' frames (merged-points.ts). */
  merged: string[];
  /** Ports whose role only the frames gave. */
  inferred: string[];
  /** A Linux cooked (-i any) capture: no destination MACs. */
  cooked: boolean;
  /** Whether the capture itself gave directions (pcapng flags, cooked headers). */
  directions: boolean;
  /**
   * Whether an echo of a frame the host sent could be seen at all: coming up the bond (the bond
   * and the host side captured) or back in on another slave (two slaves).
   */
  echoVisible: boolean;
  /** Whether it can be told that an echo reached the bridge: the bond captured, or the host side beside two slaves. */
  upTheBondVisible: boolean;
}

/** Every port of the capture set counts, frames or none: a port that carried nothing was still captured. */
export function provable(ports: PortState[]): Provable {
  const named = (role: string): string[] => ports.filter((p) => p.port.role === role).map((p) => p.port.name);
  const slaves = named('slave');
  const bond = named('bond');
  const hostSide = named('bridge').length + named('guest').length > 0;
  return {
    slaves,
    bond,
    bridge: named('bridge'),
    guestPorts: named('guest'),
    unknown: ports.filter((p) => p.port.role === 'unknown' && !p.mergedPoints).map((p) => p.port.name),
    merged: ports.filter((p) => p.mergedPoints).map((p) => p.port.name),
    inferred: ports.filter((p) => p.port.roleSource === 'inferred').map((p) => p.port.name),
    cooked: ports.some((p) => p.cooked),
    directions: ports.some((p) => p.framesWithDirection > 0),
    echoVisible: slaves.length >= 2 || (bond.length > 0 && hostSide),
    upTheBondVisible: bond.length > 0 || (hostSide && slaves.length >= 2),
  };
}
