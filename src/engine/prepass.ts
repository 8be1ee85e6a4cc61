/**
 * The pre-pass before the engine: the first frames of the inputs, read once, grouped into the
 * sightings of each frame (the same frame seen on several ports), from which two things are
 * settled before the engine starts — whose clocks differ (src/engine/clock.ts) and, for ports that
 * neither flags, a recorded topology nor names explain, what role each plays
 * (src/engine/infer-roles.ts). Both are pure functions over the FrameSightings built here.
 *
 * A frame's sightings are the records with one identity (FrameIdentity: source MAC, EtherType, the
 * first bytes of the packet) no further apart than GROUP_GAP_NS from the previous one: wide enough
 * for a frame's copies on one clock and on clocks a little apart, narrow enough that a resend a
 * second later starts a frame of its own. Clocks further apart split a frame's copies into groups
 * of their own: clock.ts pairs them across the files first, and regroup() groups the sightings
 * again on the offsets it found.
 */
import type { PacketRecord } from '../model/record.js';
import { emptyTopology, mergeTopology, type PortRole, type Topology } from '../model/topology.js';
import { DecodedFrame, decodeFrame } from '../decode/index.js';
import { PK_LACP, PK_STP } from '../decode/frame.js';
import { type ClockLink, type ClockOffset, clockOffsets, coarseOffsets, compareClocks, heldClocks, refineOffsets, tieClocks, type UnsettledClock, unsettledClocks } from './clock.js';
import { FrameIdentity } from './identity.js';
import { type InferredRole, inferRoles } from './infer-roles.js';
import { MERGED_COPIES, mergedPorts } from './merged-points.js';
import { PortTable } from './ports.js';
import { CAST_FLOODED, CAST_UNICAST, CAST_UNKNOWN, type FrameSightings, keepSightings, type PrepassPort, type SpanningTreeHeard } from './sightings.js';

export { CAST_FLOODED, CAST_UNICAST, CAST_UNKNOWN } from './sightings.js';
export type { FrameSightings, PrepassPort, SpanningTreeHeard } from './sightings.js';

/** Frames the pre-pass reads from the start of the inputs. */
export const PREPASS_FRAMES = 200_000;
/** Sightings of one identity further apart than this (from the previous one) are another frame. */
export const GROUP_GAP_NS = 100e6;
/** Groups of one identity looked back over for a copy's own (SightingCollector.observe). */
const MAX_SAME_IDENTITY = 4;
/** Sightings kept of one frame: a storm of copies proves nothing more than its first few. */
const MAX_GROUP_SIGHTINGS = 32;

/** Rows SightingGroups' columns start with: past NOTHING_TO_DO_AFTER's records, for a run of one input that stops there. */
const FIRST_ROWS = 8192;

/** Port and bridge pairs of BPDUs kept (FrameSightings.bpduPort): a storm of them names no more bridges. */
const MAX_BPDU_BRIDGES = 64;

/**
 * The grouping rule: per frame identity the group still open, a new one when the identity comes
 * back further than GROUP_GAP_NS away. Typed-array columns for up to `capacity` sightings (each
 * is at most one group), each sighting with its group's number: finish() lays them out group by
 * group. The time a sighting is grouped by (`at`) may differ from the stamp it keeps (`t`):
 * regroup() groups on lined-up clocks, stamps as read.
 *
 * The columns hold FIRST_ROWS rows, then, past them, `capacity` at once: doubling copied every
 * column at every step (3% of a multi-port analyze, README Speed), and a fresh typed array is zero
 * pages the kernel maps only when written, so the rows a run never reaches cost no memory. Not
 * `capacity` from the start: a run of one input stops after a few thousand records, and 14 MB of
 * columns made V8 collect its whole heap once more for it.
 */
class SightingGroups {
  /** Identity key → its open group. */
  private readonly open = new Map<number, number>();
  private sGroup = new Int32Array(0);
  private sPort = new Int32Array(0);
  private sInput = new Int32Array(0);
  private sT = new Float64Array(0);
  private sDir = new Uint8Array(0);
  sightings = 0;
  private gCount = new Int32Array(0);
  private gLast = new Float64Array(0);
  private gKey = new Int32Array(0);
  private gFirst = new Float64Array(0);
  /** The group this identity had before this one (-1): groups of one identity, newest first. */
  private gPrev = new Int32Array(0);
  private gCheck = new Int32Array(0);
  private gSrc = new Float64Array(0);
  private gCast = new Uint8Array(0);
  private groups = 0;
  /** Rows the columns hold now. */
  private rows = 0;

