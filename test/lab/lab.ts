/**
 * Builds, drives, records and tears down the lab. Every command is run as written (no shell
 * tricks), and a failing one stops with the command and its stderr.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCommands, defaultParams, dropAll, isLacpPduScenario, isStpScenario, type LabParams, namespaces, type ScenarioName, variant } from './topology.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The switch-latency relay (runs in the switch's namespace); tsc does not copy it into dist/. */
export const RELAY = existsSync(join(HERE, 'relay.py')) ? join(HERE, 'relay.py') : join(HERE, '..', '..', '..', 'test', 'lab', 'relay.py');

export class LabError extends Error {
  override name = 'LabError';
}

function sh(cmd: string, allowFail = false): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new LabError(`lab: \`${cmd}\` failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether this machine can run the lab: root, network namespaces, veth, bridges, tc mirred. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const tool of ['ip', 'tc', 'bridge', 'tcpdump', 'dumpcap', 'ping', 'arping']) {
    if (spawnSync('/bin/sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  const probe = `bsl-probe-${process.pid}`;
  try {
    sh(`ip netns add ${probe}`);
    sh(`ip -n ${probe} link add name p0 type veth peer name p1`);
    sh(`ip -n ${probe} link add name b type bridge`);
    sh(`ip netns exec ${probe} tc qdisc add dev p0 ingress`);
    sh(`ip netns exec ${probe} tc filter add dev p0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev p1`);
    return null;
  } catch (err) {
    return `network namespaces with veth, bridge and tc mirred are not available (${(err as Error).message})`;
  } finally {
    sh(`ip netns del ${probe}`, true);
  }
}

export function labNamespaces(prefix: string): string[] {
  return sh('ip netns list', true)
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${prefix}-`));
}

/**
 * Removes the lab's namespaces. Processes the lab left running inside them (the latency relay)
 * are ended first, by their pids as `ip netns pids` lists them: a process keeps its namespace and
 * its interfaces alive after `ip netns del`.
 */
export function down(prefix = 'bsl'): string[] {
  const gone = labNamespaces(prefix);
  const pids = gone.flatMap((n) => sh(`ip netns pids ${n}`, true).split(/\s+/).filter(Boolean).map(Number));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  if (pids.length) spawnSync('sleep', ['0.3']);
  for (const n of gone) sh(`ip netns del ${n}`, true);
  rmSync(relayStatsFile(prefix), { force: true });
  return gone;
}

function relayStatsFile(prefix: string): string {
  return `/run/bondscope-lab-${prefix}-relay.json`;
}

/** Starts the latency relay between each cable end sw-pN and the switch's port (through sw-rN). */
function startRelay(lab: Lab): void {
  const v = variant(lab.scenario);
  if (!v.switchDelayMs) return;
  const ns = namespaces(lab.params);
  const pairs = (v.mode === 'single' ? [0] : [0, 1]).flatMap((i) => ['--pair', `sw-p${i}:sw-r${i}`]);
  const args = ['netns', 'exec', ns.sw, 'python3', RELAY, ...pairs, '--min-ms', String(v.switchDelayMs[0]), '--max-ms', String(v.switchDelayMs[1]), '--stats', relayStatsFile(lab.params.prefix)];
  const child = spawn('ip', args, { detached: true, stdio: 'ignore' });
  child.unref();
  // Ready when the client reaches the host through it.
  for (let i = 0; i < 50; i++) {
    spawnSync('sleep', ['0.1']);
    if (spawnSync('ip', ['netns', 'exec', ns.client, 'ping', '-c', '1', '-W', '1', lab.params.hostIp]).status === 0) return;
  }
  throw new LabError('lab: the latency relay did not start passing frames in 5 s');
}

/** What the relay applied so far (it writes its stats on SIGUSR1). */
async function relayStats(lab: Lab): Promise<unknown> {
  const ns = namespaces(lab.params);
  const file = relayStatsFile(lab.params.prefix);
  const pids = sh(`ip netns pids ${ns.sw}`, true).split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGUSR1');
    } catch {
      // gone
    }
  }
  await sleep(300);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : null;
}

export interface Lab {
  scenario: ScenarioName;
  params: LabParams;
}

export function up(scenario: ScenarioName, params: LabParams = defaultParams()): Lab {
  const existing = labNamespaces(params.prefix);
  if (existing.length) throw new LabError(`lab: a lab with prefix '${params.prefix}' is already up (${existing.join(', ')}): run \`npm run lab -- down\` first`);
  const lab: Lab = { scenario, params };
  try {
    for (const c of buildCommands(scenario, params)) sh(c);
    startRelay(lab);
  } catch (err) {
    down(params.prefix);
    throw err;
  }
  return lab;
}

function inNs(ns: string, cmd: string, allowFail = true): string {
  return sh(`ip netns exec ${ns} ${cmd}`, allowFail);
}

function loss(pingOutput: string): number {
  const m = /(\d+(?:\.\d+)?)% packet loss/.exec(pingOutput);
  return m ? Number(m[1]) : 100;
}

/** A UDP broadcast from port 68 to 67, as a DHCP client sends (payload is not a real DHCP message). */
function dhcpLikeBroadcast(ns: string, dev: string, count: number): void {
  const py = [
    'import socket',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    `s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'${dev}')`,
    "s.bind(('0.0.0.0', 68))",
    `for i in range(${count}): s.sendto(b'bondscope-lab-dhcp-like-discover-%d' % i, ('255.255.255.255', 67))`,
  ].join('\n');
  inNs(ns, `python3 -c "${py}"`, false);
}

