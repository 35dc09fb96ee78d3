// report summary reads the small telemetry_summary mart, and report search (without a time window or level) the
// telemetry_search mart, instead of scanning telemetry_risk (issue 18: reports < 1 s at 25M rows): on a really
// generated, loaded and transformed lakehouse they give what telemetry_risk itself gives, byte for byte, and no
// longer need telemetry_risk's rows at all. The HTML pages' risk-level chart reads telemetry_summary the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { runReport, type RawFilters } from '../../../src/core/report/index.js';
import { loadDashboard } from '../../../src/core/report/dashboard.js';
import { containsPattern, parseFilters } from '../../../src/core/report/filters.js';
import { emitQuery } from '../../../src/core/export/emit.js';
import { RISK_LEVEL_RANK, riskLevelRankSql } from '../../../src/core/domain.js';
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

/** A copy of the lakehouse with telemetry_risk emptied: what still answers the same does not read its rows. */
async function withoutEvents(name: string): Promise<string> {
  const copy = join(dir.dir, `${name}.duckdb`);
  copyFileSync(dbPath, copy);
  const db = await openDb(copy);
  try {
    await db.run('DELETE FROM telemetry_risk');
  } finally {
    db.close();
  }
  return copy;
}

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
    expect((await summary(await withoutEvents('emptied'))).json).toBe(before.json);
  });
});

async function reportJson(path: string, name: string, filters: RawFilters): Promise<string> {
  let json = '';
  await runReport({ name, filters, target: { format: 'json', stdout: { write: (s: string) => (json += s) }, render: renderJson } }, { lake: lakeAt(path) });
  return json;
}

/**
 * report search as it was before telemetry_search (every event of telemetry_risk grouped, then the alerts), the
 * reference: the same filters bound the same way, rendered through the same JSON writer.
 */
async function searchFromEvents(path: string, f: RawFilters & { text: string }): Promise<string> {
  const p = parseFilters(f);
  const params: Record<string, string | number> = { pattern: containsPattern(f.text) };
  const ev: string[] = [];
  const al: string[] = [];
  for (const k of ['patient', 'procedure', 'robot'] as const) {
    const v = p[k];
    if (v === undefined) continue;
    params[k] = v;
    ev.push(`${k}_id = $${k}`);
    al.push(`${k}_id = $${k}`);
  }
  if (p.since !== undefined) (params.since = p.since, ev.push('recorded_at >= CAST($since AS TIMESTAMPTZ)'), al.push('"at" >= CAST($since AS TIMESTAMPTZ)'));
  if (p.until !== undefined) (params.until = p.until, ev.push('recorded_at < CAST($until AS TIMESTAMPTZ)'), al.push('"at" < CAST($until AS TIMESTAMPTZ)'));
  if (p.minLevel !== undefined) (params.min_rank = RISK_LEVEL_RANK[p.minLevel], ev.push(`${riskLevelRankSql('risk_level')} >= $min_rank`), al.push('level_rank >= $min_rank'));
  const and = (c: string[]) => c.map((x) => ` AND ${x}`).join('');
  const grouped = (column: string, order: number) => `
    SELECT '${column}' AS kind, ${order} AS ord, ${column} AS match, procedure_id, patient_id, robot_id, count(*) AS n,
           min(recorded_at) AS first_at, max(recorded_at) AS last_at, NULL::VARCHAR AS alert_id, NULL::VARCHAR AS level
    FROM telemetry_risk WHERE ${column} ILIKE $pattern ESCAPE '\\'${and(ev)} GROUP BY ${column}, procedure_id, patient_id, robot_id`;
  const limit = p.all === true ? undefined : (p.limit ?? 100);
  if (limit !== undefined) params.limit = limit;
  const sql = `SELECT kind, match, procedure_id, patient_id, robot_id, n, first_at, last_at, alert_id, level FROM (
    ${grouped('step', 1)} UNION ALL ${grouped('error_code', 2)} UNION ALL
    SELECT 'alert', 3, reason, procedure_id, patient_id, robot_id, 1, "at", "at", alert_id, level FROM alerts WHERE reason ILIKE $pattern ESCAPE '\\'${and(al)}
  ) ORDER BY ord, first_at, procedure_id, match, alert_id${limit === undefined ? '' : ' LIMIT $limit'}`;
  let json = '';
  await lakeAt(path).withReader((db) =>
    emitQuery(db, { name: 'search', title: 'Search', sql, params }, { format: 'json', stdout: { write: (s: string) => (json += s) }, render: renderJson }),
  );
  return json;
}