  constructor(
    private readonly inputs: number,
    private readonly capacity: number,
  ) {
    this.grow();
  }

  private grow(): void {
    const rows = this.rows === 0 ? Math.min(this.capacity, FIRST_ROWS) : this.capacity;
    /** The column `rows` long, of its own kind, what it held first. */
    const wider = <T extends Int32Array | Float64Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(rows);
      b.set(a);
      return b;
    };
    this.sGroup = wider(this.sGroup);
    this.sPort = wider(this.sPort);
    this.sInput = wider(this.sInput);
    this.sT = wider(this.sT);
    this.sDir = wider(this.sDir);
    this.gCount = wider(this.gCount);
    this.gLast = wider(this.gLast);
    this.gKey = wider(this.gKey);
    this.gFirst = wider(this.gFirst);
    this.gPrev = wider(this.gPrev);
    this.gCheck = wider(this.gCheck);
    this.gSrc = wider(this.gSrc);
    this.gCast = wider(this.gCast);
    this.rows = rows;
  }

  get full(): boolean {
    return this.sightings >= this.capacity;
  }

  /**
   * The group a sighting of this identity at `at` joins: of the last few groups of the identity, the
   * nearest whose stamps are within GROUP_GAP_NS (a file not in time order: dumpcap writes each
   * interface's frames in batches, up to a quarter of a second late, so a copy can come after a
   * later frame with the same bytes opened its own group); a new one if none. -1 when that group
   * holds its most.
   */
  group(key: number, check: number, src: number, cast: number, at: number): number {
    if (this.sightings >= this.rows || this.groups >= this.rows) this.grow();
    let g = -1;
    let best = Infinity;
    const newest = this.open.get(key) ?? -1;
    for (let x = newest, steps = 0; x >= 0 && steps < MAX_SAME_IDENTITY; x = this.gPrev[x]!, steps++) {
      if (this.gCheck[x] !== check) continue;
      const d = at < this.gFirst[x]! ? this.gFirst[x]! - at : at > this.gLast[x]! ? at - this.gLast[x]! : 0;
      if (d <= GROUP_GAP_NS && d < best) (best = d), (g = x);
    }
    if (g < 0) {
      g = this.groups++;
      this.gCount[g] = 0;
      this.gFirst[g] = at;
      this.gLast[g] = at;
      this.gPrev[g] = newest;
      this.gKey[g] = key;
      this.gCheck[g] = check;
      this.gSrc[g] = src;
      this.gCast[g] = cast;
      this.open.set(key, g);
    }
    if (at > this.gLast[g]!) this.gLast[g] = at;
    if (at < this.gFirst[g]!) this.gFirst[g] = at;
    return this.gCount[g]! >= MAX_GROUP_SIGHTINGS ? -1 : g;
  }

  /** A sighting in group g (from group()). */
  sight(g: number, port: number, input: number, t: number, dir: number): void {
    const k = this.sightings++;
    this.sGroup[k] = g;
    this.sPort[k] = port;
    this.sInput[k] = input;
    this.sT[k] = t;
    this.sDir[k] = dir;
    this.gCount[g]!++;
  }

  finish(ports: PrepassPort[], records: number, stp: SpanningTreeHeard): FrameSightings {
    const frames = this.groups;
    const n = this.sightings;
    const s: FrameSightings = {
      ports,
      inputs: this.inputs,
      records,
      frames,
      start: new Int32Array(frames + 1),
      port: new Int32Array(n),
      input: new Int32Array(n),
      t: new Float64Array(n),
      dir: new Uint8Array(n),
      src: this.gSrc.slice(0, frames),
      cast: this.gCast.slice(0, frames),
      key: this.gKey.slice(0, frames),
      check: this.gCheck.slice(0, frames),
      seq: new Int32Array(n),
      bpduPort: stp.bpduPort,
      bpduBridge: stp.bpduBridge,
      bpduCrossed: stp.bpduCrossed,
    };
    // Group by group, each group's sightings in the order they were read (a stable counting sort by group).
    for (let g = 0; g < frames; g++) s.start[g + 1] = s.start[g]! + this.gCount[g]!;
    const next = s.start.slice(0, frames);
    for (let x = 0; x < n; x++) {
      const k = next[this.sGroup[x]!]!++;
      s.port[k] = this.sPort[x]!;
      s.input[k] = this.sInput[x]!;
      s.t[k] = this.sT[x]!;
      s.dir[k] = this.sDir[x]!;
      s.seq[k] = x;
    }
    return s;
  }
}

