// Every writer against a lakehouse it must not or cannot write: one from a newer surgctl (refused, the file
// byte-identical afterwards, no runs row), a read-only file, and a path whose directory does not exist.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { migrate } from '../../../src/core/load/migrations.js';
import { openAlertStore, DEFAULT_VIEW } from '../../../src/core/tui-data/index.js';
import { DatabaseError } from '../../../src/errors.js';
import { runCliWith, scratchDirs } from '../../helpers/run-cli.js';
import { writeSmallDataset } from '../../helpers/small-dataset.js';
import { buildMartFixture } from '../tui-data/fixture.js';
import { lakeAt } from '../../helpers/lake.js';
import { nobodySkipReason } from '../../helpers/spawn-cli.js';

const tmp = scratchDirs();

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A migrated lakehouse whose schema_migrations says a version this surgctl does not know. */
async function newerLakehouse(dir: string): Promise<string> {
  const path = join(dir, 'newer.duckdb');
  const db = await openDb(path);
  try {
    await migrate(db);
    await db.run("INSERT INTO schema_migrations VALUES (999, 'from the future', now())");
    await db.run("INSERT INTO quarantine VALUES ('L1', 'x.csv', 2, 1, 'robots', '{}', '[]', 'type', now(), NULL)");
  } finally {
    db.close();
  }
  return path;
}

function expectRefused(r: { exitCode: number; stderr: string }): void {
  expect(r.exitCode, r.stderr).toBe(3);
  expect(r.stderr).toMatch(/^surgctl: database .* is at schema version 999, newer than this surgctl \(\d+\)/m);
  expect(r.stderr).toContain('hint: upgrade surgctl');
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('a lakehouse from a newer surgctl is never written', () => {
  const writers: [string, (db: string, dir: string) => string[], string?][] = [
    ['load', (db, dir) => ['load', writeSmallDataset(dir).robots, '--db', db]],
    ['load from stdin', (db) => ['load', '-', '--dataset', 'robots', '--format', 'csv', '--db', db], 'robot_id,serial,model,manufacturer,facility_id,installed_on,status\nRB-9,SN-9,da Vinci Xi,Intuitive Surgical,FAC-1,2023-02-01,active\n'],
    ['transform', (db) => ['transform', '--db', db]],
    ['transform --dry-run', (db) => ['transform', '--dry-run', '--db', db]],
    ['quarantine replay', (db) => ['quarantine', 'replay', 'L1', '--db', db]],
    ['pipeline', (db, dir) => ['pipeline', '--db', db, '--data-dir', join(dir, 'data'), '--scale', '0.001']],
  ];
  for (const [name, argv, stdin] of writers) {
    it(`${name}: refused, exit 3, the file byte-identical, nothing recorded`, async () => {
      const dir = tmp();
      const db = await newerLakehouse(dir);
      const before = sha(db);
      const r = await runCliWith({ cwd: dir, env: {}, ...(stdin === undefined ? {} : { stdin }) }, ...argv(db, dir));
      expectRefused(r);
      expect(sha(db)).toBe(before);
      expect(existsSync(`${db}.wal`)).toBe(false);
    }, 30_000);
  }

  it('tui acknowledge: refused with db_too_new, the file byte-identical', async () => {
    const dir = tmp();
    const path = join(dir, 'marts.duckdb');
    await buildMartFixture(path, { alerts: 20 });
    const db = await openDb(path);
    try {
      await db.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
      await db.run("INSERT INTO schema_migrations VALUES (999, 'from the future', now())");
    } finally {
      db.close();
    }
    const before = sha(path);
    const store = await openAlertStore({ user: 'tester' }, { lake: lakeAt(path) });
    try {
      const [row] = await store.page(DEFAULT_VIEW, { limit: 1 });
      const err = await store.acknowledge(row!, 'note').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as DatabaseError).code).toBe('db_too_new');
    } finally {
      store.close();
    }
    expect(sha(path)).toBe(before);
  }, 30_000);
});

describe('a lakehouse path that cannot be written', () => {
  it('a directory that does not exist: one line naming it, a hint, exit 2, nothing created', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir);
    const db = join(dir, 'no', 'such', 'lake.duckdb');
    const r = await runCliWith({ cwd: dir, env: {} }, 'load', files.robots, '--db', db);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toBe(`surgctl: the directory of the lakehouse ${db} does not exist: ${join(dir, 'no', 'such')}\nhint: create it first (mkdir -p ${join(dir, 'no', 'such')}) or pass --db with a path in an existing directory\n`);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('pipeline into a missing directory says the same', async () => {
    const dir = tmp();
    const r = await runCliWith({ cwd: dir, env: {} }, 'pipeline', '--db', join(dir, 'gone', 'lake.duckdb'), '--data-dir', join(dir, 'data'), '--scale', '0.001');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('does not exist');
  }, 30_000);

  // Root ignores permission bits, so as root the check runs in a child process as the unprivileged `nobody`.
  it('a read-only directory or file: one line, a hint, exit 3, the file unchanged', async (ctx) => {
    const skip = nobodySkipReason();
    if (skip !== undefined) return ctx.skip(skip);
    const dir = tmp();
    chmodSync(dir, 0o755);
    const files = writeSmallDataset(dir);
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const lake = join(ro, 'lake.duckdb');
    const db = await openDb(lake);
    try {
      await migrate(db);
    } finally {
      db.close();
    }
    const before = sha(lake);
    chmodSync(ro, 0o555);
    chmodSync(lake, 0o444);
    const { spawnSync } = await import('node:child_process');
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = (db: string): { status: number | null; stderr: string } =>
      spawnSync(process.execPath, [join(process.cwd(), 'bin/surgctl.js'), 'load', files.robots, '--db', db], { cwd: dir, encoding: 'utf8', ...asUser });
    const inRoDir = run(join(ro, 'new.duckdb'));
    expect(inRoDir.status, inRoDir.stderr).toBe(3);
    expect(inRoDir.stderr).toBe(`surgctl: cannot write the lakehouse ${join(ro, 'new.duckdb')}: its directory ${ro} is read-only\nhint: make it writable (DuckDB also writes a .wal file next to the database), or pass --db with a writable path; report, query and export only read\n`);
    const roFile = run(lake);
    expect(roFile.status, roFile.stderr).toBe(3);
    expect(roFile.stderr.split('\n')[0]).toMatch(/^surgctl: cannot write the lakehouse .*lake\.duckdb: (its directory .* is read-only|the file is read-only)$/);
    expect(sha(lake)).toBe(before);
    chmodSync(ro, 0o755);
    // A read-only file in a directory the user can write.
    chmodSync(dir, 0o777);
    const lake2 = join(dir, 'lake2.duckdb');
    copyFileSync(lake, lake2);
    chmodSync(lake2, 0o444);
    const roFile2 = run(lake2);
    expect(roFile2.status, roFile2.stderr).toBe(3);
    expect(roFile2.stderr.split('\n')[0]).toBe(`surgctl: cannot write the lakehouse ${lake2}: the file is read-only`);
  }, 30_000);
});
