/**
 * One live session during the lab's traffic, as a user runs it: the lab brought up, the command
 * started (`bondscope live …`, on the host or over ssh), the traffic sent once it says it is
 * capturing, then stopped with SIGINT; the lab brought down. Used by the local and the ssh tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
  /** The command line, [program, ...args]; several run side by side (they capture the same traffic). */
  command: string[] | string[][];
  /** Run once the lab is up, before the commands (an sshd in the host); what it returns runs at the end. */
  around?: (lab: Lab) => Promise<() => void>;
  /** Wait this long after the traffic before stopping (default 2500 ms). */
  settleMs?: number;
  /** What each command says on stderr once it captures (default `capturing on`), by command. */
  ready?: string | string[];
  /** Run after the traffic, before the commands are stopped (reads the monitor's /metrics). */
  during?: () => Promise<void>;
}

export interface Capturing {
  p: ChildProcess;
  out: string;
  err: string;
  startedAfterMs: number;
}

/** Starts `command` and returns once it says `ready` on stderr ("capturing on": its handles are open); rejects if it ends first. */
export async function startCapturing(command: string[], ready = 'capturing on'): Promise<Capturing> {
  const started = Date.now();
  const p = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Capturing = { p, out: '', err: '', startedAfterMs: 0 };
  p.stdout!.on('data', (d) => (run.out += d));
  p.stderr!.on('data', (d) => (run.err += d));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (run.err.includes(ready)) {
        clearInterval(t);
        resolve();
      } else if (p.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`${command.slice(0, 4).join(' ')} exited early (${p.exitCode}): ${run.err}`));
      }
    }, 50);
  });
  run.startedAfterMs = Date.now() - started;
  return run;
}

/** The exit code once `p` has ended. */
export function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));
}

/** One command (or several side by side) during the scenario's traffic, as liveDuringAll. */
export async function liveDuring(o: LiveRunOptions): Promise<LiveRun> {
  return (await liveDuringAll(o))[0]!;
}

/** Every command started (in order) and capturing before the traffic, all stopped with SIGINT after it. */
export async function liveDuringAll(o: LiveRunOptions): Promise<LiveRun[]> {
  down(o.params.prefix);
  await new Promise((r) => setTimeout(r, 1500));
  const lab = up(o.scenario, o.params);
  let after: (() => void) | null = null;
  try {
    if (o.around) after = await o.around(lab);
    const commands = (Array.isArray(o.command[0]) ? o.command : [o.command]) as string[][];
    const procs: Capturing[] = [];
    for (const [i, c] of commands.entries()) procs.push(await startCapturing(c, Array.isArray(o.ready) ? o.ready[i]! : (o.ready ?? 'capturing on')));
    await new Promise((r) => setTimeout(r, 500));
    const truth = await traffic(lab);
    await new Promise((r) => setTimeout(r, o.settleMs ?? 2500));
    await o.during?.();
    for (const { p } of procs) p.kill('SIGINT');
    const codes = await Promise.all(procs.map(({ p }) => exited(p)));
    return procs.map((r, i) => ({ code: codes[i]!, out: r.out, err: r.err, truth, startedAfterMs: r.startedAfterMs }));
  } finally {
    after?.();
    down(o.params.prefix);
  }
}
