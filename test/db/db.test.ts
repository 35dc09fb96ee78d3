import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { ident, literal } from '../../src/db/sql.js';
import { DatabaseError, QueryError, UsageError } from '../../src/errors.js';
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

describe('a read-only open is sealed inside DuckDB', () => {
  async function lakehouse(): Promise<{ dir: string; path: string }> {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'lake.duckdb');
    const db = await openDb(path);
    await db.run("CREATE TABLE t AS SELECT i, 'v' || i AS s FROM range(10) r(i); CREATE VIEW v AS SELECT * FROM t WHERE i < 3");
    db.close();
    return { dir: t.dir, path };
  }

  it('refuses files outside allowRead, settings and extensions as UsageErrors naming --allow-read, in UTC, on every connection', async () => {
    const { dir, path } = await lakehouse();
    writeFileSync(join(dir, 'beside.csv'), 'a\n1\n');
    const db = await openDb(path, { readOnly: true });
    try {
      expect(await db.scalar('SELECT count(*)::INTEGER FROM v')).toBe(3);
      for (const sql of [`SELECT * FROM read_csv(${literal(join(dir, 'beside.csv'))})`, "SELECT * FROM read_text('/etc/passwd')", 'SET threads = 1', 'SET enable_external_access = true', 'LOAD httpfs',
        `COPY (SELECT 1) TO ${literal(join(dir, 'x.csv'))}`, `ATTACH ${literal(join(dir, 'other.duckdb'))} AS o (READ_ONLY)`, `EXPORT DATABASE ${literal(join(dir, 'dump'))}`]) {
        const e = await db.run(sql).then(() => undefined, (err: unknown) => err);
        expect(e, sql).toBeInstanceOf(UsageError);
        expect((e as UsageError).hint).toMatch(/--allow-read DIR/);
      }
      expect(readdirSync(dir).sort()).toEqual(['beside.csv', 'lake.duckdb']);
      const second = await db.connect();
      expect((await second.runAndReadAll("SELECT current_setting('TimeZone') AS tz")).getRowObjectsJson()[0]?.tz).toBe('UTC');
    } finally {
      db.close();
    }
    const allowed = await openDb(path, { readOnly: true, allowRead: [dir] });
    try {
      expect(await allowed.scalar(`SELECT a::INTEGER FROM read_csv(${literal(join(dir, 'beside.csv'))})`)).toBe(1);
    } finally {
      allowed.close();
    }
  });

  it('still spills to its temp directory under a small memory_limit', async () => {
    const { path } = await lakehouse();
    const db = await openDb(path, { readOnly: true, memoryLimit: '24MB', threads: 1 });
    // This handle's own spill folder (other test files make theirs in the same tmpdir at the same time).
    const dir = await db.scalar<string>("SELECT current_setting('temp_directory')");
    expect(dir).toMatch(/surgctl-spill-/);
    let spilled = 0;
    const watch = setInterval(() => {
      spilled = Math.max(spilled, readdirSync(dir as string).length);
    }, 5);
    try {
      const n = await db.scalar<number>(
        "SELECT count(*)::INTEGER FROM (SELECT repeat('x', 20) || i::VARCHAR AS s FROM range(1500000) r(i) ORDER BY s DESC LIMIT 1499999)",
      );
      expect(n).toBe(1_499_999);
    } finally {
      clearInterval(watch);
      db.close();
    }
    expect(spilled).toBeGreaterThan(0);
  });
});

describe('interruptOn: the one Ctrl-C wiring', () => {
  const LONG = 'SELECT count(*)::BIGINT FROM range(1000000000000) a';

  it('interrupts the running statement when the signal aborts, and not after remove()', async () => {
    const db = await openDb(':memory:', { threads: 1 });
    try {
      const abort = new AbortController();
      const handle = db.interruptOn(abort.signal);
      setTimeout(() => abort.abort(), 150);
      const err = await db.scalar(LONG).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryError);
      expect((err as QueryError).message).toMatch(/interrupt/i);
      handle.remove();
      // After remove(), an abort (of another signal here, the first one is spent) reaches nothing: work after the
      // abort (a ledger row) runs to the end.
      const later = new AbortController();
      const gone = db.interruptOn(later.signal);
      gone.remove();
      later.abort();
      expect(await db.scalar('SELECT 42::INTEGER')).toBe(42);
    } finally {
      db.close();
    }
  });

  it('an already aborted signal interrupts at once; repeatMs keeps cutting the statements that follow', async () => {
    const db = await openDb(':memory:', { threads: 1 });
    try {
      const abort = new AbortController();
      abort.abort();
      const handle = db.interruptOn(abort.signal, 20);
      const first = await db.scalar(LONG).catch((e: unknown) => e);
      const second = await db.scalar(LONG).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(QueryError);
      expect(second).toBeInstanceOf(QueryError);
      handle.remove();
      expect(await db.scalar('SELECT 1::INTEGER')).toBe(1);
    } finally {
      db.close();
    }
  });
});

describe('copyToFile: write to a temporary name, then rename', () => {
  it('writes the whole file under its name and leaves no temporary file', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const db = await openDb(':memory:');
    try {
      const out = join(t.dir, 'rows.ndjson');
      await db.copyToFile('SELECT range AS n FROM range($n)', { n: 3 }, out, 'FORMAT json');
      expect(readFileSync(out, 'utf8')).toBe('{"n":0}\n{"n":1}\n{"n":2}\n');
      expect(readdirSync(t.dir)).toEqual(['rows.ndjson']);
    } finally {
      db.close();
    }
  });

  it('a query that fails half-way leaves neither the file nor its temporary name, and says QueryError', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const db = await openDb(':memory:');
    try {
      const out = join(t.dir, 'rows.csv');
      let temp = '';
      const err = await db.copyToFile("SELECT CASE WHEN range < 300000 THEN range ELSE error('boom') END AS n FROM range(400000)", undefined, out, 'FORMAT csv', () => {
        temp = 'reached';
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryError);
      expect((err as QueryError).message).toContain('boom');
      expect(temp).toBe('');
      expect(readdirSync(t.dir)).toEqual([]);
    } finally {
      db.close();
    }
  });
});

describe('attach and detach', () => {
  it('attaches another database file under an alias, read-only when asked, and detaches it', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const other = join(t.dir, "it's.duckdb");
    const w = await openDb(other);
    await w.run('CREATE TABLE t AS SELECT 7::INTEGER AS x');
    w.close();
    const db = await openDb(':memory:');
    try {
      await db.attach(other, 'lake', { readOnly: true });
      expect(await db.scalar('SELECT x FROM lake.t')).toBe(7);
      await expect(db.run('INSERT INTO lake.t VALUES (8)')).rejects.toBeInstanceOf(QueryError);
      await db.detach('lake');
      await db.detach('lake');
      await expect(db.scalar('SELECT x FROM lake.t')).rejects.toBeInstanceOf(QueryError);
      await expect(db.attach(other, 'not an identifier')).rejects.toThrow(/not a safe SQL identifier/);
    } finally {
      db.close();
    }
  });
});
