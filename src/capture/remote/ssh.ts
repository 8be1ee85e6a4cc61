/**
 * The system's own `ssh` client, as the user has it set up: their ~/.ssh/config (or `--ssh-config`,
 * ssh's -F), agent, keys, known_hosts and ControlMaster. bondscope never handles a password and
 * never puts one on a command line: ssh asks for passwords, passphrases and new host keys itself,
 * on the terminal (/dev/tty), before anything is shown. Without a terminal (a service, a pipe from
 * cron) it runs with BatchMode=yes, and a refusal says so.
 *
 * Only what the user's configuration leaves unset is set: a connect timeout, keep-alives (a dropped
 * link is noticed within ServerAliveInterval × ServerAliveCountMax), and, where no ControlMaster is
 * configured, a master of bondscope's own for the session — its socket in a private 0700
 * directory, ControlPersist 10 s (it ends by itself 10 s after its last channel, also when bondscope
 * has changed user and cannot ask it to), closed at the end — so that the user authenticates once for the
 * discovery and every capture channel. sshd allows 10 sessions per connection by default
 * (MaxSessions): channels past the first SESSIONS_PER_MASTER go as connections of their own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REMOTE_SHELL } from './scripts.js';

/** A one-line fault reaching the host, in words that say what to do. */
export class RemoteError extends Error {
  override name = 'RemoteError';
}

export interface SshOptions {
  /** [USER@]HOST (or a Host alias of the ssh configuration). */
  target: string;
  /** ssh -F FILE, instead of ~/.ssh/config. */
  config?: string | null;
}

/** Sessions over one master before the next goes as a connection of its own (sshd's MaxSessions is 10). */
const SESSIONS_PER_MASTER = 8;

