/**
 * `bondscope probe`: the active test, as switches' loop-detection probes do it. Out of each slave of
 * the bond goes one broadcast carrying a nonce; the other slaves and the bond are watched for it.
 * Seen inbound on another slave: the switches flood the host's broadcasts back to it. Seen inbound
 * on the bond: the bond passes them up to the bridge — the loop. Not seen within the timeout: no
 * loop on that path. A definite answer within a second, with the loop delay.
 *
 * The probe's source is a locally administered MAC made for the run, never the host's or a guest's:
 * a switch learning it on the wrong port must not cost anyone their traffic. EtherType 0x88b5 is
 * IEEE 802's "local experimental" type, which no production protocol uses.
 */
import { randomBytes } from 'node:crypto';
import { discoverHost } from '../capture/host/discover.js';
import { LiveCapture, LiveCaptureError } from '../capture/live.js';
import { DIR_IN, type PacketRecord } from '../model/record.js';
import { formatMac, readMac } from '../model/mac.js';
import { mergeTopology } from '../model/topology.js';
import { safeJson, safeText } from '../report/escape.js';
import { parseCommandArgs } from './args.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './errors.js';
import { dropPrivileges } from '../capture/host/privileges.js';
import { topologyFromFlags } from './roles.js';
import { SSH_OPTIONS } from './ssh.js';
import { helpText, type CommandHelp } from './help.js';

export const HELP: CommandHelp = {
  name: 'probe',
  synopsis: ['probe [--bond BOND[=SLAVE,SLAVE]] [--timeout MS] [--json]'],
  description: [
    "Sends one marked broadcast out of each slave of the bond and watches the other slaves and the bond for it: a definite yes or no, within a second, on whether the switches flood the host's broadcasts back and whether the bond passes them up to the bridge. Needs root, and the cap module. Exit 3 when a loop was found, 0 when none.",
    'Not over --ssh: the probe writes frames of its own, which no tool an ssh session finds on the host can do; run it on the host (the single executable needs no Node there, but carries no cap: use an npm install) or watch with `live --ssh`.',
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['--bond BOND[=SLAVES]', 'the bond to probe (default: the only bond discovered); SLAVES when the bond is not a kernel bond (or to probe some slaves only)'],
        ['--timeout MS', 'how long to wait for each probe to come back (default 1000)'],
        ['--json', "one JSON object with each slave's result"],
        ['--user USER', 'drop to USER once the handles are open (default nobody)'],
        ['--ssh [USER@]HOST', 'not for the probe: it says in one line why, and what to run instead'],
        ['-h, --help', 'this text'],
      ],
    },
  ],
};

