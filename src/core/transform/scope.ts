// Incremental scope: which loads a run has not consumed yet (transform_state), and which partitions they touch:
// procedures, patients and (patient, UTC hour)s, in TEMP _scope_* tables. Models filter their inputs through the
// in_scope_* macros, which are `true` in a full run and look the scope up in an incremental one.
import type { Db } from '../../db/db.js';
import { ident } from '../../db/sql.js';
import type { Model } from './models.js';

/** Lists the tables (main schema) of this database that exist, among `names`. */
export async function existingTables(db: Db, names: readonly string[]): Promise<Set<string>> {
  const rows = await db.all<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'main' AND table_catalog = current_database() AND list_contains($names::JSON::VARCHAR[], table_name)`,
    { names: JSON.stringify(names) },
  );
  return new Set(rows.map((r) => r.table_name));
}

export const RAW_TABLES = ['raw_robots', 'raw_patients', 'raw_procedures', 'raw_telemetry', 'raw_vitals', 'raw_outcomes', 'raw_maintenance'] as const;

/**
 * Creates TEMP _new_loads(load_id): load ids present in raw tables or in the `loads` ledger (succeeded) that
 * transform_state does not list. Returns them sorted.
 */
export async function findNewLoads(db: Db): Promise<string[]> {
  const have = await existingTables(db, [...RAW_TABLES, 'loads', 'transform_state']);
  const sources = RAW_TABLES.filter((t) => have.has(t)).map((t) => `SELECT DISTINCT _load_id AS load_id FROM ${ident(t)}`);
  if (have.has('loads')) sources.push(`SELECT load_id FROM loads WHERE status = 'succeeded'`);
  const all = sources.length > 0 ? sources.join('\nUNION\n') : 'SELECT NULL::VARCHAR AS load_id WHERE false';
  const consumed = have.has('transform_state') ? 'SELECT load_id FROM transform_state' : 'SELECT NULL::VARCHAR AS load_id WHERE false';
  await db.run(`CREATE OR REPLACE TEMP TABLE _new_loads AS SELECT load_id FROM (${all}) WHERE load_id IS NOT NULL EXCEPT ${consumed}`);
  return (await db.all<{ load_id: string }>('SELECT load_id FROM _new_loads ORDER BY load_id')).map((r) => r.load_id);
}

export interface ScopeCounts {
  procedures: number;
  patients: number;
  patient_hours: number;
}

/**
 * Builds the TEMP scope tables for the loads in `loadIds` (the run's new loads). A new vitals reading puts its
 * (patient, hour) in scope; new telemetry, procedure or outcome rows put their procedure in scope, and so does
 * every procedure of a patient whose vitals changed (procedure_risk.max_news2 reads them). Patients in scope: those
 * with new vitals, new telemetry or a new registry row, and the patients of the procedures in scope. Each raw table
 * is scanned once, filtered by a bound list of load ids (so DuckDB can skip row groups of older loads).
 */
export async function buildScopes(db: Db, loadIds: string[]): Promise<ScopeCounts> {
  const params = Object.fromEntries(loadIds.map((id, i) => [`l${i}`, id]));
  const inList = loadIds.length > 0 ? loadIds.map((_, i) => `$l${i}`).join(', ') : 'NULL';
  const isNew = (alias: string): string => `${alias}._load_id IN (${inList})`;
  const run = (sql: string): Promise<void> => db.run(sql, sql.includes('$l') ? params : {});
  await run(`CREATE OR REPLACE TEMP TABLE _scope_patient_hour AS
    SELECT DISTINCT v.patient_id, date_trunc('hour', v.measured_at) AS hour_start FROM raw_vitals v WHERE ${isNew('v')}`);
  await run(`CREATE OR REPLACE TEMP TABLE _new_telemetry AS
    SELECT DISTINCT t.procedure_id, t.patient_id FROM raw_telemetry t WHERE ${isNew('t')}`);
  await run(`CREATE OR REPLACE TEMP TABLE _scope_procedure AS
    SELECT procedure_id FROM _new_telemetry
    UNION SELECT p.procedure_id FROM raw_procedures p WHERE ${isNew('p')}
    UNION SELECT o.procedure_id FROM raw_outcomes o WHERE ${isNew('o')}
    UNION SELECT p.procedure_id FROM raw_procedures p WHERE p.patient_id IN (SELECT patient_id FROM _scope_patient_hour)`);
  await run(`CREATE OR REPLACE TEMP TABLE _scope_patient AS
    SELECT patient_id FROM _scope_patient_hour
    UNION SELECT patient_id FROM _new_telemetry
    UNION SELECT pt.patient_id FROM raw_patients pt WHERE ${isNew('pt')}
    UNION SELECT p.patient_id FROM raw_procedures p WHERE p.procedure_id IN (SELECT procedure_id FROM _scope_procedure)`);
  const row = (
    await db.all<{ procedures: number; patients: number; patient_hours: number }>(
      `SELECT (SELECT count(*) FROM _scope_procedure)::INTEGER AS procedures,
              (SELECT count(*) FROM _scope_patient)::INTEGER AS patients,
              (SELECT count(*) FROM _scope_patient_hour)::INTEGER AS patient_hours`,
    )
  )[0];
  return row ?? { procedures: 0, patients: 0, patient_hours: 0 };
}

/**
 * The raw rows an incremental run reads again (after buildScopes): the telemetry rows of the procedures in scope plus
 * the vitals rows of the patients in scope; a missing raw table counts 0.
 */
export async function scopeRows(db: Db): Promise<number> {
  const have = await existingTables(db, ['raw_telemetry', 'raw_vitals']);
  const parts = [
    have.has('raw_telemetry') ? 'SELECT count(*) FROM raw_telemetry WHERE procedure_id IN (SELECT procedure_id FROM _scope_procedure)' : '',
    have.has('raw_vitals') ? 'SELECT count(*) FROM raw_vitals WHERE patient_id IN (SELECT patient_id FROM _scope_patient)' : '',
  ].filter((p) => p !== '');
  if (parts.length === 0) return 0;
  return Number((await db.scalar<number>(`SELECT (${parts.map((p) => `(${p})`).join(' + ')})::DOUBLE`)) ?? 0);
}

/**
 * Defines the in_scope_* macros: all `true` for a full run; scope look-ups for an incremental one (the TEMP
 * _scope_* tables must exist by then). The look-ups are uncorrelated IN subqueries on purpose: a macro argument
 * such as an unqualified patient_id inside a correlated subquery would bind to the scope table's own column.
 */
export async function defineScopeMacros(db: Db, scoped: boolean): Promise<void> {
  if (!scoped) {
    await db.run(`CREATE OR REPLACE TEMP MACRO in_scope_procedure(_pid) AS true;
      CREATE OR REPLACE TEMP MACRO in_scope_patient(_pid) AS true;
      CREATE OR REPLACE TEMP MACRO in_scope_patient_hour(_pid, _ts) AS true;`);
    return;
  }
  await db.run(`CREATE OR REPLACE TEMP MACRO in_scope_procedure(_pid) AS _pid IN (SELECT procedure_id FROM _scope_procedure);
    CREATE OR REPLACE TEMP MACRO in_scope_patient(_pid) AS _pid IN (SELECT patient_id FROM _scope_patient);
    CREATE OR REPLACE TEMP MACRO in_scope_patient_hour(_pid, _ts) AS
      (_pid, date_trunc('hour', _ts)) IN (SELECT patient_id, hour_start FROM _scope_patient_hour);`);
}

/** The partition kinds a full build can cut into batches, and the raw tables whose rows size a batch. */
export const BATCH_SOURCES = {
  procedure: ['raw_telemetry'],
  patient: ['raw_telemetry', 'raw_vitals'],
} as const;
export type BatchKind = keyof typeof BATCH_SOURCES;

/**
 * Batches for a full build of the procedure-partitioned models (issue 18: bounded memory): the lower bounds of
 * consecutive procedure_id ranges holding about `batchRows` raw_telemetry rows each, in procedure_id order
 * (a procedure is never split). [] when raw_telemetry is missing or holds at most `batchRows` rows: one pass.
 * The ranges [null, b1), [b1, b2), ... [bn, null) cover every string, so a model reading another table (alerts
 * reads telemetry_risk) is cut by the same bounds; a NULL procedure_id falls in the first batch.
 */
export function procedureBatches(db: Db, batchRows: number): Promise<string[]> {
  return partitionBatches(db, 'procedure', batchRows);
}

/**
 * The same for a kind of partition: procedure_id ranges sized by raw_telemetry rows, patient_id ranges sized by
 * the patient's raw_telemetry plus raw_vitals rows (the patient-partitioned models read one or the other: NEWS2
 * sets from vitals, patient_risk's p95 latency from telemetry_risk). A patient is never split either.
 */
export async function partitionBatches(db: Db, kind: BatchKind, batchRows: number): Promise<string[]> {
  const column = ident(`${kind}_id`);
  const have = await existingTables(db, BATCH_SOURCES[kind]);
  const sources = BATCH_SOURCES[kind].filter((t) => have.has(t));
  if (sources.length === 0) return [];
  const counts = sources.map((t) => `(SELECT count(*) FROM ${ident(t)})`).join(' + ');
  const total = Number((await db.all<{ n: number }>(`SELECT (${counts})::DOUBLE AS n`))[0]?.n ?? 0);
  if (total <= batchRows) return [];
  const keys = sources.map((t) => `SELECT ${column} AS k FROM ${ident(t)} WHERE ${column} IS NOT NULL`).join(' UNION ALL ');
  const rows = await db.all<{ lo: string }>(
    `WITH p AS (SELECT k, count(*) AS n FROM (${keys}) GROUP BY k),
          c AS (SELECT k, (sum(n) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) - n) // $rows AS batch FROM p)
     SELECT min(k) AS lo FROM c WHERE batch > 0 GROUP BY batch ORDER BY lo`,
    { rows: Math.max(1, Math.floor(batchRows)) },
  );
  return rows.map((r) => r.lo);
}

/**
 * Points in_scope_<kind> (procedure or patient) at one batch of id values: [lo, hi), no bound for a null. The
 * bounds are session variables, which DuckDB folds into constants, so the filter reaches the table scan (row groups
 * of other ids are skipped by their min/max). `defineScopeMacros(db, false)` puts the macro back to `true`.
 */
export async function defineBatchMacro(db: Db, lo: string | null, hi: string | null, kind: BatchKind = 'procedure'): Promise<void> {
  await db.run('SET VARIABLE surgctl_batch_lo = $v', { v: lo });
  await db.run('SET VARIABLE surgctl_batch_hi = $v', { v: hi });
  await db.run(`CREATE OR REPLACE TEMP MACRO ${ident(`in_scope_${kind}`)}(_pid) AS
    ((getvariable('surgctl_batch_lo')::VARCHAR IS NULL OR _pid >= getvariable('surgctl_batch_lo')::VARCHAR)
      AND (getvariable('surgctl_batch_hi')::VARCHAR IS NULL OR _pid < getvariable('surgctl_batch_hi')::VARCHAR))
    OR (_pid IS NULL AND getvariable('surgctl_batch_lo')::VARCHAR IS NULL)`);
}

/** The SQL predicate selecting a partitioned model's rows in scope (columns quoted), or 'true'. */
export function partitionPredicate(model: Model): string {
  if (!model.partition) return 'true';
  const cols = model.partition.columns.map(ident);
  return `in_scope_${model.partition.kind}(${cols.join(', ')})`;
}
