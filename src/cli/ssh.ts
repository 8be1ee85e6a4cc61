/** `--ssh [USER@]HOST`: what every command that can reach a host over ssh shares (live, the view, monitor, check). */
import type { RemoteHost } from '../capture/remote/index.js';
import { UsageError } from './errors.js';
import type { OptionHelp } from './help.js';

/** How a host is reached over ssh: the same words in every command that takes --ssh. */
export const SSH_HELP: OptionHelp[] = [
  ['--ssh [USER@]HOST', "the host reached over the system's ssh (its config, agent and known_hosts): discovery there, its own dumpcap or tcpdump capturing, the analysis here"],
  ['--ssh-config FILE', "ssh's configuration file (ssh -F) instead of ~/.ssh/config"],
  ['--sudo', 'on that host, run the capture tool, the kernel log reader and ovs-vsctl through sudo -n'],
];

/** The options that reach a host over ssh, shared by every command that takes --ssh. */
export const SSH_OPTIONS = {
  ssh: { type: 'string' },
  'ssh-config': { type: 'string' },
  sudo: { type: 'boolean', default: false },
} as const;

/** --ssh: reaches the host and discovers it (ssh asks for what it needs first); one-line faults as usage errors. */
export async function reachHost(command: string, values: { ssh?: string; 'ssh-config'?: string; sudo?: boolean }): Promise<RemoteHost | null> {
  if (values.ssh === undefined) {
    if (values.sudo) throw new UsageError(`${command}: --sudo is for a host reached with --ssh`);
    return null;
  }
  const { connectRemote, isRemoteError } = await import('../capture/remote/index.js');
  try {
    return await connectRemote({ target: values.ssh, config: values['ssh-config'] ?? null, sudo: values.sudo === true });
  } catch (err) {
    if (isRemoteError(err)) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
}
