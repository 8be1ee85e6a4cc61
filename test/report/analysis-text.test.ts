/**
 * The text report's tables keep their columns in line whatever the cells hold: vendor names longer
 * than the column's header ("locally administered"), interface names longer than usual (a bond
 * renamed, as `bondscope` shows whatever the capture calls it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import { capabilities } from '../../src/engine/capabilities.js';
import { emptyTopology } from '../../src/model/topology.js';
import { analysisText } from '../../src/report/analysis.js';
import { readAll, writePcapng } from '../helpers/rewrite.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'bondscope-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function report(file: string): string {
  const t = emptyTopology();
  // The renamed bond keeps its role through a flag, so the findings stay those of the recording.
  t.ports.set('bond0-uplink-to-core', { name: 'bond0-uplink-to-core', role: 'bond', bond: null, bridge: null, roleSource: 'flag', reason: '--bond' });
  const a = new Analyzer(t);
  const set = openCapture([file]);
  const f = new DecodedFrame();
  while (set.next()) {
    decodeFrame(set.rec, f);
    a.observe(set.rec, f);
  }
  const findings = a.finish();
  return analysisText(a, findings, capabilities(a.ports.ports), [{ index: 0, name: file }]);
}

/** Lines of a section, from its title to the next blank line. */
function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const from = lines.indexOf(title);
  const to = lines.indexOf('', from);
  return lines.slice(from + 1, to < 0 ? undefined : to);
}

describe('text report tables', () => {
  const file = writePcapng(readAll([join(PROJECT_ROOT, 'captures/loop/loop.pcapng')]), join(dir, 'loop.pcapng'), (n) => (n === 'bond0' ? 'bond0-uplink-to-core' : n));
  const text = report(file);

  it('MACs: every column starts where its header does, past a long vendor and a long learned-on name', () => {
    const rows = section(text, 'MACs');
    const header = rows[0]!;
    const learnedAt = header.indexOf('learned on');
    const seenAt = header.indexOf('seen on');
    const vendorAt = header.indexOf('vendor');
    expect(rows.some((r) => r.includes('locally administered'))).toBe(true);
    expect(rows.some((r) => r.includes('bond0-uplink-to-core'))).toBe(true);
    for (const r of rows.slice(1)) {
      expect(r.slice(learnedAt - 2, learnedAt), r).toBe('  ');
      expect(r[learnedAt], r).not.toBe(' ');
      expect(r.slice(seenAt - 2, seenAt), r).toBe('  ');
      expect(r[seenAt], r).not.toBe(' ');
      expect(r.slice(vendorAt - 2, vendorAt), r).toBe('  ');
    }
  });

  it('Topology: the role and frames columns line up past a long interface name', () => {
    const rows = section(text, 'Topology as understood');
    const framesEnd = rows.map((r) => r.indexOf(' frames') + ' frames'.length);
    expect(new Set(framesEnd).size).toBe(1);
    const roleAt = rows.map((r) => r.search(/ (slave|bond|bridge|guest|unknown)\b/));
    expect(new Set(roleAt).size).toBe(1);
  });
});
