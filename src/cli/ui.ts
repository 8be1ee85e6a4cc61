/**
 * `bondscope [options] FILE...`: the full-screen UI on a terminal. Off a terminal (a pipe, a file,
 * CI) the same invocation prints analyze's plain report instead, with the same role flags.
 */
import { parseArgs } from 'node:util';
import { parseInputSpec } from '../capture/index.js';
import { DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { safeText } from '../report/escape.js';
import { EXIT_DAMAGED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { ROLE_OPTIONS, ROLE_USAGE, topologyFromFlags } from './roles.js';

const USAGE = `usage: bondscope [options] FILE...    full-screen view of capture files

FILE is a pcap or pcapng file, NAME=FILE to name a pcap's interface, or - for stdin.
When standard output is not a terminal, or the capture comes on stdin, prints the report of
\`bondscope analyze\` instead.

options:
  --replay [SPEED]           play the files back in capture time, SPEED times as fast (default 1)
  --window MS                match sightings of one frame within MS milliseconds (default 2000)
${ROLE_USAGE}
  -h, --help                 this text
Keys: press ? in the view.
`;

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
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { window: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false }, ...ROLE_OPTIONS },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('no capture file given (try --help)');
  // The view needs the terminal for keys, and reads its files between keys: a capture on stdin
  // (a pipe, or the terminal itself) would block it. Those, and output that is not a terminal,
  // get the plain report of the same files, flags and all.
  const stdinCapture = positionals.some((p) => parseInputSpec(p).path === '-');
  if (!process.stdout.isTTY || !process.stdin.isTTY || stdinCapture) {
    const { runAnalyze } = await import('./analyze.js');
    return runAnalyze(rest);
  }
  const windowMs = values.window === undefined ? DEFAULT_OPTIONS.windowNs / 1e6 : Number(values.window);
  if (!(windowMs > 0)) throw new UsageError(`--window takes a positive number of milliseconds, not '${values.window}'`);
  // Checked once here, so a bad flag is a usage error before the screen changes.
  topologyFromFlags(values);

  // React's development build records a performance trace of every render: several times the
  // CPU of the production build. Set before React is first imported.
  process.env.NODE_ENV ??= 'production';
  const { fileSession } = await import('../tui/session.js');
  const { runUi } = await import('../tui/run.js');
  const pipeline = fileSession({
    specs: positionals,
    replaySpeed,
    topology: () => topologyFromFlags(values),
    options: { ...DEFAULT_OPTIONS, windowNs: windowMs * 1e6 },
  });
  if (pipeline.set.sources.length === 0) {
    // Nothing could be opened: say why without ever showing the screen.
    for (const e of pipeline.set.errors) process.stderr.write(`bondscope: ${safeText(e.message)}\n`);
    return EXIT_USAGE;
  }
  await runUi({ store: pipeline.store, controls: pipeline, start: () => pipeline.start(), stop: () => pipeline.stop() });
  // Back on the user's screen: what went wrong with the inputs stays visible there.
  for (const e of pipeline.set.errors) process.stderr.write(`bondscope: ${safeText(e.message)}\n`);
  return pipeline.set.errors.some((e) => e.unreadable) ? EXIT_USAGE : pipeline.set.errors.length ? EXIT_DAMAGED : EXIT_OK;
}
