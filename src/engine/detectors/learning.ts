/**
 * Learning: `wrong-port-learning` — a guest's own frame came back up the bond, so the bridge
 * learned the guest behind the bond instead of its port. How long the bridge had it there comes
 * from the MAC table's learning, keyed as the bridge keys its forwarding database (by MAC alone on
 * a bridge that is not VLAN-aware): the engine calls entryRight when the guest speaks again on
 * its own port, entryWrongAgain when an echo takes it back to the bond, and closeLearning at the
 * end of the capture.
 *
 * The numbers (details): `wrongMs`, the time within the capture the bridge had the guest on the
 * bond (every episode, the one still open at the end included); `wrongAtEnd` and
 * `wrongAtEndForMs`; `episodes` and `longestWrongMs` (episodes that ended: the guest spoke on its
 * port); `rightMs`, the time the entry was right again after it first went wrong, `longestRightMs`
 * the longest such stretch between two episodes, `rightAtEndForMs` the last one when it was right
 * at the end; and
 * `sinceFirstMs`, from the first time it went wrong to the end of the capture. The guest was
 * unreachable from outside for wrongMs of sinceFirstMs; intermittently only when it was right
 * again for a good part of that time, not for the microseconds between its own frame and the echo.
 */
import type { Confidence } from '../findings.js';
import type { MacEntry } from '../mac-table.js';
import type { DetectorContext, EvidenceSource, SettledGroup } from './context.js';

const ms3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export function onGuestEcho(ctx: DetectorContext, g: SettledGroup, t: number, refs: readonly EvidenceSource[], names: string[], confidence: Confidence): void {
  const vlan = ctx.fdbVlan(g.vlan);
  const f = ctx.finding('wrong-port-learning', g.src, vlan, t, refs, names, confidence);
  const entry = ctx.macs.peek(vlan, g.src);
  if (entry && entry.wrongSince >= 0 && f.details.episodes === undefined) f.details.episodes = 0;
}

/** The guest spoke again on its own port after `ms` with a wrong entry: one episode more. */
export function entryRight(ctx: DetectorContext, mac: number, vlan: number, ms: number): void {
  const f = ctx.existing('wrong-port-learning', mac, vlan);
  if (!f) return;
  f.details.episodes = Number(f.details.episodes ?? 0) + 1;
  f.details.longestWrongMs = Math.max(Number(f.details.longestWrongMs ?? 0), ms3(ms));
  f.details.totalWrongMs = ms3(Number(f.details.totalWrongMs ?? 0) + ms);
}

/** An echo took the guest back to the bond after the entry had been right for `ms`. */
export function entryWrongAgain(ctx: DetectorContext, mac: number, vlan: number, ms: number): void {
  const f = ctx.existing('wrong-port-learning', mac, vlan);
  if (!f) return;
  f.details.rightMs = ms3(Number(f.details.rightMs ?? 0) + ms);
  f.details.longestRightMs = Math.max(Number(f.details.longestRightMs ?? 0), ms3(ms));
}

/** At the end: the entry still wrong (or right again since), and the totals. */
export function closeLearning(ctx: DetectorContext, e: MacEntry): void {
  const f = ctx.existing('wrong-port-learning', e.mac, e.vlan);
  if (!f || e.firstWrong < 0) return;
  const endMs = (ctx.latestT - (e.wrongSince >= 0 ? e.wrongSince : e.rightSince)) / 1e6;
  if (e.wrongSince >= 0) {
    f.details.wrongAtEnd = 'yes';
    f.details.wrongAtEndForMs = ms3(endMs);
  } else if (e.rightSince >= 0) {
    // Right again from the guest's last word to the end of the capture.
    f.details.rightMs = ms3(Number(f.details.rightMs ?? 0) + endMs);
    f.details.rightAtEndForMs = ms3(endMs);
  }
  f.details.wrongMs = ms3(Number(f.details.totalWrongMs ?? 0) + (e.wrongSince >= 0 ? endMs : 0));
  f.details.sinceFirstMs = ms3((ctx.latestT - e.firstWrong) / 1e6);
}