/** 802.1Q-tagged broadcast frames written raw (the kernel here has no 8021q module). */
function taggedBroadcast(ns: string, dev: string, srcMac: string, vlan: number, count: number): void {
  const mac = srcMac.split(':').map((x) => `\\x${x}`).join('');
  const py = [
    'import socket, struct',
    `s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)`,
    `s.bind(('${dev}', 0))`,
    `src = b'${mac}'`,
    `for i in range(${count}):`,
    `    arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, src, bytes([198,51,100,11]), b'\\x00'*6, bytes([198,51,100,${200 + vlan % 50}]))`,
    `    s.send(b'\\xff'*6 + src + struct.pack('!HH', 0x8100, ${vlan}) + b'\\x08\\x06' + arp + b'\\x00'*14)`,
  ].join('\n');
  inNs(ns, `python3 -c "${py}"`, false);
}

/** One side of an LACP link as a LACPDU states it. */
export interface LacpSide {
  system: string;
  key: number;
  port: number;
  /** Actor state byte (802.1AX bits: 0x01 activity, 0x02 short timeout, 0x04 aggregation, 0x08 sync, 0x10 collecting, 0x20 distributing, 0x40 defaulted). */
  state: number;
}

/**
 * LACPDUs written raw (the kernel here has no bonding module), `count` of them `gapMs` apart:
 * 802.1AX version 1, actor/partner/collector TLVs, terminator and padding to 110 bytes.
 */
function sendLacpdus(ns: string, dev: string, srcMac: string, actor: LacpSide, partner: LacpSide | null, count: number, gapMs: number): void {
  const m = (mac: string): string => mac.split(':').map((x) => `\\x${x}`).join('');
  const info = (type: number, x: LacpSide | null): string =>
    x
      ? `struct.pack('!BBH6sHHHB3x', ${type}, 20, 32768, b'${m(x.system)}', ${x.key}, 32768, ${x.port}, ${x.state})`
      : `struct.pack('!BBH6sHHHB3x', ${type}, 20, 0, bytes(6), 0, 0, 0, 0)`;
  const py = [
    'import socket, struct, time',
    's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
    `s.bind(('${dev}', 0))`,
    `pdu = b'\\x01\\x01' + ${info(1, actor)} + ${info(2, partner)} + struct.pack('!BBH12x', 3, 16, 0) + b'\\x00\\x00' + bytes(50)`,
    `frame = b'\\x01\\x80\\xc2\\x00\\x00\\x02' + b'${m(srcMac)}' + b'\\x88\\x09' + pdu`,
    `for i in range(${count}):`,
    '    s.send(frame)',
    `    time.sleep(${gapMs / 1000})`,
  ].join('\n');
  inNs(ns, `python3 -c "${py}"`, false);
}

const LACP_ACTIVITY = 0x01;
const LACP_SHORT_TIMEOUT = 0x02;
const LACP_AGGREGATION = 0x04;
const LACP_IN_SYNC = 0x08 | 0x10 | 0x20;
const LACP_DEFAULTED = 0x40;

/**
 * The LACP conversation on each link as a bond and its switch have it: the host first speaks with
 * a defaulted partner of zeros, each switch answers with its system, then both sides settle. The
 * host stays on the long timeout (Linux's default lacp_rate=slow), the switches ask for the short
 * one. In lacp-split the switch side of eth1 is another switch; the bond keeps eth0's aggregator
 * and holds eth1 out of sync. In lacp-nopartner only the host speaks. Returns what was sent per
 * link, for the ground truth.
 */
function lacpExchange(lab: Lab): Record<string, { host: LacpSide; switch: LacpSide | null }> {
  const p = lab.params;
  const ns = namespaces(p);
  const split = lab.scenario === 'lacp-split';
  const out: Record<string, { host: LacpSide; switch: LacpSide | null }> = {};
  if (lab.scenario === 'lacp-nopartner') {
    // Nobody answers: the bond keeps its defaulted partner of zeros on both slaves and uses eth0 alone.
    p.slaves.forEach((slave, i) => {
      const host: LacpSide = { system: p.hostMac, key: 9, port: i + 1, state: LACP_ACTIVITY | LACP_AGGREGATION | LACP_DEFAULTED | (i === 0 ? LACP_IN_SYNC : 0) };
      sendLacpdus(ns.host, slave, p.hostMac, host, null, 4, 200);
      out[slave] = { host, switch: null };
    });
    return out;
  }
  p.slaves.forEach((slave, i) => {
    const swPort = `sw-p${i}`;
    const sw: LacpSide = { system: split && i === 1 ? '02:00:5e:00:0b:01' : '02:00:5e:00:0a:01', key: split && i === 1 ? 2002 : 1001, port: 0x100 + i, state: LACP_ACTIVITY | LACP_SHORT_TIMEOUT | LACP_AGGREGATION | LACP_IN_SYNC };
    const selected = !split || i === 0;
    const host: LacpSide = { system: p.hostMac, key: 9, port: i + 1, state: LACP_ACTIVITY | LACP_AGGREGATION | (selected ? LACP_IN_SYNC : 0) };
    // Opening: the bond has heard nobody yet.
    sendLacpdus(ns.host, slave, p.hostMac, { ...host, state: LACP_ACTIVITY | LACP_AGGREGATION | LACP_DEFAULTED }, null, 1, 50);
    sendLacpdus(ns.sw, swPort, `02:00:5e:00:0${split && i === 1 ? 'b' : 'a'}:1${i}`, { ...sw, state: sw.state & ~LACP_IN_SYNC }, host, 1, 50);
    // Settled: three rounds each way.
    sendLacpdus(ns.host, slave, p.hostMac, host, sw, 3, 200);
    sendLacpdus(ns.sw, swPort, `02:00:5e:00:0${split && i === 1 ? 'b' : 'a'}:1${i}`, sw, host, 3, 200);
    out[slave] = { host, switch: sw };
  });
  return out;
}

