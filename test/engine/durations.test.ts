/**
 * How long each guest was unreachable, against the kernel's own account: for the recordings whose
 * truth.json holds the kernel's FDB change log (`fdbLog`: `bridge -timestamp monitor fdb` over
 * the run, issue #23), the time the bridge had each guest on the bond within the capture — from
 * the moment the frames first show it go there to the capture's last frame — must be the time
 * the kernel's log has it there, in every capture form, and "still there at the end" must be the
 * kernel's state at the capture's end.
 *
 * Timing error allowed: the monitor stamps each change when it reads the netlink message (within
 * a few hundred µs of the kernel's change, the capture stamps the frame that caused it), so each
 * change the window holds may be off by a millisecond, plus 20 ms for the two clocks' reading.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeForTruth } from '../helpers/analyze.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');

interface FdbChange {
  at: number;
  mac: string;
  bridge: string;
  port: string;
  deleted: boolean;
}
interface Truth {
  interfaces: string[];
  guests: { mac: string }[];
  params: { bond: string; bridge: string };
  fdbLog?: { startedAt: number; atStart: Record<string, Record<string, string | null>>; changes: FdbChange[] };
}

const RECORDINGS = readdirSync(CAPTURES)
  .filter((d) => existsSync(join(CAPTURES, d, 'truth.json')))
  .filter((d) => (JSON.parse(readFileSync(join(CAPTURES, d, 'truth.json'), 'utf8')) as Truth).fdbLog)
  .sort();

/** The kernel's account of one guest in the uplink bridge: ms on the bond within [from, to], the changes in it, and where it was at `to`. */
function kernelOnBond(t: Truth, mac: string, from: number, to: number): { ms: number; changes: number; atEnd: string | null } {
  const log = t.fdbLog!;
  const changes = log.changes.filter((c) => c.mac === mac && c.bridge === t.params.bridge).sort((a, b) => a.at - b.at);
  let port = log.atStart[t.params.bridge]?.[mac] ?? null;
  let since = log.startedAt;
  let ms = 0;
  let inWindow = 0;
  const add = (until: number): void => {
    if (port === t.params.bond) ms += Math.max(0, Math.min(until, to) - Math.max(since, from)) * 1000;
  };
  for (const c of changes) {
    if (c.at > to) break;
    add(c.at);
    if (c.at >= from) inWindow++;
    port = c.deleted ? null : c.port;
    since = c.at;
  }
  add(to);
  return { ms, changes: inWindow, atEnd: port };
}

describe("time on the bond: the engine's against the kernel's FDB log", () => {
  it('there is a recording with the kernel’s FDB log', () => {
    expect(RECORDINGS.length).toBeGreaterThan(0);
  });
  for (const d of RECORDINGS) {
    const t = JSON.parse(readFileSync(join(CAPTURES, d, 'truth.json'), 'utf8')) as Truth;
    const dir = join(CAPTURES, d);
    const forms: [string, () => ReturnType<typeof analyzeForTruth>][] = [
      ['pcapng', () => analyzeForTruth([join(dir, `${d}.pcapng`)])],
      ['pcaps', () => analyzeForTruth(t.interfaces.map((i) => join(dir, `${i}.pcap`)))],
      ['any', () => analyzeForTruth([join(dir, 'any.pcap')], join(dir, 'links.json'))],
    ];
    for (const [form, run] of forms) {
      it(`${d} ${form}`, () => {
        const a = run();
        for (const g of t.guests) {
          const h = a.verdict.hurt.find((x) => x.mac === g.mac && x.vlan === 0);
          if (!h) {
            // Not hurt in the frames: the kernel had it on the bond at most for moments.
            expect(kernelOnBond(t, g.mac, a.first, a.last).ms, g.mac).toBeLessThan(50);
            continue;
          }
          const k = kernelOnBond(t, g.mac, h.since, a.last);
          const tolerance = 20 + k.changes;
          expect(Math.abs(h.wrongMs - k.ms), `${g.mac}: the engine ${h.wrongMs} ms, the kernel ${k.ms.toFixed(3)} ms on ${t.params.bond} (${k.changes} changes)`).toBeLessThanOrEqual(tolerance);
          expect(h.atEnd, `${g.mac} at the end: the kernel had it on ${k.atEnd}`).toBe(k.atEnd === t.params.bond);
          // The words match the numbers: intermittently only when it was reachable for a good part of the time.
          expect(h.intermittent, g.mac).toBe(k.ms < (a.last - h.since) * 1000 * 0.9);
        }
      });
    }
  }
});
