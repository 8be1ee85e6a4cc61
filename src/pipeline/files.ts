/**
 * The pipeline over capture files, one way for every command that reads files (`analyze`,
 * `export`, the view of files, and the tests that assert what those find): sources → decoder →
 * engine, with what is settled before the first frame is analysed:
 *
 *  1. the files' first record is read, so their section headers are: a file written by `bondscope
 *     live --write` records the host's topology in its section comment;
 *  2. the roles: Open vSwitch's recorded state (--ovs), under what the files recorded, under the
 *     role flags (the strongest last);
 *  3. the pre-pass (src/engine/prepass.ts), a first reading of the files' start: roles for the
 *     ports nothing names, clocks lined up where files come from clocks apart. Standard input
 *     cannot be read twice: without it, roles come from names and flags, and clocks are taken as one.
 *
 * A stage above capture, decode and engine, so that none of those imports another's wiring.
 */
import { CaptureSet, openCapture, parseInputSpec } from '../capture/index.js';
import { DecodedFrame, decodeFrame } from '../decode/index.js';
import { Analyzer, type AnalyzerOptions, DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { type Capabilities, capabilities } from '../engine/capabilities.js';
import type { Finding } from '../engine/findings.js';
import { type Verdict, verdictOf } from '../engine/verdict.js';
import { type Prepared, prepare } from '../engine/prepass.js';
import { emptyTopology, mergeTopology, topologyFromComment, type Topology } from '../model/topology.js';

export interface FileRunOptions {
  /** The role flags (and --links' names of an -i any capture's ifindexes): laid over what the files recorded. */
  flags?: Topology;
  /** An Open vSwitch host's recorded database (--ovs): what the files recorded is laid over it. */
  ovs?: Topology | null;
  /** The engine's options; inputOffsetsNs is the pre-pass's unless given. */
  engine?: AnalyzerOptions;
  /**
   * An engine that has seen these files to the end already (the view's, when it exports): it is
   * not fed again, and its topology and clocks are the run's (no pre-pass).
   */
  analyzer?: Analyzer;
}

/** What is settled before the first frame is analysed. */
export interface FileSetup {
  /** The topology the files recorded (live --write), or null. */
  recorded: Topology | null;
  /** OVS, recorded and flags merged: what is known before the frames. */
  given: Topology;
  /** The pre-pass, or null when an input is standard input. */
  prepared: Prepared | null;
  /** The topology the engine starts from: `given` with the inferred roles laid into its unknown ports. */
  topology: Topology;
  /** The engine's options, with the clocks the pre-pass lined up. */
  engine: AnalyzerOptions;
}

/** Whether an input is standard input (it cannot be read twice: no pre-pass). */
export function readsStdin(specs: readonly string[]): boolean {
  return specs.some((s) => parseInputSpec(s).path === '-');
}

/**
 * Steps 1–3 for a capture set whose first record has been read (`set.next()` once): the section
 * headers before it are known then.
 */
export function settle(set: CaptureSet, specs: readonly string[], o: FileRunOptions = {}): FileSetup {
  const recorded = set.sectionComments.map(topologyFromComment).find((t) => t !== null) ?? null;
  const base = o.ovs && recorded ? mergeTopology(o.ovs, recorded) : (recorded ?? o.ovs ?? null);
  const flags = o.flags ?? emptyTopology();
  const given = base ? mergeTopology(base, flags) : mergeTopology(emptyTopology(), flags);
  if (o.analyzer) return { recorded, given, prepared: null, topology: o.analyzer.topology, engine: o.analyzer.options };
  const prepared = readsStdin(specs) ? null : prepare(openCapture([...specs]), given, specs.length);
  const engine = o.engine ?? DEFAULT_OPTIONS;
  return {
    recorded,
    given,
    prepared,
    topology: prepared?.topology ?? given,
    engine: { ...engine, inputOffsetsNs: engine.inputOffsetsNs ?? prepared?.inputOffsetsNs, unsettledClocks: engine.unsettledClocks ?? prepared?.unsettled },
  };
}

/**
 * Steps 1–3 on a reading of the files of its own, closed after: for a consumer that reads the
 * files itself (the view, which reads them again on every clear).
 */
export function settleFiles(specs: readonly string[], o: FileRunOptions = {}): FileSetup {
  const set = openCapture([...specs]);
  try {
    set.next();
    return settle(set, specs, o);
  } finally {
    set.close();
  }
}

/** A run of the engine over files: the capture set, what was settled, and the engine fed so far. */
export interface FileRun {
  readonly set: CaptureSet;
  readonly setup: FileSetup;
  readonly analyzer: Analyzer;
  /** Frames of link types the decoder does not know, by link type. */
  readonly undecoded: Map<number, number>;
  /** The frame being observed, decoded (valid during `each`). */
  readonly frame: DecodedFrame;
  /**
   * Decodes and observes the next frame; `each` sees it after the engine has. Returns false at
   * the end of every input (their damage is then in set.errors).
   */
  step(each?: (run: FileRun) => void): boolean;
  /** After the last step: the engine settled and its findings (an engine given in the options is only read). */
  finish(): Finding[];
}

/** Opens the files, settles steps 1–3 and starts the engine on them; frames are fed by step(). */
export function openFiles(specs: readonly string[], o: FileRunOptions = {}): FileRun {
  const set = openCapture([...specs]);
  let pending = set.next();
  const setup = settle(set, specs, o);
  const fed = !o.analyzer;
  const analyzer = o.analyzer ?? new Analyzer(setup.topology, setup.engine);
  if (fed) analyzer.knowInterfaces(set.registry.list);
  const frame = new DecodedFrame();
  const undecoded = new Map<number, number>();
  const run: FileRun = {
    set,
    setup,
    analyzer,
    undecoded,
    frame,
    step(each) {
      if (!pending) return false;
      const rec = set.rec;
      decodeFrame(rec, frame);
      if (!frame.supported) undecoded.set(rec.iface!.linkType, (undecoded.get(rec.iface!.linkType) ?? 0) + 1);
      if (fed) analyzer.observe(rec, frame);
      each?.(run);
      pending = set.next();
      return true;
    },
    finish: () => {
      if (!fed) return analyzer.currentFindings();
      // An input cut short holds each of its interfaces up to a moment of its own.
      for (const src of set.sources) if (src.error) analyzer.inputCut(src.rec.inputIndex);
      return analyzer.finish();
    },
  };
  return run;
}

/** The files analysed to the end. */
export interface FileAnalysis {
  run: FileRun;
  findings: Finding[];
  capabilities: Capabilities;
  /** The answer first (engine/verdict.ts). */
  verdict: Verdict;
}

/** What a caller adds to a run to the end: what the engine is told besides the frames. */
export interface FileAnalysisHooks {
  /** Before the first frame (the host's kernel log of the same time). */
  start?: (analyzer: Analyzer) => void;
  /** Every frame, after the engine has observed it. */
  each?: (run: FileRun) => void;
  /** After the last frame, before the engine settles (recorded learning tables). */
  end?: (analyzer: Analyzer) => void;
}

/** Runs the engine over every frame of the files and settles it. */
export function analyzeFiles(specs: readonly string[], o: FileRunOptions = {}, hooks: FileAnalysisHooks = {}): FileAnalysis {
  const run = openFiles(specs, o);
  hooks.start?.(run.analyzer);
  while (run.step(hooks.each));
  hooks.end?.(run.analyzer);
  const findings = run.finish();
  return { run, findings, capabilities: capabilities(run.analyzer.ports.ports, run.analyzer.options.unsettledClocks), verdict: verdictOf(run.analyzer, findings) };
}
