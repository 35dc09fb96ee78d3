// The report charts as Vega-Lite (issue 16): stays split at the rules' gap, small multiples with one row per vital
// (its own y-axis and unit) and one column per stay (its own time axis), alarming values marked, drawn to static
// SVG by vega in Node; `report --format vega-lite` hands the same specs to a notebook, and query refuses it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vl from 'vega-lite';
import { MAX_STAYS, riskSpec, splitStays, vitalsSpec } from '../../../src/core/report/chart-specs.js';
import type { PatientVitals } from '../../../src/core/report/dashboard.js';
import { renderSvg } from '../../../src/render/vega.js';
import { runCli } from '../../helpers/run-cli.js';
import { useFixtureLakehouse } from './fixture.js';

const lake = useFixtureLakehouse();

const H = (day: number, hour: number): string => new Date(Date.UTC(2026, 0, day, hour)).toISOString();

/** Two stays (5 Jan 08-10 h, then 12 Jan 14-15 h): the old chart put both on one 7-day axis. */
function twoStays(): PatientVitals {
  const hours = [H(5, 8), H(5, 9), H(5, 10), H(12, 14), H(12, 15)];
  return {
    patient_id: 'PT-0000001',
    news2: hours.map((h, i) => ({ hour_start: h, news2_total: [1, 3, 7, 0, 2][i] ?? 0, news2_band: i === 2 ? 'high' : 'low' })),
    metrics: [
      { metric: 'heart_rate', points: hours.map((h, i) => ({ hour_start: h, avg: 70 + i * 12, score: i === 2 ? 3 : 0 })) },
      { metric: 'temperature_c', points: hours.map((h, i) => ({ hour_start: h, avg: 36.6 + i / 10, score: 0 })) },
    ],
  };
}

type Cell = { width?: number; layer?: { encoding?: Record<string, { axis?: unknown; scale?: { domain?: unknown } }> }[] };

describe('stays', () => {
  it('a gap of more than the threshold starts a new stay; a shorter one does not', () => {
    expect(splitStays([H(5, 8), H(5, 9), H(5, 21), H(6, 12)], 12)).toEqual([
      { from: H(5, 8), to: H(5, 22) },
      { from: H(6, 12), to: H(6, 13) },
    ]);
    expect(splitStays([H(5, 8), H(5, 9), H(5, 21)], 10)).toHaveLength(2);
    expect(splitStays([], 12)).toEqual([]);
  });
});

