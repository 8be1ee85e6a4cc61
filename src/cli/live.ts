/** `bondscope live`: capture on the host's slaves, bond, bridge and guests' ports at once, then report. */
import { discoverHost, type HostInfo } from '../capture/host/discover.js';
import { LiveCaptureError } from '../capture/live.js';
import { parseBackend, type BackendChoice } from '../capture/live-backend.js';
import { capabilities } from '../engine/capabilities.js';
import { checkTopology } from '../engine/host-check.js';
import { roleFromName } from '../model/roles.js';
import { atOrAbove } from '../engine/severity.js';
import { mergeTopology, type Topology } from '../model/topology.js';
import { analysisJson, analysisText } from '../report/analysis.js';
import { safeJson, safeText } from '../report/escape.js';
import { failOnOption, parseCommandArgs, windowOption } from './args.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './errors.js';
import { LiveSession } from './live-session.js';
import { dropPrivileges } from '../capture/host/privileges.js';
import { ROLE_HELP, ROLE_OPTIONS, topologyFromFlags } from './roles.js';
import { helpText, type CommandHelp, type OptionHelp } from './help.js';
import type { RemoteHost } from '../capture/remote/index.js';
import { reachHost, SSH_HELP, SSH_OPTIONS } from './ssh.js';

/** How live capture is set up: the same words in every command that captures (live, monitor, the view). */
export const CAPTURE_BACKEND_HELP: OptionHelp[] = [
  ['-B, --buffer-size MIB', 'the kernel ring: with the ring backend the one ring for every interface (default 64); with cap, per interface and direction (default 16); over --ssh, the host tool\'s own -B'],
  ['--backend ring|cap', 'ring: one TPACKET_V3 ring for the host (default where it can be set up); cap: libpcap handles per interface (the fallback)'],
];

/** Options every capturing command takes (live, monitor, the view), read by the same code. */
export const CAPTURE_OPTIONS = {
  ...SSH_OPTIONS,
  interface: { type: 'string', short: 'i', multiple: true },
  filter: { type: 'string' },
  'buffer-size': { type: 'string', short: 'B' },
  backend: { type: 'string' },
  duration: { type: 'string' },
  window: { type: 'string' },
  user: { type: 'string', default: 'nobody' },
  'no-kernel': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  ...ROLE_OPTIONS,
} as const;

export const HELP: CommandHelp = {
  name: 'live',
  synopsis: ['live [-i IF]... [options]', 'live --ssh [USER@]HOST [-i IF]... [options]'],
  description: [
    "Captures on the host (as root) on every slave, bond, bridge and guest port at once — or on the interfaces given with -i — with the direction of every frame, while reading the kernel's own log and the bridges' forwarding database. Stops after --duration or on Ctrl-C, then prints the report of `bondscope analyze`.",
    "With --ssh, the host is one reached over ssh (a hypervisor without Node: XCP-ng's dom0, Proxmox VE 8): it is discovered there in one round trip, its own dumpcap (else tcpdump) captures with the filter applied there, and the frames are analysed here as a local capture's are. Nothing is installed or left running on it; docs/remote.md lists every command run there.",
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['-i, --interface IF', 'capture on IF (repeatable; default: every bridge, bond, slave and guest port)'],
        ['--filter BPF', 'a libpcap filter (compiled for Ethernet) applied to every frame; over --ssh, applied on the host'],
        ...CAPTURE_BACKEND_HELP,
        ['--duration S', 'stop after S seconds'],
        ['-w, --write FILE', 'record every frame to FILE (pcapng: one interface block per interface, direction flags, the topology in the section comment; created 0600)'],
        ['--json', "print analyze's JSON at the end"],
        ['--fail-on LEVEL', 'exit 3 when a finding of LEVEL or worse exists (error, warning, info)'],
        ['--window MS', 'match sightings of one frame within MS milliseconds (default 2000)'],
        ['--user USER', 'drop to USER once capture is open (default nobody), as tcpdump -Z'],
        ['--no-kernel', "do not read /dev/kmsg or the bridges' FDB"],
        ...SSH_HELP,
        ...ROLE_HELP,
        ['-h, --help', 'this text'],
      ],
    },
  ],
};


export const LIVE_OPTIONS = {
  ...CAPTURE_OPTIONS,
  write: { type: 'string', short: 'w' },
  json: { type: 'boolean', default: false },
  'fail-on': { type: 'string' },
} as const;

