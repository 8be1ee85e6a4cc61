/**
 * What became of a host-side frame (src/engine/echo-fate.ts), rule by rule: the frame's settled
 * path in, the capture windows of the ports it could have shown on, the fate out. Times are µs
 * from the frame's first copy; the shapes are the lab's (a loop delay of 8–60 µs, a cut pcapng
 * whose bond0 ends before its slaves, a tcpdump of the bond started late, NICs straight in a bridge).
 */
import { describe, expect, it } from 'vitest';
import { ECHO_FATE_NAMES, echoFate, type EchoFate, type EchoWindows, provesNoLoop } from '../../src/engine/echo-fate.js';
import { emptyPath, IN_HOST_HOP_NS, P_ECHO_FLOODED, P_ECHO_IN, P_FLOODED, P_ORIGINAL, P_OUT, P_UP_THE_BOND, type PathSighting, R_BOND, R_BRIDGE, R_GUEST, R_SLAVE, SWITCH_ROUND_TRIP_NS } from '../../src/engine/path.js';

const ROLE: Record<string, number> = { eth0: R_SLAVE, eth1: R_SLAVE, bond0: R_BOND, xenbr0: R_BRIDGE, 'vif1.0': R_GUEST, 'vif2.0': R_GUEST };
const PORTS = Object.keys(ROLE);
const PLACE: Record<string, number> = { original: P_ORIGINAL, out: P_OUT, flooded: P_FLOODED, echo: P_ECHO_IN, up: P_UP_THE_BOND, 'echo-flooded': P_ECHO_FLOODED };

interface Case {
  name: string;
  /** port@µs:place, in the path's order. */
  path: string[];
  group?: boolean;
  /** Each captured port's window (µs); a port not named was not in the capture set. Default: every port, all along. */
  windows?: Record<string, [number, number]>;
  fate: string;
}

const ALWAYS: [number, number] = [-1e9, 1e9];
const EVERY_PORT = Object.fromEntries(PORTS.map((p) => [p, ALWAYS]));

function run(c: Case): EchoFate {
  const s: PathSighting[] = c.path.map((x, i) => {
    const m = /^([\w.]+)@([\d.]+):([\w-]+)$/.exec(x)!;
    return { port: PORTS.indexOf(m[1]!), t: Number(m[2]) * 1e3, dir: 0, input: 0, frame: i + 1, place: PLACE[m[3]!]! };
  });
  const path = emptyPath();
  path.n = s.length;
  path.origin = 0;
  path.from = 1;
  path.outSlave = s.findIndex((x) => x.place === P_OUT && ROLE[PORTS[x.port]!] === R_SLAVE);
  path.echoIn = s.findIndex((x) => x.place === P_ECHO_IN);
  path.upBond = s.findIndex((x) => x.place === P_UP_THE_BOND);
  path.echo = path.echoIn >= 0 || path.upBond >= 0;
  const windows = c.windows ?? EVERY_PORT;
  const w: EchoWindows = {
    watchedBy: (role, from, to) => Object.entries(windows).filter(([p, [a, b]]) => ROLE[p] === role && a * 1e3 <= from && to <= b * 1e3).length,
    inHostHopNs: IN_HOST_HOP_NS,
    echoWithinNs: SWITCH_ROUND_TRIP_NS,
  };
  return echoFate(s, path, c.group ?? true, w);
}

/** A guest's broadcast out of eth0, back in on eth1 8 µs later. */
const OUT = ['vif1.0@0:original', 'xenbr0@1:flooded', 'vif2.0@1:flooded', 'bond0@2:out', 'eth0@3:out'];
const BACK = [...OUT, 'eth1@11:echo'];

