// Test helpers for transform: a lakehouse with the raw tables (rawTableDdl), hand-made rows inserted with bound
// parameters, and a deterministic synthetic dataset made in DuckDB SQL (hash-based, no random()).
import { join } from 'node:path';
import { expect } from 'vitest';
import type { DuckDBValue } from '@duckdb/node-api';
import { openDb, type Db } from '../../../src/db/db.js';
import { ident } from '../../../src/db/sql.js';
import { migrate } from '../../../src/core/load/migrations.js';
import { loadFiles, type LoadResult } from '../../../src/core/load/load.js';
import { runTransform } from '../../../src/core/transform/transform.js';
import { rawTableDdl } from '../../../src/core/load/raw-tables.js';
import { listDatasets, loadDatasetSchema } from '../../../src/core/schemas.js';
import { lakeAt } from '../../helpers/lake.js';

/** A lakehouse as load leaves it: the lead's migrations (ledger, quarantine, raw tables), or bare raw tables. */
export async function openLakehouse(dir: string, name = 'lake.duckdb', how: 'migrated' | 'raw-only' = 'migrated'): Promise<Db> {
  const db = await openDb(join(dir, name));
  if (how === 'migrated') await migrate(db);
  else for (const d of listDatasets()) await db.run(rawTableDdl(loadDatasetSchema(d)));
  return db;
}

/**
 * Loads `dir`/patients.csv and `dir`/vitals.csv into `dir`/lake.duckdb (quarantine in `dir`/q), runs the transform,
 * checks no model test failed, and returns the load result with the lakehouse opened read-only (the caller closes it).
 */
export async function loadPatientsAndVitals(dir: string): Promise<{ load: LoadResult; db: Db }> {
  const dbPath = join(dir, 'lake.duckdb');
  const load = await loadFiles({ inputs: [join(dir, 'patients.csv'), join(dir, 'vitals.csv')], cwd: dir, quarantineDir: join(dir, 'q') }, { lake: lakeAt(dbPath) });
  const r = await runTransform({ cwd: dir, env: {} }, { lake: lakeAt(dbPath) });
  expect(r.tests_failed).toBe(0);
  return { load, db: await openDb(dbPath, { readOnly: true }) };
}

type Row = Record<string, string | number | boolean | null>;

/** Inserts rows into raw_<dataset> with bound parameters; lineage columns from loadId. */
export async function insertRows(db: Db, dataset: string, rows: Row[], loadId = 'L-test-1'): Promise<void> {
  const ds = loadDatasetSchema(dataset);
  const cols = [...ds.columns, '_load_id', '_source_file', '_source_line'];
  const placeholders = cols.map((c, i) => {
    const t = ds.columnTypes[c];
    const cast = t?.format === 'date-time' ? '::TIMESTAMPTZ' : t?.format === 'date' ? '::DATE' : '';
    return `$p${i}${cast}`;
  });
  const sql = `INSERT INTO ${ident(`raw_${dataset}`)} (${cols.map(ident).join(', ')}) VALUES (${placeholders.join(', ')})`;
  let line = 2;
  // One transaction: a commit per row would sync the file each time.
  await db.transaction(async () => {
    for (const r of rows) {
      const params: Record<string, DuckDBValue> = {};
      cols.forEach((c, i) => {
        const v = c === '_load_id' ? loadId : c === '_source_file' ? `${dataset}.csv` : c === '_source_line' ? line : (r[c] ?? null);
        params[`p${i}`] = v as DuckDBValue;
      });
      await db.run(sql, params);
      line++;
    }
  });
}

export const T0 = '2026-01-05T08:00:00Z';

/** One telemetry row with quiet defaults (every sub-score 0); override what a test is about. */
export function event(id: string, over: Row = {}): Row {
  return {
    event_id: id,
    procedure_id: 'PR-1',
    patient_id: 'PT-1',
    robot_id: 'RB-1',
    robot_arm: 'arm_1',
    instrument: 'needle_driver',
    step: 'suturing',
    force_n: 2,
    velocity_mm_s: 10,
    latency_ms: 100,
    error_code: null,
    recorded_at: T0,
    ...over,
  };
}

