// Reports on a hand-made lakehouse built to the mart contract: JSON contracts, order, filters bound as values,
// read-only access and the usage errors.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { runReport, readReport, reportDefinition, parseFilters, REPORT_NAMES, type RawFilters } from '../../../src/core/report/index.js';
import { renderJson } from '../../../src/render/json.js';
import { QueryError, UsageError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/run-cli.js';
import { useFixtureLakehouse } from './fixture.js';
import { lakeAt } from '../../helpers/lake.js';

const lake = useFixtureLakehouse();

async function report(name: string, filters: RawFilters = {}): Promise<Record<string, unknown>[]> {
  let out = '';
  await runReport({ name, filters, target: { format: 'json', stdout: { write: (s: string) => (out += s) }, render: renderJson } }, { lake: lakeAt(lake.db) });
  return JSON.parse(out) as Record<string, unknown>[];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

describe('report JSON contracts', () => {
  it('vitals-hourly rows are { patient_id, metric, hour_start, n, min, max, avg, p95, alarming_n } with ISO hours', async () => {
    const rows = await report('vitals-hourly', { patient: 'PAT-1' });
    expect(rows).toHaveLength(9);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['patient_id', 'metric', 'hour_start', 'n', 'min', 'max', 'avg', 'p95', 'alarming_n']);
      expect(r.hour_start).toMatch(ISO);
      for (const k of ['n', 'min', 'max', 'avg', 'p95', 'alarming_n']) expect(typeof r[k]).toBe('number');
    }
    expect(rows[0]).toEqual({ patient_id: 'PAT-1', metric: 'heart_rate', hour_start: '2026-01-05T00:00:00Z', n: 12, min: 69, max: 76, avg: 72, p95: 75, alarming_n: 0 });
  });

  it('news2 rows carry the total, band, missing list, every parameter score, parameters present and the alert', async () => {
    const rows = await report('news2', { patient: 'PAT-1' });
    // the third hour lacks temperature: band incomplete, while its partial total (8) already alerts high
    expect(rows.map((r) => [r.news2_band, r.news2_alert])).toEqual([['low', null], ['medium', 'medium'], ['incomplete', 'high']]);
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'patient_id', 'hour_start', 'news2_total', 'news2_band', 'missing', 'resp_rate_score', 'spo2_score', 'o2_supplemental_score',
      'systolic_bp_score', 'heart_rate_score', 'consciousness_score', 'temperature_score', 'parameters_present', 'news2_alert',
    ]);
    expect(rows[2]).toMatchObject({ hour_start: '2026-01-05T02:00:00Z', news2_total: 8, missing: ['temperature'], heart_rate_score: 5, parameters_present: 6 });
  });

  it('patient-risk rows are exactly the contract, numbers as numbers, riskiest first', async () => {
    const rows = await report('patient-risk');
    expect(rows).toEqual([
      { patient_id: 'PAT-1', events: 5, avg_risk: 2.4, p95_latency_ms: 596.4, critical_alerts: 1, max_news2: 8 },
      { patient_id: 'PAT-2', events: 2, avg_risk: 5.5, p95_latency_ms: 632.5, critical_alerts: 0, max_news2: 4 },
    ]);
  });

  it('top-alerts: highest risk first, then time, with the contract keys', async () => {
    const rows = await report('top-alerts');
    expect(rows.map((r) => r.alert_id)).toEqual(['AL-1', 'AL-3', 'AL-5', 'AL-2', 'AL-4']);
    expect(Object.keys(rows[0] ?? {})).toEqual(['alert_id', 'level', 'risk_score', 'procedure_id', 'patient_id', 'robot_arm', 'step', 'at', 'reason']);
    expect(rows[0]).toMatchObject({ level: 'critical', risk_score: 8, at: '2026-01-05T01:00:01Z', step: 'suturing' });
  });

  it('every report runs and returns JSON-safe rows', async () => {
    for (const name of REPORT_NAMES) {
      const filters: RawFilters = name === 'timeline' ? { patient: 'PAT-1' } : name === 'search' ? { text: 'latency' } : {};
      const rows = await report(name, filters);
      expect(rows.length, name).toBeGreaterThan(0);
      for (const r of rows) for (const v of Object.values(r)) expect(typeof v === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:/.test(v), `${name}: ${String(v)}`).toBe(false);
    }
  });

  it('summary counts what the marts hold', async () => {
    const rows = await report('summary');
    const get = (m: string) => rows.find((r) => r.metric === m)?.value;
    expect(get('events')).toBe(7);
    expect(get('alerts_critical')).toBe(1);
    expect(get('events_none')).toBe(2);
    expect(get('p95_latency_ms')).toBe(650);
    expect(get('error_rate')).toBeCloseTo(3 / 7);
    expect(get('rows_quarantined')).toBe(3);
    expect(get('max_news2')).toBe(8);
    expect(get('success_rate')).toBeCloseTo(2 / 3);
  });

  it('data-quality lists each load with its failing rules', async () => {
    const rows = await report('data-quality');
    expect(rows.map((r) => [r.load_id, r.rule, r.rule_rows])).toEqual([
      ['L-001', null, 0],
      ['L-002', 'enum', 1],
      ['L-002', 'type', 1],
      ['L-003', 'required', 1],
    ]);
    expect(rows[1]).toMatchObject({ rows_read: 10, rows_inserted: 7, started_at: '2026-01-05T00:02:00Z' });
  });
});

