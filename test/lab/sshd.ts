/**
 * A real sshd (Debian's openssh-server) in the lab host's namespace, reached from the root
 * namespace over a management veth (203.0.113.0/30, TEST-NET-3: the host's end is `mgmt0`, not a
 * port of its bridge, so the lab's own traffic and truth are untouched), with keys made for the
 * run: the host key, one client key per login user, an ssh client configuration for `--ssh-config`.
 * Everything lives in one temporary directory; stop() ends sshd by its pid and removes the veth.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';

export const MGMT_HOST_IP = '203.0.113.2';
const MGMT_OUTSIDE_IP = '203.0.113.1';

/** Why a real sshd cannot be run here, or null. */
export function sshdUnavailable(): string | null {
  if (!existsSync('/usr/sbin/sshd')) return 'needs openssh-server (apt-get install openssh-server)';
  if (spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status !== 0) return 'needs openssh-client';
  if (spawnSync('ssh-keygen', ['--help'], { stdio: 'ignore' }).error) return 'needs ssh-keygen';
  return null;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface LabSshd {
  dir: string;
  /** ssh client configuration: Host `lab` (root), one Host per login, `lab-nokey` (a key the host does not know). */
  config: string;
  /** The sshd process (stopped and started again to drop the link). */
  sshd: ChildProcess;
  /** Takes the management link down or up (a dropped link, as a cable pulled). */
  link(up: boolean): void;
  stop(): void;
}

export interface SshdOptions {
  /** The lab host's namespace. */
  ns: string;
  /** The root-namespace end of the management veth (≤ 15 characters, unique to the run). */
  outside: string;
  /**
   * More logins, each a Host alias of the client configuration with a key of its own: `user`
   * (made with useradd when not root, removed by stop()), `path` the PATH its sessions get (the
   * key's environment= option: a host without some tool, as far as an ssh session can see).
   */
  logins?: { alias: string; user: string; path?: string }[];
}

export async function startSshd(o: SshdOptions): Promise<LabSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'bondscope-sshd-'));
  chmodSync(dir, 0o755);
  const madeUsers: string[] = [];
  spawnSync('ip', ['link', 'del', o.outside], { stdio: 'ignore' });
  run('ip', ['link', 'add', o.outside, 'type', 'veth', 'peer', 'name', 'mgmt0', 'netns', o.ns]);
  run('ip', ['addr', 'add', `${MGMT_OUTSIDE_IP}/30`, 'dev', o.outside]);
  run('ip', ['link', 'set', o.outside, 'up']);
  run('ip', ['-n', o.ns, 'addr', 'add', `${MGMT_HOST_IP}/30`, 'dev', 'mgmt0']);
  run('ip', ['-n', o.ns, 'link', 'set', 'mgmt0', 'up']);
  run('ip', ['-n', o.ns, 'link', 'set', 'lo', 'up']);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  const keyOf = (name: string): string => {
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `bondscope-test-${name}`, '-f', join(dir, `id_${name}`)]);
    return readFileSync(join(dir, `id_${name}.pub`), 'utf8');
  };
  const authorized = join(dir, 'authorized_keys');
  const logins = [{ alias: 'lab', user: 'root' }, ...(o.logins ?? [])] as { alias: string; user: string; path?: string }[];
  let keys = '';
  for (const l of logins) {
    if (l.user !== 'root' && !madeUsers.includes(l.user)) {
      spawnSync('userdel', [l.user], { stdio: 'ignore' });
      run('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', l.user]);
      // No password, but not locked: sshd refuses every login to a locked account.
      run('usermod', ['-p', '*', l.user]);
      madeUsers.push(l.user);
    }
    keys += `${l.path ? `environment="PATH=${l.path}" ` : ''}${keyOf(l.alias)}`;
  }
  writeFileSync(authorized, keys, { mode: 0o644 });
  const sshdConfig = join(dir, 'sshd_config');
  writeFileSync(
    sshdConfig,
    [
      `ListenAddress ${MGMT_HOST_IP}`,
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 100',
      'PermitUserEnvironment PATH',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `${MGMT_HOST_IP} ${hostKey}\n`);
  const config = join(dir, 'ssh_config');
  const hostBlock = (alias: string, user: string, key = `id_${alias}`): string =>
    [
      `Host ${alias}`,
      `  HostName ${MGMT_HOST_IP}`,
      `  User ${user}`,
      `  IdentityFile ${join(dir, key)}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '  ServerAliveInterval 1',
      '  ServerAliveCountMax 3',
      '  ConnectTimeout 3',
      '',
    ].join('\n');
  // `lab-nokey`: a user whose key the host does not know (authentication refused).
  writeFileSync(config, [...logins.map((l) => hostBlock(l.alias, l.user)), hostBlock('lab-nokey', 'root', 'host_key')].join('\n'), { mode: 0o600 });
  const start = (): ChildProcess => spawn('ip', ['netns', 'exec', o.ns, '/usr/sbin/sshd', '-D', '-e', '-f', sshdConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
  const sshd = start();
  let err = '';
  sshd.stderr!.on('data', (d) => (err += d));
  // Up when it accepts connections.
  for (let i = 0; ; i++) {
    const listening = await new Promise<boolean>((resolve) => {
      const c = connect(22, MGMT_HOST_IP, () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (listening) break;
    if (sshd.exitCode !== null || i > 100) throw new Error(`sshd did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    config,
    sshd,
    link(up: boolean) {
      run('ip', ['link', 'set', o.outside, up ? 'up' : 'down']);
    },
    stop() {
      if (sshd.exitCode === null) sshd.kill('SIGTERM');
      spawnSync('ip', ['link', 'del', o.outside], { stdio: 'ignore' });
      for (const u of madeUsers) spawnSync('userdel', [u], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
