/**
 * Loop echoes: a frame the host side sent (a guest, the host, the bond itself) came back in on
 * the other slave and up the bond. `looped-broadcast` for the broadcasts and multicasts that did,
 * `own-address` for the host's own MACs among them (what the kernel logs as "received packet on
 * bond0 with own address as source address"). A guest's own echo is `wrong-port-learning`
 * (learning.ts): what it does to the bridge's table. Paths the capture cannot settle go to
 * reflections.ts, which says what was seen and claims no loop.
 */
import { ECHO_UNSETTLED, type EchoFate } from '../echo-fate.js';
import type { Confidence } from '../findings.js';
import { type FramePath, O_BOND, O_GUEST, O_HOST, P_ECHO_FLOODED, type PathSighting } from '../path.js';
import type { DetectorContext, SettledGroup } from './context.js';
import { onGuestEcho } from './learning.js';
import { onEchoOrRepeat, onReflection } from './reflections.js';

/** One settled frame whose path has an echo. */
export function onEcho(ctx: DetectorContext, g: SettledGroup, s: PathSighting[], path: FramePath, fate: EchoFate): void {
  const up = path.upBond >= 0 ? s[path.upBond]! : null;
  const back = path.echoIn >= 0 ? s[path.echoIn]! : null;
  // What the captures of that moment prove of this path (echo-fate.ts decides what became of the
  // frame; capabilities.ts says the same to the user):
  //  - the echo seen coming up the bond, after it came back in on another slave or with the host
  //    side captured (where a frame started is known): the loop;
  //  - only the bond showing it: out and in again may be an echo or a repeat (reflections.ts);
  //  - back in on another slave with nothing captured then to show whether it went up (E4: the
  //    bond's capture over, or none and no host side): the switches sent it back, and whether the
  //    bond delivered it cannot be seen: a reflection, said as such (reflections.ts);
  //  - back in on another slave and the bond, captured then, did not pass it up (E2), or nothing
  //    of it reached the bridge (E3): no loop from this frame.
  // Up the bond with no copy in on another slave (no other slave's capture was running then, R5)
  // is the echo only where the host side shows it: the port the frame started on was capturing
  // (a repeat shows there again before the bond's copy, R6; an echo is flooded back after), or,
  // for the bond's own frame, the bridge delivered the copy (a bond's repeat never reaches the
  // bridge). Else — the sender's port not captured at that moment: its file ended, began later,
  // or was left out — an echo or a repeat.
  const hostSideShows = (x: PathSighting): boolean =>
    ((path.from === O_GUEST || path.from === O_HOST) && ctx.capturing(s[path.origin]!.port, x.t)) ||
    (path.from === O_BOND && s.slice(0, path.n).some((y) => y.place === P_ECHO_FLOODED));
  let confidence: Confidence;
  if (up && (back || hostSideShows(up))) confidence = 'high';
  else if (up) return onEchoOrRepeat(ctx, g, s, path);
  else if (fate === ECHO_UNSETTLED) return onReflection(ctx, g, s, path);
  else return;
  const echo = up ?? back!;
  const origin = s[path.origin]!;
  const outSlave = path.outSlave >= 0 ? s[path.outSlave]! : null;
  const out = path.firstOut >= 0 ? s[path.firstOut]! : null;
  const hops = [origin, ...[outSlave, back, up].filter((x): x is PathSighting => x !== null && x !== origin)];
  const names = hops.map((r) => ctx.ports.ports[r.port]!.port.name);
  // Evidence: every copy of the frame on its way, each with its place in the path.
  const refs = s.slice(0, path.n);
  const delayUs = out ? Math.round((echo.t - out.t) / 1e3) : -1;
  if (g.group) {
    const f = ctx.finding('looped-broadcast', g.src, g.vlan, echo.t, refs, names, confidence);
    if (delayUs >= 0) f.details.loopDelayUs = Math.min(Number(f.details.loopDelayUs ?? Infinity), delayUs);
  }
  if (ctx.localMacs.has(g.src)) ctx.finding('own-address', g.src, g.vlan, echo.t, refs, [ctx.ports.ports[echo.port]!.port.name], confidence);
  else if (ctx.guestPorts.has(g.src)) onGuestEcho(ctx, g, echo.t, refs, names, confidence);
}
