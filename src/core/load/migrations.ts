// The lakehouse's migrations live in src/db (frozen, numbered .sql files; src/db/migrate.ts applies them). What stays
// here is load's own check that a raw table still matches its dataset schema.
import type { Db } from '../../db/db.js';
import { DatabaseError } from '../../errors.js';
import { ident } from '../../db/sql.js';
import { loadDatasetSchema } from '../schemas.js';
import { rawTableDdl } from './raw-tables.js';

export { latestVersion, listMigrations, migrate, refuseNewer, schemaVersion, type Migration } from '../../db/migrate.js';

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
      hint: `add a migration file to src/db/migrations (NNN-name.sql): ALTER TABLE raw_${ds.name} ADD COLUMN ${first} <type>; the lakehouse was not changed`,
    });
  }
}
