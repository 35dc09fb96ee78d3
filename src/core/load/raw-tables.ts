// The raw layer's shape: one table per dataset, raw_<dataset>, typed from its schema, plus lineage columns.
// validate stages into these types, load creates and fills these tables, transform reads them.
import { ident } from '../../db/sql.js';
import { duckType, type DatasetSchema } from '../schemas.js';

/** duckType lives with the schemas (validate and generate use it too, and must not depend on load). */
export { duckType };

export const LINEAGE_COLUMNS = ['_load_id', '_source_file', '_source_line'] as const;

export function rawTableName(dataset: string): string {
  return ident(`raw_${dataset}`);
}

/** CREATE TABLE IF NOT EXISTS for a dataset's raw table: schema columns in order, then lineage. No constraints
 *  beyond the primary key's NOT NULL: loads dedupe by key themselves (set-at-a-time, faster than an index). */
export function rawTableDdl(ds: DatasetSchema): string {
  const cols = ds.columns.map((c) => {
    const t = duckType(ds.columnTypes[c] ?? { type: 'string' });
    const notNull = ds.primaryKey.includes(c) ? ' NOT NULL' : '';
    return `  ${ident(c)} ${t}${notNull}`;
  });
  cols.push('  "_load_id" VARCHAR NOT NULL', '  "_source_file" VARCHAR NOT NULL', '  "_source_line" BIGINT');
  return `CREATE TABLE IF NOT EXISTS ${rawTableName(ds.name)} (\n${cols.join(',\n')}\n)`;
}
