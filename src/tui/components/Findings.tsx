/**
 * Findings: the list (severity, summary), and the explanation and remedies of the selected one,
 * under the list in narrow terminals and in a pane of its own in wide ones.
 */
import { Box, Text } from 'ink';
import { safeText } from '../../report/escape.js';
import { clockTime, wrapText } from '../format.js';
import type { Severity, UiFinding } from '../model.js';
import { type Theme, useTheme } from '../theme.js';
import { Pane } from './Pane.js';

export const SEVERITY_TEXT: Record<Severity, string> = { error: 'ERR ', warning: 'WARN', info: 'info' };

export function severityColor(s: Severity, theme: Theme): string | undefined {
  return s === 'error' ? theme.bad : s === 'warning' ? theme.warn : undefined;
}

/**
 * The selected finding as lines of `width`: summary, times, explanation, numbered remedies,
 * evidence. `compact` (under the list in narrow terminals) leaves out the summary, the times and
 * the blank lines: the list row already shows the summary and enter shows everything.
 */
export function findingLines(f: UiFinding, width: number, compact = false): string[] {
  const lines = compact ? [] : wrapText(safeText(f.summary), width);
  const gap = compact ? [] : [''];
  if (!compact) lines.push(`${f.active ? 'active' : 'seen'} ${clockTime(f.first)} – ${clockTime(f.last)} UTC  (${safeText(f.kind)})`);
  if (f.explanation) lines.push(...gap, ...wrapText(safeText(f.explanation), width));
  if (f.remedies.length) {
    lines.push(...gap, 'Remedies:');
    f.remedies.forEach((r, i) => lines.push(...wrapText(`${i + 1}. ${safeText(r)}`, width, '   ')));
  }
  if (f.evidence.length) {
    lines.push(...gap, 'Evidence:');
    for (const e of f.evidence) lines.push(...wrapText(`- ${safeText(e)}`, width, '  '));
  }
  return lines;
}

function FindingRow({ f, selected, focused, theme }: { f: UiFinding; selected: boolean; focused: boolean; theme: Theme }) {
  return (
    <Text wrap="truncate" inverse={selected && focused} underline={selected && !focused}>
      <Text color={severityColor(f.severity, theme)} bold>
        {SEVERITY_TEXT[f.severity] ?? f.severity}
      </Text>
      {f.active ? ' ● ' : ' '}
      {safeText(f.summary)}
    </Text>
  );
}

export interface FindingsProps {
  list: readonly UiFinding[];
  total: number;
  selected: number;
  top: number;
  width: number;
  height: number;
  focused: boolean;
  sort: string;
  filter: string;
  /** Narrow layout: the selected finding's details go under the list, in the rows left. */
  withDetail: boolean;
}

/** How many list rows the findings pane shows, leaving the rest to the details when they share it. */
export function findingListHeight(height: number, count: number, withDetail: boolean): number {
  const inner = Math.max(0, height - 2);
  if (!withDetail) return inner;
  return Math.max(1, Math.min(Math.max(count, 1), Math.ceil(inner / 3)));
}

export function Findings({ list, total, selected, top, width, height, focused, sort, filter, withDetail }: FindingsProps) {
  const theme = useTheme();
  const inner = Math.max(0, height - 2);
  const listRows = findingListHeight(height, list.length, withDetail);
  const shown = list.slice(top, top + listRows);
  const current = list[selected];
  const count = filter ? `${list.length}/${total}` : `${total}`;
  return (
    <Pane title={`Findings ${count}`} info={`sort ${sort}${filter ? ` │ /${safeText(filter)}` : ''}`} width={width} height={height} focused={focused}>
      {shown.length === 0 ? (
        <Text dimColor={theme.dim} wrap="truncate">
          {total === 0 ? 'no findings' : 'none matches the filter'}
        </Text>
      ) : (
        shown.map((f, i) => <FindingRow key={f.id} f={f} selected={top + i === selected} focused={focused} theme={theme} />)
      )}
      {withDetail && current && inner - listRows > 1 ? (
        <Box flexDirection="column">
          {inner >= 10 ? (
            <Text dimColor={theme.dim} wrap="truncate">
              {'─'.repeat(Math.max(0, width - 2))}
            </Text>
          ) : null}
          {findingLines(current, width - 2, true)
            .slice(0, inner - Math.max(listRows, shown.length) - (inner >= 10 ? 1 : 0))
            .map((l, i) => (
              <Text key={i} wrap="truncate">
                {l || ' '}
              </Text>
            ))}
        </Box>
      ) : null}
    </Pane>
  );
}

export interface FindingDetailProps {
  finding: UiFinding | undefined;
  width: number;
  height: number;
}

/** Wide layout: the selected finding in a pane of its own. */
export function FindingDetail({ finding, width, height }: FindingDetailProps) {
  const theme = useTheme();
  // Summary, then the compact body: the remedies must fit in the pane's height more often than not.
  const lines = finding ? [...wrapText(safeText(finding.summary), width - 2), ...findingLines(finding, width - 2, true)] : [];
  return (
    <Pane title="Explanation and remedies" width={width} height={height} focused={false}>
      {finding ? (
        lines.slice(0, Math.max(0, height - 2)).map((l, i) => (
          <Text key={i} wrap="truncate" bold={i === 0} color={i === 0 ? severityColor(finding.severity, theme) : undefined}>
            {l || ' '}
          </Text>
        ))
      ) : (
        <Text dimColor={theme.dim}>no finding selected</Text>
      )}
    </Pane>
  );
}
