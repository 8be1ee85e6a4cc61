/**
 * (VLAN, MAC) → a small non-negative number, by open addressing with linear probing over one
 * Int32Array. A MAC is 48 bits, more than V8 keeps as a small integer, so a Map or Set keyed by it
 * hashes a heap number per lookup; here a key is two int32s (the MAC's low 32 bits, and the VLAN
 * above its high 16), a slot four int32s side by side (four slots a cache line), and nothing is
 * allocated. The MAC table's entries and the engine's per-frame sets of MACs are kept this way.
 */

const TWO_32 = 4294967296;
const INITIAL_SLOTS = 1024;
/** Per slot: the key's two halves, the value + 1 (0: empty). */
const SLOT_STRIDE = 4;

/** The key's low half: the MAC's low 32 bits (ToInt32 keeps them). */
export function keyLo(mac: number): number {
  return mac | 0;
}

/** The key's high half: the VLAN above the MAC's high 16 bits. */
export function keyHi(vlan: number, mac: number): number {
  return (vlan << 16) | ((mac / TWO_32) & 0xffff);
}

export class MacIndex {
  private slots = new Int32Array(INITIAL_SLOTS * SLOT_STRIDE);
  private mask = INITIAL_SLOTS - 1;
  /** Keys held. */
  size = 0;

  /** The key's value, or -1 - the free slot where it would go when it is not held. */
  find(lo: number, hi: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const at = h * SLOT_STRIDE;
      const v = slots[at + 2]!;
      if (v === 0) return -1 - h;
      if (slots[at] === lo && slots[at + 1] === hi) return v - 1;
      h = (h + 1) & mask;
    }
  }

  /** A key find() did not hold, with its value, at the free slot find() returned (-1 - that result). */
  insertAt(free: number, lo: number, hi: number, value: number): void {
    const at = free * SLOT_STRIDE;
    this.slots[at] = lo;
    this.slots[at + 1] = hi;
    this.slots[at + 2] = value + 1;
    this.size++;
    if (this.size * 2 > this.mask + 1) this.grow();
  }

  /** Doubles the slots (load stays at most one half) and re-places every key. */
  private grow(): void {
    const old = this.slots;
    const n = (this.mask + 1) * 2;
    this.slots = new Int32Array(n * SLOT_STRIDE);
    this.mask = n - 1;
    for (let at = 0; at < old.length; at += SLOT_STRIDE) {
      if (old[at + 2] === 0) continue;
      const free = -1 - this.find(old[at]!, old[at + 1]!);
      this.slots.set(old.subarray(at, at + SLOT_STRIDE), free * SLOT_STRIDE);
    }
  }
}

/** A set of MACs, for the per-frame tests of whether a MAC was seen somewhere (add and has only). */
export class MacSet {
  private readonly index = new MacIndex();

  get size(): number {
    return this.index.size;
  }

  /** Whether the MAC is held; a negative number (a frame without a destination MAC) never is. */
  has(mac: number): boolean {
    return mac >= 0 && this.index.find(keyLo(mac), keyHi(0, mac)) >= 0;
  }

  add(mac: number): void {
    const lo = keyLo(mac);
    const hi = keyHi(0, mac);
    const found = this.index.find(lo, hi);
    if (found < 0) this.index.insertAt(-1 - found, lo, hi, 0);
  }
}
