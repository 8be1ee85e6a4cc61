/**
 * report.md of an evidence bundle: for the person at the vendor who opens it first. What was
 * captured where and when, the host, each finding with its frames in evidence.pcapng, a timeline,
 * what to do, and the commands that give the same results again. Every name from the input goes
 * through Naming (sanitizing) and safeText (no control characters), and is set as code or escaped,
 * so a capture cannot inject Markdown or HTML.
 */
import { kernelSilenceNote } from '../report/kernel-silence.js';
import type { CaptureInterface } from '../model/record.js';
import type { Capabilities } from '../engine/capabilities.js';
import type { Verdict } from '../engine/verdict.js';
import type { Analyzer } from '../engine/analyzer.js';
import { type Finding, REMEDIES } from '../engine/findings.js';
import type { Topology } from '../model/topology.js';
import { linkTypeName } from '../model/link-types.js';
import { safeText } from '../report/escape.js';
import type { Naming } from './naming.js';
import { isPathCopy, type Note } from './select.js';
import { type HostView, mermaid, pathFinding, topologyLines } from './topology-view.js';

export interface ReportFrame {
  no: number;
  sec: number;
  nsec: number;
  port: string;
  notes: Note[];
  comments: string[];
}

export interface ReportInput {
  name: string;
  format: string;
  frames: number;
  first: string;
  last: string;
}

export interface ReportContext {
  version: string;
  now: Date;
  naming: Naming;
  analyzer: Analyzer;
  findings: Finding[];
  caps: Capabilities;
  /** The engine's verdict (verdict.ts): printed first, never decided here. */
  verdict: Verdict;
  view: HostView;
  inputs: ReportInput[];
  interfaces: CaptureInterface[];
  frames: ReportFrame[];
  context: number;
  sanitized: boolean;
  originalSpecs: string[];
  roleArgs: string[];
  topology: Topology;
  linksFile: string | null;
  firstSec: number;
  firstNsec: number;
  /** Sanitized: frames of link types bondscope cannot decode (so cannot sanitize), left out. */
  leftOut: number;
}

