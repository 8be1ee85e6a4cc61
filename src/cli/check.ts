/** `bondscope check`: from the host's configuration alone, is this bonded bridge loop-prone, and why. */
import { discoverHost } from '../capture/host/discover.js';
import { checkTopology, type LearnedTables } from '../engine/host-check.js';
import { ovsFdbEntries, ovsLayout, type OvsRecord } from '../capture/host/ovs.js';
import { atOrAbove } from '../engine/severity.js';
import { findingsText } from '../report/analysis.js';
import { safeJson, safeText } from '../report/escape.js';
import { hostJson, hostTopologyLines } from '../report/host.js';
import { kernelSilenceNote } from '../report/kernel-silence.js';
import { readFileSync } from 'node:fs';
import { failOnOption, parseCommandArgs } from './args.js';
import { reachHost, SSH_HELP, SSH_OPTIONS } from './ssh.js';
import { helpText, type CommandHelp } from './help.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './errors.js';

export const HELP: CommandHelp = {
  name: 'check',
  synopsis: ['check [--root DIR] [--vlans FILE] [--ovs DIR] [--json] [--fail-on LEVEL]', 'check --ssh [USER@]HOST [--json] [--fail-on LEVEL]'],
  description: [
    "Reads the host's bonds (/proc/net/bonding, /sys/class/net/*/bonding, Open vSwitch's bonds) and bridges (/sys/class/net/*/bridge, brif/, VLAN filtering) and says, without capturing, whether a bond under a bridge is set up so that it loops: balance-rr/xor/broadcast, active-backup with all_slaves_active=1 or bonding before 3.0.2, tlb/alb, an Open vSwitch balance-slb with all-members-active, balance-tcp without LACP, 802.3ad slaves with different partners. Each rule names its source. Needs no privileges.",
    'With --ssh, the same files and commands are read on a host reached over ssh, in one round trip (docs/remote.md).',
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['--root DIR', 'read sys/class/net, proc/net/bonding and proc/sys/kernel/osrelease under DIR (a copy from another host)'],
        ['--vlans FILE', "`bridge -j vlan show` output of that host (VLAN-aware bridges' port VLANs)"],
        ['--ovs DIR', 'recorded Open vSwitch state: Bridge.json, Port.json, Interface.json (ovs-vsctl --format=json list TABLE), bond-show.txt, lacp-show.txt, fdb-show-BRIDGE.txt (ovs-appctl); on the host itself they are asked for'],
        ['--json', 'one JSON object: bonds, bridges, interfaces, own MACs, findings'],
        ['--fail-on LEVEL', 'exit 3 when a finding of LEVEL or worse exists (error, warning, info)'],
        ...SSH_HELP,
        ['-h, --help', 'this text'],
      ],
    },
  ],
};

export const OPTIONS = {
  root: { type: 'string', default: '/' },
  ...SSH_OPTIONS,
  vlans: { type: 'string' },
  ovs: { type: 'string' },
  json: { type: 'boolean', default: false },
  'fail-on': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Open vSwitch's learning tables and the guests' MACs it records, for the wrong-port check. */
function ovsLearned(rec: OvsRecord): LearnedTables {
  const layout = ovsLayout(rec);
  const guests = new Map<number, string>();
  for (const [name, i] of layout.interfaces) if (i.attachedMac >= 0) guests.set(i.attachedMac, name);
  const fdb = new Map<string, { mac: number; port: string; isLocal: boolean }[]>();
  for (const b of layout.bridges) fdb.set(b.name, ovsFdbEntries(rec, b.name));
  return { fdb, guests, source: `Open vSwitch ovs-appctl fdb/show (${rec.source}); guests from Interface external_ids:attached-mac` };
}

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('check', {
    args: argv,
    options: OPTIONS,
  });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  const threshold = failOnOption('check', values['fail-on']);
  let vlansJson: string | undefined;
  if (values.vlans) {
    try {
      vlansJson = readFileSync(values.vlans, 'utf8');
    } catch (err) {
      throw new UsageError(`check: --vlans ${values.vlans}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  if (values.ssh !== undefined && (values.root !== '/' || values.vlans || values.ovs)) throw new UsageError('check: --ssh reads the host itself; --root, --vlans and --ovs are for a copy of its files');
  const remote = await reachHost('check', values);
  remote?.ssh.close();
  const info = remote ? remote.snapshot.info : discoverHost(values.root, { ...(vlansJson !== undefined ? { vlansJson } : {}), ...(values.ovs ? { ovsDir: values.ovs } : {}) });
  if (info.interfaces.length === 0) throw new UsageError(`check: ${info.warnings[0] ?? `no interfaces under ${values.root}`}`);
  const check = checkTopology(info.topology, info.lacpStates, info.kernelRelease, info.ovs ? ovsLearned(info.ovs) : undefined);
  if (values.json) {
    process.stdout.write(safeJson(hostJson(info, check), 2) + '\n');
  } else {
    const out = ['Host as discovered' + (remote ? ` on ${safeText(remote.ssh.target)} (over ssh)` : values.root !== '/' ? ` (under ${safeText(values.root)})` : ''), ...hostTopologyLines(info), ''];
    if (check.findings.length) out.push(...findingsText(check.findings, []), '');
    else out.push('No loop-prone setting found.', '');
    if (check.fine.length) out.push('Checked and fine:', ...check.fine.map((f) => `  ${safeText(f)}`));
    const bond = info.topology.bonds.find((b) => info.topology.ports.get(b.name)?.bridge)?.name;
    const bridge = bond ? info.topology.ports.get(bond)?.bridge : undefined;
    if (info.topology.bonds.length) out.push('', safeText(kernelSilenceNote('check', bond ? { bond, bridge } : {})));
    for (const w of info.warnings) out.push(`note: ${safeText(w)}`);
    process.stdout.write(out.join('\n') + '\n');
  }
  if (threshold && check.findings.some((f) => atOrAbove(f.severity, threshold))) return EXIT_FINDINGS;
  return EXIT_OK;
}
