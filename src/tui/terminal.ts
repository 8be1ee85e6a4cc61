/**
 * The terminal around the UI: the alternate screen and a hidden cursor while it runs, and the
 * user's screen, cursor and cooked mode back on every way out — quit, Ctrl-C (raw mode turns it
 * into a key; SIGINT from `kill` too), SIGTERM/SIGHUP, an exception anywhere, a plain exit().
 * Restoring is idempotent, and uses only synchronous writes so it works inside 'exit'.
 */
import { writeSync } from 'node:fs';

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const CURSOR_HIDE = '\x1b[?25l';
const CURSOR_SHOW = '\x1b[?25h';
/** Attributes off, so no colour leaks into the shell. */
const RESET = '\x1b[0m';

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

export class TerminalGuard {
  private active = false;
  private readonly onExit = (): void => this.restore();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.restore();
    process.exit(128 + (SIGNALS[signal] ?? 1));
  };
  private readonly onCrash = (err: unknown): void => {
    this.restore();
    process.stderr.write(`bondscope: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  };

  constructor(
    private readonly fd = 1,
    private readonly stdin: NodeJS.ReadStream = process.stdin,
  ) {}

  /** Switches to the alternate screen and installs the handlers that switch back. */
  enter(): void {
    if (this.active) return;
    this.active = true;
    this.write(ALT_SCREEN_ON + CURSOR_HIDE + '\x1b[H\x1b[2J');
    process.on('exit', this.onExit);
    for (const s of Object.keys(SIGNALS)) process.on(s, this.onSignal);
    process.on('uncaughtException', this.onCrash);
    process.on('unhandledRejection', this.onCrash);
  }

  /** Back to the user's screen, cursor shown, cooked mode; handlers removed. Safe to call twice. */
  restore(): void {
    if (!this.active) return;
    this.active = false;
    try {
      if (this.stdin.isTTY && this.stdin.isRaw) this.stdin.setRawMode(false);
    } catch {
      // stdin already closed: nothing to restore there.
    }
    this.write(RESET + CURSOR_SHOW + ALT_SCREEN_OFF);
    process.off('exit', this.onExit);
    for (const s of Object.keys(SIGNALS)) process.off(s, this.onSignal);
    process.off('uncaughtException', this.onCrash);
    process.off('unhandledRejection', this.onCrash);
  }

  private write(s: string): void {
    try {
      writeSync(this.fd, s);
    } catch {
      // The terminal went away (hang-up): there is no screen left to restore.
    }
  }
}
