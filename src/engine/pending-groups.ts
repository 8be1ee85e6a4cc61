/**
 * Groups of sightings waiting for their window to pass, kept as columns of typed arrays in
 * arrival order (a ring), with an open-addressing index from frame identity to the newest group.
 *
 * Why not objects in a Map: a busy uplink keeps tens of thousands of groups pending for a whole
 * window, and each is touched twice — when it opens and when it settles, a window later, long out
 * of cache. As objects (group, its array, its sightings, the Map's entry) that second touch is a
 * handful of cache misses in scattered memory; as columns it is a walk along a few arrays, and
 * nothing is allocated per frame. A group's first sighting is kept in the group's own row, since
 * most groups (a broadcast seen at one point) have only that one; further sightings go to a
 * pool of rows linked per group.
 */

/** A second of broadcasts on a busy uplink: the ring rarely has to grow (each growth re-indexes it). */
export const INITIAL_GROUPS = 16384;
const INITIAL_SIGHTINGS = 1024;

export class PendingGroups {
  /** Ring of groups: slot = (head + n) & mask for the n-th oldest. */
  private cap = INITIAL_GROUPS;
  private mask = INITIAL_GROUPS - 1;
  private head = 0;
  /** Groups in the ring, settled or not (the front is dropped after settling). */
  length = 0;

  key = new Int32Array(INITIAL_GROUPS);
  /** The identity's second hash (FrameIdentity.check): a group is joined only when both match. */
  check = new Int32Array(INITIAL_GROUPS);
  src = new Float64Array(INITIAL_GROUPS);
  dst = new Float64Array(INITIAL_GROUPS);
  vlan = new Int32Array(INITIAL_GROUPS);
  /** 1 when any sighting was a broadcast or multicast. */
  isGroup = new Uint8Array(INITIAL_GROUPS);
  firstT = new Float64Array(INITIAL_GROUPS);
  /** Time of the group's latest sighting: the next copy of the frame follows it within a hop. */
  lastT = new Float64Array(INITIAL_GROUPS);
  /** Sightings in the group, the first one in the row itself. */
  count = new Int32Array(INITIAL_GROUPS);
  port = new Int32Array(INITIAL_GROUPS);
  t = new Float64Array(INITIAL_GROUPS);
  dir = new Uint8Array(INITIAL_GROUPS);
  input = new Int32Array(INITIAL_GROUPS);
  frame = new Float64Array(INITIAL_GROUPS);
  /** First and last of the further sightings (rows of the sighting pool), -1 when none. */
  private moreHead = new Int32Array(INITIAL_GROUPS);
  private moreTail = new Int32Array(INITIAL_GROUPS);

  /** Pool of further sightings, a free list through `sNext`. */
  private sCap = INITIAL_SIGHTINGS;
  private sFree = 0;
  sPort = new Int32Array(INITIAL_SIGHTINGS);
  sT = new Float64Array(INITIAL_SIGHTINGS);
  sDir = new Uint8Array(INITIAL_SIGHTINGS);
  sInput = new Int32Array(INITIAL_SIGHTINGS);
  sFrame = new Float64Array(INITIAL_SIGHTINGS);
  sNext = new Int32Array(INITIAL_SIGHTINGS);

  /**
   * Index: ring slot + 1 per entry (0: empty), the identity read from the ring's key column;
   * linear probing, at most half full. Four bytes an entry keep it small enough to stay in cache:
   * most lookups are for a frame not seen yet and end at an empty entry without touching the ring.
   */
  private idx = new Int32Array(INITIAL_GROUPS * 2);
  private idxMask = INITIAL_GROUPS * 2 - 1;
  /** Identities in the index: at most `length` (a repeated identity indexes only its newest group). */
  indexed = 0;

  constructor() {
    this.linkFree(0);
  }

  /** The n-th oldest group's slot. */
  slotAt(n: number): number {
    return (this.head + n) & this.mask;
  }

  /** The newest group with this identity still pending, or -1. */
  find(key: number): number {
    const idx = this.idx;
    const mask = this.idxMask;
    for (let h = hashOf(key) & mask; ; h = (h + 1) & mask) {
      const s = idx[h]!;
      if (s === 0) return -1;
      if (this.key[s - 1] === key) return s - 1;
    }
  }

  /** Opens a group with its first sighting; it becomes the one `find(key)` returns. */
  open(key: number, check: number, src: number, dst: number, vlan: number, isGroup: boolean, port: number, t: number, dir: number, input: number, frame: number): number {
    if (this.length === this.cap) this.grow();
    const slot = (this.head + this.length) & this.mask;
    this.length++;
    this.key[slot] = key;
    this.check[slot] = check;
    this.src[slot] = src;
    this.dst[slot] = dst;
    this.vlan[slot] = vlan;
    this.isGroup[slot] = isGroup ? 1 : 0;
    this.firstT[slot] = t;
    this.lastT[slot] = t;
    this.count[slot] = 1;
    this.port[slot] = port;
    this.t[slot] = t;
    this.dir[slot] = dir;
    this.input[slot] = input;
    this.frame[slot] = frame;
    this.moreHead[slot] = -1;
    this.moreTail[slot] = -1;
    this.index(key, slot);
    return slot;
  }

