/**
 * A host's discovery over ssh, in one round trip (scripts.ts discoveryScript), read with the same
 * code as on the host itself: the framed output is rebuilt as the tree `check --root DIR` reads
 * (DIR/sys/class/net/…, DIR/proc/net/bonding/…, DIR/proc/sys/kernel/osrelease, the Open vSwitch
 * files `--ovs DIR` reads) in a private temporary directory, discoverHost() reads it, and it is
 * removed. Only paths of those trees are written: a host cannot make bondscope write anywhere else.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { discoverHost, type HostInfo } from '../host/discover.js';
import { readBridgeFdb, type FdbEntry } from '../host/kernel.js';
import { RemoteError, sshFault, type SshTarget } from './ssh.js';
import { discoveryScript, TOOLS } from './scripts.js';

/** One framed piece of a script's output: `@@NONCE KIND ARGS…` and the bytes up to the next frame. */
export interface Frame {
  kind: string;
  args: string[];
  body: Buffer;
}

/** Splits a script's output into its frames (each starts after a newline). */
export function splitFrames(out: Buffer, nonce: string): Frame[] {
  const marker = Buffer.from(`\n@@${nonce} `);
  const frames: Frame[] = [];
  let at = out.indexOf(marker);
  while (at >= 0) {
    const headStart = at + marker.length;
    const nl = out.indexOf(0x0a, headStart);
    const headEnd = nl < 0 ? out.length : nl;
    const next = nl < 0 ? -1 : out.indexOf(marker, nl);
    const [kind, ...args] = out.toString('utf8', headStart, headEnd).split(' ');
    frames.push({ kind: kind ?? '', args, body: nl < 0 ? Buffer.alloc(0) : out.subarray(nl + 1, next < 0 ? out.length : next) });
    at = next;
  }
  return frames;
}

/** What the host said about itself besides its files. */
export interface RemoteFacts {
  uid: number;
  user: string;
  kernel: string;
  /** The host's clock minus this one's, in ms (its `date`, the first line, taken as read when it arrived: off by the one-way latency). */
  clockOffsetMs: number;
  /** Seconds the host has been up, when `now` was read, and `now` itself (its clock, seconds). */
  uptime: number;
  now: number;
  /** $SSH_CONNECTION: this side's address and port, the host's address and port. */
  ssh: { client: string; clientPort: number; server: string; serverPort: number } | null;
  /** The PATH the tools were looked for in (the session's, or sudo's secure_path). */
  path: string;
  /** Absolute paths of the tools looked for, null where absent. */
  tools: Record<(typeof TOOLS)[number], string | null>;
  tcpdumpVersion: string | null;
  libpcapVersion: string | null;
  dumpcapVersion: string | null;
}

export interface RemoteSnapshot {
  info: HostInfo;
  facts: RemoteFacts;
  /** Each Linux bridge's forwarding database at discovery (brforward). */
  fdb: Map<string, FdbEntry[]>;
}

