/**
 * Learning: `wrong-port-learning` — a guest's own frame came back up the bond, so the bridge
 * learned the guest behind the bond instead of its port. How long each wrong entry lasted comes
 * from the MAC table's learning (the engine calls entryRight when the guest speaks again), and
 * whether it was still wrong when the capture ended from closeLearning.
 */
import type { Confidence } from '../findings.js';
import type { MacEntry } from '../mac-table.js';
import type { DetectorContext, EvidenceSource, SettledGroup } from './context.js';

export function onGuestEcho(ctx: DetectorContext, g: SettledGroup, t: number, refs: readonly EvidenceSource[], names: string[], confidence: Confidence): void {
  const f = ctx.finding('wrong-port-learning', g.src, g.vlan, t, refs, names, confidence);
  const entry = ctx.macs.entry(g.vlan, g.src);
  if (entry && entry.wrongSince >= 0 && f.details.episodes === undefined) f.details.episodes = 0;
}

/** The guest spoke again on its own port after `ms` with a wrong entry: one episode more. */
export function entryRight(ctx: DetectorContext, mac: number, vlan: number, ms: number): void {
  const f = ctx.existing('wrong-port-learning', mac, vlan);
  if (!f) return;
  f.details.episodes = Number(f.details.episodes ?? 0) + 1;
  f.details.longestWrongMs = Math.max(Number(f.details.longestWrongMs ?? 0), Math.round(ms * 1000) / 1000);
  f.details.totalWrongMs = Math.round((Number(f.details.totalWrongMs ?? 0) + ms) * 1000) / 1000;
}

/** At the end: an entry still wrong. */
export function closeLearning(ctx: DetectorContext, e: MacEntry): void {
  if (e.wrongSince < 0) return;
  const f = ctx.existing('wrong-port-learning', e.mac, e.vlan);
  if (!f) return;
  f.details.wrongAtEnd = 'yes';
  f.details.wrongAtEndForMs = Math.round((ctx.latestT - e.wrongSince) / 1e3) / 1e3;
}
