/**
 * Interfaces merged into one (src/engine/merged-points.ts), on the lab's recordings merged by the
 * real mergecap (its default, -I all, folds the unnamed interfaces of per-interface pcaps into
 * one) and saved as classic pcap by editcap: the port is found to hold several capture points,
 * has no role, and the analysis says which port saw a frame cannot be told, claiming nothing
 * about any path; a single capture point, on a looping host or not, is never taken for several.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeForTruth } from '../helpers/analyze.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const HAVE = ['mergecap', 'editcap'].every((t) => spawnSync(t, ['-h'], { stdio: 'ignore' }).status === 0);
const tmp = mkdtempSync(join(tmpdir(), 'bondscope-merged-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FAULTS = ['looped-broadcast', 'wrong-port-learning', 'blackholed-unicast', 'mac-flap', 'own-address', 'mac-move', 'lacp-no-partner', 'stp-topology-change'];

describe.skipIf(!HAVE)('interfaces merged into one', () => {
  for (const s of ['loop', 'lacp', 'pve-loop', 'lacp-nopartner']) {
    const ifaces = (JSON.parse(spawnSync('cat', [join(CAPTURES, s, 'truth.json')], { encoding: 'utf8' }).stdout) as { interfaces: string[] }).interfaces;
    it(`${s}: mergecap's default of the per-interface pcaps, and the pcapng saved as pcap: several capture points, no role, no path claimed`, () => {
      const merged = join(tmp, `${s}-merged.pcapng`);
      expect(spawnSync('mergecap', ['-w', merged, ...ifaces.map((i) => join(CAPTURES, s, `${i}.pcap`))]).status).toBe(0);
      const saved = join(tmp, `${s}.pcap`);
      expect(spawnSync('editcap', ['-F', 'pcap', join(CAPTURES, s, `${s}.pcapng`), saved]).status).toBe(0);
      for (const file of [merged, saved]) {
        const a = analyzeForTruth([file]);
        expect(a.capabilities.unproven, file).toContain('ports-apart');
        const ports = a.analysis.run.analyzer.ports.ports;
        expect(ports.map((p) => [p.mergedPoints, p.port.role]), file).toEqual([[true, 'unknown']]);
        expect(a.findings.filter((f) => FAULTS.includes(f.kind)).map((f) => f.summary), file).toEqual([]);
      }
    });
  }
  it('no single capture point of any recording is taken for several (the bond of a looping host sees originals and echoes, the guests repeat their VLAN ARPs)', () => {
    for (const s of ['loop', 'bond-ll-loop', 'background-loop', 'pve-loop', 'libvirt-loop', 'lacp']) {
      const ifaces = (JSON.parse(spawnSync('cat', [join(CAPTURES, s, 'truth.json')], { encoding: 'utf8' }).stdout) as { interfaces: string[] }).interfaces;
      for (const form of [[join(CAPTURES, s, `${s}.pcapng`)], ifaces.map((i) => join(CAPTURES, s, `${i}.pcap`)), ...ifaces.map((i) => [join(CAPTURES, s, `${i}.pcap`)])]) {
        const a = analyzeForTruth(form);
        expect(a.analysis.run.analyzer.ports.ports.filter((p) => p.mergedPoints).map((p) => p.port.name), form.join(' ')).toEqual([]);
      }
    }
  });
});
