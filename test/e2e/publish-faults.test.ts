// Readers never see a half-published mart: a publish killed with SIGKILL in the middle of a COPY (the built bin, a
// real process) and a server stopped in the middle of a publish both leave the previous version of every table and
// the target's ledger exactly as they were, and no staging table behind; the next publish completes. To be sure
// the kill lands inside a COPY, an event trigger (the test user is the cluster's superuser) slows every row of the
// staging table the COPY fills, and the test waits until pg_stat_progress_copy shows rows copied.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PublishError, resolvePublishTarget, runPublish } from '../../src/core/publish/index.js';
import { runCliWith } from '../helpers/run-cli.js';
import { PG_PASSWORD } from '../helpers/pg.js';
import { usePublishSetup } from '../helpers/publish.js';
import { duckTableSum, pgTableSum } from '../helpers/pg-compare.js';
import { lakeAt } from '../helpers/lake.js';

const BIN = resolve('bin/surgctl.js');
const setup = usePublishSetup('test/e2e/publish-faults.test.ts', ['--scale', '0.03']);
const { server, withPg, withLake, pub } = setup;

/** Which file each table lives in, the ledger, and the checksums of two marts: all must survive a failed publish. */
async function snapshot(): Promise<unknown> {
  return withLake((db) =>
    withPg(async (c) => ({
      files: (
        await c.query(
          `SELECT c.relname, c.relfilenode FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'surgctl' AND c.relkind IN ('r', 'i') ORDER BY 1`,
        )
      ).rows,
      ledger: (await c.query('SELECT publish_id, table_name, source_version FROM surgctl.published ORDER BY 1, 2')).rows,
      telemetry_risk: await pgTableSum(db, c, 'surgctl', 'telemetry_risk'),
      alerts: await pgTableSum(db, c, 'surgctl', 'alerts'),
      stages: (await c.query("SELECT relname FROM pg_class WHERE relname LIKE '\\_stage\\_%'")).rows,
    })),
  );
}

/** A new transform run, so the next publish has something to write. */
async function newVersion(): Promise<void> {
  const tr = await runCliWith({ cwd: setup.dir, env: {} }, 'transform', '--db', setup.dbPath, '--full-refresh', '--format', 'json');
  expect(tr.exitCode, tr.stderr).toBe(0);
}

