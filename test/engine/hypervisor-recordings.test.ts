/**
 * The engine on the lab's Proxmox VE and libvirt recordings (captures/pve-*, captures/libvirt-*),
 * analysed as a user would: no role flags, roles from the names alone. Each run is seen three ways
 * (dumpcap pcapng, tcpdump per interface, SLL2 `-i any` with its links.json); what must be found
 * comes from the kernel's ground truth in truth.json, never from what the tool said.
 *
 * Proxmox's firewall puts two extra hops and a second bridge between a guest's tap and vmbr0
 * (tap100i0 → fwbr100i0 → fwln100i0 ⇄ fwpr100p0 → vmbr0): the same frame is seen on each, and
 * frames the host floods to the guest go down through them. None of that is a loop or a move.
 *
 * KNOWN_WRONG lists the checks today's engine fails (it treats every hop as a guest port of its
 * own); they run as `it.fails`, so they stay here asserting the truth and turn red the day the
 * engine gets them right: then take them off the list. The engine can use Port.via (the hop's
 * port on the uplink bridge; roleFromName gives it for fwbr/fwln, linkProxmoxChains for a tap).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMac } from '../../src/decode/index.js';
import type { Finding } from '../../src/engine/findings.js';
import { analyzeFiles } from '../helpers/analyze.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const LOOP_KINDS = ['looped-broadcast', 'own-address', 'wrong-port-learning', 'blackholed-unicast'];

interface FdbEntry {
  mac: string;
  ifname: string;
  state?: string;
}

interface Truth {
  guestPortsAfterBroadcast: Record<string, string | null>;
  guestPortsFinal: Record<string, string | null>;
  fdbAfterGuestBroadcast: FdbEntry[];
  fdbFinal: FdbEntry[];
  ownAddressWarnings: string[];
  pingLoss: { clientToGuestAfterBroadcast: number };
  interfaces: string[];
  params: { hostMac: string; bond: string; slaves: string[]; bridge: string; guests: { vif: string; mac: string; firewall?: { bridge: string; inner: string; outer: string } }[] };
}

const truth = (s: string): Truth => JSON.parse(readFileSync(join(CAPTURES, s, 'truth.json'), 'utf8')) as Truth;
const links = (s: string): { ifname: string; address?: string }[] => JSON.parse(readFileSync(join(CAPTURES, s, 'links.json'), 'utf8')) as { ifname: string; address?: string }[];

type Variant = 'dumpcap pcapng' | 'per-interface pcaps' | 'SLL2 -i any with --links';

function variants(s: string): [Variant, () => Finding[]][] {
  const dir = join(CAPTURES, s);
  return [
    ['dumpcap pcapng', () => analyzeFiles([join(dir, `${s}.pcapng`)])],
    ['per-interface pcaps', () => analyzeFiles(truth(s).interfaces.map((i) => join(dir, `${i}.pcap`)))],
    ['SLL2 -i any with --links', () => analyzeFiles([join(dir, 'any.pcap')], join(dir, 'links.json'))],
  ];
}

/** Checks today's engine gets wrong: scenario / variant / check. */
const KNOWN_WRONG = new Set<string>([]);

const test = (s: string, v: Variant, check: string) => (KNOWN_WRONG.has(`${s}/${v}/${check}`) ? it.fails : it);
const of = (fs: Finding[], kind: string): string[] => fs.filter((f) => f.kind === kind).map((f) => `${formatMac(f.mac)}/${f.vlan}`);

/** MACs the kernel had on the bond at either snapshot (dynamic entries). */
function onBond(t: Truth): Set<string> {
  return new Set([...t.fdbAfterGuestBroadcast, ...t.fdbFinal].filter((e) => e.ifname === t.params.bond && e.state !== 'permanent').map((e) => e.mac));
}

/** MACs of the host's guest side: the guests and the devices between them and the uplink bridge. */
function guestSide(s: string, t: Truth): Set<string> {
  const uplink = new Set([...t.params.slaves, t.params.bond, `${t.params.bond}-drv`, t.params.bridge, 'lo']);
  return new Set([...t.params.guests.map((g) => g.mac), ...links(s).filter((l) => !uplink.has(l.ifname) && l.address).map((l) => l.address!)]);
}