/** Groups sightings as they are read (SightingGroups' rule), their ports resolved as the engine will. */
export class SightingCollector {
  private readonly table: PortTable;
  private readonly identity = new FrameIdentity();
  private readonly groups: SightingGroups;
  private base = -1;
  records = 0;

  /** `topology`: the roles known before the frames are read (flags, recorded); it is not changed. */
  constructor(topology: Topology, inputs: number, capacity = PREPASS_FRAMES) {
    this.table = new PortTable(mergeTopology(emptyTopology(), topology));
    this.groups = new SightingGroups(inputs, capacity);
  }

  /** A record's stamp in ns since the first record's second (as FrameSightings.t). */
  private stamp(rec: PacketRecord): number {
    if (this.base < 0) this.base = rec.tsSec;
    return (rec.tsSec - this.base) * 1e9 + rec.tsNsec;
  }

  private readonly bpduPairs = new Map<string, [number, number]>();
  /** BPDU identity key → [port, stamp] of its last sighting. */
  private readonly bpduLast = new Map<number, [number, number]>();
  private bpduCrossed = 0;

  /** A BPDU: which bridge the port heard, and whether the same BPDU was heard on another port just before. */
  private bpdu(rec: PacketRecord, f: DecodedFrame, port: number): void {
    const t = this.stamp(rec);
    if (f.bpdu.bridgeMac >= 0 && this.bpduPairs.size < MAX_BPDU_BRIDGES) this.bpduPairs.set(`${port}:${f.bpdu.bridgeMac}`, [port, f.bpdu.bridgeMac]);
    const key = this.identity.of(rec.buf, f).key;
    const last = this.bpduLast.get(key);
    if (last && last[0] !== port && Math.abs(t - last[1]) <= GROUP_GAP_NS) this.bpduCrossed++;
    if (this.bpduLast.size < PREPASS_FRAMES) this.bpduLast.set(key, [port, t]);
  }

  observe(rec: PacketRecord, f: DecodedFrame): void {
    this.records++;
    if (!f.supported || f.src < 0) return;
    // Each port's latest frame, as the engine counts frames (decoded, with a source).
    const port = this.table.resolve(rec.iface!, f).index;
    const at = rec.tsSec * 1e9 + rec.tsNsec;
    if (!(this.lastSeen[port]! >= at)) this.lastSeen[port] = at;
    if (f.payload === PK_STP) this.bpdu(rec, f, port);
    // BPDUs and LACPDUs never cross the host (the bridge and the bond consume them): not frames to follow.
    if (f.payload === PK_STP || f.payload === PK_LACP) return;
    if (this.groups.full) return;
    const t = this.stamp(rec);
    const id = this.identity.of(rec.buf, f);
    const g = this.groups.group(id.key, id.check | 0, f.src, f.dst < 0 ? CAST_UNKNOWN : f.isBroadcast || f.isMulticast ? CAST_FLOODED : CAST_UNICAST, t);
    if (g >= 0) this.groups.sight(g, port, rec.inputIndex, t, rec.direction || f.linkDirection);
  }

  /** Per port (PortTable index): the stamp of its latest frame (epoch ns, to a few hundred ns: a double). */
  private readonly lastSeen: number[] = [];

  /** Each port's latest frame by name (epoch ns): where each port's capture ended, once every record was read. */
  portEnds(): Map<string, number> {
    return new Map(this.table.ports.flatMap((p) => (this.lastSeen[p.index] !== undefined ? [[p.port.name, this.lastSeen[p.index]!] as [string, number]] : [])));
  }

  /** A port seen so far has no role from flags, a recorded topology or its name, and there are others to tell it by. */
  mayInfer(): boolean {
    return this.table.ports.length > 1 && this.table.ports.some((p) => p.port.role === 'unknown');
  }

  finish(): FrameSightings {
    return this.groups.finish(
      this.table.ports.map((p) => ({ name: p.port.name, role: p.port.role, roleSource: p.port.roleSource })),
      this.records,
      {
        bpduPort: Int32Array.from([...this.bpduPairs.values()].map((x) => x[0])),
        bpduBridge: Float64Array.from([...this.bpduPairs.values()].map((x) => x[1])),
        bpduCrossed: this.bpduCrossed,
      },
    );
  }
}

