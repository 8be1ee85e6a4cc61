/**
 * Which frames go into an evidence bundle, and what each one shows.
 *
 * A first pass over the inputs (together with the analysis, when the caller has none yet) keeps a
 * compact index of every frame: time, port, source MAC, VLAN and frame identity (the engine's
 * hash that is equal for the sightings of one frame on several interfaces), ~36 bytes a frame.
 * From it, for each finding:
 *  - its evidence frames (Finding.evidence), which the engine gives whole and tagged: every copy of
 *    the frame on its way (original, out, echo, up the bond, flooded …), and the frame that set
 *    the state a finding depends on (the echo that taught the bridge the guest on the bond; the
 *    MAC's last frame on its old port before a move). Nothing here works a path out again;
 *  - N frames of context before and after each evidence frame, in time order across interfaces,
 *    each with the other copies of the same bytes within the switch round trip (path.ts's bound),
 *    so a context frame never stands alone in the bundle.
 * The bundle is written in time order (copies stamped the same instant in the order the engine
 * placed them), so a loop reads top to bottom: vif, slave out, slave back, bond.
 */
import type { Finding } from '../engine/findings.js';
import { SWITCH_ROUND_TRIP_NS } from '../engine/path.js';

/** Copies of one frame follow each other by at most the switch round trip (the engine's one bound). */
export const SIGHTING_WINDOW_NS = SWITCH_ROUND_TRIP_NS;
/**
 * Sightings of one frame taken per evidence frame, on each side in time, and how far to look: the
 * engine keeps at most 64 sightings of a frame too. A storm of one frame (8000 copies of a BPDU at
 * one instant) would otherwise put every copy in the bundle, and label each against all others.
 */
const MAX_SIGHTINGS = 64;
const SIGHTING_SCAN = 100_000;

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

export type NoteKind = 'evidence' | 'before';

/** Copies the bridge delivered, or that came in on the way to it: the rest of a frame's path, not its key frames. */
export function isPathCopy(note: Note): boolean {
  return note.ref.role === 'flooded' || note.ref.role === 'echo-flooded' || note.ref.role === 'inbound' || note.ref.role === 'promiscuous';
}

export interface Note {
  /** Index of the finding in the exported list. */
  finding: number;
  kind: NoteKind;
  /** For `before`: the evidence frame it explains (itself for `evidence`). */
  of: number;
  /** The engine's tag for the frame (Finding.evidence), and which occurrence of the finding it belongs to. */
  ref: Finding['evidence'][number];
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

/**
 * `localMacs`: the host's own MACs as the analysis learned them (the first frame of each on the
 * bridge comes along for spanning-tree findings).
 */
export function select(index: FrameIndex, findings: Finding[], context: number, localMacs: number[] = []): Selection {
  const n = index.length;
  const t = index.t.data;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const wanted = new Map<number, number>();
  for (const f of findings) for (const e of f.evidence) wanted.set(refKey(e.input, e.frame), -1);
  for (let i = 0; i < n && wanted.size; i++) {
    const k = refKey(index.input.data[i]!, index.inputFrame.data[i]!);
    if (wanted.get(k) === -1) wanted.set(k, i);
  }
  // Copies stamped the same instant go in the order the engine placed them in their path.
  const placed = new Map<number, number>();
  for (const f of findings) f.evidence.forEach((e, k) => {
    const p = wanted.get(refKey(e.input, e.frame));
    if (p !== undefined && p >= 0 && !placed.has(p)) placed.set(p, k);
  });
  const byTime = (a: number, b: number): number => {
    const dt = t[a]! - t[b]!;
    if (dt !== 0) return dt;
    const pa = placed.get(a);
    const pb = placed.get(b);
    if (pa !== undefined && pb !== undefined && pa !== pb) return pa - pb;
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
  findings.forEach((f, fi) => {
    // The engine's evidence, as it tagged it: the frames that set a state are `before` notes of
    // the frames of their occurrence that depend on them.
    const at: { p: number; ref: Finding['evidence'][number] }[] = [];
    for (const e of f.evidence) {
      const p = wanted.get(refKey(e.input, e.frame));
      if (p === undefined || p < 0) missing.push({ input: e.input, frame: e.frame });
      else at.push({ p, ref: e });
    }
    for (const { p, ref } of at) {
      const state = ref.role === 'set-state' || ref.role === 'last-before-move';
      if (state) continue;
      addNote(p, { finding: fi, kind: 'evidence', of: p, ref });
      anchors.add(p);
    }
    for (const { p, ref } of at) {
      if (ref.role !== 'set-state' && ref.role !== 'last-before-move') continue;
      // What it explains: the occurrence's blackholed unicast, or the frame that moved it.
      const dependent = at.find((x) => x.ref.occurrence === ref.occurrence && (x.ref.role === 'blackholed' || x.ref.role === 'moved')) ?? at.find((x) => x.ref.role === 'blackholed' || x.ref.role === 'moved');
      if (dependent) before.set(`${fi}|${dependent.p}`, p);
      if (!notes.get(p)?.some((x) => x.finding === fi)) addNote(p, { finding: fi, kind: 'before', of: dependent?.p ?? p, ref });
      anchors.add(p);
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