export interface GroundTruth {
  scenario: ScenarioName;
  /** `bridge -j fdb show br <bridge>` right after the guests' broadcasts, before they speak again. */
  fdbAfterGuestBroadcast: unknown[];
  fdbFinal: unknown[];
  /** Where the kernel had each guest MAC at that moment (dynamic entries only). */
  guestPortsAfterBroadcast: Record<string, string | null>;
  guestPortsFinal: Record<string, string | null>;
  /** The kernel's own-address lines for this bridge logged while the traffic ran (dmesg stamps). */
  ownAddressWarnings: string[];
  pingLoss: { clientToGuestAfterBroadcast: number; clientToHost: number; clientToGuestAfterGuestSpoke: number; guestToHost: number };
  links: unknown[];
  /** Whether the host loops: its bond passes up what the switches flood back (from the lab's setup, not from the frames). */
  loops: boolean;
  /** When the loop began (seconds since the epoch) where it began during the capture; null when it was there from the start (or there is none). */
  loopStartedAt: number | null;
  /** The host's own MACs (every interface of the host but the vifs). */
  hostMacs: string[];
  /** The guests: MAC, the vif they sit behind, IPv4. */
  guests: { mac: string; vif: string; ip: string }[];
  /** MACs of hosts outside this one: the client and the switch's own interfaces. */
  outsideMacs: string[];
  /** The guest the client pings (pingLoss.clientToGuest*). */
  clientPingsGuest: string;
  /** Guests that migrated off the host during the run (a mac-move is right only for them). */
  movedGuests: string[];
  /** When the traffic started and ended (seconds since the epoch). */
  startedAt?: number;
  endedAt?: number;
  /** The own-address warnings' times converted to seconds since the epoch (from the boot time; ±10 ms). */
  ownAddressWarningsAt?: number[];
  stpPortStates?: Record<string, string>;
  /** stp scenarios: the host bridge's bridge_id and root_id as sysfs has them. */
  stpBridge?: { bridgeId: string; rootId: string };
  /** stp-root, stp-tcn: topology changes the host's bridge detected while the traffic ran (sysfs topology_change, or topology_change_detected when not root, 0 → 1). */
  topologyChanges?: number;
  /**
   * Proxmox's firewall bridges (pve-*): where each of them had the guests right after their
   * broadcasts and at the end (fwbr100i0 learns its guest on fwln100i0 when the echo comes back down).
   */
  firewallBridges?: Record<string, { guestPortsAfterBroadcast: Record<string, string | null>; guestPortsFinal: Record<string, string | null> }>;
  /** lacp-pdu, lacp-split: the settled LACPDUs written on each link (host side and switch side). */
  lacpdus?: Record<string, { host: LacpSide; switch: LacpSide | null }>;
  /** Switch latency: what the relay was set to and applied, per hop. */
  switchDelay?: unknown;
  /** bondLinkLocal: when the bridge's and the bond's IPv6 were enabled, and their addresses afterwards (`ip -j -6 addr`). */
  bondLinkLocal?: { bridgeEnabledAt: number; bondEnabledAt: number; addresses: unknown[] };
  /** background: what ran beside the traffic and its loss. */
  background?: { clientPingsGuestLoss: number; guest2PingsHostLoss: number; arpResends: number; multicast: string[] };
  /** failover: when the active slave changed, from which to which. */
  failover?: { at: number; from: string; to: string };
  /** loopStartsLate: where the kernel had the guests before the loop began. */
  guestPortsBeforeLoop?: Record<string, string | null>;
  /** captureWindows: when each capture process started and was stopped (seconds since the epoch). */
  captureWindows?: Record<string, [number, number]>;
  /** captureWindows: the guest↔client conversation after bond0's capture stopped. */
  lateConversation?: { at: number; guestToClientLoss: number; clientToGuestLoss: number };
  snaplen?: number;
  /** extraPort: its name and MAC. */
  extraPort?: { name: string; mac: string };
  /**
   * The kernel's FDB over the run (recordings made since issue #23): every change of a guest's
   * entry in any of the host's bridges as `bridge -timestamp monitor fdb` printed it (stamped
   * when the monitor read the netlink notification: µs resolution, read within a few ms), and
   * where each guest was when the monitor started. With it, how long a guest was on the bond
   * within a capture is the kernel's own account, not the frames'.
   */
  fdbLog?: { startedAt: number; atStart: Record<string, Record<string, string | null>>; changes: FdbChange[] };
}