/** The interfaces to capture on when none are named: every port discovery or naming gives a role. */
export function defaultInterfaces(info: HostInfo, topology: Topology): string[] {
  return info.interfaces
    .filter((i) => i.name !== 'lo' && (topology.ports.has(i.name) || roleFromName(i.name).role !== 'unknown'))
    .map((i) => i.name);
}

export interface LivePlan {
  interfaces: string[];
  topology: Topology;
  info: HostInfo;
}

/** Discovery, flags and -i into what to capture; errors name the interface and what exists. */
export function planLive(values: { interface?: string[]; bond?: string[]; bridge?: string[]; 'local-mac'?: string[]; links?: string }, info: HostInfo = discoverHost('/'), where = 'this host'): LivePlan {
  const topology = mergeTopology(info.topology, topologyFromFlags(values));
  const interfaces = values.interface?.length ? [...new Set(values.interface)] : defaultInterfaces(info, topology);
  const known = info.interfaces.map((i) => i.name);
  for (const name of interfaces) {
    if (name !== 'any' && !known.includes(name)) {
      throw new UsageError(`live: no interface '${name}' on ${where} (there are: ${known.join(', ') || 'none'})`);
    }
    if (name === 'any' && where !== 'this host') throw new UsageError(`live: -i any is for this host; over ssh name the ports (there are: ${known.join(', ')})`);
  }
  if (interfaces.length === 0) throw new UsageError(`live: found no bridge, bond, slave or guest port to capture on (interfaces: ${known.join(', ')}); name them with -i`);
  return { interfaces, topology, info };
}

export async function runLive(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('live', { args: argv, options: LIVE_OPTIONS });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  const threshold = failOnOption('live', values['fail-on']);
  const duration = values.duration === undefined ? null : Number(values.duration);
  if (duration !== null && !(duration > 0)) throw new UsageError(`live: --duration takes a positive number of seconds, not '${values.duration}'`);
  const windowNs = windowOption('live', values.window);

  const { plan, session, remote } = await openLiveSession(values, windowNs);
  const dropped = dropPrivileges(values.user, [...(values.write ? [values.write] : []), ...(remote?.ssh.ownedPaths() ?? [])]);
  session.begin();
  flushMessages(session); // the backend's fallback line, before the capture starts talking
  process.stderr.write(
    `bondscope: capturing on ${plan.interfaces.map(safeText).join(', ')}${remote ? ` of ${safeText(remote.ssh.target)}` : ''}${values.write ? ` into ${safeText(values.write)}` : ''}${dropped ? ` as ${safeText(dropped.user)}` : ''}${duration ? ` for ${duration} s` : ''} (Ctrl-C to stop; ${session.capture.kind} backend)\n`,
  );

  // Until --duration has passed, the user stops it or capture ends by itself (the ssh link
  // dropped); messages (an interface gone) shown as they come.
  await runUntilStopped(duration, [[() => flushMessages(session), 1000]], session.ended);

  await session.drain();
  const findings = session.stop();
  flushMessages(session);
  const a = session.analyzer;
  // Configuration findings (the host's bonding setup) go beside what the frames showed.
  const config = checkTopology(plan.topology, plan.info.lacpStates, plan.info.kernelRelease).findings;
  const all = [...findings, ...config];
  const caps = capabilities(a.ports.ports);
  if (session.capture.kind === 'ring') {
    // One ring sees every hop a frame takes through this host, in the kernel's order and clock:
    // a frame a slave received that never reached its bond was dropped by bonding, not missed.
    for (const b of plan.topology.bonds) {
      const slaves = b.slaves.map((s) => s.name).filter((s) => plan.interfaces.includes(s));
      if (slaves.length && plan.interfaces.includes(b.name)) {
        caps.canProve.push(`a frame ${slaves.join(' or ')} received that never reached ${b.name} was dropped by bonding (one kernel ring sees every hop)`);
      }
    }
  }
  const inputs = [{ index: 0, name: values.write ?? 'live' }];
  if (values.json) process.stdout.write(safeJson(analysisJson(a, all, caps, inputs, { ...a.stats, capture: session.captureStats() }), 2) + '\n');
  else process.stdout.write(captureHeader(session) + analysisText(a, all, caps, inputs));
  process.stderr.write(`bondscope: ${session.capture.framesCaptured} frames captured${values.write ? `, written to ${safeText(values.write)}` : ''}\n`);
  remote?.ssh.close();
  if (threshold && all.some((f) => atOrAbove(f.severity, threshold))) return EXIT_FINDINGS;
  return EXIT_OK;
}

