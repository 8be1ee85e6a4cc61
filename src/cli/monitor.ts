/**
 * `bondscope monitor`: the long-running service (foreground, for systemd). Wires the live session,
 * the monitor's logic (src/monitor), the /metrics endpoint and the timers; the process restarts its
 * capture when the host's interfaces or guests change.
 */
import { createServer, type Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { discoverHost, type HostInfo } from '../capture/host/discover.js';
import { readBridgeFdb } from '../capture/host/kernel.js';
import { LiveCaptureError } from '../capture/live.js';
import { diagnosisFilter } from '../monitor/filter.js';
import { DEFAULT_EVIDENCE } from '../monitor/evidence-keeper.js';
import { DEFAULT_RING } from '../monitor/frame-ring.js';
import { DEFAULT_LIFECYCLE } from '../monitor/lifecycle.js';
import { DEFAULT_MONITOR, Monitor } from '../monitor/monitor.js';
import { mergeTopology, type Topology } from '../model/topology.js';
import { roleFromName } from '../model/roles.js';
import { VERSION } from '../model/version.js';
import { safeJson, safeText } from '../report/escape.js';
import { parseCommandArgs, windowOption } from './args.js';
import { EXIT_OK, UsageError } from './errors.js';
import { backendOption, bufferBytes, CAPTURE_BACKEND_HELP, CAPTURE_OPTIONS, defaultInterfaces, runUntilStopped } from './live.js';
import { LiveSession } from './live-session.js';
import { ROLE_HELP, topologyFromFlags } from './roles.js';
import { helpText, type CommandHelp } from './help.js';
import { reachHost, SSH_HELP } from './ssh.js';
import { rediscover, type RemoteSnapshot } from '../capture/remote/index.js';

/** Not in the exporters' range 9100–9999, which is fully allocated (see the README). */
export const DEFAULT_LISTEN = '127.0.0.1:10071';
/** Live frames come from one clock within microseconds: a short window settles them sooner. */
const MONITOR_WINDOW_MS = 500;

export const HELP: CommandHelp = {
  name: 'monitor',
  synopsis: ['monitor [options]', 'monitor --ssh [USER@]HOST [options]'],
  description: [
    'Watches the host for good (as a systemd service, or in a terminal): captures on its slaves, bonds, bridges and guest ports, keeps findings open while their evidence keeps arriving and closes them after a quiet spell, serves Prometheus metrics, prints one JSON line per finding opened, updated and closed, and keeps an evidence bundle of the frames around each finding that opens.',
    'With --ssh, the host is one reached over ssh: its own capture tool filters with the default filter below, and a dropped link is reconnected when the host answers again.',
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['--listen ADDR:PORT', `serve /metrics there (default ${DEFAULT_LISTEN}; 'none' for no server)`],
        ['--quiet-after S', `close a finding after S seconds without new evidence (default ${DEFAULT_LIFECYCLE.quietAfterMs / 1000})`],
        ['--update-every S', `at most one 'updated' line per finding every S seconds (default ${DEFAULT_LIFECYCLE.updateEveryMs / 1000})`],
        ['--forget-after S', `start a fresh engine every S seconds: MACs and findings not seen since are forgotten (default ${DEFAULT_MONITOR.epochMs / 1000})`],
        ['--evidence-dir DIR', 'write an evidence bundle there when a finding opens (created 0700)'],
        ['--evidence-before S', `frames from S seconds before the finding opened (default ${DEFAULT_EVIDENCE.beforeSec})`],
        ['--evidence-after S', `and S seconds after (default ${DEFAULT_EVIDENCE.afterMs / 1000})`],
        ['--evidence-every S', `at most one bundle every S seconds (default ${DEFAULT_EVIDENCE.minIntervalMs / 1000})`],
        ['--evidence-max MIB', `keep the directory under MIB, oldest bundles removed first (default ${DEFAULT_EVIDENCE.maxBytes >> 20})`],
        ['--ring MIB', `memory for recent frames (default ${DEFAULT_RING.bytes >> 20}), kept at most --ring-seconds`],
        ['--ring-seconds S', `(default ${DEFAULT_RING.seconds})`],
        ['-i, --interface IF', 'capture on IF (repeatable; default: every bridge, bond, slave and guest port, followed as guests come and go)'],
        ['--filter BPF', "capture filter (default: broadcast and multicast, and frames from or to the host's and its guests' MACs)"],
        ...CAPTURE_BACKEND_HELP,
        ['--window MS', `match sightings of one frame within MS milliseconds (default ${MONITOR_WINDOW_MS})`],
        ['--config-every S', "re-read the host's configuration every S seconds (default 10)"],
        ['--duration S', 'stop after S seconds (default: run until SIGTERM/SIGINT)'],
        ['--user USER', 'capture workers run as USER once open, when started as root (default nobody)'],
        ['--no-kernel', "do not read /dev/kmsg or the bridges' FDB"],
        ...SSH_HELP,
        ...ROLE_HELP,
        ['-h, --help', 'this text'],
      ],
    },
  ],
};

