/**
 * The engine on the lab's recordings (captures/), each run seen three ways: dumpcap's
 * multi-interface pcapng, tcpdump's per-interface pcaps, and an SLL2 `-i any` capture named by its
 * `ip -j link`. What must be found comes from the kernel's own ground truth in truth.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMac, parseMac } from '../../src/decode/index.js';
import type { Finding } from '../../src/engine/findings.js';
import { analyzeFiles } from '../helpers/analyze.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const LOOP_KINDS = ['looped-broadcast', 'own-address', 'wrong-port-learning', 'blackholed-unicast'];

interface Truth {
  guestPortsAfterBroadcast: Record<string, string | null>;
  fdbAfterGuestBroadcast: unknown[];
  fdbFinal: unknown[];
  ownAddressWarnings: string[];
  interfaces: string[];
  params: { hostMac: string };
}

function truth(s: string): Truth {
  return JSON.parse(readFileSync(join(CAPTURES, s, 'truth.json'), 'utf8')) as Truth;
}

const analyze = analyzeFiles;

function variants(s: string): [string, () => Finding[]][] {
  const dir = join(CAPTURES, s);
  return [
    ['dumpcap pcapng', () => analyze([join(dir, `${s}.pcapng`)])],
    ['per-interface pcaps', () => analyze(truth(s).interfaces.map((i) => join(dir, `${i}.pcap`)))],
    ['SLL2 -i any with --links', () => analyze([join(dir, 'any.pcap')], join(dir, 'links.json'))],
  ];
}

const of = (fs: Finding[], kind: string): string[] => fs.filter((f) => f.kind === kind).map((f) => `${formatMac(f.mac)}/${f.vlan}`);

describe('loop: the failure', () => {
  const t = truth('loop');
  // The guests the kernel learned on the bond, the host's MAC it warned about.
  const wrong = Object.entries(t.guestPortsAfterBroadcast).filter(([, port]) => port === 'bond0').map(([mac]) => mac);
  it('the recording’s ground truth has the failure (kernel learned guests on bond0, warned)', () => {
    expect(wrong).toContain('00:16:3e:00:00:01');
    expect(t.ownAddressWarnings.length).toBeGreaterThan(0);
  });
  for (const [name, run] of variants('loop')) {
    it(`${name}: looped broadcasts, own address, wrong-port learning and blackholed unicast for the guest`, () => {
      const fs = run();
      for (const mac of wrong) {
        expect(of(fs, 'looped-broadcast'), name).toContain(`${mac}/0`);
        expect(of(fs, 'wrong-port-learning'), name).toContain(`${mac}/0`);
      }
      expect(of(fs, 'own-address'), name).toContain(`${t.params.hostMac}/0`);
      // SLL2 captures carry no destination MAC: unicast for a guest cannot be matched to it.
      if (!name.startsWith('SLL2')) expect(of(fs, 'blackholed-unicast'), name).toContain('00:16:3e:00:00:01/0');
      // The lab's bridge is not VLAN-aware: the kernel keys its FDB by MAC alone (its entries carry
      // no vlan), so the tagged echoes move the same entry as the untagged ones — one finding per
      // guest, not one per VLAN. (The looped broadcasts stay per VLAN: they are frames.)
      expect([...t.fdbAfterGuestBroadcast, ...t.fdbFinal].some((e) => 'vlan' in (e as object))).toBe(false);
      expect(of(fs, 'wrong-port-learning').filter((k) => !k.endsWith('/0')), name).toEqual([]);
      if (!name.startsWith('SLL2')) expect(of(fs, 'looped-broadcast'), name).toContain('00:16:3e:00:00:01/10');
      const wrongFinding = fs.find((f) => f.kind === 'wrong-port-learning' && f.vlan === 0)!;
      expect(wrongFinding.evidence.length).toBeGreaterThan(0);
      expect(wrongFinding.confidence).toBe('high');
      expect(fs.filter((f) => f.kind === 'mac-move')).toEqual([]);
      // The kernel learns a guest on its vif and on bond0, never on the other guest's vif (its
      // broadcasts only go out there): mac-flap names the ports the MAC came in on.
      for (const f of fs.filter((x) => x.kind === 'mac-flap' && x.vlan === 0)) {
        const own = f.mac === 0x00163e000001 ? 'vif1.0' : 'vif2.0';
        expect([...f.interfaces].sort(), name).toEqual(['bond0', own].sort());
      }
    });
  }
});

for (const s of ['lacp', 'single', 'stp']) {
  describe(`${s}: a fixed host`, () => {
    it('ground truth: the kernel kept every guest on its vif', () => {
      expect(Object.values(truth(s).guestPortsAfterBroadcast).every((p) => p?.startsWith('vif'))).toBe(true);
    });
    const runs = s === 'stp' ? variants(s).slice(0, 2) : variants(s);
    for (const [name, run] of runs) {
      it(`${name}: none of the loop's findings`, () => {
        const fs = run();
        expect(fs.filter((f) => LOOP_KINDS.includes(f.kind) || f.kind === 'mac-flap').map((f) => f.summary)).toEqual([]);
      });
    }
  });
}

describe('migrate: a guest moved once', () => {
  const t = truth('migrate');
  it('ground truth: the kernel has the migrated guest on bond0 and no warning', () => {
    expect(t.guestPortsAfterBroadcast['00:16:3e:00:00:01']).toBe('bond0');
    expect(t.ownAddressWarnings).toEqual([]);
  });
  for (const [name, run] of variants('migrate')) {
    it(`${name}: mac-move for the guest, nothing else`, () => {
      const fs = run();
      expect(fs.map((f) => `${f.kind} ${formatMac(f.mac)}`)).toEqual(['mac-move 00:16:3e:00:00:01']);
      expect(fs[0]!.details).toMatchObject({ from: 'vif1.0', to: 'bond0' });
      expect(fs[0]!.severity).toBe('info');
    });
  }
});

describe('one interface alone claims no more than it shows', () => {
  const fixed = ['lacp', 'single', 'stp', 'stp-root', 'stp-tcn', 'migrate', 'lacp-split', 'lacp-nopartner', 'lacp-pdu'];
  // A slave's capture alone shows a frame leave by it and nothing come back by the other: no loop.
  // (A frame's first copy on a slave used to count as its own echo: every guest broadcast "looped".)
  for (const s of [...fixed, 'loop']) {
    for (const slave of ['eth0', 'eth1']) {
      const file = join(CAPTURES, s, `${slave}.pcap`);
      if (!truth(s).interfaces.includes(slave)) continue;
      it(`${s}/${slave}.pcap: none of the loop's findings`, () => {
        expect(analyze([file]).filter((f) => LOOP_KINDS.includes(f.kind)).map((f) => f.summary)).toEqual([]);
      });
    }
  }
  // The bond alone cannot tell an echo from a sender that repeats itself (bond-ll's guests send
  // each VLAN 10 ARP twice, 30 µs apart, on a host that does not loop): what it saw is said as
  // echo-or-repeat, never as a loop.
  it('loop/bond0.pcap alone: the guests’ frames out and in again, said as echo-or-repeat with their delay, no loop claimed', () => {
    const fs = analyze([join(CAPTURES, 'loop', 'bond0.pcap')]);
    expect(fs.filter((f) => LOOP_KINDS.includes(f.kind)).map((f) => f.summary)).toEqual([]);
    const e = fs.find((f) => f.kind === 'echo-or-repeat');
    expect(e?.severity).toBe('info');
    for (const mac of ['00:16:3e:00:00:01', '00:16:3e:00:00:02']) expect(String(e?.details.macs)).toContain(mac);
    expect(Number(e?.details.minDelayUs)).toBeGreaterThanOrEqual(0);
  });
  it('bond-ll/bond0.pcap alone (no loop; the guests repeat their VLAN 10 ARPs): echo-or-repeat, no loop claimed', () => {
    const fs = analyze([join(CAPTURES, 'bond-ll', 'bond0.pcap')]);
    expect(fs.filter((f) => LOOP_KINDS.includes(f.kind)).map((f) => f.summary)).toEqual([]);
    expect(fs.find((f) => f.kind === 'echo-or-repeat')?.details.macs).toContain('00:16:3e:00:00:01');
  });
  // Only the slaves: the switches send frames back into the other slave on a host that loops and
  // on one that drops what arrives on its backup slave alike (two switches): said as a
  // reflection, info, never as a loop; on the aggregated host the switch sends nothing back.
  for (const [s, reflects] of [['loop', true], ['bond-ll', true], ['pve-loop', true], ['pve-noloop', true], ['lacp', false]] as const) {
    it(`${s}: the slaves alone: ${reflects ? 'a switch-reflection (info), with the slave it came back on and its delay' : 'no reflection'}; no loop claimed`, () => {
      const t = truth(s);
      const slaves = t.interfaces.filter((i) => /^(eth|eno)\d$/.test(i));
      const fs = analyze(slaves.map((x) => join(CAPTURES, s, `${x}.pcap`)));
      expect(fs.filter((f) => LOOP_KINDS.includes(f.kind) || f.severity === 'error').map((f) => f.summary)).toEqual([]);
      const r = fs.find((f) => f.kind === 'switch-reflection');
      if (!reflects) return expect(r).toBeUndefined();
      expect(r?.severity).toBe('info');
      expect(r?.interfaces.every((i) => slaves.includes(i))).toBe(true);
      expect(Number(r?.details.minDelayUs)).toBeGreaterThanOrEqual(0);
      expect(Number(r?.details.maxDelayUs)).toBeGreaterThan(0);
    });
  }
  // Which side a frame on the slaves alone started on rests on its MAC: the lab's outside client
  // (truth.json's params.client, a KVM vendor prefix on another machine) has its floods to both
  // NICs taken as reflections of the host side's. Said at low confidence, unless a MAC the
  // reflection rests on is known as the host's (--local-mac).
  it("loop: the slaves alone, sides taken by vendor prefix (the outside client's among them): the reflection at low confidence; with the host's MAC given, high", () => {
    const t = JSON.parse(readFileSync(join(CAPTURES, 'loop', 'truth.json'), 'utf8')) as { params: { hostMac: string; client: { mac: string } } };
    const files = ['eth0', 'eth1'].map((x) => join(CAPTURES, 'loop', `${x}.pcap`));
    const byPrefix = analyze(files).find((f) => f.kind === 'switch-reflection');
    expect(String(byPrefix?.details.macs)).toContain(t.params.client.mac);
    expect(byPrefix?.confidence).toBe('low');
    const given = analyzeFiles(files, undefined, [parseMac(t.params.hostMac)]).find((f) => f.kind === 'switch-reflection');
    expect(String(given?.details.macs)).toContain(t.params.hostMac);
    expect(given?.confidence).toBe('high');
  });
  // On the bond alone, a frame sent twice in a row looks like a frame and its echo: never claimed with high confidence.
  for (const s of fixed.filter((x) => truth(x).interfaces.includes('bond0'))) {
    it(`${s}/bond0.pcap: nothing claimed with high confidence`, () => {
      expect(analyze([join(CAPTURES, s, 'bond0.pcap')]).filter((f) => LOOP_KINDS.includes(f.kind) && f.confidence === 'high').map((f) => f.summary)).toEqual([]);
    });
  }
});

describe("loop: the host's own frames", () => {
  const file = join(CAPTURES, 'loop', 'loop.pcapng');
  const host = 0x002590000001;
  const ownEvidence = (fs: Finding[]): number[] => fs.find((f) => f.kind === 'own-address' && f.mac === host)?.evidence.map((e) => e.frame) ?? [];
  // Frame 261 is an MLD report's echo coming up bond0, stamped the same instant as its copy on
  // xenbr0 (269): the tie is the echo going up (bond first), not the original going out.
  it('an echo stamped the same instant on bond0 and xenbr0 is the echo coming up, with or without --local-mac', () => {
    const learned = analyze([file]);
    const given = analyzeFiles([file], undefined, [host]);
    for (const fs of [learned, given]) {
      expect(ownEvidence(fs)).toContain(261);
      expect(of(fs, 'looped-broadcast')).toContain('00:25:90:00:00:01/0');
    }
    // Given up front, the host's MAC also counts for the frames before the bridge showed it.
    expect(ownEvidence(given).length).toBeGreaterThanOrEqual(ownEvidence(learned).length);
  });
  // Frames 18 and 19: bond0 sends its own IPv6 DAD (not through the bridge), it goes out eth0,
  // comes back on eth1 and up bond0 into xenbr0 and to the guests.
  it('a frame the bond sent itself that came back up to the bridge is the host’s own (with --local-mac)', () => {
    expect(ownEvidence(analyzeFiles([file], undefined, [host]))).toContain(19);
  });
});

describe('loop: every evidence frame tagged with its place in the path (the sinks word the tags, never work the path out)', () => {
  for (const [name, run] of variants('loop')) {
    it(`${name}: the guest's broadcast out of one slave, back in on the other, up the bond; the blackholed unicast and the echo that set the state`, () => {
      const fs = run();
      const wrong = fs.find((f) => f.kind === 'wrong-port-learning' && f.mac === 0x00163e000001 && f.vlan === 0)!;
      const first = wrong.evidence.filter((e) => e.occurrence === wrong.evidence[0]!.occurrence);
      const tag = (role: string): string[] => first.filter((e) => e.role === role).map((e) => `${e.port}:${e.dir}`);
      expect(tag('original')).toEqual(['vif1.0:in']);
      expect(tag('up-the-bond')).toEqual(['bond0:in']);
      const out = tag('out').filter((x) => x.startsWith('eth'));
      const echo = tag('echo');
      expect(out.length).toBe(1);
      expect(echo.length).toBe(1);
      // Out of one slave, back in on the other.
      expect(out[0]!.split(':')[0]).not.toBe(echo[0]!.split(':')[0]);
      expect(echo[0]!.endsWith(':in')).toBe(true);
      if (!name.startsWith('SLL2') || fs.some((f) => f.kind === 'blackholed-unicast')) {
        const hole = fs.find((f) => f.kind === 'blackholed-unicast' && f.mac === 0x00163e000001)!;
        expect(hole.evidence.some((e) => e.role === 'blackholed' && e.dir === 'in')).toBe(true);
        // One per time the entry went wrong: each an echo up bond0.
        const state = hole.evidence.filter((e) => e.role === 'set-state').map((e) => e.port);
        expect(state.length).toBeGreaterThan(0);
        expect(new Set(state)).toEqual(new Set(['bond0']));
      }
    });
  }
});
