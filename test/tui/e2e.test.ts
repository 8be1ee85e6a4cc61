/**
 * The UI in a real terminal: tmux runs `bondscope <loop recording>` in an 80×24 pane, keys go in
 * with send-keys, and capture-pane shows what a user sees — before, during and after.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';

const HAS_TMUX = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
const LOOP = resolve(PROJECT_ROOT, 'captures/loop/loop.pcapng');
const LACP = resolve(PROJECT_ROOT, 'captures/lacp/lacp.pcapng');
const HAVE = existsSync(LOOP) && existsSync(LACP);
const SOCKET = `bondscope-e2e-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

/** The pane as text (`-e`: with colour escapes). */
function screen(session: string, escapes = false): string {
  return tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session);
}

function paneFlags(session: string): { alternate: boolean; cursor: boolean } {
  const [alt, cur] = tmux('display-message', '-p', '-t', session, '#{alternate_on} #{cursor_flag}').trim().split(' ');
  return { alternate: alt === '1', cursor: cur === '1' };
}

/** Waits (event-driven through tmux polling, no fixed sleeps) until the screen satisfies `ok`. */
async function until(session: string, ok: (text: string) => boolean, what: string, escapes = false): Promise<string> {
  const deadline = Date.now() + 20_000;
  let text = '';
  while (Date.now() < deadline) {
    text = screen(session, escapes);
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`screen never showed ${what}; last screen:\n${text}`);
}

let n = 0;
/** A shell in an 80×24 pane with a marker on its screen, then the command. */
async function start(command: string, env: Record<string, string> = {}): Promise<string> {
  const session = `s${++n}`;
  tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', '-c', PROJECT_ROOT, 'env', '-i', `PATH=${process.env.PATH}`, 'TERM=xterm-256color', 'HOME=/tmp', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'bash', '--norc', '--noprofile');
  tmux('send-keys', '-t', session, `PS1='$ '; clear; echo MARKER-BEFORE-UI; ${command}; echo EXIT=$?`, 'Enter');
  return session;
}

const reason = !HAS_TMUX ? '[needs tmux]' : !HAVE ? '[needs the lab recordings in captures/]' : '';

