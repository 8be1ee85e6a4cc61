/**
 * Builds, drives, records and tears down the lab. Every command is run as written (no shell
 * tricks), and a failing one stops with the command and its stderr.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommands, defaultParams, type LabParams, namespaces, type ScenarioName } from './topology.js';

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

export function down(prefix = 'bsl'): string[] {
  const gone = labNamespaces(prefix);
  for (const n of gone) sh(`ip netns del ${n}`, true);
  return gone;
}

export interface Lab {
  scenario: ScenarioName;
  params: LabParams;
}

export function up(scenario: ScenarioName, params: LabParams = defaultParams()): Lab {
  const existing = labNamespaces(params.prefix);
  if (existing.length) throw new LabError(`lab: a lab with prefix '${params.prefix}' is already up (${existing.join(', ')}): run \`npm run lab -- down\` first`);
  try {
    for (const c of buildCommands(scenario, params)) sh(c);
  } catch (err) {
    down(params.prefix);
    throw err;
  }
  return { scenario, params };
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

export interface GroundTruth {
  scenario: ScenarioName;
  /** `bridge -j fdb show br <bridge>` right after the guests' broadcasts, before they speak again. */
  fdbAfterGuestBroadcast: unknown[];
  fdbFinal: unknown[];
  /** Where the kernel had each guest MAC at that moment (dynamic entries only). */
  guestPortsAfterBroadcast: Record<string, string | null>;
  guestPortsFinal: Record<string, string | null>;
  ownAddressWarnings: string[];
  pingLoss: { clientToGuestAfterBroadcast: number; clientToHost: number; clientToGuestAfterGuestSpoke: number; guestToHost: number };
  links: unknown[];
  stpPortStates?: Record<string, string>;
}