  /** Adds a further sighting to the group in `slot`. */
  add(slot: number, port: number, t: number, dir: number, input: number, frame: number): void {
    if (this.sFree < 0) this.growSightings();
    const r = this.sFree;
    this.sFree = this.sNext[r]!;
    this.sPort[r] = port;
    this.sT[r] = t;
    this.sDir[r] = dir;
    this.sInput[r] = input;
    this.sFrame[r] = frame;
    this.sNext[r] = -1;
    if (this.moreTail[slot]! < 0) this.moreHead[slot] = r;
    else this.sNext[this.moreTail[slot]!] = r;
    this.moreTail[slot] = r;
    this.count[slot]!++;
    if (t < this.firstT[slot]!) this.firstT[slot] = t;
    if (t > this.lastT[slot]!) this.lastT[slot] = t;
  }

  /** The first of the group's further sightings (pool row), -1 when none; then `sNext[row]`. */
  more(slot: number): number {
    return this.moreHead[slot]!;
  }

  /** Takes the oldest `n` groups out of the ring (after they were settled) and out of the index. */
  dropFront(n: number): void {
    for (let i = 0; i < n; i++) {
      const slot = (this.head + i) & this.mask;
      this.unindex(this.key[slot]!, slot);
      for (let r = this.moreHead[slot]!; r >= 0; ) {
        const next = this.sNext[r]!;
        this.sNext[r] = this.sFree;
        this.sFree = r;
        r = next;
      }
    }
    this.head = (this.head + n) & this.mask;
    this.length -= n;
  }

  private index(key: number, slot: number): void {
    const idx = this.idx;
    const mask = this.idxMask;
    let h = hashOf(key) & mask;
    // A newer group with the same identity replaces the older one in the index (the older one
    // still settles from the ring).
    while (idx[h] !== 0 && this.key[idx[h]! - 1] !== key) h = (h + 1) & mask;
    if (idx[h] === 0) this.indexed++;
    idx[h] = slot + 1;
  }

  /** Removes `key` from the index if it still points at `slot` (backward-shift deletion). */
  private unindex(key: number, slot: number): void {
    const idx = this.idx;
    const mask = this.idxMask;
    let h = hashOf(key) & mask;
    for (; ; h = (h + 1) & mask) {
      const s = idx[h]!;
      if (s === 0) return;
      if (this.key[s - 1] === key) {
        if (s !== slot + 1) return;
        break;
      }
    }
    // Shift later entries of the probe run back so no lookup stops early at the hole.
    let hole = h;
    for (let j = (h + 1) & mask; idx[j] !== 0; j = (j + 1) & mask) {
      const home = hashOf(this.key[idx[j]! - 1]!) & mask;
      // Entry j may move into the hole when its home is not between the hole and j (cyclically).
      if ((j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j)) {
        idx[hole] = idx[j]!;
        hole = j;
      }
    }
    idx[hole] = 0;
    this.indexed--;
  }

  /** Doubles the ring, laying the groups out from slot 0, and rebuilds the index for the new slots. */
  private grow(): void {
    const n = this.cap * 2;
    const { head, length } = this;
    this.key = resized(this.key, n, head, length);
    this.check = resized(this.check, n, head, length);
    this.src = resized(this.src, n, head, length);
    this.dst = resized(this.dst, n, head, length);
    this.vlan = resized(this.vlan, n, head, length);
    this.isGroup = resized(this.isGroup, n, head, length);
    this.firstT = resized(this.firstT, n, head, length);
    this.lastT = resized(this.lastT, n, head, length);
    this.count = resized(this.count, n, head, length);
    this.port = resized(this.port, n, head, length);
    this.t = resized(this.t, n, head, length);
    this.dir = resized(this.dir, n, head, length);
    this.input = resized(this.input, n, head, length);
    this.frame = resized(this.frame, n, head, length);
    this.moreHead = resized(this.moreHead, n, head, length);
    this.moreTail = resized(this.moreTail, n, head, length);
    this.cap = n;
    this.mask = n - 1;
    this.head = 0;
    this.idx = new Int32Array(n * 2);
    this.idxMask = n * 2 - 1;
    this.indexed = 0;
    // Oldest first, so for a repeated identity the newest group ends up indexed.
    for (let i = 0; i < this.length; i++) this.index(this.key[i]!, i);
  }

  private growSightings(): void {
    const n = this.sCap * 2;
    this.sPort = resized(this.sPort, n, 0, this.sCap);
    this.sT = resized(this.sT, n, 0, this.sCap);
    this.sDir = resized(this.sDir, n, 0, this.sCap);
    this.sInput = resized(this.sInput, n, 0, this.sCap);
    this.sFrame = resized(this.sFrame, n, 0, this.sCap);
    this.sNext = resized(this.sNext, n, 0, this.sCap);
    const from = this.sCap;
    this.sCap = n;
    this.linkFree(from);
  }

  /** Chains pool rows from `from` to the end into the free list. */
  private linkFree(from: number): void {
    for (let r = from; r < this.sCap - 1; r++) this.sNext[r] = r + 1;
    this.sNext[this.sCap - 1] = -1;
    this.sFree = from;
  }
}

/**
 * A column `n` long holding `length` entries of `a` from `head` on (wrapping at a's end) from
 * index 0. Bulk copies, at most two: growth runs too rarely to be optimised, and an element loop
 * in the interpreter cost more than all the settling around it.
 */
function resized<T extends Int32Array | Float64Array | Uint8Array>(a: T, n: number, head: number, length: number): T {
  const out = new (a.constructor as new (n: number) => T)(n);
  const first = Math.min(length, a.length - head);
  out.set(a.subarray(head, head + first));
  out.set(a.subarray(0, length - first), first);
  return out;
}

/** Identities are hashes already; this spreads their low bits over the index. Exported for tests. */
export function hashOf(key: number): number {
  const h = Math.imul(key, 0x9e3779b1);
  return h ^ (h >>> 16);
}
