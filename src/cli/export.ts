/** `bondscope export FILE... -o DIR`: an evidence bundle for a bug report (src/export/evidence.ts). */
import { DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { DEFAULT_CONTEXT, ExportError, exportEvidence } from '../export/evidence.js';
import { safeText } from '../report/escape.js';
import { parseCommandArgs, windowOption } from './args.js';
import { EXIT_DAMAGED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { linkTypeName } from '../model/link-types.js';
import { ROLE_HELP, ROLE_OPTIONS, topologyFromFlags } from './roles.js';
import { helpText, type CommandHelp } from './help.js';

export const HELP: CommandHelp = {
  name: 'export',
  synopsis: ['export [options] -o DIR FILE...'],
  description: [
    'Writes an evidence bundle for a bug report into DIR (created if missing, files mode 0600):',
    {
      items: [
        ['evidence.pcapng', 'the frames that prove each finding, where each went, and context; a comment on every evidence frame naming its finding; one interface per capture point'],
        ['report.md', 'what was captured, the host, findings with their frame numbers, timeline, remedies, the commands that reproduce it, a Mermaid picture of the loop'],
        ['findings.json', 'the analysis, as `bondscope analyze --json` prints it'],
      ],
    },
    'FILE as for `analyze` (pcap, pcapng, NAME=FILE); not stdin: the files are read twice.',
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['-o, --output DIR', "the bundle's directory (required)"],
        ['--context N', `frames of context before and after each evidence frame (default ${DEFAULT_CONTEXT})`],
        ['--sanitize', 'map MACs and IPs (consistently, prefix-preserving), cut payload past the L3/L4 headers, name interfaces by role (slave0, bond0, bridge0, guest0)'],
        ['--window MS', 'match sightings of one frame within MS milliseconds (default 2000)'],
        ...ROLE_HELP,
        ['-h, --help', 'this text'],
      ],
    },
  ],
};

export const OPTIONS = {
  output: { type: 'string', short: 'o' },
  context: { type: 'string' },
  sanitize: { type: 'boolean', default: false },
  window: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  ...ROLE_OPTIONS,
} as const;

/** The role flags as the user typed them, for the report's commands. */
function roleArgs(values: { bond?: string[]; bridge?: string[]; 'local-mac'?: string[]; links?: string }): string[] {
  const out: string[] = [];
  for (const b of values.bond ?? []) out.push('--bond', b);
  for (const b of values.bridge ?? []) out.push('--bridge', b);
  for (const m of values['local-mac'] ?? []) out.push('--local-mac', m);
  if (values.links) out.push('--links', values.links);
  return out;
}

export async function runExport(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('export', {
    args: argv,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('export: no capture file given (try --help)');
  if (!values.output) throw new UsageError('export: -o DIR is required: the directory to write the bundle into');
  const context = values.context === undefined ? DEFAULT_CONTEXT : Number(values.context);
  if (!Number.isInteger(context) || context < 0 || !/^\d+$/.test(values.context ?? '0')) {
    throw new UsageError(`export: --context takes a whole number of frames, not '${values.context}'`);
  }
  const windowNs = windowOption('export', values.window);
  topologyFromFlags(values); // a bad flag is a usage error before anything is read

  let summary;
  try {
    summary = await exportEvidence({
      specs: positionals,
      outDir: values.output,
      context,
      sanitize: values.sanitize,
      topology: () => topologyFromFlags(values),
      analyzerOptions: { ...DEFAULT_OPTIONS, windowNs: windowNs },
      roleArgs: roleArgs(values),
    });
  } catch (err) {
    if (err instanceof ExportError) throw new UsageError(`export: ${err.message}`);
    throw err;
  }
  const lines: string[] = [];
  for (const [linkType, count] of summary.undecoded) lines.push(`bondscope: ${count} frame${count === 1 ? '' : 's'} of link type ${linkType} (${linkTypeName(linkType)}) not decoded`);
  for (const w of summary.warnings) lines.push(`bondscope: warning: ${safeText(w.message)}`);
  for (const e of summary.errors) lines.push(`bondscope: ${safeText(e.message)}`);
  if (summary.missing) lines.push(`bondscope: warning: ${summary.missing} evidence frame${summary.missing === 1 ? '' : 's'} not found when the inputs were read again`);
  if (summary.unsanitizable) lines.push(`bondscope: ${summary.unsanitizable} context frame${summary.unsanitizable === 1 ? '' : 's'} of link types bondscope cannot decode left out of the sanitized bundle`);
  lines.push(`bondscope: ${safeText(summary.message)}`);
  for (const f of summary.files) lines.push(`  ${safeText(f)}`);
  process.stderr.write(lines.join('\n') + '\n');
  if (summary.errors.some((e) => e.unreadable)) return EXIT_USAGE;
  return summary.errors.length ? EXIT_DAMAGED : EXIT_OK;
}