function fdb(lab: Lab): unknown[] {
  const ns = namespaces(lab.params);
  return JSON.parse(sh(`bridge -n ${ns.host} -j fdb show br ${lab.params.bridge}`) || '[]') as unknown[];
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
export async function traffic(lab: Lab): Promise<GroundTruth> {
  const p = lab.params;
  const ns = namespaces(p);
  if (lab.scenario === 'stp') await waitForStp(lab);
  const logMark = kernelLogMark();
  // IPv6 addresses without DAD, so neighbour discovery happens when we ask for it.
  inNs(ns.host, `ip -6 addr add 2001:db8::1/64 dev ${p.bridge} nodad`);
  p.guests.forEach((_, i) => inNs(ns.guests[i]!, `ip -6 addr add 2001:db8::${11 + i}/64 dev eth0 nodad`));
  inNs(ns.client, 'ip -6 addr add 2001:db8::100/64 dev eth0 nodad');
  // The client knew the guests from earlier conversations.
  p.guests.forEach((g) => inNs(ns.client, `ip neigh replace ${g.ip} lladdr ${g.mac} dev eth0 nud permanent`));

  // The host's own broadcasts: ARP for an address nobody has.
  inNs(ns.host, `arping -q -c 2 -w 1000000 -i ${p.bridge} 198.51.100.250`);
  // Guests: ARP (gratuitous and a request), IPv6 ND, DHCP-like and tagged broadcasts.
  p.guests.forEach((g, i) => {
    inNs(ns.guests[i]!, `arping -q -U -c 1 -i eth0 -S ${g.ip} ${g.ip}`);
    inNs(ns.guests[i]!, `ping -6 -c 1 -W 1 2001:db8::250`);
    taggedBroadcast(ns.guests[i]!, 'eth0', g.mac, 10, 2);
  });
  if (lab.scenario === 'migrate') await migrate(lab);
  dhcpLikeBroadcast(ns.guests[0]!, lab.scenario === 'migrate' ? 'eth1' : 'eth0', 2);
  await sleep(300);
  const fdbAfterGuestBroadcast = fdb(lab);
  const clientToGuestAfterBroadcast = loss(inNs(ns.client, `ping -c 4 -i 0.2 -W 1 ${p.guests[0]!.ip}`));
  const clientToHost = loss(inNs(ns.client, `ping -c 3 -i 0.2 -W 1 ${p.hostIp}`));
  // The guest speaks again: the bridge relearns it where it really is.
  const guestToHost = loss(inNs(ns.guests[0]!, `ping -c 2 -i 0.2 -W 1 ${p.hostIp}`));
  const clientToGuestAfterGuestSpoke = loss(inNs(ns.client, `ping -c 3 -i 0.2 -W 1 ${p.guests[0]!.ip}`));
  await sleep(300);
  const fdbFinal = fdb(lab);
  const ownAddressWarnings = kernelLogLines().filter(
    (l) => logTime(l) > logMark && l.includes('own address as source address') && l.includes(`${p.bridge}:`),
  );
  const truth: GroundTruth = {
    scenario: lab.scenario,
    fdbAfterGuestBroadcast,
    fdbFinal,
    guestPortsAfterBroadcast: guestPorts(lab, fdbAfterGuestBroadcast),
    guestPortsFinal: guestPorts(lab, fdbFinal),
    ownAddressWarnings,
    pingLoss: { clientToGuestAfterBroadcast, clientToHost, clientToGuestAfterGuestSpoke, guestToHost },
    links: JSON.parse(sh(`ip -n ${ns.host} -j link`)) as unknown[],
  };
  if (lab.scenario === 'stp') truth.stpPortStates = stpStates(lab);
  return truth;
}

function stpStates(lab: Lab): Record<string, string> {
  const ns = namespaces(lab.params);
  const out: Record<string, string> = {};
  for (const l of JSON.parse(sh(`bridge -n ${ns.host} -j link show`)) as { ifname: string; master?: string; state?: string }[]) {
    if (l.master === lab.params.bridge && l.state) out[l.ifname] = l.state;
  }
  return out;
}

/** Waits until one of the host's two NICs is forwarding and the other blocking. */
async function waitForStp(lab: Lab): Promise<void> {
  const [a, b] = lab.params.slaves;
  for (let i = 0; i < 40; i++) {
    const s = stpStates(lab);
    const states = [s[a], s[b]].sort().join(',');
    if (states === 'blocking,forwarding') return;
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

/** Interfaces recorded on the host: slaves, bond, bridge, vifs. */
export function hostInterfaces(lab: Lab): string[] {
  const p = lab.params;
  const slaves = lab.scenario === 'single' ? [p.slaves[0]] : [...p.slaves];
  const bond = lab.scenario === 'stp' ? [] : [p.bond];
  return [...slaves, ...bond, p.bridge, ...p.guests.map((g) => g.vif)];
}

/**
 * Records the scenario's traffic on the host with real tools: one multi-interface pcapng by
 * dumpcap, one pcap per interface by tcpdump, and a `tcpdump -i any -y LINUX_SLL2` capture with
 * the matching `ip -j link`. Writes truth.json beside them.
 */
export async function capture(lab: Lab, dir: string): Promise<GroundTruth> {
  mkdirSync(dir, { recursive: true });
  const ns = namespaces(lab.params);
  const ifaces = hostInterfaces(lab);
  const procs: ChildProcess[] = [];
  const start = (args: string[]): void => {
    const p = spawn('ip', ['netns', 'exec', ns.host, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(p);
  };
  start(['dumpcap', '-q', ...ifaces.flatMap((i) => ['-i', i]), '-w', join(dir, `${lab.scenario}.pcapng`)]);
  for (const i of ifaces) start(['tcpdump', '-q', '-U', '-i', i, '-w', join(dir, `${i}.pcap`)]);
  start(['tcpdump', '-q', '-U', '-i', 'any', '-y', 'LINUX_SLL2', '-w', join(dir, 'any.pcap')]);
  // Let every capture get going before the first frame.
  await sleep(1500);
  let truth: GroundTruth;
  try {
    truth = await traffic(lab);
    await sleep(700);
  } finally {
    for (const p of procs) p.kill('SIGINT');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  }
  writeFileSync(join(dir, 'links.json'), JSON.stringify(truth.links, null, 1) + '\n');
  writeFileSync(join(dir, 'truth.json'), JSON.stringify({ ...truth, links: undefined, interfaces: ifaces, params: lab.params }, null, 1) + '\n');
  return truth;
}

export { execFileSync };
