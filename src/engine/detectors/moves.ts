/**
 * Moves and flaps, from the MAC table at the end: a MAC the bridge learned on another port once
 * and that stayed is `mac-move` (a guest migrated: not a fault); one that changed port again and
 * again is `mac-flap`, listing the ports it came in on (where the bridge learned it), never a
 * port it was only sent out of.
 */
import { DIR_IN } from '../../model/record.js';
import { type MacEntry, PC_IN } from '../mac-table.js';
import type { DetectorContext, EvidenceSource } from './context.js';

/** A MAC that changed port this often is flapping, not moving. */
export const FLAP_MOVES = 4;

export function closeMoves(ctx: DetectorContext, e: MacEntry): void {
  const ports = ctx.ports.ports;
  const wrongFinding = ctx.existing('wrong-port-learning', e.mac, e.vlan) !== undefined;
  if (e.moves >= FLAP_MOVES) {
    // From its first move to its last: the frame of each, the flapping between them.
    const first = e.firstMove ?? e.lastMove;
    const f = ctx.finding('mac-flap', e.mac, e.vlan, first?.t ?? e.learnedAt, first ? [{ ...first, role: 'moved' }] : [], [], 'high');
    if (e.lastMove && e.lastMove !== first) ctx.finding('mac-flap', e.mac, e.vlan, e.lastMove.t, [{ ...e.lastMove, role: 'moved' }], [], 'high');
    f.count = e.moves;
    f.details.moves = e.moves;
    f.details.movesByEcho = e.echoMoves;
    for (const [i, c] of e.ports) {
      const p = ports[i]!;
      if (p.learns && c[PC_IN]! > 0 && !f.interfaces.includes(p.port.name)) f.interfaces.push(p.port.name);
    }
  } else if (e.moves === 1 && e.echoMoves === 0 && !wrongFinding && e.lastMove && !e.lastMove.fromEcho) {
    // (Away from a port it was learned on only by its echoes — its own port's capture not yet
    // begun when they came up the bond — it returned; it did not migrate.)
    const m = e.lastMove;
    const refs: EvidenceSource[] = [{ ...m, role: 'moved' }];
    if (m.prevInput >= 0) refs.push({ input: m.prevInput, frame: m.prevFrame, port: m.from, dir: DIR_IN, role: 'last-before-move' });
    const f = ctx.finding('mac-move', e.mac, e.vlan, m.t, refs, [ports[m.from]!.port.name, ports[m.to]!.port.name], 'high');
    f.details.from = ports[m.from]!.port.name;
    f.details.to = ports[m.to]!.port.name;
  }
}