let reading = 0;
/** One vitals row. */
export function vital(patient: string, metric: string, value: number, at: string, id?: string): Row {
  const units: Record<string, string> = {
    heart_rate: '/min', resp_rate: '/min', spo2: '%', systolic_bp: 'mmHg', diastolic_bp: 'mmHg', temperature_c: 'Cel',
    glucose_mg_dl: 'mg/dL', weight_kg: 'kg', consciousness: '{score}', o2_supplemental: '{flag}',
  };
  reading++;
  return { reading_id: id ?? `VR-${String(reading).padStart(7, '0')}`, patient_id: patient, metric, value, unit: units[metric] ?? '', measured_at: at };
}

/**
 * A deterministic synthetic dataset made in SQL, for incremental and acceptance-style tests. Procedures
 * PR-<from>..PR-<to-1>, each with `events` telemetry rows (4 arms, 1 s apart) and a patient PT-<i mod patients>;
 * vitals for every patient, every 15 minutes for `hours` hours from `vitalsStart`, all 10 metrics. Values come
 * from hash() so some events cross every threshold.
 */
export async function insertSynthetic(
  db: Db,
  o: {
    loadId: string; from: number; to: number; events: number; patients: number; eventFrom?: number;
    vitalsPatients?: number[]; hours?: number; vitalsStart?: string; withReference?: boolean;
  },
): Promise<void> {
  const p = { load: o.loadId, from: o.from, to: o.to, events: o.events, patients: o.patients };
  const e0 = o.eventFrom ?? 0;
  if (o.withReference !== false) {
    await db.run(
      `INSERT INTO raw_robots SELECT 'RB-' || i, 'SN-000' || i, 'da Vinci Xi', 'Intuitive Surgical', 'FAC-1', DATE '2024-01-01', 'active', $load, 'robots.csv', i
       FROM range(3) r(i) WHERE NOT EXISTS (SELECT 1 FROM raw_robots x WHERE x.robot_id = 'RB-' || i)`,
      { load: o.loadId },
    );
    await db.run(
      `INSERT INTO raw_patients SELECT 'PT-' || i, CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, DATE '1960-01-01' + i::INTEGER, 'FAC-1', $load, 'patients.csv', i
       FROM range($patients) r(i) WHERE NOT EXISTS (SELECT 1 FROM raw_patients x WHERE x.patient_id = 'PT-' || i)`,
      { load: o.loadId, patients: o.patients },
    );
    await db.run(
      `INSERT INTO raw_procedures SELECT 'PR-' || i, 'PT-' || (i % $patients), 'RB-' || (i % 3), 'SG-1',
         ['prostatectomy','hysterectomy','cholecystectomy'][i % 3 + 1],
         TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT),
         TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT) + to_seconds(($events // 4 + 60)::BIGINT),
         'completed', $load, 'procedures.csv', i
       FROM range($from, $to) r(i)`,
      p,
    );
    await db.run(
      `INSERT INTO raw_outcomes SELECT 'PR-' || i, ['success','success','minor_complication','major_complication'][i % 4 + 1],
         ['none','I','II','IIIa','IIIb','IVa','IVb','V'][i % 8 + 1], 1 + i % 5, i % 5 = 0, $load, 'outcomes.csv', i
       FROM range($from, $to) r(i)`,
      { load: o.loadId, from: o.from, to: o.to },
    );
  }
  await db.run(
    `INSERT INTO raw_telemetry (event_id, procedure_id, patient_id, robot_id, robot_arm, instrument, step, force_n, velocity_mm_s,
       latency_ms, error_code, recorded_at, _load_id, _source_file, _source_line)
     SELECT 'EV-' || i || '-' || j, 'PR-' || i, 'PT-' || (i % $patients), 'RB-' || (i % 3), 'arm_' || (j % 4 + 1),
       ['needle_driver','stapler','endoscope','bipolar_forceps'][j % 4 + 1], 'dissection',
       -- mostly under the limit; hash picks a few over it at each step
       CASE WHEN hash(i, j, 'f') % 97 = 0 THEN [12.0, 40.0, 5.0, 8.0][j % 4 + 1] * (1.0 + (hash(i, j, 'g') % 80) / 100.0)
            ELSE [12.0, 40.0, 5.0, 8.0][j % 4 + 1] * (0.2 + (hash(i, j, 'h') % 50) / 100.0) END,
       10 + hash(i, j, 'v') % 90,
       CASE WHEN hash(i, j, 'l') % 89 = 0 THEN 150 + hash(i, j, 'm') % 500 ELSE 40 + hash(i, j, 'n') % 120 END,
       CASE WHEN hash(i, j, 'e') % 211 = 0 THEN 'E-ARC' WHEN hash(i, j, 'e') % 101 = 0 THEN 'W-COMM' ELSE NULL END,
       TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT) + to_seconds((j // 4)::BIGINT),
       $load, 'telemetry.csv', j
     FROM range($from, $to) a(i), range($e0, $e0 + $events) b(j)`,
    { ...p, e0 },
  );
  const vp = o.vitalsPatients ?? [];
  if (vp.length > 0) {
    await db.run(
      `INSERT INTO raw_vitals (reading_id, patient_id, metric, value, unit, measured_at, _load_id, _source_file, _source_line)
       SELECT 'VR-' || $load || '-' || pt || '-' || k || '-' || m.metric, 'PT-' || pt, m.metric,
         CASE m.metric
           WHEN 'heart_rate' THEN 45 + hash(pt, k, 'hr') % 100
           WHEN 'resp_rate' THEN 7 + hash(pt, k, 'rr') % 20
           WHEN 'spo2' THEN 89 + hash(pt, k, 's') % 11
           WHEN 'systolic_bp' THEN 85 + hash(pt, k, 'sb') % 120
           WHEN 'diastolic_bp' THEN 55 + hash(pt, k, 'db') % 70
           WHEN 'temperature_c' THEN 34.8 + (hash(pt, k, 't') % 50) / 10.0
           WHEN 'glucose_mg_dl' THEN 45 + hash(pt, k, 'g') % 240
           WHEN 'weight_kg' THEN 70 + (hash(pt, k, 'w') % 40) / 10.0 + k / 20.0
           WHEN 'consciousness' THEN CASE WHEN hash(pt, k, 'c') % 13 = 0 THEN 1 ELSE 0 END
           ELSE CASE WHEN hash(pt, k, 'o') % 7 = 0 THEN 1 ELSE 0 END
         END,
         m.unit,
         $start::TIMESTAMPTZ + to_minutes((k * 15)::BIGINT),
         $load, 'vitals.csv', k
       FROM unnest($pts::JSON::INTEGER[]) u(pt), range($n) r(k),
         (VALUES ('heart_rate', '/min'), ('resp_rate', '/min'), ('spo2', '%'), ('systolic_bp', 'mmHg'), ('diastolic_bp', 'mmHg'),
                 ('temperature_c', 'Cel'), ('glucose_mg_dl', 'mg/dL'), ('weight_kg', 'kg'), ('consciousness', '{score}'),
                 ('o2_supplemental', '{flag}')) m(metric, unit)
       WHERE m.metric NOT IN ('weight_kg') OR k % 8 = 0`,
      { load: o.loadId, pts: JSON.stringify(vp), n: (o.hours ?? 6) * 4, start: o.vitalsStart ?? '2026-01-05T06:00:00Z' },
    );
  }
}

