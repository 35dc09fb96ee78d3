import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { ident, literal } from '../../src/db/sql.js';
import { DatabaseError, QueryError } from '../../src/errors.js';
import { rawTableDdl } from '../../src/core/load/raw-tables.js';
import { listDatasets, loadDatasetSchema } from '../../src/core/schemas.js';
import { tempDir } from '../helpers/run-cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('db', () => {
  it('opens in UTC and binds parameters', async () => {
    const db = await openDb(':memory:');
    try {
      expect(await db.scalar("SELECT current_setting('TimeZone')")).toBe('UTC');
      const evil = "x'; DROP TABLE t; --";
      expect(await db.scalar('SELECT $v AS v', { v: evil })).toBe(evil);
    } finally {
      db.close();
    }
  });

  it('wraps failures as QueryError carrying the SQL', async () => {
    const db = await openDb(':memory:');
    try {
      await expect(db.run('SELECT * FROM missing_table')).rejects.toBeInstanceOf(QueryError);
      await db.run('SELECT * FROM missing_table').catch((e: QueryError) => expect(e.sql).toContain('missing_table'));
    } finally {
      db.close();
    }
  });

  it('refuses a file that is not a DuckDB database with a clear error', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'not.duckdb');
    writeFileSync(path, 'this is not a database\n'.repeat(100));
    const err = await openDb(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as DatabaseError).message).toContain(path);
  });

  it('quotes identifiers and literals safely', () => {
    expect(ident('force_n')).toBe('"force_n"');
    expect(() => ident('a"; DROP')).toThrow();
    expect(literal("it's")).toBe("'it''s'");
  });

  it('creates every raw table from its schema', async () => {
    const db = await openDb(':memory:');
    try {
      for (const name of listDatasets()) await db.run(rawTableDdl(loadDatasetSchema(name)));
      const cols = await db.all<{ column_name: string; data_type: string }>(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'raw_telemetry' ORDER BY ordinal_position",
      );
      expect(cols.find((c) => c.column_name === 'recorded_at')?.data_type).toBe('TIMESTAMP WITH TIME ZONE');
      expect(cols.find((c) => c.column_name === 'force_n')?.data_type).toBe('DOUBLE');
      expect(cols.map((c) => c.column_name).slice(-3)).toEqual(['_load_id', '_source_file', '_source_line']);
    } finally {
      db.close();
    }
  });
});
