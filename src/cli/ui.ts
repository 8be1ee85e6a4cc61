/**
 * `bondscope [options] FILE...`: the full-screen UI on a terminal. Off a terminal (a pipe, a file,
 * CI) the same invocation prints analyze's plain report instead, with the same role flags.
 */
import { accessSync, constants as fsConstants, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { parseInputSpec } from '../capture/index.js';
import { DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { safeText } from '../report/escape.js';
import { EXIT_DAMAGED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { parseCommandArgs, windowOption } from './args.js';
import { CAPTURE_BACKEND_HELP, LIVE_OPTIONS, type LiveValues } from './live.js';
import { ROLE_HELP, ROLE_OPTIONS, topologyFromFlags } from './roles.js';
import { helpText, type CommandHelp } from './help.js';
import { SSH_HELP, SSH_OPTIONS } from './ssh.js';

export const HELP: CommandHelp = {
  name: '',
  synopsis: ['[options] FILE...', '[live options]', '--ssh [USER@]HOST [live options]'],
  description: [
    'The full-screen view: of capture files, of this host live (root), or of a host reached over ssh. FILE is a pcap or pcapng file, NAME=FILE to name a pcap\'s interface, or - for stdin. When standard output is not a terminal, or the capture comes on stdin, prints the report of `bondscope analyze` instead. With no FILE, captures live as `bondscope live` does.',
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['--replay [SPEED]', 'play the files back in capture time, SPEED times as fast (default 1)'],
        ['--window MS', 'match sightings of one frame within MS milliseconds (default 2000)'],
      ],
    },
    {
      title: 'live options',
      options: [
        ['-i, --interface IF', 'capture on IF (repeatable; default: every bridge, bond, slave, guest port)'],
        ['--filter BPF', 'a libpcap filter applied on every interface'],
        ...CAPTURE_BACKEND_HELP,
        ['-w, --write FILE', 'record every frame (pcapng, 0600); `e` exports evidence from it'],
        ['--user USER', 'drop to USER once capture is open (default nobody)'],
        ['--no-kernel', "do not read /dev/kmsg or the bridges' FDB"],
        ...SSH_HELP,
        ...ROLE_HELP,
        ['-h, --help', 'this text'],
      ],
    },
  ],
  after: ['Keys: press ? in the view.'],
};

/** The view's options (--replay [SPEED] is taken out before: its value is optional). */
export const OPTIONS = {
  window: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  ...ROLE_OPTIONS,
  interface: LIVE_OPTIONS.interface,
  filter: LIVE_OPTIONS.filter,
  'buffer-size': LIVE_OPTIONS['buffer-size'],
  backend: LIVE_OPTIONS.backend,
  write: LIVE_OPTIONS.write,
  user: LIVE_OPTIONS.user,
  'no-kernel': LIVE_OPTIONS['no-kernel'],
  ...SSH_OPTIONS,
} as const;

export interface UiArgs {
  /** What is left for parseArgs: files and the options analyze shares. */
  rest: string[];
  replaySpeed: number | null;
}

/**
 * Takes `--replay [SPEED]` out of the arguments: its value is optional, which parseArgs cannot
 * express. The next word is the speed when it is a number (`--replay 4 f.pcap`, `--replay=0.5`).
 */
export function takeReplay(argv: string[]): UiArgs {
  const rest: string[] = [];
  let replaySpeed: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a !== '--replay' && !a.startsWith('--replay=')) {
      rest.push(a);
      continue;
    }
    let value = a.startsWith('--replay=') ? a.slice('--replay='.length) : undefined;
    if (value === undefined && /^\d+(\.\d+)?$/.test(argv[i + 1] ?? '')) value = argv[++i];
    const speed = value === undefined ? 1 : Number(value);
    if (!(speed > 0) || !Number.isFinite(speed)) throw new UsageError(`--replay takes a speed above 0, not '${value}'`);
    replaySpeed = speed;
  }
  return { rest, replaySpeed };
}