const CASES: Case[] = [
  { name: 'E1: the echo went up the bond', path: [...BACK, 'bond0@12:up', 'xenbr0@13:echo-flooded'], fate: 'came-up' },
  { name: 'E2: back in on eth1, and bond0, captured then, did not pass it up: dropped', path: BACK, fate: 'dropped' },
  {
    name: 'E2 needs the hop after the echo: bond0 whose capture ended 1 µs after it (a cut pcapng) shows nothing either way',
    path: BACK,
    windows: { ...EVERY_PORT, bond0: [-1e9, 12], xenbr0: [-1e9, 1], 'vif1.0': [-1e9, 0], 'vif2.0': [-1e9, 1] },
    fate: 'unsettled',
  },
  {
    name: 'E2 needs no hop before the echo: bond0 whose capture began with this frame (its first copy) still shows the echo would have come up',
    path: BACK,
    windows: { ...EVERY_PORT, bond0: [2, 1e9] },
    fate: 'dropped',
  },
  {
    name: 'E3: no bond captured, the bridge device watching and no copy of the echo reached it: kept out (a NIC spanning tree blocks)',
    path: BACK,
    windows: { eth0: ALWAYS, eth1: ALWAYS, xenbr0: ALWAYS, 'vif1.0': ALWAYS, 'vif2.0': ALWAYS },
    fate: 'kept-out',
  },
  {
    name: 'E3: a guest port watching is enough (every port gets the flood)',
    path: BACK,
    windows: { eth0: ALWAYS, eth1: ALWAYS, 'vif2.0': ALWAYS },
    fate: 'kept-out',
  },
  {
    name: 'E3 → E4: the echo flooded to the bridge device a hop after it came in: it got into the bridge, whether up an unseen bond or not',
    path: [...BACK, 'xenbr0@14:echo-flooded', 'vif1.0@15:echo-flooded'],
    windows: { eth0: ALWAYS, eth1: ALWAYS, xenbr0: ALWAYS, 'vif1.0': ALWAYS, 'vif2.0': ALWAYS },
    fate: 'unsettled',
  },
  {
    name: 'E3: copies 44 ms on are the sender again (an MLD report sent twice), not the echo’s flood: kept out',
    path: [...BACK, 'xenbr0@44000:echo-flooded'],
    windows: { eth0: ALWAYS, eth1: ALWAYS, xenbr0: ALWAYS },
    fate: 'kept-out',
  },
  { name: 'E3 is for broadcasts and multicasts: a unicast echo reaches one port only', path: BACK, group: false, windows: { eth0: ALWAYS, eth1: ALWAYS, xenbr0: ALWAYS }, fate: 'unsettled' },
  { name: 'E4: only the slaves captured: the switches’ reflection', path: ['eth0@0:original', 'eth1@8:echo'], windows: { eth0: ALWAYS, eth1: ALWAYS }, fate: 'unsettled' },
  {
    name: 'E4: the cut pcapng of the lab’s loop (bond0 and the host side end before the slaves): back in on eth1, fate unseen — never “did not loop”',
    path: ['eth0@0:out', 'eth1@4:echo'],
    windows: { eth0: [-1e9, 100], eth1: [-1e9, 100], bond0: [-1e9, -65000] },
    fate: 'unsettled',
  },
  { name: 'E5: nothing came back while bond0 watched for a round trip', path: OUT, fate: 'not-back' },
  { name: 'E5: or two slaves did', path: OUT, windows: { eth0: ALWAYS, eth1: ALWAYS, xenbr0: ALWAYS }, fate: 'not-back' },
  { name: 'E6: one slave and no bond: an echo had no way to be seen', path: OUT, windows: { eth0: ALWAYS, xenbr0: ALWAYS, 'vif1.0': ALWAYS }, fate: 'not-watched' },
  {
    name: 'E6: bond0’s capture ended 10 ms after the frame left (its echo may come 50 ms on)',
    path: OUT,
    windows: { ...EVERY_PORT, eth1: [-1e9, 10000], bond0: [-1e9, 10000] },
    fate: 'not-watched',
  },
];

describe('echo fate (echo-fate.ts), rule by rule', () => {
  for (const c of CASES) it(c.name, () => expect(ECHO_FATE_NAMES[run(c)]).toBe(c.fate));

  it('only dropped, kept out and not back prove no loop', () => {
    const proving = Object.entries(ECHO_FATE_NAMES)
      .filter(([f]) => provesNoLoop(Number(f) as EchoFate))
      .map(([, n]) => n);
    expect(proving.sort()).toEqual(['dropped', 'kept-out', 'not-back']);
  });
});
