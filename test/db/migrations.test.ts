// The lakehouse schema as frozen, numbered migration files: released files never change (their sha256 is pinned
// here), a fresh lakehouse gets them all in order, and a lakehouse made by the previous release (0.1.0, rebuilt from
// fixtures/lakehouse-0.1.0) migrates to the latest and then loads and transforms with its old rows kept.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDb, type Db } from '../../src/db/db.js';
import { latestVersion, listMigrations, migrate, migrationsDir, schemaVersion } from '../../src/db/migrate.js';
import { runCli, scratchDirs } from '../helpers/run-cli.js';
import { writeSmallDataset } from '../helpers/small-dataset.js';

const tmp = scratchDirs();

/**
 * Every migration file and its sha256. A released file must never change: fix a mistake with a new file. Adding a
 * migration means adding its line here (deliberately, in the same commit).
 */
const PINNED: Record<string, string> = {
  '001-ledger.sql': 'ac64113586dbf51fcea785dd979f14d0db29b12c8112ea4d3a59258c021dae98',
  '002-writer-pid.sql': '08b765a6f3f0cfd9314ff1dd8bb0ce53b66eeea0a1278b57776bc3d3f3f2c82e',
  '003-transform-meta-and-acks.sql': '3dcaf0761d40663ade41d909a11984a1d3561aeb72e9d61a34d5e2b11c434db7',
  '004-import-lineage.sql': '745e5d06488243a9fecd11955aca6217939e970403bd086fa6ecf205972ab995',
  '005-telemetry-kinematics.sql': 'bf0c32b5e7930b50bef3c7edc9e8420b850ac1f9192b145d786e6edb88e3034a',
  '006-published.sql': '8b6b8a402cca3cd815ae1437640cb42d163653c1eb4449e0b7ee875af98865ef',
  '007-alert-ack-history.sql': '9621f621646eabfd9d6a7d389e66ebb49518ec30b92f41ca523d0d700425addd',
};

const FIXTURE = resolve(import.meta.dirname, '../../fixtures/lakehouse-0.1.0');
/** Where the fixture lakehouse was built (its loads rows name files there). */
const MADE_IN = '/tmp/lakefx';

/** Rebuilds the 0.1.0 lakehouse from its EXPORT DATABASE copy into `path`, with its file paths moved under `dir`. */
async function previousRelease(path: string, dir: string): Promise<void> {
  const db = await openDb(path);
  try {
    await db.run(readFileSync(join(FIXTURE, 'schema.sql'), 'utf8'));
    const load = readFileSync(join(FIXTURE, 'load.sql'), 'utf8').replaceAll("'export/", `'${FIXTURE}/`);
    await db.run(load);
    // A user who moves a lakehouse moves its quarantine folder with it.
    await db.run('UPDATE loads SET path = replace(path, $from, $to), quarantine_file = replace(quarantine_file, $from, $to)', { from: MADE_IN, to: dir });
  } finally {
    db.close();
  }
}

async function columns(db: Db): Promise<string[]> {
  const rows = await db.all<{ c: string }>(
    `SELECT table_name || '.' || column_name || ' ' || data_type AS c FROM information_schema.columns
     WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name, ordinal_position`,
  );
  return rows.map((r) => r.c);
}

describe('migration files', () => {
  it('are numbered NNN-name.sql, one per number, and every released one is byte for byte as pinned', () => {
    const files = readdirSync(migrationsDir()).filter((f) => f.endsWith('.sql')).sort();
    const actual = Object.fromEntries(files.map((f) => [f, createHash('sha256').update(readFileSync(join(migrationsDir(), f))).digest('hex')]));
    expect(actual).toEqual(PINNED);
    // Numbers are reserved per engineer, so a branch may hold 005 before 004 lands: versions follow the file names.
    expect(listMigrations().map((m) => m.version)).toEqual(files.map((f) => Number(f.slice(0, 3))));
    expect(listMigrations()[0]?.name).toBe('ledger, quarantine, run history and raw tables');
  });

  it('give a fresh lakehouse every table, once, in order', async () => {
    const db = await openDb(join(tmp(), 'fresh.duckdb'));
    try {
      expect(await migrate(db)).toEqual(listMigrations().map((m) => m.version));
      expect(await migrate(db)).toEqual([]);
      expect(await schemaVersion(db)).toBe(latestVersion());
      const tables = (await db.all<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main'")).map((r) => r.t);
      expect(tables).toEqual(expect.arrayContaining(['loads', 'quarantine', 'runs', 'transform_runs', 'model_runs', 'model_tests', 'transform_state', 'rules_in_force', 'alert_acks', 'raw_telemetry']));
    } finally {
      db.close();
    }
  });
});

describe('a lakehouse made by 0.1.0', () => {
  it('migrates to the latest schema, keeps its rows, then loads and transforms', async () => {
    const dir = tmp();
    const path = join(dir, 'old.duckdb');
    await previousRelease(path, dir);
    let db = await openDb(path);
    let before: { loads: number; acks: number; telemetry: number; model_runs: number };
    try {
      expect(await schemaVersion(db)).toBe(2);
      before = (await db.all<typeof before>(`SELECT (SELECT count(*) FROM loads)::INTEGER AS loads, (SELECT count(*) FROM alert_acks)::INTEGER AS acks,
        (SELECT count(*) FROM raw_telemetry)::INTEGER AS telemetry, (SELECT count(*) FROM model_runs)::INTEGER AS model_runs`))[0]!;
      expect(before.acks).toBe(1);
      expect(before.telemetry).toBeGreaterThan(1000);
    } finally {
      db.close();
    }

    const data = join(dir, 'new');
    mkdirSync(data);
    writeSmallDataset(data, 30);
    const load = await runCli('load', data, '--db', path, '--format', 'json');
    expect(load.exitCode, load.stderr).toBe(0);
    const transform = await runCli('transform', '--db', path, '--format', 'json');
    expect(transform.exitCode, transform.stderr).toBe(0);

    db = await openDb(path, { readOnly: true });
    try {
      expect(await schemaVersion(db)).toBe(latestVersion());
      const after = (await db.all<typeof before>(`SELECT (SELECT count(*) FROM loads)::INTEGER AS loads, (SELECT count(*) FROM alert_acks)::INTEGER AS acks,
        (SELECT count(*) FROM raw_telemetry)::INTEGER AS telemetry, (SELECT count(*) FROM model_runs)::INTEGER AS model_runs`))[0]!;
      expect(after.loads).toBe(before.loads + 4);
      expect(after.acks).toBe(1);
      expect(after.telemetry).toBe(before.telemetry + 30);
      expect(after.model_runs).toBeGreaterThan(before.model_runs);
      expect(await db.scalar("SELECT acked_by FROM alert_acks WHERE alert_id = 'A-0.1.0-example'")).toBe('nurse.a');
      expect(await db.scalar("SELECT count(*)::INTEGER FROM telemetry_risk WHERE event_id = 'EV-000029'")).toBe(1);
      const migrated = await columns(db);
      db.close();
      // Same tables and columns as a lakehouse that started on the latest schema and ran the same commands.
      const fresh = join(dir, 'fresh.duckdb');
      expect((await runCli('load', data, '--db', fresh, '--format', 'json')).exitCode).toBe(0);
      expect((await runCli('transform', '--db', fresh, '--format', 'json')).exitCode).toBe(0);
      db = await openDb(fresh, { readOnly: true });
      expect(migrated).toEqual(await columns(db));
    } finally {
      db.close();
    }
  }, 90_000);
});
