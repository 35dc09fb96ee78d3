// surgctl publish against a real throwaway PostgreSQL server (test/helpers/pg.ts), on a lakehouse built by
// `surgctl pipeline`: every mart arrives with the lakehouse's row count and checksum and serving types; a second
// publish writes nothing; after a 1% load and an incremental transform only the touched partitions are replaced
// and the result equals a full publish; the password never appears in any output or in the run history. (A killed
// publish and a stopped server: test/e2e/publish-faults.test.ts.)
import { describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openDb } from '../../../src/db/db.js';
import { loadModels } from '../../../src/core/transform/models.js';
import { PublishError, resolvePublishTarget, runPublish } from '../../../src/core/publish/index.js';
import { InterruptedError } from '../../../src/errors.js';
import { runCliWith } from '../../helpers/run-cli.js';
import { PG_PASSWORD } from '../../helpers/pg.js';
import { usePublishSetup } from '../../helpers/publish.js';
import { holdLock, releaseLock } from '../../helpers/hold-lock.js';
import { duckTableSum, pgTableSum } from '../../helpers/pg-compare.js';
import { lakeAt } from '../../helpers/lake.js';

const setup = usePublishSetup('test/core/publish/publish.test.ts', ['--scale', '0.05']);
const { server, withPg, withLake, pub } = setup;
const MARTS = loadModels().models.filter((m) => m.materialized === 'table').map((m) => m.name);

/** Each mart's row count and checksum, in the lakehouse and in the schema. */
async function compareAll(schema: string, tables = MARTS): Promise<{ lake: Record<string, unknown>; target: Record<string, unknown> }> {
  return withLake((db) =>
    withPg(async (c) => {
      const lake: Record<string, unknown> = {};
      const target: Record<string, unknown> = {};
      for (const t of tables) {
        lake[t] = await duckTableSum(db, t);
        target[t] = await pgTableSum(db, c, schema, t);
      }
      return { lake, target };
    }),
  );
}