export const OPTIONS = {
  listen: { type: 'string', default: DEFAULT_LISTEN },
  'quiet-after': { type: 'string' },
  'update-every': { type: 'string' },
  'forget-after': { type: 'string' },
  'evidence-dir': { type: 'string' },
  'evidence-before': { type: 'string' },
  'evidence-after': { type: 'string' },
  'evidence-every': { type: 'string' },
  'evidence-max': { type: 'string' },
  ring: { type: 'string' },
  'ring-seconds': { type: 'string' },
  'config-every': { type: 'string' },
  ...CAPTURE_OPTIONS,
} as const;

function seconds(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (min === 0 && n <= 0)) throw new UsageError(`monitor: --${name} takes a positive number of seconds, not '${v}'`);
  return n;
}

function mib(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!(n >= 1 && n <= 65536)) throw new UsageError(`monitor: --${name} takes MiB between 1 and 65536, not '${v}'`);
  return Math.round(n * 2 ** 20) & ~3;
}

export function parseListen(v: string): { host: string; port: number } | null {
  if (v === 'none') return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new UsageError(`monitor: --listen takes ADDR:PORT ([ADDR]:PORT for IPv6) or none, not '${v}'`);
  return { host: m[1] ?? m[2]!, port };
}

/** Guests' MACs as the kernel's FDB has them on guest ports now (`fdbOf`: this host's, or the ssh host's at discovery). */
function fdbGuests(topology: Topology, fdbOf: (bridge: string) => { mac: number; port: string; isLocal: boolean }[] = readBridgeFdb): number[] {
  const out: number[] = [];
  for (const b of topology.bridges) {
    try {
      for (const e of fdbOf(b.name)) if (!e.isLocal && (topology.ports.get(e.port)?.role ?? roleFromName(e.port).role) === 'guest') out.push(e.mac);
    } catch {
      /* not readable: the filter names the host's MACs only */
    }
  }
  return out;
}

