/**
 * The BPDU and LACPDU decoders against tshark on every capture of tcpdump's test suite that
 * carries them (not inside tunnels: those are a decoder's job we don't do): frame by frame, every
 * field we decode equals tshark's, and tshark's "Actor State Flags" string equals our summary's.
 * tshark runs here, in the test; its output is never committed.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import {
  DecodedFrame,
  decodeFrame,
  formatMac,
  lacpStateFlags,
  PK_LACP,
  PK_STP,
  TRUNC_NONE,
  type Bpdu,
  type Lacpdu,
} from '../../src/decode/index.js';
import { frameSummary } from '../../src/report/frame-summary.js';
import { CORPUS, HAS_TSHARK } from '../helpers/tools.js';

const run = promisify(execFile);
const DIR = join(CORPUS, 'tcpdump-tests');
const REQUIRED = ['LACP.pcap', '802.1D_spanning_tree.pcap', 'MSTP_Intra-Region_BPDUs.pcap'];

const STP_FIELDS = [
  'stp.protocol', 'stp.version', 'stp.type', 'stp.flags',
  'stp.root.prio', 'stp.root.ext', 'stp.root.hw', 'stp.root.cost',
  'stp.bridge.prio', 'stp.bridge.ext', 'stp.bridge.hw', 'stp.port',
  'stp.msg_age', 'stp.max_age', 'stp.hello', 'stp.forward', 'stp.version_1_length',
  'mstp.version_3_length', 'mstp.config_format_selector', 'mstp.config_name', 'mstp.config_revision_level', 'mstp.config_digest',
  'mstp.cist_internal_root_path_cost', 'mstp.cist_bridge.prio', 'mstp.cist_bridge.ext', 'mstp.cist_bridge.hw', 'mstp.cist_remaining_hops',
  'mstp.msti.flags', 'mstp.msti.priority', 'mstp.msti.msti_id', 'mstp.msti.root.hw', 'mstp.msti.root_cost',
  'mstp.msti.bridge_priority', 'mstp.msti.port_priority', 'mstp.msti.remaining_hops',
  'stp.pvst.origvlan',
];
const LACP_FIELDS = [
  'lacp.version',
  'lacp.actor.sys_priority', 'lacp.actor.sysid', 'lacp.actor.key', 'lacp.actor.port_priority', 'lacp.actor.port', 'lacp.actor.state', 'lacp.actor.state_str',
  'lacp.partner.sys_priority', 'lacp.partner.sysid', 'lacp.partner.key', 'lacp.partner.port_priority', 'lacp.partner.port', 'lacp.partner.state', 'lacp.partner.state_str',
  'lacp.collector.max_delay',
];
/** Timers are doubles in tshark (1/256 s units divided out): compared as numbers. */
const TIMERS = new Set(['stp.msg_age', 'stp.max_age', 'stp.hello', 'stp.forward']);

const SPB_REPEATED = new Set(['mstp.config_format_selector', 'mstp.config_name', 'mstp.config_revision_level', 'mstp.config_digest']);

const hx = (n: number, w: number): string => `0x${n.toString(16).padStart(w, '0')}`;
const num = (n: number): string => (n < 0 ? '' : String(n));
const list = <T>(n: number, f: (i: number) => T): string => Array.from({ length: n }, (_, i) => String(f(i))).join(',');

function text(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len && b[off + i] !== 0; i++) s += String.fromCharCode(b[off + i]!);
  return s;
}

