/**
 * Engine time: nanoseconds since a base second TIME_LEAD_SEC before the first frame's, as a
 * double. One base for the whole engine, so a frame's, a finding's and a MAC entry's times convert
 * back to the epoch the same way everywhere.
 */

/**
 * How far before the first frame the base lies. The lead keeps every engine time past what V8 holds
 * as a small integer, so the per-frame arithmetic is compiled for doubles from the first frame on;
 * starting at zero, it was compiled for integers and thrown away (with everything inlined into
 * observe) once the capture passed two seconds.
 */
const TIME_LEAD_SEC = 4;

export class TimeBase {
  /** The base second (epoch); -1 until the first frame. */
  baseSec = -1;

  /** Engine time of a stamp, `offsetNs` (its input's clock offset) taken off; the first call sets the base. */
  of(tsSec: number, tsNsec: number, offsetNs: number): number {
    if (this.baseSec < 0) this.baseSec = tsSec - TIME_LEAD_SEC;
    return (tsSec - this.baseSec) * 1e9 + tsNsec - offsetNs;
  }

  /** An engine time's whole second (epoch). */
  sec(t: number): number {
    return this.baseSec + Math.floor(t / 1e9);
  }

  /** An engine time's nanoseconds within its second. */
  nsec(t: number): number {
    return t - Math.floor(t / 1e9) * 1e9;
  }

  /** An engine time as seconds since the epoch. */
  wall(t: number): number {
    return this.baseSec + t / 1e9;
  }

  /** Epoch ns (as a port's recorded end) to engine time, on an input `offsetNs` off the first input's clock. */
  fromEpochNs(ns: number, offsetNs: number): number {
    return ns - (this.baseSec * 1e9 + offsetNs);
  }
}
