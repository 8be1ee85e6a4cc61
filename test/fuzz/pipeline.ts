/**
 * The whole pipeline in-process, as `bondscope analyze` and `bondscope frames` run it, with the
 * invariants the fuzzers check on every input:
 *
 *   - nothing throws: bad input ends the input with one CaptureError whose message names the byte
 *     offset (`at byte N`), never an exception out of the reader, decoder, engine or reports;
 *   - every decoded field offset lies inside the frame's captured bytes (a decoder reading past
 *     caplen would read the next packet's bytes from the shared chunk);
 *   - the engine's structures stay within their bounds (MACs, pending groups, sightings per group,
 *     ports, findings, evidence per finding);
 *   - the JSON report (as `analyze --json` writes it) parses back to the same value, and it, the
 *     text report and the frame summaries carry no character a terminal would act on (safeText's
 *     set, besides their own newlines);
 *   - the run takes bounded time (checked by the callers, which know the input's size).
 *
 * Shared by the vitest suite (test/fuzz/fuzz.test.ts) and the long run (test/fuzz/run.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { formatTimestamp, openCapture, type CaptureError } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer, DEFAULT_OPTIONS, MAX_PENDING_GROUPS, MAX_SIGHTINGS, type AnalyzerOptions } from '../../src/engine/analyzer.js';
import { capabilities } from '../../src/engine/capabilities.js';
import { EVIDENCE_LIMIT } from '../../src/engine/findings.js';
import { MAX_SLL_PORTS } from '../../src/engine/ports.js';
import { emptyTopology, mergeTopology, topologyFromComment } from '../../src/model/topology.js';
import { analysisJson, analysisText } from '../../src/report/analysis.js';
import { safeJson } from '../../src/report/escape.js';
import { frameSummary } from '../../src/report/frame-summary.js';
import { AnalysisView, LOOP_HISTORY } from '../../src/tui/adapter.js';
import type { PipelineStatus } from '../../src/tui/pipeline.js';

/** A broken invariant: the fuzzers keep the input that caused it as a crasher. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export interface PipelineResult {
  /** Frames the reader delivered (all inputs). */
  frames: number;
  /** Frames the engine counted. */
  analysed: number;
  errors: CaptureError[];
  warnings: number;
  /** The analysis as JSON (parsed back), without the inputs' names. */
  json: { interfaces: unknown; macs: unknown; findings: unknown; stats: unknown };
  text: string;
  ms: number;
}

/** Characters no report line may carry raw: what safeText escapes (C0 but newline, DEL, C1, bidi, zero-width). */
// eslint-disable-next-line no-control-regex
export const TERMINAL_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

function check(ok: boolean, what: string): void {
  if (!ok) throw new InvariantError(what);
}

/** Every offset the decoder set must point inside [start, end) with room for its field. */
function checkOffsets(f: DecodedFrame, start: number, end: number, n: number): void {
  const inside = (off: number, size: number, name: string): void => {
    if (off >= 0) check(off >= start && off + size <= end, `frame ${n}: ${name} at ${off}+${size} outside the captured bytes [${start}, ${end})`);
  };
  inside(f.dstOff, 6, 'dstOff');
  inside(f.srcOff, 6, 'srcOff');
  if (f.l3Off >= 0) check(f.l3Off >= start && f.l3Off + f.l3Len <= end && f.l3Len >= 0, `frame ${n}: l3 ${f.l3Off}+${f.l3Len} outside [${start}, ${end})`);
  if (f.payload === 1) {
    inside(f.arpShaOff, 6, 'arpShaOff');
    inside(f.arpSpaOff, 4, 'arpSpaOff');
    inside(f.arpThaOff, 6, 'arpThaOff');
    inside(f.arpTpaOff, 4, 'arpTpaOff');
  }
  // Deeper layers' fields are current only when the frame reached that layer (frame.ts).
  if (f.payload === 2 && f.ipVersion === 4) {
    inside(f.ipSrcOff, 4, 'ipSrcOff');
    inside(f.ipDstOff, 4, 'ipDstOff');
  } else if (f.payload === 3 && f.ipVersion === 6) {
    inside(f.ipSrcOff, 16, 'ipSrcOff');
    inside(f.ipDstOff, 16, 'ipDstOff');
    inside(f.ndTargetOff, 16, 'ndTargetOff');
  }
}

/** The engine's structures against their bounds (reads private fields on purpose: they are what grows). */
export function checkEngineBounds(a: Analyzer, interfaces: number): void {
  const inner = a.growing();
  const pending = inner.pending;
  const max = a.options.maxMacs;
  check(a.macs.size <= max, `MAC table holds ${a.macs.size} MACs, more than maxMacs ${max}`);
  // Past the bound the oldest settle before the next frame is handled, which may open one more.
  check(pending.length <= MAX_PENDING_GROUPS + 1, `${pending.length} groups wait to settle, more than ${MAX_PENDING_GROUPS + 1}`);
  check(pending.indexed <= pending.length, `${pending.indexed} pending keys for ${pending.length} queued groups`);
  let most = 0;
  for (let i = 0; i < pending.length; i++) most = Math.max(most, pending.count[pending.slotAt(i)]!);
  check(most <= MAX_SIGHTINGS, `a frame group holds ${most} sightings, more than ${MAX_SIGHTINGS}`);
  check(inner.hostSideSeen.size <= max, `${inner.hostSideSeen.size} host-side sources noted, more than maxMacs ${max}`);
  check(a.guestPorts.size <= max, `${a.guestPorts.size} guest MACs, more than maxMacs ${max}`);
  check(a.localMacs.size <= max + a.topology.localMacs.size, `${a.localMacs.size} host MACs, more than maxMacs ${max}`);
  const perKind = new Map<string, number>();
  for (const f of inner.findings) perKind.set(f.kind, (perKind.get(f.kind) ?? 0) + 1);
  for (const [kind, n] of perKind) check(n <= max, `${n} ${kind} findings, more than maxMacs ${max}`);
  check(a.ports.ports.length <= MAX_SLL_PORTS + 1 + interfaces, `${a.ports.ports.length} ports for ${interfaces} interfaces`);
}

