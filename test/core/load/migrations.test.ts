import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { DatabaseError } from '../../../src/errors.js';
import { checkRawTableMatches, latestVersion, listMigrations, migrate, schemaVersion } from '../../../src/core/load/migrations.js';
import { resolveDbPath } from '../../../src/core/db-path.js';
import { scratchDirs } from '../../helpers/run-cli.js';
import { writeFileSync } from 'node:fs';

const tmp = scratchDirs();

describe('migrations', () => {
  it('creates the ledger, quarantine and every raw table once, and is idempotent', async () => {
    const path = join(tmp(), 'lake.duckdb');
    const db = await openDb(path);
    try {
      expect(await migrate(db)).toEqual(listMigrations().map((m) => m.version));
      expect(await migrate(db)).toEqual([]);
      expect(await schemaVersion(db)).toBe(latestVersion());
      const tables = (await db.all<{ t: string }>('SELECT table_name AS t FROM information_schema.tables ORDER BY 1')).map((r) => r.t);
      expect(tables).toEqual(expect.arrayContaining(['loads', 'quarantine', 'schema_migrations', 'raw_telemetry', 'raw_vitals', 'raw_robots']));
    } finally {
      db.close();
    }
  });

  it('refuses a database newer than this CLI and leaves it untouched', async () => {
    const path = join(tmp(), 'newer.duckdb');
    let db = await openDb(path);
    await migrate(db);
    await db.run("INSERT INTO schema_migrations VALUES (999, 'from the future', now())");
    db.close();
    const before = statSync(path).mtimeMs;
    db = await openDb(path);
    try {
      const err = await migrate(db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as DatabaseError).code).toBe('db_too_new');
      expect((err as DatabaseError).message).toContain('999');
      expect(await db.scalar('SELECT count(*)::INTEGER FROM schema_migrations')).toBe(listMigrations().length + 1);
    } finally {
      db.close();
    }
    expect(statSync(path).mtimeMs).toBeGreaterThanOrEqual(before);
  });

  it('names the column and the migration to write when a schema gained a column', async () => {
    const db = await openDb(':memory:');
    try {
      await migrate(db);
      await db.run('ALTER TABLE raw_robots DROP COLUMN status');
      const err = await checkRawTableMatches(db, 'robots').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as DatabaseError).message).toContain('status');
      expect((err as DatabaseError).hint).toContain('ALTER TABLE raw_robots ADD COLUMN status');
    } finally {
      db.close();
    }
  });
});

describe('resolveDbPath', () => {
  it('prefers the flag, then SURGCTL_DB, then the config file, then ./surgctl.duckdb', () => {
    const dir = tmp();
    expect(resolveDbPath('x.duckdb', { SURGCTL_DB: 'y.duckdb' }, dir)).toEqual({ path: join(dir, 'x.duckdb'), from: 'flag' });
    expect(resolveDbPath(undefined, { SURGCTL_DB: 'y.duckdb' }, dir)).toEqual({ path: join(dir, 'y.duckdb'), from: 'env' });
    expect(resolveDbPath(undefined, {}, dir)).toEqual({ path: join(dir, 'surgctl.duckdb'), from: 'default' });
    writeFileSync(join(dir, 'surgctl.config.json'), JSON.stringify({ db: 'lake/z.duckdb' }));
    expect(resolveDbPath(undefined, {}, dir)).toEqual({ path: join(dir, 'lake/z.duckdb'), from: 'config' });
  });
});
