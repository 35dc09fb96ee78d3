// The serving queries (src/core/publish/serving.ts, shown in the README) on a published schema: each one's plan
// uses one of the indexes publish built, and its rows equal the same report on the lakehouse. The marts here are
// small, so the planner would rightly scan them sequentially; the EXPLAIN runs with enable_seqscan off, which
// shows that an index can answer the query (a query no index fits still plans a Seq Scan then).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { openDb, type Db } from '../../../src/db/db.js';
import { SERVING_QUERIES } from '../../../src/core/publish/index.js';
import { readReport } from '../../../src/core/report/index.js';
import { runCliWith } from '../../helpers/run-cli.js';
import { usePublishSetup } from '../../helpers/publish.js';

const setup = usePublishSetup('test/core/publish/serving.test.ts', ['--scale', '0.03', '--incidents', '0.5']);
const { server } = setup;
let db: Db | undefined;
let client: pg.Client | undefined;
let patient = '';

beforeAll(async () => {
  if (server.skipReason) return;
  const p = await runCliWith({ cwd: setup.dir, env: { DATABASE_URL: server.cluster.url } }, 'publish', '--format', 'json');
  if (p.exitCode !== 0) throw new Error(`publish failed: ${p.stderr}`);
  db = await openDb(setup.dbPath, { readOnly: true });
  client = new pg.Client({ connectionString: server.cluster.url });
  await client.connect();
  await client.query("SET search_path TO surgctl; SET TIME ZONE 'UTC'");
  // The patient with the most alerts: a timeline with both kinds of rows.
  patient = (await client.query<{ p: string }>('SELECT patient_id AS p FROM alerts GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1')).rows[0]?.p ?? '';
});
afterAll(async () => {
  await client?.end();
  db?.close();
});

function query(name: string): string {
  const q = SERVING_QUERIES.find((s) => s.name === name);
  if (!q) throw new Error(`no serving query ${name}`);
  return q.sql;
}

/** The index names a plan reads, from EXPLAIN (FORMAT JSON) with sequential scans off. */
async function indexesUsed(sql: string, params: unknown[]): Promise<string[]> {
  const c = client!;
  await c.query('BEGIN');
  try {
    await c.query('SET LOCAL enable_seqscan = off');
    const res = await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const found: string[] = [];
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n && typeof n === 'object') {
        const o = n as Record<string, unknown>;
        if (typeof o['Index Name'] === 'string') found.push(o['Index Name']);
        Object.values(o).forEach(walk);
      }
    };
    walk(res.rows[0]?.['QUERY PLAN']);
    return [...new Set(found)].sort();
  } finally {
    await c.query('ROLLBACK');
  }
}

/** pg rows to the JSON-safe shape of the lakehouse reports: instants as ISO strings, bigints as numbers. */
function plain(rows: Record<string, unknown>[], columns: string[]): Record<string, unknown>[] {
  return rows.map((r) =>
    Object.fromEntries(
      columns.map((k) => {
        const v = r[k];
        if (v instanceof Date) return [k, v.toISOString()];
        if (typeof v === 'string' && /^-?\d+$/.test(v) && ['n', 'events', 'critical_alerts', 'risk_score'].includes(k)) return [k, Number(v)];
        return [k, v ?? null];
      }),
    ),
  );
}

async function lake(name: string, filters: Record<string, string | number>, columns: string[]): Promise<Record<string, unknown>[]> {
  const res = await readReport(db!, name, filters);
  return plain(res.rows as Record<string, unknown>[], columns).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? new Date(v).toISOString() : v])),
  );
}

async function served(name: string, params: unknown[], columns: string[]): Promise<Record<string, unknown>[]> {
  return plain((await client!.query(query(name), params)).rows as Record<string, unknown>[], columns);
}