/** One change of a guest's FDB entry: now on `port` of `bridge` (or deleted). */
export interface FdbChange {
  at: number;
  mac: string;
  bridge: string;
  port: string;
  deleted: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `bridge -timestamp monitor fdb` run with TZ=UTC ("Timestamp: Sun Dec  6 21:13:55 2026 702629 usec"
 * before each batch, then "MAC dev PORT master BRIDGE …" or "Deleted MAC dev …"), the guests' entries only.
 */
export function parseFdbMonitor(text: string, guests: readonly string[]): FdbChange[] {
  const out: FdbChange[] = [];
  const wanted = new Set(guests.map((g) => g.toLowerCase()));
  let at = NaN;
  for (const line of text.split('\n')) {
    const ts = /^Timestamp: \w+ (\w+) +(\d+) (\d+):(\d+):(\d+) (\d+) (\d+) usec/.exec(line);
    if (ts) {
      at = Date.UTC(Number(ts[6]), MONTHS.indexOf(ts[1]!), Number(ts[2]), Number(ts[3]), Number(ts[4]), Number(ts[5])) / 1000 + Number(ts[7]) / 1e6;
      continue;
    }
    const m = /^(Deleted )?([0-9a-f:]{17}) dev (\S+)/.exec(line.trim());
    const master = / master (\S+)/.exec(line)?.[1];
    if (!m || !wanted.has(m[2]!) || / self\b/.test(line) || !master || Number.isNaN(at)) continue;
    out.push({ at: Math.round(at * 1e6) / 1e6, mac: m[2]!, bridge: master, port: m[3]!, deleted: m[1] !== undefined });
  }
  return out;
}

/** Watches the host's bridges' FDB while the traffic runs (`bridge monitor fdb`, stamped). */
function watchFdb(lab: Lab): FdbWatch {
  const ns = namespaces(lab.params);
  const bridges = [lab.params.bridge, ...lab.params.guests.flatMap((g) => (g.firewall ? [g.firewall.bridge] : []))];
  const atStart = Object.fromEntries(bridges.map((b) => [b, guestPorts(lab, fdb(lab, b))]));
  const startedAt = now();
  const child = spawn('ip', ['netns', 'exec', ns.host, 'env', 'TZ=UTC', 'bridge', '-timestamp', 'monitor', 'fdb'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => (text += s));
  return {
    stop: async () => {
      await sleep(100);
      child.kill('SIGINT');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      return { startedAt, atStart, changes: parseFdbMonitor(text, lab.params.guests.map((g) => g.mac)) };
    },
  };
}

/** Hooks capture() gives traffic(), for captures that start and stop at different moments. */
export interface TrafficHooks {
  /** After the host's own broadcasts. */
  afterHostBroadcast?: () => Promise<void>;
  /** Before the guest's late conversation with the client. */
  beforeLateConversation?: () => Promise<void>;
  /**
   * The FDB watch capture() started before its captures (and stops after them), so the kernel's
   * log covers every captured frame; without it traffic() watches for its own run.
   */
  fdbWatch?: FdbWatch;
}

interface FdbWatch {
  stop: () => Promise<GroundTruth['fdbLog']>;
}

const now = (): number => Date.now() / 1000;

function fdb(lab: Lab, bridge = lab.params.bridge): unknown[] {
  const ns = namespaces(lab.params);
  return JSON.parse(sh(`bridge -n ${ns.host} -j fdb show br ${bridge}`) || '[]') as unknown[];
}

/** The firewall bridges' FDBs (Proxmox scenarios), read at the same moments as the uplink bridge's. */
function firewallFdbs(lab: Lab): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const g of lab.params.guests) if (g.firewall) out[g.firewall.bridge] = fdb(lab, g.firewall.bridge);
  return out;
}

function guestPorts(lab: Lab, entries: unknown[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const g of lab.params.guests) {
    const e = (entries as { mac: string; ifname?: string; state?: string; flags?: string[] }[]).find((x) => x.mac === g.mac && x.state !== 'permanent');
    out[g.mac] = e?.ifname ?? null;
  }
  return out;
}

function kernelLogLines(): string[] {
  return sh('dmesg', true).split('\n');
}

/** Seconds since boot of a dmesg line (`[ 5114.473648] …`), -1 without one. */
function logTime(line: string): number {
  const m = /^\[\s*(\d+\.\d+)\]/.exec(line);
  return m ? Number(m[1]) : -1;
}

/** The time of the kernel log's newest line: lines after it are this run's (the ring buffer rotates, so counting lines would not do). */
function kernelLogMark(): number {
  const lines = kernelLogLines();
  for (let i = lines.length - 1; i >= 0; i--) {
    const t = logTime(lines[i]!);
    if (t >= 0) return t;
  }
  return -1;
}

/**
 * Real hosts' traffic, in an order that exposes the failure: the host's own broadcasts; the guests'
 * ARP, IPv6 neighbour discovery, DHCP-like and 802.1Q-tagged broadcasts; the client pinging the
 * guest (with the guest's MAC still in its ARP cache, as after any earlier conversation) before
 * and after the guest speaks again; the client pinging the host.
 */