export type LiveValues = Parameters<typeof planLive>[0] & { filter?: string; 'buffer-size'?: string; backend?: string; write?: string; user: string; 'no-kernel': boolean; ssh?: string; 'ssh-config'?: string; sudo?: boolean };

/**
 * Runs each [task, every ms] on its interval until `duration` seconds have passed (null: for ever)
 * or SIGINT/SIGTERM arrives, then stops the timers and lets go of the signals: how every capturing
 * command waits while its capture runs.
 */
export function runUntilStopped(duration: number | null, tasks: [() => void, number][], until?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timers = tasks.map(([task, ms]) => setInterval(task, ms));
    const timer = duration ? setTimeout(() => done(), duration * 1000) : undefined;
    const done = (): void => {
      for (const t of timers) clearInterval(t);
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    void until?.then(done);
  });
}

/** --backend as given to `command`: a wrong word is a one-line usage error. */
export function backendOption(command: string, value: string | undefined): BackendChoice {
  const backend = parseBackend(value);
  if (backend === null) throw new UsageError(`${command}: --backend takes ring or cap, not '${value}'`);
  return backend;
}

/** The report's first lines: how the frames were captured and what was lost, never silently. */
export function captureHeader(session: LiveSession): string {
  const c = session.capture;
  const d = c.drops();
  const lines = [`Capture: ${safeText(c.describe())}`];
  if (c.kind === 'ssh') {
    // The host's capture tool counts its kernel's drops and says so when it stops; on the way
    // bondscope drops nothing: a slow reader holds the link, and the tool's kernel buffer, back.
    lines.push(`  ${c.framesCaptured} frames; the host's drops ${d.kernel === null ? 'not said (its capture tool did not report them)' : `${d.kernel} (its capture tool's count)`}; bondscope drops none (it holds the link back instead)`);
  } else {
    const kernel = d.kernel === null ? 'kernel drops not known (cap keeps no counter)' : `kernel drops ${d.kernel} (peak ${d.kernelPeakPerSec}/s)`;
    const internal = c.kind === 'cap' ? `bondscope dropped ${d.internal} batch(es)` : `bondscope drops ${d.internal} (peak ${d.internalPeakPerSec}/s)`;
    lines.push(`  ${c.framesCaptured} frames; ${kernel}; ${internal}`);
  }
  for (const e of session.events) if (e.kind === 'appeared' || e.kind === 'gone' || e.kind === 'ended') lines.push(`  ${new Date(e.time * 1000).toISOString()} ${safeText(e.text)}`);
  return lines.join('\n') + '\n\n';
}

/**
 * What live mode and the live view share: the plan, the session, and everything opened as root
 * (capture workers, /dev/kmsg, the recording). Errors come back as one-line usage errors.
 */
export async function openLiveSession(values: LiveValues, windowNs: number): Promise<{ plan: LivePlan; session: LiveSession; remote: RemoteHost | null }> {
  if (values.ssh !== undefined && values.backend !== undefined) throw new UsageError('live: --backend chooses how this host captures; with --ssh the host captures with its own dumpcap or tcpdump');
  const remote = await reachHost('live', values);
  let session: LiveSession | null = null;
  try {
    const plan = remote ? planLive(values, remote.snapshot.info, remote.ssh.target) : planLive(values);
    const backend = backendOption('live', values.backend);
    session = new LiveSession({ interfaces: plan.interfaces, filter: values.filter, bufferSize: bufferBytes(values['buffer-size']), backend, user: values.user, write: values.write, topology: plan.topology, windowNs, kernel: !values['no-kernel'], ...(remote ? { remote } : {}) });
    await session.start();
    return { plan, session, remote };
  } catch (err) {
    session?.stop();
    remote?.ssh.close();
    if (err instanceof LiveCaptureError) throw new UsageError(`live: ${err.message}`);
    if ((err as NodeJS.ErrnoException).code && values.write) throw new UsageError(`live: --write ${values.write}: ${(err as Error).message}`);
    throw err;
  }
}

/** --buffer-size in MiB → bytes (undefined: the default). */
export function bufferBytes(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const mib = Number(v);
  if (!(mib >= 1 && mib <= 2048)) throw new UsageError(`--buffer-size takes MiB between 1 and 2048, not '${v}'`);
  return Math.round(mib * 2 ** 20);
}

let shown = 0;
function flushMessages(session: LiveSession): void {
  for (; shown < session.messages.length; shown++) process.stderr.write(`bondscope: ${safeText(session.messages[shown]!)}\n`);
}
