/**
 * Nothing from a capture drives the user's terminal. Escape sequences (ESC [ 2J, OSC 52 clipboard
 * writes, C1 CSI/OSC, BEL), bidi overrides and isolates, zero-width characters, NUL, backspace and
 * DEL are planted in every string a capture carries — pcapng if_name and if_description, packet
 * and section comments, a topology recorded in the section comment (port, bond and bridge names,
 * bond mode, bridge port state), the file's own name (a classic pcap's interface is named after
 * it, and error messages quote it), a DHCP hostname in a frame — and pushed through `frames`,
 * `frames --json`, `analyze`, `analyze --json`, `bondscope FILE` off a terminal, `export`, and the
 * terminal UI. Text output must show them escaped; JSON must stay valid and give back the exact
 * strings, with the dangerous characters written as \u escapes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { DIR_IN, DIR_OUT } from '../../src/model/record.js';
import { emptyTopology, TOPOLOGY_COMMENT_HEADER } from '../../src/model/topology.js';
import { safeJson, safeText } from '../../src/report/escape.js';
import type { UiSnapshot } from '../../src/tui/model.js';
import { arpRequest, ethernet, pcapFile } from '../fuzz/pcap-file.js';
import { TERMINAL_UNSAFE } from '../fuzz/pipeline.js';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { show, unmountShown } from '../tui/show.js';
import { readToEnd } from '../tui/snapshots.js';

const BIN = join(PROJECT_ROOT, 'bin/bondscope');

/** What a hostile capture plants: erase screen, clipboard write, C1 CSI and OSC, bidi override and isolate, zero-width, NUL, backspace, DEL, BEL. */
const H = '\x1b[2J\x1b]52;c;cHduZWQ=\x07\u009b2J\u009d0;t\u009c\u202e\u2066\u200b\0\b\x7f';
/** The same in a file name (no NUL or slash there). */
const HF = H.replace('\0', '');

const SLAVE0 = `eth0${H}`;
const SLAVE1 = `eth1${H}`;
const BOND = `bond0${H}`;
const BRIDGE = `xenbr0${H}`;
const GUEST = `vif1.0${H}`;
const STRANGER = `odd${H}`;
const GUEST_MAC = 0x00163e000001;

