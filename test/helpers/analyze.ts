/** The engine over capture files in-process, as `analyze` runs it: for tests of what it finds. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseLinksJson } from '../../src/capture/host/links.js';
import type { Capabilities } from '../../src/engine/capabilities.js';
import type { Finding } from '../../src/engine/findings.js';
import type { Analyzer } from '../../src/engine/analyzer.js';
import type { Verdict } from '../../src/engine/verdict.js';
import type { Direction } from '../../src/model/record.js';
import { emptyTopology, type Topology } from '../../src/model/topology.js';
import { analyzeFiles as runFiles, type FileAnalysis } from '../../src/pipeline/files.js';

/** The role flags' topology as the CLI builds it: `--links FILE` names an -i any capture's ifindexes; `--local-mac`. */
export function givenTopology(linksFile?: string, localMacs: number[] = []): Topology {
  const topology = emptyTopology();
  for (const m of localMacs) topology.localMacs.add(m);
  if (linksFile) for (const l of parseLinksJson(readFileSync(linksFile, 'utf8'), linksFile)) topology.ifNames.set(l.ifindex, l.ifname);
  return topology;
}

/**
 * Findings of the files (undamaged: any reader error fails the test), through the pipeline
 * `analyze` runs (src/pipeline/files.ts: recorded topology, pre-pass, engine); `linksFile` names an
 * -i any capture's ifindexes; `localMacs` are the host's own, as `--local-mac` gives them.
 */
export function analyzeFiles(files: string[], linksFile?: string, localMacs: number[] = []): Finding[] {
  return runAnalyzer(files, givenTopology(linksFile, localMacs)).findings;
}

/** The pipeline over the files with this topology as the role flags (an -i any capture's ifindexes named by `linksFile`), to the end: the engine and its findings. */
export function runAnalyzer(files: string[], topology: Topology = emptyTopology(), linksFile?: string): { a: Analyzer; findings: Finding[] } {
  if (linksFile) for (const l of parseLinksJson(readFileSync(linksFile, 'utf8'), linksFile)) topology.ifNames.set(l.ifindex, l.ifname);
  const run = runFiles(files, { flags: topology });
  expect(run.run.set.errors).toEqual([]);
  return { a: run.run.analyzer, findings: run.findings };
}

/** Where one frame of an input was seen: the port (an -i any capture's ifindex named by --links) and its direction. */
export interface FrameSeen {
  port: string;
  dir: Direction;
}

export interface TruthAnalysis {
  findings: Finding[];
  capabilities: Capabilities;
  verdict: Verdict;
  /** First and last frame of the capture set (seconds since the epoch). */
  first: number;
  last: number;
  /** Every frame by `input:frame` (FrameRef), to read evidence back without the engine's help. */
  frames: Map<string, FrameSeen>;
  /** The whole analysis, for what the truth tests read beside the findings. */
  analysis: FileAnalysis;
}

/** As analyzeFiles, with what the capture set can prove and each frame's port and direction, for the truth tests. */
export function analyzeForTruth(files: string[], linksFile?: string, o: { allowDamage?: boolean } = {}): TruthAnalysis {
  const topology = givenTopology(linksFile);
  const frames = new Map<string, FrameSeen>();
  const analysis = runFiles(files, { flags: topology }, {
    each: (r) => {
      const rec = r.set.rec;
      const f = r.frame;
      const port = f.sllIfIndex >= 0 ? (topology.ifNames.get(f.sllIfIndex) ?? `if#${f.sllIfIndex}`) : rec.iface!.name;
      frames.set(`${rec.inputIndex}:${rec.inputFrame}`, { port, dir: (rec.direction || f.linkDirection) as Direction });
    },
  });
  if (!o.allowDamage) expect(analysis.run.set.errors).toEqual([]);
  const a = analysis.run.analyzer;
  return { findings: analysis.findings, capabilities: analysis.capabilities, verdict: analysis.verdict, first: a.wallTime(a.firstT()), last: a.wallTime(a.latestT), frames, analysis };
}