/**
 * The same sightings grouped again with each input's stamps moved back by `offsetsNs` (stamps
 * kept as read): the sightings of a frame that a clock apart by more than GROUP_GAP_NS split
 * into groups of their own come together. They are taken in the order the reader would have
 * merged the inputs on lined-up clocks: each input's in its own order, the inputs by lined-up time.
 */
export function regroup(s: FrameSightings, offsetsNs: readonly number[]): FrameSightings {
  const n = s.t.length;
  const frameOf = new Int32Array(n);
  for (let g = 0; g < s.frames; g++) frameOf.fill(g, s.start[g]!, s.start[g + 1]!);
  const byRead = new Int32Array(n);
  for (let k = 0; k < n; k++) byRead[s.seq[k]!] = k;
  // Each input's sightings in read order, one after the other.
  const from = new Int32Array(s.inputs + 1);
  for (let k = 0; k < n; k++) from[s.input[k]! + 1]!++;
  for (let i = 0; i < s.inputs; i++) from[i + 1]! += from[i]!;
  const at = from.slice(0, s.inputs);
  const queue = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const k = byRead[r]!;
    queue[at[s.input[k]!]!++] = k;
  }
  at.set(from.subarray(0, s.inputs));
  const lined = (i: number): number => s.t[queue[at[i]!]!]! - (offsetsNs[i] ?? 0);
  // A k-way merge by lined-up time: a binary heap of inputs with sightings left.
  const heap: number[] = [];
  const before = (x: number, y: number): boolean => lined(x) < lined(y) || (lined(x) === lined(y) && x < y);
  const down = (): void => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) return;
      const c = l + 1 < heap.length && before(heap[l + 1]!, heap[l]!) ? l + 1 : l;
      if (!before(heap[c]!, heap[i]!)) return;
      [heap[i], heap[c]] = [heap[c]!, heap[i]!];
      i = c;
    }
  };
  for (let i = 0; i < s.inputs; i++) {
    if (at[i]! === from[i + 1]!) continue;
    heap.push(i);
    for (let c = heap.length - 1; c > 0 && before(heap[c]!, heap[(c - 1) >> 1]!); c = (c - 1) >> 1) [heap[c], heap[(c - 1) >> 1]] = [heap[(c - 1) >> 1]!, heap[c]!];
  }
  const out = new SightingGroups(s.inputs, Math.max(1, n));
  while (heap.length) {
    const i = heap[0]!;
    const k = queue[at[i]!]!;
    const f = frameOf[k]!;
    const g = out.group(s.key[f]!, s.check[f]!, s.src[f]!, s.cast[f]!, s.t[k]! - (offsetsNs[i] ?? 0));
    if (g >= 0) out.sight(g, s.port[k]!, i, s.t[k]!, s.dir[k]!);
    if (++at[i]! === from[i + 1]!) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    down();
  }
  return out.finish(s.ports, s.records, s);
}

/** The sightings of the inputs `keep` holds only (the stamps as they stand): the others' frames place nothing. */
function ofInputs(s: FrameSightings, keep: readonly boolean[]): FrameSightings {
  return keepSightings(s, (k) => keep[s.input[k]!] === true);
}

/** What the pre-pass reads: a capture set (src/capture's CaptureSet), named here so the engine imports no source. */
export interface RecordStream {
  next(): boolean;
  readonly rec: PacketRecord;
  close(): void;
}

/**
 * Records after which a single input stops the pre-pass when its ports all have a role, or it has
 * only one port: it has no clock to line up and no role to infer (so `analyze` of one file reads
 * it once, in effect).
 */
const NOTHING_TO_DO_AFTER = 4096;

/** The sightings of the first `limit` records of `stream`, which is closed after. */
export function collectSightings(stream: RecordStream, topology: Topology, inputs: number, limit = PREPASS_FRAMES): FrameSightings & { portEnds: Map<string, number> | null } {
  const collector = new SightingCollector(topology, inputs, limit);
  const frame = new DecodedFrame();
  let complete = false;
  try {
    for (;;) {
      if (collector.records >= limit) break;
      if (!stream.next()) {
        complete = true;
        break;
      }
      decodeFrame(stream.rec, frame);
      collector.observe(stream.rec, frame);
      if (collector.records === NOTHING_TO_DO_AFTER && inputs === 1 && !collector.mayInfer()) break;
    }
  } finally {
    stream.close();
  }
  return { ...collector.finish(), portEnds: complete ? collector.portEnds() : null };
}

