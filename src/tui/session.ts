/**
 * The UI's engine for files: the analyzer that `bondscope analyze` runs, fed by the file
 * pipeline, with the view adapter that turns its state into snapshots. `clear` replaces both.
 */
import { parseInputSpec } from '../capture/index.js';
import type { PacketRecord } from '../model/record.js';
import type { DecodedFrame } from '../decode/frame.js';
import { Analyzer, type AnalyzerOptions, DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { emptyTopology, mergeTopology, type Topology } from '../model/topology.js';
import { settleFiles } from '../pipeline/files.js';
import { AnalysisView } from './adapter.js';
import { FilePipeline } from './pipeline.js';

/** One run of the engine and the view state built on it (timeline, sparkline). */
export class EngineAnalysis {
  readonly analyzer: Analyzer;
  readonly view: AnalysisView;

  constructor(topology: Topology, options: AnalyzerOptions, inputs: readonly string[]) {
    this.analyzer = new Analyzer(topology, options);
    this.view = new AnalysisView(inputs);
  }

  observe(rec: PacketRecord, frame: DecodedFrame): void {
    this.analyzer.observe(rec, frame);
  }
}

export interface FileSessionOptions {
  specs: string[];
  replaySpeed: number | null;
  /** A fresh topology (from the role flags) for every engine: the engine adds the ports it names. */
  topology: () => Topology;
  options?: AnalyzerOptions;
  sliceFrames?: number;
  /** After the engine's finish(): the last frame was read. */
  onEnd?: () => void;
}

export function fileSession(o: FileSessionOptions): FilePipeline<EngineAnalysis> {
  const inputs = o.specs.map((s) => parseInputSpec(s).display);
  // As analyze does (src/pipeline/files.ts), before the first frame: the topology the files
  // recorded under the flags, roles for ports nothing names, clocks apart lined up. Once: every
  // engine (the first, and each after a clear) starts from what it settled.
  const setup = settleFiles(o.specs, { flags: o.topology(), engine: o.options ?? DEFAULT_OPTIONS });
  const topology = (): Topology => mergeTopology(emptyTopology(), setup.topology);
  const engineOptions: AnalyzerOptions = setup.engine;
  return new FilePipeline<EngineAnalysis>({
    specs: o.specs,
    replaySpeed: o.replaySpeed,
    sliceFrames: o.sliceFrames,
    makeAnalysis: (set) => {
      const a = new EngineAnalysis(topology(), engineOptions, inputs);
      a.analyzer.knowInterfaces(set.registry.list);
      return a;
    },
    toSnapshot: (a, status) => a.view.snapshot(a.analyzer, status),
    onSecond: (a, now) => a.view.sample(a.analyzer, now),
    onEnd: (a) => {
      // Settles the frames still waiting for their echoes and writes the findings' summaries.
      a.analyzer.finish();
      o.onEnd?.();
    },
  });
}
