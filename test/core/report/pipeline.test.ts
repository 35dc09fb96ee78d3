// Acceptance on a really generated, loaded and transformed lakehouse: every report in every format, the JSON
// contracts, Parquet and Arrow read-back for reports and exports, and read-only query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { openDb } from '../../../src/db/db.js';
import { literal } from '../../../src/db/sql.js';
import { REPORT_NAMES, emitReport, type RawFilters } from '../../../src/core/report/index.js';
import type { Db } from '../../../src/db/db.js';
import { exportTable } from '../../../src/core/export/index.js';
import { runQuery } from '../../../src/core/query/index.js';
import type { OutputFormat } from '../../../src/core/export/formats.js';
import { rendererFor } from '../../../src/render/result.js';
import { UsageError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/run-cli.js';
import { buildPipelineLakehouse } from './pipeline-lakehouse.js';
import { lakeAt } from '../../helpers/lake.js';

let dir: { dir: string; cleanup: () => void };
let dbPath: string;
let lake: Db;
let patient: string;
let procedure: string;

async function sql<T = Record<string, unknown>>(q: string): Promise<T[]> {
  const db = await openDb(':memory:');
  try {
    return await db.all<T & Record<string, unknown>>(q);
  } finally {
    db.close();
  }
}

async function text(name: string, format: OutputFormat, filters: RawFilters = {}): Promise<string> {
  let out = '';
  await emitReport(lake, name, filters, { format, stdout: { write: (s: string) => (out += s) }, render: rendererFor(format, { width: 160 }) });
  return out;
}

async function json(name: string, filters: RawFilters = {}): Promise<Record<string, unknown>[]> {
  return JSON.parse(await text(name, 'json', filters)) as Record<string, unknown>[];
}

function filtersFor(name: string): RawFilters {
  if (name === 'timeline') return { procedure, limit: 300 };
  if (name === 'search') return { text: 'sutur' };
  return {};
}

beforeAll(async () => {
  dir = tempDir();
  dbPath = buildPipelineLakehouse(dir.dir).dbPath;
  // The handle is sealed (read-only opens are); emitReport writes Parquet with DuckDB's COPY, so allow this folder.
  lake = await lakeAt(dbPath).openReader({ writePaths: [dir.dir] });
  const top = await json('procedure-risk', { limit: '1' });
  procedure = String(top[0]?.procedure_id);
  patient = String(top[0]?.patient_id);
}, 180_000);
afterAll(() => {
  lake?.close();
  dir?.cleanup();
});

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

describe('reports on a generated, loaded, transformed lakehouse', () => {
  it('every report has rows, and every text format agrees with the JSON row count', async () => {
    for (const name of REPORT_NAMES) {
      const f = filtersFor(name);
      const rows = await json(name, f);
      expect(rows.length, name).toBeGreaterThan(0);
      const nd = (await text(name, 'ndjson', f)).trimEnd().split('\n');
      expect(nd.map((l) => JSON.parse(l) as unknown), name).toEqual(rows);
      const csv = (await text(name, 'csv', f)).trimEnd().split('\n');
      expect(csv.length, name).toBe(rows.length + 1);
      const md = (await text(name, 'markdown', f)).trimEnd().split('\n');
      expect(md.length, name).toBe(rows.length + 2);
      const table = await text(name, 'table', f);
      expect(table, name).toContain(`${rows.length.toLocaleString('en-US')} row`);
      const html = await text(name, 'html', f);
      expect(html, name).toMatch(/^<!doctype html>[\s\S]*<table>[\s\S]*<\/html>\n$/);
    }
  });

  it('every report writes Parquet and Arrow with the same rows as JSON', async () => {
    for (const name of REPORT_NAMES) {
      const f = filtersFor(name);
      const n = (await json(name, f)).length;
      const pq = join(dir.dir, `${name}.parquet`);
      const arrow = join(dir.dir, `${name}.arrow`);
      const a = await emitReport(lake, name, f, { format: 'parquet', out: pq, stdout: { write: () => true } });
      const b = await emitReport(lake, name, f, { format: 'arrow', out: arrow, stdout: { write: () => true } });
      expect([a.rows, b.rows], name).toEqual([n, n]);
      const [count] = await sql<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${literal(pq)})`);
      expect(count?.n, name).toBe(n);
      expect(tableFromIPC(readFileSync(arrow)).numRows, name).toBe(n);
    }
  });

  it('the JSON contracts hold: keys, ISO 8601 UTC instants, numbers as numbers', async () => {
    const contracts: Record<string, { keys: string[]; instants: string[]; numbers: string[] }> = {
      'vitals-hourly': { keys: ['patient_id', 'metric', 'hour_start', 'n', 'min', 'max', 'avg', 'p95', 'alarming_n'], instants: ['hour_start'], numbers: ['n', 'min', 'max', 'avg', 'p95', 'alarming_n'] },
      news2: {
        keys: ['patient_id', 'hour_start', 'news2_total', 'news2_band', 'missing', 'resp_rate_score', 'spo2_score', 'o2_supplemental_score', 'systolic_bp_score', 'heart_rate_score', 'consciousness_score', 'temperature_score', 'parameters_present', 'news2_alert'],
        instants: ['hour_start'],
        numbers: ['news2_total', 'resp_rate_score', 'spo2_score', 'o2_supplemental_score', 'systolic_bp_score', 'heart_rate_score', 'consciousness_score', 'temperature_score', 'parameters_present'],
      },
      'patient-risk': { keys: ['patient_id', 'events', 'avg_risk', 'p95_latency_ms', 'critical_alerts', 'max_news2'], instants: [], numbers: ['events', 'critical_alerts'] },
      'top-alerts': { keys: ['alert_id', 'level', 'risk_score', 'procedure_id', 'patient_id', 'robot_arm', 'step', 'at', 'reason'], instants: ['at'], numbers: ['risk_score'] },
    };
    for (const [name, c] of Object.entries(contracts)) {
      const rows = await json(name, { limit: '200' });
      expect(rows.length, name).toBeGreaterThan(0);
      for (const r of rows) {
        expect(Object.keys(r), name).toEqual(c.keys);
        for (const k of c.instants) expect(r[k], `${name}.${k}`).toMatch(ISO);
        for (const k of c.numbers) expect(typeof r[k], `${name}.${k}`).toBe('number');
      }
    }
    const news2 = await json('news2', { patient });
    expect(news2.every((r) => Array.isArray(r.missing))).toBe(true);
  });

  it('top-alerts is highest risk first, then earliest', async () => {
    const rows = await json('top-alerts', { limit: '500' });
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1] as { risk_score: number; at: string };
      const b = rows[i] as { risk_score: number; at: string };
      expect(a.risk_score > b.risk_score || (a.risk_score === b.risk_score && a.at <= b.at), `${i}`).toBe(true);
    }
  });

  it('the timeline of a procedure is in time order and mixes events, alerts and vitals', async () => {
    const rows = await json('timeline', { procedure, limit: '100000' });
    const ats = rows.map((r) => String(r.at));
    expect([...ats].sort()).toEqual(ats);
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['event', 'alert', 'vital']));
    expect(rows.every((r) => r.procedure_id === procedure)).toBe(true);
  });

  it('search by a prefix finds the step', async () => {
    const rows = await json('search', { text: 'sutur', limit: '1000' });
    expect(rows.some((r) => r.kind === 'step' && r.match === 'suturing')).toBe(true);
  });
});

describe('export and query on the generated lakehouse', () => {
  it('telemetry_risk exports to Parquet with the same row count and types, partitioned too', async () => {
    const db = await openDb(dbPath, { readOnly: true });
    let expected: number;
    let types: [string, string][];
    try {
      expected = (await db.scalar<number>('SELECT count(*)::INTEGER FROM telemetry_risk')) ?? -1;
      types = (await db.all<{ n: string; t: string }>("SELECT column_name AS n, data_type AS t FROM information_schema.columns WHERE table_name = 'telemetry_risk' ORDER BY ordinal_position")).map((r) => [r.n, r.t]);
    } finally {
      db.close();
    }
    const out = join(dir.dir, 'telemetry_risk.parquet');
    const r = await exportTable({ table: 'telemetry_risk', out }, { lake: lakeAt(dbPath) });
    expect(r.rows).toBe(expected);
    const [n] = await sql<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${literal(out)})`);
    expect(n?.n).toBe(expected);
    const described = await sql<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${literal(out)})`);
    expect(described.map((d) => [d.column_name, d.column_type])).toEqual(types);
    expect(r.metadata.surgctl_run_id).toBeTruthy();
    expect(r.metadata.surgctl_rules_version).toBeTruthy();
    expect(r.metadata.surgctl_load_ids?.split(',').length).toBeGreaterThanOrEqual(7);

    const parts = join(dir.dir, 'risk_parts');
    const p = await exportTable({ table: 'telemetry_risk', out: parts, partitionBy: ['robot_id'] }, { lake: lakeAt(dbPath) });
    expect(p.rows).toBe(expected);
    const [pn] = await sql<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${literal(join(parts, '**', '*.parquet'))}, hive_partitioning = true)`);
    expect(pn?.n).toBe(expected);
  });

  it('alerts export to Arrow IPC reads back in apache-arrow', async () => {
    const out = join(dir.dir, 'alerts.arrow');
    const r = await exportTable({ table: 'alerts', out }, { lake: lakeAt(dbPath) });
    const t = tableFromIPC(readFileSync(out));
    expect(t.numRows).toBe(r.rows);
    expect(String(t.schema.fields.find((f) => f.name === 'triggers')?.type)).toBe('List<Utf8>');
  });

  it('query reads and refuses writes', async () => {
    let out = '';
    await runQuery({ sql: 'SELECT count(*) AS n FROM alerts', target: { format: 'json', stdout: { write: (s: string) => (out += s) }, render: rendererFor('json') } }, { lake: lakeAt(dbPath) });
    expect((JSON.parse(out) as { n: number }[])[0]?.n).toBeGreaterThan(0);
    await expect(runQuery({ sql: 'DROP TABLE alerts', target: { format: 'json', stdout: { write: () => true }, render: rendererFor('json') } }, { lake: lakeAt(dbPath) })).rejects.toBeInstanceOf(UsageError);
  });
});