export async function traffic(lab: Lab, hooks: TrafficHooks = {}): Promise<GroundTruth> {
  const p = lab.params;
  const ns = namespaces(p);
  const v = variant(lab.scenario);
  if (isStpScenario(lab.scenario)) await waitForStp(lab);
  // The convergence's own topology change must be over, so the ones this run causes stand alone.
  if (lab.scenario === 'stp-root' || lab.scenario === 'stp-tcn') await convergenceOver(lab);
  const logMark = kernelLogMark();
  const fdbWatch = hooks.fdbWatch ?? watchFdb(lab);
  const startedAt = now();
  let bondLinkLocal: GroundTruth['bondLinkLocal'];
  if (v.bondLinkLocal) {
    // The bridge's IPv6 comes up, then the bond's 40 ms later: each sends MLD reports, a DAD
    // neighbour solicitation and (a second later) router solicitations from the same MAC and the
    // same link-local address.
    inNs(ns.host, `sysctl -qw net.ipv6.conf.${p.bridge}.disable_ipv6=0`, false);
    const bridgeEnabledAt = now();
    await sleep(40);
    inNs(ns.host, `sysctl -qw net.ipv6.conf.${p.bond}.disable_ipv6=0`, false);
    const bondEnabledAt = now();
    await sleep(2500);
    bondLinkLocal = { bridgeEnabledAt, bondEnabledAt, addresses: [] };
  }
  const lacpdus = isLacpPduScenario(lab.scenario) ? lacpExchange(lab) : undefined;
  // IPv6 addresses without DAD, so neighbour discovery happens when we ask for it.
  inNs(ns.host, `ip -6 addr add 2001:db8::1/64 dev ${p.bridge} nodad`);
  p.guests.forEach((_, i) => inNs(ns.guests[i]!, `ip -6 addr add 2001:db8::${11 + i}/64 dev eth0 nodad`));
  inNs(ns.client, 'ip -6 addr add 2001:db8::100/64 dev eth0 nodad');
  // The client knew the guests from earlier conversations.
  p.guests.forEach((g) => inNs(ns.client, `ip neigh replace ${g.ip} lladdr ${g.mac} dev eth0 nud permanent`));
  const bg = v.background ? startBackground(lab) : null;

  // The host's own broadcasts: ARP for an address nobody has.
  inNs(ns.host, `arping -q -c 2 -w 1000000 -i ${p.bridge} 198.51.100.250`);
  await hooks.afterHostBroadcast?.();
  let guestPortsBeforeLoop: GroundTruth['guestPortsBeforeLoop'];
  let loopStartedAt: number | null = null;
  let failover: GroundTruth['failover'];
  if (v.loopStartsLate || v.failover) {
    // A first round while the host does not loop (or before the failover), then the change.
    guestBroadcasts(lab);
    await sleep(300);
    inNs(ns.client, `ping -c 2 -i 0.2 -W 1 ${p.guests[0]!.ip}`);
    if (v.loopStartsLate) {
      guestPortsBeforeLoop = guestPorts(lab, fdb(lab));
      await sleep(1000);
      // all_slaves_active flips to 1: the backup slave's frames are passed up from now on.
      for (const c of receiveOn(lab, p.slaves[1])) sh(c);
      loopStartedAt = now();
    } else {
      await sleep(1000);
      failover = { at: failOver(lab), from: p.slaves[0], to: p.slaves[1] };
      // The bond announces the new path: gratuitous ARPs for the host's address.
      inNs(ns.host, `arping -q -U -c 2 -W 0.2 -i ${p.bridge} -S ${p.hostIp} ${p.hostIp}`);
    }
    await sleep(1000);
    inNs(ns.host, `arping -q -c 2 -w 1000000 -i ${p.bridge} 198.51.100.250`);
  }
  // Guests: ARP (gratuitous and a request), IPv6 ND, DHCP-like and tagged broadcasts.
  guestBroadcasts(lab);
  if (lab.scenario === 'migrate') await migrate(lab);
  dhcpLikeBroadcast(ns.guests[0]!, lab.scenario === 'migrate' ? 'eth1' : 'eth0', 2);
  await sleep(300);
  const fdbAfterGuestBroadcast = fdb(lab);
  const fwAfterBroadcast = firewallFdbs(lab);
  const clientToGuestAfterBroadcast = loss(inNs(ns.client, `ping -c 4 -i 0.2 -W 1 ${p.guests[0]!.ip}`));
  const clientToHost = loss(inNs(ns.client, `ping -c 3 -i 0.2 -W 1 ${p.hostIp}`));
  // The guest speaks again: the bridge relearns it where it really is.
  const guestToHost = loss(inNs(ns.guests[0]!, `ping -c 2 -i 0.2 -W 1 ${p.hostIp}`));
  const clientToGuestAfterGuestSpoke = loss(inNs(ns.client, `ping -c 3 -i 0.2 -W 1 ${p.guests[0]!.ip}`));
  let lateConversation: GroundTruth['lateConversation'];
  if (v.captureWindows) {
    await hooks.beforeLateConversation?.();
    // The guest talks to the client (it knows the client's MAC: no broadcast), the client answers
    // and then asks the guest: unicast seen on the slave and the guest's vif, not on bond0.
    inNs(ns.guests[0]!, `ip neigh replace ${p.client.ip} lladdr ${p.client.mac} dev eth0 nud permanent`);
    const at = now();
    const guestToClientLoss = loss(inNs(ns.guests[0]!, `ping -c 3 -i 0.2 -W 1 ${p.client.ip}`));
    const clientToGuestLoss = loss(inNs(ns.client, `ping -c 3 -i 0.2 -W 1 ${p.guests[0]!.ip}`));
    lateConversation = { at, guestToClientLoss, clientToGuestLoss };
  }
  const background = bg ? await bg.stop() : undefined;
  await sleep(300);
  const fdbFinal = fdb(lab);
  const fwFinal = firewallFdbs(lab);
  const fdbLog = hooks.fdbWatch ? undefined : await fdbWatch.stop();
  const topologyChanges = lab.scenario === 'stp-root' || lab.scenario === 'stp-tcn' ? await guestReboots(lab, 2) : undefined;
  const endedAt = now();
  const endMark = kernelLogMark();
  const warningLines = kernelLogLines().filter(
    (l) => logTime(l) > logMark && logTime(l) <= endMark && l.includes('own address as source address') && l.includes(`${p.bridge}:`),
  );
  const bootAt = now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  if (bondLinkLocal) bondLinkLocal.addresses = JSON.parse(sh(`ip -n ${ns.host} -j -6 addr show`)) as unknown[];
  const links = JSON.parse(sh(`ip -n ${ns.host} -j link`)) as { ifname: string; address?: string }[];
  const swLinks = JSON.parse(sh(`ip -n ${ns.sw} -j link`)) as { ifname: string; address?: string }[];
  const vifs = new Set(p.guests.map((g) => g.vif));
  const truth: GroundTruth = {
    scenario: lab.scenario,
    fdbAfterGuestBroadcast,
    fdbFinal,
    guestPortsAfterBroadcast: guestPorts(lab, fdbAfterGuestBroadcast),
    guestPortsFinal: guestPorts(lab, fdbFinal),
    ownAddressWarnings: warningLines,
    pingLoss: { clientToGuestAfterBroadcast, clientToHost, clientToGuestAfterGuestSpoke, guestToHost },
    links,
    loops: v.mode === 'all-active' || v.loopStartsLate === true,
    loopStartedAt,
    hostMacs: [...new Set(links.filter((l) => l.ifname !== 'lo' && !l.ifname.endsWith('-drv') && !vifs.has(l.ifname) && l.address).map((l) => l.address!))],
    guests: p.guests.map((g) => ({ ...g })),
    outsideMacs: [...new Set([p.client.mac, ...swLinks.filter((l) => l.ifname !== 'lo' && l.address).map((l) => l.address!), ...Object.values(lacpdus ?? {}).map((l) => l.switch?.system).filter((m): m is string => !!m)])],
    clientPingsGuest: p.guests[0]!.mac,
    movedGuests: lab.scenario === 'migrate' ? [p.guests[0]!.mac] : [],
    startedAt,
    endedAt,
    ownAddressWarningsAt: warningLines.map((l) => Math.round((bootAt + logTime(l)) * 1000) / 1000),
  };
  if (isStpScenario(lab.scenario)) {
    truth.stpPortStates = stpStates(lab);
    truth.stpBridge = { bridgeId: bridgeSysfs(lab, 'bridge_id'), rootId: bridgeSysfs(lab, 'root_id') };
  }
  if (topologyChanges !== undefined) truth.topologyChanges = topologyChanges;
  if (lacpdus) truth.lacpdus = lacpdus;
  if (Object.keys(fwAfterBroadcast).length) {
    truth.firewallBridges = Object.fromEntries(Object.keys(fwAfterBroadcast).map((br) => [br, { guestPortsAfterBroadcast: guestPorts(lab, fwAfterBroadcast[br]!), guestPortsFinal: guestPorts(lab, fwFinal[br]!) }]));
  }
  if (v.switchDelayMs) truth.switchDelay = await relayStats(lab);
  if (bondLinkLocal) truth.bondLinkLocal = bondLinkLocal;
  if (background) truth.background = background;
  if (failover) truth.failover = failover;
  if (guestPortsBeforeLoop) truth.guestPortsBeforeLoop = guestPortsBeforeLoop;
  if (lateConversation) truth.lateConversation = lateConversation;
  if (v.snaplen) truth.snaplen = v.snaplen;
  if (fdbLog) truth.fdbLog = fdbLog;
  if (v.extraPort) truth.extraPort = { name: v.extraPort, mac: links.find((l) => l.ifname === v.extraPort)?.address ?? '' };
  return truth;
}

