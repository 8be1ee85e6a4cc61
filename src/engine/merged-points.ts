/**
 * Interfaces that hold several capture points' frames: mergecap's default (`-I all`) folds
 * interfaces that look alike (unnamed ones, from classic pcaps) into one, and a multi-interface
 * capture saved as classic pcap has one interface for all. Which port saw a copy is then lost.
 *
 * Why it shows: one capture point sees a frame once, or twice when its echo comes back (the bond,
 * the bridge device, a guest's port on a looping host), or a few times when its sender repeats
 * itself within microseconds. Merged, one interface sees each frame once per hop it took: a
 * broadcast four to six times, a unicast between a guest and outside three or four, within
 * microseconds. A port that saw at least MERGED_COPIES copies of most of the frames it shares with
 * the rest of the capture is several points. Two ports merged give two copies a frame, as a
 * single port does on a looping host: they cannot be told from it, and stay one unknown port.
 */
import type { FrameSightings } from './sightings.js';

/** Copies of one frame on one interface that no single capture point shows. */
export const MERGED_COPIES = 3;
/** Share of a port's frames seen MERGED_COPIES times or more that makes it several points. */
const MERGED_SHARE = 0.3;
/** Frames seen that often before a port is judged at all. */
const MIN_FRAMES = 10;

/** Ports (by index) whose frames are several capture points'. */
export function mergedPorts(s: FrameSightings): number[] {
  const ports = s.ports.length;
  const frames = new Int32Array(ports);
  const many = new Int32Array(ports);
  const here = new Int32Array(ports);
  for (let g = 0; g < s.frames; g++) {
    const from = s.start[g]!;
    const to = s.start[g + 1]!;
    if (to - from < 2) continue;
    for (let k = from; k < to; k++) here[s.port[k]!]!++;
    for (let k = from; k < to; k++) {
      const p = s.port[k]!;
      const n = here[p]!;
      if (n === 0) continue;
      frames[p]!++;
      if (n >= MERGED_COPIES) many[p]!++;
      here[p] = 0;
    }
  }
  const out: number[] = [];
  for (let p = 0; p < ports; p++) if (many[p]! >= MIN_FRAMES && many[p]! >= MERGED_SHARE * frames[p]!) out.push(p);
  return out;
}