/** relfilenode changes whenever a table is rewritten or replaced; with the ledger's size it shows "nothing changed". */
async function targetState(schema: string): Promise<Record<string, unknown>> {
  return withPg(async (c) => {
    const files = await c.query(
      `SELECT c.relname, c.relfilenode, c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
      [schema],
    );
    const ledger = await c.query(`SELECT count(*)::int AS n FROM "${schema}".published`);
    const tuples = await c.query(
      `SELECT relname, n_tup_ins::int AS ins, n_tup_del::int AS del FROM pg_stat_user_tables WHERE schemaname = $1 ORDER BY 1`,
      [schema],
    );
    return { files: files.rows, ledger: ledger.rows[0], tuples: tuples.rows };
  });
}

describe('surgctl publish', () => {
  it('publishes every mart with equal row counts and checksums; a second publish changes nothing', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const first = await pub();
    expect(first.stderr).not.toContain(PG_PASSWORD);
    expect(first.stdout).not.toContain(PG_PASSWORD);
    expect(first.exitCode).toBe(0);
    const result = JSON.parse(first.stdout) as { changed: boolean; target: string; tables: { table: string; mode: string; rows_total: number }[] };
    expect(result.changed).toBe(true);
    expect(result.target).toContain(':***@127.0.0.1');
    expect(result.tables.map((t) => t.table).sort()).toEqual([...MARTS].sort());
    expect(result.tables.every((t) => t.mode === 'full')).toBe(true);
    const { lake, target } = await compareAll('surgctl');
    expect(target).toEqual(lake);
    expect((lake.telemetry_risk as { rows: number }).rows).toBeGreaterThan(1000);

    const before = await targetState('surgctl');
    await new Promise((r) => setTimeout(r, 600)); // pg_stat counters are flushed about every second
    const second = await pub();
    expect(second.exitCode).toBe(0);
    const again = JSON.parse(second.stdout) as { changed: boolean; tables: { mode: string; rows_written: number }[] };
    expect(again.changed).toBe(false);
    expect(again.tables.every((t) => t.mode === 'unchanged' && t.rows_written === 0)).toBe(true);
    expect(second.stderr).toMatch(/nothing to publish/);
    await new Promise((r) => setTimeout(r, 600));
    expect(await targetState('surgctl')).toEqual(before);

    // The lakehouse ledger and the target's mirror agree; the run history holds the redacted URL only.
    await withLake(async (db) => {
      const rows = await db.all<{ table_name: string; target: string }>("SELECT table_name, target FROM published ORDER BY table_name");
      expect(rows.map((r) => r.table_name)).toEqual([...MARTS].sort());
      expect(rows.every((r) => r.target.includes(':***@') && !r.target.includes(PG_PASSWORD))).toBe(true);
      const runs = await db.all<{ args: string; counts: string | null; error: string | null }>("SELECT args, counts, error FROM runs WHERE command = 'publish'");
      expect(runs).toHaveLength(2);
      expect(JSON.stringify(runs)).not.toContain(PG_PASSWORD);
    });
    const mirror = await withPg((c) => c.query<{ table_name: string }>('SELECT table_name FROM surgctl.published ORDER BY table_name'));
    expect(mirror.rows.map((r) => r.table_name)).toEqual([...MARTS].sort());
  });

  it('maps types for serving: timestamptz, arrays, booleans, numerics, and primary keys from the grain', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect((await pub()).exitCode).toBe(0);
    const types = await withPg(async (c) =>
      Object.fromEntries(
        (
          await c.query<{ k: string; t: string }>(
            `SELECT table_name || '.' || column_name AS k, data_type AS t FROM information_schema.columns WHERE table_schema = 'surgctl'`,
          )
        ).rows.map((r) => [r.k, r.t]),
      ),
    );
    expect(types).toMatchObject({
      'telemetry_risk.recorded_at': 'timestamp with time zone',
      'telemetry_risk.force_spike': 'boolean',
      'telemetry_risk.force_n': 'double precision',
      'telemetry_risk.risk_score': 'integer',
      'alerts.triggers': 'ARRAY',
      'news2_hourly.missing': 'ARRAY',
      'vitals_hourly.n': 'bigint',
    });
    const keys = await withPg(async (c) =>
      Object.fromEntries(
        (
          await c.query<{ t: string; cols: string }>(
            `SELECT tc.table_name AS t, string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS cols
             FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu
               ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
             WHERE tc.table_schema = 'surgctl' AND tc.constraint_type = 'PRIMARY KEY' GROUP BY tc.table_name`,
          )
        ).rows.map((r) => [r.t, r.cols]),
      ),
    );
    expect(keys).toMatchObject({ telemetry_risk: 'event_id', alerts: 'alert_id', vitals_hourly: 'patient_id,metric,hour_start', news2_hourly: 'patient_id,hour_start', patient_risk: 'patient_id' });
    const arr = await withPg((c) => c.query<{ triggers: string[] }>('SELECT triggers FROM surgctl.alerts WHERE cardinality(triggers) > 0 LIMIT 1'));
    expect(Array.isArray(arr.rows[0]?.triggers)).toBe(true);
  });

  it('after a 1% load and an incremental transform, replaces only the touched partitions and equals a full publish', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect((await pub()).exitCode).toBe(0);
    // About 1% more rows: a quarter of one procedure's telemetry and of one patient's vitals again, later, new ids.
    const writable = await openDb(setup.dbPath);
    await Promise.resolve(writable).then(async (db) => {
      await db.run(`COPY (SELECT 'X' || event_id AS event_id, procedure_id, patient_id, robot_id, robot_arm, instrument, step,
          force_n, velocity_mm_s, latency_ms, coalesce(error_code, '') AS error_code,
          strftime(recorded_at + INTERVAL 1 MINUTE, '%Y-%m-%dT%H:%M:%S.%gZ') AS recorded_at
        FROM raw_telemetry WHERE procedure_id = (SELECT min(procedure_id) FROM raw_telemetry) AND hash(event_id) % 4 = 0) TO '${join(setup.dir, 'telemetry-delta.csv')}' (HEADER)`);
      await db.run(`COPY (SELECT * EXCLUDE (_load_id, _source_file, _source_line)
          REPLACE ('X' || reading_id AS reading_id, strftime(measured_at + INTERVAL 7 HOUR, '%Y-%m-%dT%H:%M:%S.%gZ') AS measured_at)
        FROM raw_vitals WHERE patient_id = (SELECT max(patient_id) FROM raw_vitals) AND hash(reading_id) % 4 = 0) TO '${join(setup.dir, 'vitals-delta.csv')}' (HEADER)`);
    }).finally(() => writable.close());
    const load = await runCliWith({ cwd: setup.dir, env: {} }, 'load', join(setup.dir, 'telemetry-delta.csv'), '--dataset', 'telemetry', '--db', setup.dbPath, '--format', 'json');
    expect(load.exitCode, load.stderr).toBe(0);
    const loadV = await runCliWith({ cwd: setup.dir, env: {} }, 'load', join(setup.dir, 'vitals-delta.csv'), '--dataset', 'vitals', '--db', setup.dbPath, '--format', 'json');
    expect(loadV.exitCode, loadV.stderr).toBe(0);
    const tr = await runCliWith({ cwd: setup.dir, env: {} }, 'transform', '--db', setup.dbPath, '--format', 'json');
    expect(tr.exitCode, tr.stderr).toBe(0);
    expect(JSON.parse(tr.stdout).mode).toBe('incremental');

    const inc = await pub();
    expect(inc.exitCode, inc.stderr).toBe(0);
    const tables = (JSON.parse(inc.stdout) as { tables: { table: string; mode: string; rows_written: number; rows_total: number }[] }).tables;
    const byName = Object.fromEntries(tables.map((t) => [t.table, t]));
    expect(byName.telemetry_risk?.mode).toBe('incremental');
    expect(byName.vitals_hourly?.mode).toBe('incremental');
    expect(byName.news2_hourly?.mode).toBe('incremental');
    expect(byName.robot_kpis?.mode).toBe('full');
    // Only the touched procedures' events were sent, not the whole mart.
    expect(byName.telemetry_risk!.rows_written).toBeLessThan(byName.telemetry_risk!.rows_total);
    expect(byName.telemetry_risk!.rows_written).toBeGreaterThan(0);

    const full = await pub('--schema', 'full_copy', '--full');
    expect(full.exitCode, full.stderr).toBe(0);
    const incremental = await compareAll('surgctl');
    const rebuilt = await compareAll('full_copy');
    expect(incremental.target).toEqual(rebuilt.target);
    expect(incremental.target).toEqual(incremental.lake);
  });

  it('the chunk transport (where mkfifo is missing) writes the same tables as the FIFO one', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const target = resolvePublishTarget({ to: server.cluster.url, schema: 'chunked', env: {} });
    const r = await runPublish({ target, transport: 'chunks', batchRows: 3000 }, { lake: lakeAt(setup.dbPath) });
    expect(r.tables.every((t) => t.mode === 'full')).toBe(true);
    const { lake, target: published } = await compareAll('chunked');
    expect(published).toEqual(lake);
  });

  it('--raw adds the raw tables (a second publish leaves them); publish.url and publish.schema come from the config file, which config show never prints', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const config = join(setup.dir, 'surgctl.config.json');
    writeFileSync(config, JSON.stringify({ publish: { url: server.cluster.url, schema: 'from_config' } }));
    try {
      const r = await runCliWith({ cwd: setup.dir, env: {} }, 'publish', '--raw', '--db', setup.dbPath, '--format', 'json');
      expect(r.exitCode, r.stderr).toBe(0);
      const tables = (JSON.parse(r.stdout) as { schema: string; tables: { table: string; mode: string }[] });
      expect(tables.schema).toBe('from_config');
      expect(tables.tables.filter((t) => t.table.startsWith('raw_')).map((t) => t.table).sort()).toEqual(
        ['raw_maintenance', 'raw_outcomes', 'raw_patients', 'raw_procedures', 'raw_robots', 'raw_telemetry', 'raw_vitals'],
      );
      const raw = ['raw_telemetry', 'raw_vitals', 'raw_patients'];
      const { lake, target } = await compareAll('from_config', raw);
      expect(target).toEqual(lake);
      const again = await runCliWith({ cwd: setup.dir, env: {} }, 'publish', '--raw', '--db', setup.dbPath, '--format', 'json');
      expect(again.exitCode, again.stderr).toBe(0);
      expect((JSON.parse(again.stdout) as { changed: boolean }).changed).toBe(false);
      const show = await runCliWith({ cwd: setup.dir, env: {} }, 'config', 'show', '--format', 'json');
      expect(show.exitCode).toBe(0);
      expect(show.stdout).not.toContain(PG_PASSWORD);
    } finally {
      rmSync(config);
    }
  });

  it('Ctrl-C mid-publish: InterruptedError (exit 130), the target unchanged, the run recorded interrupted', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect((await pub()).exitCode).toBe(0);
    const tr = await runCliWith({ cwd: setup.dir, env: {} }, 'transform', '--db', setup.dbPath, '--full-refresh', '--format', 'json');
    expect(tr.exitCode, tr.stderr).toBe(0);
    const before = await targetState('surgctl');
    const abort = new AbortController();
    let n = 0;
    // A reader mid-publish (the first table already staged) sees the previous version, whole.
    const reader = new pg.Client({ connectionString: server.cluster.url });
    await reader.connect();
    let midway: Promise<unknown> | undefined;
    const read = async (): Promise<unknown> =>
      (await reader.query('SELECT (SELECT count(*)::int FROM surgctl.published) AS ledger, (SELECT count(*)::int FROM surgctl.telemetry_risk) AS events')).rows[0];
    const atStart = await read();
    const err = await runPublish({
      target: resolvePublishTarget({ to: server.cluster.url, env: {} }),
    }, {
      lake: lakeAt(setup.dbPath),
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'table-start' && ++n === 2) {
          midway = read();
          abort.abort();
        }
      },
    }).catch((e: unknown) => e);
    expect(await midway).toEqual(atStart);
    await reader.end();
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(130);
    expect((err as InterruptedError).message).toMatch(/the target was not changed/);
    await new Promise((r) => setTimeout(r, 600));
    expect(await targetState('surgctl')).toEqual(before);
    await withLake(async (db) => {
      const last = await db.all<{ status: string }>("SELECT status FROM runs WHERE command = 'publish' ORDER BY started_at DESC LIMIT 1");
      expect(last[0]?.status).toBe('interrupted');
    });
  });

  it("a lakehouse locked after the target's COMMIT: publish_ledger (exit 3) says the target is published; the next publish records the entry", async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const tr = await runCliWith({ cwd: setup.dir, env: {} }, 'transform', '--db', setup.dbPath, '--full-refresh', '--format', 'json');
    expect(tr.exitCode, tr.stderr).toBe(0);
    const runId = (JSON.parse(tr.stdout) as { run_id: string }).run_id;
    let holder: ChildProcess | undefined;
    const err = await runPublish({
      target: resolvePublishTarget({ to: server.cluster.url, env: {} }),
      tables: ['patient_risk', 'alerts'],
      beforeLedger: async () => {
        holder = await holdLock(setup.dbPath);
      },
    }, { lake: lakeAt(setup.dbPath, { lockTimeoutMs: 300 }) })
      .catch((e: unknown) => e)
      .finally(async () => {
        if (holder) await releaseLock(holder);
      });
    expect(err).toBeInstanceOf(PublishError);
    const e = err as PublishError;
    expect([e.code, e.exitCode]).toEqual(['publish_ledger', 3]);
    expect(e.message).toMatch(new RegExp(`^published to postgresql://surgctl:\\*\\*\\*@.* schema surgctl \\(transform run ${runId}, committed\\), but the lakehouse's published ledger could not be written: `));
    expect(e.message).not.toContain(PG_PASSWORD);
    expect(e.hint).toMatch(/the target is complete and its ledger surgctl\.published \(the mirror\) records this publish; only the lakehouse's entry is missing. Run surgctl publish again/);
    // The target holds the new version; the lakehouse's ledger lacks it.
    const mirrorRows = async (): Promise<string[]> =>
      (await withPg((c) => c.query<{ t: string }>('SELECT table_name AS t FROM surgctl.published WHERE transform_run_id = $1 ORDER BY 1', [runId]))).rows.map((r) => r.t);
    const lakeRows = async (): Promise<string[]> =>
      withLake(async (db) => (await db.all<{ t: string }>('SELECT table_name AS t FROM published WHERE transform_run_id = $run ORDER BY 1', { run: runId })).map((r) => r.t));
    expect(await mirrorRows()).toEqual(['alerts', 'patient_risk']);
    expect(await lakeRows()).toEqual([]);
    const { lake, target } = await compareAll('surgctl', ['alerts', 'patient_risk']);
    expect(target).toEqual(lake);
    // Publishing again copies nothing and writes the missing ledger entry from the mirror.
    const again = await pub('patient_risk', 'alerts');
    expect(again.exitCode, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { changed: boolean }).changed).toBe(false);
    expect(await lakeRows()).toEqual(['alerts', 'patient_risk']);
    const ledgers = await withLake((db) => db.all<{ id: string }>('SELECT DISTINCT publish_id AS id FROM published WHERE transform_run_id = $run', { run: runId }));
    const mirrorIds = await withPg((c) => c.query<{ id: string }>('SELECT DISTINCT publish_id AS id FROM surgctl.published WHERE transform_run_id = $1', [runId]));
    expect(ledgers.map((r) => r.id)).toEqual(mirrorIds.rows.map((r) => r.id));
  });

  it('refuses clearly: no target, a bad URL, a server that is not there (password never printed)', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    const none = await runCliWith({ cwd: setup.dir, env: {} }, 'publish', '--db', setup.dbPath);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/^surgctl: publish needs a PostgreSQL server/m);
    expect(none.stderr).toMatch(/hint: .*DATABASE_URL/);
    const bad = await runCliWith({ cwd: setup.dir, env: {} }, 'publish', '--db', setup.dbPath, '--to', `mysql://u:${PG_PASSWORD}@h/db`);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).not.toContain(PG_PASSWORD);
    const down = await runCliWith({ cwd: setup.dir, env: { DATABASE_URL: `postgresql://surgctl:${PG_PASSWORD}@127.0.0.1:1/postgres` } }, 'publish', '--db', setup.dbPath);
    expect(down.exitCode).toBe(3);
    expect(down.stderr).toMatch(/^surgctl: cannot connect to postgresql:\/\/surgctl:\*\*\*@127\.0\.0\.1:1\/postgres/m);
    expect(down.stderr).not.toContain(PG_PASSWORD);
    const debug = await runCliWith({ cwd: setup.dir, env: { DATABASE_URL: `postgresql://surgctl:${PG_PASSWORD}@127.0.0.1:1/postgres` } }, '--debug', 'publish', '--db', setup.dbPath);
    expect(debug.exitCode).toBe(3);
    expect(debug.stderr).toMatch(/\n\s+at /); // the stack trace is there, the password is not
    expect(debug.stderr).not.toContain(PG_PASSWORD);
    const wrongPassword = await runCliWith({ cwd: setup.dir, env: {} }, 'publish', '--db', setup.dbPath, '--to', server.cluster.url.replace(encodeURIComponent(PG_PASSWORD), 'not-it'));
    expect(wrongPassword.exitCode).toBe(3);
    expect(wrongPassword.stderr).toMatch(/^surgctl: cannot connect to postgresql:\/\/surgctl:\*\*\*@.*password authentication failed/m);
    const unknown = await pub('no_such_mart');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no_such_mart.* is not a mart or raw table/);
    // A last transform run that did not succeed: its marts may be half-built, so nothing is published.
    const lakeDb = await openDb(setup.dbPath);
    try {
      await lakeDb.run("INSERT INTO transform_runs (run_id, mode, started_at, status) VALUES ('R-failed', 'full', now() + INTERVAL 1 DAY, 'failed')");
    } finally {
      lakeDb.close();
    }
    const notReady = await pub();
    expect(notReady.exitCode).toBe(2);
    expect(JSON.parse(notReady.stderr)).toMatchObject({ error: 'publish_not_ready', hint: expect.stringMatching(/surgctl transform/) });
    const cleanDb = await openDb(setup.dbPath);
    try {
      await cleanDb.run("DELETE FROM transform_runs WHERE run_id = 'R-failed'");
    } finally {
      cleanDb.close();
    }
  });
});
