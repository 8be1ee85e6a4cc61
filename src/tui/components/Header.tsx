/**
 * The header: what is being looked at, then the topology (bonds with their slaves, the active one
 * marked *, bridges with their ports and roles), then every capture interface with its frame
 * rate, frames and drops. Lines are packed to the width; what does not fit ends in "+N more".
 */
import { Box, Text } from 'ink';
import type { PortRole } from '../../model/topology.js';
import { safeText } from '../../report/escape.js';
import { clockTime, groupedCount, shortCount } from '../format.js';
import type { UiSnapshot } from '../model.js';
import { type Theme, useTheme } from '../theme.js';

/** A piece of a line with its look; text is already safe. */
interface Seg {
  text: string;
  color?: string | undefined;
  bold?: boolean;
  dim?: boolean;
}

const ROLE_SHORT: Record<PortRole, string> = { slave: 'slave', bond: 'bond', bridge: 'bridge', guest: 'guest', unknown: '?' };
const ROLE_PLURAL: Record<PortRole, (n: number) => string> = {
  slave: (n) => (n === 1 ? 'slave' : 'slaves'),
  bond: (n) => (n === 1 ? 'bond' : 'bonds'),
  bridge: (n) => (n === 1 ? 'bridge' : 'bridges'),
  guest: (n) => (n === 1 ? 'guest' : 'guests'),
  unknown: () => 'other',
};

/** Keeps the end of `text` within `width` columns ("…/loop/loop.pcapng"). */
function cutLeft(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? '' : '…' + text.slice(text.length - width + 1);
}

/** Packs groups of segments (one group per item) into at most `maxLines` lines of `width`. */
function pack(groups: Seg[][], width: number, maxLines: number, sep: string): Seg[][] {
  const len = (g: Seg[]): number => g.reduce((n, s) => n + s.text.length, 0);
  const lines: Seg[][] = [];
  let line: Seg[][] = [];
  let used = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    const need = (line.length ? sep.length : 0) + len(g);
    if (line.length && used + need > width) {
      if (lines.length + 1 >= maxLines) {
        // Last line: drop groups until "+N more" fits after them.
        let left = groups.length - i;
        while (line.length > 1 && used + ` +${left} more`.length > width) {
          const dropped = line.pop()!;
          used -= len(dropped) + sep.length;
          left++;
        }
        lines.push([...join(line, sep), { text: ` +${left} more`, dim: true }]);
        return lines;
      }
      lines.push(join(line, sep));
      line = [];
      used = 0;
    }
    used += (line.length ? sep.length : 0) + len(g);
    line.push(g);
  }
  if (line.length) lines.push(join(line, sep));
  return lines;
}

function join(groups: Seg[][], sep: string): Seg[] {
  const out: Seg[] = [];
  groups.forEach((g, i) => {
    if (i) out.push({ text: sep, dim: true });
    out.push(...g);
  });
  return out;
}

