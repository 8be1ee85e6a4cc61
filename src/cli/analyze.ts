/** `bondscope analyze FILE...`: the topology as understood, what the captures prove, findings, remedies. */
import { readFileSync } from 'node:fs';
import { parseKernelLog, type KernelEvent } from '../capture/host/kernel.js';
import { ClockOffsetEstimator, NEGLIGIBLE_OFFSET_NS, type ClockOffset } from '../engine/clock.js';
import { openCapture, parseInputSpec } from '../capture/index.js';
import { DecodedFrame, decodeFrame } from '../decode/index.js';
import { Analyzer, DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { capabilities } from '../engine/capabilities.js';
import { mergeTopology, topologyFromComment } from '../model/topology.js';
import { atOrAbove } from '../engine/severity.js';
import { analysisJson, analysisText, type InputInfo } from '../report/analysis.js';
import { safeJson } from '../report/escape.js';
import { failOnOption, parseCommandArgs, windowOption } from './args.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './errors.js';
import { reportInputs } from './inputs.js';
import { ROLE_OPTIONS, ROLE_USAGE, topologyFromFlags } from './roles.js';

const USAGE = `usage: bondscope analyze [options] FILE...

Tells whether the bonded bridge these captures were taken on loops, what that does to its guests,
and what to do, with the frames that prove it. FILE as for \`frames\` (pcap, pcapng, NAME=FILE, -).

options:
  --json               one JSON object: interfaces, macs, findings, capabilities, stats
  --fail-on LEVEL      exit 3 when a finding of LEVEL or worse exists (error, warning, info)
  --window MS          match sightings of one frame within MS milliseconds (default 2000)
  --kernel-log FILE    the host's kernel log of the same time (dmesg, dmesg -T, syslog, journalctl -k):
                       own-address warnings and bonding failovers beside the frames
${ROLE_USAGE}
  -h, --help           this text
`;

export async function runAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('analyze', {
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'fail-on': { type: 'string' },
        window: { type: 'string' },
        'kernel-log': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        ...ROLE_OPTIONS,
      },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('analyze: no capture file given (try --help)');
  const threshold = failOnOption('analyze', values['fail-on']);
  const windowNs = windowOption('analyze', values.window);
  const flagged = topologyFromFlags(values);
  const kernelLog = values['kernel-log'] === undefined ? null : readKernelLog(values['kernel-log']);

  // Separate files may carry clocks apart: lined up from the frames they share (a first pass over
  // their start), so an echo never reads as coming before its original.
  const clocks = positionals.length > 1 && !positionals.some((p) => parseInputSpec(p).path === '-') ? estimateClocks(positionals) : [];
  const inputOffsetsNs = clocks.some((c) => Math.abs(c.offsetNs) >= NEGLIGIBLE_OFFSET_NS) ? offsetsByInput(clocks, positionals.length) : undefined;
  const set = openCapture(positionals);
  // The first record is read before the engine starts: section headers (and their comments) come
  // with it. A file written by `bondscope live --write` carries the host's topology; flags still win.
  let more = set.next();
  const recorded = set.sectionComments.map(topologyFromComment).find((t) => t !== null) ?? null;
  const topology = recorded ? mergeTopology(recorded, flagged) : flagged;
  const analyzer = new Analyzer(topology, { ...DEFAULT_OPTIONS, windowNs, inputOffsetsNs });
  analyzer.knowInterfaces(set.registry.list);
  for (const e of kernelLog ?? []) analyzer.noteKernel(e);
  const frame = new DecodedFrame();
  const undecoded = new Map<number, number>();
  const progress = process.stderr.isTTY ? new Progress() : null;
  for (; more; more = set.next()) {
    const rec = set.rec;
    decodeFrame(rec, frame);
    if (!frame.supported) undecoded.set(rec.iface!.linkType, (undecoded.get(rec.iface!.linkType) ?? 0) + 1);
    analyzer.observe(rec, frame);
    if (progress && (set.frames & 0xffff) === 0) progress.update(set.frames);
  }
  progress?.clear();
  const findings = analyzer.finish();
  const caps = capabilities(analyzer.ports.ports);
  const inputs: InputInfo[] = positionals.map((p, index) => ({ index, name: p.includes('=') && !set.sources.some((s) => s.input === p) ? p.slice(p.indexOf('=') + 1) : p }));
  if (values.json) process.stdout.write(safeJson(analysisJson(analyzer, findings, caps, inputs, analyzer.stats), 2) + '\n');
  else process.stdout.write(analysisText(analyzer, findings, caps, inputs));
  const inputCode = reportInputs(set, undecoded);
  if (inputCode !== EXIT_OK) return inputCode;
  if (threshold && findings.some((f) => atOrAbove(f.severity, threshold))) return EXIT_FINDINGS;
  return EXIT_OK;
}

/** Frames read from the start of the files to line up their clocks. */
const CLOCK_PASS_FRAMES = 200_000;

function estimateClocks(specs: string[]): ClockOffset[] {
  const set = openCapture(specs);
  const est = new ClockOffsetEstimator(specs.length);
  const frame = new DecodedFrame();
  try {
    while (est.frames < CLOCK_PASS_FRAMES && set.next()) {
      decodeFrame(set.rec, frame);
      est.observe(set.rec, frame);
    }
  } finally {
    set.close();
  }
  return est.offsets();
}

function offsetsByInput(clocks: ClockOffset[], n: number): number[] {
  const out = new Array<number>(n).fill(0);
  for (const c of clocks) if (Math.abs(c.offsetNs) >= NEGLIGIBLE_OFFSET_NS) out[c.input] = c.offsetNs;
  return out;
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
