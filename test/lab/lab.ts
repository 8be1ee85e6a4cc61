/**
 * Builds, drives, records and tears down the lab. Every command is run as written (no shell
 * tricks), and a failing one stops with the command and its stderr.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommands, defaultParams, isLacpPduScenario, isStpScenario, type LabParams, namespaces, type ScenarioName } from './topology.js';

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
  ownAddressWarnings: string[];
  pingLoss: { clientToGuestAfterBroadcast: number; clientToHost: number; clientToGuestAfterGuestSpoke: number; guestToHost: number };
  links: unknown[];
  stpPortStates?: Record<string, string>;
  /** stp scenarios: the host bridge's bridge_id and root_id as sysfs has them. */
  stpBridge?: { bridgeId: string; rootId: string };
  /** stp-root, stp-tcn: topology changes the host's bridge detected while the traffic ran (sysfs topology_change, or topology_change_detected when not root, 0 → 1). */
  topologyChanges?: number;
  /** lacp-pdu, lacp-split: the settled LACPDUs written on each link (host side and switch side). */
  lacpdus?: Record<string, { host: LacpSide; switch: LacpSide | null }>;
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
  if (isStpScenario(lab.scenario)) await waitForStp(lab);
  // The convergence's own topology change must be over, so the ones this run causes stand alone.
  if (lab.scenario === 'stp-root' || lab.scenario === 'stp-tcn') await convergenceOver(lab);
  const logMark = kernelLogMark();
  const lacpdus = isLacpPduScenario(lab.scenario) ? lacpExchange(lab) : undefined;
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
  const topologyChanges = lab.scenario === 'stp-root' || lab.scenario === 'stp-tcn' ? await guestReboots(lab, 2) : undefined;
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
  if (isStpScenario(lab.scenario)) {
    truth.stpPortStates = stpStates(lab);
    truth.stpBridge = { bridgeId: bridgeSysfs(lab, 'bridge_id'), rootId: bridgeSysfs(lab, 'root_id') };
  }
  if (topologyChanges !== undefined) truth.topologyChanges = topologyChanges;
  if (lacpdus) truth.lacpdus = lacpdus;
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

/** Interfaces recorded on the host: slaves, bond, bridge, vifs. */
export function hostInterfaces(lab: Lab): string[] {
  const p = lab.params;
  const slaves = lab.scenario === 'single' ? [p.slaves[0]] : [...p.slaves];
  const bond = isStpScenario(lab.scenario) ? [] : [p.bond];
  return [...slaves, ...bond, p.bridge, ...p.guests.map((g) => g.vif)];
}

/**
 * Records the scenario's traffic on the host with real tools: one multi-interface pcapng by
 * dumpcap, one pcap per interface by tcpdump, and a `tcpdump -i any -y LINUX_SLL2` capture with
 * the matching `ip -j link`. Writes truth.json beside them.
 */
export async function capture(lab: Lab, dir: string): Promise<GroundTruth> {
  mkdirSync(dir, { recursive: true });
  // stp-root's and stp-tcn's recordings hold the topology changes the traffic causes, not the convergence's own.
  if (lab.scenario === 'stp-root' || lab.scenario === 'stp-tcn') await convergenceOver(lab);
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
