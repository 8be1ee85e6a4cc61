/**
 * Evidence bundles for bug reports: `exportEvidence(options)` writes into a directory
 *   evidence.pcapng  the evidence frames of every finding (plus where each went and N frames of
 *                    context), in time order, one IDB per capture interface (name, link type,
 *                    time resolution kept), directions kept, a comment on each evidence frame
 *                    naming its finding, a section comment with the topology and tool version;
 *   report.md        what was captured where and when, topology (with a Mermaid picture of the
 *                    looped frame's path), findings with their frame numbers in evidence.pcapng,
 *                    a timeline, remedies and the commands that reproduce the analysis;
 *   findings.json    analyze's JSON;
 *   links.json       only for `-i any` captures named with --links: the names, for analyze.
 * With `sanitize`, addresses are mapped, payload cut and names replaced (sanitize.ts, naming.ts),
 * and the bundle is checked for every original address and name before it is left on disk.
 *
 * The CLI (`bondscope export`), the UI's `e` key and live mode call this one function. It reads
 * the inputs twice (analysis and index, then the chosen frames), so inputs must be files.
 */
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type CaptureError, openCapture, parseInputSpec, PcapngWriter } from '../capture/index.js';
import type { PacketRecord } from '../model/record.js';
import { PcapngReader } from '../capture/pcapng.js';
import { VERSION } from '../model/version.js';
import { decodeFrame, PK_LACP, PK_STP } from '../decode/index.js';
import { formatIpv4 } from '../decode/addr.js';
import { formatMac } from '../model/mac.js';
import { Analyzer, type AnalyzerOptions, DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { openFiles } from '../pipeline/files.js';
import { capabilities } from '../engine/capabilities.js';
import { FrameIdentity } from '../engine/identity.js';
import { PortTable } from '../engine/ports.js';
import { emptyTopology, mergeTopology, type Topology, topologyToComment } from '../model/topology.js';
import { analysisJson, type InputInfo } from '../report/analysis.js';
import { Naming } from './naming.js';
import { verdictOf } from '../engine/verdict.js';
import { buildReport, type ReportFrame, type ReportInput, utcSeconds } from './report.js';
import { AddressMapper, ipv6Text, newSanitizeKey, sanitizeFrame } from './sanitize.js';
import { describeFrame } from '../engine/detectors/wording.js';
import { CTL_LACP, CTL_STP, FrameIndex, type Note, select } from './select.js';
import { hostView, topologyLines } from './topology-view.js';

export const DEFAULT_CONTEXT = 2;

export interface ExportOptions {
  /** Inputs as given on the command line (paths, NAME=PATH); not stdin. */
  specs: string[];
  outDir: string;
  /** Frames of context before and after each evidence frame (default 2). */
  context?: number;
  sanitize?: boolean;
  /** Key of the address mapping (default: 32 random bytes, new each run). */
  sanitizeKey?: Uint8Array;
  /** A fresh topology from the role flags (called more than once). */
  topology?: () => Topology;
  analyzerOptions?: AnalyzerOptions;
  /** The role flags as typed, for the report's commands. */
  roleArgs?: string[];
  /**
   * An analyzer that has already seen every frame of `specs` and finished (the UI, live mode):
   * its findings are exported and the inputs are read only for the frames.
   */
  analyzer?: Analyzer;
  /** Time of the export (tests). */
  now?: Date;
  /** How the report names each input and its commands cite it (default: as given), e.g. by its name inside the bundle. */
  inputNames?: string[];
}

export interface ExportSummary {
  dir: string;
  files: string[];
  /** Frames in evidence.pcapng, those with a bondscope comment, and context frames. */
  frames: number;
  commented: number;
  context: number;
  findings: number;
  inputFrames: number;
  sanitized: boolean;
  errors: CaptureError[];
  warnings: CaptureError[];
  /** Frames of link types the decoder does not know, by link type. */
  undecoded: Map<number, number>;
  /** Evidence refs that were not found when the inputs were read again. */
  missing: number;
  /** Sanitized: context frames of link types bondscope cannot decode, left out. */
  unsanitizable: number;
  /** One line for a status bar or stderr. */
  message: string;
}

/** A problem with the export itself (not with an input): one line for the user. */
export class ExportError extends Error {
  override name = 'ExportError';
}

interface Copied {
  pos: number;
  iface: number;
  sec: number;
  nsec: number;
  bytes: Uint8Array;
  origLen: number;
  direction: 0 | 1 | 2;
  comment: string | null;
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

function isoTime(sec: number, nsec: number): string {
  return `${utcSeconds(sec, nsec)} UTC`;
}

/**
 * Creates the bundle's directory (0700) and any missing parents, one level at a time: Node's
 * recursive mkdir spins for ever where a file system answers ENOENT to every mkdir (/proc).
 */
function makeDirectory(dir: string, shown: string): void {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    let st;
    try {
      st = statSync(at);
    } catch {
      missing.unshift(at);
      const up = dirname(at);
      if (up === at) break;
      at = up;
      continue;
    }
    if (!st.isDirectory()) throw new ExportError(`cannot create ${shown}: ${at} is not a directory`);
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && statSync(d).isDirectory()) continue;
      const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EROFS' ? 'read-only file system' : e.code === 'ENOENT' ? 'its parent cannot hold directories' : e.message;
      throw new ExportError(`cannot create ${shown}: ${why}`);
    }
  }
}

