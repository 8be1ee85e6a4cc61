/**
 * The MAC table: one row per (VLAN, MAC) with the ports that saw it as source in/out, where the
 * bridge learned it and the vendor. Red rows (marked !!) were learned on the wrong port; yellow
 * rows (marked ~~) came back looped or carried the host's own address. Only the visible rows are
 * drawn, however large the table.
 */
import { Text } from 'ink';
import { formatMac } from '../../model/mac.js';
import { safeText } from '../../report/escape.js';
import { clockTime, fit, shortCount } from '../format.js';
import { rowMark, type UiMacRow } from '../model.js';
import { useTheme } from '../theme.js';
import { Pane } from './Pane.js';

export const MARK_TEXT = { 'wrong-port': '!!', looped: '~~', none: '  ' } as const;

interface Columns {
  vendor: number;
  learned: number;
  home: number;
  loop: number;
  last: number;
  ports: number;
}

/** Column widths for an inner width: the narrow layout keeps what matters most. */
export function macColumns(inner: number): Columns {
  const wide = inner >= 110;
  const c: Columns = { vendor: wide ? 14 : 9, learned: wide ? 10 : 9, home: wide ? 10 : 0, loop: wide ? 7 : 0, last: inner >= 140 ? 12 : 0, ports: 0 };
  const fixed = 2 + 5 + 18 + (c.vendor + 1) + (c.learned + 1) + (c.home ? c.home + 1 : 0) + (c.loop ? c.loop + 1 : 0) + (c.last ? c.last + 1 : 0);
  c.ports = Math.max(8, inner - fixed);
  return c;
}

function portsText(row: UiMacRow): string {
  return row.ports
    .map((p) => `${safeText(p.port)} ${shortCount(p.inFrames)}/${shortCount(p.outFrames)}${p.unknownFrames ? `/${shortCount(p.unknownFrames)}?` : ''}`)
    .join('  ');
}

export function macLine(row: UiMacRow, c: Columns): string {
  let s = MARK_TEXT[rowMark(row)] + fit(String(row.vlan), 4, 'right') + ' ' + formatMac(row.mac) + ' ';
  s += fit(safeText(row.vendor ?? ''), c.vendor) + ' ';
  s += fit(safeText(row.learnedOn ?? '-'), c.learned) + ' ';
  if (c.home) s += fit(safeText(row.home ?? '-'), c.home) + ' ';
  if (c.loop) s += fit(row.loopedFrames + row.ownAddressFrames ? shortCount(row.loopedFrames + row.ownAddressFrames) : '', c.loop, 'right') + ' ';
  if (c.last) s += fit(clockTime(row.lastSeen), c.last) + ' ';
  return s + fit(portsText(row), c.ports);
}

function headLine(c: Columns): string {
  let s = '  ' + fit('VLAN', 4, 'right') + ' ' + fit('MAC', 17) + ' ' + fit('vendor', c.vendor) + ' ' + fit('learned', c.learned) + ' ';
  if (c.home) s += fit('belongs', c.home) + ' ';
  if (c.loop) s += fit('looped', c.loop, 'right') + ' ';
  if (c.last) s += fit('last seen', c.last) + ' ';
  return s + fit('ports: frames in/out', c.ports);
}

export interface MacTableProps {
  rows: readonly UiMacRow[];
  /** Rows in the snapshot before filtering. */
  total: number;
  selected: number;
  top: number;
  width: number;
  height: number;
  focused: boolean;
  sort: string;
  filter: string;
}

/** Rows of data a MAC table of this height shows (borders and the column header take three). */
export function macBodyHeight(height: number): number {
  return Math.max(0, height - 3);
}

export function MacTable({ rows, total, selected, top, width, height, focused, sort, filter }: MacTableProps) {
  const theme = useTheme();
  const c = macColumns(width - 2);
  const body = macBodyHeight(height);
  const visible = rows.slice(top, top + body);
  const wrong = rows.filter((r) => r.wrongPort).length;
  const count = filter ? `${rows.length}/${total}` : `${total}`;
  const info = `sort ${sort}${filter ? ` │ /${safeText(filter)}` : ''}`;
  return (
    <Pane title={`MAC table ${count}${wrong ? ` │ ${wrong} wrong port` : ''}`} info={info} width={width} height={height} focused={focused}>
      <Text bold wrap="truncate">
        {headLine(c)}
      </Text>
      {visible.length === 0 ? (
        <Text dimColor={theme.dim} wrap="truncate">
          {total === 0 ? '  no MAC addresses seen yet' : '  no row matches the filter'}
        </Text>
      ) : (
        visible.map((row, i) => {
          const mark = rowMark(row);
          const isSel = top + i === selected;
          return (
            <Text
              key={`${row.vlan}/${row.mac}`}
              wrap="truncate"
              color={mark === 'wrong-port' ? theme.bad : mark === 'looped' ? theme.warn : undefined}
              bold={mark === 'wrong-port'}
              inverse={isSel && focused}
              underline={isSel && !focused}
            >
              {macLine(row, c)}
            </Text>
          );
        })
      )}
    </Pane>
  );
}
