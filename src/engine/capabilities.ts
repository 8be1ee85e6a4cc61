/** What a set of observation points can prove, so the report claims no more than the frames show. */
import type { PortState } from './ports.js';

export interface Capabilities {
  canProve: string[];
  cannotProve: string[];
}

export function capabilities(ports: PortState[]): Capabilities {
  const seen = ports.filter((p) => p.frames > 0);
  const has = (role: string): boolean => seen.some((p) => p.port.role === role);
  const slaves = seen.filter((p) => p.port.role === 'slave').length;
  const withDirection = seen.some((p) => p.framesWithDirection > 0);
  const canProve: string[] = [];
  const cannotProve: string[] = [];
  if (has('bond')) canProve.push('echoes coming up the bond (own-address frames, wrong-port learning)');
  if (slaves >= 2) canProve.push('which slave a looped frame left by and which it came back on');
  else if (slaves === 1) cannotProve.push('the loop path: only one slave was captured, so a frame leaving by the other cannot be seen');
  if (has('guest') || has('bridge')) canProve.push('where frames started (a guest’s port or the host itself)');
  else cannotProve.push('which MACs are guests’ or the host’s: no guest port or bridge was captured (guessed from Xen/KVM OUIs and --local-mac)');
  // Cooked (-i any) captures have no destination MAC: the unicast is matched to the guest by the
  // IPv4 address the guest announced in its own ARP (only IPv4 unicast, only after that ARP).
  const cooked = seen.some((p) => p.cooked);
  if (has('guest')) canProve.push(cooked ? 'IPv4 unicast for a guest that never reached its port (blackholed), matched by the address in the guest’s own ARP: cooked captures have no destination MAC' : 'unicast for a guest that never reached its port (blackholed)');
  else cannotProve.push('blackholed unicast: no guest port was captured');
  if (has('bond') && slaves === 0 && !has('guest') && !has('bridge')) cannotProve.push('an echo from a frame sent twice: with only the bond captured, a second copy moments later may be either (findings have medium confidence)');
  if (!has('bond') && slaves > 0) cannotProve.push('whether the bond passed echoes up to the bridge: no bond capture (findings have medium confidence)');
  if (!withDirection) cannotProve.push('direction from the capture itself: no pcapng direction flags or cooked headers, so directions are inferred from each frame’s path');
  const inferred = seen.filter((p) => p.port.roleSource === 'inferred');
  if (inferred.length) cannotProve.push(`roles named by nothing but the frames: ${inferred.map((p) => `${p.port.name} (${p.port.role})`).join(', ')} were inferred from which ports saw each frame and in what order; confirm them with --bond/--bridge`);
  if (seen.some((p) => p.port.role === 'unknown')) cannotProve.push(`the role of ${seen.filter((p) => p.port.role === 'unknown').map((p) => p.port.name).join(', ')}: name them with --bond/--bridge (or --links for an -i any capture)`);
  return { canProve, cannotProve };
}