/** Opens a bundle file for writing, mode 0600 even when it existed before with wider rights. */
function openPrivate(path: string): number {
  const fd = openSync(path, 'w', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}

function writePrivate(path: string, text: string): void {
  const fd = openPrivate(path);
  try {
    const b = Buffer.from(text, 'utf8');
    let done = 0;
    while (done < b.length) done += writeSync(fd, b, done, b.length - done);
  } finally {
    closeSync(fd);
  }
}

export async function exportEvidence(o: ExportOptions): Promise<ExportSummary> {
  const context = o.context ?? DEFAULT_CONTEXT;
  if (!Number.isInteger(context) || context < 0) throw new ExportError(`context must be a whole number of frames, not ${context}`);
  const specs = o.specs.map(parseInputSpec);
  if (specs.length === 0) throw new ExportError('no capture file given');
  if (specs.some((s) => s.path === '-')) throw new ExportError('a capture on stdin cannot be read twice: save it to a file first (export reads its inputs again for the frames)');
  const dir = resolve(o.outDir);
  const files = { evidence: join(dir, 'evidence.pcapng'), report: join(dir, 'report.md'), findings: join(dir, 'findings.json'), links: join(dir, 'links.json') };
  for (const s of specs) {
    let real: string;
    try {
      real = realpathSync(s.path);
    } catch {
      continue; // reported as an input error below
    }
    for (const f of Object.values(files)) {
      try {
        if (realpathSync(f) === real) throw new ExportError(`${s.display} is inside the bundle (${f}): choose another -o directory`);
      } catch (err) {
        if (err instanceof ExportError) throw err;
      }
    }
  }
  const makeTopology = o.topology ?? emptyTopology;

  // Pass 1: the analysis (unless given: then only read) and the index of every frame, as
  // analyze runs it (src/pipeline/files.ts: the topology recorded in the files under the flags,
  // the pre-pass).
  const options = o.analyzerOptions ?? DEFAULT_OPTIONS;
  const perInput = specs.map(() => ({ frames: 0, first: Infinity, last: -Infinity, firstSec: 0, firstNsec: 0, lastSec: 0, lastNsec: 0 }));
  const index = new FrameIndex();
  const identity = new FrameIdentity();
  const run = openFiles(o.specs, { flags: makeTopology(), engine: options, analyzer: o.analyzer });
  const { set, analyzer, undecoded, frame } = run;
  if (set.sources.length === 0) throw new ExportError(set.errors.map((e) => e.message).join('; ') || 'no input could be opened');
  const offsets = analyzer.options.inputOffsetsNs;
  const ports = new PortTable(mergeTopology(emptyTopology(), run.setup.topology));
  const indexFrame = (): void => {
        const rec = set.rec;
        let port = -1;
        let ident = -1;
        if (frame.supported && frame.src >= 0) {
          port = ports.resolve(rec.iface!, frame).index;
          ident = identity.of(rec.buf, frame).key;
        }
        const control = !frame.supported ? 0 : frame.payload === PK_STP ? CTL_STP : frame.payload === PK_LACP ? CTL_LACP : 0;
        // On the analysis's clock, so context around an evidence frame is what happened around it.
        index.add(rec.tsSec, rec.tsNsec - (offsets ? (offsets[rec.inputIndex] ?? 0) : 0), frame.src, frame.vlan, ident, port, rec.inputIndex, rec.inputFrame, control);
        const pi = perInput[rec.inputIndex]!;
        const t = index.t.data[index.length - 1]!;
        pi.frames++;
        if (t < pi.first) [pi.first, pi.firstSec, pi.firstNsec] = [t, rec.tsSec, rec.tsNsec];
        if (t > pi.last) [pi.last, pi.lastSec, pi.lastNsec] = [t, rec.tsSec, rec.tsNsec];
  };
  // In slices: the view exports while it runs, and must keep answering keys.
  for (let n = 1; run.step(indexFrame); n++) if ((n & 0xffff) === 0) await yieldToLoop();
  const findings = run.finish();
  if (set.nothingRead) throw new ExportError(set.errors.map((e) => e.message).join('; '));
  for (const f of findings) if (!f.summary) f.summary = f.kind;
  index.portNames = ports.ports.map((p) => p.port.name);
  index.portRoles = ports.ports.map((p) => p.port.role);
  const isPcapng = set.sources.map((s) => s instanceof PcapngReader);

  const sel = select(index, findings, context, [...analyzer.localMacs]);
  await yieldToLoop();

  // Names: as they are, or sanitized. Ports from the analysis and the index (the same names).
  const mapper = o.sanitize ? new AddressMapper(o.sanitizeKey ?? newSanitizeKey()) : null;
  const allPorts = [...analyzer.ports.ports.map((p) => ({ name: p.port.name, role: p.port.role }))];
  for (const p of [...ports.ports.map((x) => x.port), ...analyzer.topology.ports.values()]) if (!allPorts.some((x) => x.name === p.name)) allPorts.push({ name: p.name, role: p.role });
  const inputNames = specs.map((s, i) => o.inputNames?.[i] ?? s.display);

  // Pass 2: copy the chosen frames (sanitized when asked).
  const want = new Int32Array(index.length).fill(-1);
  sel.selected.forEach((p, k) => (want[p] = k));
  const slots: (Copied | null)[] = new Array(sel.selected.length);
  /** Sanitized bundles leave out frames of link types bondscope cannot decode: it could not sanitize them. */
  let unsanitizable = 0;
  // The second reading stops after the last chosen frame (at once when there is none).
  const set2 = openCapture(o.specs);
  let pos = 0;
  let left = sel.selected.length;
  while (left > 0 && set2.next()) {
    const rec: PacketRecord = set2.rec;
    const k = pos < want.length ? want[pos]! : -1;
    if (k >= 0) {
      if (rec.inputIndex !== index.input.data[pos] || rec.inputFrame !== index.inputFrame.data[pos]) {
        set2.close();
        throw new ExportError(`${inputNames[rec.inputIndex]} changed while it was being exported (frame ${rec.inputFrame} is not where it was): export a file that is no longer being written`);
      }
      let bytes: Uint8Array | null = rec.buf.slice(rec.offset, rec.offset + rec.caplen);
      if (mapper) {
        decodeFrame(rec, frame);
        if (!frame.supported) {
          bytes = null;
          unsanitizable++;
        } else bytes = bytes.subarray(0, sanitizeFrame(rec, frame, bytes, mapper));
      }
      slots[k] = bytes ? { pos, iface: rec.iface!.id, sec: rec.tsSec, nsec: rec.tsNsec, bytes, origLen: rec.origLen, direction: rec.direction, comment: rec.comment } : null;
      left--;
    }
    pos++;
    if ((pos & 0xffff) === 0) await yieldToLoop();
  }
  set2.close();
  if (slots.some((c) => c === undefined)) throw new ExportError('the inputs ended early when read again: export files that are no longer being written');
  const copied = slots.filter((c): c is Copied => c !== null);

  const naming = new Naming(mapper, allPorts, set.registry.list, inputNames);
  const outNo = new Map<number, number>();
  copied.forEach((c, i) => outNo.set(c.pos, i + 1));
  const view = hostView(analyzer);
  const caps = capabilities(analyzer.ports.ports, analyzer.options.unsettledClocks);

  // Comments: what each noted frame shows, with frame numbers as they are in evidence.pcapng.
  const portOf = (p: number): string => {
    const i = index.port.data[p]!;
    return i >= 0 ? index.portNames[i]! : '?';
  };
  const roleOf = (p: number): string => {
    const i = index.port.data[p]!;
    return i >= 0 ? index.portRoles[i]! : 'unknown';
  };
  const macLabel = (m: number): string => (naming.sanitized ? naming.macWithVendor(m) : naming.mac(m));
  const beforeOf = sel.before;
  // The frames of each occurrence of each finding, as the engine tagged them: the origin a frame
  // is described against is the one the engine placed, never worked out here.
  const occurrences = new Map<string, { pos: number; note: Note }[]>();
  for (const [pos, list] of sel.notes) {
    for (const note of list) {
      const key = `${note.finding}|${note.ref.occurrence ?? 0}`;
      const l = occurrences.get(key);
      if (l) l.push({ pos, note });
      else occurrences.set(key, [{ pos, note }]);
    }
  }
  const describe = (p: number, note: Note): string => {
    const f = findings[note.finding]!;
    const port = naming.port(portOf(p));
    const head = `bondscope: ${f.kind}${f.mac >= 0 ? ` ${macLabel(f.mac)}` : ''}${f.vlan ? ` VLAN ${f.vlan}` : ''} — `;
    const occ = occurrences.get(`${note.finding}|${note.ref.occurrence ?? 0}`) ?? [];
    const origin = (occ.find((x) => x.note.ref.role === 'blackholed') ?? occ.find((x) => x.note.ref.role === 'original'))?.pos ?? p;
    const state = note.kind === 'before' ? undefined : beforeOf.get(`${note.finding}|${p}`);
    const words = describeFrame(f, {
      port,
      portRole: roleOf(p),
      role: note.ref.role,
      mac: macLabel(f.mac),
      originNo: String(outNo.get(origin)),
      originPort: naming.port(portOf(origin)),
      isOrigin: origin === p,
      stateNo: state !== undefined ? String(outNo.get(state)) : null,
      statePort: state !== undefined ? naming.port(portOf(state)) : null,
      ofNo: note.kind === 'before' ? String(outNo.get(note.of)) : null,
      guestPort: f.interfaces[1] ? naming.port(f.interfaces[1]) : "the guest's port",
      from: typeof f.details.from === 'string' ? naming.port(f.details.from) : 'its old port',
    });
    // Spanning-tree and LACP findings: the frame and the finding's own sentence.
    return `${head}${words ?? `on ${port}: ${naming.text(f.summary)}`}`;
  };
  // Findings that share a frame and say the same of it (a looped broadcast that is also the
  // wrong-port learning of its guest) get one comment naming both kinds.
  const comments = new Map<number, string[]>();
  for (const [p, list] of sel.notes) {
    const merged: { kinds: string[]; rest: string }[] = [];
    for (const note of list) {
      const text = describe(p, note);
      const kind = findings[note.finding]!.kind;
      const rest = text.slice(`bondscope: ${kind}`.length);
      const same = merged.find((m) => m.rest === rest);
      if (same) {
        if (!same.kinds.includes(kind)) same.kinds.push(kind);
      } else merged.push({ kinds: [kind], rest });
    }
    comments.set(p, merged.map((m) => `bondscope: ${m.kinds.join(' + ')}${m.rest}`));
  }

  // Write the bundle.
  makeDirectory(dir, o.outDir);
  const inputsInfo: InputInfo[] = specs.map((_, i) => ({ index: i, name: naming.input(i) }));
  const kinds = new Map<string, number>();
  for (const f of findings) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const now = o.now ?? new Date();
  const firstAll = perInput.filter((p) => p.frames).sort((a, b) => a.first - b.first)[0];
  const lastAll = perInput.filter((p) => p.frames).sort((a, b) => b.last - a.last)[0];
  // The section comment: the topology as live mode records it (so analyze of the bundle takes the
  // same roles, with the bundle's names), then the same in words for whoever opens the file.
  const record = topologyToComment(recordedTopology(analysedTopology(analyzer), naming), { tool: `bondscope ${VERSION}`, exported: now.toISOString(), sanitized: mapper !== null });
  const sectionComment = [
    record,
    '',
    `bondscope ${VERSION} evidence bundle, exported ${now.toISOString()}${mapper ? ' (sanitized: addresses mapped, payload cut, names replaced)' : ''}`,
    `inputs: ${specs.map((_, i) => `${naming.input(i)} (${perInput[i]!.frames} frames)`).join(', ')}`,
    firstAll && lastAll ? `captured: ${isoTime(firstAll.firstSec, firstAll.firstNsec)} to ${isoTime(lastAll.lastSec, lastAll.lastNsec)}` : 'captured: no frames',
    'topology:',
    ...topologyLines(view, naming).map((l) => `  ${l}`),
    `findings: ${findings.length ? [...kinds].map(([k, c]) => `${k} x${c}`).join(', ') : 'none'}`,
    `frames with a "bondscope:" comment are evidence; the others are context (${context} frames around each)`,
  ].join('\n');

  const written: string[] = [];
  const fd = openPrivate(files.evidence);
  written.push(files.evidence);
  try {
    const w = new PcapngWriter(fd, { comment: sectionComment, userappl: `bondscope ${VERSION}` });
    const ids = set.registry.list.map((i) =>
      w.addInterface({
        name: naming.port(i.name),
        description: mapper ? undefined : (i.description ?? undefined),
        linkType: i.linkType,
        snaplen: i.snaplen,
        tsDigits: i.tsDigits,
        fcsLen: mapper ? 0 : i.fcsLen,
      }),
    );
    for (const c of copied) {
      const ours = comments.get(c.pos) ?? [];
      const theirs = !mapper && c.comment ? [c.comment] : [];
      w.writePacket(ids[c.iface]!, c.sec, c.nsec, c.bytes, 0, c.bytes.length, c.origLen, { direction: c.direction, comment: [...theirs, ...ours] });
    }
    w.close();
  } finally {
    closeSync(fd);
  }

  const verdict = verdictOf(analyzer, findings);
  const json = naming.json(analysisJson(analyzer, findings, caps, inputsInfo, analyzer.stats, verdict));
  writePrivate(files.findings, JSON.stringify(json, null, 2) + '\n');
  written.push(files.findings);

  const topo = analyzer.topology;
  let linksFile: string | null = null;
  if (topo.ifNames.size > 0) {
    // Sanitized: only the interfaces the frames were seen on, by their role names; the host's others are not the vendor's business.
    const links = [...topo.ifNames].filter(([, name]) => naming.knows(name)).map(([ifindex, name]) => ({ ifindex, ifname: naming.port(name) }));
    writePrivate(files.links, JSON.stringify(links, null, 2) + '\n');
    written.push(files.links);
    linksFile = 'links.json';
  }

  const reportFrames: ReportFrame[] = copied.map((c, i) => ({
    no: i + 1,
    sec: c.sec,
    nsec: c.nsec,
    port: naming.port(index.port.data[c.pos]! >= 0 ? portOf(c.pos) : set.registry.list[c.iface]!.name),
    notes: sel.notes.get(c.pos) ?? [],
    comments: comments.get(c.pos) ?? [],
  }));
  const reportInputs: ReportInput[] = specs.map((_, i) => ({
    name: naming.input(i),
    format: isPcapng[i] ? 'pcapng' : 'pcap',
    frames: perInput[i]!.frames,
    first: perInput[i]!.frames ? isoTime(perInput[i]!.firstSec, perInput[i]!.firstNsec) : '-',
    last: perInput[i]!.frames ? isoTime(perInput[i]!.lastSec, perInput[i]!.lastNsec) : '-',
  }));
  const report = buildReport({
    version: VERSION,
    now,
    naming,
    analyzer,
    findings,
    caps,
    verdict,
    view,
    inputs: reportInputs,
    interfaces: set.registry.list,
    frames: reportFrames,
    context,
    sanitized: mapper !== null,
    originalSpecs: o.inputNames ?? o.specs,
    roleArgs: o.roleArgs ?? [],
    topology: makeTopology(),
    linksFile,
    firstSec: firstAll?.firstSec ?? 0,
    firstNsec: firstAll?.firstNsec ?? 0,
    leftOut: unsanitizable,
  });
  writePrivate(files.report, report);
  written.push(files.report);

  if (mapper) {
    const leaks = findLeaks(written, mapper, naming, inputNames);
    if (leaks.length) {
      for (const f of written) unlinkSync(f);
      throw new ExportError(`sanitizing left ${leaks.slice(0, 3).join('; ')} in the bundle: nothing was left on disk (this is a bug, please report it)`);
    }
  }

  const commented = copied.filter((c) => sel.notes.has(c.pos)).length;
  const summary: ExportSummary = {
    dir,
    files: written,
    frames: copied.length,
    commented,
    context: copied.length - commented,
    findings: findings.length,
    inputFrames: index.length,
    sanitized: mapper !== null,
    errors: [...set.errors],
    warnings: [...set.warnings],
    undecoded,
    missing: sel.missing.length,
    unsanitizable,
    message: '',
  };
  summary.message = `exported ${findings.length} finding${findings.length === 1 ? '' : 's'}: ${copied.length} frames (${commented} with a comment: evidence and its path; ${copied.length - commented} context) to ${o.outDir}${mapper ? ', sanitized' : ''}`;
  return summary;
}

/** Host MACs learned from frames, recorded in a bundle at most (the topology is one comment). */
const MAX_RECORDED_HOST_MACS = 256;

/**
 * The analysis' topology plus the host's own MACs it learned from frames the bridge device sent.
 * A bundle holds only some of those frames (the context around evidence may show a host frame on
 * a guest's vif without the bridge's copy), and a reader that had to learn them again could take
 * the host for a guest.
 */
function analysedTopology(a: Analyzer): Topology {
  const localMacs = new Set(a.topology.localMacs);
  for (const m of a.localMacs) if (localMacs.size < MAX_RECORDED_HOST_MACS) localMacs.add(m);
  return { ...a.topology, localMacs };
}

/** The topology to record in the bundle, with the bundle's names and addresses. */
function recordedTopology(t: Topology, n: Naming): Topology {
  if (!n.sanitized) return t;
  const out = emptyTopology();
  const name = (x: string | null): string | null => (x === null ? null : n.port(x));
  const mac = (m: number): number => (m >= 0 && n.mapper ? n.mapper.mapMac(m) : m);
  // "8000.001122334455": priority, then the bridge's MAC.
  const bridgeId = (id: string | null): string | null => {
    const m = id ? /^([0-9a-f]{4})\.([0-9a-f]{12})$/i.exec(id) : null;
    return m ? `${m[1]}.${mac(parseInt(m[2]!, 16)).toString(16).padStart(12, '0')}` : null;
  };
  for (const p of t.ports.values()) if (n.knows(p.name)) out.ports.set(n.port(p.name), { ...p, name: n.port(p.name), bond: name(p.bond), bridge: name(p.bridge), reason: n.text(p.reason) });
  out.bonds = t.bonds.map((b) => ({ ...b, name: n.port(b.name), slaves: b.slaves.map((s) => ({ ...s, name: n.port(s.name), permanentMac: mac(s.permanentMac), partnerMac: mac(s.partnerMac) })) }));
  out.bridges = t.bridges.map((b) => ({ ...b, name: n.port(b.name), bridgeId: bridgeId(b.bridgeId), rootId: bridgeId(b.rootId), ports: b.ports.map((p) => ({ ...p, name: n.port(p.name) })) }));
  for (const m of t.localMacs) out.localMacs.add(mac(m));
  for (const [i, x] of t.ifNames) if (n.knows(x)) out.ifNames.set(i, n.port(x));
  return out;
}

/**
 * Every form an original address or name could take in a bundle file: raw bytes (MAC, IPv4,
 * IPv6) and text (MAC with colons, dashes, dots or none; dotted IPv4; IPv6 as printed), each
 * name, each input path. Returns what was found where.
 */
export function findLeaks(paths: string[], mapper: AddressMapper, naming: Naming, inputNames: string[]): string[] {
  const orig = mapper.originals();
  const needles: [string, Buffer][] = [];
  for (const m of orig.macs) {
    const hex = m.toString(16).padStart(12, '0');
    const text = formatMac(m);
    needles.push([`MAC ${text}`, Buffer.from(hex, 'hex')]);
    for (const t of [text, text.replace(/:/g, '-'), hex, `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`]) {
      needles.push([`MAC ${text}`, Buffer.from(t)], [`MAC ${text}`, Buffer.from(t.toUpperCase())]);
    }
  }
  for (const a of orig.ipv4) {
    // Text only: four raw bytes turn up by chance in a bundle of megabytes (timestamps, lengths),
    // and a false alarm would throw the bundle away. sanitizeFrame keeps no IPv4 header whose
    // addresses it did not map; the tests search the raw bytes on the lab recordings.
    const b = Buffer.from([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);
    needles.push([`IPv4 ${formatIpv4(b, 0)}`, Buffer.from(formatIpv4(b, 0))]);
  }
  for (const a of orig.ipv6) needles.push([`IPv6 ${ipv6Text(a)}`, Buffer.from(a)], [`IPv6 ${ipv6Text(a)}`, Buffer.from(ipv6Text(a))]);
  const names = [...naming.originalNames(), ...inputNames].filter((s) => s.length >= 2);
  const found: string[] = [];
  for (const p of paths) {
    const data = readFileSync(p);
    const text = data.toString('latin1');
    for (const [what, needle] of needles) {
      if (!data.includes(needle)) continue;
      // A dotted IPv4 text inside a longer number ("10.0.0.1" in "110.0.0.12") is not that address.
      if (what.startsWith('IPv4')) {
        const re = new RegExp(`(?<![\\d.])${needle.toString().replace(/\./g, '\\.')}(?![\\d]|\\.\\d)`);
        if (!re.test(text)) continue;
      }
      found.push(`${what} in ${p}`);
    }
    // Whole words only (a name inside a longer one is not it): the text split once into words of
    // the characters names are made of, trailing dots dropped, and each name looked up — one
    // regular expression per name was quadratic (16 000 interfaces: 6 s).
    const words = new Set(text.split(/[^\w.:@#/-]+/).map((w) => w.replace(/\.+$/, '')));
    for (const name of names) {
      if (/^[\w.:@#/-]+$/.test(name) && !name.endsWith('.')) {
        if (words.has(name)) found.push(`the name ${name} in ${p}`);
        continue;
      }
      if (!text.includes(name)) continue;
      const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (new RegExp(`(?<![\\w.:@#/-])${esc}(?![\\w:@#/-]|\\.\\w)`).test(text)) found.push(`the name ${name} in ${p}`);
    }
  }
  return [...new Set(found)];
}