/** Whether ssh can ask the user anything: a controlling terminal it can open. */
export function hasTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/** `ssh -G`'s effective configuration for the target (lower-case keys). */
export function effectiveConfig(o: SshOptions): Map<string, string> {
  const r = spawnSync('ssh', [...(o.config ? ['-F', o.config] : []), '-G', '--', o.target], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new RemoteError(`--ssh ${o.target}: cannot run ssh (${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed: apt-get install openssh-client' : r.error.message})`);
  if (r.status !== 0) throw new RemoteError(`--ssh ${o.target}: ${lastLine(r.stderr) || `ssh -G exited ${r.status}`}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && !out.has(line.slice(0, sp))) out.set(line.slice(0, sp), line.slice(sp + 1).trim());
  }
  return out;
}

/** Lines a session's stderr carries that are not ssh's: notices of sshd and the capture tools' own. */
const NOT_SSH = /^(Warning: Permanently added|Could not chdir to home directory|File: |Capturing on|Packets |listening on|tcpdump: |dumpcap: |\d+ packets)/;

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !NOT_SSH.test(l));
  return lines[lines.length - 1] ?? '';
}

/** What went wrong, from ssh's exit status 255 and its own messages. */
export function sshFault(target: string, stderr: string, batch: boolean): string {
  const said = lastLine(stderr.split('\n').filter((l) => !l.startsWith('@@')).join('\n'));
  const ssh = said.startsWith('ssh:') ? said : `ssh: ${said}`;
  if (/Could not resolve hostname/i.test(stderr)) return `--ssh ${target}: no such host (${ssh})`;
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .*host key is known/i.test(stderr)) {
    return `--ssh ${target}: the host's key is not known or has changed (${ssh}): check it and add it to known_hosts (ssh ${target} once, on a terminal)`;
  }
  if (/Permission denied|Too many authentication failures|no more authentication methods/i.test(stderr)) {
    return `--ssh ${target}: authentication refused (${ssh})${batch ? '; no terminal, so ssh ran with BatchMode=yes and could not ask for a password or passphrase: use a key in ssh-agent or ~/.ssh' : ''}`;
  }
  if (/connect to host|Connection refused|No route to host|Network is unreachable|Connection timed out|Operation timed out|Name or service not known/i.test(stderr)) {
    return `--ssh ${target}: cannot reach the host (${ssh})`;
  }
  if (/Timeout, server .* not responding|Connection reset|Broken pipe|Connection closed|client_loop|Connection to .* closed/i.test(stderr)) {
    return `--ssh ${target}: the link to the host dropped (${ssh})`;
  }
  return `--ssh ${target}: ssh failed (${said || 'exit 255, nothing said'})`;
}

/**
 * Why a session that was capturing ended with ssh's exit status 255: the link's words when ssh
 * (or bondscope's master, in its log) said any, else that the link dropped without a word.
 */
export function sessionLost(target: string, stderr: string, masterSaid: string, batch: boolean): string {
  const why = sshFault(target, `${stderr}\n${masterSaid}`, batch).replace(/^--ssh \S+: /, '');
  return why.startsWith('ssh failed') ? `the link to the host dropped (ssh ended the session with exit 255${lastLine(stderr + '\n' + masterSaid) ? `: ${lastLine(stderr + '\n' + masterSaid)}` : ''})` : why;
}

export class SshTarget {
  readonly target: string;
  /** BatchMode=yes: no terminal to ask on. */
  readonly batch: boolean;
  /** Options bondscope adds (what the user's configuration leaves unset). */
  private readonly extra: string[] = [];
  private readonly base: string[];
  /** The private master's directory (socket, its messages), when bondscope opened one. */
  private dir: string | null = null;
  private sessions = 0;
  private closed = false;
  /** The effective user and host port ssh uses (ssh -G). */
  readonly user: string;
  readonly port: number;

  constructor(o: SshOptions) {
    this.target = o.target;
    if (!/^[A-Za-z0-9_.@:%[\]-]+$/.test(o.target) || o.target.startsWith('-')) throw new RemoteError(`--ssh takes [USER@]HOST, not '${o.target}'`);
    const cfg = effectiveConfig(o);
    this.user = cfg.get('user') ?? '';
    this.port = Number(cfg.get('port') ?? 22);
    this.batch = cfg.get('batchmode') === 'yes' || !hasTerminal();
    if (this.batch && cfg.get('batchmode') !== 'yes') this.extra.push('-o', 'BatchMode=yes');
    if ((cfg.get('connecttimeout') ?? 'none') === 'none') this.extra.push('-o', 'ConnectTimeout=10');
    if (Number(cfg.get('serveraliveinterval') ?? 0) === 0) this.extra.push('-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3');
    this.base = [...(o.config ? ['-F', o.config] : []), ...this.extra];
    const master = cfg.get('controlmaster') ?? 'false';
    if (master === 'false' || master === 'no') this.dir = mkdtempSync(join(tmpdir(), 'bondscope-ssh-'));
  }

  /**
   * Authenticates once: starts bondscope's master where the user has none (ssh asks for what it
   * needs on the terminal, before anything is drawn). Faults are one RemoteError line.
   */
  async connect(): Promise<void> {
    if (!this.dir) return;
    const log = join(this.dir, 'master.log');
    const fd = openSync(log, 'w', 0o600);
    // -f: into the background once authenticated; its messages go to a file, not a pipe it would keep open.
    const p = spawn('ssh', [...this.base, '-o', 'ControlMaster=yes', '-o', `ControlPath=${join(this.dir, 'cm')}`, '-o', 'ControlPersist=10', '-N', '-f', '--', this.target], { stdio: ['ignore', 'ignore', fd] });
    const code = await new Promise<number | null>((resolve) => {
      p.once('error', () => resolve(-1));
      p.once('exit', (c) => resolve(c));
    });
    closeSync(fd);
    if (code !== 0) {
      const said = readFileSync(log, 'utf8');
      this.close();
      throw new RemoteError(code === -1 ? `--ssh ${this.target}: cannot run ssh` : sshFault(this.target, said, this.batch));
    }
  }

  /** ssh's arguments for one more session: over the master while it has room, else a connection of its own. */
  private args(): string[] {
    const a = [...this.base];
    if (this.dir) {
      if (this.sessions < SESSIONS_PER_MASTER) a.push('-o', `ControlPath=${join(this.dir, 'cm')}`, '-o', 'ControlMaster=no');
      else a.push('-o', 'ControlPath=none');
    }
    this.sessions++;
    return [...a, '--', this.target, REMOTE_SHELL];
  }

  /** A session running `script` with `/bin/sh -s`; its stdin stays open (closing it ends the script). */
  session(script: string): ChildProcess {
    const p = spawn('ssh', this.args(), { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdin!.on('error', () => undefined); // the session may be gone before the script is written
    p.stdin!.write(script);
    return p;
  }

  /** A session's whole output, once `script` has run to its end. */
  async run(script: string): Promise<{ stdout: Buffer; stderr: string; code: number | null; firstByteAt: number }> {
    const p = this.session(script);
    p.stdin!.end();
    const out: Buffer[] = [];
    let err = '';
    let firstByteAt = 0;
    p.stdout!.on('data', (d: Buffer) => {
      if (!firstByteAt) firstByteAt = Date.now();
      out.push(d);
    });
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((resolve) => {
      p.once('error', () => resolve(-1));
      p.once('close', (c) => resolve(c));
    });
    return { stdout: Buffer.concat(out), stderr: err, code, firstByteAt: firstByteAt || Date.now() };
  }

  /** What bondscope's master said (why it ended: the link's timeout), empty where there is none. */
  masterSaid(): string {
    if (!this.dir) return '';
    try {
      return readFileSync(join(this.dir, 'master.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** What a process that gives up root must own to tidy up after the master (its directory). */
  ownedPaths(): string[] {
    return this.dir ? [this.dir] : [];
  }

  /** Ends bondscope's master (the user's own is theirs) and removes its directory. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.dir) return;
    spawnSync('ssh', [...this.base, '-o', `ControlPath=${join(this.dir, 'cm')}`, '-O', 'exit', '--', this.target], { stdio: 'ignore', timeout: 5000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