describe('report filters', () => {
  it('--min-level, --since/--until and --limit narrow top-alerts', async () => {
    expect((await report('top-alerts', { minLevel: 'high' })).map((r) => r.alert_id)).toEqual(['AL-1', 'AL-3']);
    expect((await report('top-alerts', { since: '2026-01-05T01:30:00Z', until: '2026-01-05T05:00:00Z' })).map((r) => r.alert_id)).toEqual(['AL-3', 'AL-2']);
    expect(await report('top-alerts', { limit: '1' })).toHaveLength(1);
    expect((await report('top-alerts', { robot: 'ROB-2' })).map((r) => r.alert_id)).toEqual(['AL-3', 'AL-2']);
  });

  it('a hostile filter value is only a value: no rows, and every table is intact', async () => {
    const evil = "x'; DROP TABLE loads; --";
    expect(await report('top-alerts', { patient: evil })).toEqual([]);
    expect(await report('patient-risk', { patient: evil })).toEqual([]);
    expect(await report('search', { text: evil })).toEqual([]);
    const db = await openDb(lake.db, { readOnly: true });
    try {
      expect(await db.scalar<number>('SELECT count(*)::INTEGER FROM loads')).toBe(3);
      expect(await db.scalar<number>('SELECT count(*)::INTEGER FROM alerts')).toBe(5);
    } finally {
      db.close();
    }
  });

  it('search finds a step by prefix, error codes, and alert reasons; wildcards match literally', async () => {
    const sutur = await report('search', { text: 'sutur' });
    expect(sutur.filter((r) => r.kind === 'step')).toEqual([
      expect.objectContaining({ kind: 'step', match: 'suturing', procedure_id: 'PROC-1', n: 2, first_at: '2026-01-05T01:00:00Z' }),
    ]);
    const arc = await report('search', { text: 'e-arc' });
    expect(arc.map((r) => r.kind)).toEqual(['error_code', 'alert', 'alert']);
    const literal = await report('search', { text: '%_s' });
    expect(literal.map((r) => r.alert_id)).toEqual(['AL-4']);
    const high = await report('search', { text: 'latency', minLevel: 'high' });
    expect(high.map((r) => r.alert_id)).toEqual(['AL-1', 'AL-3']);
  });

  it('timeline interleaves events, alerts and vitals (to 24 h after the end) of one procedure in time order', async () => {
    const rows = await report('timeline', { procedure: 'PROC-1' });
    expect(rows.map((r) => `${r.kind}:${r.id}`)).toEqual([
      'event:EV-01', 'event:EV-02', 'alert:AL-1', 'vital:VR-1', 'event:EV-03', 'alert:AL-5', 'vital:VR-2', 'vital:VR-3',
    ]);
    const ats = rows.map((r) => String(r.at));
    expect([...ats].sort()).toEqual(ats);
    expect(rows[3]).toMatchObject({ procedure_id: 'PROC-1', patient_id: 'PAT-1', detail: 'heart_rate 95.0 /min' });
    const patient = await report('timeline', { patient: 'PAT-2', minLevel: 'high' });
    expect(patient.map((r) => `${r.kind}:${r.id}`)).toEqual(['event:EV-05', 'alert:AL-3', 'vital:VR-4']);
  });
});

