/**
 * Which frames go into an evidence bundle, and what each one shows.
 *
 * A first pass over the inputs (together with the analysis, when the caller has none yet) keeps a
 * compact index of every frame: time, port, source MAC, VLAN and frame identity (the engine's
 * hash that is equal for the sightings of one frame on several interfaces), ~36 bytes a frame.
 * From it, for each finding:
 *  - its evidence frames (Finding.evidence: input and frame number);
 *  - every other sighting of those frames (same identity and source within 200 ms): the path the
 *    frame took, which is what makes a loop or a drop visible (a unicast on bond0 and xenbr0 but
 *    not on the guest's vif);
 *  - the frame that set the state a finding depends on: for a blackholed unicast, the echo that
 *    taught the bridge the guest on the bond; for a move, the guest's last frame on its old port;
 *  - N frames of context before and after each evidence frame, in time order across interfaces,
 *    each with its own path.
 * The bundle is written in time order, so a loop reads top to bottom: vif, slave out, slave back,
 * bond.
 */
import type { Finding } from '../engine/findings.js';

/** Sightings of one frame farther apart than this are two frames (the engine's echo limit). */
export const SIGHTING_WINDOW_NS = 200e6;
/**
 * Sightings of one frame taken per evidence frame, on each side in time, and how far to look: the
 * engine keeps at most 64 sightings of a frame too. A storm of one frame (8000 copies of a BPDU at
 * one instant) would otherwise put every copy in the bundle, and label each against all others.
 */
const MAX_SIGHTINGS = 64;
const SIGHTING_SCAN = 100_000;
/** How far back a state frame is looked for, in frames. */
const STATE_LOOKBACK = 2_000_000;

class GrowF64 {
  data = new Float64Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.n++] = v;
  }
}

class GrowI32 {
  data = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.n++] = v;
  }
}

/** One row per frame of the inputs, in the order the reader delivers them (the position). */
export class FrameIndex {
  /** ns since `baseSec`. */
  readonly t = new GrowF64();
  readonly src = new GrowF64();
  readonly vlan = new GrowI32();
  /** Frame identity, -1 for frames not decoded (no source MAC). */
  readonly ident = new GrowI32();
  /** Port index in `portNames`, -1 when not decoded. */
  readonly port = new GrowI32();
  readonly input = new GrowI32();
  readonly inputFrame = new GrowI32();
  /** Control-plane frames: CTL_STP for BPDUs, CTL_LACP for LACPDUs, 0 for the rest. */
  readonly control = new GrowI32();
  baseSec = -1;
  portNames: string[] = [];
  portRoles: string[] = [];

  get length(): number {
    return this.t.n;
  }

  add(tsSec: number, tsNsec: number, src: number, vlan: number, ident: number, port: number, input: number, inputFrame: number, control = 0): void {
    this.control.push(control);
    if (this.baseSec < 0) this.baseSec = tsSec;
    this.t.push((tsSec - this.baseSec) * 1e9 + tsNsec);
    this.src.push(src);
    this.vlan.push(vlan);
    this.ident.push(ident);
    this.port.push(port);
    this.input.push(input);
    this.inputFrame.push(inputFrame);
  }
}

export const CTL_STP = 1;
export const CTL_LACP = 2;
/**
 * Spanning-tree and LACP findings hang on the protocol's state over time (the last BPDU, whether a
 * partner ever answered): their bundle carries every BPDU or LACPDU of the capture, as context, up
 * to this many, so analysing it finds the same and no more.
 */
const MAX_CONTROL_FRAMES = 20_000;

export type NoteKind = 'evidence' | 'path' | 'before';

export interface Note {
  /** Index of the finding in the exported list. */
  finding: number;
  kind: NoteKind;
  /** For `path`: the frame this is another sighting of; for `before`: the evidence frame it explains. */
  of: number;
}

export interface Selection {
  /** Positions sorted by time (ties: reader order): the order of evidence.pcapng. */
  order: Uint32Array;
  rank: Uint32Array;
  /** Notes per position (frames with a comment). */
  notes: Map<number, Note[]>;
  /** Every position to write (noted and context), in time order. */
  selected: number[];
  /** Evidence refs not found in the inputs (input, frame), for a warning. */
  missing: { input: number; frame: number }[];
  /** `finding|evidence position` → the position of the frame that set the state it depends on. */
  before: Map<string, number>;
}

function refKey(input: number, frame: number): number {
  return input * 4294967296 + frame;
}

const PATH_ORDER: Record<string, number> = { guest: 0, bridge: 1, bond: 2, slave: 3, unknown: 4 };

/**
 * `hostMac` tells the host's and its guests' MACs: sightings with one timestamp (a frame crossing
 * the host is stamped once) are put in the order the frame went, out of the host for those
 * (guest, bridge, bond, slave), into it for the others (the reverse).
 */