/** Paths a discovery frame may name: the trees discoverHost reads. */
const SAFE_PATH = /^\/(sys\/class\/net|proc\/net\/bonding|proc\/sys\/kernel)(\/[A-Za-z0-9_.:@#+-]+)*$/;
const SAFE_NAME = /^[A-Za-z0-9_.:@#+-]+$/;

function safePath(p: string | undefined): string | null {
  if (!p || !SAFE_PATH.test(p) || p.split('/').some((c) => c === '.' || c === '..')) return null;
  return p;
}

function hexBytes(text: string): Buffer {
  const hex = text.replace(/[^0-9a-fA-F]/g, '');
  return Buffer.from(hex.length % 2 ? hex.slice(0, -1) : hex, 'hex');
}

/** The version in `tcpdump --version` / `dumpcap --version` output. */
function versionOf(text: string | undefined, what: RegExp): string | null {
  const m = text ? what.exec(text) : null;
  return m ? m[1]! : null;
}

/**
 * Rebuilds the tree and reads it as discoverHost reads a host. `firstByteAt` (local ms: when the
 * first bytes came) places the host's clock. Throws a RemoteError when the output is not a whole
 * discovery.
 */
export function readSnapshot(target: string, out: Buffer, nonce: string, firstByteAt: number): RemoteSnapshot {
  const frames = splitFrames(out, nonce);
  if (!frames.some((f) => f.kind === 'end')) throw new RemoteError(`--ssh ${target}: the host's answer to discovery ended early (${frames.length} parts): is /bin/sh a POSIX shell there?`);
  const root = mkdtempSync(join(tmpdir(), 'bondscope-host-'));
  const facts: Record<string, string> = {};
  const tools: Record<string, string | null> = Object.fromEntries(TOOLS.map((t) => [t, null]));
  const commands = new Map<string, string>();
  try {
    for (const f of frames) {
      if (f.kind === 'fact') {
        if (f.args[0] === 'tool') tools[f.args[1] ?? ''] = f.args[2] || null;
        else facts[f.args[0] ?? ''] = f.args.slice(1).join(' ');
        continue;
      }
      if (f.kind === 'c') {
        const name = f.args[0] ?? '';
        commands.set(name, f.body.toString('utf8'));
        if (name.startsWith('ovs/') && SAFE_NAME.test(name.slice(4))) {
          mkdirSync(join(root, 'ovs'), { recursive: true });
          writeFileSync(join(root, name), f.body);
        }
        continue;
      }
      const p = safePath(f.args[0]);
      if (p === null) continue;
      const local = join(root, p);
      if (f.kind === 'd') mkdirSync(local, { recursive: true });
      else if (f.kind === 'f' || f.kind === 'x') {
        mkdirSync(dirname(local), { recursive: true });
        writeFileSync(local, f.kind === 'x' ? hexBytes(f.body.toString('latin1')) : f.body);
      } else if (f.kind === 'l' && f.args[1]) {
        // Only the target's last component is ever read (master, lower_*): a link to its sibling.
        mkdirSync(dirname(local), { recursive: true });
        symlinkSync(`../${basename(f.args[1])}`, local);
      }
    }
    const info = discoverHost(root, { ...(commands.has('vlans') ? { vlansJson: commands.get('vlans')! } : {}), ...(commands.has('ovs/Bridge.json') ? { ovsDir: join(root, 'ovs') } : {}) });
    // Said of the host, not of this side's copy.
    info.warnings = info.warnings.map((w) => w.split(root).join(`${target}:`));
    info.root = `${target} (over ssh)`;
    if (info.ovs) info.ovs.source = `ovs-vsctl/ovs-appctl on ${target}`;
    const fdb = new Map<string, FdbEntry[]>();
    for (const b of info.topology.bridges) {
      if (b.kind === 'ovs') continue;
      try {
        fdb.set(b.name, readBridgeFdb(b.name, root));
      } catch {
        /* not readable there */
      }
    }
    const ssh = (facts.ssh ?? '').split(' ');
    const now = Number(facts.now);
    const tv = commands.get('tcpdump-version');
    return {
      info,
      fdb,
      facts: {
        uid: Number(facts.uid ?? -1),
        user: facts.user ?? '',
        kernel: facts.kernel ?? '',
        now,
        uptime: Number((facts.uptime ?? '').split(' ')[0]),
        clockOffsetMs: Number.isFinite(now) ? now * 1000 - firstByteAt : 0,
        ssh: ssh.length === 4 ? { client: ssh[0]!, clientPort: Number(ssh[1]), server: ssh[2]!, serverPort: Number(ssh[3]) } : null,
        path: facts.path ?? '',
        tools: tools as RemoteFacts['tools'],
        tcpdumpVersion: versionOf(tv, /tcpdump version (\S+)/),
        libpcapVersion: versionOf(tv, /libpcap version (\S+)/),
        dumpcapVersion: versionOf(commands.get('dumpcap-version'), /Dumpcap \(Wireshark\) (\S+)/),
      },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Discovery over ssh: the one round trip, read as on the host. */
export async function discoverRemote(ssh: SshTarget, sudo: boolean, nonce: string): Promise<RemoteSnapshot> {
  const r = await ssh.run(discoveryScript(nonce, sudo));
  if (r.code === 255 && !r.stdout.length) throw new RemoteError(sshFault(ssh.target, r.stderr, ssh.batch));
  if (r.code === -1) throw new RemoteError(`--ssh ${ssh.target}: cannot run ssh`);
  return readSnapshot(ssh.target, r.stdout, nonce, r.firstByteAt);
}
