/**
 * What a capture without the bond's view cannot settle, said as what was seen (never as a loop):
 *  - `switch-reflection`: a frame of the host side came back in on another slave than it left by
 *    while nothing captured then shows whether the bond passed it up (echo-fate.ts E4: only slaves
 *    captured, or the bond's capture over or not yet begun). The switches deliver the same broadcast to both NICs, which
 *    is harmless when the bond drops what arrives on its backup slave (active-backup as meant)
 *    and the loop when it passes it up; only the bond's or the bridge's capture, or the bond's
 *    settings (`bondscope check`: mode, all_slaves_active), tell which.
 *  - `echo-or-repeat`: with only the bond captured, a frame went out of it and came in again
 *    microseconds later. That is an echo coming back up the bond, or the sender sending the same
 *    bytes twice (some stacks do): the bond alone cannot tell them apart.
 * One finding per capture set for each (the MAC is -1); the MACs involved are in its details.
 */
import type { FramePath, PathSighting } from '../path.js';
import type { DetectorContext, SettledGroup } from './context.js';
import { formatMac } from '../../model/mac.js';

/** MACs named in a finding's details, at most. */
const MACS_NAMED = 8;

function noteMac(details: Record<string, number | string | undefined>, mac: number): void {
  const named = details.macs ? String(details.macs).split(', ') : [];
  const m = formatMac(mac);
  if (named.includes(m)) return;
  if (named.length < MACS_NAMED) details.macs = [...named, m].join(', ');
  else details.moreMacs = Number(details.moreMacs ?? 0) + 1;
}

function noteDelay(details: Record<string, number | string | undefined>, us: number): void {
  if (us < 0) return;
  details.minDelayUs = Math.min(Number(details.minDelayUs ?? Infinity), us);
  details.maxDelayUs = Math.max(Number(details.maxDelayUs ?? -Infinity), us);
}

/** The frame left by one slave and came back in on another, its fate unseen (E4). */
export function onReflection(ctx: DetectorContext, g: SettledGroup, s: PathSighting[], path: FramePath): void {
  const out = s[path.outSlave >= 0 ? path.outSlave : path.origin]!;
  const back = s[path.echoIn]!;
  const names = [ctx.ports.ports[out.port]!.port.name, ctx.ports.ports[back.port]!.port.name];
  // With only the slaves captured, the side a frame started on rests on its source MAC (path.ts
  // R2): one known as the host's or a guest's (--local-mac, a recorded topology) was the host
  // side's; a Xen or KVM vendor prefix only hints at it — a KVM guest on another host has one too,
  // and its frame, flooded by the switches to both NICs, arrives on one slave microseconds before
  // the other just as a reflection does.
  const known = ctx.localMacs.has(g.src) || ctx.guestPorts.has(g.src);
  const f = ctx.finding('switch-reflection', -1, 0, back.t, s.slice(0, path.n), names, known ? 'high' : 'low');
  noteMac(f.details, g.src);
  noteDelay(f.details, Math.round((back.t - out.t) / 1e3));
}

/** The bond only: out of it, and in again a moment later. */
export function onEchoOrRepeat(ctx: DetectorContext, g: SettledGroup, s: PathSighting[], path: FramePath): void {
  const first = s[path.firstOut >= 0 ? path.firstOut : path.origin]!;
  const again = s[path.upBond]!;
  const f = ctx.finding('echo-or-repeat', -1, 0, again.t, s.slice(0, path.n), [ctx.ports.ports[again.port]!.port.name], 'high');
  noteMac(f.details, g.src);
  noteDelay(f.details, Math.round((again.t - first.t) / 1e3));
}
