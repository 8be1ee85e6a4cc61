/**
 * The evidence bundle's export, in a worker thread of its own (evidence-keeper.ts): the analysis
 * of a ring's worth of frames takes seconds — tens of them on a busy host — and on the monitor's
 * main thread it kept the capture from being read meanwhile, so the kernel dropped what came
 * (the accelerated soak: 6.6 M frames in 10 minutes). `bondscope export`'s own exporter, unchanged;
 * the answer is one message: done, or the error with its code (ENOSPC: the disk is full).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { exportEvidence } from '../export/evidence.js';
import type { ExportJob, ExportAnswer } from './export-job.js';

const job = workerData as ExportJob;
const answer = (a: ExportAnswer): void => parentPort!.postMessage(a);
exportEvidence({ specs: job.specs, inputNames: job.inputNames, outDir: job.outDir, topology: () => structuredClone(job.topology) }).then(
  () => answer({ ok: true }),
  (err: unknown) => answer({ ok: false, message: err instanceof Error ? err.message : String(err), code: (err as NodeJS.ErrnoException).code ?? null }),
);
