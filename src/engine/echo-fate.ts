/**
 * What became of a frame the host side sent, once it had left by the uplink, as far as the
 * captures running at that moment show it: its echo came up the bond, the bond dropped it, it never
 * reached the bridge, it came back and nothing shows whether it went up, it did not come back, or
 * nothing that would show an echo was being captured. One decision, read by the uplink watch
 * (uplink.ts: only the fates that prove no loop count as a frame that did not loop) and by the
 * loop-echo detector (an unsettled echo is a reflection, reflections.ts) — so a capture whose bond
 * stopped (a file cut short, a tcpdump killed) or began late never turns "came back, fate unseen"
 * into "did not loop".
 *
 * A pure function of the frame's settled path and the capture windows (capture-windows.ts), so it
 * is tested table by table (test/engine/echo-fate.test.ts).
 *
 * The rules, in the order they are applied:
 *
 *  E1 Came up. The echo was seen going up the bond (path.ts R5): the loop, as sure as
 *     loop-echoes.ts says (an echo or a repeat when only the bond shows it).
 *  E2 Dropped. Back in on another slave than it left by (R4), not up the bond, while the bond was
 *     being captured from that copy to a hop after it: the echo goes up within a hop when it goes
 *     up at all, so the bond dropped it (active-backup dropping what its backup slave
 *     receives).
 *  E3 Kept out. A broadcast or multicast back in on another slave, the bond not captured then, while
 *     the bridge device or a guest's port was (for the hop after) and no copy of the echo reached
 *     it within that hop: the bridge floods every broadcast and multicast it takes in to its own device and to every
 *     other port, so none got into the bridge (a NIC whose bridge port spanning tree blocks, or a
 *     bond that dropped it).
 *  E4 Unsettled. Back in on another slave, and nothing captured at that moment shows whether it went
 *     up: the bond's capture had ended (a file cut short, its tcpdump stopped) or not yet begun, or
 *     nothing on the host side was being captured either (only slaves: the switches' reflection,
 *     harmless or the loop depending on the bond's settings), or the echo is a unicast frame, which
 *     the bridge delivers to one port only.
 *  E5 Not back. No copy came back, while the bond or two slaves were being captured from the
 *     frame's start to a switch round trip after it (R3: an echo is back within that): the
 *     switches did not return it.
 *  E6 Not watched. No copy came back, and no port that would show its echo was being captured for
 *     the whole of that time (the capture's first or last moments, a port whose file ended): it
 *     proves nothing either way.
 */
import { type FramePath, P_ECHO_FLOODED, type PathSighting, R_BOND, R_BRIDGE, R_GUEST, R_SLAVE } from './path.js';

export const ECHO_CAME_UP = 1;
export const ECHO_DROPPED = 2;
export const ECHO_KEPT_OUT = 3;
export const ECHO_UNSETTLED = 4;
export const ECHO_NOT_BACK = 5;
export const ECHO_NOT_WATCHED = 6;
export type EchoFate = typeof ECHO_CAME_UP | typeof ECHO_DROPPED | typeof ECHO_KEPT_OUT | typeof ECHO_UNSETTLED | typeof ECHO_NOT_BACK | typeof ECHO_NOT_WATCHED;

export const ECHO_FATE_NAMES: Record<EchoFate, string> = {
  [ECHO_CAME_UP]: 'came-up',
  [ECHO_DROPPED]: 'dropped',
  [ECHO_KEPT_OUT]: 'kept-out',
  [ECHO_UNSETTLED]: 'unsettled',
  [ECHO_NOT_BACK]: 'not-back',
  [ECHO_NOT_WATCHED]: 'not-watched',
};

/** The fates that prove the frame did not loop: the frame counts as one that left and did not come back up. */
export function provesNoLoop(f: EchoFate): boolean {
  return f === ECHO_DROPPED || f === ECHO_KEPT_OUT || f === ECHO_NOT_BACK;
}

/** What the fate reads of the capture windows. */
export interface EchoWindows {
  /** How many ports of this role (path.ts R_*) were being captured over the whole of [from, to]. */
  watchedBy(role: number, from: number, to: number): number;
  /** A hop inside the host (path.ts IN_HOST_HOP_NS, wider for arrival stamps). */
  readonly inHostHopNs: number;
  /** How long after a frame left its echo can come back (path.ts SWITCH_ROUND_TRIP_NS, wider for arrival stamps). */
  readonly echoWithinNs: number;
}

/** The fate of the frame whose settled path is `path` over `s` (path.from a host-side start). */
export function echoFate(s: readonly PathSighting[], path: FramePath, group: boolean, w: EchoWindows): EchoFate {
  const hop = w.inHostHopNs;
  // E1
  if (path.upBond >= 0) return ECHO_CAME_UP;
  if (path.echoIn >= 0) {
    const back = s[path.echoIn]!.t;
    // E2
    if (w.watchedBy(R_BOND, back, back + hop) > 0) return ECHO_DROPPED;
    // E3
    if (group && (w.watchedBy(R_BRIDGE, back, back + hop) > 0 || w.watchedBy(R_GUEST, back, back + hop) > 0)) {
      let reached = false;
      // Flooded within a hop of coming in, or not the echo's flood (the sender's own resend, tens of ms on).
      for (let i = 0; i < path.n; i++) if (s[i]!.place === P_ECHO_FLOODED && s[i]!.t - back <= hop) reached = true;
      if (!reached) return ECHO_KEPT_OUT;
    }
    // E4
    return ECHO_UNSETTLED;
  }
  // E5, E6
  const t = s[path.origin]!.t;
  const until = t + w.echoWithinNs;
  return w.watchedBy(R_BOND, t, until) > 0 || w.watchedBy(R_SLAVE, t, until) >= 2 ? ECHO_NOT_BACK : ECHO_NOT_WATCHED;
}
