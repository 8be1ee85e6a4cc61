/**
 * Which capture a host reached over ssh gets, best first, from what discovery found there:
 *
 *  1. dumpcap with one -i per port: one pcapng stream, an interface block per port (its name),
 *     directions in epb_flags, interface statistics at the end;
 *  2. tcpdump -i any -y LINUX_SLL2 (libpcap 1.10 and later): one stream, every frame with its
 *     ifindex and direction (named from the host's sysfs ifindex, as `--links` does), only the
 *     chosen ports (the `ifindex` primitive); not when the filter names link-layer addresses,
 *     which a cooked capture has no field for;
 *  3. one tcpdump per port (tcpdump 4.9 with libpcap 1.5, as on XCP-ng 8's CentOS 7 dom0): a
 *     classic pcap stream each, named by its port, directions not known (as with tcpdump's own
 *     per-interface files).
 *
 * Every form filters on the host: the user's (or the monitor's) BPF filter, and never the ssh
 * connection carrying the capture itself, so the stream does not capture itself where a captured
 * port carries the management address (xenbr0 on a Xen dom0).
 */
import type { HostInterface } from '../host/discover.js';
import type { RemoteFacts } from './snapshot.js';

export type RemoteTool = 'dumpcap' | 'tcpdump -i any' | 'tcpdump per port';

export interface RemoteStream {
  argv: string[];
  /** The interface of a classic pcap stream. */
  name: string;
  display: string;
}

export interface CapturePlan {
  tool: RemoteTool;
  streams: RemoteStream[];
  /** The filter applied on the host (the user's, and the ssh connection left out). */
  filter: string;
  /** Why a better form was not used, for the report (null: the best was). */
  fallback: string | null;
}

/** The ssh connection that carries the capture, as a BPF expression to leave out. */
export function sshExclusion(ssh: RemoteFacts['ssh']): string | null {
  if (!ssh) return null;
  return `not (tcp and host ${ssh.client} and host ${ssh.server} and port ${ssh.serverPort})`;
}

/** Filters that name link-layer addresses, which a cooked (SLL2) capture cannot match. */
export function namesLinkAddresses(filter: string): boolean {
  const f = filter.replace(/\bip6?\s+(broadcast|multicast)\b/g, '');
  return /\b(ether|broadcast|multicast|gateway|llc|vlan|mpls)\b/.test(f);
}

function versionAtLeast(v: string | null, major: number, minor: number): boolean {
  const m = v ? /^(\d+)\.(\d+)/.exec(v) : null;
  return !!m && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}

export function and(...parts: (string | null | undefined)[]): string {
  const p = parts.filter((x): x is string => !!x && x.trim() !== '');
  return p.length === 1 ? p[0]! : p.map((x) => `(${x})`).join(' and ');
}

/**
 * The capture for `interfaces` on the host, or a one-line reason there is none (no tool).
 * `bufferBytes` becomes the tool's own -B (dumpcap MiB, tcpdump KiB).
 */
export function planRemoteCapture(host: string, facts: RemoteFacts, hostIfaces: HostInterface[], interfaces: string[], userFilter: string | undefined, bufferBytes: number | undefined, sudo: boolean): CapturePlan | string {
  const filter = and(userFilter, sshExclusion(facts.ssh));
  const dumpcap = facts.tools.dumpcap;
  const tcpdump = facts.tools.tcpdump;
  const where = sudo ? 'the PATH of an ssh session, /usr/local/sbin, /usr/sbin or /sbin' : 'the PATH of an ssh session';
  if (!dumpcap && !tcpdump) return `${host} has neither dumpcap nor tcpdump in ${where} (${facts.path || 'empty'}): install tcpdump there (yum install tcpdump, or apt-get install tcpdump)`;
  const mib = bufferBytes === undefined ? [] : ['-B', String(Math.max(1, Math.round(bufferBytes / 2 ** 20)))];
  const kib = bufferBytes === undefined ? [] : ['-B', String(Math.max(1, Math.round(bufferBytes / 1024)))];
  if (dumpcap) {
    return {
      tool: 'dumpcap',
      filter,
      fallback: null,
      streams: [{ argv: [dumpcap, '-q', ...mib, ...(filter ? ['-f', filter] : []), ...interfaces.flatMap((i) => ['-i', i]), '-w', '-'], name: 'dumpcap', display: `dumpcap on ${host}` }],
    };
  }
  const noDumpcap = `${host} has no dumpcap`;
  const sll2 = versionAtLeast(facts.libpcapVersion, 1, 10) && versionAtLeast(facts.tcpdumpVersion, 4, 99);
  if (sll2 && !(userFilter && namesLinkAddresses(userFilter))) {
    const index = new Map(hostIfaces.map((i) => [i.name, i.ifindex]));
    const ports = interfaces.map((i) => `ifindex ${index.get(i)}`).join(' or ');
    return {
      tool: 'tcpdump -i any',
      filter,
      fallback: `${noDumpcap}: one tcpdump -i any (cooked, SLL2: no destination MACs; each frame's port from its ifindex)`,
      streams: [{ argv: [tcpdump!, '-U', ...kib, '-i', 'any', '-y', 'LINUX_SLL2', '-w', '-', and(ports, filter)], name: 'any', display: `tcpdump -i any on ${host}` }],
    };
  }
  const why = sll2 ? 'the filter names link-layer addresses, which a cooked -i any capture has no field for' : `its tcpdump ${facts.tcpdumpVersion ?? '?'} (libpcap ${facts.libpcapVersion ?? '?'}) cannot write -i any with each frame's interface (SLL2 needs libpcap 1.10)`;
  return {
    tool: 'tcpdump per port',
    filter,
    fallback: `${noDumpcap} and ${why}: one tcpdump per port (directions not known)`,
    streams: interfaces.map((i) => ({ argv: [tcpdump!, '-U', ...kib, '-i', i, '-w', '-', ...(filter ? [filter] : [])], name: i, display: `tcpdump -i ${i} on ${host}` })),
  };
}
