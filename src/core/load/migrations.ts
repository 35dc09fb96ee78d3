// Versioned, ordered DDL for the lakehouse. schema_migrations records what ran; a database whose newest
// migration is unknown to this CLI is refused and left untouched.
import type { Db } from '../../db/db.js';
import { DatabaseError } from '../../errors.js';
import { ident } from '../../db/sql.js';
import { listDatasets, loadDatasetSchema } from '../schemas.js';
import { rawTableDdl } from './raw-tables.js';

export interface Migration {
  version: number;
  name: string;
  /** Statements; run in one transaction with the schema_migrations insert. */
  statements: () => string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'ledger, quarantine, run history and raw tables',
    statements: () => [
      `CREATE TABLE IF NOT EXISTS loads (
        load_id VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR, bytes BIGINT, dataset VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ, status VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL DEFAULT 0, rows_inserted BIGINT NOT NULL DEFAULT 0,
        rows_duplicate BIGINT NOT NULL DEFAULT 0, rows_quarantined BIGINT NOT NULL DEFAULT 0,
        engine VARCHAR, message VARCHAR, replay_of VARCHAR)`,
      `CREATE TABLE IF NOT EXISTS quarantine (
        load_id VARCHAR NOT NULL, file VARCHAR NOT NULL, line BIGINT, "row" BIGINT, dataset VARCHAR NOT NULL,
        raw VARCHAR, errors VARCHAR NOT NULL, rule VARCHAR NOT NULL, quarantined_at TIMESTAMPTZ NOT NULL,
        replayed_by VARCHAR)`,
      `CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, command VARCHAR NOT NULL, args VARCHAR, started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, counts VARCHAR, error VARCHAR)`,
      ...listDatasets().map((d) => rawTableDdl(loadDatasetSchema(d))),
    ],
  },
  {
    version: 2,
    name: 'writer pid and host on runs and transform_runs; where a load\'s quarantine file belongs',
    statements: () => [
      'ALTER TABLE runs ADD COLUMN IF NOT EXISTS pid INTEGER',
      'ALTER TABLE runs ADD COLUMN IF NOT EXISTS host VARCHAR',
      // transform_runs was created by the first transform; a lakehouse that never ran one gets it here.
      `CREATE TABLE IF NOT EXISTS transform_runs (
        run_id VARCHAR PRIMARY KEY, mode VARCHAR NOT NULL, reason VARCHAR, started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, rules_version VARCHAR, rules_sha256 VARCHAR,
        models_sha256 VARCHAR, new_loads INTEGER, "select" VARCHAR)`,
      'ALTER TABLE transform_runs ADD COLUMN IF NOT EXISTS pid INTEGER',
      'ALTER TABLE transform_runs ADD COLUMN IF NOT EXISTS host VARCHAR',
      'ALTER TABLE loads ADD COLUMN IF NOT EXISTS quarantine_file VARCHAR',
    ],
  },
  {
    // Reserved number 4 (issue 14, surgctl import); version 3 belongs to another change in flight.
    version: 4,
    name: 'import lineage on raw_vitals: the reading as the source gave it (value text, unit, code) before mapping',
    statements: () => [
      'ALTER TABLE raw_vitals ADD COLUMN IF NOT EXISTS original_value VARCHAR',
      'ALTER TABLE raw_vitals ADD COLUMN IF NOT EXISTS original_unit VARCHAR',
      'ALTER TABLE raw_vitals ADD COLUMN IF NOT EXISTS original_code VARCHAR',
    ],
  },
];

export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** Applies the migrations this database lacks. Throws DatabaseError('db_too_new') when it is ahead of this CLI. */
export async function migrate(db: Db, migrations: Migration[] = MIGRATIONS): Promise<number[]> {
  // The refusal comes before the first write: a newer lakehouse is never touched.
  await refuseNewer(db, Math.max(...migrations.map((m) => m.version)));
  await db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`);
  const applied = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
  const ran: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    await db.transaction(async () => {
      for (const s of m.statements()) await db.run(s);
      await db.run('INSERT INTO schema_migrations VALUES ($v, $n, now())', { v: m.version, n: m.name });
    });
    ran.push(m.version);
  }
  return ran;
}

/**
 * Throws DatabaseError('db_too_new') when the database records a schema version above `latest`. Reads only, so
 * every writer can call it before its first write (load, transform, pipeline, quarantine replay, tui acks).
 */
export async function refuseNewer(db: Db, latest: number = LATEST_VERSION): Promise<void> {
  const newest = await schemaVersion(db);
  if (newest > latest) {
    throw new DatabaseError('db_too_new', `database ${db.path} is at schema version ${newest}, newer than this surgctl (${latest})`, {
      file: db.path,
      hint: 'upgrade surgctl to a version that knows this lakehouse; the database was not changed',
    });
  }
}

/** Reads the schema version without changing anything (0 for a database with no migrations table). */
export async function schemaVersion(db: Db): Promise<number> {
  const exists = await db.scalar<number>(
    "SELECT count(*)::INTEGER FROM information_schema.tables WHERE table_name = 'schema_migrations'",
  );
  if (!exists) return 0;
  return (await db.scalar<number>('SELECT coalesce(max(version), 0)::INTEGER FROM schema_migrations')) ?? 0;
}

/**
 * Checks that raw_<dataset> has every column its schema declares. A column added to a schema after the table was
 * created needs a migration; refuse with a message naming the column and the migration to write.
 */
export async function checkRawTableMatches(db: Db, dataset: string): Promise<void> {
  const ds = loadDatasetSchema(dataset);
  const have = new Set(
    (
      await db.all<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_name = $t',
        { t: `raw_${ds.name}` },
      )
    ).map((r) => r.column_name),
  );
  if (have.size === 0) {
    await db.run(rawTableDdl(ds));
    return;
  }
  const missing = ds.columns.filter((c) => !have.has(c));
  if (missing.length > 0) {
    const first = missing[0] as string;
    throw new DatabaseError('schema_drift', `schema ${ds.name} declares column ${missing.join(', ')} that ${ident(`raw_${ds.name}`)} in ${db.path} lacks`, {
      file: ds.path,
      field: first,
      hint: `add a migration to src/core/load/migrations.ts: ALTER TABLE raw_${ds.name} ADD COLUMN ${first} <type>; the lakehouse was not changed`,
    });
  }
}
