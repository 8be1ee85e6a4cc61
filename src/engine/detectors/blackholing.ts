/**
 * Blackholing: `blackholed-unicast` — unicast from outside for a guest whose entry the bridge had
 * behind the bond arrived and never reached the guest's port (the bridge drops what it would send
 * back where it came from). Its absence proves the drop only while the guest's port was captured.
 *
 * Every unicast for a known guest that came in from outside while the guest's port was being
 * captured is tallied, delivered or not, so the finding says what share was lost
 * (`details.arrived`, `details.lost`): the outage as the guest's peers saw it.
 */
import { DIR_IN } from '../../model/record.js';
import type { FramePath, PathSighting } from '../path.js';
import type { DetectorContext, EvidenceSource, SettledGroup } from './context.js';
import { TALLY_LIMIT, type UnicastTally } from './unicast-tally.js';

export function onInboundUnicast(ctx: DetectorContext, g: SettledGroup, s: PathSighting[], path: FramePath): void {
  if (g.dst < 0) return;
  const origin = s[path.origin]!;
  const guestPort = ctx.guestPorts.get(g.dst);
  if (guestPort === undefined) return;
  const ports = ctx.ports.ports;
  const chain = ports[guestPort]!.chain;
  let reached = false;
  for (let i = 0; i < path.n; i++) if (ports[s[i]!.port]!.chain === chain) reached = true;
  const guestCaptured = ctx.capturing(guestPort, origin.t);
  const vlan = ctx.fdbVlan(g.vlan);
  const entry = ctx.macs.peek(vlan, g.dst);
  const lost = !reached && !!entry && entry.wrongSince >= 0 && entry.wrongSince <= origin.t;
  const tally = ctx.unicastTally(vlan, g.dst, guestPort);
  if (tally && tally.times.length < TALLY_LIMIT) tally.times.push(lost ? -origin.t : origin.t);
  else if (tally && guestCaptured) {
    tally.arrived++;
    if (lost) tally.lost++;
  }
  if (!lost) return;
  // Evidence: the unicast (where it came in, tagged blackholed; its other copies by their place),
  // and the echo that taught the bridge the guest on the bond, with the rest of its path (the
  // frame that set the state: another frame, tagged as such).
  const refs: EvidenceSource[] = [{ ...origin, role: 'blackholed' }, ...s.slice(0, path.n).filter((x) => x !== origin)];
  // That echo's copies in the order of its path (time order), the one that set the state tagged so.
  const setter = (y: { input: number; frame: number }): boolean => y.input === entry.wrongInput && y.frame === entry.wrongFrame;
  if (entry.wrongPath?.some(setter)) for (const y of entry.wrongPath) refs.push(setter(y) ? { ...y, role: 'set-state', ofState: true } : { ...y, ofState: true });
  else if (entry.wrongInput >= 0) refs.push({ input: entry.wrongInput, frame: entry.wrongFrame, port: entry.wrongPort, dir: DIR_IN, role: 'set-state', ofState: true });
  ctx.finding('blackholed-unicast', g.dst, vlan, origin.t, refs, [ports[origin.port]!.port.name, ports[guestPort]!.port.name], guestCaptured ? 'high' : 'medium');
}

/**
 * At the end: what share of the guest's unicast from outside was lost, within its port's capture
 * window as the whole capture shows it. A loss inside that window is proven (high confidence),
 * though the port was quiet around it.
 */
export function closeBlackholing(ctx: DetectorContext, vlan: number, mac: number, tally: UnicastTally): void {
  const f = ctx.existing('blackholed-unicast', mac, vlan);
  if (!f) return;
  let arrived = tally.arrived;
  let lost = tally.lost;
  for (const x of tally.times) {
    if (!ctx.capturing(tally.guestPort, Math.abs(x))) continue;
    arrived++;
    if (x < 0) lost++;
  }
  f.details.arrived = arrived;
  f.details.lost = lost;
  if (lost > 0) f.confidence = 'high';
}
