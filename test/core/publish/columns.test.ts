// The two ways rows become PostgreSQL COPY CSV (DuckDB's CSV writer over pgReadySelectSql, and csvLinesSql's
// per-row lines) on hostile values: quotes, commas, newlines, backslashes and braces in text and in list elements,
// NULL against '', NULL list elements, NaN and the infinities, microsecond instants, booleans, big integers. Both
// are copied into a real PostgreSQL table and read back; they must give exactly the values DuckDB holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { from as copyFrom } from 'pg-copy-streams';
import { openDb, type Db } from '../../../src/db/db.js';
import { csvLinesSql, pgColumnsDdl, pgReadySelectSql, pgTypeOf, type MartColumn } from '../../../src/core/publish/columns.js';
import { ident } from '../../../src/db/sql.js';
import { tempDir } from '../../helpers/run-cli.js';
import { usePgCluster, withPgClient } from '../../helpers/pg.js';

const server = usePgCluster('test/core/publish/columns.test.ts');
let db: Db;
let tmp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  tmp = tempDir('surgctl-columns-');
  db = await openDb(':memory:');
  await db.run(`CREATE TABLE hostile AS SELECT * FROM (VALUES
    (1, 'plain', ['a', 'b'], TIMESTAMPTZ '2026-01-05 08:00:00.123456+00', 1.5::DOUBLE, true, 9007199254740993::BIGINT, DATE '2026-01-05', 12.345::DECIMAL(10,3)),
    (2, '', [], TIMESTAMPTZ '1999-12-31 23:59:59+00', 'nan'::DOUBLE, false, -1::BIGINT, NULL, NULL),
    (3, NULL, NULL, NULL, 'inf'::DOUBLE, NULL, NULL, NULL, NULL),
    (4, 'say "hi", then
a new line \\ and {braces}', ['with "quote"', NULL, 'comma, here', 'back\\slash', '{x}', '', 'NULL'], TIMESTAMPTZ '2026-06-30 12:00:00.000001+00', '-inf'::DOUBLE, true, 0, DATE '1900-01-01', -0.001),
    (5, 'naïve ünïcödé – ✓', ['ü'], TIMESTAMPTZ '2026-01-05 08:00:00+00', 0.1::DOUBLE, false, 1, DATE '2026-01-05', 0)
  ) t(id, txt, tags, ts, x, flag, big, day, amount)`);
});
afterAll(() => {
  db?.close();
  tmp?.cleanup();
});

async function columns(): Promise<MartColumn[]> {
  const cols = await db.all<{ name: string; type: string }>(
    "SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = 'hostile' ORDER BY ordinal_position",
  );
  return cols.map((c) => ({ name: c.name, duckType: c.type, pgType: pgTypeOf(c.type) }));
}

/** Copies CSV text into a fresh PostgreSQL table and reads every row back as JSON-able values. */
async function roundTrip(table: string, csv: string, cols: MartColumn[]): Promise<unknown[]> {
  return withPgClient(server.cluster.url, async (c) => {
    await c.query(`SET TIME ZONE 'UTC'; DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (${pgColumnsDdl(cols, ident)})`);
    const copy = c.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT csv)`));
    await new Promise<void>((res, rej) => {
      copy.on('finish', res);
      copy.on('error', rej);
      copy.end(csv);
    });
    const res = await c.query(`SELECT id, txt, tags, to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US') AS ts, x::text AS x, flag, big::text AS big, day::text AS day, amount::text AS amount FROM ${table} ORDER BY id`);
    return res.rows;
  });
}

const EXPECTED = [
  { id: 1, txt: 'plain', tags: ['a', 'b'], ts: '2026-01-05 08:00:00.123456', x: '1.5', flag: true, big: '9007199254740993', day: '2026-01-05', amount: '12.345' },
  { id: 2, txt: '', tags: [], ts: '1999-12-31 23:59:59.000000', x: 'NaN', flag: false, big: '-1', day: null, amount: null },
  { id: 3, txt: null, tags: null, ts: null, x: 'Infinity', flag: null, big: null, day: null, amount: null },
  {
    id: 4,
    txt: 'say "hi", then\na new line \\ and {braces}',
    tags: ['with "quote"', null, 'comma, here', 'back\\slash', '{x}', '', 'NULL'],
    ts: '2026-06-30 12:00:00.000001',
    x: '-Infinity',
    flag: true,
    big: '0',
    day: '1900-01-01',
    amount: '-0.001',
  },
  { id: 5, txt: 'naïve ünïcödé – ✓', tags: ['ü'], ts: '2026-01-05 08:00:00.000000', x: '0.1', flag: false, big: '1', day: '2026-01-05', amount: '0.000' },
];

describe('rows as PostgreSQL COPY CSV', () => {
  it('maps DuckDB types to PostgreSQL types', () => {
    expect(pgTypeOf('TIMESTAMP WITH TIME ZONE')).toBe('timestamptz');
    expect(pgTypeOf('VARCHAR[]')).toBe('text[]');
    expect(pgTypeOf('DECIMAL(10,3)')).toBe('numeric(10,3)');
    expect(pgTypeOf('BIGINT')).toBe('bigint');
    expect(pgTypeOf('BOOLEAN')).toBe('boolean');
    expect(pgTypeOf('DOUBLE')).toBe('double precision');
    expect(pgTypeOf('STRUCT(a INTEGER)')).toBe('text');
  });

  it("DuckDB's CSV writer over pgReadySelectSql: every hostile value arrives exactly", async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const cols = await columns();
    const file = join(tmp.dir, 'rows.csv');
    await db.run(`COPY (${pgReadySelectSql(cols, 'hostile')}) TO '${file}' (FORMAT csv, HEADER false)`);
    expect(await roundTrip('via_writer', readFileSync(file, 'utf8'), cols)).toEqual(EXPECTED);
  });

  it('csvLinesSql (the chunk transport): every hostile value arrives exactly', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const cols = await columns();
    const lines = await db.all<{ line: string }>(`${csvLinesSql(cols, 'hostile')}`);
    expect(await roundTrip('via_lines', lines.map((l) => l.line).join('\n') + '\n', cols)).toEqual(EXPECTED);
  });
});