describe('vitals small multiples', () => {
  it('sparse real records (a visit a year, as in Synthea) keep the latest stays readable: hour labels, the date in the title, points mid-hour', async () => {
    const visits = Array.from({ length: 9 }, (_, k) => new Date(Date.UTC(2016 + k, 3, 8, 3)).toISOString());
    const p: PatientVitals = {
      patient_id: 'PT-SPARSE',
      news2: visits.map((h) => ({ hour_start: h, news2_total: 1, news2_band: 'incomplete' })),
      metrics: [{ metric: 'heart_rate', points: visits.map((h, k) => ({ hour_start: h, avg: 70 + k, score: 0 })) }],
    };
    const spec = vitalsSpec(p, 12) as { title: { text: string }; vconcat: { hconcat: Cell[] }[] };
    expect(spec.vconcat[0]?.hconcat).toHaveLength(MAX_STAYS);
    expect(spec.title.text).toContain(`the last ${MAX_STAYS} of 9 stays`);
    const svg = await renderSvg(spec as Record<string, unknown>);
    // Numbered as in the whole record: the first shown is stay 4 of 9, dated; labels are hours only.
    expect(svg).toContain('>stay 4 (1 h, UTC) 2019-04-08</text>');
    expect(svg).not.toContain('>stay 1 (');
    expect(svg).toMatch(/>03:00<\/text>/);
    expect(svg).not.toMatch(/>\d\d-\d\d \d\d:\d\d<\/text>/);
    const point = (spec.vconcat[1]?.hconcat[0] as { data?: { values?: { hour_mid?: string }[] } }).data?.values?.[0];
    expect(point?.hour_mid).toBe('2019-04-08T03:30:00.000Z');
  });

  it('a lakehouse with no telemetry says so in the risk chart instead of drawing a zero log axis', async () => {
    const spec = riskSpec(['none', 'low', 'medium', 'high', 'critical'].map((level) => ({ level, events: 0 })) as never);
    const svg = await renderSvg(spec as Record<string, unknown>);
    expect(svg).toContain('no telemetry events loaded');
    expect(svg).not.toContain('0.000000');
  });

  it('an incomplete observation set (real data: Synthea, PhysioNet) is drawn grey and named in the legend, never in a band colour', async () => {
    const p = twoStays();
    p.news2 = p.news2.map((h, i) => (i === 1 ? { ...h, news2_band: 'incomplete' } : h));
    const spec = vitalsSpec(p, 12) as { vconcat: { hconcat: Cell[] }[] };
    const color = (spec.vconcat[0]?.hconcat[0]?.layer?.[1]?.encoding as Record<string, { scale?: { domain?: string[]; range?: string[] } }>)?.color?.scale;
    expect(color?.domain).toContain('incomplete');
    expect(color?.range?.[color.domain!.indexOf('incomplete')]).toBe('#9e9e9e');
    const svg = await renderSvg(spec as Record<string, unknown>);
    expect(svg).toContain('incomplete');
    expect(svg.toLowerCase()).toContain('#9e9e9e');
  });

  it('one row per vital and NEWS2, one column per stay, each column its own time domain, each row its unit', () => {
    const spec = vitalsSpec(twoStays(), 12) as { vconcat: { hconcat: Cell[] }[] };
    expect(spec.vconcat).toHaveLength(3);
    for (const row of spec.vconcat) expect(row.hconcat).toHaveLength(2);
    const domains = spec.vconcat[1]?.hconcat.map((c) => c.layer?.[0]?.encoding?.x?.scale?.domain);
    expect(domains).toEqual([
      [Date.parse(H(5, 8)), Date.parse(H(5, 11))],
      [Date.parse(H(12, 14)), Date.parse(H(12, 16))],
    ]);
    const yTitle = (r: number, c: number): unknown => (spec.vconcat[r]?.hconcat[c]?.layer?.[0]?.encoding?.y?.axis as { title?: unknown } | null)?.title;
    expect(yTitle(1, 0)).toEqual(['heart rate', '(/min)']);
    expect(yTitle(2, 0)).toEqual(['temperature', '(°C)']);
    expect(yTitle(1, 1)).toBeUndefined(); // the second column shares the row's axis
    expect(() => vl.compile(spec as unknown as vl.TopLevelSpec)).not.toThrow();
  });

  it('draws to static SVG: two stays, NEWS2 bands behind the bars, the alarming value in red, no script', async () => {
    const svg = await renderSvg(vitalsSpec(twoStays(), 12));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toMatch(/<script|url\(/);
    expect(svg).toContain('>stay 1 (3 h, UTC) 2026-01-05</text>');
    expect(svg).toContain('>stay 2 (2 h, UTC) 2026-01-12</text>');
    expect(svg).toContain('>NEWS2</text>');
    // Band zones (their fills) and the one alarming heart rate (score 3) as a red point.
    for (const fill of ['#eaf6ec', '#fdf1d8', '#fbe3df']) expect(svg).toContain(fill);
    const red = svg.match(/fill="#c0392b"/g) ?? [];
    expect(red).toHaveLength(1);
  });
});

describe('report --format vega-lite', () => {
  it('writes the report charts as an array of Vega-Lite specs that compile; query refuses the format', async () => {
    const r = await runCli('report', 'summary', '--db', lake.db, '--format', 'vega-lite');
    expect(r.exitCode, r.stderr).toBe(0);
    const specs = JSON.parse(r.stdout) as { $schema: string; name: string; data?: unknown }[];
    expect(specs.map((s) => s.name)).toEqual(['risk', 'alerts-procedure', 'alerts-robot', 'quality', 'vitals', 'vitals']);
    for (const s of specs) {
      expect(s.$schema).toMatch(/vega-lite\/v6/);
      expect(() => vl.compile(s as unknown as vl.TopLevelSpec)).not.toThrow();
    }
    const out = join(lake.dir, 'charts.vl.json');
    const f = await runCli('report', 'news2', '--db', lake.db, '--format', 'vega-lite', '--out', out);
    expect(f.exitCode, f.stderr).toBe(0);
    expect(f.stderr).toMatch(/wrote report news2: 2 charts to .*charts\.vl\.json \(vega-lite\)/);
    expect((JSON.parse(readFileSync(out, 'utf8')) as unknown[]).length).toBe(2);
    const q = await runCli('query', 'SELECT 1', '--db', lake.db, '--format', 'vega-lite');
    expect(q.exitCode).toBe(2);
    expect(q.stderr).toMatch(/unknown --format vega-lite/);
  });
});
