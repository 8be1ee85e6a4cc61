/** `bondscope check`: from the host's configuration alone, is this bonded bridge loop-prone, and why. */
import { discoverHost } from '../capture/host/discover.js';
import { checkTopology } from '../engine/host-check.js';
import { atOrAbove } from '../engine/severity.js';
import { findingsText } from '../report/analysis.js';
import { safeJson, safeText } from '../report/escape.js';
import { hostJson, hostTopologyLines } from '../report/host.js';
import { failOnOption, parseCommandArgs } from './args.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './errors.js';

const USAGE = `usage: bondscope check [--root DIR] [--json] [--fail-on LEVEL]

Reads the host's bonds (/proc/net/bonding, /sys/class/net/*/bonding) and bridges
(/sys/class/net/*/bridge, brif/) and says, without capturing, whether a bond under a bridge is set
up so that it loops: balance-rr/xor/broadcast, active-backup with all_slaves_active=1 or a driver
before 3.0.2, tlb/alb, 802.3ad slaves with different partners. Needs no privileges.

options:
  --root DIR         read sys/class/net and proc/net/bonding under DIR (a copy from another host)
  --json             one JSON object: bonds, bridges, interfaces, own MACs, findings
  --fail-on LEVEL    exit 3 when a finding of LEVEL or worse exists (error, warning, info)
  -h, --help         this text
`;

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('check', {
    args: argv,
    options: {
      root: { type: 'string', default: '/' },
      json: { type: 'boolean', default: false },
      'fail-on': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  const threshold = failOnOption('check', values['fail-on']);
  const info = discoverHost(values.root);
  if (info.interfaces.length === 0) throw new UsageError(`check: ${info.warnings[0] ?? `no interfaces under ${values.root}`}`);
  const check = checkTopology(info.topology, info.lacpStates);
  if (values.json) {
    process.stdout.write(safeJson(hostJson(info, check), 2) + '\n');
  } else {
    const out = ['Host as discovered' + (values.root !== '/' ? ` (under ${safeText(values.root)})` : ''), ...hostTopologyLines(info), ''];
    if (check.findings.length) out.push(...findingsText(check.findings, []), '');
    else out.push('No loop-prone setting found.', '');
    if (check.fine.length) out.push('Checked and fine:', ...check.fine.map((f) => `  ${safeText(f)}`));
    for (const w of info.warnings) out.push(`note: ${safeText(w)}`);
    process.stdout.write(out.join('\n') + '\n');
  }
  if (threshold && check.findings.some((f) => atOrAbove(f.severity, threshold))) return EXIT_FINDINGS;
  return EXIT_OK;
}
