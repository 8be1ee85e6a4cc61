import { existsSync } from 'node:fs';
import { CaptureError } from '../model/record.js';
import { safeText } from '../report/escape.js';
import { EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { OutputClosed } from './output.js';
import { COMMANDS } from './commands.js';

/** The commands, then the view's own usage (the view is `bondscope` itself), from the same data as the manual. */
async function usage(): Promise<string> {
  const { HELP } = await import('./ui.js');
  const { helpText } = await import('./help.js');
  const lines = ['usage: bondscope <command> [options] FILE...', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `bondscope <command> --help` for the options of one command, `man bondscope` for everything.', '');
  return lines.join('\n') + '\n' + helpText(HELP);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `bondscope` alone on a terminal: the live view of this host.
  if (name === undefined && process.stdout.isTTY && process.stdin.isTTY) return (await import('./ui.js')).runUiCommand([]);
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(await usage());
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
