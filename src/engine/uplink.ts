/**
 * What the host's uplink did over the capture, from the settled paths of the frames the host side
 * sent (the host, its guests, the bond itself): which slave they left by (a change that stays is a
 * failover), how many left while an echo of them could have been seen (without any, a capture
 * cannot tell a host that loops from one that does not), when the loop began (the last broadcast
 * that left and did not come back before the first that did), and the echoes the switches sent
 * back that the bond did not pass up (active-backup dropping what arrives on its backup slave).
 *
 * Fed by the engine once per settled frame (no per-frame allocation); read by the verdict.
 */
import { ECHO_CAME_UP, ECHO_KEPT_OUT, ECHO_UNSETTLED, type EchoFate, provesNoLoop } from './echo-fate.js';

/** One stretch of frames that left by the same slave. */
export interface OutRun {
  /** The slave's port index. */
  port: number;
  firstT: number;
  lastT: number;
  frames: number;
}

/** More changes of slave than this: the bond sends by several at once (a load-balancing mode), not a failover. */
const MAX_RUNS = 16;
/** Broadcasts that left and did not come back before the first that did, at least, for the loop to have begun during the capture. */
const LATE_MIN_CLEAN = 3;
/** After the first echo, at most this share of broadcasts may leave without coming back (echoes the capture missed). */
const LATE_MAX_MISSED = 0.2;
/** A stretch shorter than this is not a failover: one frame sent by the other slave (an ARP reply, a probe). */
const RUN_MIN_FRAMES = 3;

export class UplinkWatch {
  /** Host-side frames that went out (by the bond or a slave) while an echo of them could be seen. */
  outbound = 0;
  /** Of those, broadcasts and multicasts: the frames a looping host gets back. */
  outboundGroup = 0;
  /** Stretches of the slave the host side's frames left by, in time order (at most MAX_RUNS, then `balanced`). */
  readonly runs: OutRun[] = [];
  /** The host's frames left by several slaves back and forth: a load-balancing mode. */
  balanced = false;
  /** Slave port → frames that left by it. */
  readonly outBy = new Map<number, number>();
  /** The first frame that came back (engine ns), -1 none. */
  firstLoopT = -1;
  /** The last broadcast that left while an echo could be seen and did not come back, before firstLoopT (-1 none). */
  lastCleanT = -1;
  /** The first such broadcast (-1 none): the capture showed no loop from here to lastCleanT. */
  firstCleanT = -1;
  /** Such broadcasts before the first that came back, and after it: those that did not and those that did. */
  cleanBefore = 0;
  cleanAfter = 0;
  loopedAfter = 0;
  /** Echoes that came back in on another slave and that the bond, captured then, did not pass up. */
  echoesDropped = 0;
  /** The slave those echoes came back on (port index, the last one), and the bond. */
  droppedOn = -1;
  droppedBy = -1;
  /** Echoes back in on another slave of which nothing reached the bridge, the bond not captured then (E3). */
  echoesKeptOut = 0;
  /** Echoes back in on another slave while nothing captured then showed whether they went up (E4). */
  echoesUnsettled = 0;

  /**
   * One settled host-side frame: `outSlave`, the slave it left by (-1 not seen); `out`, whether it
   * left the host at all; `fate`, what became of it as the captures show (echo-fate.ts);
   * `droppedOn`/`droppedBy`, the slave its echo came in on and the bond that dropped it (E2).
   */
  note(t: number, group: boolean, outSlave: number, out: boolean, fate: EchoFate, droppedOn: number, droppedBy: number): void {
    // Whether it settles anything: it came up, or the captures show it did not (E1–E3, E5). An echo
    // whose fate is not seen (E4) and a frame no port watched for (E6) count for neither.
    const visible = fate === ECHO_CAME_UP || provesNoLoop(fate);
    const echo = fate === ECHO_CAME_UP;
    if (outSlave >= 0) {
      this.outBy.set(outSlave, (this.outBy.get(outSlave) ?? 0) + 1);
      const last = this.runs[this.runs.length - 1];
      if (last && last.port === outSlave) {
        last.frames++;
        if (t > last.lastT) last.lastT = t;
      } else if (this.runs.length < MAX_RUNS) this.runs.push({ port: outSlave, firstT: t, lastT: t, frames: 1 });
      else this.balanced = true;
    }
    if (out && visible) {
      this.outbound++;
      if (group) this.outboundGroup++;
    }
    if (echo) {
      if (this.firstLoopT < 0 || t < this.firstLoopT) this.firstLoopT = t;
      else if (group) this.loopedAfter++;
    } else if (group && out && visible) {
      if (this.firstLoopT >= 0) this.cleanAfter++;
      else {
        if (this.firstCleanT < 0) this.firstCleanT = t;
        this.lastCleanT = t;
        this.cleanBefore++;
      }
    }
    if (fate === ECHO_KEPT_OUT) this.echoesKeptOut++;
    else if (fate === ECHO_UNSETTLED) this.echoesUnsettled++;
    if (droppedOn >= 0) {
      this.echoesDropped++;
      this.droppedOn = droppedOn;
      this.droppedBy = droppedBy;
    }
  }

  /**
   * Whether the captures showed what the bond does with an echo: one was seen going up it (E1),
   * dropped (E2) or kept out of the bridge (E3). Then an echo whose moment no capture covered (E4)
   * settles nothing: what the bond does with a frame its backup slave receives is its setting, the
   * same from one moment to the next (a change of it is a loop that starts later, which the verdict
   * says these frames cannot show).
   */
  echoFateSeen(): boolean {
    return this.firstLoopT >= 0 || this.echoesDropped + this.echoesKeptOut > 0;
  }

  /**
   * Whether the loop began during the capture: broadcasts left and did not come back before the
   * first that did (a few, not one echo the capture missed), while after it nearly all came back.
   */
  loopBeganLate(): boolean {
    if (this.firstLoopT < 0 || this.cleanBefore < LATE_MIN_CLEAN) return false;
    return this.cleanAfter <= (this.cleanAfter + this.loopedAfter) * LATE_MAX_MISSED;
  }

  /**
   * Failovers: the slave the host's frames leave by changed and stayed, each stretch long enough
   * to be the bond's choice (not one odd frame). None when the bond balances over its slaves.
   */
  failovers(): { t: number; from: number; to: number }[] {
    if (this.balanced) return [];
    const runs = this.runs.filter((r) => r.frames >= RUN_MIN_FRAMES);
    if (runs.length < 2 || runs.length > 4) return [];
    const out: { t: number; from: number; to: number }[] = [];
    for (let i = 1; i < runs.length; i++) if (runs[i]!.port !== runs[i - 1]!.port) out.push({ t: runs[i]!.firstT, from: runs[i - 1]!.port, to: runs[i]!.port });
    return out;
  }
}
