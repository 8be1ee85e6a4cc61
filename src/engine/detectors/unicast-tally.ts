/**
 * The tally blackholing keeps per guest, in a module of its own: the detector context (which hands
 * it out) and the blackholing detector (which fills and closes it) both read it, neither above the
 * other.
 */

/**
 * Unicast for one guest from outside: when each arrived and whether it was lost, so that at the
 * end only those within the guest's port's capture window count (the window of a file of its own
 * is known only once the file is read: a port quiet for a while — every frame for it lost — is
 * still being captured if it has frames later). Bounded: past TALLY_LIMIT arrivals only counts.
 */
export interface UnicastTally {
  guestPort: number;
  /** Arrival times (engine ns), negative for those lost. */
  times: number[];
  /** Past the limit: counted without their times, while the port was capturing as known then. */
  arrived: number;
  lost: number;
}

/** Arrivals a tally keeps the times of; past it, only counts. */
export const TALLY_LIMIT = 4096;

/** The tallies per guest (VLAN × 2^48 + MAC), bounded like the guests: past `limit` guests, none. */
export class UnicastTallies {
  private readonly byGuest = new Map<number, UnicastTally>();

  constructor(private readonly limit: number) {}

  /** The guest's tally, created on first use; undefined past the bound. */
  of(vlan: number, mac: number, guestPort: number): UnicastTally | undefined {
    const key = vlan * 2 ** 48 + mac;
    let t = this.byGuest.get(key);
    if (!t && this.byGuest.size < this.limit) this.byGuest.set(key, (t = { guestPort, times: [], arrived: 0, lost: 0 }));
    return t;
  }

  /** Every tally with its guest's VLAN and MAC, in the order the guests were first tallied. */
  forEach(fn: (vlan: number, mac: number, tally: UnicastTally) => void): void {
    for (const [key, t] of this.byGuest) fn(Math.floor(key / 2 ** 48), key % 2 ** 48, t);
  }
}
