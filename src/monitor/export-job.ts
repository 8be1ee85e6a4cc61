/**
 * A bundle's export run off the main thread (export-worker.ts): what it is given, what it answers,
 * and the one call that runs it and gives its error back as the exporter threw it (with its code).
 */
import { startWorker } from '../model/package.js';
import type { Topology } from '../model/topology.js';

export interface ExportJob {
  specs: string[];
  inputNames: string[];
  outDir: string;
  /** The topology as the monitor knows it (structured-cloned into the worker). */
  topology: Topology;
}

export type ExportAnswer = { ok: true } | { ok: false; message: string; code: string | null };

/** Exports in a worker thread; resolves when the bundle's files are written, rejects as exportEvidence would have. */
export function exportOffThread(job: ExportJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(import.meta.url, 'export-worker', { workerData: job });
    let answered = false;
    worker.once('message', (a: ExportAnswer) => {
      answered = true;
      if (a.ok) resolve();
      else reject(Object.assign(new Error(a.message), a.code ? { code: a.code } : {}));
    });
    worker.once('error', (err) => {
      answered = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the evidence export stopped (exit code ${code}) before it answered`));
    });
  });
}