describe('report row limits', () => {
  /** The fixture plus more rows than each default limit: 1,200 vitals hours, 1,100 NEWS2 hours, 120 alerts, 1,100 readings of PAT-9. */
  async function bigLakehouse(): Promise<string> {
    const path = join(lake.dir, 'many-rows.duckdb');
    if (existsSync(path)) return path;
    copyFileSync(lake.db, path);
    const db = await openDb(path);
    try {
      await db.run(`INSERT INTO vitals_hourly SELECT 'PT-' || (i // 100), 'heart_rate', TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_hours(i % 100),
        4, 60, 80, 70, 79, 0 FROM range(1200) r(i)`);
      await db.run(`INSERT INTO news2_hourly (patient_id, hour_start, news2_total, news2_band, missing, parameters_present, complete)
        SELECT 'PT-' || (i // 100), TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_hours(i % 100), 1, 'low', []::VARCHAR[], 7, true FROM range(1100) r(i)`);
      await db.run(`INSERT INTO alerts (alert_id, event_id, procedure_id, patient_id, robot_id, robot_arm, "at", level, level_rank, risk_score, triggers, reason)
        SELECT 'AL-B' || lpad(i::VARCHAR, 3, '0'), 'EV-B' || i, 'PROC-9', 'PAT-9', 'ROB-9', 'arm_1', TIMESTAMPTZ '2026-01-06 00:00:00+00' + to_seconds(i),
          'medium', 2, 2, ['latency'], 'bulk check ' || i FROM range(120) r(i)`);
      await db.run(`INSERT INTO raw_vitals (reading_id, patient_id, metric, value, unit, measured_at, _load_id, _source_file, _source_line)
        SELECT 'VR-B' || i, 'PAT-9', 'heart_rate', 70, '/min', TIMESTAMPTZ '2026-01-06 00:00:00+00' + to_minutes(i), 'L-003', '/data/vitals.csv', i + 10
        FROM range(1100) r(i)`);
    } finally {
      db.close();
    }
    return path;
  }

  async function count(path: string, name: string, filters: RawFilters): Promise<number> {
    let out = '';
    const r = await runReport({ name, filters, target: { format: 'json', stdout: { write: (s: string) => (out += s) }, render: renderJson } }, { lake: lakeAt(path) });
    expect(JSON.parse(out)).toHaveLength(r.rows);
    return r.rows;
  }

  it('each default limit cuts at exactly its rows; --all gives every row, --limit N exactly N', async () => {
    const path = await bigLakehouse();
    // [report, filters, default limit, every row]
    const cases: [string, RawFilters, number, number][] = [
      ['vitals-hourly', {}, 1000, 1200 + 18],
      ['news2', {}, 1000, 1100 + 6],
      ['timeline', { patient: 'PAT-9' }, 1000, 1100 + 120],
      ['top-alerts', {}, 20, 120 + 5],
      ['search', { text: 'bulk check' }, 100, 120],
    ];
    for (const [name, f, limit, every] of cases) {
      expect(reportDefinition(name).defaultLimit, name).toBe(limit);
      expect(await count(path, name, f), name).toBe(limit);
      expect(await count(path, name, { ...f, all: true }), name).toBe(every);
      expect(await count(path, name, { ...f, limit: String(limit + 7) }), name).toBe(limit + 7);
      expect(await count(path, name, { ...f, limit: '3' }), name).toBe(3);
    }
    // A report without a default limit: every row either way; --limit still cuts.
    expect(await count(path, 'patient-risk', {})).toBe(2);
    expect(await count(path, 'patient-risk', { all: true })).toBe(2);
    expect(await count(path, 'patient-risk', { limit: '1' })).toBe(1);
    expect(await count(path, 'summary', { all: true })).toBe(25);
    expect(() => parseFilters({ limit: '5', all: true })).toThrow(/--limit and --all cannot be given together/);
  });

  it('the outcome names the default limit only when it applied', async () => {
    const path = await bigLakehouse();
    const run = (filters: RawFilters) =>
      runReport({ name: 'top-alerts', filters, target: { format: 'json', stdout: { write: () => true }, render: renderJson } }, { lake: lakeAt(path) });
    expect((await run({})).defaultLimit).toBe(20);
    expect((await run({ all: true })).defaultLimit).toBeUndefined();
    expect((await run({ limit: '20' })).defaultLimit).toBeUndefined();
  });
});

describe('report errors', () => {
  it('refuses unknown reports, inapplicable or malformed filters, and timeline without an id', async () => {
    await expect(report('nope')).rejects.toThrow(/unknown report "nope"/);
    await expect(report('outcomes', { patient: 'PAT-1' })).rejects.toThrow(/does not take --patient/);
    await expect(report('top-alerts', { minLevel: 'severe' })).rejects.toThrow(/--min-level "severe" is not a risk level/);
    await expect(report('top-alerts', { since: 'yesterday' })).rejects.toThrow(/not an ISO 8601/);
    await expect(report('top-alerts', { limit: '0' })).rejects.toThrow(/--limit/);
    await expect(report('timeline')).rejects.toThrow(/--patient ID or --procedure ID/);
    await expect(report('search')).rejects.toBeInstanceOf(UsageError);
  });

  it('a missing lakehouse is a usage error naming the path, with a hint', async () => {
    const missing = join(lake.dir, 'absent.duckdb');
    const err = await runReport({ name: 'summary', target: { format: 'json', stdout: { write: () => true }, render: renderJson } }, { lake: lakeAt(missing) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain(missing);
    expect((err as UsageError).hint).toMatch(/pipeline|transform/);
    expect((err as UsageError).exitCode).toBe(2);
  });

  it('missing marts say to run transform', async () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'empty.duckdb');
      (await openDb(path)).close();
      const err = await runReport({ name: 'top-alerts', target: { format: 'json', stdout: { write: () => true }, render: renderJson } }, { lake: lakeAt(path) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toMatch(/needs table alerts/);
      expect((err as UsageError).hint).toMatch(/surgctl transform/);
    } finally {
      t.cleanup();
    }
  });

  it('opens the lakehouse read-only', async () => {
    const db = await lakeAt(lake.db).openReader();
    try {
      await expect(db.run('CREATE TABLE x (a INTEGER)')).rejects.toBeInstanceOf(QueryError);
      const rows = await readReport(db, 'top-alerts', { limit: 2 });
      expect(rows.rows.map((r) => r.alert_id)).toEqual(['AL-1', 'AL-3']);
      expect(rows.columns.find((c) => c.name === 'at')?.kind).toBe('instant');
    } finally {
      db.close();
    }
  });
});
