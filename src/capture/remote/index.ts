/**
 * A host reached over ssh (`--ssh [USER@]HOST`): the public surface of capture/remote.
 *
 *   const host = await connectRemote({ target: 'root@hv1', config: null, sudo: false });
 *   host.snapshot.info        // discovery, as discoverHost gives it on the host itself
 *   new LiveSession({ …, remote: host })   // capture there, the same session as here
 *   host.ssh.close()          // bondscope's own ssh master, when it opened one
 *
 * ssh.ts runs the system's ssh client; scripts.ts is everything run on the host; snapshot.ts reads
 * the discovery; capture-plan.ts chooses the host's capture tool; remote-capture.ts is the live
 * backend and the host's account; stream-worker.ts reads the streamed captures.
 */
import { randomBytes } from 'node:crypto';
import { discoverRemote, type RemoteSnapshot } from './snapshot.js';
import { RemoteError, SshTarget } from './ssh.js';

export { RemoteError } from './ssh.js';
export type { RemoteSnapshot } from './snapshot.js';

export interface RemoteHost {
  ssh: SshTarget;
  snapshot: RemoteSnapshot;
  sudo: boolean;
  /** Frames the host's output for this run (a random word no file can contain by chance). */
  nonce: string;
}

export interface RemoteOptions {
  target: string;
  /** ssh -F FILE. */
  config: string | null;
  /** Run what needs root on the host through `sudo -n`. */
  sudo: boolean;
}

/** Authenticates (once) and discovers the host in one round trip; faults are one-line RemoteErrors. */
export async function connectRemote(o: RemoteOptions): Promise<RemoteHost> {
  const ssh = new SshTarget({ target: o.target, config: o.config });
  await ssh.connect();
  const nonce = randomBytes(8).toString('hex');
  try {
    return { ssh, sudo: o.sudo, nonce, snapshot: await discoverRemote(ssh, o.sudo, nonce) };
  } catch (err) {
    ssh.close();
    throw err;
  }
}

/** Discovery again, over the same ssh (the monitor follows the host as it changes). */
export async function rediscover(host: RemoteHost): Promise<RemoteSnapshot> {
  return discoverRemote(host.ssh, host.sudo, host.nonce);
}

export function isRemoteError(err: unknown): err is RemoteError {
  return err instanceof RemoteError;
}
