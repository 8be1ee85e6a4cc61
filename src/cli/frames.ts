/** `bondscope frames FILE... [--json]`: one line (or one JSON object) per frame, like tshark's summary. */
import { formatTimestamp, openCapture } from '../capture/index.js';
import { DIR_IN, DIR_OUT } from '../model/record.js';
import { DecodedFrame, decodeFrame, formatMac } from '../decode/index.js';
import { safeJson, safeText } from '../report/escape.js';
import { etherTypeText, frameSummary } from '../report/frame-summary.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK, UsageError } from './errors.js';
import { reportInputs } from './inputs.js';
import { LineWriter } from './output.js';
import { topologyFromFlags } from './roles.js';
import { helpText, type CommandHelp } from './help.js';

export const HELP: CommandHelp = {
  name: 'frames',
  synopsis: ['frames [options] FILE...'],
  description: [
    'Prints one line per frame: number, time, interface, direction, source and destination MAC, VLAN ids, EtherType, length and a short summary. FILE is a pcap or pcapng file (gzip or zstd compressed or not), NAME=FILE to name a pcap\'s interface, or - for stdin. Several files are merged into one timeline by timestamp.',
  ],
  groups: [
    {
      title: 'options',
      options: [
        ['--json', 'one JSON object per line (keys n, ts, iface, dir, src, dst, vlan, ethertype, len, caplen, summary)'],
        ['-c, --count N', 'stop after N frames'],
        ['-i, --iface NAME', 'only frames captured on interface NAME (repeatable)'],
        ['-t, --time FMT', 'time column: ad (UTC date and time, default), e (epoch seconds), r (seconds since the first frame)'],
        ['--links FILE', '`ip -j link` output: names the interface of each frame of an SLL2 -i any capture by its ifindex (as analyze takes it); without it they are if#N'],
        ['-h, --help', 'this text'],
      ],
    },
  ],
};

export const OPTIONS = {
  json: { type: 'boolean', default: false },
  count: { type: 'string', short: 'c' },
  iface: { type: 'string', short: 'i', multiple: true },
  time: { type: 'string', short: 't', default: 'ad' },
  links: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function dirText(dir: number): 'in' | 'out' | null {
  return dir === DIR_IN ? 'in' : dir === DIR_OUT ? 'out' : null;
}

function utcTime(sec: number, frac: number, digits: number): string {
  const d = new Date(sec * 1000);
  // A 64-bit pcapng timestamp can lie past what a Date holds (year 275760): epoch seconds then, not NaN.
  if (Number.isNaN(d.getTime())) return formatTimestamp(sec, frac, digits);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return digits ? `${base}.${String(frac).padStart(digits, '0')}` : base;
}

export async function runFrames(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('frames', {
    args: argv,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (values.help) {
    process.stdout.write(helpText(HELP));
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('frames: no capture file given (try --help)');
  const limit = values.count === undefined ? Infinity : Number(values.count);
  if (values.count !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new UsageError(`frames: --count takes a whole number, not '${values.count}'`);
  if (!['ad', 'e', 'r'].includes(values.time!)) throw new UsageError(`frames: --time takes ad, e or r, not '${values.time}'`);
  const only = values.iface ? new Set(values.iface) : null;
  // An -i any (SLL2) capture says each frame's interface by ifindex: named as analyze names it.
  const ifNames = values.links ? topologyFromFlags({ links: values.links }).ifNames : new Map<number, string>();

  const set = openCapture(positionals);
  const out = new LineWriter();
  const frame = new DecodedFrame();
  const undecoded = new Map<number, number>();
  let n = 0;
  let printed = 0;
  let firstSec = -1;
  let firstNsec = 0;
  while (printed < limit && set.next()) {
    const rec = set.rec;
    const iface = rec.iface!;
    n++;
    decodeFrame(rec, frame);
    if (!frame.supported) undecoded.set(iface.linkType, (undecoded.get(iface.linkType) ?? 0) + 1);
    if (firstSec < 0) {
      firstSec = rec.tsSec;
      firstNsec = rec.tsNsec;
    }
    const ifName = frame.sllIfIndex >= 0 ? (ifNames.get(frame.sllIfIndex) ?? `if#${frame.sllIfIndex}`) : iface.name;
    if (only && !only.has(ifName) && !only.has(iface.name)) continue;
    printed++;
    const dir = dirText(rec.direction || frame.linkDirection);
    const vlans = Array.from(frame.vlanIds.subarray(0, frame.vlanCount));
    const summary = frameSummary(rec.buf, frame, iface.linkType);
    if (values.json) {
      out.line(
        safeJson({
          n,
          ts: formatTimestamp(rec.tsSec, rec.tsFrac, iface.tsDigits),
          iface: ifName,
          dir,
          src: frame.src >= 0 ? formatMac(frame.src) : null,
          dst: frame.dst >= 0 ? formatMac(frame.dst) : null,
          vlan: vlans,
          ethertype: etherTypeText(frame),
          len: rec.origLen,
          caplen: rec.caplen,
          summary,
        }),
      );
      continue;
    }
    let time: string;
    if (values.time === 'e') time = formatTimestamp(rec.tsSec, rec.tsFrac, iface.tsDigits);
    else if (values.time === 'r') {
      const ns = (rec.tsSec - firstSec) * 1e9 + (rec.tsNsec - firstNsec);
      time = (ns / 1e9).toFixed(6);
    } else time = utcTime(rec.tsSec, rec.tsFrac, iface.tsDigits);
    const src = frame.src >= 0 ? formatMac(frame.src) : '-';
    const dst = frame.dst >= 0 ? formatMac(frame.dst) : '-';
    const vlanText = vlans.length ? ` vlan ${vlans.join('.')}` : '';
    const typeText = etherTypeText(frame) ?? (frame.llcLength >= 0 ? '802.3 ' : '-     ');
    out.line(
      `${String(n).padStart(6)} ${time} ${safeText(ifName)} ${(dir ?? '-').padEnd(3)} ${src} → ${dst}${vlanText} ${typeText} ${String(rec.origLen).padStart(5)} ${summary}`,
    );
  }
  out.flush();
  return reportInputs(set, undecoded);
}