/** Inline code: never ends early on a backtick from the input. */
function code(s: string): string {
  return '`' + safeText(s).replace(/`/g, "'") + '`';
}

/** Plain text in Markdown: no HTML, no table breaks, no emphasis from the input. */
function md(s: string): string {
  return safeText(s).replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * "2026-11-24 23:37:19.414804719"; a time no Date can hold (a capture stamped past the year
 * 275760, as a damaged timestamp can be) is given as seconds since the epoch instead.
 */
export function utcSeconds(sec: number, nsec: number): string {
  const d = new Date(sec * 1000);
  const frac = String(nsec).padStart(9, '0');
  return Number.isFinite(d.getTime()) ? `${d.toISOString().slice(0, 19).replace('T', ' ')}.${frac}` : `${sec}.${frac} s since 1970`;
}

const utc = utcSeconds;

function numbers(list: number[], limit = 40): string {
  if (list.length === 0) return '–';
  const shown = list.slice(0, limit).join(', ');
  return list.length > limit ? `${shown}, … (${list.length} in all)` : shown;
}

const SEVERITY_WORD = { error: 'ERROR', warning: 'WARNING', info: 'INFO' } as const;

/** The role flags that give this topology again, with the bundle's names. */
export function roleFlags(t: Topology, n: Naming, linksFile: string | null): string[] {
  const out: string[] = [];
  for (const b of t.bonds) out.push('--bond', `${n.port(b.name)}=${b.slaves.map((s) => n.port(s.name)).join(',')}`);
  for (const br of t.bridges) out.push('--bridge', `${n.port(br.name)}=${br.ports.map((p) => n.port(p.name)).join(',')}`);
  for (const m of t.localMacs) out.push('--local-mac', n.mac(m));
  if (linksFile) out.push('--links', linksFile);
  return out;
}

export function buildReport(c: ReportContext): string {
  const n = c.naming;
  const out: string[] = [];
  const errors = c.findings.filter((f) => f.severity === 'error');
  const v = c.verdict;
  const verdict = v.state === 'loops' ? 'the bonded bridge loops' : v.state === 'does-not-loop' ? 'no loop in these captures' : 'these captures cannot tell whether it loops';
  out.push(`# bondscope evidence: ${verdict}`, '');
  out.push(
    `Exported by bondscope ${c.version} on ${c.now.toISOString()}. This directory holds \`evidence.pcapng\` (the frames below, ` +
      `open it in Wireshark), \`findings.json\` (the full analysis as \`bondscope analyze --json\` prints it) and this report.`,
  );
  if (c.sanitized) {
    out.push(
      '',
      '**Sanitized.** MAC addresses are mapped one-to-one to locally administered ones and IP addresses prefix-preservingly ' +
        '(the same host has the same address throughout, networks stay networks), with a key that was not kept; vendors are ' +
        'named in words where they matter (e.g. "(Xen)"). Payload past the L3/L4 headers is cut (the original length is kept). ' +
        'Interfaces are named by their role (slave0, bond0, bridge0, guest0); names, file names and comments from the capture are gone.' +
        (c.leftOut ? ` ${c.leftOut} context frame${c.leftOut === 1 ? '' : 's'} of link types bondscope cannot decode (and so cannot sanitize) ${c.leftOut === 1 ? 'was' : 'were'} left out.` : ''),
    );
  }
  out.push('');

  // The answer first, as the engine worded it (names through the bundle's naming).
  out.push('## Verdict', '');
  out.push(`**${md(n.prose(v.line))}**`, '');
  if (v.hurt.length) {
    out.push('Guests unreachable from outside:', '');
    for (const h of v.hurt) out.push(`- ${md(n.prose(h.line))}`);
    out.push('');
  }
  if (v.remedy) out.push(`${v.state === 'loops' ? 'What to do on this host' : 'Still to fix'}: ${md(n.prose(v.remedy.text))} (because ${md(n.prose(v.remedy.why))})`, '');
  if (v.wouldTell.length) {
    out.push(v.state === 'cannot-tell' ? 'What would tell:' : 'What these captures do not show:', '');
    for (const w of v.wouldTell) out.push(`- ${md(n.prose(w))}`);
    out.push('');
  }
  for (const x of v.notes) out.push(`- ${md(n.prose(x))}`);
  if (v.notes.length) out.push('');

  out.push('## Summary', '');
  if (c.findings.length === 0) out.push('No looped broadcasts, own-address frames, wrong-port learning or MAC moves in these frames.');
  else {
    out.push(`${errors.length} error${errors.length === 1 ? '' : 's'}, ${c.findings.length - errors.length} other finding${c.findings.length - errors.length === 1 ? '' : 's'}:`, '');
    for (const f of c.findings) out.push(`- **${SEVERITY_WORD[f.severity]}** ${code(f.kind)}: ${md(n.prose(f.summary))}`);
  }
  out.push('');

  out.push('## What was captured, where and when', '');
  out.push('| input | format | frames | first frame (UTC) | last frame (UTC) |', '|---|---|---:|---|---|');
  for (const i of c.inputs) out.push(`| ${code(i.name)} | ${i.format} | ${i.frames} | ${i.first} | ${i.last} |`);
  out.push('');
  out.push('| interface | role | link type | time resolution | frames | drops reported |', '|---|---|---|---|---:|---:|');
  for (const i of c.interfaces) {
    const port = c.analyzer.ports.get(i.name)?.port;
    const role = port ? port.role : i.linkType === 276 ? 'several (Linux cooked, by ifindex)' : 'not decoded';
    out.push(`| ${code(n.port(i.name))} | ${role} | ${i.linkType === 1 ? 'Ethernet' : linkTypeName(i.linkType)} | ${i.tsDigits === 9 ? 'ns' : i.tsDigits === 6 ? 'µs' : `10^-${i.tsDigits} s`} | ${i.frames} | ${i.drops >= 0 ? i.drops : 'not reported'} |`);
  }
  out.push('');

  out.push('## The host', '');
  const lines = topologyLines(c.view, n);
  if (lines.length) for (const l of lines) out.push(`- ${md(l)}`);
  else out.push('- No port of a known role was captured.');
  out.push('', 'Roles, and why bondscope took them:', '');
  out.push('| interface | role | frames | why |', '|---|---|---:|---|');
  for (const p of c.analyzer.ports.ports) {
    if (p.frames === 0 && p.port.roleSource !== 'flag') continue;
    out.push(`| ${code(n.port(p.port.name))} | ${p.port.role} | ${p.frames} | ${md(n.text(p.port.reason))} |`);
  }
  out.push('');
  const pf = pathFinding(c.findings);
  out.push(
    pf
      ? `The picture shows the path of the looped frame (numbered, thick arrows: ${md(n.prose(pf.summary))})${pf.kind === 'wrong-port-learning' ? ' and, in red, the port where the bridge learned the guest instead of its own' : ''}.`
      : 'The picture shows the host as captured.',
    '',
  );
  out.push('```mermaid', mermaid(c.view, c.findings, n, c.analyzer), '```', '');

  out.push('## Findings', '');
  if (c.findings.length === 0) out.push('None.', '');
  const explained = new Set<string>();
  c.findings.forEach((f, fi) => {
    const of = (kind: Note['kind'] | 'path'): number[] =>
      c.frames.filter((fr) => fr.notes.some((x) => x.finding === fi && (kind === 'path' ? x.kind === 'evidence' && isPathCopy(x) : x.kind === kind && !(kind === 'evidence' && isPathCopy(x))))).map((fr) => fr.no);
    out.push(`### ${fi + 1}. ${SEVERITY_WORD[f.severity]} ${f.kind}${f.mac >= 0 ? ` ${n.mac(f.mac)}` : ''}${f.vlan ? ` (VLAN ${f.vlan})` : ''}`, '');
    out.push(md(n.prose(f.summary)), '');
    out.push(`- Severity: ${f.severity}; confidence: ${f.confidence}`);
    out.push(`- Occurrences: ${f.count}, first ${utc(f.firstSec, f.firstNsec)} UTC, last ${utc(f.lastSec, f.lastNsec)} UTC`);
    if (f.mac >= 0) out.push(`- MAC: ${code(n.macWithVendor(f.mac))}`);
    if (f.interfaces.length) out.push(`- Interfaces: ${f.interfaces.map((p) => code(n.port(p))).join(' → ')}`);
    out.push(`- **Evidence frames in evidence.pcapng: ${numbers(of('evidence'))}**`);
    const path = of('path');
    if (path.length) out.push(`- The same frames seen on other interfaces: ${numbers(path)}`);
    const before = of('before');
    if (before.length) out.push(`- Frames that set the state it depends on: ${numbers(before)}`);
    const refs = c.inputs
      .map((inp, i) => ({ inp, frames: f.evidence.filter((e) => e.input === i).map((e) => e.frame).sort((a, b) => a - b) }))
      .filter((x) => x.frames.length)
      .map((x) => `${code(x.inp.name)} frames ${numbers(x.frames, 20)}`);
    if (refs.length) out.push(`- In the original capture: ${refs.join('; ')}`);
    const details = Object.entries(f.details);
    if (details.length) out.push(`- Details: ${details.map(([k, v]) => `${k} ${md(n.text(String(v)))}`).join(', ')}`);
    if (!explained.has(f.kind)) {
      explained.add(f.kind);
      out.push('', `What this means: ${md(n.text(f.explanation))}`);
      // A vendor reading the kernel log beside the bundle would look for a line that never comes.
      if (f.kind === 'wrong-port-learning' || f.kind === 'own-address') {
        const names = c.analyzer.namesOf(f);
        // Names given already mapped: inside a path (/sys/class/net/BRIDGE/…) text() leaves them be.
        out.push('', md(n.text(kernelSilenceNote(f.kind, { bond: names.bond ? n.port(names.bond) : null, bridge: names.bridge ? n.port(names.bridge) : null }))));
      }
    }
    out.push('');
  });

  out.push('## Timeline', '');
  const events = c.frames.filter((fr) => fr.notes.some((x) => !isPathCopy(x)));
  if (events.length === 0) out.push('Nothing to show: no finding has frames.', '');
  else {
    out.push('Evidence frames in time order (frame numbers as in evidence.pcapng; +seconds from the first captured frame).', '');
    out.push('| time (UTC) | + s | frame | interface | what it shows |', '|---|---:|---:|---|---|');
    const LIMIT = 200;
    for (const fr of events.slice(0, LIMIT)) {
      const rel = (fr.sec - c.firstSec) + (fr.nsec - c.firstNsec) / 1e9;
      const what = fr.comments.map((t) => md(t.replace(/^bondscope: /, ''))).join('<br>');
      out.push(`| ${utc(fr.sec, fr.nsec)} | ${rel.toFixed(6)} | ${fr.no} | ${code(fr.port)} | ${what} |`);
    }
    if (events.length > LIMIT) out.push('', `… and ${events.length - LIMIT} more evidence frames in evidence.pcapng.`);
    out.push('');
  }

  out.push('## What to do', '');
  const remedies = [...new Set(c.findings.flatMap((f) => f.remedies))].filter((r) => r !== v.remedy?.id);
  if (v.remedy) out.push(`- On this host: ${md(n.prose(v.remedy.text))}`);
  if (remedies.length === 0 && !v.remedy) out.push('Nothing: no fault found.');
  for (const r of remedies) out.push(`- ${md(REMEDIES[r])}`);
  out.push('');

  out.push('## What these captures can and cannot prove', '');
  for (const x of c.caps.canProve) out.push(`- Can: ${md(n.text(x))}`);
  for (const x of c.caps.cannotProve) out.push(`- Cannot: ${md(n.text(x))}`);
  out.push('');

  out.push('## How to reproduce', '');
  const bundleFlags = roleFlags(c.topology, n, c.linksFile);
  const inputs = c.sanitized ? c.inputs.map((i) => i.name) : c.originalSpecs;
  const origFlags = c.sanitized ? bundleFlags : c.roleArgs;
  out.push(c.sanitized ? 'On the original captures (named here as in this bundle):' : 'On the original captures:', '');
  out.push('```sh');
  out.push(['bondscope', 'analyze', ...origFlags, ...inputs].map(shellQuote).join(' '));
  out.push(['bondscope', 'export', ...origFlags, ...(c.sanitized ? ['--sanitize'] : []), '--context', String(c.context), '-o', 'DIR', ...inputs].map(shellQuote).join(' '));
  out.push('```', '');
  out.push('On this bundle (the same kinds of finding, counted over the evidence frames only):', '');
  out.push('```sh');
  out.push(['bondscope', 'analyze', ...bundleFlags, 'evidence.pcapng'].map(shellQuote).join(' '));
  out.push(`tshark -r evidence.pcapng -Y 'frame.comment contains "bondscope:"' -T fields -e frame.number -e frame.interface_name -e frame.comment`);
  out.push('capinfos evidence.pcapng');
  out.push('```', '');
  out.push(
    `In Wireshark: frames with a comment (\`frame.comment\`) are evidence; the others are ${c.context} frame${c.context === 1 ? '' : 's'} of context around each. ` +
      'Statistics → Capture File Properties shows the section comment with the topology.',
    '',
  );
  return out.join('\n');
}
