// `export --partition-by`: a partition is a column or an Iceberg-style transform of a timestamp column,
// `day(col)` or `hour(col)`, written as a derived column `<col>_day` (2026-01-05) or `<col>_hour` (2026-01-05-09,
// Iceberg's human form). The number of partitions is counted before anything is written and refused above a limit.
import type { DuckDBValue } from '@duckdb/node-api';
import type { Db } from '../../db/db.js';
import { ident } from '../../db/sql.js';
import { UsageError } from '../../errors.js';
import type { RelationColumn } from '../read/lakehouse.js';

/** Partitions an export may write when --max-partitions is not given. */
export const DEFAULT_MAX_PARTITIONS = 10_000;

export const PARTITION_TRANSFORMS = ['day', 'hour'] as const;
export type PartitionTransform = (typeof PARTITION_TRANSFORMS)[number];

export interface PartitionKey {
  /** The source column. */
  column: string;
  transform?: PartitionTransform | undefined;
  /** The Hive directory key: the column, or `<column>_<transform>`. */
  name: string;
  /** The SQL expression of the partition value (over the source relation's columns). */
  sql: string;
}

const SPEC_RE = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/;
const TIME_TYPES = /^(TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|DATE)$/i;
const FORMATS: Record<PartitionTransform, string> = { day: '%Y-%m-%d', hour: '%Y-%m-%d-%H' };

const columnList = (columns: readonly RelationColumn[]): string => columns.map((c) => c.name).join(', ');

/**
 * Parses the --partition-by items against the relation's columns: `col`, `day(col)` or `hour(col)`.
 * Throws UsageError for an unknown column or transform, a transform of a non-timestamp column, or a repeat.
 */
export function parsePartitionBy(items: readonly string[], columns: readonly RelationColumn[], table: string): PartitionKey[] {
  const keys: PartitionKey[] = [];
  for (const raw of items) {
    const item = raw.trim();
    const m = SPEC_RE.exec(item);
    const column = m ? (m[2] ?? '') : item;
    const fn = m?.[1]?.toLowerCase();
    if (m && !PARTITION_TRANSFORMS.includes(fn as PartitionTransform)) {
      throw new UsageError(`--partition-by: unknown transform ${JSON.stringify(m[1])} in ${JSON.stringify(item)}`, {
        field: '--partition-by',
        hint: `transforms: ${PARTITION_TRANSFORMS.map((t) => `${t}(column)`).join(', ')} for a timestamp column`,
      });
    }
    const col = columns.find((c) => c.name === column);
    if (col === undefined) {
      throw new UsageError(`--partition-by: ${table} has no column ${JSON.stringify(column)}`, {
        field: '--partition-by',
        hint: `columns: ${columnList(columns)}`,
      });
    }
    let key: PartitionKey = { column, name: column, sql: ident(column) };
    if (fn !== undefined) {
      const transform = fn as PartitionTransform;
      if (!TIME_TYPES.test(col.type) || (transform === 'hour' && /^DATE$/i.test(col.type))) {
        const times = columns.filter((c) => TIME_TYPES.test(c.type)).map((c) => c.name);
        throw new UsageError(`--partition-by ${item}: ${table}.${column} is ${col.type}, not a timestamp`, {
          field: '--partition-by',
          hint: times.length ? `${transform}() takes a timestamp column: ${times.join(', ')}` : `${table} has no timestamp column; partition by a plain column`,
        });
      }
      // UTC strftime of the instant: the lakehouse's TimeZone is UTC, so the day and hour are UTC ones.
      key = { column, transform, name: `${column}_${transform}`, sql: `strftime(${ident(column)}, '${FORMATS[transform]}')` };
    }
    if (keys.some((k) => k.name === key.name)) {
      throw new UsageError(`--partition-by names ${key.name} twice`, { field: '--partition-by' });
    }
    if (key.transform !== undefined && columns.some((c) => c.name === key.name)) {
      throw new UsageError(`--partition-by ${item}: ${table} already has a column ${key.name}`, {
        field: '--partition-by',
        hint: `partition by ${key.name} itself`,
      });
    }
    keys.push(key);
  }
  const plain = new Set(keys.filter((k) => k.transform === undefined).map((k) => k.column));
  if (plain.size > 0 && plain.size === columns.length) {
    throw new UsageError('--partition-by cannot use every column: nothing would be left in the files', { field: '--partition-by' });
  }
  return keys;
}

/** The source query with the derived partition columns appended (a no-op when every key is a plain column). */
export function partitionedSource(sql: string, keys: readonly PartitionKey[]): string {
  const derived = keys.filter((k) => k.transform !== undefined);
  if (derived.length === 0) return sql;
  return `SELECT q.*, ${derived.map((k) => `${k.sql} AS ${ident(k.name)}`).join(', ')} FROM (${sql}\n) AS q`;
}

/**
 * Counts the partitions `keys` would write from `sql` and throws UsageError, before anything is written, when
 * they exceed `max`. Returns the count.
 */
export async function checkPartitionCount(
  db: Db,
  sql: string,
  params: Record<string, DuckDBValue>,
  keys: readonly PartitionKey[],
  columns: readonly RelationColumn[],
  max: number,
): Promise<number> {
  // Count at most max + 1 groups: a unique key over millions of rows stops early instead of hashing them all.
  const count = await db.scalar<number>(
    `SELECT count(*)::BIGINT::DOUBLE FROM (SELECT DISTINCT ${keys.map((k) => k.sql).join(', ')} FROM (${sql}\n) AS q LIMIT ${max + 1})`,
    params,
  );
  const n = Number(count ?? 0);
  if (n > max) {
    const times = keys.filter((k) => k.transform === undefined && TIME_TYPES.test(columns.find((c) => c.name === k.column)?.type ?? ''));
    throw new UsageError(
      `--partition-by ${keys.map((k) => (k.transform ? `${k.transform}(${k.column})` : k.column)).join(',')} would write more than ${max.toLocaleString('en-US')} partitions; nothing was written`,
      {
        field: '--partition-by',
        hint: times.length
          ? `${times.map((k) => k.column).join(', ')} is a timestamp: partition by day(${times[0]?.column}) or hour(${times[0]?.column}) instead`
          : `partition by a column with fewer distinct values, or raise the limit with --max-partitions N`,
      },
    );
  }
  return n;
}

/** Parses --max-partitions: a positive integer. Throws UsageError. */
export function parseMaxPartitions(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_PARTITIONS;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--max-partitions must be a positive integer, not ${JSON.stringify(String(value))}`, { field: '--max-partitions' });
  }
  return n;
}