/** What the pre-pass settled, for the engine and the report. */
export interface Prepared {
  /** The topology given, with the inferred roles laid into its unknown ports. */
  topology: Topology;
  /** Per input, ns to subtract from its stamps (AnalyzerOptions.inputOffsetsNs); undefined when no clock differs. */
  inputOffsetsNs: number[] | undefined;
  clocks: ClockOffset[];
  links: ClockLink[];
  /** Inputs whose clock could not be lined up with the host's (AnalyzerOptions.unsettledClocks). */
  unsettled: UnsettledClock[];
  inferred: InferredRole[];
  /** Frames (sightings grouped) the pre-pass looked at. */
  frames: number;
  /**
   * Where each port's capture ended (its latest frame, epoch ns) when the pre-pass read every
   * record (AnalyzerOptions.portEndsNs); null when it stopped early.
   */
  portEnds: Map<string, number> | null;
}

/** Rounds of (infer roles, compare clocks) at most: each round's roles are read on the last one's lined-up stamps. */
const ROUNDS = 3;

/**
 * The pre-pass: the first frames of `stream` (the same inputs the engine will read, opened a
 * second time), files lined up where copies stamped once tie them to the others (clock.ts,
 * tieClocks: no roles needed), grouped again where clocks are further apart than the grouping
 * allows (coarseOffsets), roles inferred for ports nothing else names, then the clocks compared across
 * in-host hops. Roles are read from the order of each frame's copies, which a clock apart turns
 * around, and clocks are compared across the roles: where a clock is shifted, roles are inferred
 * again on the lined-up stamps and the clocks compared again with them, until the roles hold.
 */
