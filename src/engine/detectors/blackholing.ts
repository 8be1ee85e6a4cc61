/**
 * Blackholing: `blackholed-unicast` — unicast from outside for a guest whose entry the bridge had
 * behind the bond arrived and never reached the guest's port (the bridge drops what it would send
 * back where it came from). Its absence proves the drop only while the guest's port was captured.
 */
import { DIR_IN } from '../../model/record.js';
import type { FramePath, PathSighting } from '../path.js';
import type { DetectorContext, EvidenceSource, SettledGroup } from './context.js';

export function onInboundUnicast(ctx: DetectorContext, g: SettledGroup, s: PathSighting[], path: FramePath): void {
  if (g.dst < 0) return;
  const origin = s[path.origin]!;
  const guestPort = ctx.guestPorts.get(g.dst);
  if (guestPort === undefined) return;
  const entry = ctx.macs.entry(g.vlan, g.dst);
  if (!entry || entry.wrongSince < 0 || entry.wrongSince > origin.t) return;
  const ports = ctx.ports.ports;
  const chain = ports[guestPort]!.chain;
  for (let i = 0; i < path.n; i++) if (ports[s[i]!.port]!.chain === chain) return;
  const guestCaptured = ctx.capturing(guestPort, origin.t);
  // Evidence: the unicast (where it came in, tagged blackholed; its other copies by their place),
  // and the echo that taught the bridge the guest on the bond, with the rest of its path.
  const refs: EvidenceSource[] = [{ ...origin, role: 'blackholed' }, ...s.slice(0, path.n).filter((x) => x !== origin)];
  if (entry.wrongInput >= 0) refs.push({ input: entry.wrongInput, frame: entry.wrongFrame, port: entry.wrongPort, dir: DIR_IN, role: 'set-state' });
  for (const y of entry.wrongPath ?? []) if (y.input !== entry.wrongInput || y.frame !== entry.wrongFrame) refs.push(y);
  ctx.finding('blackholed-unicast', g.dst, g.vlan, origin.t, refs, [ports[origin.port]!.port.name, ports[guestPort]!.port.name], guestCaptured ? 'high' : 'medium');
}