export function select(index: FrameIndex, findings: Finding[], context: number, hostMac: (mac: number) => boolean = () => false, localMacs: number[] = []): Selection {
  const n = index.length;
  const t = index.t.data;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const pathRank = (p: number): number => {
    const port = index.port.data[p]!;
    return port < 0 ? 5 : (PATH_ORDER[index.portRoles[port]!] ?? 4);
  };
  const byTime = (a: number, b: number): number => {
    const dt = t[a]! - t[b]!;
    if (dt !== 0) return dt;
    const src = index.src.data[a]!;
    if (src >= 0 && src === index.src.data[b]) {
      const d = pathRank(a) - pathRank(b);
      if (d !== 0) return hostMac(src) ? d : -d;
    }
    return a - b;
  };
  let inOrder = true;
  for (let i = 1; i < n && inOrder; i++) if (t[i]! < t[i - 1]!) inOrder = false;
  if (!inOrder) order.sort(byTime);
  else {
    // Most captures are in time order already (one interface, or merged inputs): only runs of
    // frames with one timestamp need ordering, which saves sorting millions of frames.
    for (let i = 0; i < n; ) {
      let j = i + 1;
      while (j < n && t[j] === t[i]) j++;
      if (j - i > 1) order.subarray(i, j).sort(byTime);
      i = j;
    }
  }
  const rank = new Uint32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]!] = r;

  const wanted = new Map<number, number>();
  for (const f of findings) for (const e of f.evidence) wanted.set(refKey(e.input, e.frame), -1);
  for (let i = 0; i < n && wanted.size; i++) {
    const k = refKey(index.input.data[i]!, index.inputFrame.data[i]!);
    if (wanted.get(k) === -1) wanted.set(k, i);
  }

  const notes = new Map<number, Note[]>();
  const missing: { input: number; frame: number }[] = [];
  const addNote = (pos: number, note: Note): void => {
    const list = notes.get(pos);
    if (!list) notes.set(pos, [note]);
    else if (!list.some((x) => x.finding === note.finding)) list.push(note);
  };
  const anchors = new Set<number>();
  const before = new Map<string, number>();
  const sightings = (p: number): number[] => {
    const out: number[] = [];
    const id = index.ident.data[p]!;
    if (id < 0) return out;
    const src = index.src.data[p]!;
    const tp = t[p]!;
    for (const dir of [-1, 1]) {
      let found = 0;
      for (let r = rank[p]! + dir, steps = 0; r >= 0 && r < n && found < MAX_SIGHTINGS && steps < SIGHTING_SCAN; r += dir, steps++) {
        const q = order[r]!;
        if (Math.abs(t[q]! - tp) > SIGHTING_WINDOW_NS) break;
        if (index.ident.data[q] === id && index.src.data[q] === src) {
          out.push(q);
          found++;
        }
      }
    }
    return out;
  };
  /** The latest frame before `p` (in time) from `mac` on VLAN `vlan` seen on a port `portOk` accepts. */
  const lastBefore = (p: number, mac: number, vlan: number, portOk: (port: number) => boolean): number => {
    for (let r = rank[p]! - 1, steps = 0; r >= 0 && steps < STATE_LOOKBACK; r--, steps++) {
      const q = order[r]!;
      if (index.src.data[q] === mac && index.vlan.data[q] === vlan && index.port.data[q]! >= 0 && portOk(index.port.data[q]!)) return q;
    }
    return -1;
  };

  findings.forEach((f, fi) => {
    const evidence: number[] = [];
    for (const e of f.evidence) {
      const p = wanted.get(refKey(e.input, e.frame));
      if (p === undefined || p < 0) missing.push(e);
      else evidence.push(p);
    }
    for (const p of evidence) {
      addNote(p, { finding: fi, kind: 'evidence', of: p });
      anchors.add(p);
    }
    const withPath = (p: number): void => {
      for (const q of sightings(p)) addNote(q, { finding: fi, kind: 'path', of: p });
    };
    for (const p of evidence) withPath(p);
    for (const p of evidence) {
      let q = -1;
      if (f.kind === 'blackholed-unicast') q = lastBefore(p, f.mac, f.vlan, (port) => index.portRoles[port] === 'bond');
      else if (f.kind === 'mac-move' && typeof f.details.from === 'string') {
        const from = index.portNames.indexOf(f.details.from);
        if (from >= 0) q = lastBefore(p, f.mac, f.vlan, (port) => port === from);
      }
      if (q >= 0) before.set(`${fi}|${p}`, q);
      if (q >= 0 && !notes.get(q)?.some((x) => x.finding === fi)) {
        addNote(q, { finding: fi, kind: 'before', of: p });
        anchors.add(q);
        withPath(q);
      }
    }
  });

  const chosen = new Uint8Array(n);
  for (const p of notes.keys()) chosen[p] = 1;
  const wantControl = (findings.some((f) => f.kind.startsWith('stp-')) ? CTL_STP : 0) | (findings.some((f) => f.kind.startsWith('lacp-')) ? CTL_LACP : 0);
  if (wantControl) {
    let taken = 0;
    for (let i = 0; i < n && taken < MAX_CONTROL_FRAMES; i++) {
      if (index.control.data[i]! & wantControl) {
        chosen[i] = 1;
        taken++;
      }
    }
  }
  if (wantControl & CTL_STP) {
    // Whether a BPDU is the host's own the engine tells by the host's MACs, learned from frames the
    // bridge device sent: the first such frame of each, with where it went, comes along.
    for (const mac of localMacs.slice(0, 16)) {
      for (let r = 0; r < n; r++) {
        const q = order[r]!;
        const port = index.port.data[q]!;
        if (index.src.data[q] === mac && port >= 0 && index.portRoles[port] === 'bridge') {
          chosen[q] = 1;
          for (const x of sightings(q)) chosen[x] = 1;
          break;
        }
      }
    }
  }
  // A context frame comes with the rest of its path: one copy of a frame alone (a host's broadcast
  // on a guest's vif without the bridge's copy it was flooded from) would tell a reader of the
  // bundle a different story, and analysing the bundle would find things the capture does not show.
  for (const p of anchors) {
    const r = rank[p]!;
    for (let k = Math.max(0, r - context); k <= Math.min(n - 1, r + context); k++) {
      const q = order[k]!;
      if (chosen[q]) continue;
      chosen[q] = 1;
      for (const x of sightings(q)) chosen[x] = 1;
    }
  }
  const selected: number[] = [];
  for (let r = 0; r < n; r++) if (chosen[order[r]!]) selected.push(order[r]!);
  return { order, rank, notes, selected, missing, before };
}