/** Every mart table the transform writes (not the views). */
export const MARTS = [
  'telemetry_risk', 'alerts', 'alert_episodes', 'vitals_hourly', 'vitals_5min', 'news2_hourly', 'vitals_flags', 'trends',
  'patient_risk', 'procedure_risk', 'robot_kpis', 'outcomes_by_type', 'data_quality', 'motion_kpis', 'telemetry_summary',
  'telemetry_search',
] as const;

/**
 * Rows in a but not in b plus rows in b but not in a, per mart (EXCEPT ALL both ways). Doubles are rounded to
 * 9 decimals so the order of a parallel sum cannot make equal results differ.
 */
export async function martDiff(db: Db, a: string, b: string, mart: string): Promise<number> {
  const cols = await db.all<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $schema AND table_name = $t AND table_catalog = $cat ORDER BY ordinal_position`,
    { schema: 'main', t: mart, cat: a },
  );
  const sel = cols.map((c) => (c.data_type === 'DOUBLE' ? `round(${ident(c.column_name)}, 9) AS ${ident(c.column_name)}` : ident(c.column_name))).join(', ');
  const ta = `${ident(a)}.main.${ident(mart)}`;
  const tb = `${ident(b)}.main.${ident(mart)}`;
  const n = await db.scalar<number>(
    `SELECT ((SELECT count(*) FROM (SELECT ${sel} FROM ${ta} EXCEPT ALL SELECT ${sel} FROM ${tb})) +
             (SELECT count(*) FROM (SELECT ${sel} FROM ${tb} EXCEPT ALL SELECT ${sel} FROM ${ta})))::INTEGER`,
  );
  return n ?? -1;
}
