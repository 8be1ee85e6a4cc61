/** What a set of observation points can prove, so the report claims no more than the frames show. */
import type { PortState } from './ports.js';

export interface Capabilities {
  canProve: string[];
  cannotProve: string[];
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
  /** Ports of no known role. */
  unknown: string[];
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
    unknown: named('unknown'),
    inferred: ports.filter((p) => p.port.roleSource === 'inferred').map((p) => p.port.name),
    cooked: ports.some((p) => p.cooked),
    directions: ports.some((p) => p.framesWithDirection > 0),
    echoVisible: slaves.length >= 2 || (bond.length > 0 && hostSide),
    upTheBondVisible: bond.length > 0 || (hostSide && slaves.length >= 2),
  };
}

export function capabilities(ports: PortState[]): Capabilities {
  const pv = provable(ports);
  const has = (role: string): boolean => ports.some((p) => p.port.role === role);
  const slaves = pv.slaves.length;
  const canProve: string[] = [];
  const cannotProve: string[] = [];
  if (has('bond')) canProve.push('echoes coming up the bond (own-address frames, wrong-port learning)');
  if (slaves >= 2) canProve.push('which slave a looped frame left by and which it came back on');
  else if (slaves === 1) cannotProve.push('the loop path: only one slave was captured, so a frame leaving by the other cannot be seen');
  if (has('guest') || has('bridge')) canProve.push('where frames started (a guest’s port or the host itself)');
  else cannotProve.push('which MACs are guests’ or the host’s: no guest port or bridge was captured (guessed from Xen/KVM OUIs and --local-mac)');
  // Cooked (-i any) captures have no destination MAC: the unicast is matched to the guest by the
  // IPv4 address the guest announced in its own ARP (only IPv4 unicast, only after that ARP).
  if (has('guest')) canProve.push(pv.cooked ? 'IPv4 unicast for a guest that never reached its port (blackholed), matched by the address in the guest’s own ARP: cooked captures have no destination MAC' : 'unicast for a guest that never reached its port (blackholed)');
  else cannotProve.push('blackholed unicast: no guest port was captured');
  if (has('bond') && slaves === 0 && !has('guest') && !has('bridge')) cannotProve.push('an echo from a frame sent twice: with only the bond captured, a second copy moments later may be either (findings have medium confidence)');
  if (!has('bond') && slaves > 0) cannotProve.push('whether the bond passed echoes up to the bridge: no bond capture (findings have medium confidence)');
  if (!pv.directions) cannotProve.push('direction from the capture itself: no pcapng direction flags or cooked headers, so directions are inferred from each frame’s path');
  const inferred = ports.filter((p) => p.port.roleSource === 'inferred');
  if (inferred.length) cannotProve.push(`roles named by nothing but the frames: ${inferred.map((p) => `${p.port.name} (${p.port.role})`).join(', ')} were inferred from which ports saw each frame and in what order; confirm them with --bond/--bridge`);
  if (pv.unknown.length) cannotProve.push(`the role of ${pv.unknown.join(', ')}: name them with --bond/--bridge (or --links for an -i any capture)`);
  return { canProve, cannotProve };
}
