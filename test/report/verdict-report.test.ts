/**
 * The text report as a new user reads it, on every recording in captures/ in its three forms:
 * the verdict first (the one truth.json calls for), then the guests it hurts and the remedy, all
 * within the first screen of a 120×40 terminal; every input named in full once and by its short
 * name after; no line of prose over 160 columns (table rows may be wider: their cells are not
 * cut). And the smaller things the report must say: a failover the frames show (at the time the
 * lab made it), a captured slave that carried nothing (not "only one slave was captured"), a role
 * flag that names no input, a usage error on one line.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLinksJson } from '../../src/capture/host/links.js';
import { capabilities } from '../../src/engine/capabilities.js';
import { verdictOf } from '../../src/engine/verdict.js';
import { emptyTopology } from '../../src/model/topology.js';
import { analyzeFiles } from '../../src/pipeline/files.js';
import { analysisText } from '../../src/report/analysis.js';
import { runAnalyzer } from '../helpers/analyze.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const BIN = join(PROJECT_ROOT, 'bin/bondscope');
const RECORDINGS = readdirSync(CAPTURES).filter((d) => existsSync(join(CAPTURES, d, 'truth.json'))).sort();
const WORD = { loops: 'LOOPS', 'does-not-loop': 'DOES NOT LOOP', 'cannot-tell': 'CANNOT TELL' } as const;
/** Sections laid out as tables: their rows are as wide as their cells. */
const TABLES = new Set(['Inputs', 'Topology as understood', 'MACs']);

interface Truth {
  loops: boolean;
  interfaces: string[];
  failover?: { at: number; from: string; to: string };
}

function report(files: string[], links?: string) {
  const { a, findings } = runAnalyzer(files, emptyTopology(), links);
  const verdict = verdictOf(a, findings);
  return { verdict, text: analysisText(a, findings, capabilities(a.ports.ports), files.map((name, index) => ({ index, name })), verdict) };
}

/** Rows a 120-column terminal takes to show these lines (a long one wraps). */
const rows = (lines: string[]): number => lines.reduce((n, l) => n + Math.max(1, Math.ceil([...l].length / 120)), 0);

describe('every recording, every form: the answer first, every line readable', () => {
  for (const d of RECORDINGS) {
    const t = JSON.parse(readFileSync(join(CAPTURES, d, 'truth.json'), 'utf8')) as Truth;
    const dir = join(CAPTURES, d);
    const forms: [string, string[], string?][] = [
      ['pcapng', [join(dir, `${d}.pcapng`)]],
      ['pcaps', t.interfaces.map((i) => join(dir, `${i}.pcap`))],
      ['any', [join(dir, 'any.pcap')], join(dir, 'links.json')],
    ];
    for (const [form, files, links] of forms) {
      it(`${d} ${form}`, () => {
        const { verdict, text } = report(files, links);
        const lines = text.split('\n');
        // Line 1 says what was read; the verdict is the first thing after it.
        expect(lines[2]!.startsWith(WORD[verdict.state]), lines[2]).toBe(true);
        expect(verdict.state === 'loops', 'the verdict the truth calls for').toBe(t.loops);
        // The verdict block (up to the Inputs list) holds the guests and the remedy, and fits the first screen.
        const block = lines.slice(0, lines.indexOf('Inputs'));
        expect(rows(block), block.join('\n')).toBeLessThanOrEqual(40);
        for (const h of verdict.hurt) expect(block.join(' '), 'each hurt guest').toContain(h.mac);
        if (verdict.remedy) expect(block.join(' ').replace(/\s+/g, ' ')).toContain(verdict.remedy.text.replace(/\s+/g, ' ').slice(0, 80));
        // Each input in full once, in the Inputs list; by its short name everywhere else.
        for (const file of files) {
          expect(text.split(file).length - 1, file).toBeLessThanOrEqual(1);
          if (files.length > 1) expect(text).toContain(basename(file));
        }
        let section = '';
        for (const l of lines) {
          if (/^\S/.test(l)) section = l;
          if (!TABLES.has(section)) expect([...l].length, `${section}: ${l}`).toBeLessThanOrEqual(160);
        }
      });
    }
  }
});

