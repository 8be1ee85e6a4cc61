/**
 * Least privilege for live mode, as tcpdump -Z: capture handles, /dev/kmsg and the output file are
 * opened as root; then the process becomes an unprivileged user before it handles a packet, so a
 * bug in parsing hostile frames runs with no more rights than `nobody`.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

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

/** Becomes `user` when running as root; does nothing otherwise (there is nothing to drop). */
export function dropPrivileges(user: string): DroppedTo | null {
  if (process.getuid?.() !== 0) return null;
  const who = lookupUser(user);
  if (!who) throw new UsageError(`--user ${user}: no such user in /etc/passwd`);
  // Supplementary groups first (root's would survive setuid), then the group, then the user.
  process.setgroups?.([who.gid]);
  process.setgid!(who.gid);
  process.setuid!(who.uid);
  return { user, ...who };
}