function hexBytes(b: Uint8Array, off: number, len: number): string {
  return Array.from(b.subarray(off, off + len), (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Our fields in tshark's spelling, '' where we have none (as tshark leaves absent fields empty). */
function stpRow(b: Uint8Array, x: Bpdu): string[] {
  const mst = x.mstConfigNameOff >= 0;
  const has = x.flags >= 0;
  const row: Record<string, string> = {
    'stp.protocol': x.protocolId >= 0 ? hx(x.protocolId, 4) : '',
    'stp.version': num(x.version),
    'stp.type': x.type >= 0 ? hx(x.type, 2) : '',
    'stp.flags': has ? hx(x.flags, 2) : '',
    'stp.root.prio': num(x.rootPriority),
    'stp.root.ext': num(x.rootExt),
    'stp.root.hw': has ? formatMac(x.rootMac) : '',
    'stp.root.cost': num(x.rootCost),
    'stp.bridge.prio': num(x.bridgePriority),
    'stp.bridge.ext': num(x.bridgeExt),
    'stp.bridge.hw': has ? formatMac(x.bridgeMac) : '',
    'stp.port': has ? hx(x.portId, 4) : '',
    'stp.msg_age': has ? String(x.messageAge / 256) : '',
    'stp.max_age': has ? String(x.maxAge / 256) : '',
    'stp.hello': has ? String(x.helloTime / 256) : '',
    'stp.forward': has ? String(x.forwardDelay / 256) : '',
    'stp.version_1_length': num(x.version1Length),
    'mstp.version_3_length': num(x.version3Length),
    'mstp.config_format_selector': num(x.mstConfigSelector),
    'mstp.config_name': mst ? text(b, x.mstConfigNameOff, 32) : '',
    'mstp.config_revision_level': num(x.mstConfigRevision),
    'mstp.config_digest': mst ? hexBytes(b, x.mstConfigDigestOff, 16) : '',
    'mstp.cist_internal_root_path_cost': num(x.cistInternalRootCost),
    'mstp.cist_bridge.prio': num(x.cistBridgePriority),
    'mstp.cist_bridge.ext': num(x.cistBridgeExt),
    'mstp.cist_bridge.hw': mst ? formatMac(x.cistBridgeMac) : '',
    'mstp.cist_remaining_hops': num(x.cistRemainingHops),
    'mstp.msti.flags': list(x.mstiCount, (i) => hx(x.mstiFlags[i]!, 2)),
    'mstp.msti.priority': list(x.mstiCount, (i) => hx(x.mstiRootPriority[i]!, 2)),
    'mstp.msti.msti_id': list(x.mstiCount, (i) => x.mstiId[i]),
    'mstp.msti.root.hw': list(x.mstiCount, (i) => formatMac(x.mstiRootMac[i]!)),
    'mstp.msti.root_cost': list(x.mstiCount, (i) => x.mstiRootCost[i]),
    'mstp.msti.bridge_priority': list(x.mstiCount, (i) => x.mstiBridgePriority[i]),
    'mstp.msti.port_priority': list(x.mstiCount, (i) => x.mstiPortPriority[i]),
    'mstp.msti.remaining_hops': list(x.mstiCount, (i) => x.mstiRemainingHops[i]),
    'stp.pvst.origvlan': num(x.pvstVlan),
  };
  return STP_FIELDS.map((k) => row[k]!);
}

function lacpRow(x: Lacpdu): string[] {
  const row: Record<string, string> = {
    'lacp.version': x.version >= 0 ? hx(x.version, 2) : '',
    'lacp.actor.sys_priority': num(x.actorSystemPriority),
    'lacp.actor.sysid': x.hasActor ? formatMac(x.actorSystem) : '',
    'lacp.actor.key': num(x.actorKey),
    'lacp.actor.port_priority': num(x.actorPortPriority),
    'lacp.actor.port': num(x.actorPort),
    'lacp.actor.state': x.hasActor ? hx(x.actorState, 2) : '',
    'lacp.actor.state_str': x.hasActor ? lacpStateFlags(x.actorState) : '',
    'lacp.partner.sys_priority': num(x.partnerSystemPriority),
    'lacp.partner.sysid': x.hasPartner ? formatMac(x.partnerSystem) : '',
    'lacp.partner.key': num(x.partnerKey),
    'lacp.partner.port_priority': num(x.partnerPortPriority),
    'lacp.partner.port': num(x.partnerPort),
    'lacp.partner.state': x.hasPartner ? hx(x.partnerState, 2) : '',
    'lacp.partner.state_str': x.hasPartner ? lacpStateFlags(x.partnerState) : '',
    'lacp.collector.max_delay': num(x.collectorMaxDelay),
  };
  return LACP_FIELDS.map((k) => row[k]!);
}

interface OurFrame {
  kind: number;
  stp: string[];
  lacp: string[];
  summary: string;
  truncated: boolean;
}

function decodeFile(file: string): OurFrame[] {
  const set = openCapture([file]);
  const f = new DecodedFrame();
  const out: OurFrame[] = [];
  while (set.next()) {
    decodeFrame(set.rec, f);
    const b = set.rec.buf;
    out.push({
      kind: f.payload,
      stp: f.payload === PK_STP ? stpRow(b, f.bpdu) : STP_FIELDS.map(() => ''),
      lacp: f.payload === PK_LACP ? lacpRow(f.lacp) : LACP_FIELDS.map(() => ''),
      summary: f.payload === PK_STP || f.payload === PK_LACP ? frameSummary(b, f, set.rec.iface!.linkType) : '',
      truncated: f.truncated !== TRUNC_NONE,
    });
  }
  expect(set.errors, file).toEqual([]);
  return out;
}

async function tsharkRows(file: string): Promise<string[][]> {
  const fields = ['frame.protocols', ...STP_FIELDS, ...LACP_FIELDS].flatMap((f) => ['-e', f]);
  const { stdout } = await run('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields], { maxBuffer: 1 << 28 });
  return stdout.split('\n').slice(0, -1).map((l) => l.split('\t'));
}

/** Whether tshark decoded STP or LACP in the frame's own link layer (not inside a tunnel's inner frame). */
function plainControlFrame(protocols: string): boolean {
  const layers = protocols.split(':');
  const i = layers.findIndex((l) => l === 'stp' || l === 'lacp');
  return i >= 0 && !layers.slice(1, i).some((l) => l === 'eth' || l === 'ip' || l === 'ipv6');
}

describe.skipIf(!HAS_TSHARK)('BPDU and LACPDU decoders vs tshark on tcpdump’s test captures [needs tshark]', () => {
  const files = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f));
  it('finds STP and LACP in the captures the issue names', () => {
    for (const name of REQUIRED) expect(files, name).toContain(name);
  });

  it('every field of every BPDU and LACPDU equals tshark’s', { timeout: 600_000 }, async () => {
    let stpFrames = 0;
    let lacpFrames = 0;
    const checked: string[] = [];
    for (const name of files) {
      const file = join(DIR, name);
      let ours: OurFrame[];
      try {
        ours = decodeFile(file);
      } catch {
        continue; // Captures our reader refuses are the reader's tests' business.
      }
      if (!ours.some((o) => o.kind === PK_STP || o.kind === PK_LACP) && !REQUIRED.includes(name) && !/stp|bpdu|lacp|slow/i.test(name)) continue;
      const theirs = await tsharkRows(file);
      expect(theirs.length, `${name}: frame count`).toBe(ours.length);
      checked.push(name);
      ours.forEach((o, j) => {
        const t = theirs[j]!;
        const at = `${name} frame ${j + 1}`;
        const protocols = t[0]!;
        const tStp = t.slice(1, 1 + STP_FIELDS.length);
        const tLacp = t.slice(1 + STP_FIELDS.length);
        const theirKind = plainControlFrame(protocols) ? (protocols.includes(':lacp') ? PK_LACP : PK_STP) : -1;
        // Ours must be a BPDU/LACPDU exactly when tshark's is.
        expect(o.kind === PK_STP || o.kind === PK_LACP ? o.kind : -1, `${at} kind (${protocols})`).toBe(theirKind);
        if (theirKind === PK_STP) {
          stpFrames++;
          STP_FIELDS.forEach((field, k) => {
            let want = tStp[k]!;
            // SPB (version 4) repeats the MST configuration id as its auxiliary MCID, which we don't decode: the first is ours.
            if (o.stp[1] === '4' && SPB_REPEATED.has(field)) want = want.split(',')[0]!;
            if (TIMERS.has(field) && want !== '') expect(Number(o.stp[k]), `${at} ${field}`).toBe(Number(want));
            else expect(o.stp[k], `${at} ${field}`).toBe(want);
          });
        } else if (theirKind === PK_LACP) {
          lacpFrames++;
          LACP_FIELDS.forEach((field, k) => expect(o.lacp[k], `${at} ${field}`).toBe(tLacp[k]));
          // The summary spells the state bytes as tshark's flag strings do.
          if (tLacp[7]) expect(o.summary, at).toContain(`port ${o.lacp[4]}/${o.lacp[5]} ${tLacp[7]}`);
        }
      });
    }
    for (const name of REQUIRED) expect(checked, 'checked against tshark').toContain(name);
    expect(stpFrames).toBeGreaterThanOrEqual(14 + 10 + 18 + 25);
    expect(lacpFrames).toBeGreaterThanOrEqual(20);
  });

  it('summaries: root, cost, port and bridge as tshark’s Info column has them; PVST+ VLAN; MSTIs', () => {
    const stp = decodeFile(join(DIR, '802.1D_spanning_tree.pcap'));
    expect(stp[0]!.summary).toBe('STP config root 32768/1/00:19:06:ea:b8:80 cost 0 port 0x8005 bridge 32768/1/00:19:06:ea:b8:80');
    const pvst = decodeFile(join(DIR, 'rpvstp-trunk-native-vid5.pcap'));
    expect(pvst[4]!.summary).toBe('RSTP root 32768/5/00:1f:6d:96:ec:00 cost 0 port 0x8004 bridge 32768/5/00:1f:6d:96:ec:00 [proposal, designated] (PVST+ vlan 5)');
    const mstp = decodeFile(join(DIR, 'MSTP_Intra-Region_BPDUs.pcap'));
    expect(mstp[1]!.summary).toBe('MSTP root 0/0/00:1f:27:b4:7d:80 cost 200000 port 0x800f bridge 32768/0/00:16:46:b5:8c:80 [designated, learning, forwarding, agreement] 2 MSTIs');
    const lacp = decodeFile(join(DIR, 'LACP.pcap'));
    expect(lacp[0]!.summary).toBe('LACP actor 32768/00:13:c4:12:0f:00 key 13 port 32768/22 E****G*A partner 32768/00:0e:83:16:f5:00 key 13 port 32768/25 **DC*GS*');
  });

  it('cut-off BPDUs are marked truncated, never read past the capture', () => {
    for (const name of ['stp-heapoverflow-1.pcap', 'stp-heapoverflow-2.pcap', 'stp-heapoverflow-3.pcap']) {
      const frames = decodeFile(join(DIR, name)).filter((o) => o.kind === PK_STP);
      expect(frames.length, name).toBe(1);
      expect(frames[0]!.truncated, name).toBe(true);
      expect(frames[0]!.summary, name).toMatch(/\[truncated\]$/);
    }
  });
});
