// Row counts and an order-independent checksum of a table, computed the same way on both sides: in the lakehouse
// (DuckDB) and in a PostgreSQL schema. Each row becomes JSON with instants as epoch microseconds, integers and dates as
// text, doubles as JS numbers (both sides hand back the exact double), lists as arrays; the checksum is the
// sha256 of the sorted row hashes.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Db } from '../../src/db/db.js';

interface Col {
  name: string;
  type: string;
}

const q = (s: string): string => `"${s.replaceAll('"', '""')}"`;

async function duckColumns(db: Db, table: string): Promise<Col[]> {
  return db.all<{ name: string; type: string }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $t ORDER BY ordinal_position`,
    { t: table },
  );
}

// NaN and the infinities: DuckDB's JSON rows spell them as strings, pg hands back JS numbers.
const norm = (v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

function digest(rows: unknown[][]): string {
  const hashes = rows.map((r) => createHash('sha256').update(JSON.stringify(r.map(norm))).digest('hex')).sort();
  return createHash('sha256').update(hashes.join('\n')).digest('hex');
}

export interface TableSum {
  rows: number;
  checksum: string;
}

export async function duckTableSum(db: Db, table: string): Promise<TableSum> {
  const cols = await duckColumns(db, table);
  const sel = cols.map((c) =>
    c.type === 'TIMESTAMP WITH TIME ZONE' ? `epoch_us(${q(c.name)})::VARCHAR` : /^(BIGINT|INTEGER|SMALLINT|HUGEINT|DATE)$/.test(c.type) ? `${q(c.name)}::VARCHAR` : q(c.name),
  );
  const reader = await db.read(`SELECT ${sel.join(', ')} FROM ${q(table)}`);
  const rows = reader.getRowsJson() as unknown[][];
  return { rows: rows.length, checksum: digest(rows) };
}

export async function pgTableSum(db: Db, client: pg.Client, schema: string, table: string): Promise<TableSum> {
  const cols = await duckColumns(db, table);
  const sel = cols.map((c) =>
    c.type === 'TIMESTAMP WITH TIME ZONE'
      ? `((extract(epoch from ${q(c.name)}) * 1000000)::bigint)::text`
      : /^(BIGINT|INTEGER|SMALLINT|HUGEINT|DATE)$/.test(c.type)
        ? `${q(c.name)}::text`
        : q(c.name),
  );
  const res = await client.query({ text: `SELECT ${sel.join(', ')} FROM ${q(schema)}.${q(table)}`, rowMode: 'array' });
  return { rows: res.rows.length, checksum: digest(res.rows as unknown[][]) };
}
