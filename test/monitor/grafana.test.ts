/**
 * The shipped Grafana dashboard (deploy/grafana/bondscope-fleet.json) against Grafana's own
 * schema: @grafana/schema (Apache-2.0, the TypeScript types Grafana generates from its CUE
 * dashboard kind and its panels' option schemas). The dashboard's JSON text is checked by tsc as
 * an object literal of type Dashboard — so every field must be one the schema has, of its type —
 * and each panel's options, field config and queries against its panel type's own schema. Then
 * the conventions a provisioned fleet dashboard needs: a stable uid, the data source as a
 * variable (no name assumed), unique panel ids, panels within the 24-column grid without
 * overlapping, and a provisioning file Grafana reads. Every panel's PromQL is run against a real
 * Prometheus scraping the monitor in the looping lab (test/lab/monitor.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';

const DIR = join(PROJECT_ROOT, 'deploy/grafana');
const text = readFileSync(join(DIR, 'bondscope-fleet.json'), 'utf8');
const dashboard = JSON.parse(text) as {
  uid: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: { id: number; type: string; title: string; datasource?: { uid: string }; gridPos: { x: number; y: number; w: number; h: number }; options?: unknown; fieldConfig?: { defaults: { custom?: unknown } }; targets?: { expr: string; datasource: { uid: string } }[] }[];
};
const work = mkdtempSync(join(tmpdir(), 'bondscope-grafana-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Panel type → the module of its option schema in @grafana/schema, and whether it has a custom field config. */
const PANEL_SCHEMA: Record<string, [string, boolean]> = {
  stat: ['stat/panelcfg/x/StatPanelCfg_types.gen', false],
  timeseries: ['timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen', true],
  table: ['table/panelcfg/x/TablePanelCfg_types.gen', true],
};

describe('the Grafana dashboard for a fleet', () => {
  it("is a Dashboard by Grafana's own schema, each panel's options, field config and queries by its panel type's", () => {
    const lines = ["import type { Dashboard, DataQuery } from '@grafana/schema';"];
    for (const [type, [mod, custom]] of Object.entries(PANEL_SCHEMA)) lines.push(`import type { Options as ${type}Options${custom ? `, FieldConfig as ${type}FieldConfig` : ''} } from '@grafana/schema/dist/esm/raw/composable/${mod}';`);
    // The schema's string enums (FieldColorModeId, ThresholdsMode …) as the strings JSON holds.
    lines.push('type Json<T> = T extends string ? `${T}` : T extends object ? { [K in keyof T]: Json<T[K]> } : T;');
    lines.push(`export const dashboard: Json<Dashboard> = ${text};`);
    lines.push('interface PromQuery extends DataQuery { expr: string; legendFormat?: string; range?: boolean; instant?: boolean; format?: "time_series" | "table" | "heatmap" }');
    dashboard.panels.forEach((p, i) => {
      if (p.type === 'row') return;
      expect(Object.keys(PANEL_SCHEMA), p.title).toContain(p.type);
      lines.push(`export const options${i}: Json<${p.type}Options> = ${JSON.stringify(p.options)};`);
      if (p.fieldConfig?.defaults.custom) lines.push(`export const custom${i}: Json<${p.type}FieldConfig> = ${JSON.stringify(p.fieldConfig.defaults.custom)};`);
      lines.push(`export const targets${i}: PromQuery[] = ${JSON.stringify(p.targets)};`);
    });
    writeFileSync(join(work, 'check.ts'), lines.join('\n') + '\n');
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(work, 'node_modules'));
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', join(work, 'check.ts')], { encoding: 'utf8', cwd: work });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a stable uid, the data source as a variable, unique ids, panels in the 24-column grid without overlap', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{8,40}$/);
    expect(dashboard.schemaVersion).toBe(42);
    const ds = dashboard.templating.list.find((v) => v.name === 'datasource')!;
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
        expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
        cells.add(`${x},${y}`);
      }
      if (p.type === 'row') continue;
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets!) {
        expect(t.datasource.uid).toBe('${datasource}');
        // Each query is for the bondscope job and the chosen hosts.
        expect(t.expr, p.title).toMatch(/instance=~"\$instance"/);
      }
    }
    // The provisioning file: a file provider reading the directory the dashboard is copied to.
    const yaml = readFileSync(join(DIR, 'provisioning/bondscope.yaml'), 'utf8');
    expect(yaml).toMatch(/^apiVersion: 1$/m);
    expect(yaml).toMatch(/^\s+type: file$/m);
    expect(yaml).toMatch(/^\s+path: \/var\/lib\/grafana\/dashboards\/bondscope$/m);
  });
});