const tmp = mkdtempSync(join(tmpdir(), 'bondscope-terminal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let PCAPNG: string;
let PCAP: string;

/** A DHCP discover whose hostname option (12) carries the hostile string. */
function dhcpDiscover(mac: number): Uint8Array {
  const host = new TextEncoder().encode(H);
  const bootp = new Uint8Array(240 + 2 + host.length + 1);
  bootp.set([1, 1, 6, 0]);
  bootp.set([0x63, 0x82, 0x53, 0x63], 236);
  bootp.set([12, host.length], 240);
  bootp.set(host, 242);
  bootp[bootp.length - 1] = 255;
  const udp = new Uint8Array(8 + bootp.length);
  new DataView(udp.buffer).setUint16(0, 68);
  new DataView(udp.buffer).setUint16(2, 67);
  new DataView(udp.buffer).setUint16(4, udp.length);
  udp.set(bootp, 8);
  const ip = new Uint8Array(20 + udp.length);
  ip.set([0x45, 0, (ip.length >> 8) & 0xff, ip.length & 0xff, 0, 0, 0, 0, 64, 17]);
  ip.set([255, 255, 255, 255], 16);
  ip.set(udp, 20);
  return ethernet(0xffffffffffff, mac, 0x0800, ip);
}

beforeAll(() => {
  // pcapng: a recorded topology with hostile names, interfaces named and described with them, a
  // guest's ARP broadcast looping (so findings, paths and evidence name the ports), comments, DHCP.
  PCAPNG = join(tmp, `loop${HF}.pcapng`);
  const topology = {
    ports: [
      { name: SLAVE0, role: 'slave', bond: BOND, bridge: null },
      { name: SLAVE1, role: 'slave', bond: BOND, bridge: null },
      { name: BOND, role: 'bond', bond: null, bridge: BRIDGE },
      { name: BRIDGE, role: 'bridge', bond: null, bridge: null },
      { name: GUEST, role: 'guest', bond: null, bridge: BRIDGE },
    ],
    bonds: [
      {
        name: BOND,
        mode: `active-backup${H}`,
        slaves: [SLAVE0, SLAVE1].map((name) => ({ name, permanentMac: null, linkUp: true, aggregatorId: -1, partnerMac: null, partnerKey: -1 })),
        activeSlave: SLAVE0,
        allSlavesActive: null,
        driverVersion: `3.7.1${H}`,
      },
    ],
    bridges: [{ name: BRIDGE, ports: [{ name: BOND, state: `forwarding${H}` }, { name: GUEST, state: 'forwarding' }], bridgeId: H, rootId: H, stpEnabled: false }],
    localMacs: [],
    ifNames: {},
  };
  const w = new PcapngWriter(PCAPNG, { comment: `${TOPOLOGY_COMMENT_HEADER}\n${JSON.stringify(topology)}`, hardware: H, os: H, userappl: H });
  const id = (name: string): number => w.addInterface({ name, description: `description ${H}`, linkType: 1, snaplen: 262144 });
  const guest = id(GUEST);
  const bridge = id(BRIDGE);
  const bond = id(BOND);
  const eth0 = id(SLAVE0);
  const eth1 = id(SLAVE1);
  const stranger = id(STRANGER);
  const t0 = 1_700_000_000;
  for (let i = 0; i < 5; i++) {
    const arp = ethernet(0xffffffffffff, GUEST_MAC, 0x0806, arpRequest(GUEST_MAC, 0x0a000001, 0x0a000100 + i));
    const at = (us: number): [number, number] => [t0 + i, us * 1000];
    const put = (iface: number, us: number, direction: 1 | 2, comment: string | null = null): void => w.writePacket(iface, ...at(us), arp, 0, arp.length, arp.length, { direction, comment });
    put(guest, 0, DIR_IN, `packet comment ${H}`);
    put(bridge, 0, DIR_OUT);
    put(bond, 1, DIR_OUT);
    put(eth0, 2, DIR_OUT);
    put(eth1, 40, DIR_IN);
    put(bond, 41, DIR_IN);
    const dhcp = dhcpDiscover(0x00163e000002);
    w.writePacket(stranger, t0 + i, 500_000_000, dhcp, 0, dhcp.length, dhcp.length, { comment: H });
  }
  w.close();

  // Classic pcap named with the hostile string (its interface takes the name), cut short at the end
  // so the error message quotes the file name too.
  PCAP = join(tmp, `eth9${HF}.pcap`);
  const recs = [0, 1, 2].map((i) => ({ sec: 1_700_000_000 + i, frac: 0, data: ethernet(0xffffffffffff, 0x00163e000009, 0x0806, arpRequest(0x00163e000009, 1, 2 + i)) }));
  const file = pcapFile(recs);
  writeFileSync(PCAP, file.subarray(0, file.length - 7));
});

function bondscope(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** No character a terminal acts on besides newline, anywhere in the output. */
function clean(text: string, what: string): void {
  const at = text.search(TERMINAL_UNSAFE);
  expect(at, `${what}: ${JSON.stringify(text.slice(Math.max(0, at - 60), at + 20))}`).toBe(-1);
}

describe('safeText and safeJson', () => {
  it('safeText escapes every planted character and only those', () => {
    expect(safeText(`a${H}b é→`)).toBe('a\\x1b[2J\\x1b]52;c;cHduZWQ=\\x07\\x9b2J\\x9d0;t\\x9c\\u{202e}\\u{2066}\\u{200b}\\x00\\x08\\x7fb é→');
  });

  it('safeJson is the same JSON value with the dangerous characters as \\u escapes', () => {
    const value = { name: H, list: [H, 'é→'], n: 1 };
    const text = safeJson(value, 2);
    clean(text, 'safeJson');
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('\\u009b2J');
    expect(text).toContain('\\u202e');
  });
});

describe('the CLI on hostile captures', () => {
  it('frames: names escaped in text, the frames still listed', () => {
    const r = bondscope(['frames', PCAPNG, PCAP]);
    clean(r.out, 'frames stdout');
    clean(r.err, 'frames stderr');
    expect(r.out.trim().split('\n').length).toBe(5 * 7 + 2);
    expect(r.out).toContain(safeText(GUEST));
    expect(r.out).toContain(safeText(`eth9${HF}`));
    expect(r.out).toContain('UDP 68 → 67 (DHCP)');
    // The damaged file's error names it, escaped.
    expect(r.err).toContain(safeText(PCAP));
    expect(r.code).toBe(1);
  });

  it('frames --json: valid JSON per line, the exact names back, nothing raw', () => {
    const r = bondscope(['frames', '--json', PCAPNG, PCAP]);
    clean(r.out, 'frames --json stdout');
    clean(r.err, 'frames --json stderr');
    const names = new Set(r.out.trim().split('\n').map((l) => (JSON.parse(l) as { iface: string }).iface));
    expect(names).toEqual(new Set([GUEST, BRIDGE, BOND, SLAVE0, SLAVE1, STRANGER, `eth9${HF}`]));
  });

  it('analyze: the recorded topology, findings and their paths escaped', () => {
    const r = bondscope(['analyze', PCAPNG, PCAP]);
    clean(r.out, 'analyze stdout');
    clean(r.err, 'analyze stderr');
    expect(r.out).toContain('looped-broadcast');
    expect(r.out).toContain(`slave of ${safeText(BOND)}`);
    // Prose is wrapped at 160 columns (escaped names are long): read it unwrapped.
    expect(r.out.replace(/\n +/g, ' ')).toContain(`the role of ${safeText(`eth9${HF}`)}, ${safeText(STRANGER)}`);
    expect(r.out).toContain(safeText(PCAPNG));
  });

  it('analyze --json: valid JSON, exact strings back, nothing raw', () => {
    const r = bondscope(['analyze', '--json', PCAPNG, PCAP]);
    clean(r.out, 'analyze --json stdout');
    clean(r.err, 'analyze --json stderr');
    const j = JSON.parse(r.out) as { interfaces: { name: string; bond: string | null }[]; findings: { kind: string; interfaces: string[] }[]; inputs: string[] };
    expect(j.interfaces.map((i) => i.name)).toEqual(expect.arrayContaining([GUEST, BRIDGE, BOND, SLAVE0, SLAVE1, STRANGER, `eth9${HF}`]));
    expect(j.interfaces.find((i) => i.name === SLAVE0)!.bond).toBe(BOND);
    expect(j.findings.find((f) => f.kind === 'looped-broadcast')!.interfaces).toEqual([GUEST, SLAVE0, SLAVE1, BOND]);
    expect(j.inputs).toEqual([PCAPNG, PCAP]);
  });

  it('bondscope FILE off a terminal: the plain report, escaped', () => {
    const r = bondscope([PCAPNG]);
    clean(r.out, 'report stdout');
    clean(r.err, 'report stderr');
    expect(r.out).toContain('looped-broadcast');
  });

  it('export: its messages escaped (the bundle files are files, not the terminal)', () => {
    const out = join(tmp, 'bundle');
    const r = bondscope(['export', '-o', out, PCAPNG]);
    clean(r.out, 'export stdout');
    clean(r.err, 'export stderr');
    expect(r.code).toBe(0);
    // findings.json is analyze's JSON: valid, the names exact.
    const j = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { interfaces: { name: string }[] };
    expect(j.interfaces.map((i) => i.name)).toContain(GUEST);
  });
});

describe('the terminal UI on hostile captures', () => {
  let snapshot: UiSnapshot;
  afterEach(unmountShown);

  beforeAll(async () => {
    snapshot = (await readToEnd([PCAPNG, PCAP])).snapshot;
    void emptyTopology;
  });

  /** Ink's own SGR codes (colour, bold, inverse) are the only escapes allowed; everything else from the input must be escaped. */
  function screenClean(frame: string, what: string): void {
    clean(frame.replace(/\x1b\[[0-9;]*m/g, ''), what);
  }

  it('header, MAC table, findings, timeline, footer messages, help and details', async () => {
    const { frame, press, frames } = show(snapshot, { columns: 160, rows: 50 });
    const main = frame();
    screenClean(main, 'main screen');
    // The names are there, escaped (cut to the column, so look for the start of the escape).
    expect(main).toContain('\\x1b[2J');
    expect(main).toContain('looped');
    screenClean(await press('\r'), 'MAC details');
    screenClean(await press('\x1b', '\t', '\r'), 'finding details');
    screenClean(await press('\x1b', '?'), 'help');
    // Every frame Ink drew, not only the last.
    for (const [i, f] of frames().entries()) screenClean(f, `frame ${i}`);
  });

  it('the snapshot keeps the exact strings: escaping happens when drawing', () => {
    expect(snapshot.interfaces.map((i) => i.name)).toContain(GUEST);
    expect(snapshot.messages.join('\n')).toContain(PCAP);
  });
});