export async function runMonitor(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('monitor', { args: argv, options: OPTIONS });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  const listen = parseListen(values.listen);
  const windowNs = values.window === undefined ? MONITOR_WINDOW_MS * 1e6 : windowOption('monitor', values.window);
  const duration = values.duration === undefined ? null : seconds('duration', values.duration, 0);
  const configEveryMs = seconds('config-every', values['config-every'], 10) * 1000;
  const buffer = bufferBytes(values['buffer-size']);
  const backend = backendOption('monitor', values.backend);
  const emit = (line: string): void => {
    process.stdout.write(line);
  };
  const monitor = new Monitor(
    {
      lifecycle: { quietAfterMs: seconds('quiet-after', values['quiet-after'], DEFAULT_LIFECYCLE.quietAfterMs / 1000) * 1000, updateEveryMs: seconds('update-every', values['update-every'], DEFAULT_LIFECYCLE.updateEveryMs / 1000) * 1000 },
      epochMs: seconds('forget-after', values['forget-after'], DEFAULT_MONITOR.epochMs / 1000) * 1000,
      ring: { bytes: mib('ring', values.ring, DEFAULT_RING.bytes), seconds: seconds('ring-seconds', values['ring-seconds'], DEFAULT_RING.seconds), snap: DEFAULT_RING.snap },
      evidence: values['evidence-dir']
        ? {
            dir: values['evidence-dir'],
            beforeSec: seconds('evidence-before', values['evidence-before'], DEFAULT_EVIDENCE.beforeSec),
            afterMs: seconds('evidence-after', values['evidence-after'], DEFAULT_EVIDENCE.afterMs / 1000) * 1000,
            minIntervalMs: seconds('evidence-every', values['evidence-every'], DEFAULT_EVIDENCE.minIntervalMs / 1000) * 1000,
            maxBytes: mib('evidence-max', values['evidence-max'], DEFAULT_EVIDENCE.maxBytes),
          }
        : null,
      kernel: !values['no-kernel'],
      emit,
    },
    topologyFromFlags(values),
  );

  // --ssh: the host is reached (and discovered) before anything else is opened.
  const remote = await reachHost('monitor', values);
  let snapshot: RemoteSnapshot | null = remote ? remote.snapshot : null;

  // What to capture, from a fresh look at the host: interfaces, and the filter naming its MACs.
  const planFrom = (info: HostInfo): { topology: Topology; interfaces: string[]; filter: string | undefined; note: string | null } => {
    const topology = mergeTopology(info.topology, topologyFromFlags(values));
    const interfaces = values.interface?.length ? [...new Set(values.interface)] : defaultInterfaces(info, topology);
    if (values.filter !== undefined) return { topology, interfaces, filter: values.filter || undefined, note: null };
    const fdbOf = snapshot ? (b: string) => snapshot!.fdb.get(b) ?? [] : undefined;
    const filter = diagnosisFilter([...topology.localMacs, ...info.interfaces.filter((i) => interfaces.includes(i.name) && roleFromName(i.name).role !== 'guest').map((i) => i.mac), ...fdbGuests(topology, fdbOf), ...monitor.knownGuestMacs()]);
    return { topology, interfaces, filter: filter ?? undefined, note: filter === null ? 'too many MACs to name in a capture filter: capturing everything' : null };
  };

  let server: Server | null = null;
  /** Set at shutdown: answers say Connection: close, so keep-alive scrapers let go. */
  let stopping = false;
  if (listen) {
    server = createServer((req, res) => {
      if (stopping) res.setHeader('Connection', 'close');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET' }).end();
        return;
      }
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        monitor.metrics.text().then(
          (text) => res.writeHead(200, { 'Content-Type': monitor.metrics.contentType }).end(req.method === 'HEAD' ? undefined : text),
          (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
        );
      } else if (path === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(`<html><head><title>bondscope monitor</title></head><body><h1>bondscope ${VERSION} monitor</h1><p><a href="/metrics">Metrics</a></p></body></html>\n`);
      } else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics\n');
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (err: NodeJS.ErrnoException) => reject(new UsageError(`monitor: --listen ${values.listen}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EADDRNOTAVAIL' ? 'no such local address' : err.message}`)));
      server!.listen(listen.port, listen.host, () => resolve());
    });
  }

  const open = async (plan: ReturnType<typeof planFrom>): Promise<LiveSession> => {
    const s = new LiveSession({ interfaces: plan.interfaces, filter: plan.filter, bufferSize: buffer, backend, user: values.user, topology: plan.topology, windowNs, kernel: !values['no-kernel'], keepGuestsInbound: values.filter === undefined, ...(remote && snapshot ? { remote: { ...remote, snapshot } } : {}) });
    try {
      await s.start();
      // A session that opens capture and reads frames in two steps (around dropping privileges)
      // reads from here: the monitor keeps its own, to reopen capture when the host changes.
      (s as unknown as { begin?: () => void }).begin?.();
    } catch (err) {
      s.stop();
      if (err instanceof LiveCaptureError) throw new UsageError(`monitor: ${err.message}`);
      throw err;
    }
    return s;
  };

  let info = snapshot ? snapshot.info : discoverHost('/');
  let plan = planFrom(info);
  const known = info.interfaces.map((i) => i.name);
  for (const name of plan.interfaces) if (name !== 'any' && !known.includes(name)) throw new UsageError(`monitor: no interface '${name}' on ${remote ? remote.ssh.target : 'this host'} (there are: ${known.join(', ') || 'none'})`);
  if (plan.interfaces.length === 0) throw new UsageError(`monitor: found no bridge, bond, slave or guest port to capture on (interfaces: ${known.join(', ')}); name them with -i`);
  let session: LiveSession;
  try {
    session = await open(plan);
  } catch (err) {
    server?.close();
    remote?.ssh.close();
    throw err;
  }
  monitor.attach(session, plan.topology);
  const started = (why: 'started' | 'capture-restarted'): void =>
    emit(safeJson({ event: why, time: new Date().toISOString(), version: VERSION, interfaces: plan.interfaces, filter: plan.filter ?? null, listen: listen ? values.listen : null, evidenceDir: values['evidence-dir'] ?? null, note: plan.note }) + '\n');
  started('started');
  monitor.checkConfiguration(info, plan.topology);
  process.stderr.write(`bondscope: monitoring ${plan.interfaces.map(safeText).join(', ')}${listen ? `; metrics on http://${safeText(values.listen)}/metrics` : ''} (SIGTERM or Ctrl-C to stop)\n`);

  let lastRestart = performance.now();
  let restarting = false;
  let ended = false;
  const watchEnd = (s: LiveSession): void => {
    ended = false;
    void s.ended.then(() => {
      if (s === session) ended = true;
    });
  };
  watchEnd(session);
  const said = (obj: Record<string, unknown>): void => emit(safeJson({ time: new Date().toISOString(), ...obj }) + '\n');
  // The ring follows new ports of the captured bridges by itself (a guest started) and can swap
  // its filter while capturing: the host's changes need no restart then, and no fresh engine.
  const followed = (next: ReturnType<typeof planFrom>, name: string): boolean =>
    [next.topology, plan.topology].some((t) => {
      const port = t.ports.get(name);
      const bridge = port?.bridge ?? t.bridges.find((b) => b.ports.some((x) => x.name === name))?.name;
      return (port?.role ?? roleFromName(name).role) === 'guest' && bridge !== undefined && plan.interfaces.includes(bridge);
    });
  const refilter = (next: ReturnType<typeof planFrom>): boolean => {
    if (next.filter === plan.filter) return true;
    try {
      if (!session.setFilter(next.filter)) return false;
    } catch (err) {
      said({ event: 'message', message: `capture filter not replaced: ${(err as Error).message}` });
      return false;
    }
    plan = { ...plan, filter: next.filter, note: next.note };
    said({ event: 'capture-filter', filter: next.filter ?? null, note: next.note });
    return true;
  };
  const recheck = async (): Promise<void> => {
    if (restarting) return;
    restarting = true;
    try {
      // Over ssh, a round trip: while the link is down it fails, and is tried again next time.
      if (remote) snapshot = await rediscover(remote);
      info = snapshot ? snapshot.info : discoverHost('/');
    } catch (err) {
      emit(safeJson({ event: 'message', time: new Date().toISOString(), message: `the host could not be read again: ${(err as Error).message}` }) + '\n');
      restarting = false;
      return;
    }
    restarting = false;
    const next = planFrom(info);
    monitor.checkConfiguration(info, next.topology);
    const added = next.interfaces.filter((i) => !plan.interfaces.includes(i));
    const gone = plan.interfaces.filter((i) => !next.interfaces.includes(i));
    // Guests' ports coming and going under a captured bridge, and a filter the ring can swap:
    // followed in place (not over ssh, whose capture follows nothing by itself; nor a capture
    // that ended by itself — the ssh link dropped — which is opened again as soon as the host answers).
    if (!ended && !remote && [...added, ...gone].every((i) => followed(next, i)) && refilter(next)) {
      plan = { ...plan, topology: next.topology, interfaces: next.interfaces };
      return;
    }
    const same = next.filter === plan.filter && next.interfaces.join('\n') === plan.interfaces.join('\n');
    // Otherwise capture restarts on the new plan, at most once a minute.
    if (!ended && (same || performance.now() - lastRestart < 60_000)) return;
    restarting = true;
    try {
      const fresh = await open(next);
      session.stop();
      session = fresh;
      plan = next;
      lastRestart = performance.now();
      monitor.metrics.captureRestarts.inc();
      monitor.attach(session, plan.topology);
      watchEnd(session);
      started('capture-restarted');
    } catch (err) {
      said({ event: 'message', message: `capture could not follow the host's change: ${(err as Error).message}` });
      lastRestart = performance.now();
    } finally {
      restarting = false;
    }
  };
  // Guests the engine or the FDB found since: named in the filter within seconds, where it can be swapped.
  const followGuests = (): void => {
    if (!restarting && values.filter === undefined) refilter(planFrom(info));
  };

  await runUntilStopped(duration, [
    [() => monitor.poll(), 500],
    [() => monitor.slowPoll(), 2000],
    [() => followGuests(), 2000],
    [() => void monitor.flushEvidence(), 1000],
    [() => void recheck(), configEveryMs],
  ]);

  monitor.stop();
  session.stop();
  remote?.ssh.close();
  await monitor.flushEvidence(true);
  emit(safeJson({ event: 'stopped', time: new Date().toISOString() }) + '\n');
  if (server) await closeGracefully(server, () => (stopping = true));
  return EXIT_OK;
}

/** A scrape that connected before the end is answered in full; later ones are refused. */
const CLOSE_GRACE_MS = 1000;

/**
 * Stops listening, lets every connection already made get its answer (http.Server.close would
 * drop those whose request has not arrived yet: a scrape that connected a moment before the end
 * got no answer at all), then ends the idle keep-alive ones after CLOSE_GRACE_MS.
 */
function closeGracefully(server: Server, stopping: () => void): Promise<void> {
  stopping();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    NetServer.prototype.close.call(server, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
