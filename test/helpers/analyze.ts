/** The engine over capture files in-process, as `analyze` runs it: for tests of what it finds. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseLinksJson } from '../../src/capture/host/links.js';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import { type Capabilities, capabilities } from '../../src/engine/capabilities.js';
import type { Finding } from '../../src/engine/findings.js';
import { type Verdict, verdictOf } from '../../src/engine/verdict.js';
import type { Direction } from '../../src/model/record.js';
import { emptyTopology, type Topology } from '../../src/model/topology.js';

/**
 * Findings of the files (undamaged: any reader error fails the test); `linksFile` names an -i any
 * capture's ifindexes; `localMacs` are the host's own, as `--local-mac` gives them.
 */
export function analyzeFiles(files: string[], linksFile?: string, localMacs: number[] = []): Finding[] {
  const topology = emptyTopology();
  for (const m of localMacs) topology.localMacs.add(m);
  return runAnalyzer(files, topology, linksFile).findings;
}

/** The engine over the files with this topology (an -i any capture's ifindexes named by `linksFile`), to the end: the analyzer and its findings. */
export function runAnalyzer(files: string[], topology: Topology = emptyTopology(), linksFile?: string): { a: Analyzer; findings: Finding[] } {
  if (linksFile) for (const l of parseLinksJson(readFileSync(linksFile, 'utf8'), linksFile)) topology.ifNames.set(l.ifindex, l.ifname);
  const set = openCapture(files);
  const a = new Analyzer(topology);
  a.knowInterfaces(set.registry.list);
  const f = new DecodedFrame();
  while (set.next()) {
    decodeFrame(set.rec, f);
    a.observe(set.rec, f);
  }
  expect(set.errors).toEqual([]);
  return { a, findings: a.finish() };
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
}

/** As analyzeFiles, with what the capture set can prove and each frame's port and direction, for the truth tests. */
export function analyzeForTruth(files: string[], linksFile?: string): TruthAnalysis {
  const topology = emptyTopology();
  if (linksFile) for (const l of parseLinksJson(readFileSync(linksFile, 'utf8'), linksFile)) topology.ifNames.set(l.ifindex, l.ifname);
  const set = openCapture(files);
  const a = new Analyzer(topology);
  a.knowInterfaces(set.registry.list);
  const f = new DecodedFrame();
  const frames = new Map<string, FrameSeen>();
  while (set.next()) {
    const rec = set.rec;
    decodeFrame(rec, f);
    const port = f.sllIfIndex >= 0 ? (topology.ifNames.get(f.sllIfIndex) ?? `if#${f.sllIfIndex}`) : rec.iface!.name;
    frames.set(`${rec.inputIndex}:${rec.inputFrame}`, { port, dir: (rec.direction || f.linkDirection) as Direction });
    a.observe(rec, f);
  }
  expect(set.errors).toEqual([]);
  const findings = a.finish();
  return { findings, capabilities: capabilities(a.ports.ports), verdict: verdictOf(a, findings), first: a.wallTime(a.firstT()), last: a.wallTime(a.latestT), frames };
}