describe('report search from the telemetry_search mart', () => {
  it('gives byte for byte what the events give, with and without filters', async () => {
    const db = await openDb(dbPath, { readOnly: true });
    let pick: Record<string, string>;
    try {
      // an event some way into suturing; mid is its time, pmid the middle of its patient's events
      pick = (await db.all<Record<string, string>>(`SELECT procedure_id, patient_id, robot_id, strftime(recorded_at, '%Y-%m-%dT%H:%M:%SZ') AS mid,
          (SELECT strftime(quantile_disc(p.recorded_at, 0.5), '%Y-%m-%dT%H:%M:%SZ') FROM telemetry_risk p WHERE p.patient_id = t.patient_id) AS pmid,
          (SELECT error_code FROM telemetry_risk WHERE error_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS code
        FROM telemetry_risk t WHERE step ILIKE '%sutur%' ORDER BY recorded_at, event_id LIMIT 1 OFFSET 100`))[0] as Record<string, string>;
    } finally {
      db.close();
    }
    expect(pick.code).toBeTruthy();
    const cases: (RawFilters & { text: string })[] = [
      { text: 'sutur' }, { text: 'e' }, { text: 'e', all: true }, { text: 'E', limit: '7' }, { text: pick.code as string },
      { text: 'u', patient: pick.patient_id }, { text: 'u', procedure: pick.procedure_id }, { text: 'u', robot: pick.robot_id, all: true },
      // a time window or a level: the events themselves
      { text: 'u', minLevel: 'low' }, { text: 'e', minLevel: 'medium' }, { text: 'e', since: pick.mid }, { text: 'e', until: pick.mid, minLevel: 'low', all: true },
      { text: 'u', patient: pick.patient_id, since: pick.pmid },
    ];
    const counts: number[] = [];
    for (const f of cases) {
      const expected = await searchFromEvents(dbPath, f);
      counts.push((JSON.parse(expected) as unknown[]).length);
      expect(counts.at(-1), JSON.stringify(f)).toBeGreaterThan(0);
      expect(await reportJson(dbPath, 'search', f), JSON.stringify(f)).toBe(expected);
    }
    // a limit really cut the groups of 'e' (so the order at the cut is checked too)
    expect(counts[3]).toBe(7);
    expect(counts[2]).toBeGreaterThan(7);
  });

  it('without a window or level does not read telemetry_risk: emptied, the results are unchanged', async () => {
    const before = await Promise.all([{ text: 'sutur' }, { text: 'e', all: true }].map((f) => reportJson(dbPath, 'search', f)));
    const copy = await withoutEvents('emptied-search');
    expect(await reportJson(copy, 'search', { text: 'sutur' })).toBe(before[0]);
    expect(await reportJson(copy, 'search', { text: 'e', all: true })).toBe(before[1]);
    // with --min-level it reads the events, which are gone
    expect(JSON.parse(await reportJson(copy, 'search', { text: 'sutur', minLevel: 'none' })).filter((r: { kind: string }) => r.kind !== 'alert')).toEqual([]);
  });
});

describe('the risk-level chart of the HTML pages', () => {
  const fromEvents = async (path: string, where = '', params: Record<string, string> = {}) => {
    const db = await openDb(path, { readOnly: true });
    try {
      return await db.all<{ level: string; events: number }>(
        `SELECT l.level, count(t.risk_level)::INTEGER AS events FROM (SELECT unnest(['none', 'low', 'medium', 'high', 'critical']) AS level,
           generate_subscripts(['none', 'low', 'medium', 'high', 'critical'], 1) AS ord) l
         LEFT JOIN (SELECT risk_level FROM telemetry_risk${where}) t ON t.risk_level = l.level GROUP BY l.level, l.ord ORDER BY l.ord`,
        params,
      );
    } finally {
      db.close();
    }
  };
  const chart = (path: string, f: RawFilters) => lakeAt(path).withReader(async (db) => (await loadDashboard(db, parseFilters(f), ['risk'])).riskLevels);

  it('counts events per level as telemetry_risk does, from telemetry_summary when only a procedure narrows it', async () => {
    const all = await fromEvents(dbPath);
    expect(all.filter((r) => r.events > 0).length).toBeGreaterThan(1);
    expect(await chart(dbPath, {})).toEqual(all);
    const db = await openDb(dbPath, { readOnly: true });
    let procedure: string;
    let patient: string;
    try {
      [procedure, patient] = (await db.all<{ p: string; q: string }>('SELECT procedure_id AS p, patient_id AS q FROM telemetry_risk ORDER BY risk_score DESC, event_id LIMIT 1')).map((r) => [r.p, r.q])[0] as [string, string];
    } finally {
      db.close();
    }
    expect(await chart(dbPath, { procedure })).toEqual(await fromEvents(dbPath, ' WHERE procedure_id = $p', { p: procedure }));
    expect(await chart(dbPath, { patient })).toEqual(await fromEvents(dbPath, ' WHERE patient_id = $p', { p: patient }));
    // emptied telemetry_risk: the unfiltered and per-procedure charts are unchanged (telemetry_summary), a patient's is empty
    const copy = await withoutEvents('emptied-chart');
    expect(await chart(copy, {})).toEqual(all);
    expect(await chart(copy, { procedure })).toEqual(await fromEvents(dbPath, ' WHERE procedure_id = $p', { p: procedure }));
    expect((await chart(copy, { patient }))?.every((r) => r.events === 0)).toBe(true);
  });
});
