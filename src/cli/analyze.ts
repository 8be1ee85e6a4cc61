/** `bondscope analyze FILE...`: the topology as understood, what the captures prove, findings, remedies. */
import { readFileSync } from 'node:fs';
import { parseKernelLog, type KernelEvent } from '../capture/host/kernel.js';
import { DEFAULT_OPTIONS } from '../engine/analyzer.js';
import type { Topology } from '../model/topology.js';
import { analyzeFiles } from '../pipeline/files.js';
import { topologyFromOvs } from '../capture/host/discover.js';
import { safeText } from '../report/escape.js';
import { ovsFdbEntries, readOvsDir, type OvsRecord } from '../capture/host/ovs.js';
import { atOrAbove } from '../engine/severity.js';
import { ROLE_MEANING } from '../engine/findings.js';
import { analysisJson, analysisText, type InputInfo } from '../report/analysis.js';
import { safeJson } from '../report/escape.js';
import { failOnOption, parseCommandArgs, windowOption } from './args.js';
import { EXIT_CANNOT_TELL, EXIT_FINDINGS, EXIT_OK, UsageError } from './errors.js';
import { reportInputs } from './inputs.js';
import { ROLE_HELP, ROLE_OPTIONS, topologyFromFlags, unmatchedRoleFlags } from './roles.js';
import { helpText, type CommandHelp } from './help.js';

export const HELP: CommandHelp = {
  name: 'analyze',
  synopsis: ['analyze [options] FILE...'],
  description: [
    'Tells whether the bonded bridge these captures were taken on loops, what that does to its guests, and what to do, with the frames that prove it. FILE as for `frames` (pcap, pcapng, gzip or zstd compressed, NAME=FILE, -).',
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['--json', 'one JSON object: interfaces, macs, findings, capabilities, stats'],
        ['--fail-on LEVEL', 'exit 3 when a finding of LEVEL or worse exists (error, warning, info); without it, or with none, exit 4 when the verdict is CANNOT TELL'],
        ['--window MS', 'match sightings of one frame within MS milliseconds (default 2000)'],
        ['--kernel-log FILE', "the host's kernel log of the same time (dmesg, dmesg -T, syslog, journalctl -k): own-address warnings and bonding failovers beside the frames"],
        ['--ovs DIR', "the host's recorded Open vSwitch state (as for `check --ovs`): roles of its bridges, bonds and members, and its learning tables (fdb/show) beside the frames"],
        ...ROLE_HELP,
        ['-h, --help', 'this text'],
      ],
    },
  ],
  after: [
    'The report opens with the verdict: LOOPS, DOES NOT LOOP (in what these captures show) or CANNOT TELL (and what capture or flag would tell); the guests the loop makes unreachable, for how long within the capture; and the fix that fits this host. Each finding then shows the path of its first frame, in time order, as PORT WORD FRAME → …, the words being:',
    { items: Object.entries(ROLE_MEANING) },
  ],
};

export const OPTIONS = {
  json: { type: 'boolean', default: false },
  'fail-on': { type: 'string' },
  window: { type: 'string' },
  'kernel-log': { type: 'string' },
  ovs: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  ...ROLE_OPTIONS,
} as const;

/** `--ovs DIR`: the recorded Open vSwitch state and the topology it gives; a missing or unreadable DIR is a usage error. */
function readOvs(dir: string): { rec: OvsRecord; topology: Topology } {
  const warnings: string[] = [];
  const rec = readOvsDir(dir, warnings);
  if (!rec) throw new UsageError(`analyze: --ovs ${warnings[0] ?? dir}`);
  const topology = topologyFromOvs(rec, warnings);
  for (const w of warnings) process.stderr.write(`bondscope: analyze: --ovs: ${safeText(w)}\n`);
  return { rec, topology };
}

export async function runAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('analyze', {
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
  });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('analyze: no capture file given (try --help)');
  const threshold = failOnOption('analyze', values['fail-on']);
  const windowNs = windowOption('analyze', values.window);
  const flagged = topologyFromFlags(values);
  const kernelLog = values['kernel-log'] === undefined ? null : readKernelLog(values['kernel-log']);
  const ovs = values.ovs === undefined ? null : readOvs(values.ovs);

  const progress = process.stderr.isTTY ? new Progress() : null;
  const { run, findings, capabilities: caps, verdict } = analyzeFiles(
    positionals,
    { flags: flagged, ovs: ovs?.topology ?? null, engine: { ...DEFAULT_OPTIONS, windowNs } },
    {
      start: (analyzer) => {
        for (const e of kernelLog ?? []) analyzer.noteKernel(e);
      },
      each: progress ? (r) => (r.set.frames & 0xffff) === 0 && progress.update(r.set.frames) : undefined,
      // Open vSwitch's learning tables, as live mode polls the kernel bridges' FDB: where it had each MAC.
      end: (analyzer) => {
        if (ovs) for (const b of ovs.topology.bridges) analyzer.noteFdb(ovsFdbEntries(ovs.rec, b.name));
      },
    },
  );
  progress?.clear();
  const { set, analyzer, undecoded } = run;
  // Nothing could be read: no report, only why (an empty report would read as "no loop").
  if (set.nothingRead) return reportInputs(set, undecoded);
  // A role flag that matches nothing is ignored: said, with the names the inputs have.
  for (const w of unmatchedRoleFlags('analyze', values, analyzer.ports.ports.map((p) => p.port.name))) process.stderr.write(`bondscope: ${safeText(w)}\n`);
  const inputs: InputInfo[] = positionals.map((p, index) => ({ index, name: p.includes('=') && !set.sources.some((s) => s.input === p) ? p.slice(p.indexOf('=') + 1) : p }));
  if (values.json) process.stdout.write(safeJson(analysisJson(analyzer, findings, caps, inputs, analyzer.stats, verdict), 2) + '\n');
  else process.stdout.write(analysisText(analyzer, findings, caps, inputs, verdict));
  const inputCode = reportInputs(set, undecoded);
  if (inputCode !== EXIT_OK) return inputCode;
  if (threshold && findings.some((f) => atOrAbove(f.severity, threshold))) return EXIT_FINDINGS;
  if (verdict.state === 'cannot-tell') return EXIT_CANNOT_TELL;
  return EXIT_OK;
}

/** The kernel's log lines that matter, from a saved log; a missing file is a usage error. */
function readKernelLog(path: string): KernelEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--kernel-log ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseKernelLog(text);
}

/** A throttled progress line on stderr, only when stderr is a terminal. */
class Progress {
  private last = 0;
  update(frames: number): void {
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    process.stderr.write(`\rbondscope: ${frames} frames analysed…`);
  }
  clear(): void {
    if (this.last) process.stderr.write('\r\x1b[K');
  }
}
