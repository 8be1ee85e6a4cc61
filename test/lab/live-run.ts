/**
 * One live session during the lab's traffic, as a user runs it: the lab brought up, the command
 * started (`bondscope live …`, on the host or over ssh), the traffic sent once it says it is
 * capturing, then stopped with SIGINT; the lab brought down. Used by the local and the ssh tests.
 */
import { spawn } from 'node:child_process';
import { down, traffic, up, type GroundTruth, type Lab } from './lab.js';
import type { LabParams, ScenarioName } from './topology.js';

export interface LiveRun {
  code: number | null;
  out: string;
  err: string;
  truth: GroundTruth;
  /** When the process said it was capturing, ms after it started. */
  startedAfterMs: number;
}

export interface LiveRunOptions {
  scenario: ScenarioName;
  params: LabParams;
  /** The command line, [program, ...args]. */
  command: string[];
  /** Run once the lab is up, before the command (an sshd in the host); what it returns runs at the end. */
  around?: (lab: Lab) => Promise<() => void>;
  /** Wait this long after the traffic before stopping (default 2500 ms). */
  settleMs?: number;
}

export async function liveDuring(o: LiveRunOptions): Promise<LiveRun> {
  down(o.params.prefix);
  await new Promise((r) => setTimeout(r, 1500));
  const lab = up(o.scenario, o.params);
  let after: (() => void) | null = null;
  try {
    if (o.around) after = await o.around(lab);
    const started = Date.now();
    const p = spawn(o.command[0]!, o.command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    // Wait for "capturing on …": the handles are open.
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (err.includes('capturing on')) {
          clearInterval(t);
          resolve();
        } else if (p.exitCode !== null) {
          clearInterval(t);
          reject(new Error(`live exited early (${p.exitCode}): ${err}`));
        }
      }, 50);
    });
    const startedAfterMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 500));
    const truth = await traffic(lab);
    await new Promise((r) => setTimeout(r, o.settleMs ?? 2500));
    p.kill('SIGINT');
    const code = await new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));
    return { code, out, err, truth, startedAfterMs };
  } finally {
    after?.();
    down(o.params.prefix);
  }
}