describe.skipIf(reason !== '')(`bondscope in a real terminal ${reason}`, () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', '.'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  }, 120_000);
  afterAll(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  });

  it('browses the loop recording: the guest learned on the bond is red and marked, keys move around, q leaves the screen as it was', async () => {
    const s = await start(`node bin/bondscope ${LOOP}`);
    // The whole finished frame: tmux can read the pane while Ink is half way through redrawing it
    // (under load the status line and the first rows were seen before the panes' titles).
    const first = await until(s, (t) => t.includes('end of file') && t.includes('00:16:3e:00:00:01') && /Findings/.test(t) && /Timeline/.test(t), 'the finished analysis');
    expect(paneFlags(s)).toEqual({ alternate: true, cursor: false });
    const lines = first.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(23);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(first).toMatch(/bondscope browse .*loop\.pcapng/);
    expect(first).toMatch(/MAC table/);
    expect(first).toMatch(/Findings/);
    expect(first).toMatch(/Timeline/);
    expect(first).toMatch(/looped\/s/);
    // The guest's row: marked !! and drawn red.
    // The verdict band above the table names the guest first; its row is the table's (║).
    expect(first).toMatch(/^LOOPS: /m);
    expect(lines.some((l) => l.startsWith('hurt: 00:16:3e:00:00:01'))).toBe(true);
    const guest = lines.find((l) => l.startsWith('║') && l.includes('00:16:3e:00:00:01'))!;
    expect(guest).toMatch(/!!\s+\d+ 00:16:3e:00:00:01/);
    const coloured = screen(s, true).split('\n').find((l) => l.includes('║') && l.includes('00:16:3e:00:00:01'))!;
    expect(coloured).toMatch(/\x1b\[(?:[0-9;]*;)?31m/);

    // ? lists the keys; q closes the list, not the program.
    tmux('send-keys', '-t', s, '?');
    const help = await until(s, (t) => t.includes('Help') && t.includes('export evidence'), 'the key list');
    for (const k of ['quit', 'focus next', 'filter', 'sort', 'pause', 'clear']) expect(help).toContain(k);
    tmux('send-keys', '-t', s, 'q');
    await until(s, (t) => t.includes('MAC table'), 'the panes again');

    // Tab to the findings, enter shows the selected finding's explanation and remedies.
    tmux('send-keys', '-t', s, 'Tab');
    await until(s, (t) => /▶ Findings/.test(t), 'focus on the findings');
    tmux('send-keys', '-t', s, 'Enter');
    const finding = await until(s, (t) => /▶ Finding /.test(t) && t.includes('Remedies:'), 'the details of a finding');
    expect(finding).toMatch(/802\.3ad|LACP/);
    tmux('send-keys', '-t', s, 'Escape');
    await until(s, (t) => /▶ Findings/.test(t), 'the findings pane again');

    // Back to the MAC table, filter on the guest's OUI.
    tmux('send-keys', '-t', s, 'BTab');
    await until(s, (t) => /▶ MAC table/.test(t), 'focus on the MAC table');
    tmux('send-keys', '-t', s, '/');
    await until(s, (t) => t.includes('filter MAC table: /'), 'the filter prompt');
    tmux('send-keys', '-t', s, '-l', '00:16:3e');
    tmux('send-keys', '-t', s, 'Enter');
    const filtered = await until(s, (t) => /MAC table \d+\/\d+/.test(t), 'a filtered table');
    const rows = filtered.split('\n').filter((l) => /[0-9a-f]{2}(:[0-9a-f]{2}){5}/.test(l) && l.startsWith('║'));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toContain('00:16:3e:');

    // p pauses the view; e writes an evidence bundle of the file into the current directory.
    tmux('send-keys', '-t', s, 'p');
    await until(s, (t) => t.includes('PAUSED'), 'the pause mark');
    const before = new Set(readdirSync(PROJECT_ROOT));
    tmux('send-keys', '-t', s, 'e');
    // The answer may not fit an 80-column status line beside the pause mark: watch the directory.
    const bundle = (): string[] => readdirSync(PROJECT_ROOT).filter((n) => !before.has(n) && n.startsWith('bondscope-evidence-'));
    const complete = (): boolean => bundle().length === 1 && ['evidence.pcapng', 'findings.json', 'report.md'].every((f) => existsSync(join(PROJECT_ROOT, bundle()[0]!, f)));
    for (let i = 0; i < 200 && !complete(); i++) await new Promise((r) => setTimeout(r, 50));
    const made = bundle();
    try {
      expect(made).toHaveLength(1);
      expect(readdirSync(join(PROJECT_ROOT, made[0]!)).sort()).toEqual(['evidence.pcapng', 'findings.json', 'report.md']);
    } finally {
      for (const d of made) rmSync(join(PROJECT_ROOT, d), { recursive: true, force: true });
    }

    tmux('send-keys', '-t', s, 'q');
    const after = await until(s, (t) => /EXIT=\d/.test(t), 'the shell after quitting');
    expect(after).toContain('EXIT=0');
    expect(after).toContain('MARKER-BEFORE-UI');
    expect(after).not.toContain('MAC table');
    expect(paneFlags(s)).toEqual({ alternate: false, cursor: true });
  });

  it('Ctrl-C and SIGTERM leave the terminal clean too', async () => {
    const a = await start(`node bin/bondscope ${LOOP}`);
    await until(a, (t) => t.includes('end of file'), 'the UI');
    tmux('send-keys', '-t', a, 'C-c');
    const afterA = await until(a, (t) => /EXIT=\d/.test(t), 'the shell after Ctrl-C');
    expect(afterA).toContain('MARKER-BEFORE-UI');
    expect(paneFlags(a)).toEqual({ alternate: false, cursor: true });

    // The UI's own pid, through a file: exec keeps the pid of the shell that wrote it.
    const pidFile = join(mkdtempSync(join(tmpdir(), 'bondscope-e2e-')), 'pid');
    const b = await start(`bash -c 'echo $$ > ${pidFile}; exec node bin/bondscope ${LOOP}'`);
    await until(b, (t) => t.includes('end of file'), 'the UI');
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    rmSync(dirname(pidFile), { recursive: true, force: true });
    const afterB = await until(b, (t) => /EXIT=\d/.test(t), 'the shell after SIGTERM');
    expect(afterB).toContain('EXIT=143');
    expect(afterB).toContain('MARKER-BEFORE-UI');
    expect(paneFlags(b)).toEqual({ alternate: false, cursor: true });
  });

  it('a crash inside the UI restores the screen and prints the error', async () => {
    const script = `import('./dist/src/tui/terminal.js').then((m) => { new m.TerminalGuard().enter(); process.stdout.write('INSIDE'); setTimeout(() => { throw new Error('boom in the view'); }, 300); })`;
    const s = await start(`node -e "${script}"`);
    const after = await until(s, (t) => /EXIT=\d/.test(t), 'the shell after the crash');
    expect(after).toContain('MARKER-BEFORE-UI');
    expect(after).toContain('boom in the view');
    expect(after).toContain('EXIT=70');
    expect(after).not.toContain('INSIDE');
    expect(paneFlags(s)).toEqual({ alternate: false, cursor: true });
  });

  it('NO_COLOR: the loop marks without any colour escape', async () => {
    const s = await start(`node bin/bondscope ${LOOP}`, { NO_COLOR: '1' });
    await until(s, (t) => t.includes('end of file') && t.includes('00:16:3e:00:00:01'), 'the loop analysis');
    const marked = screen(s).split('\n').filter((l) => /^║!!/.test(l));
    expect(marked.some((l) => l.includes('00:16:3e:00:00:01'))).toBe(true);
    expect(screen(s, true)).not.toMatch(/\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[25];[0-9;]+)m/);
    tmux('send-keys', '-t', s, 'q');
    await until(s, (t) => t.includes('EXIT=0'), 'a clean exit');
  });

  it('CI=true in the environment (Ink then draws only the last frame): the view is drawn all the same', async () => {
    const s = await start(`node bin/bondscope ${LOOP}`, { CI: 'true', CONTINUOUS_INTEGRATION: '1' });
    await until(s, (t) => t.includes('end of file') && t.includes('00:16:3e:00:00:01'), 'the loop analysis');
    tmux('send-keys', '-t', s, 'q');
    await until(s, (t) => t.includes('EXIT=0'), 'a clean exit');
  });

  it('a capture on stdin gets the plain report on the terminal, never the full screen', async () => {
    const s = await start(`node bin/bondscope - < ${LOOP}`);
    await until(s, (t) => /EXIT=\d/.test(t), 'the report');
    // The report is longer than the pane: read the scrollback too.
    const text = tmux('capture-pane', '-p', '-S', '-', '-t', s);
    expect(text).toContain('Topology as understood');
    expect(text).toMatch(/00:16:3e:00:00:01/);
    expect(text).toContain('MARKER-BEFORE-UI');
    expect(text).toContain('EXIT=0');
    expect(paneFlags(s)).toEqual({ alternate: false, cursor: true });
  });

  it('lacp (the fix): no row marked or drawn red', async () => {
    const s = await start(`node bin/bondscope ${LACP}`);
    const text = await until(s, (t) => t.includes('end of file') && t.includes('00:16:3e:00:00:01'), 'the lacp analysis');
    const rows = text.split('\n').filter((l) => /[0-9a-f]{2}(:[0-9a-f]{2}){5}/.test(l) && l.startsWith('║'));
    expect(rows.length).toBeGreaterThan(3);
    for (const r of rows) expect(r).toMatch(/^║ {2}/);
    const coloured = screen(s, true).split('\n').filter((l) => /[0-9a-f]{2}(:[0-9a-f]{2}){5}/.test(l) && l.includes('║'));
    for (const r of coloured) expect(r).not.toMatch(/\x1b\[(?:[0-9;]*;)?31m/);
    expect(text).toMatch(/Findings 0/);
    tmux('send-keys', '-t', s, 'q');
    await until(s, (t) => t.includes('EXIT=0'), 'a clean exit');
  });
});