export async function runUiCommand(argv: string[]): Promise<number> {
  const { rest, replaySpeed } = takeReplay(argv);
  const { values, positionals } = parseCommandArgs('', {
    args: rest,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  if (positionals.length === 0) {
    if (!process.stdout.isTTY || !process.stdin.isTTY) throw new UsageError('no capture file given; on a terminal, bondscope with no file opens the live view (try --help)');
    return runLiveUi(values, replaySpeed);
  }
  const liveOnly = (['interface', 'filter', 'write', 'buffer-size', 'ssh'] as const).find((k) => values[k] !== undefined);
  if (liveOnly) throw new UsageError(`--${liveOnly} is for the live view; capture files are given without it`);
  // The view needs the terminal for keys, and reads its files between keys: a capture on stdin
  // (a pipe, or the terminal itself) would block it. Those, and output that is not a terminal,
  // get the plain report of the same files, flags and all.
  const stdinCapture = positionals.some((p) => parseInputSpec(p).path === '-');
  if (!process.stdout.isTTY || !process.stdin.isTTY || stdinCapture) {
    const { runAnalyze } = await import('./analyze.js');
    return runAnalyze(rest);
  }
  const windowNs = windowOption('', values.window);
  // Checked once here, so a bad flag is a usage error before the screen changes.
  topologyFromFlags(values);

  prepareViewEnv();
  const { fileSession } = await import('../tui/session.js');
  const { runUi } = await import('../tui/run.js');
  const pipeline = fileSession({
    specs: positionals,
    replaySpeed,
    topology: () => topologyFromFlags(values),
    options: { ...DEFAULT_OPTIONS, windowNs },
  });
  if (pipeline.set.sources.length === 0) {
    // Nothing could be opened: say why without ever showing the screen.
    for (const e of pipeline.set.errors) process.stderr.write(`bondscope: ${safeText(e.message)}\n`);
    return EXIT_USAGE;
  }
  // `e`: an evidence bundle of the files, in the current directory. The files are read again for
  // the frames; once they have all been read, the view's own engine gives the findings.
  pipeline.exportEvidence = async () => {
    const { exportEvidence } = await import('../export/evidence.js');
    const dir = `bondscope-evidence-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const r = await exportEvidence({
      specs: positionals,
      outDir: dir,
      topology: () => topologyFromFlags(values),
      analyzerOptions: { ...DEFAULT_OPTIONS, windowNs },
      analyzer: pipeline.finished ? pipeline.analysis.analyzer : undefined,
    });
    return `evidence written to ${dir}/ (${r.frames} frames, ${r.commented} with comments)`;
  };
  await runUi({ store: pipeline.store, controls: pipeline, start: () => pipeline.start(), stop: () => pipeline.stop() });
  // Back on the user's screen: what went wrong with the inputs stays visible there.
  for (const e of pipeline.set.errors) process.stderr.write(`bondscope: ${safeText(e.message)}\n`);
  return pipeline.set.errors.some((e) => e.unreadable) ? EXIT_USAGE : pipeline.set.errors.length ? EXIT_DAMAGED : EXIT_OK;
}

/**
 * Set before Ink and React are first imported. React's development build records a performance
 * trace of every render (several times the production build's CPU). Ink draws only the last frame
 * when it believes it runs under CI (CI or CONTINUOUS_INTEGRATION set and not 0/false): on the
 * terminal the view runs on, that is a blank screen until quit.
 */
function prepareViewEnv(): void {
  process.env.NODE_ENV ??= 'production';
  if (process.env.CI !== undefined) process.env.CI = '0';
  if (process.env.CONTINUOUS_INTEGRATION !== undefined) process.env.CONTINUOUS_INTEGRATION = '0';
}

/** The live view: capture opened as root, privileges dropped, then the screen. */
async function runLiveUi(
  values: LiveValues & { window?: string },
  replaySpeed: number | null,
): Promise<number> {
  if (replaySpeed !== null) throw new UsageError('--replay plays capture files back; give the files');
  const windowNs = windowOption('', values.window);
  const { openLiveSession } = await import('./live.js');
  const { dropPrivileges } = await import('../capture/host/privileges.js');
  const { plan, session, remote } = await openLiveSession(values, windowNs);
  // Exports go beside the recording, into a directory made now (as root) and given to the user.
  const exportRoot = values.write ? `${values.write.replace(/\.pcapng$/, '')}-evidence` : null;
  // After the drop the recording and that directory may sit under a directory the user cannot
  // enter (/root): descriptors opened now reach them through /proc/self/fd without the path.
  let recordingFd = -1;
  let exportFd = -1;
  if (values.write && exportRoot) {
    try {
      mkdirSync(exportRoot, { recursive: true, mode: 0o700 });
      recordingFd = openSync(values.write, 'r');
      exportFd = openSync(exportRoot, 'r');
    } catch (err) {
      session.stop();
      throw new UsageError(`live: ${(err as Error).message}`);
    }
  }
  dropPrivileges(values.user, [values.write, exportRoot, ...(remote?.ssh.ownedPaths() ?? [])].filter((p): p is string => Boolean(p)));
  session.begin();
  const reachable = (path: string, fd: number): string => {
    try {
      accessSync(path, fsConstants.R_OK | fsConstants.X_OK * Number(fd === exportFd));
      return path;
    } catch {
      return `/proc/self/fd/${fd}`;
    }
  };

  prepareViewEnv();
  const { LivePipeline } = await import('../tui/live-pipeline.js');
  const { runUi } = await import('../tui/run.js');
  const pipeline = new LivePipeline(session, {
    title: `${remote ? `${remote.ssh.target}: ` : ''}${plan.interfaces.join(', ')}`,
    exportEvidence:
      values.write && exportRoot
        ? async () => {
            const { exportEvidence } = await import('../export/evidence.js');
            session.flush();
            const stamp = new Date().toISOString().replace(/[:.]/g, '-');
            const dir = join(exportRoot, stamp);
            const r = await exportEvidence({
              specs: [reachable(values.write!, recordingFd)],
              outDir: join(reachable(exportRoot, exportFd), stamp),
              topology: () => plan.topology,
              analyzerOptions: { ...DEFAULT_OPTIONS, windowNs },
            });
            return `evidence written to ${dir} (${r.frames} frames)`;
          }
        : async () => 'export needs a recording: start the live view with --write FILE (live frames are kept nowhere else)',
  });
  await runUi({ store: pipeline.store, controls: pipeline, start: () => pipeline.start(), stop: () => pipeline.stop() });
  for (const m of session.messages) process.stderr.write(`bondscope: ${safeText(m)}\n`);
  if (values.write) process.stderr.write(`bondscope: ${session.capture.framesCaptured} frames written to ${safeText(values.write)}\n`);
  remote?.ssh.close();
  return EXIT_OK;
}