export interface PipelineOptions {
  analyzer?: AnalyzerOptions;
  /** Frame summaries and timestamps for every frame (as `frames` prints them). */
  summaries?: boolean;
}

/** Runs specs through reader → decoder → engine → reports; throws InvariantError when one breaks. */
export function runPipeline(specs: string[], opts: PipelineOptions = {}): PipelineResult {
  const started = performance.now();
  const set = openCapture(specs);
  // As analyze does: the first record brings the section headers, whose comment may carry a
  // topology recorded by live mode (names, roles, bonds: input like any other).
  let more = set.next();
  const recorded = set.sectionComments.map(topologyFromComment).find((t) => t !== null) ?? null;
  const topology = recorded ? mergeTopology(recorded, emptyTopology()) : emptyTopology();
  const analyzer = new Analyzer(topology, opts.analyzer ?? DEFAULT_OPTIONS);
  const frame = new DecodedFrame();
  const summaries = opts.summaries ?? true;
  // The terminal UI's view of the engine, as the file session builds it every slice.
  const view = new AnalysisView(specs);
  const status = (now: number): PipelineStatus => ({ title: 'fuzz', mode: 'browse', state: 'reading', frames, now, interfaces: [], messages: [] });
  let frames = 0;
  for (; more; more = set.next()) {
    const rec = set.rec;
    frames++;
    check(rec.caplen >= 0 && rec.offset >= 0 && rec.offset + rec.caplen <= rec.buf.length, `frame ${frames}: record ${rec.offset}+${rec.caplen} outside its buffer of ${rec.buf.length}`);
    decodeFrame(rec, frame);
    checkOffsets(frame, rec.offset, rec.offset + rec.caplen, frames);
    if (summaries) {
      const line = frameSummary(rec.buf, frame, rec.iface!.linkType) + formatTimestamp(rec.tsSec, rec.tsFrac, rec.iface!.tsDigits);
      check(!TERMINAL_UNSAFE.test(line), `frame ${frames}: summary carries a control character: ${JSON.stringify(line)}`);
    }
    analyzer.observe(rec, frame);
    if ((frames & 1023) === 0) checkEngineBounds(analyzer, set.registry.list.length);
    if ((frames & 4095) === 0) view.snapshot(analyzer, status(rec.tsSec + rec.tsNsec / 1e9));
  }
  for (const e of [...set.errors, ...set.warnings]) {
    check(/ at byte \d+ \(/.test(e.message), `capture error without a byte offset: ${e.message}`);
  }
  check(set.frames === frames, `set counted ${set.frames} frames, ${frames} delivered`);
  const findings = analyzer.finish();
  const last = analyzer.stats.lastSec;
  const ui = view.snapshot(analyzer, status(last));
  check(ui.loopedPerSecond.length <= LOOP_HISTORY, `the UI keeps ${ui.loopedPerSecond.length} seconds of loop history, more than ${LOOP_HISTORY}`);
  checkEngineBounds(analyzer, set.registry.list.length);
  check(analyzer.stats.frames === frames, `engine counted ${analyzer.stats.frames} of ${frames} frames`);
  for (const f of findings) check(f.evidence.length <= EVIDENCE_LIMIT, `${f.kind} keeps ${f.evidence.length} evidence frames, more than ${EVIDENCE_LIMIT}`);
  const caps = capabilities(analyzer.ports.ports);
  const inputs = specs.map((name, index) => ({ index, name }));
  // As `analyze --json` writes it: terminal-safe, and the same value as plain JSON.stringify gives.
  const value = analysisJson(analyzer, findings, caps, inputs, analyzer.stats);
  const jsonText = safeJson(value, 2);
  check(!TERMINAL_UNSAFE.test(jsonText), `analysis JSON carries a control character near ${JSON.stringify(jsonText.slice(Math.max(0, jsonText.search(TERMINAL_UNSAFE) - 40), jsonText.search(TERMINAL_UNSAFE) + 10))}`);
  const parsed = JSON.parse(jsonText) as PipelineResult['json'] & { inputs?: unknown; findings: { evidence: unknown }[] };
  check(isDeepStrictEqual(parsed, JSON.parse(JSON.stringify(value))), 'safeJson changed the JSON value');
  const text = analysisText(analyzer, findings, caps, inputs);
  check(!TERMINAL_UNSAFE.test(text), `analysis text carries a control character near ${JSON.stringify(text.slice(Math.max(0, text.search(TERMINAL_UNSAFE) - 40), text.search(TERMINAL_UNSAFE) + 10))}`);
  // Evidence names the input files: leave names out so runs of one capture under two paths compare.
  const json = { interfaces: parsed.interfaces, macs: parsed.macs, findings: parsed.findings.map((f) => ({ ...f, evidence: (f.evidence as { frames: number[] }[]).map((e) => e.frames) })), stats: parsed.stats };
  return { frames, analysed: analyzer.stats.frames, errors: set.errors, warnings: set.warnings.length, json, text, ms: performance.now() - started };
}
