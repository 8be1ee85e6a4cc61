/** The lines of the full-screen details (enter) of a MAC row and of a timeline event. */
import { formatMac } from '../model/mac.js';
import { safeText } from '../report/escape.js';
import { dateTime, fit, groupedCount, wrapText } from './format.js';
import { rowMark, type UiEvent, type UiMacRow } from './model.js';

export function macDetailLines(row: UiMacRow, width: number): string[] {
  const lines = [`MAC ${formatMac(row.mac)}  VLAN ${row.vlan}  vendor ${safeText(row.vendor ?? 'unknown')}`];
  const learned = safeText(row.learnedOn ?? 'not yet');
  const home = row.home ? safeText(row.home) : null;
  lines.push(`learned on ${learned}${home ? `, belongs on ${home}` : ''}`);
  const mark = rowMark(row);
  if (mark === 'wrong-port') {
    const text = row.wrongNow
      ? `!! WRONG PORT NOW: the bridge has this MAC on ${learned}${home ? ` instead of ${home}` : ''}; unicast to it from outside is lost until it is learned back.`
      : `!! WAS ON THE WRONG PORT: the bridge learned this MAC behind the bond${home ? ` instead of ${home}` : ''} during the capture; unicast to it from outside was lost meanwhile.`;
    lines.push(...wrapText(text, width, '   '));
  }
  if (row.loopedFrames > 0) lines.push(`~~ ${groupedCount(row.loopedFrames)} broadcast(s) from it came back in (looped)`);
  if (row.ownAddressFrames > 0) lines.push(`~~ ${groupedCount(row.ownAddressFrames)} frame(s) with it as source received back (own address)`);
  lines.push(`last seen ${dateTime(row.lastSeen)}`, '');
  const w = Math.max(8, ...row.ports.map((p) => safeText(p.port).length));
  lines.push(`${fit('port', w)}  ${fit('in', 12, 'right')}  ${fit('out', 12, 'right')}  ${fit('direction ?', 12, 'right')}`);
  for (const p of row.ports) {
    lines.push(
      `${fit(safeText(p.port), w)}  ${fit(groupedCount(p.inFrames), 12, 'right')}  ${fit(groupedCount(p.outFrames), 12, 'right')}  ${fit(groupedCount(p.unknownFrames), 12, 'right')}`,
    );
  }
  return lines;
}

export function eventDetailLines(e: UiEvent, width: number): string[] {
  return [`${dateTime(e.time)}`, `${safeText(e.kind)} (${e.severity})`, '', ...wrapText(safeText(e.text), width)];
}
