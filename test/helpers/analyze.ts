/** The engine over capture files in-process, as `analyze` runs it: for tests of what it finds. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseLinksJson } from '../../src/capture/host/links.js';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import type { Finding } from '../../src/engine/findings.js';
import { emptyTopology } from '../../src/model/topology.js';

/**
 * Findings of the files (undamaged: any reader error fails the test); `linksFile` names an -i any
 * capture's ifindexes; `localMacs` are the host's own, as `--local-mac` gives them.
 */
export function analyzeFiles(files: string[], linksFile?: string, localMacs: number[] = []): Finding[] {
  const topology = emptyTopology();
  for (const m of localMacs) topology.localMacs.add(m);
  if (linksFile) for (const l of parseLinksJson(readFileSync(linksFile, 'utf8'), linksFile)) topology.ifNames.set(l.ifindex, l.ifname);
  const set = openCapture(files);
  const a = new Analyzer(topology);
  const f = new DecodedFrame();
  while (set.next()) {
    decodeFrame(set.rec, f);
    a.observe(set.rec, f);
  }
  expect(set.errors).toEqual([]);
  return a.finish();
}
