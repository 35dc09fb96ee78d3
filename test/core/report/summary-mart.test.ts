// report summary reads the small telemetry_summary mart instead of scanning telemetry_risk (issue 18: reports
// < 1 s at 25M rows): on a really generated, loaded and transformed lakehouse its telemetry and risk metrics equal
// the same figures computed straight from telemetry_risk, and it no longer needs telemetry_risk's rows at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { runReport } from '../../../src/core/report/index.js';
import { renderJson } from '../../../src/render/json.js';
import { tempDir } from '../../helpers/run-cli.js';
import { buildPipelineLakehouse } from './pipeline-lakehouse.js';
import { lakeAt } from '../../helpers/lake.js';

let dir: { dir: string; cleanup: () => void };
let dbPath: string;

/** The figures from every telemetry_risk row, as the summary computed them before the mart (nearest-rank p95). */
const FROM_EVENTS = `
WITH lat AS (SELECT latency_ms AS v, count(*) AS c FROM telemetry_risk WHERE latency_ms IS NOT NULL GROUP BY 1)
SELECT count(*)::DOUBLE AS events, (sum(risk_score) / count(risk_score))::DOUBLE AS avg_risk,
  (count(nullif(error_code, '')) / count(*))::DOUBLE AS error_rate,
  (SELECT min(v) FROM (SELECT v, sum(c) OVER (ORDER BY v) AS cum, sum(c) OVER () AS n FROM lat) WHERE cum >= 0.95 * n)::DOUBLE AS p95_latency_ms,
  count(*) FILTER (WHERE risk_level = 'none')::DOUBLE AS events_none, count(*) FILTER (WHERE risk_level = 'low')::DOUBLE AS events_low,
  count(*) FILTER (WHERE risk_level = 'medium')::DOUBLE AS events_medium, count(*) FILTER (WHERE risk_level = 'high')::DOUBLE AS events_high,
  count(*) FILTER (WHERE risk_level = 'critical')::DOUBLE AS events_critical
FROM telemetry_risk`;

async function summary(path: string): Promise<{ json: string; byMetric: Record<string, unknown> }> {
  let json = '';
  await runReport({ name: 'summary', filters: {}, target: { format: 'json', stdout: { write: (s: string) => (json += s) }, render: renderJson } }, { lake: lakeAt(path) });
  const rows = JSON.parse(json) as { metric: string; value: unknown }[];
  return { json, byMetric: Object.fromEntries(rows.map((r) => [r.metric, r.value])) };
}

beforeAll(() => {
  dir = tempDir();
  dbPath = buildPipelineLakehouse(dir.dir).dbPath;
}, 180_000);

afterAll(() => dir?.cleanup());

describe('report summary from the telemetry_summary mart', () => {
  it('gives the same telemetry and risk figures as telemetry_risk itself', async () => {
    const db = await openDb(dbPath);
    let expected: Record<string, unknown>;
    try {
      expected = (await db.all<Record<string, unknown>>(FROM_EVENTS))[0] as Record<string, unknown>;
    } finally {
      db.close();
    }
    expect(expected.events).toBeGreaterThan(1000);
    // more than one level present, so the per-level sums are really checked
    expect(['events_none', 'events_low', 'events_medium', 'events_high', 'events_critical'].filter((k) => Number(expected[k]) > 0).length).toBeGreaterThan(1);
    const { byMetric } = await summary(dbPath);
    for (const [metric, value] of Object.entries(expected)) expect(byMetric[metric], metric).toBe(value);
  });

  it('does not read telemetry_risk: emptied, the summary is unchanged', async () => {
    const before = await summary(dbPath);
    const copy = join(dir.dir, 'emptied.duckdb');
    copyFileSync(dbPath, copy);
    const db = await openDb(copy);
    try {
      await db.run('DELETE FROM telemetry_risk');
    } finally {
      db.close();
    }
    expect((await summary(copy)).json).toBe(before.json);
  });
});