/** Each guest's gratuitous ARP, an IPv6 neighbour solicitation and two 802.1Q-tagged ARP broadcasts. */
function guestBroadcasts(lab: Lab): void {
  const ns = namespaces(lab.params);
  lab.params.guests.forEach((g, i) => {
    inNs(ns.guests[i]!, `arping -q -U -c 1 -i eth0 -S ${g.ip} ${g.ip}`);
    inNs(ns.guests[i]!, `ping -6 -c 1 -W 1 2001:db8::250`);
    taggedBroadcast(ns.guests[i]!, 'eth0', g.mac, 10, 2);
  });
}

/** From now on the emulated bond passes up what arrives on `slave` (its ingress drop becomes a redirect into bond0-drv). */
function receiveOn(lab: Lab, slave: string): string[] {
  const ns = namespaces(lab.params).host;
  return [
    `ip netns exec ${ns} tc filter add dev ${slave} parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${lab.params.bond}-drv`,
    `ip netns exec ${ns} tc filter del dev ${slave} parent ffff: prio 2`,
  ];
}

/** From now on the emulated bond drops what arrives on `slave` (the backup slave of an active-backup bond). */
function dropOn(lab: Lab, slave: string): string[] {
  const ns = namespaces(lab.params).host;
  return [`ip netns exec ${ns} tc filter del dev ${slave} parent ffff:`, ...dropAll(ns, slave).slice(1)];
}

/**
 * Active-backup failover from eth0 to eth1, as the bonding driver does it when the active slave's
 * link monitor fails: stop receiving on the old slave, send out of the new one, receive on it.
 * The links stay up (a capture on an interface that goes down ends). Returns when it was done.
 */
function failOver(lab: Lab): number {
  const p = lab.params;
  const ns = namespaces(p).host;
  const [from, to] = p.slaves;
  for (const c of dropOn(lab, from)) sh(c);
  sh(`ip netns exec ${ns} tc filter del dev ${p.bond}-drv parent ffff:`);
  sh(`ip netns exec ${ns} tc filter add dev ${p.bond}-drv parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${to}`);
  for (const c of receiveOn(lab, to)) sh(c);
  return now();
}

/**
 * Steady traffic beside the scenario's: the client pings guest 1 every 200 ms, guest 2 pings the
 * host every 500 ms, the client sends mDNS-like (224.0.0.251:5353) and SSDP-like
 * (239.255.255.250:1900) multicast every 500 ms and 1 s, and guest 1 re-sends the same ARP request
 * (for an address nobody has) every second.
 */