for (const s of ['pve-loop', 'libvirt-loop']) {
  describe(`${s}: the failure with ${s.startsWith('pve') ? 'Proxmox’s names and firewall chain' : 'libvirt’s names'}, no role flags`, () => {
    const t = truth(s);
    const guests = t.params.guests.map((g) => g.mac);
    it('ground truth: the kernel learned both guests on bond0, warned of its own address, and the client lost guest 1', () => {
      expect(guests.map((m) => t.guestPortsAfterBroadcast[m])).toEqual(['bond0', 'bond0']);
      expect(t.ownAddressWarnings.length).toBeGreaterThan(0);
      expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(100);
    });
    for (const [v, run] of variants(s)) {
      test(s, v, 'found')(`${v}: looped broadcasts, wrong-port learning for both guests, own address, blackholed unicast for guest 1`, () => {
        const fs = run();
        for (const mac of guests) {
          expect(of(fs, 'looped-broadcast'), mac).toContain(`${mac}/0`);
          expect(of(fs, 'wrong-port-learning'), mac).toContain(`${mac}/0`);
        }
        expect(of(fs, 'own-address')).toContain(`${t.params.hostMac}/0`);
        if (!v.startsWith('SLL2')) expect(of(fs, 'blackholed-unicast')).toContain(`${guests[0]}/0`);
      });
      test(s, v, 'wrong-port')(`${v}: wrong-port learning only for guest-side MACs the kernel really had on bond0`, () => {
        const fs = run();
        const allowed = [...onBond(t)].filter((m) => guestSide(s, t).has(m));
        for (const m of of(fs, 'wrong-port-learning').filter((x) => x.endsWith('/0'))) expect(allowed, m).toContain(m.slice(0, 17));
      });
      test(s, v, 'flaps')(`${v}: a guest flaps between its own port and the bond, never onto the other guest’s port`, () => {
        const fs = run();
        t.params.guests.forEach((g, i) => {
          const other = t.params.guests[1 - i]!;
          const otherPorts = [other.vif, ...(other.firewall ? [other.firewall.bridge, other.firewall.inner, other.firewall.outer] : [])];
          for (const f of fs.filter((x) => x.kind === 'mac-flap' && formatMac(x.mac) === g.mac)) for (const p of otherPorts) expect(f.interfaces, `${g.mac} flap`).not.toContain(p);
        });
      });
    }
  });
}

for (const s of ['pve-noloop', 'libvirt-noloop']) {
  describe(`${s}: a host that does not loop, no role flags`, () => {
    const t = truth(s);
    it('ground truth: every guest stayed at home (its port on the uplink bridge), no warning, no loss', () => {
      const home = t.params.guests.map((g) => g.firewall?.outer ?? g.vif);
      expect(t.params.guests.map((g) => t.guestPortsAfterBroadcast[g.mac])).toEqual(home);
      expect(t.params.guests.map((g) => t.guestPortsFinal[g.mac])).toEqual(home);
      expect(t.ownAddressWarnings).toEqual([]);
      expect(t.pingLoss.clientToGuestAfterBroadcast).toBe(0);
    });
    for (const [v, run] of variants(s)) {
      test(s, v, 'no-loop')(`${v}: none of the loop's findings, no flap (an extra hop is not a loop)`, () => {
        const fs = run();
        expect(fs.filter((f) => LOOP_KINDS.includes(f.kind) || f.kind === 'mac-flap').map((f) => f.summary)).toEqual([]);
      });
      test(s, v, 'no-move')(`${v}: no guest moved`, () => {
        expect(run().filter((f) => f.kind === 'mac-move').map((f) => f.summary)).toEqual([]);
      });
    }
  });
}

describe('roles from the names alone, as analyze reports them', () => {
  it('pve-loop: vmbr0 a bridge, eno1/eno2 slaves, bond0 the bond, every hop of the firewall chain a guest (fwbr/fwln via fwpr100p0)', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/bondscope'), 'analyze', '--json', join(CAPTURES, 'pve-loop', 'pve-loop.pcapng')], { encoding: 'utf8' });
    const j = JSON.parse(r.stdout) as { interfaces: { name: string; role: string; roleSource: string; via: string | null }[]; macs: { mac: string; vendor: string | null }[] };
    expect(Object.fromEntries(j.interfaces.map((i) => [i.name, `${i.role}/${i.roleSource}${i.via ? ` via ${i.via}` : ''}`]))).toEqual({
      eno1: 'slave/name',
      eno2: 'slave/name',
      bond0: 'bond/name',
      vmbr0: 'bridge/name',
      fwpr100p0: 'guest/name',
      fwln100i0: 'guest/name via fwpr100p0',
      fwbr100i0: 'guest/name via fwpr100p0',
      tap100i0: 'guest/name',
      tap101i0: 'guest/name',
    });
    expect(j.macs.find((m) => m.mac === 'bc:24:11:00:01:00')!.vendor).toBe('Proxmox Server Solutions');
  });
});