describe('serving queries in PostgreSQL', () => {
  it('the README shows each serving query exactly as shipped', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Serving from PostgreSQL'));
    for (const q of SERVING_QUERIES) expect(section, q.name).toContain(`-- ${q.name}: ${q.title}\n${q.sql};`);
  });

  it("a patient's timeline: index on (patient_id, time) of telemetry_risk and alerts; equals report timeline's events and alerts", async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect(await indexesUsed(query('patient-timeline'), [patient])).toEqual(['alerts_patient_time', 'telemetry_risk_patient_time']);
    const cols = ['at', 'kind', 'id', 'procedure_id', 'robot_arm', 'step', 'level', 'risk_score'];
    const fromLake = (await lake('timeline', { patient }, cols)).filter((r) => r.kind !== 'vital');
    const fromPg = await served('patient-timeline', [patient], cols);
    expect(fromPg.length).toBeGreaterThan(10);
    expect(fromPg.some((r) => r.kind === 'alert')).toBe(true);
    expect(fromPg).toEqual(fromLake);
  });

  it('top alerts: the (risk_score DESC, at, alert_id) index; equals report top-alerts', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect(await indexesUsed(query('top-alerts'), [20])).toEqual(['alerts_top']);
    const cols = ['alert_id', 'level', 'risk_score', 'procedure_id', 'patient_id', 'robot_arm', 'step', 'at', 'reason'];
    const fromPg = await served('top-alerts', [5], cols);
    expect(fromPg).toHaveLength(5);
    expect(fromPg).toEqual(await lake('top-alerts', { limit: 5 }, cols));
  });

  it('alerts by level and time: the (level_rank DESC, at DESC) index; equals the same SQL on the lakehouse', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect(await indexesUsed(query('alerts-by-level'), [3, 50])).toEqual(['alerts_level_time']);
    const cols = ['alert_id', 'level', 'level_rank', 'at', 'patient_id', 'procedure_id', 'reason'];
    const fromPg = await served('alerts-by-level', [3, 50], cols);
    const reader = await db!.read(
      `SELECT alert_id, level, level_rank, strftime("at", '%Y-%m-%dT%H:%M:%S.%gZ') AS "at", patient_id, procedure_id, reason
       FROM alerts WHERE level_rank >= 3 ORDER BY level_rank DESC, "at" DESC LIMIT 50`,
    );
    expect(fromPg.length).toBeGreaterThan(0);
    expect(fromPg).toEqual(reader.getRowObjectsJson());
  });

  it("risk summaries by patient and procedure: primary key and the patient index; equal reports patient-risk and procedure-risk", async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect(await indexesUsed(query('patient-risk'), [patient])).toEqual(['patient_risk_pkey']);
    expect(await indexesUsed(query('procedure-risk'), [patient])).toEqual(['procedure_risk_patient']);
    const pcols = ['patient_id', 'events', 'avg_risk', 'p95_latency_ms', 'critical_alerts', 'max_news2'];
    const fromPg = await served('patient-risk', [patient], pcols);
    expect(fromPg).toHaveLength(1);
    expect(fromPg).toEqual(await lake('patient-risk', { patient }, pcols));
    const rcols = ['procedure_id', 'patient_id', 'robot_id', 'procedure_type', 'events', 'avg_risk', 'p95_latency_ms', 'critical_alerts', 'max_news2', 'duration_min', 'outcome'];
    const procs = await served('procedure-risk', [patient], rcols);
    expect(procs.length).toBeGreaterThan(0);
    expect(procs).toEqual(await lake('procedure-risk', { patient }, rcols));
  });

  it('full-text search of steps, error codes (telemetry_search) and alert reasons: the tsvector GIN indexes; equals report search', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect(await indexesUsed(query('search'), ['sutur', 100])).toEqual(['alerts_search', 'telemetry_search_search']);
    const cols = ['kind', 'match', 'procedure_id', 'patient_id', 'robot_id', 'n', 'first_at', 'last_at', 'alert_id', 'level'];
    for (const text of ['sutur', 'latency']) {
      const fromPg = await served('search', [text, 100], cols);
      expect(fromPg.length, text).toBeGreaterThan(0);
      expect(fromPg, text).toEqual(await lake('search', { text, limit: 100 }, cols));
    }
  });
});
