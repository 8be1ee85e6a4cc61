/** Engine snapshots of recordings, made the way the UI makes them: the file session read to its end. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { emptyTopology } from '../../src/model/topology.js';
import type { UiSnapshot } from '../../src/tui/model.js';
import type { FilePipeline } from '../../src/tui/pipeline.js';
import { type EngineAnalysis, fileSession } from '../../src/tui/session.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

export const RECORDING = (scenario: string): string => resolve(PROJECT_ROOT, `captures/${scenario}/${scenario}.pcapng`);
export const HAVE_RECORDINGS = ['loop', 'lacp', 'migrate', 'stp', 'single'].every((s) => existsSync(RECORDING(s)));

export async function readToEnd(specs: string[], sliceFrames = 50_000): Promise<{ snapshot: UiSnapshot; pipeline: FilePipeline<EngineAnalysis> }> {
  let ended: () => void = () => {};
  const done = new Promise<void>((res) => (ended = res));
  const pipeline = fileSession({ specs, replaySpeed: null, topology: emptyTopology, sliceFrames, onEnd: () => ended() });
  pipeline.start();
  await done;
  return { snapshot: pipeline.store.read(), pipeline };
}

/** The frame's lines, and the one that shows `mac` in the MAC table. */
export function lines(frame: string): string[] {
  return frame.split('\n');
}
