/**
 * Evidence bundles of the lab recordings, checked with the real tools: tshark and capinfos read
 * evidence.pcapng without a word of complaint, every frame in it is a frame of the input (same
 * time, interface, lengths), the comments name the findings, report.md's frame numbers are the
 * pcapng's, and analysing the bundle gives the findings of the full capture.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportEvidence, type ExportSummary } from '../../src/export/evidence.js';
import { HAS_CAPINFOS, HAS_TSHARK, PROJECT_ROOT, tshark } from '../helpers/tools.js';
import { findingKeys, freshDir, jsonFindingKeys, type TsharkFrame, tsharkFrames } from './helpers.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const IFACES = ['eth0', 'eth1', 'bond0', 'xenbr0', 'vif1.0', 'vif2.0'];
const SCENARIOS = ['loop', 'lacp', 'migrate'] as const;

interface Bundle {
  dir: string;
  summary: ExportSummary;
  specs: string[];
}

async function bundle(specs: string[], context = 2): Promise<Bundle> {
  const dir = freshDir('bundle');
  const summary = await exportEvidence({ specs, outDir: dir, context, now: new Date('2026-11-25T00:00:00Z') });
  return { dir, summary, specs };
}

const bundles = new Map<string, Bundle>();
beforeAll(async () => {
  for (const s of SCENARIOS) bundles.set(s, await bundle([join(CAPTURES, s, `${s}.pcapng`)]));
  bundles.set('loop-pcaps', await bundle(IFACES.map((i) => join(CAPTURES, 'loop', `${i}.pcap`))));
});

/** The report's "Evidence frames in evidence.pcapng: 3, 5, …" per finding heading. */
function reportEvidence(report: string): { kind: string; mac: string | null; frames: number[] }[] {
  const out: { kind: string; mac: string | null; frames: number[] }[] = [];
  const sections = report.split(/^### /m).slice(1);
  for (const s of sections) {
    const head = /^\d+\. (?:ERROR|WARNING|INFO) ([a-z-]+)(?: ([0-9a-f:]{17}))?/.exec(s);
    const ev = /\*\*Evidence frames in evidence\.pcapng: ([^*]+)\*\*/.exec(s);
    if (!head || !ev) continue;
    const frames = [...ev[1]!.replace(/….*$/, '').matchAll(/\d+/g)].map((m) => Number(m[0]));
    out.push({ kind: head[1]!, mac: head[2] ?? null, frames });
  }
  return out;
}

describe.each(SCENARIOS)('export of captures/%s', (scenario) => {
  const get = (): Bundle => bundles.get(scenario)!;

  it('writes the three files, mode 0600', () => {
    const { dir, summary } = get();
    expect(summary.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['evidence.pcapng', 'findings.json', 'report.md']);
    for (const f of summary.files) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it.skipIf(!HAS_CAPINFOS)('capinfos reads evidence.pcapng without error or warning [needs capinfos]', () => {
    const { dir, summary } = get();
    const r = spawnSync('capinfos', [join(dir, 'evidence.pcapng')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/^capinfos:/m);
    expect(r.stdout).toMatch(new RegExp(`^Number of packets:\\s+${summary.frames}$`, 'm'));
    expect(r.stdout).toMatch(/^Strict time order:\s+True$/m);
    expect(r.stdout).toMatch(/^Number of interfaces in file: 6$/m);
    for (const i of IFACES) expect(r.stdout).toMatch(new RegExp(`^\\s+Name = ${i.replace('.', '\\.')}$`, 'm'));
    // The section comment: topology and tool version.
    // The section comment: the topology as live mode records it (analyze reads it back), then in words.
    // (capinfos prints the comment's lines as one.)
    expect(r.stdout).toMatch(/Capture comment:\s+bondscope topology v1\s\{"tool":"bondscope /);
    expect(r.stdout).toMatch(/bondscope \S+ evidence bundle, exported 2026-11-25T00:00:00\.000Z/);
    expect(r.stdout).toMatch(/xenbr0: bridge with ports bond0, vif1\.0, vif2\.0/);
  });

  it.skipIf(!HAS_TSHARK)('tshark reads every frame cleanly; each is a frame of the input with its interface, time and lengths [needs tshark]', () => {
    const { dir, summary, specs } = get();
    const out = tsharkFrames(join(dir, 'evidence.pcapng'));
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.frames.length).toBe(summary.frames);
    const input = tsharkFrames(specs[0]!);
    const key = (f: TsharkFrame): string => `${f.time} ${f.iface} ${f.len} ${f.caplen}`;
    const inputKeys = new Map<string, number>();
    for (const f of input.frames) inputKeys.set(key(f), (inputKeys.get(key(f)) ?? 0) + 1);
    for (const f of out.frames) {
      expect(inputKeys.get(key(f)), `frame ${f.no} (${key(f)}) is not in the input`).toBeGreaterThan(0);
      inputKeys.set(key(f), inputKeys.get(key(f))! - 1);
    }
    // Time order, as capinfos says too.
    for (let i = 1; i < out.frames.length; i++) expect(Number(out.frames[i]!.time)).toBeGreaterThanOrEqual(Number(out.frames[i - 1]!.time));
  });

  it.skipIf(!HAS_TSHARK)('report.md frame numbers are evidence.pcapng frames whose comments name the finding [needs tshark]', () => {
    const { dir } = get();
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    const json = JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8'));
    const sections = reportEvidence(report);
    expect(sections.map((s) => `${s.kind} ${s.mac}`)).toEqual(json.findings.map((f: { kind: string; mac: string }) => `${f.kind} ${f.mac}`));
    const frames = new Map(tsharkFrames(join(dir, 'evidence.pcapng')).frames.map((f) => [f.no, f]));
    for (const s of sections) {
      expect(s.frames.length).toBeGreaterThan(0);
      for (const no of s.frames) {
        const f = frames.get(no)!;
        expect(f, `frame ${no}`).toBeDefined();
        const named = f.comments.some((c) => c.startsWith('bondscope: ') && c.includes(s.kind) && (s.mac === null || c.includes(s.mac)));
        expect(named, `frame ${no} should name ${s.kind} ${s.mac}: ${f.comments.join(' | ')}`).toBe(true);
      }
    }
    // Timeline rows: frame number, interface and text as in the pcapng.
    const rows = [...report.matchAll(/^\| [\d-]+ [\d:.]+ \| [\d.]+ \| (\d+) \| `([^`]+)` \| (.+) \|$/gm)];
    if (json.findings.length) expect(rows.length).toBeGreaterThan(0);
    else expect(rows.length).toBe(0);
    for (const [, no, iface, what] of rows) {
      const f = frames.get(Number(no))!;
      expect(f.iface).toBe(iface);
      expect(f.comments.length).toBeGreaterThan(0);
      expect(what).toContain(f.comments[0]!.replace(/^bondscope: /, '').split(' — ')[0]!.split(' + ')[0]!);
    }
  });

  it('report.md has its sections, the picture and the commands', () => {
    const report = readFileSync(join(get().dir, 'report.md'), 'utf8');
    for (const h of ['## Summary', '## What was captured, where and when', '## The host', '## Findings', '## Timeline', '## What to do', '## What these captures can and cannot prove', '## How to reproduce']) {
      expect(report).toContain(`\n${h}\n`);
    }
    expect(report).toMatch(/```mermaid\nflowchart TB\n/);
    expect(report).toContain(`bondscope analyze ${join(CAPTURES, scenario, `${scenario}.pcapng`)}`);
    expect(report).toContain('bondscope analyze evidence.pcapng');
    expect(report).toMatch(new RegExp(`\\| \`[^\`]*${scenario}\\.pcapng\` \\| pcapng \\| \\d+ \\| 2026-`));
  });

  it('findings.json is the analysis of the input; analysing evidence.pcapng gives the same findings', () => {
    const { dir, specs } = get();
    const json = JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['interfaces', 'macs', 'findings', 'capabilities', 'inputs', 'stats']));
    expect(jsonFindingKeys(json)).toEqual(findingKeys(specs));
    expect(findingKeys([join(dir, 'evidence.pcapng')])).toEqual(findingKeys(specs));
  });
});

describe('what each scenario exports', () => {
  it('loop: the loop path in comments, "echo of frame N sent by vif1.0", the learned port in red', async () => {
    const { dir } = bundles.get('loop')!;
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toMatch(/# bondscope evidence: the bonded bridge loops/);
    expect(report).toMatch(/==>\|"8\. bridge learns 00:16:3e:00:00:01 on bond0"\|/);
    expect(report).toMatch(/class n\d+ wrong/);
    if (!HAS_TSHARK) return;
    const frames = tsharkFrames(join(dir, 'evidence.pcapng')).frames;
    const echo = frames.find((f) => f.comments.some((c) => /^bondscope: wrong-port-learning 00:16:3e:00:00:01 — echo of frame \d+ sent by vif1\.0, passed up by bond0/.test(c)))!;
    expect(echo.iface).toBe('bond0');
    const origin = Number(/echo of frame (\d+)/.exec(echo.comments.join(' '))![1]);
    const sent = frames.find((f) => f.no === origin)!;
    expect(sent.iface).toBe('vif1.0');
    expect(sent.comments.join(' ')).toContain('sent by the guest on vif1.0');
    // The blackholed unicast names the echo that taught the bridge the wrong port, and that echo is on bond0.
    const hole = frames.find((f) => f.comments.some((c) => c.includes('never reached vif1.0; the bridge had the guest on bond0 since frame')))!;
    const taught = Number(/since frame (\d+)/.exec(hole.comments.join(' '))![1]);
    expect(frames.find((f) => f.no === taught)!.iface).toBe('bond0');
  });

  it('lacp: no findings, no frames, every interface still described', () => {
    const { dir, summary } = bundles.get('lacp')!;
    expect(summary.findings).toBe(0);
    expect(summary.frames).toBe(0);
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toMatch(/# bondscope evidence: no loop in these captures/);
    expect(report).toContain('Nothing: no fault found.');
  });

  it('migrate: the move with the last frame on the old port, and the frame where it arrived', async () => {
    const { dir } = bundles.get('migrate')!;
    if (!HAS_TSHARK) return;
    const frames = tsharkFrames(join(dir, 'evidence.pcapng')).frames;
    const arrived = frames.find((f) => f.comments.some((c) => /^bondscope: mac-move 00:16:3e:00:00:01 — arrives on bond0: moved from vif1\.0 \(last seen there in frame \d+\) and stayed$/.test(c)))!;
    expect(arrived).toBeDefined();
    const before = Number(/last seen there in frame (\d+)/.exec(arrived.comments.join(' '))![1]);
    expect(before).toBeLessThan(arrived.no);
    expect(frames.find((f) => f.no === before)!.iface).toBe('vif1.0');
  });
});

describe('inputs and options', () => {
  it.skipIf(!HAS_CAPINFOS || !HAS_TSHARK)('per-interface tcpdump files: one IDB each named after the file, µs resolution kept, same findings [needs tshark, capinfos]', () => {
    const { dir, specs } = bundles.get('loop-pcaps')!;
    const r = spawnSync('capinfos', [join(dir, 'evidence.pcapng')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.match(/Time resolution = 0x06/g)?.length).toBe(6);
    const out = tsharkFrames(join(dir, 'evidence.pcapng')).frames;
    expect(new Set(out.map((f) => f.iface))).toEqual(new Set(IFACES));
    // Each frame's time is exactly one of its interface file's times (µs kept, not rounded).
    const times = new Map(IFACES.map((i) => [i, new Set(tsharkFrames(join(CAPTURES, 'loop', `${i}.pcap`)).frames.map((f) => f.time))]));
    for (const f of out) expect(times.get(f.iface)!.has(f.time)).toBe(true);
    expect(findingKeys([join(dir, 'evidence.pcapng')])).toEqual(findingKeys(specs));
  });

  it('--context 0 writes only commented frames; more context adds uncommented frames around them', async () => {
    if (!HAS_TSHARK) return;
    const loop = join(CAPTURES, 'loop', 'loop.pcapng');
    const none = await bundle([loop], 0);
    const frames0 = tsharkFrames(join(none.dir, 'evidence.pcapng')).frames;
    expect(frames0.every((f) => f.comments.length > 0)).toBe(true);
    expect(none.summary.context).toBe(0);
    const five = await bundle([loop], 5);
    expect(five.summary.commented).toBe(none.summary.commented);
    expect(five.summary.context).toBeGreaterThan(bundles.get('loop')!.summary.context);
    expect(findingKeys([join(none.dir, 'evidence.pcapng')])).toEqual(findingKeys([loop]));
  });

  it('an analysis already run (the UI, live mode) gives the same bundle without a first analysis pass', async () => {
    const loop = join(CAPTURES, 'loop', 'loop.pcapng');
    const { openCapture } = await import('../../src/capture/index.js');
    const { DecodedFrame, decodeFrame } = await import('../../src/decode/index.js');
    const { Analyzer } = await import('../../src/engine/analyzer.js');
    const { emptyTopology } = await import('../../src/model/topology.js');
    const set = openCapture([loop]);
    const analyzer = new Analyzer(emptyTopology());
    // As the UI and live mode do: the engine knows the capture set's interfaces.
    analyzer.knowInterfaces(set.registry.list);
    const f = new DecodedFrame();
    while (set.next()) {
      decodeFrame(set.rec, f);
      analyzer.observe(set.rec, f);
    }
    analyzer.finish();
    const dir = freshDir('given');
    const given = await exportEvidence({ specs: [loop], outDir: dir, analyzer, now: new Date('2026-11-25T00:00:00Z') });
    const plain = bundles.get('loop')!;
    expect(given.frames).toBe(plain.summary.frames);
    expect(given.commented).toBe(plain.summary.commented);
    expect(readFileSync(join(dir, 'evidence.pcapng'))).toEqual(readFileSync(join(plain.dir, 'evidence.pcapng')));
    expect(readFileSync(join(dir, 'findings.json'), 'utf8')).toBe(readFileSync(join(plain.dir, 'findings.json'), 'utf8'));
  });

  it.skipIf(!HAS_TSHARK)('direction flags (epb_flags) of the input are kept [needs tshark]', async () => {
    // The loop recording rewritten with directions, as live mode records them: eth1 is the backup
    // slave and only ever receives; bond0's copies are marked by the engine's own reading of them.
    const { openCapture, PcapngWriter } = await import('../../src/capture/index.js');
    const src = join(freshDir('dir') + '.pcapng');
    const w = new PcapngWriter(src);
    const set = openCapture([join(CAPTURES, 'loop', 'loop.pcapng')]);
    const ids = new Map<number, number>();
    while (set.next()) {
      const r = set.rec;
      let id = ids.get(r.iface!.id);
      if (id === undefined) {
        id = w.addInterface({ name: r.iface!.name, linkType: r.iface!.linkType, snaplen: r.iface!.snaplen });
        ids.set(r.iface!.id, id);
      }
      w.writePacket(id, r.tsSec, r.tsNsec, r.buf, r.offset, r.caplen, r.origLen, { direction: r.iface!.name === 'eth1' ? 1 : 0 });
    }
    w.close();
    const b = await bundle([src]);
    expect(b.summary.findings).toBeGreaterThan(0);
    const r = tshark(['-r', join(b.dir, 'evidence.pcapng'), '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction']);
    expect(r.stderr).toBe('');
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    const eth1 = rows.filter(([i]) => i === 'eth1');
    expect(eth1.length).toBeGreaterThan(0);
    for (const [, d] of eth1) expect(Number(d)).toBe(1); // inbound (tshark prints 0x00000001)
    for (const [i, d] of rows) if (i !== 'eth1') expect(d ?? '').toBe('');
  });

  it('an existing bundle file with wider rights is rewritten 0600', async () => {
    const dir = freshDir('perm');
    mkdirSync(dir);
    writeFileSync(join(dir, 'report.md'), 'old');
    chmodSync(join(dir, 'report.md'), 0o644);
    await exportEvidence({ specs: [join(CAPTURES, 'migrate', 'migrate.pcapng')], outDir: dir });
    expect(statSync(join(dir, 'report.md')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('mac-move');
  });

  it('stdin and an input inside the bundle are refused with one line', async () => {
    await expect(exportEvidence({ specs: ['-'], outDir: freshDir('x') })).rejects.toThrow(/stdin cannot be read twice/);
    const { dir } = bundles.get('loop')!;
    await expect(exportEvidence({ specs: [join(dir, 'evidence.pcapng')], outDir: dir })).rejects.toThrow(/is inside the bundle/);
  });

  it.skipIf(!HAS_TSHARK)('a pcapng frame comment from the input is kept beside bondscope’s own [needs tshark]', async () => {
    // Give one evidence frame of the loop a comment, as an analyst would in Wireshark.
    const src = join(freshDir('commented'));
    mkdirSync(src);
    const commented = join(src, 'loop-commented.pcapng');
    const r = spawnSync('editcap', ['-a', '8:checked by hand', join(CAPTURES, 'loop', 'loop.pcapng'), commented], { encoding: 'utf8' });
    if (r.status !== 0) return; // editcap missing or too old for -a
    const b = await bundle([commented]);
    const frames = tsharkFrames(join(b.dir, 'evidence.pcapng')).frames;
    const f = frames.find((x) => x.comments.includes('checked by hand'))!;
    expect(f).toBeDefined();
    expect(f.comments.some((c) => c.startsWith('bondscope: '))).toBe(true);
    expect(tshark(['-r', join(b.dir, 'evidence.pcapng'), '-c', '1']).stderr).toBe('');
  });
});

describe.each(['stp', 'stp-root', 'stp-tcn', 'lacp-nopartner', 'lacp-split', 'lacp-pdu'])('spanning-tree and LACP findings: captures/%s', (scenario) => {
  it('the bundle carries the BPDUs/LACPDUs and the host’s own MACs its findings hang on: analysing it finds the same, plain and sanitized', async () => {
    const input = join(CAPTURES, scenario, `${scenario}.pcapng`);
    const expected = findingKeys([input]);
    expect(expected.some((k) => /^(stp|lacp)-/.test(k))).toBe(true);
    const plain = await bundle([input]);
    expect(findingKeys([join(plain.dir, 'evidence.pcapng')])).toEqual(expected);
    const dir = freshDir('ctl-san');
    await exportEvidence({ specs: [input], outDir: dir, sanitize: true, sanitizeKey: new Uint8Array(32).fill(9) });
    const json = JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8'));
    expect(findingKeys([join(dir, 'evidence.pcapng')])).toEqual(jsonFindingKeys(json));
    if (HAS_TSHARK) {
      for (const d of [plain.dir, dir]) {
        const r = tsharkFrames(join(d, 'evidence.pcapng'));
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
    }
  });
});