describe('publish under faults', () => {
  it('SIGKILL in the middle of a COPY leaves the previous version and no staging table', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect((await pub()).exitCode).toBe(0);
    await newVersion();
    const before = await snapshot();
    await withPg((c) =>
      c.query(`
        CREATE FUNCTION public.slow_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$;
        CREATE FUNCTION public.slow_stage() RETURNS event_trigger LANGUAGE plpgsql AS $$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT object_identity FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_identity LIKE '%._stage_telemetry_risk' LOOP
            EXECUTE format('CREATE TRIGGER slow BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION public.slow_row()', r.object_identity);
          END LOOP;
        END $$;
        CREATE EVENT TRIGGER slow_stage ON ddl_command_end EXECUTE FUNCTION public.slow_stage();`),
    );
    try {
      const child = spawn(process.execPath, [BIN, 'publish', '--db', setup.dbPath, '--format', 'json'], { cwd: setup.dir, env: { ...process.env, DATABASE_URL: server.cluster.url } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', (code, signal) => r(signal === 'SIGKILL' ? -9 : code)));
      // Wait for rows to be flowing into the staging table, then kill.
      const copied = await withPg(async (c) => {
        for (let i = 0; i < 600; i++) {
          const row = (
            await c.query<{ n: string }>(
              `SELECT p.tuples_processed::text AS n FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid
               WHERE a.application_name = 'surgctl publish' AND a.query LIKE 'COPY "surgctl"."\_stage\_telemetry\_risk"%'`,
            )
          ).rows[0];
          if (row && Number(row.n) > 100) return Number(row.n);
          await new Promise((r) => setTimeout(r, 50));
        }
        return 0;
      });
      child.kill('SIGKILL');
      expect(await exited).toBe(-9);
      expect(copied, stderr).toBeGreaterThan(100);
      // The server notices the closed connection and rolls the transaction back.
      await withPg(async (c) => {
        for (let i = 0; i < 200; i++) {
          const n = (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'surgctl publish'")).rows[0]?.n;
          if (n === 0) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      });
    } finally {
      await withPg((c) => c.query('DROP EVENT TRIGGER IF EXISTS slow_stage; DROP FUNCTION IF EXISTS public.slow_stage(); DROP FUNCTION IF EXISTS public.slow_row() CASCADE'));
    }
    expect(await snapshot()).toEqual(before);
    const retry = await pub();
    expect(retry.exitCode, retry.stderr).toBe(0);
    await withLake(async (db) => {
      // The killed run is marked interrupted by the next writer; the target now equals the lakehouse.
      const runs = await db.all<{ status: string }>("SELECT status FROM runs WHERE command = 'publish' ORDER BY started_at");
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'interrupted', 'succeeded']);
      await withPg(async (c) => expect(await pgTableSum(db, c, 'surgctl', 'telemetry_risk')).toEqual(await duckTableSum(db, 'telemetry_risk')));
    });
  });

  it('a server stopped mid-publish: exit-3 error naming no password; the previous version intact', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect((await pub()).exitCode).toBe(0);
    await newVersion();
    const before = await snapshot();
    let started = 0;
    const err = await runPublish({
      target: resolvePublishTarget({ to: server.cluster.url, env: {} }),
      batchRows: 2048,
    }, {
      lake: lakeAt(setup.dbPath),
      onEvent: (e) => {
        // Stop the server as the third table starts (two staged tables exist only inside the transaction).
        if (e.type === 'table-start' && ++started === 3) server.cluster.stop();
      },
    }).catch((e: unknown) => e);
    server.cluster.start();
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).exitCode).toBe(3);
    expect((err as PublishError).message).toMatch(/^publish to postgresql:\/\/surgctl:\*\*\*@127\.0\.0\.1:\d+\/postgres failed: .*the target was not changed$/);
    expect((err as PublishError).message).not.toContain(PG_PASSWORD);
    expect(await snapshot()).toEqual(before);
    const retry = await pub();
    expect(retry.exitCode, retry.stderr).toBe(0);
  });
  it('a report in another process succeeds while a publish is in its COPY (publish holds no write lock then)', async (ctx) => {
    if (server.skipReason) return ctx.skip(server.skipReason);
    expect((await pub()).exitCode).toBe(0);
    await newVersion();
    await withPg((c) =>
      c.query(`
        CREATE FUNCTION public.slow_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$;
        CREATE FUNCTION public.slow_stage() RETURNS event_trigger LANGUAGE plpgsql AS $$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT object_identity FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_identity LIKE '%._stage_telemetry_risk' LOOP
            EXECUTE format('CREATE TRIGGER slow BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION public.slow_row()', r.object_identity);
          END LOOP;
        END $$;
        CREATE EVENT TRIGGER slow_stage ON ddl_command_end EXECUTE FUNCTION public.slow_stage();`),
    );
    try {
      const child = spawn(process.execPath, [BIN, 'publish', '--db', setup.dbPath, '--format', 'json'], { cwd: setup.dir, env: { ...process.env, DATABASE_URL: server.cluster.url } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let exitCode: number | null | undefined;
      const exited = new Promise<number | null>((r) => child.on('close', (code, signal) => r((exitCode = signal === 'SIGKILL' ? -9 : code))));
      const copying = async (): Promise<number> =>
        withPg(async (c) => {
          const row = (
            await c.query<{ n: string }>(
              `SELECT p.tuples_processed::text AS n FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid
               WHERE a.application_name = 'surgctl publish' AND a.query LIKE 'COPY "surgctl"."\\_stage\\_telemetry\\_risk"%'`,
            )
          ).rows[0];
          return row ? Number(row.n) : 0;
        });
      let copied = 0;
      for (let i = 0; i < 600 && copied <= 100; i++) {
        copied = await copying();
        if (copied <= 100) await new Promise((r) => setTimeout(r, 50));
      }
      expect(copied, stderr).toBeGreaterThan(100);
      // A reader with a short lock timeout: it would fail with db_locked if publish held the lakehouse read-write.
      const report = await runCliWith({ cwd: setup.dir, env: {} }, 'report', 'summary', '--db', setup.dbPath, '--lock-timeout', '2', '--format', 'json');
      expect(report.exitCode, report.stderr).toBe(0);
      expect(JSON.parse(report.stdout)).toBeTruthy();
      // The publish was still copying all along (it had not finished or failed).
      expect(exitCode, stderr).toBeUndefined();
      expect(await copying()).toBeGreaterThan(copied);
      child.kill('SIGKILL');
      expect(await exited).toBe(-9);
      await withPg(async (c) => {
        for (let i = 0; i < 200; i++) {
          const n = (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'surgctl publish'")).rows[0]?.n;
          if (n === 0) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      });
    } finally {
      await withPg((c) => c.query('DROP EVENT TRIGGER IF EXISTS slow_stage; DROP FUNCTION IF EXISTS public.slow_stage(); DROP FUNCTION IF EXISTS public.slow_row() CASCADE'));
    }
  });
});
