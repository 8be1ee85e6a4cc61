/** analyze's output: the terminal report and the JSON object (a contract: see README). */
import { REORDER_HORIZON_NS } from '../engine/reorder.js';
import type { Capabilities } from '../engine/capabilities.js';
import type { AnalysisStats, Analyzer } from '../engine/analyzer.js';
import { type EvidenceRole, type Finding, type FrameRef, REMEDIES, ROLE_MEANING } from '../engine/findings.js';
import type { MacEntry } from '../engine/mac-table.js';
import { type Verdict, verdictJson, verdictOf } from '../engine/verdict.js';
import { REPORT_WIDTH, VERDICT_WIDTH, wrap } from './wrap.js';
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

/** Where the bridge has the row's MAC learned (its forwarding database's entry: per MAC on a bridge that is not VLAN-aware). */
function learnedOnName(a: Analyzer, e: MacEntry): string | null {
  const l = a.learningOf(e);
  return l.learnedOn >= 0 ? a.ports.ports[l.learnedOn]!.port.name : null;
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

export function analysisJson(a: Analyzer, findings: Finding[], caps: Capabilities, inputs: InputInfo[], stats: AnalysisStats & { capture?: object }, verdict: Verdict = verdictOf(a, findings)): object {
  const ports = a.ports.ports;
  return {
    verdict: verdictJson(verdict),
    interfaces: ports.map((p) => ({ name: p.port.name, role: p.port.role, roleSource: p.port.roleSource, reason: p.port.reason, bond: p.port.bond, bridge: p.port.bridge, via: p.port.via ?? null, frames: p.frames, framesIn: p.framesIn, framesOut: p.framesOut })),
    macs: [...a.macs.entries()].map((e) => ({
      mac: formatMac(e.mac),
      vlan: e.vlan,
      vendor: vendorOf(e.mac),
      ports: Object.fromEntries([...e.ports].map(([i, c]) => [ports[i]!.port.name, { in: c[PC_IN], out: c[PC_OUT], unknown: c[PC_UNKNOWN] }])),
      learnedOn: learnedOnName(a, e),
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

/** "2026-11-24 23:37:19.570" (UTC). */
function utcMs(sec: number): string {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? `${sec.toFixed(3)} s since 1970` : d.toISOString().slice(0, 23).replace('T', ' ');
}

/**
 * A short name per input, for every mention after the first: the file's own name (`loop.pcapng`,
 * `eth0.pcap`), with as much of its directory as tells two inputs apart; `-` stays `-`.
 */
export function shortNames(names: readonly string[]): string[] {
  const parts = names.map((n) => n.split('/').filter(Boolean));
  const short = parts.map((p) => p[p.length - 1] ?? '');
  for (let depth = 2; depth <= 8; depth++) {
    const seen = new Map<string, number>();
    for (const s of short) seen.set(s, (seen.get(s) ?? 0) + 1);
    let clash = false;
    short.forEach((s, i) => {
      if ((seen.get(s) ?? 0) > 1 && parts[i]!.length >= depth) {
        short[i] = parts[i]!.slice(-depth).join('/');
        clash = true;
      }
    });
    if (!clash) break;
  }
  return short.map((s, i) => s || names[i]!);
}

/** The verdict first: the answer, the guests it hurts, what to do here (what a 120×40 terminal shows before anything else). */
export function verdictText(v: Verdict, width = VERDICT_WIDTH): string[] {
  const out: string[] = [];
  const colour = v.state === 'loops' ? '1;31' : v.state === 'does-not-loop' ? '1;32' : '1;33';
  const [head, ...more] = wrap(safeText(v.line), width, '');
  out.push(paint(colour, head!), ...more.map((l) => `  ${l.trimStart()}`));
  if (v.hurt.length) {
    out.push(paint('1', `Guests unreachable from outside (${v.hurt.length}):`));
    const shown = v.hurt.slice(0, HURT_SHOWN);
    for (const h of shown) out.push(...wrap(safeText(h.line), width, '  ', '      '));
    if (v.hurt.length > shown.length) out.push(`  … ${v.hurt.length - shown.length} more (every one under Findings, wrong-port-learning)`);
  }
  if (v.remedy) {
    out.push(paint('1', v.state === 'loops' ? 'What to do on this host:' : 'Still to fix:'));
    out.push(...wrap(safeText(v.remedy.text), width, '  '));
    out.push(...wrap(`(because ${safeText(v.remedy.why)})`, width, '  ', '   '));
    if (v.otherRemedies.length) out.push(`  Other fixes, in general: ${v.otherRemedies.length} under "What to do" below.`);
  }
  if (v.wouldTell.length) {
    out.push(paint('1', v.state === 'cannot-tell' ? 'What would tell:' : 'What these captures do not show:'));
    for (const w of v.wouldTell) out.push(...wrap(safeText(w), width, '  - ', '    '));
  }
  for (const n of v.notes) out.push(...wrap(safeText(n), width, '  ~ ', '    '));
  return out;
}

/** Guests shown in the verdict's block; the rest are counted (the first screen must hold the remedy too). */
const HURT_SHOWN = 6;

export function analysisText(a: Analyzer, findings: Finding[], caps: Capabilities, inputs: InputInfo[], verdict: Verdict = verdictOf(a, findings)): string {
  const out: string[] = [];
  const short = shortNames(inputs.map((i) => i.name));
  const shortOf = (index: number): string => short[inputs.findIndex((i) => i.index === index)] ?? '?';
  const ports = a.ports.ports;
  const frames = ports.reduce((n, p) => n + p.frames, 0);
  const first = verdictFirst(a);
  const last = a.wallTime(a.latestT);
  out.push(
    `bondscope: ${frames} frame${frames === 1 ? '' : 's'} on ${ports.length} interface${ports.length === 1 ? '' : 's'} from ${inputs.length} input${inputs.length === 1 ? '' : 's'}` +
      (frames ? `, ${utcMs(first)} to ${utcMs(last).slice(11)} UTC (${(last - first).toFixed(1)} s)` : ''),
    '',
  );
  out.push(...verdictText(verdict));

  out.push('', paint('1', 'Inputs'));
  out.push(
    ...columns(
      inputs.map((i, k) => {
        const its = ports.filter((p) => p.input === i.index);
        const n = its.reduce((m, p) => m + p.frames, 0);
        return [safeText(short[k]!), `${n} frames `, `${its.length} interface${its.length === 1 ? '' : 's'} `, short[k] === i.name ? '' : safeText(i.name)];
      }),
      [12, -12, 14],
    ),
  );

  out.push('', paint('1', 'Topology as understood'));
  out.push(
    ...columns(
      ports.map((p) => {
        // Bond and bridge names may come from a recorded topology (a pcapng section comment): input too.
        const extra = (p.port.bond ? ` of ${safeText(p.port.bond)}` : p.port.bridge ? ` of ${safeText(p.port.bridge)}` : '') + (p.port.via ? ` via ${safeText(p.port.via)}` : '');
        const reason = p.frames === 0 ? `captured, carried nothing; ${p.port.reason}` : p.port.reason;
        return [safeText(p.port.name), p.port.role + extra, `${p.frames} frames `, safeText(reason)];
      }),
      [12, 18, -15],
    ),
  );
  out.push('', paint('1', 'What these captures can prove'));
  // These name ports (interface names from the files).
  for (const c of caps.canProve) out.push(...wrap(safeText(c), REPORT_WIDTH, '  + ', '    '));
  for (const c of caps.cannotProve) out.push(...wrap(safeText(c), REPORT_WIDTH, '  - ', '    '));
  // Frames the reorder stage could not put in time order: analysed in the order they came, so
  // what depends on their order may be off. How far out of order they were is measured, not assumed.
  const st = a.stats;
  if (st.lateFrames > 0) {
    const ms = st.lateByUpToMs;
    const why = ms * 1e6 > REORDER_HORIZON_NS ? `more than the reorder stage's ${REORDER_HORIZON_NS / 1e9} s: an input whose clock or writing lags the others` : 'within one capture, whose CPUs hand frames over a little out of order, or between inputs';
    out.push(...wrap(`time order: ${st.lateFrames} frame${st.lateFrames === 1 ? '' : 's'} came stamped up to ${ms} ms before a frame already analysed (${why}); each was analysed as it came, and the copies of one frame are still ordered by their stamps`, REPORT_WIDTH, '  - ', '    '));
  }
  if (st.releasedEarly > 0) out.push(...wrap(`time order: ${st.releasedEarly} frame${st.releasedEarly === 1 ? ' was' : 's were'} analysed before their turn: the reorder buffer was full`, REPORT_WIDTH, '  - ', '    '));
  (a.options.inputOffsetsNs ?? []).forEach((ns, i) => {
    if (ns === 0 || !inputs[i]) return;
    const ms = Math.abs(ns / 1e6).toFixed(3);
    out.push(`  ~ ${safeText(short[i]!)}'s clock ran ${ms} ms ${ns > 0 ? 'ahead of' : 'behind'} ${safeText(short[0]!)}'s: lined up from the frames they share`);
  });
  out.push('');
  const used = new Set<EvidenceRole>();
  if (findings.length === 0) {
    out.push(paint('1;32', 'No finding: no looped broadcasts, own-address frames or wrong-port learning in these frames.'));
  } else {
    out.push(...findingsText(findings, inputs, { short: shortOf, names: (f) => a.namesOf(f), used, verdict }));
  }
  if (a.kernelNotes.length) {
    const by = new Map<string, number>();
    for (const n of a.kernelNotes) by.set(n.kind, (by.get(n.kind) ?? 0) + 1);
    out.push('', paint('1', 'Kernel log'), `  ${[...by].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    for (const n of a.kernelNotes.slice(0, 6)) out.push(...wrap(`${isoTime(n.time)}${safeText(n.text)}`, REPORT_WIDTH, '  ', '    '));
    if (a.kernelNotes.length > 6) out.push(`  … ${a.kernelNotes.length - 6} more (--json lists them all)`);
  }
  if (used.size) {
    out.push('', paint('1', 'Words of the paths above'));
    const w = Math.max(...[...used].map((r) => r.length));
    for (const r of PATH_WORDS) if (used.has(r)) out.push(...wrap(ROLE_MEANING[r], REPORT_WIDTH, `  ${r.padEnd(w)}  `));
  }
  const rows = macRows(a, findings, 10);
  if (rows.length) {
    const table = rows.map(({ e }) => {
      const seen = [...e.ports]
        .map(([i, c]) => `${safeText(a.ports.ports[i]!.port.name)} ${c[PC_IN]}/${c[PC_OUT]}${c[PC_UNKNOWN] ? `/${c[PC_UNKNOWN]}?` : ''}`)
        .join(', ');
      const b = a.belonging(e.mac);
      return [formatMac(e.mac), String(e.vlan), vendorCell(vendorOf(e.mac)), b.port ? `guest on ${safeText(b.port)}` : b.side === 'unknown' ? '?' : b.side, safeText(learnedOnName(a, e) ?? '-'), seen];
    });
    out.push('', paint('1', 'MACs'), ...columns([['MAC', 'VLAN', 'vendor', 'belongs', 'learned on', 'seen on (frames in/out, then /N? of unknown direction)'], ...table], [17, -4, 10, 7, 10]));
  }
  return out.join('\n') + '\n';
}

/** The capture's first frame, seconds since the epoch. */
function verdictFirst(a: Analyzer): number {
  return a.stats.frames ? a.wallTime(a.firstT()) : 0;
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

/** The words of a path, in the order of the legend. */
const PATH_WORDS: EvidenceRole[] = ['original', 'out', 'flooded', 'echo', 'up-the-bond', 'echo-flooded', 'inbound', 'promiscuous', 'blackholed', 'set-state', 'moved', 'last-before-move'];

/** How findingsText names inputs and the host's ports; what it was given by analysisText. */
export interface FindingsTextContext {
  /** An input's short name. */
  short(index: number): string;
  /** The bridge, bond and guest's port a finding is about, in this host's names. */
  names?(f: Finding): { bridge?: string | null; bond?: string | null; port?: string | null };
  /** Collects the path words printed, for the legend. */
  used?: Set<EvidenceRole>;
  verdict?: Verdict;
}

/**
 * One occurrence's frames as `port word frame → …`, in the order the engine placed them (time
 * order): each frame number with its input's short name only where a port's frames come from
 * more than one input.
 */
function pathLine(refs: FrameRef[], ctx: FindingsTextContext, oneInput: boolean): string {
  return refs
    .map((e) => {
      ctx.used?.add(e.role!);
      return `${safeText(e.port ?? '?')} ${e.role} ${oneInput ? '' : `${safeText(ctx.short(e.input))}:`}${e.frame}`;
    })
    .join(' → ');
}

/** The findings, each with its evidence and (once per kind) its explanation, then what to do. */
export function findingsText(findings: Finding[], inputs: InputInfo[], ctx: FindingsTextContext = { short: (i) => shortNames(inputs.map((x) => x.name))[inputs.findIndex((x) => x.index === i)] ?? '?' }): string[] {
  const out: string[] = [];
  const W = REPORT_WIDTH;
  const pad = '          ';
  const errors = findings.filter((f) => f.severity === 'error').length;
  out.push(paint('1', `Findings: ${errors} error${errors === 1 ? '' : 's'}, ${findings.length - errors} other`));
  // Frame numbers need their input's name only where a port's frames come from several inputs.
  const inputsOf = new Map<string, Set<number>>();
  for (const f of findings) for (const e of f.evidence) if (e.port) (inputsOf.get(e.port) ?? inputsOf.set(e.port, new Set()).get(e.port)!).add(e.input);
  const portsTellInputs = [...inputsOf.values()].every((s) => s.size === 1);
  const seenExplanations = new Set<string>();
  for (const f of findings) {
    const tag = f.severity === 'error' ? paint('1;31', 'ERROR  ') : f.severity === 'warning' ? paint('1;33', 'WARNING') : paint('36', 'INFO   ');
    const [head, ...rest] = wrap(`${f.kind}: ${safeText(f.summary)}`, W, '          ');
    out.push(`  ${tag} ${head!.trimStart()}`, ...rest);
    const ev = inputs
      .map((i) => {
        const frames = f.evidence.filter((e) => e.input === i.index).map((e) => e.frame).sort((a, b) => a - b);
        return frames.length ? `${safeText(ctx.short(i.index))} frames ${frames.slice(0, 8).join(', ')}${frames.length > 8 ? ', …' : ''}` : '';
      })
      .filter(Boolean);
    const fromConfig = f.details.source === 'configuration' || f.details.basis === 'configuration';
    if (fromConfig) out.push(...wrap(`evidence: the host's ${String(f.details.setting ?? '').startsWith('fdb:') ? 'learning table' : 'configuration'} (${safeText(String(f.details.setting ?? ''))}; confidence ${f.confidence})`, W, pad));
    else out.push(...wrap(`evidence: ${ev.join('; ') || 'counters only'} (confidence ${f.confidence})`, W, pad));
    if (f.details.basis === 'configuration' && typeof f.details.source === 'string') out.push(...wrap(`source: ${safeText(f.details.source)}`, W, pad));
    if (typeof f.details.kernelNote === 'string') out.push(...wrap(safeText(f.details.kernelNote), W, pad));
    // The first occurrence as the engine placed its frames: one frame's path, in time order; the
    // frame that set the state it depends on (another frame, earlier) on a line of its own.
    const tagged = f.evidence.filter((e) => e.role !== undefined);
    const occ = tagged[0]?.occurrence;
    const own = tagged.filter((e) => e.occurrence === occ && !e.ofState);
    const state = tagged.filter((e) => e.occurrence === occ && e.ofState);
    const oneInput = inputs.length <= 1 || portsTellInputs;
    const where = inputs.length <= 1 ? ` (frame numbers in ${safeText(ctx.short(inputs[0]?.index ?? 0))})` : portsTellInputs ? ' (frame numbers in each interface’s own input)' : '';
    const places = own.filter((e) => e.role !== 'moved' && e.role !== 'last-before-move');
    if (places.length > 1) out.push(...wrap(`path of its first frame, in time order${where}: ${pathLine(places, ctx, oneInput)}`, W, pad, pad + '  '));
    if (state.length) out.push(...wrap(`the echo that set the bridge's entry before it, in time order: ${pathLine(state, ctx, oneInput)}`, W, pad, pad + '  '));
    // A move's frames are frames of their own, not a path: each on a line (a flap's first and last move).
    for (const e of tagged.filter((x) => (x.role === 'moved' || x.role === 'last-before-move') && (x.occurrence === occ || f.kind === 'mac-flap'))) {
      ctx.used?.add(e.role!);
      out.push(...wrap(`${e.role}: frame ${oneInput ? '' : `${safeText(ctx.short(e.input))}:`}${e.frame} on ${safeText(e.port ?? '?')}`, W, pad));
    }
    if (!seenExplanations.has(f.kind)) {
      seenExplanations.add(f.kind);
      out.push(...wrap(safeText(f.explanation), W, pad));
      // Where a user would wait for a kernel log line that never comes.
      if (f.kind === 'wrong-port-learning' || f.kind === 'own-address') {
        const n = ctx.names?.(f) ?? {};
        out.push(...wrap(safeText(kernelSilenceNote(f.kind, { bond: n.bond, bridge: n.bridge })), W, pad));
      }
    }
  }
  // What to do: the remedy that fits this host first (the verdict's), then every other one the findings name.
  const chosen = ctx.verdict?.remedy ?? null;
  const remedies = [...new Set(findings.flatMap((f) => f.remedies))].filter((r) => r !== chosen?.id);
  if (remedies.length || chosen) {
    out.push('', paint('1', 'What to do'));
    if (chosen) out.push(...wrap(`on this host: ${safeText(chosen.text)}`, W, '  * ', '    '));
    for (const r of remedies) out.push(...wrap(REMEDIES[r], W, '  * ', '    '));
  }
  return out;
}
