/**
 * Live capture's two backends behind one interface, and the one place that chooses between them:
 *
 *  - `ring` (ring/ring-capture.ts): one AF_PACKET TPACKET_V3 ring for the whole host through the
 *    project's binding — kernel timestamps, exact directions, the kernel's drop counts, new guest
 *    ports captured from their first frame;
 *  - `cap` (live.ts): a worker process per interface with two libpcap handles each — the fallback
 *    where the ring cannot be set up (binding not built, a kernel without TPACKET_V3), or asked
 *    for with `--backend cap`. Frames stamped on arrival, no drop counters.
 */
import { LiveCaptureError, type BackendChoice, type BackendName, type LiveBackend, type LiveEvents, type LiveOptions } from './live-types.js';

export { LiveCaptureError } from './live-types.js';
export type { BackendChoice, BackendName, CaptureDrops, LiveBackend, LiveEvents, LiveOptions } from './live-types.js';

/**
 * Which backend to use: the one asked for, else the ring where it can be set up, else cap with the
 * reason. `ringProblem` says why the ring cannot be used (null: it can).
 */
export function chooseBackend(requested: BackendChoice, ringProblem: string | null): { backend: BackendName; fallback: string | null; error: string | null } {
  if (requested === 'cap') return { backend: 'cap', fallback: null, error: null };
  if (ringProblem === null) return { backend: 'ring', fallback: null, error: null };
  if (requested === 'ring') return { backend: 'ring', fallback: null, error: `--backend ring: ${ringProblem}` };
  return { backend: 'cap', fallback: `live capture uses cap (one libpcap handle pair per interface, frames stamped on arrival, no drop counts): ${ringProblem}`, error: null };
}

export function parseBackend(v: string | undefined): BackendChoice | null {
  if (v === undefined || v === 'auto') return 'auto';
  return v === 'ring' || v === 'cap' ? v : null;
}

/**
 * Starts live capture with the chosen backend: the ring where it can be set up (the binding loads
 * and the kernel takes a TPACKET_V3 ring), else cap, saying why in one line (`fallback`). With
 * `--backend ring` a ring that cannot be set up is an error.
 */
export async function startLiveBackend(requested: BackendChoice, options: LiveOptions, events: LiveEvents): Promise<{ backend: LiveBackend; fallback: string | null }> {
  const { LiveCapture, loadCap } = await import('./live.js');
  const { loadRing } = await import('./ring/native.js');
  const { RingCapture, RingSetupError } = await import('./ring/ring-capture.js');
  const loaded = loadRing();
  const choice = chooseBackend(requested, typeof loaded === 'string' ? loaded : null);
  if (choice.error) throw new LiveCaptureError(choice.error);
  if (choice.backend === 'ring') {
    const ring = new RingCapture(options, events);
    try {
      await ring.start();
      return { backend: ring, fallback: null };
    } catch (err) {
      ring.stop();
      if (!(err instanceof RingSetupError)) throw err;
      const retry = chooseBackend(requested, `the kernel refused the ring (${err.message})`);
      if (retry.error) throw new LiveCaptureError(retry.error);
      const cap = new LiveCapture(options, events);
      await cap.start();
      return { backend: cap, fallback: retry.fallback };
    }
  }
  // Neither the ring nor its fallback: one line, the ring's (whose fix makes live capture work).
  if (requested === 'auto' && typeof loaded === 'string') {
    try {
      loadCap();
    } catch {
      throw new LiveCaptureError(`${loaded}; cap, the fallback, is not built either`);
    }
  }
  const cap = new LiveCapture(options, events);
  await cap.start();
  return { backend: cap, fallback: choice.fallback };
}