describe('what the uplink did, said', () => {
  it('failover: the frames show the active slave change, at the time the lab made it, from and to the slaves it named', () => {
    const t = JSON.parse(readFileSync(join(CAPTURES, 'failover', 'truth.json'), 'utf8')) as Truth;
    for (const files of [[join(CAPTURES, 'failover', 'failover.pcapng')], t.interfaces.map((i) => join(CAPTURES, 'failover', `${i}.pcap`))]) {
      const { verdict, text } = report(files);
      const note = verdict.notes.find((n) => n.startsWith('failover at '));
      expect(note, verdict.notes.join('\n')).toBeDefined();
      expect(note).toContain(`left by ${t.failover!.from} until then, by ${t.failover!.to} from then on`);
      const [hh, mm, ss] = /at (\d\d):(\d\d):(\d\d\.\d+) UTC/.exec(note!)!.slice(1).map(Number);
      const said = Math.floor(t.failover!.at / 86400) * 86400 + hh! * 3600 + mm! * 60 + ss!;
      expect(Math.abs(said - t.failover!.at)).toBeLessThan(0.5);
      expect(text).toContain(note!.slice(0, 40));
    }
  });

  it('lacp-latency: the slave that carried nothing was captured; the report says so, never that only one slave was captured', () => {
    const t = JSON.parse(readFileSync(join(CAPTURES, 'lacp-latency', 'truth.json'), 'utf8')) as Truth;
    const { verdict, text } = report(t.interfaces.map((i) => join(CAPTURES, 'lacp-latency', `${i}.pcap`)));
    expect(text).not.toMatch(/only one slave was captured/);
    expect(text).toMatch(/^ {2}eth1 +slave +0 frames +captured, carried nothing/m);
    expect(verdict.notes.some((n) => n.startsWith('eth1 was captured and carried no frame'))).toBe(true);
    expect(verdict.state).toBe('does-not-loop');
  });

  it('loop.pcapng cut at 3000 bytes (dumpcap wrote the slaves first): cannot tell, bond0 asked for as long as its slaves, the silent ports said to be past the cut', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bondscope-cut-'));
    try {
      const cut = join(dir, 'loop.pcapng');
      writeFileSync(cut, readFileSync(join(CAPTURES, 'loop', 'loop.pcapng')).subarray(0, 3000));
      const run = analyzeFiles([cut]);
      expect(run.run.set.errors.map((e) => e.message).join()).toMatch(/cut short/);
      const v = run.verdict;
      expect(v.state).toBe('cannot-tell');
      expect(v.line).toMatch(/whether bond0 passes them up/);
      expect(v.wouldTell[0]).toMatch(/^capture bond0 for as long as its slaves/);
      expect(v.notes).toContain('xenbr0 was captured, but the file was cut short before any frame of it');
      expect(v.notes.some((n) => /carried no frame/.test(n))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bondscope-verdict-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a role flag that names no interface of the inputs is said in one line, with the names they have', () => {
    const t = JSON.parse(readFileSync(join(CAPTURES, 'lacp-latency', 'truth.json'), 'utf8')) as Truth;
    const files = t.interfaces.map((i) => {
      const to = join(dir, `x-${i}.pcap`);
      copyFileSync(join(CAPTURES, 'lacp-latency', `${i}.pcap`), to);
      return to;
    });
    const r = spawnSync(process.execPath, [BIN, 'analyze', '--bond', 'bond7=peth0,peth1', ...files], { encoding: 'utf8' });
    const lines = r.stderr.split('\n').filter((l) => l.includes('--bond'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bondscope: analyze: --bond bond7=peth0,peth1 names no interface of these captures, so it was not used; they have: /);
    for (const i of t.interfaces) expect(lines[0]).toContain(`x-${i}`);
  });

  it('--window -5: one line, no escaped newline', () => {
    const r = spawnSync(process.execPath, [BIN, 'analyze', '--window', '-5', join(CAPTURES, 'loop', 'loop.pcapng')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain('\\n');
    expect(r.stderr).toContain('--window=-XYZ');
  });

  it('frames --links names each -i any frame by its ifindex, as analyze does, and -i picks by that name', () => {
    const any = join(CAPTURES, 'loop', 'any.pcap');
    const links = parseLinksJson(readFileSync(join(CAPTURES, 'loop', 'links.json'), 'utf8'), 'links.json');
    const named = spawnSync(process.execPath, [BIN, 'frames', '--json', '--links', join(CAPTURES, 'loop', 'links.json'), any], { encoding: 'utf8' });
    expect(named.status).toBe(0);
    const ifaces = new Set(named.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { iface: string }).iface));
    expect(ifaces.has('any')).toBe(false);
    for (const n of ['eth0', 'eth1', 'bond0', 'xenbr0', 'vif1.0', 'vif2.0']) expect(ifaces.has(n), n).toBe(true);
    for (const n of ifaces) expect(links.some((l) => l.ifname === n), n).toBe(true);
    const bare = spawnSync(process.execPath, [BIN, 'frames', '--json', any], { encoding: 'utf8' });
    for (const l of bare.stdout.trim().split('\n')) expect((JSON.parse(l) as { iface: string }).iface).toMatch(/^if#\d+$/);
    const eth1 = spawnSync(process.execPath, [BIN, 'frames', '--links', join(CAPTURES, 'loop', 'links.json'), '-i', 'eth1', any], { encoding: 'utf8' });
    const rows = eth1.stdout.trim().split('\n');
    expect(rows.length).toBeGreaterThan(0);
    for (const l of rows) expect(l.trim().split(/\s+/)[3]).toBe('eth1');
  });
});