export const OPTIONS = {
  bond: { type: 'string' },
  timeout: { type: 'string', default: '1000' },
  json: { type: 'boolean', default: false },
  user: { type: 'string', default: 'nobody' },
  // Taken only to say why the probe cannot run over ssh.
  ssh: SSH_OPTIONS.ssh,
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const PROBE_ETHERTYPE = 0x88b5;
const MAGIC = 'bondscope-probe';

/** The probe frame: broadcast, a run-local source MAC, EtherType 0x88b5, magic, nonce, slave index. */
export function probeFrame(srcMac: Uint8Array, nonce: Uint8Array, slaveIndex: number, copy = 0): Uint8Array {
  const f = new Uint8Array(64);
  f.fill(0xff, 0, 6);
  f.set(srcMac, 6);
  f[12] = PROBE_ETHERTYPE >> 8;
  f[13] = PROBE_ETHERTYPE & 0xff;
  f.set(new TextEncoder().encode(MAGIC), 14);
  f.set(nonce, 14 + MAGIC.length);
  f[14 + MAGIC.length + nonce.length] = slaveIndex;
  f[15 + MAGIC.length + nonce.length] = copy;
  return f;
}

/**
 * Which probe a captured frame is, if it is one of this run's: slave index * 256 + copy; else -1.
 */
export function matchProbe(b: Uint8Array, off: number, len: number, nonce: Uint8Array): number {
  const at = off + 14 + MAGIC.length;
  if (len < 14 + MAGIC.length + nonce.length + 2) return -1;
  if (b[off + 12] !== PROBE_ETHERTYPE >> 8 || b[off + 13] !== (PROBE_ETHERTYPE & 0xff)) return -1;
  for (let i = 0; i < nonce.length; i++) if (b[at + i] !== nonce[i]) return -1;
  return b[at + nonce.length]! * 256 + b[at + nonce.length + 1]!;
}

/**
 * Copies of each probe, 50 ms apart: on some hosts (seen on veths behind tc mirred) the first frame a
 * new sender puts out does not reach local packet sockets, and one lost probe must not read as "no loop".
 */
const COPIES = 3;

export interface ProbeResult {
  slave: string;
  /** Inbound sightings of this slave's probe: where, and µs after it was sent. */
  returnedOn: { iface: string; delayUs: number }[];
  loops: boolean;
}

export async function runProbe(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('probe', {
    args: argv,
    options: OPTIONS,
  });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  if (values.ssh !== undefined) {
    // The probe writes its own frames onto each slave: an ssh session has no tool for that
    // (tcpdump and dumpcap only read), and nothing is installed or left on the host.
    throw new UsageError(`probe: --ssh: the probe sends frames of its own out of each slave, which no tool an ssh session finds on ${values.ssh} can do; run bondscope probe on the host (the single executable, bondscope-linux-x64, needs no Node there) or watch it with bondscope live --ssh ${values.ssh}`);
  }
  const timeoutMs = Number(values.timeout);
  if (!(timeoutMs > 0)) throw new UsageError(`probe: --timeout takes a positive number of milliseconds, not '${values.timeout}'`);

  const info = discoverHost('/');
  const flagged = values.bond?.includes('=') ? topologyFromFlags({ bond: [values.bond] }) : null;
  const topology = flagged ? mergeTopology(info.topology, flagged) : info.topology;
  const bondName = values.bond?.split('=')[0];
  const bond = bondName ? topology.bonds.find((b) => b.name === bondName) : topology.bonds.length === 1 ? topology.bonds[0] : undefined;
  if (!bond) {
    const known = topology.bonds.map((b) => b.name);
    throw new UsageError(
      bondName
        ? `probe: '${bondName}' is not a bond here (bonds: ${known.join(', ') || 'none'}); give its slaves as --bond ${bondName}=SLAVE,SLAVE`
        : `probe: ${known.length ? `several bonds (${known.join(', ')}): choose one with --bond` : 'no bond found: give one as --bond BOND=SLAVE,SLAVE'}`,
    );
  }
  const slaves = bond.slaves.map((s) => s.name);
  if (slaves.length < 2) throw new UsageError(`probe: ${bond.name} has ${slaves.length} slave(s); a loop needs two`);

  const nonce = randomBytes(8);
  const srcMac = Uint8Array.of(0x02, 0x62, 0x73, ...randomBytes(3)); // 02: locally administered; "bs"
  /** hrtime (monotonic ns) of each copy sent, by slave index * 256 + copy. */
  const sent = new Map<number, bigint>();
  const results: ProbeResult[] = slaves.map((slave) => ({ slave, returnedOn: [], loops: false }));
  const watch = [...slaves, bond.name];
  const capture = new LiveCapture(
    // The workers also send the probes: every libpcap handle is opened in a worker, whose chatter
    // ("Warning: eth0: no IPv4 address assigned") stays off the terminal.
    { interfaces: watch, filter: `ether proto ${PROBE_ETHERTYPE}`, user: values.user, send: true },
    {
      onPacket: (rec: PacketRecord) => {
        if (rec.direction !== DIR_IN) return;
        const id = matchProbe(rec.buf, rec.offset, rec.caplen, nonce);
        const at = sent.get(id);
        if (id < 0 || at === undefined) return;
        const r = results[id >> 8]!;
        const name = rec.iface!.name;
        if (name === r.slave) return;
        // Stamped by its worker on arrival in user space (one monotonic clock for all): an upper bound.
        const arrived = BigInt(rec.tsSec) * 1_000_000_000n + BigInt(rec.tsNsec);
        const delayUs = Number((arrived - capture.wallNs(at)) / 1000n);
        const seen = r.returnedOn.find((x) => x.iface === name);
        if (!seen) r.returnedOn.push({ iface: name, delayUs });
        else if (delayUs < seen.delayUs) seen.delayUs = delayUs;
      },
    },
  );
  try {
    await capture.start();
  } catch (err) {
    capture.stop();
    if (err instanceof LiveCaptureError) throw new UsageError(`probe: ${err.message}`);
    throw err;
  }
  dropPrivileges(values.user);
  // Give the handles a moment to be polled before the first probe leaves.
  await sleep(100);
  for (let i = 0; i < slaves.length; i++) {
    for (let c = 0; c < COPIES; c++) {
      sent.set(i * 256 + c, process.hrtime.bigint());
      capture.send(slaves[i]!, probeFrame(srcMac, nonce, i, c));
      await sleep(50);
    }
    await sleep(timeoutMs);
  }
  capture.stop();
  for (const r of results) {
    r.loops = r.returnedOn.some((x) => x.iface === bond.name);
    physicalOrder(r, bond.name);
  }

  const looped = results.some((r) => r.loops);
  if (values.json) {
    process.stdout.write(safeJson({ bond: bond.name, source: formatMac(readMac(srcMac, 0)), ethertype: `0x${PROBE_ETHERTYPE.toString(16)}`, loop: looped, slaves: results }, 2) + '\n');
  } else {
    const out = [`Probing ${safeText(bond.name)} (slaves ${slaves.map(safeText).join(', ')}) with broadcasts from ${formatMac(readMac(srcMac, 0))}, EtherType 0x${PROBE_ETHERTYPE.toString(16)}:`];
    for (const r of results) {
      if (r.returnedOn.length === 0) out.push(`  out of ${safeText(r.slave)}: not seen again within ${timeoutMs} ms`);
      else {
        const back = r.returnedOn.filter((x) => x.iface !== bond.name);
        const up = r.returnedOn.find((x) => x.iface === bond.name);
        const words = [...back.map((x) => `back in on ${safeText(x.iface)} within ${x.delayUs} µs`), ...(up ? [`up ${safeText(bond.name)} within ${up.delayUs} µs`] : [])];
        out.push(`  out of ${safeText(r.slave)}: ${words.join(', then ')}${r.loops ? ' — the bond passed it up' : ''}`);
      }
    }
    const backOnSlave = results.some((r) => r.returnedOn.some((x) => x.iface !== bond.name));
    out.push(
      looped
        ? `LOOP: the switches flood the host's broadcasts back into ${safeText(bond.name)} and it passes them up to the bridge (run \`bondscope live\` to see what it does to the guests).`
        : backOnSlave
          ? `No loop through the bond: the switches flood broadcasts back into the other slave, but ${safeText(bond.name)} drops them (active-backup doing its job; a failover or all_slaves_active=1 would change that).`
          : `No loop: no probe came back.`,
    );
    process.stdout.write(out.join('\n') + '\n');
  }
  return looped ? EXIT_FINDINGS : EXIT_OK;
}

/**
 * The bounds in the order the frame went: each worker stamps on its own arrival, so the bond's
 * worker may see the echo before the slave's does; but the bond gets it from the slave, so the
 * slave had it no later than the bond — its bound is the smaller of the two. Listed slaves first.
 */
export function physicalOrder(r: ProbeResult, bond: string): void {
  const up = r.returnedOn.find((x) => x.iface === bond);
  if (up) for (const x of r.returnedOn) if (x !== up && x.delayUs > up.delayUs) x.delayUs = up.delayUs;
  r.returnedOn.sort((a, b) => Number(a.iface === bond) - Number(b.iface === bond) || a.delayUs - b.delayUs);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