function startBackground(lab: Lab): { stop: () => Promise<NonNullable<GroundTruth['background']>> } {
  const p = lab.params;
  const ns = namespaces(p);
  const run = (n: string, cmd: string[]): { child: ChildProcess; out: string[] } => {
    const child = spawn('ip', ['netns', 'exec', n, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
    return { child, out };
  };
  const py = [
    'import socket, time',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0')",
    `s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('${p.client.ip}'))`,
    's.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)',
    'i = 0',
    'while True:',
    "    s.sendto(b'\\x00\\x00\\x84\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x0dbondscope-lab\\x05local\\x00\\x00\\x01\\x80\\x01', ('224.0.0.251', 5353))",
    "    if i % 2 == 0: s.sendto(b'NOTIFY * HTTP/1.1\\r\\nHOST: 239.255.255.250:1900\\r\\nNT: upnp:rootdevice\\r\\nNTS: ssdp:alive\\r\\n\\r\\n', ('239.255.255.250', 1900))",
    '    i += 1',
    '    time.sleep(0.5)',
  ].join('\n');
  const procs = [
    run(ns.client, ['ping', '-i', '0.2', p.guests[0]!.ip]),
    run(ns.guests[1]!, ['ping', '-i', '0.5', p.hostIp]),
    run(ns.client, ['python3', '-c', py]),
    run(ns.guests[0]!, ['arping', '-c', '6', '-i', 'eth0', '198.51.100.240']),
  ];
  return {
    async stop() {
      // Let the ARP resends finish (6 at 1 s).
      await new Promise<void>((r) => (procs[3]!.child.exitCode !== null ? r() : procs[3]!.child.once('exit', () => r())));
      for (const { child } of procs.slice(0, 3)) child.kill('SIGINT');
      await Promise.all(procs.map(({ child }) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)))));
      return { clientPingsGuestLoss: loss(procs[0]!.out.join('')), guest2PingsHostLoss: loss(procs[1]!.out.join('')), arpResends: 6, multicast: ['224.0.0.251:5353 every 0.5 s', '239.255.255.250:1900 every 1 s'] };
    },
  };
}

function stpStates(lab: Lab): Record<string, string> {
  const ns = namespaces(lab.params);
  const out: Record<string, string> = {};
  for (const l of JSON.parse(sh(`bridge -n ${ns.host} -j link show`)) as { ifname: string; master?: string; state?: string }[]) {
    if (l.master === lab.params.bridge && l.state) out[l.ifname] = l.state;
  }
  return out;
}

function bridgeSysfs(lab: Lab, file: string): string {
  return sh(`ip netns exec ${namespaces(lab.params).host} cat /sys/class/net/${lab.params.bridge}/bridge/${file}`).trim();
}

/**
 * Waits until the host bridge's topology_change flag (or `flag`) is `value`; false on timeout.
 * Polled every 10 ms inside the namespace: a TCN is acknowledged within a hello, so
 * topology_change_detected may be set for well under a second.
 */
async function waitForTopologyChange(lab: Lab, value: number, timeoutMs: number, flag = 'topology_change'): Promise<boolean> {
  const file = `/sys/class/net/${lab.params.bridge}/bridge/${flag}`;
  const loops = Math.ceil(timeoutMs / 10);
  const script = `i=0; while [ "$(cat ${file})" != ${value} ] && [ $i -lt ${loops} ]; do sleep 0.01; i=$((i+1)); done; cat ${file}`;
  const r = spawnSync('ip', ['netns', 'exec', namespaces(lab.params).host, 'sh', '-c', script], { encoding: 'utf8' });
  return Number(r.stdout.trim()) === value;
}

/**
 * Waits until STP has converged and the topology change that convergence causes is over: the
 * change is flagged a hello or two after the ports start forwarding, so the flag must be seen
 * clear after that (the root holds TC for max age + forward delay: 22 s in stp-tcn).
 */
async function convergenceOver(lab: Lab): Promise<void> {
  await waitForStp(lab);
  await sleep(2500);
  if (!(await waitForTopologyChange(lab, 0, 40000))) throw new LabError('lab: the convergence topology change did not end in 40 s');
}

/**
 * The second guest's vif goes down and up `times` times, as when a guest reboots; each time the
 * port comes back to forwarding the host's bridge detects a topology change. As root (stp-root) it
 * sets TC itself: waits for each TC period to end (sysfs topology_change). Not root (stp-tcn), it
 * sends TCNs to the root until acknowledged (sysfs topology_change_detected), while the root's TC
 * period (22 s here) spans both changes. Returns how many changes the kernel flagged.
 */
async function guestReboots(lab: Lab, times: number): Promise<number> {
  const ns = namespaces(lab.params);
  const vif = lab.params.guests[1]!.vif;
  const flag = lab.scenario === 'stp-root' ? 'topology_change' : 'topology_change_detected';
  let seen = 0;
  for (let i = 0; i < times; i++) {
    sh(`ip -n ${ns.host} link set ${vif} down`);
    await sleep(500);
    sh(`ip -n ${ns.host} link set ${vif} up`);
    if (await waitForTopologyChange(lab, 1, 10000, flag)) seen++;
    if (!(await waitForTopologyChange(lab, 0, 20000, flag))) throw new LabError(`lab: ${flag} did not clear in 20 s`);
    // A quiet spell of a few hellos between changes.
    await sleep(4000);
  }
  return seen;
}

/** Waits until STP has converged: in stp one of the host's NICs blocks, in stp-root (the host is root) both forward. */
async function waitForStp(lab: Lab): Promise<void> {
  const [a, b] = lab.params.slaves;
  const want = lab.scenario === 'stp-root' ? 'forwarding,forwarding' : 'blocking,forwarding';
  for (let i = 0; i < 40; i++) {
    const s = stpStates(lab);
    const states = [s[a], s[b]].sort().join(',');
    if (states === want) return;
    await sleep(250);
  }
  throw new LabError(`lab: STP did not converge in 10 s (${JSON.stringify(stpStates(lab))})`);
}

/**
 * The first guest leaves the host and comes back up behind the switch. Its old interface is only
 * taken down, not deleted: deleting it would delete its peer vif1.0 too, and dumpcap stops the
 * whole capture when one of its interfaces disappears.
 */
