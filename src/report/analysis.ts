/** analyze's output: the terminal report and the JSON object (a contract: see README). */
import { REORDER_HORIZON_NS } from '../engine/reorder.js';
import type { Capabilities } from '../engine/capabilities.js';
import type { AnalysisStats, Analyzer } from '../engine/analyzer.js';
import { type Finding, REMEDIES } from '../engine/findings.js';
import { PC_IN, PC_OUT, PC_UNKNOWN } from '../engine/mac-table.js';
import { formatMac } from '../model/mac.js';
import { safeText } from './escape.js';
import { kernelSilenceNote } from './kernel-silence.js';
import { vendorOf } from './vendor.js';

export { vendorOf };

export interface InputInfo {
  index: number;
  name: string;
}

function time(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

/** The finding's summary; until the engine's finish() writes it (live), a short one from its fields. */
export function summaryOf(f: Finding): string {
  if (f.summary) return f.summary;
  const mac = f.mac >= 0 ? ` ${formatMac(f.mac)}` : '';
  const vlan = f.vlan ? ` on VLAN ${f.vlan}` : '';
  return `${f.kind.replace(/-/g, ' ')}${mac}${vlan}: ${f.count} time${f.count === 1 ? '' : 's'}${f.interfaces.length ? ` (${f.interfaces.join(' → ')})` : ''}`;
}

export function findingJson(f: Finding, inputs: InputInfo[]): object {
  return {
    kind: f.kind,
    severity: f.severity,
    summary: f.summary,
    mac: f.mac >= 0 ? formatMac(f.mac) : null,
    vlan: f.vlan,
    interfaces: f.interfaces,
    count: f.count,
    first: time(f.firstSec, f.firstNsec),
    last: time(f.lastSec, f.lastNsec),
    rate: rate(f),
    evidence: inputs
      .map((i) => {
        const refs = f.evidence.filter((e) => e.input === i.index);
        // What the engine says each frame is (its place in the frame's path, or its part in the finding).
        const tagged = refs.filter((e) => e.role !== undefined).map((e) => ({ frame: e.frame, role: e.role, dir: e.dir ?? null, port: e.port ?? null, occurrence: e.occurrence ?? null }));
        return { file: i.name, frames: refs.map((e) => e.frame).sort((a, b) => a - b), ...(tagged.length ? { tagged } : {}) };
      })
      .filter((e) => e.frames.length),
    confidence: f.confidence,
    explanation: f.explanation,
    remedies: f.remedies.map((r) => REMEDIES[r]),
    details: f.details,
  };
}

/** Occurrences per second between first and last (null for a single one). */
function rate(f: Finding): number | null {
  const span = f.lastSec - f.firstSec + (f.lastNsec - f.firstNsec) / 1e9;
  return f.count > 1 && span > 0 ? Math.round((f.count / span) * 1000) / 1000 : null;
}

/** The vendor column of the text report: IEEE names are long ("Super Micro Computer"); --json has them whole. */
const VENDOR_WIDTH = 32;
function vendorCell(v: string | null): string {
  const s = safeText(v ?? '');
  return s.length > VENDOR_WIDTH ? s.slice(0, VENDOR_WIDTH - 1) + '…' : s;
}

/** MACs the findings are about, plus up to `limit` more by frame count. */
function macRows(a: Analyzer, findings: Finding[], limit: number) {
  const involved = new Set(findings.map((f) => `${f.vlan}|${f.mac}`));
  const rows = [...a.macs.entries()].map((e) => {
    let frames = 0;
    for (const c of e.ports.values()) frames += c[PC_IN]! + c[PC_OUT]! + c[PC_UNKNOWN]!;
    return { e, frames, involved: involved.has(`${e.vlan}|${e.mac}`) };
  });
  rows.sort((x, y) => Number(y.involved) - Number(x.involved) || y.frames - x.frames);
  return rows.filter((r, i) => r.involved || i < limit);
}

export function analysisJson(a: Analyzer, findings: Finding[], caps: Capabilities, inputs: InputInfo[], stats: AnalysisStats & { capture?: object }): object {
  const ports = a.ports.ports;
  return {
    interfaces: ports.map((p) => ({ name: p.port.name, role: p.port.role, roleSource: p.port.roleSource, reason: p.port.reason, bond: p.port.bond, bridge: p.port.bridge, via: p.port.via ?? null, frames: p.frames, framesIn: p.framesIn, framesOut: p.framesOut })),
    macs: [...a.macs.entries()].map((e) => ({
      mac: formatMac(e.mac),
      vlan: e.vlan,
      vendor: vendorOf(e.mac),
      ports: Object.fromEntries([...e.ports].map(([i, c]) => [ports[i]!.port.name, { in: c[PC_IN], out: c[PC_OUT], unknown: c[PC_UNKNOWN] }])),
      learnedOn: e.learnedOn >= 0 ? ports[e.learnedOn]!.port.name : null,
      belongs: a.belonging(e.mac),
    })),
    findings: findings.map((f) => findingJson(f, inputs)),
    capabilities: caps,
    clockOffsetsMs: Object.fromEntries((a.options.inputOffsetsNs ?? []).map((ns, i) => [inputs[i]?.name ?? String(i), ns / 1e6]).filter(([, ms]) => ms !== 0)),
    kernel: {
      events: a.kernelNotes.map((n) => ({ kind: n.kind, time: n.time, port: n.port, mac: n.mac >= 0 ? formatMac(n.mac) : null, slave: n.slave, text: n.text })),
      fdb: Object.fromEntries([...a.kernelFdb].map(([m, p]) => [formatMac(m), p])),
    },
    inputs: inputs.map((i) => i.name),
    stats,
  };
}

/** A log line's time as ISO 8601 and a space; nothing when it has none or one past what a Date holds (a dmesg stamp of 10^17 s). */
function isoTime(sec: number | null): string {
  if (sec === null) return '';
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString()} `;
}

const COLOR = !process.env.NO_COLOR;
const paint = (code: string, s: string): string => (COLOR && process.stdout.isTTY ? `\x1b[${code}m${s}\x1b[0m` : s);

export function analysisText(a: Analyzer, findings: Finding[], caps: Capabilities, inputs: InputInfo[]): string {
  const out: string[] = [];
  const ports = a.ports.ports.filter((p) => p.frames > 0);
  out.push(paint('1', 'Topology as understood'));
  out.push(
    ...columns(
      ports.map((p) => {
        // Bond and bridge names may come from a recorded topology (a pcapng section comment): input too.
        const extra = (p.port.bond ? ` of ${safeText(p.port.bond)}` : p.port.bridge ? ` of ${safeText(p.port.bridge)}` : '') + (p.port.via ? ` via ${safeText(p.port.via)}` : '');
        return [safeText(p.port.name), p.port.role + extra, `${p.frames} frames `, safeText(p.port.reason)];
      }),
      [12, 18, -15],
    ),
  );
  out.push('', paint('1', 'What these captures can prove'));
  // These name ports (interface names from the files).
  for (const c of caps.canProve) out.push(`  + ${safeText(c)}`);
  for (const c of caps.cannotProve) out.push(`  - ${safeText(c)}`);
  // Frames the reorder stage could not put in time order (past its horizon or its memory bound):
  // analysed in the order they came, so what depends on their order may be off.
  const late = a.stats.lateFrames + a.stats.releasedEarly;
  if (late > 0) out.push(`  - time order for ${late} frame${late === 1 ? '' : 's'}: ${a.stats.lateFrames} came after later-stamped frames had been analysed (more than ${REORDER_HORIZON_NS / 1e9} s out of order), ${a.stats.releasedEarly} were analysed before their turn (the reorder buffer was full)`);
  (a.options.inputOffsetsNs ?? []).forEach((ns, i) => {
    if (ns === 0 || !inputs[i]) return;
    const ms = Math.abs(ns / 1e6).toFixed(3);
    out.push(`  ~ ${safeText(inputs[i]!.name)}'s clock ran ${ms} ms ${ns > 0 ? 'ahead of' : 'behind'} ${safeText(inputs[0]!.name)}'s: lined up from the frames they share`);
  });
  out.push('');
  if (findings.length === 0) {
    out.push(paint('1;32', 'No loop found: no looped broadcasts, own-address frames or wrong-port learning in these frames.'));
  } else {
    out.push(...findingsText(findings, inputs));
  }
  if (a.kernelNotes.length) {
    const by = new Map<string, number>();
    for (const n of a.kernelNotes) by.set(n.kind, (by.get(n.kind) ?? 0) + 1);
    out.push('', paint('1', 'Kernel log'), `  ${[...by].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    for (const n of a.kernelNotes.slice(0, 6)) out.push(`  ${isoTime(n.time)}${safeText(n.text)}`);
    if (a.kernelNotes.length > 6) out.push(`  … ${a.kernelNotes.length - 6} more (--json lists them all)`);
  }
  const rows = macRows(a, findings, 10);
  if (rows.length) {
    const table = rows.map(({ e }) => {
      const seen = [...e.ports]
        .map(([i, c]) => `${safeText(a.ports.ports[i]!.port.name)} ${c[PC_IN]}/${c[PC_OUT]}${c[PC_UNKNOWN] ? `/${c[PC_UNKNOWN]}?` : ''}`)
        .join(', ');
      const learned = e.learnedOn >= 0 ? a.ports.ports[e.learnedOn]!.port.name : '-';
      const b = a.belonging(e.mac);
      return [formatMac(e.mac), String(e.vlan), vendorCell(vendorOf(e.mac)), b.port ? `guest on ${safeText(b.port)}` : b.side === 'unknown' ? '?' : b.side, safeText(learned), seen];
    });
    out.push('', paint('1', 'MACs'), ...columns([['MAC', 'VLAN', 'vendor', 'belongs', 'learned on', 'seen on (in/out)'], ...table], [17, -4, 10, 7, 10]));
  }
  return out.join('\n') + '\n';
}

/**
 * Rows of cells as aligned text columns, two spaces in: each column as wide as its widest cell, at
 * least `min[i]` (negative: right-aligned); the last cell of a row is not padded. Names and vendors
 * of any length keep the columns after them in line.
 */
function columns(rows: string[][], min: number[]): string[] {
  const width = min.map((m, i) => Math.max(Math.abs(m), ...rows.map((r) => (i < r.length - 1 ? r[i]!.length : 0))));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : (min[i] ?? 0) < 0 ? cell.padStart(width[i]!) : cell.padEnd(width[i]!))).join('  ')}`.trimEnd());
}

/** The findings, each with its evidence and (once per kind) its explanation, then what to do. */
export function findingsText(findings: Finding[], inputs: InputInfo[]): string[] {
  const out: string[] = [];
  const errors = findings.filter((f) => f.severity === 'error').length;
  out.push(paint('1', `Findings: ${errors} error${errors === 1 ? '' : 's'}, ${findings.length - errors} other`));
  const seenExplanations = new Set<string>();
  for (const f of findings) {
    const tag = f.severity === 'error' ? paint('1;31', 'ERROR  ') : f.severity === 'warning' ? paint('1;33', 'WARNING') : paint('36', 'INFO   ');
    out.push(`  ${tag} ${f.kind}: ${safeText(f.summary)}`);
    const ev = inputs
      .map((i) => {
        const frames = f.evidence.filter((e) => e.input === i.index).map((e) => e.frame).sort((a, b) => a - b);
        return frames.length ? `${safeText(i.name)} frames ${frames.slice(0, 8).join(', ')}${frames.length > 8 ? ', …' : ''}` : '';
      })
      .filter(Boolean);
    const fromConfig = f.details.source === 'configuration' || f.details.basis === 'configuration';
    if (fromConfig) out.push(`          evidence: the host's ${String(f.details.setting ?? '').startsWith('fdb:') ? 'learning table' : 'configuration'} (${safeText(String(f.details.setting ?? ''))}; confidence ${f.confidence})`);
    else out.push(`          evidence: ${ev.join('; ') || 'counters only'} (confidence ${f.confidence})`);
    if (f.details.basis === 'configuration' && typeof f.details.source === 'string') out.push(`          source: ${safeText(f.details.source)}`);
    if (typeof f.details.kernelNote === 'string') out.push(`          ${safeText(f.details.kernelNote)}`);
    // The first occurrence as the engine placed its frames: the path a looped frame took.
    const first = f.evidence.filter((e) => e.role !== undefined && e.occurrence === f.evidence.find((x) => x.role !== undefined)?.occurrence);
    if (first.length > 1) {
      const name = (e: (typeof first)[number]): string => inputs.find((i) => i.index === e.input)?.name ?? '?';
      const one = new Set(first.map((e) => e.input)).size === 1;
      out.push(`          first: ${first.map((e) => `${safeText(e.port ?? '?')} ${e.role} (${one ? '' : `${safeText(name(e))} `}${e.frame})`).join(' → ')}`);
    }
    if (!seenExplanations.has(f.kind)) {
      seenExplanations.add(f.kind);
      out.push(`          ${f.explanation}`);
      // Where a user would wait for a kernel log line that never comes.
      if (f.kind === 'wrong-port-learning' || f.kind === 'own-address') out.push(`          ${safeText(kernelSilenceNote(f.kind, { bond: f.interfaces.find((p) => /bond/.test(p)) }))}`);
    }
  }
  const remedies = [...new Set(findings.flatMap((f) => f.remedies))];
  if (remedies.length) {
    out.push('', paint('1', 'What to do'));
    for (const r of remedies) out.push(`  * ${REMEDIES[r]}`);
  }
  return out;
}
