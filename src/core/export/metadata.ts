// Provenance stamped into Parquet key/value metadata, so a notebook can tell where a file came from: the surgctl
// version, the source table, the load ids (from its lineage column, else the ledger), the latest model run, the
// rules version and hash of the last successful transform (transform_runs), and a hash of the exported schema.
import { createHash } from 'node:crypto';
import type { DuckDBValue } from '@duckdb/node-api';
import type { Db } from '../../db/db.js';
import { ident } from '../../db/sql.js';
import { listRelations, readRows, relationColumns, type RelationColumn } from '../read/lakehouse.js';
import { surgctlVersion } from '../version.js';

export { surgctlVersion };

/** sha256 over "name type" lines of the columns, in order: equal schemas hash equal. */
export function schemaHash(columns: readonly RelationColumn[]): string {
  return createHash('sha256').update(columns.map((c) => `${c.name} ${c.type}`).join('\n')).digest('hex');
}

export interface ProvenanceInput {
  /** The exported table or model, when the output is one relation. */
  table?: string | undefined;
  /** Its columns (for the schema hash). */
  columns: readonly RelationColumn[];
  /** The export's row filter as SQL and its values, to list the load ids of exactly the rows written. */
  where?: { sql: string; params: Record<string, DuckDBValue> } | undefined;
  /** Extra keys, e.g. { surgctl_report: 'top-alerts' }. */
  extra?: Record<string, string> | undefined;
}

/** Builds the key/value metadata. Every lookup is optional: absent tables or columns just leave a key out. */
export async function provenance(db: Db, input: ProvenanceInput): Promise<Record<string, string>> {
  const kv: Record<string, string> = { surgctl_version: surgctlVersion() };
  const have = new Set(await listRelations(db));
  if (input.table !== undefined) kv.surgctl_table = input.table;
  if (input.table !== undefined && input.columns.some((c) => c.name === '_load_id')) {
    const rows = await readRows(
      db,
      `SELECT string_agg(DISTINCT _load_id, ',' ORDER BY _load_id) AS ids FROM ${ident(input.table)}${input.where?.sql ?? ''}`,
      input.where?.params ?? {},
    );
    kv.surgctl_load_ids = String(rows[0]?.ids ?? '');
  } else if (have.has('loads')) {
    const rows = await readRows(db, "SELECT string_agg(load_id, ',' ORDER BY started_at, load_id) AS ids FROM loads WHERE status = 'succeeded'");
    kv.surgctl_load_ids = String(rows[0]?.ids ?? '');
  }
  if (have.has('model_runs')) {
    const runCols = new Set((await relationColumns(db, 'model_runs')).map((c) => c.name));
    if (runCols.has('run_id') && runCols.has('model') && runCols.has('started_at')) {
      const ok = runCols.has('status') ? " AND status = 'succeeded'" : '';
      const rows =
        input.table === undefined
          ? await readRows(db, `SELECT run_id FROM model_runs WHERE true${ok} ORDER BY started_at DESC, run_id DESC LIMIT 1`)
          : await readRows(db, `SELECT run_id FROM model_runs WHERE model = $model${ok} ORDER BY started_at DESC, run_id DESC LIMIT 1`, {
              model: input.table,
            });
      if (rows[0]?.run_id !== undefined && rows[0].run_id !== null) kv.surgctl_run_id = String(rows[0].run_id);
    }
  }
  // transform records the rules it ran with in transform_runs (rules_version from the rules file, and its hash).
  if (have.has('transform_runs')) {
    const cols = new Set((await relationColumns(db, 'transform_runs')).map((c) => c.name));
    if (cols.has('rules_version') && cols.has('started_at') && cols.has('status')) {
      const sha = cols.has('rules_sha256') ? 'rules_sha256' : 'NULL';
      const rows = await readRows(
        db,
        `SELECT rules_version::VARCHAR AS v, ${sha}::VARCHAR AS sha FROM transform_runs WHERE status = 'succeeded'
         ORDER BY started_at DESC, run_id DESC LIMIT 1`,
      );
      if (rows[0]?.v !== undefined && rows[0].v !== null) kv.surgctl_rules_version = String(rows[0].v);
      if (rows[0]?.sha !== undefined && rows[0].sha !== null) kv.surgctl_rules_sha256 = String(rows[0].sha);
    }
  }
  kv.surgctl_schema_hash = schemaHash(input.columns);
  return { ...kv, ...(input.extra ?? {}) };
}