function Line({ segs, theme }: { segs: Seg[]; theme: Theme }) {
  return (
    <Text wrap="truncate">
      {segs.map((s, i) => (
        <Text key={i} color={s.color} bold={s.bold ?? false} dimColor={(s.dim ?? false) && theme.dim}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}

function stateText(s: UiSnapshot, paused: boolean): string {
  const what = s.mode === 'live' ? (s.state === 'capturing' ? 'capturing' : 'stopped') : s.state === 'done' ? 'end of file' : s.mode === 'replay' ? 'replaying' : 'reading';
  return paused ? `${what}, view paused` : what;
}

export interface HeaderProps {
  snapshot: UiSnapshot;
  width: number;
  height: number;
  paused: boolean;
}

export function Header({ snapshot: s, width, height, paused }: HeaderProps) {
  const theme = useTheme();
  // Narrow terminals get the short form, so the file name keeps some room.
  // Live: what the capture lost, never left out (cap cannot count the kernel's: "?").
  const d = s.drops;
  const lost = d ? (d.kernel ?? 0) + d.internal : 0;
  const dropsText = d ? ` │ drops ${d.kernel === null ? '?+' : ''}${groupedCount(lost)}${d.lastSec ? ` (${shortCount(d.lastSec)}/s)` : ''}` : '';
  const dropsShort = d ? ` │ dr ${d.kernel === null ? '?+' : ''}${shortCount(lost)}` : '';
  const full = ` │ ${stateText(s, paused)} │ ${groupedCount(s.frames)} frames${dropsText} │ ${clockTime(s.now)} UTC │ ? keys`;
  const left = ` bondscope ${s.mode} `;
  const useFull = width - left.length - full.length >= 24;
  const right = useFull ? full : ` │ ${stateText(s, paused)} │ ${shortCount(s.frames)} fr${dropsShort} │ ${clockTime(s.now).slice(0, 8)} │ ?`;
  const dropsSeg = useFull ? dropsText : dropsShort;
  const at = dropsSeg ? right.indexOf(dropsSeg) : -1;
  const title: Seg[] = [
    { text: ' bondscope ', bold: true, color: theme.accent },
    { text: `${s.mode} `, dim: true },
    // Long paths lose their beginning, not the file name.
    { text: cutLeft(safeText(s.title), width - 1 - left.length - right.length), bold: true },
    ...(at >= 0
      ? [{ text: right.slice(0, at) }, { text: dropsSeg, color: lost > 0 ? theme.bad : undefined, bold: lost > 0 }, { text: right.slice(at + dropsSeg.length) }]
      : [{ text: right }]),
  ];

  const topo: Seg[][] = [];
  for (const b of s.topology.bonds) {
    const g: Seg[] = [{ text: `${safeText(b.name)}${b.mode ? ` (${safeText(b.mode)})` : ''}:`, bold: true }];
    for (const sl of b.slaves) {
      g.push({ text: ' ' });
      g.push({
        text: `${safeText(sl.name)}${sl.active ? '*' : ''}${sl.linkUp === false ? '(down)' : ''}`,
        color: sl.linkUp === false ? theme.bad : sl.active ? theme.good : undefined,
        bold: sl.active,
      });
    }
    topo.push(g);
  }
  for (const br of s.topology.bridges) {
    // Ports grouped by role ("bond bond0, guests vif1.0 vif2.0"): roles without a word per port.
    const g: Seg[] = [{ text: `${safeText(br.name)}:`, bold: true }];
    const roles = [...new Set(br.ports.map((p) => p.role))];
    roles.forEach((role, n) => {
      const ports = br.ports.filter((p) => p.role === role);
      g.push({ text: `${n ? ',' : ''} ${ROLE_PLURAL[role](ports.length)}`, dim: true });
      for (const p of ports) {
        // A port that is not forwarding (STP blocking, learning) says so.
        const state = p.state && p.state !== 'forwarding' ? `(${safeText(p.state)})` : '';
        g.push({ text: ` ${safeText(p.name)}${state}`, color: state ? theme.warn : undefined });
      }
    });
    topo.push(g);
  }
  if (topo.length === 0) topo.push([{ text: 'topology not known: roles from interface names', dim: true }]);

  const ifaces: Seg[][] = s.interfaces.map((i) => {
    // Role only where the topology line does not already say it.
    const g: Seg[] = [{ text: safeText(i.name), bold: true }];
    if (!s.topology.bonds.length && !s.topology.bridges.length) g.push({ text: ` ${ROLE_SHORT[i.role]}`, dim: true });
    g.push({ text: ` ${shortCount(i.rate)}/s` }, { text: ` ${shortCount(i.frames)}`, dim: true });
    if (i.drops > 0) g.push({ text: ` drop ${shortCount(i.drops)}!`, color: theme.bad, bold: true });
    return g;
  });

  const inner = Math.max(1, width - 1);
  // One line for the title; the rest shared: topology first (at least one line), interfaces after.
  const rest = Math.max(2, height - 1);
  const topoLines = pack(topo, inner, Math.max(1, rest - Math.min(rest - 1, Math.ceil(ifaces.length / 4) || 1)), '  ');
  // The note on assumed roles goes where it fits; the full list is under ?.
  const n = s.topology.assumed.length;
  const note = `  ${n} role${n === 1 ? '' : 's'} assumed (see ?)`;
  const lastTopo = topoLines[topoLines.length - 1]!;
  if (n && lastTopo.reduce((w, x) => w + x.text.length, 0) + note.length <= inner) lastTopo.push({ text: note, dim: true });
  const ifaceLines = pack(ifaces.length ? ifaces : [[{ text: 'no frames yet', dim: true }]], inner, rest - topoLines.length, '  ');
  const lines = [title, ...topoLines, ...ifaceLines].slice(0, height);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.map((segs, i) => (
        <Line key={i} segs={segs} theme={theme} />
      ))}
    </Box>
  );
}
