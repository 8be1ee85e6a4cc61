/**
 * Least privilege for live mode, as tcpdump -Z: capture handles, /dev/kmsg and the output file are
 * opened as root; then each process (the capture workers and the main one) becomes an unprivileged
 * user before it handles a packet, so a bug in parsing hostile frames runs with no more rights
 * than `nobody`.
 */
import { chownSync, readFileSync } from 'node:fs';

/** The user to drop to does not exist. */
export class PrivilegeError extends Error {
  override name = 'PrivilegeError';
}

export interface DroppedTo {
  user: string;
  uid: number;
  gid: number;
}

/** uid and primary gid of a user from /etc/passwd (Node has no getpwnam). */
export function lookupUser(user: string, passwd = '/etc/passwd'): { uid: number; gid: number } | null {
  if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user) };
  let text = '';
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

/**
 * Becomes `user` when running as root; does nothing otherwise (there is nothing to drop). `own`
 * lists files and directories made as root that the user must still write or read afterwards (the
 * --write file, the export directory): they are given to the user first, as tcpdump -Z does with
 * its savefile; their modes (0600/0700) keep them private to that user.
 */
export function dropPrivileges(user: string, own: string[] = []): DroppedTo | null {
  if (process.getuid?.() !== 0) return null;
  const who = lookupUser(user);
  if (!who) throw new PrivilegeError(`--user ${user}: no such user in /etc/passwd`);
  for (const path of own) chownSync(path, who.uid, who.gid);
  // Supplementary groups first (root's would survive setuid), then the group, then the user.
  process.setgroups?.([who.gid]);
  process.setgid!(who.gid);
  process.setuid!(who.uid);
  return { user, ...who };
}