async function migrate(lab: Lab): Promise<void> {
  const p = lab.params;
  const ns = namespaces(p);
  const g = p.guests[0]!;
  const gns = ns.guests[0]!;
  sh(`ip -n ${gns} addr flush dev eth0`);
  sh(`ip -n ${gns} link set eth0 down`);
  sh(`ip link add name sw-mig netns ${ns.sw} type veth peer name eth1 netns ${gns}`);
  sh(`ip -n ${ns.sw} link set sw-mig master sw`);
  sh(`ip -n ${ns.sw} link set sw-mig up`);
  sh(`ip -n ${gns} link set eth1 address ${g.mac}`);
  sh(`ip -n ${gns} addr add ${g.ip}/${p.prefixLen} dev eth1`);
  sh(`ip -n ${gns} link set eth1 up`);
  await sleep(200);
  // The migrated guest announces itself, as Xen and KVM do after a live migration.
  inNs(gns, `arping -q -U -c 2 -w 200000 -i eth1 -S ${g.ip} ${g.ip}`);
}

/** Interfaces recorded on the host: slaves, bond, bridge, vifs (and a variant's extra port). */
export function hostInterfaces(lab: Lab): string[] {
  const p = lab.params;
  const v = variant(lab.scenario);
  const slaves = v.mode === 'single' ? [p.slaves[0]] : [...p.slaves];
  const bond = v.mode === 'stp' ? [] : [p.bond];
  // Proxmox's firewall chain: the uplink bridge's port, the veth into the firewall bridge, the firewall bridge, the tap.
  const guestSide = p.guests.flatMap((g) => (g.firewall ? [g.firewall.outer, g.firewall.inner, g.firewall.bridge, g.vif] : [g.vif]));
  return [...slaves, ...bond, p.bridge, ...guestSide, ...(v.extraPort ? [v.extraPort] : [])];
}

/**
 * Records the scenario's traffic on the host with real tools: one multi-interface pcapng by
 * dumpcap, one pcap per interface by tcpdump, and a `tcpdump -i any -y LINUX_SLL2` capture with
 * the matching `ip -j link`. Writes truth.json beside them. With captureWindows, the tcpdumps of
 * bond0 and the slaves are stopped before the guest's late conversation with the client, and
 * vif2.0's starts after the host's broadcasts.
 */
export async function capture(lab: Lab, dir: string): Promise<GroundTruth> {
  mkdirSync(dir, { recursive: true });
  // stp-root's and stp-tcn's recordings hold the topology changes the traffic causes, not the convergence's own.
  if (lab.scenario === 'stp-root' || lab.scenario === 'stp-tcn') await convergenceOver(lab);
  const ns = namespaces(lab.params);
  const v = variant(lab.scenario);
  const ifaces = hostInterfaces(lab);
  const snap = v.snaplen ? ['-s', String(v.snaplen)] : [];
  const procs: ChildProcess[] = [];
  const windows: Record<string, [number, number]> = {};
  const perIface = new Map<string, ChildProcess>();
  const start = (args: string[]): ChildProcess => {
    const p = spawn('ip', ['netns', 'exec', ns.host, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(p);
    return p;
  };
  const exited = (p: ChildProcess): Promise<unknown> => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)));
  const startIface = (i: string): void => {
    windows[i] = [now(), 0];
    perIface.set(i, start(['tcpdump', '-q', '-U', ...snap, '-i', i, '-w', join(dir, `${i}.pcap`)]));
  };
  const lateIface = v.captureWindows ? lab.params.guests[1]!.vif : null;
  // The uplink side's captures (bond and slaves) stop early: the late conversation is then seen on the guest's vif alone.
  const earlyIfaces = v.captureWindows ? [lab.params.bond, ...lab.params.slaves] : [];
  // The kernel's FDB is watched from before the first capture starts to after the last stops.
  const hooks: TrafficHooks = { fdbWatch: watchFdb(lab) };
  start(['dumpcap', '-q', ...snap, ...ifaces.flatMap((i) => ['-i', i]), '-w', join(dir, `${lab.scenario}.pcapng`)]);
  for (const i of ifaces) if (i !== lateIface) startIface(i);
  start(['tcpdump', '-q', '-U', ...snap, '-i', 'any', '-y', 'LINUX_SLL2', '-w', join(dir, 'any.pcap')]);
  // Let every capture get going before the first frame.
  await sleep(1500);
  if (lateIface) {
    hooks.afterHostBroadcast = async () => {
      startIface(lateIface);
      await sleep(800);
    };
  }
  if (earlyIfaces.length) {
    hooks.beforeLateConversation = async () => {
      for (const i of earlyIfaces) {
        const p = perIface.get(i)!;
        p.kill('SIGINT');
        await exited(p);
        windows[i]![1] = now();
      }
      await sleep(300);
    };
  }
  let truth: GroundTruth;
  let fdbLog: GroundTruth['fdbLog'];
  try {
    truth = await traffic(lab, hooks);
    await sleep(700);
  } finally {
    for (const p of procs) p.kill('SIGINT');
    await Promise.all(procs.map(exited));
    fdbLog = await hooks.fdbWatch!.stop();
  }
  const stoppedAt = now();
  truth.fdbLog = fdbLog;
  for (const w of Object.values(windows)) if (!w[1]) w[1] = stoppedAt;
  truth.captureWindows = Object.fromEntries(Object.entries(windows).map(([k, [a, b]]) => [k, [Math.round(a * 1000) / 1000, Math.round(b * 1000) / 1000]]));
  writeFileSync(join(dir, 'links.json'), JSON.stringify(truth.links, null, 1) + '\n');
  writeFileSync(join(dir, 'truth.json'), JSON.stringify({ ...truth, links: undefined, interfaces: ifaces, params: lab.params }, null, 1) + '\n');
  return truth;
}

export { execFileSync };