export function prepare(stream: RecordStream, topology: Topology, inputs: number): Prepared {
  const collected = collectSightings(stream, topology, inputs);
  const portEnds = collected.portEnds;
  let s: FrameSightings = collected;
  const rolesOf = (found: InferredRole[]): PortRole[] => {
    const roles = s.ports.map((p) => p.role);
    for (const r of found) roles[r.port] = r.role;
    return roles;
  };
  const said = (found: InferredRole[]): string => found.map((r) => `${r.port}:${r.role}`).sort().join(',');
  // Copies the kernel stamped once tie the files they are in to the stamp, whatever the roles
  // (clock.ts, tieClocks): a file stamped off by them is lined up before any role is read from the
  // order of copies, and these lined-up stamps are the ones the rest compares ("as given").
  const ties = tieClocks(s, new Array<number>(inputs).fill(0));
  const tiedNs = ties.offsets;
  if (tiedNs.some((o) => o !== 0)) for (let k = 0; k < s.t.length; k++) s.t[k] = s.t[k]! - tiedNs[s.input[k]!]!;
  let inferred = inferRoles(s);
  // A clock further apart than the grouping allows splits each frame's sightings, so no in-host
  // hop ties its input to the others: such inputs are looked for across the files (clock.ts,
  // coarseOffsets), and the sightings grouped again on the offsets found.
  let first: ClockLink[] | null = compareClocks(s, rolesOf(inferred));
  let coarse: ReturnType<typeof coarseOffsets> | null = null;
  if (unsettledClocks([...first, ...tiesHeld(ties)], NO_COARSE, inputs).length) {
    coarse = coarseOffsets(s);
    if (coarse.offsets.some((c) => Math.abs(c.offsetNs) > GROUP_GAP_NS / 2)) {
      const offsets = new Array<number>(inputs).fill(0);
      for (const c of coarse.offsets) offsets[c.input] = c.offsetNs;
      s = regroup(s, offsets);
      // Roles are read from the order of each frame's copies: on the coarse offsets' stamps, to the
      // stamp where copies stamped once say it (a coarse offset is off by µs to ms, which turns
      // a guest's port's copies around).
      const lined = tieClocks(s, offsets).offsets;
      const stamps = s.t.slice();
      for (let k = 0; k < s.t.length; k++) s.t[k] = stamps[k]! - lined[s.input[k]!]!;
      inferred = inferRoles(s);
      s.t.set(stamps);
      first = null;
    }
  }
  const stamps = s.t.slice();
  let links: ClockLink[] = [];
  let clocks: ClockOffset[] = [];
  let inputOffsetsNs: number[] | undefined;
  /** The in-host rule on `roles` (or the links given): links, offsets, refined to the stamp. */
  const lineUp = (roles: PortRole[], given: ClockLink[] | null = null): void => {
    links = given ?? compareClocks(s, roles);
    clocks = clockOffsets(links, inputs);
    inputOffsetsNs = undefined;
    if (!clocks.some((c) => c.offsetNs !== 0)) return;
    inputOffsetsNs = new Array<number>(inputs).fill(0);
    for (const c of clocks) inputOffsetsNs[c.input] = c.offsetNs;
    inputOffsetsNs = refineOffsets(s, roles, inputOffsetsNs);
    for (const c of clocks) c.offsetNs = inputOffsetsNs[c.input]!;
  };
  /** Roles on the stamps lined up (the comparison reads them as given: put back after), of the inputs `keep` holds. */
  const rolesLinedUp = (keep: readonly boolean[] | null = null): InferredRole[] => {
    for (let k = 0; k < s.t.length; k++) s.t[k] = stamps[k]! - (inputOffsetsNs?.[s.input[k]!] ?? 0);
    const found = inferRoles(keep ? ofInputs(s, keep) : s);
    s.t.set(stamps);
    return found;
  };
  for (let round = 0; round < ROUNDS; round++) {
    lineUp(rolesOf(inferred), round === 0 ? first : null);
    if (!inputOffsetsNs) break;
    if (!inferred.length && !rolesOf([]).includes('unknown')) break;
    const again = rolesLinedUp();
    if (said(again) === said(inferred)) break;
    inferred = again;
  }
  // Roles are claimed only from the orders of files whose clocks something other than those roles
  // ties together (clock.ts, heldClocks): the others' frames place nothing and their ports stay
  // unknown. An offset found on the roles withdrawn is withdrawn with them: the clocks are
  // compared again on the roles that remain (a file left out of the host's clock is said so).
  const held = rolesOf([]).includes('unknown') ? heldClocks(s, links, inputOffsetsNs ?? new Array<number>(inputs).fill(0)) : null;
  if (held) {
    const kept = rolesLinedUp(held);
    if (said(kept) !== said(inferred)) {
      inferred = kept;
      lineUp(rolesOf(inferred));
    }
  }
  // The engine reads the stamps as the files give them: the ties' offsets and the rounds' add up.
  if (tiedNs.some((o) => o !== 0)) {
    const found = inputOffsetsNs ?? new Array<number>(inputs).fill(0);
    inputOffsetsNs = found.map((o, i) => o + tiedNs[i]!);
    for (let i = 0; i < inputs; i++) {
      const c = clocks.find((x) => x.input === i);
      if (c) c.offsetNs = inputOffsetsNs[i]!;
      else if (tiedNs[i] !== 0) clocks.push({ input: i, offsetNs: tiedNs[i]!, pairs: Math.max(0, ...ties.links.filter((l) => l.a === i || l.b === i).map((l) => l.weight)) });
    }
  }
  links = [...links, ...tiesHeld(ties)];
  // Inputs the rounds left out of the host's clock: what the frames across files say of them.
  let unsettled = unsettledClocks(links, coarse ?? NO_COARSE, inputs);
  if (unsettled.length && !coarse) unsettled = unsettledClocks(links, coarseOffsets(s), inputs);
  const out = mergeTopology(emptyTopology(), topology);
  // An interface that holds several capture points' frames is no port: no role (merged-points.ts).
  const merged = new Set(mergedPorts(s).map((p) => s.ports[p]!.name));
  inferred = inferred.filter((r) => !merged.has(r.name));
  for (const r of inferred) out.ports.set(r.name, { name: r.name, role: r.role, bond: r.bond, bridge: r.bridge, roleSource: 'inferred', reason: r.reason, ...(r.via ? { via: r.via } : {}) });
  for (const name of merged) {
    out.ports.set(name, { name, role: 'unknown', bond: null, bridge: null, roleSource: 'inferred', reason: `copies of one frame from several capture points arrive on it microseconds apart (at least ${MERGED_COPIES} of most frames): interfaces merged into one`, mergedPoints: true });
  }
  return { topology: out, inputOffsetsNs, clocks, links, unsettled, inferred, frames: s.frames, portEnds };
}

/** The links of the inputs copies stamped once hold together (tieClocks): each is on the host's clock as much as an in-host hop ties it. */
function tiesHeld(ties: ReturnType<typeof tieClocks>): ClockLink[] {
  return ties.links.filter((l) => ties.tied[l.a] && ties.tied[l.b]);
}

/** No coarse comparison (yet). */
const NO_COARSE = { offsets: [], links: [] };
