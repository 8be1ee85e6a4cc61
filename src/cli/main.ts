import { existsSync } from 'node:fs';
import { CaptureError } from '../model/record.js';
import { safeText } from '../report/escape.js';
import { EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { OutputClosed } from './output.js';

/** A subcommand: takes its own arguments, returns the exit code. */
type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  // One entry per subcommand, each in its own module.
  analyze: {
    summary: 'find bridge loops, own-address frames and wrong-port learning, with evidence',
    load: async () => (await import('./analyze.js')).runAnalyze,
  },
  check: {
    summary: "from the host's configuration alone: is its bonded bridge set up to loop",
    load: async () => (await import('./check.js')).runCheck,
  },
  live: {
    summary: 'capture on the host (root): every slave, bond, bridge and guest port at once',
    load: async () => (await import('./live.js')).runLive,
  },
  monitor: {
    summary: 'watch the host for good: metrics for Prometheus, findings as JSON lines, evidence kept (root)',
    load: async () => (await import('./monitor.js')).runMonitor,
  },
  probe: {
    summary: 'send a marked broadcast out of each slave and see whether it loops back (root)',
    load: async () => (await import('./probe.js')).runProbe,
  },
  frames: {
    summary: 'print one line (or one JSON object) per frame',
    load: async () => (await import('./frames.js')).runFrames,
  },
  export: {
    summary: 'write an evidence bundle (trimmed pcapng with comments, report.md, findings.json)',
    load: async () => (await import('./export.js')).runExport,
  },
};

function usage(): string {
  const lines = ['usage: bondscope <command> [options] FILE...', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'the full-screen view (on a terminal):');
  lines.push('  bondscope [options] FILE...      capture files (--replay [SPEED] plays them back in time)');
  lines.push('  bondscope [-i IF]... [options]   no file: this host, live (root)');
  lines.push('', 'Run `bondscope <command> --help` for the options of one command.');
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `bondscope` alone on a terminal: the live view of this host.
  if (name === undefined && process.stdout.isTTY && process.stdin.isTTY) return (await import('./ui.js')).runUiCommand([]);
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-V') {
    const { VERSION } = await import('../model/version.js');
    process.stdout.write(`bondscope ${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  // `bondscope FILE...` (and its options): the full-screen view, or the plain report off a terminal.
  if (!command && (name.startsWith('-') || existsSync(name))) return (await import('./ui.js')).runUiCommand(argv);
  if (!command) throw new UsageError(`unknown command '${name}' (try --help)`);
  return (await command.load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof OutputClosed) {
      // The reader of our output went away (`| head`): nothing more to say.
      process.exitCode = EXIT_OK;
      return;
    }
    if (err instanceof UsageError || err instanceof CaptureError || (err instanceof Error && err.name === 'PrivilegeError')) {
      process.stderr.write(`bondscope: ${safeText(err.message)}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    // A bug, not bad input: keep the stack, it is what a bug report needs.
    process.stderr.write(`bondscope: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
