// The publish stage: copies the marts (and, on request, the raw tables) from the lakehouse into a PostgreSQL
// schema. Every table is streamed from DuckDB a chunk at a time into `COPY ... FROM STDIN (FORMAT csv)`; a full
// publish writes a staging table, builds its primary key and serving indexes, then swaps it for the previous
// version; an incremental one replaces only the partitions the transform runs since the last publish touched.
// Everything happens in ONE PostgreSQL transaction, so a killed process or a stopped server leaves the previous
// version (and the target's ledger) exactly as they were. The `published` ledger is kept in the lakehouse and
// mirrored in the target: publishing the same transform run again writes nothing. The marts are read through a sealed
// read-only handle (its one writable path: the FIFO), so readers use the lakehouse meanwhile; it is opened read-write
// only for the short writes before (migrations, the run record) and after (ledger, the run's outcome) the copy.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants as fsConstants, mkdtempSync, open, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DuckDBValue } from '@duckdb/node-api';
import type { Client, PoolClient } from 'pg';
import type { Db } from '../../db/db.js';
import type { Lakehouse } from '../../db/lakehouse.js';
import { ident, literal } from '../../db/sql.js';
import { InterruptedError, isSurgctlError, UsageError, ExitCode } from '../../errors.js';
import { withWriterNote } from '../../db/merge-gate.js';
import { finishRun, newRunId, startRun } from '../runs.js';
import type { StageContext } from '../stage.js';
import { loadModels, type Model } from '../transform/models.js';
import { buildScopes, defineScopeMacros, existingTables, partitionPredicate, RAW_TABLES } from '../transform/scope.js';
import { csvLinesSql, pgColumnsDdl, pgReadySelectSql, pgTypeOf, type MartColumn } from './columns.js';
import { SERVING_ANALYZE, SERVING_INDEXES } from './serving.js';
import { PublishError, scrubSecret, type PublishTarget } from './target.js';

/** What to publish where; the lakehouse (which must exist) is the context's, and its limits apply. */
export interface PublishInput {
  target: PublishTarget;
  /** Marts (or raw tables) to publish; default every mart (plus every raw table with `raw`). */
  tables?: string[] | undefined;
  /** Also publish the raw tables. */
  raw?: boolean | undefined;
  /** Rewrite every table in full even when nothing or only some partitions changed. */
  full?: boolean | undefined;
  /** The arguments to record in the run history (with the URL already redacted). */
  args?: string[] | undefined;
  /** Rows per write to the COPY stream on the chunks transport. Default 16384. */
  batchRows?: number | undefined;
  /** 'fifo' (default where mkfifo exists: DuckDB's CSV writer into a named pipe) or 'chunks'. */
  transport?: Transport | undefined;
  /** Runs after the target's COMMIT, before the lakehouse's ledger is written (tests take the lakehouse's lock here). */
  beforeLedger?: (() => Promise<void>) | undefined;
}

/** What the read-only phase gets: the options, and the FIFO path (allowed on the sealed handle) for the fifo transport. */
type RunOpts = PublishInput & Omit<StageContext<PublishEvent>, 'lake'> & { fifoPath?: string | undefined };

export type PublishMode = 'full' | 'incremental' | 'unchanged';

export interface PublishedTable {
  table: string;
  mode: PublishMode;
  /** Why this mode, e.g. "first publish", "2 incremental transform runs", "same transform run". */
  reason: string;
  /** The transform run (marts) or load fingerprint (raw tables) the target now holds. */
  source_version: string;
  /** Rows written by COPY (0 when unchanged). */
  rows_written: number;
  /** Rows in the table in the target (equal to the lakehouse's). */
  rows_total: number;
  /** Time spent in COPY (streaming rows), then the whole table's time including keys, indexes and ANALYZE. */
  copy_ms: number;
  duration_ms: number;
}

export interface PublishResult {
  publish_id: string;
  /** The target URL with the password replaced by ***. */
  target: string;
  schema: string;
  transform_run_id: string;
  /** False when every table was already up to date (nothing was written anywhere in the target). */
  changed: boolean;
  tables: PublishedTable[];
  duration_ms: number;
}

export type PublishEvent =
  | { type: 'plan'; tables: { table: string; mode: PublishMode; reason: string }[] }
  | { type: 'table-start'; table: string; mode: PublishMode }
  | { type: 'table-done'; result: PublishedTable };

/** A table to publish and how its rows are selected and keyed. */
interface Source {
  name: string;
  columns: MartColumn[];
  /** Primary key columns (the mart's grain); empty for raw tables. */
  key: string[];
  partition: Model['partition'];
  /** The transform model that builds it (marts only). */
  model: Model | undefined;
  /** Transform run id for marts; a load fingerprint for raw tables. */
  version: string;
  raw: boolean;
}

interface Plan {
  source: Source;
  mode: PublishMode;
  reason: string;
  /** Incremental: the loads whose partitions are replaced. */
  loads: string[];
}

/** What one publish tracks while it runs. */
interface PublishState {
  /** The loads whose scope the lakehouse session's TEMP _scope_* tables hold (plans share one set of loads). */
  builtScope: string | undefined;
  /** Milliseconds spent in COPY for the table being published. */
  copyMs: number;
}

interface TransformRunRow {
  run_id: string;
  mode: string;
  status: string;
  started_at: string;
}

const LEDGER_COLUMNS = `publish_id text NOT NULL, table_name text NOT NULL, mode text NOT NULL, source_version text NOT NULL,
  transform_run_id text, rows_written bigint NOT NULL, rows_total bigint NOT NULL, published_at timestamptz NOT NULL,
  PRIMARY KEY (publish_id, table_name)`;

/**
 * Publishes into the target. Throws UsageError for an unknown table name or a lakehouse without marts,
 * PublishError('publish_not_ready', exit 2) when the last transform run did not succeed, PublishError
 * ('publish_connect' | 'publish_failed', exit 3) when the server cannot be reached or a statement fails (the
 * target is left as it was), InterruptedError on abort (likewise).
 */
export async function runPublish(input: PublishInput, ctx: StageContext<PublishEvent>): Promise<PublishResult> {
  const t0 = Date.now();
  const { lake } = ctx;
  const opts: RunOpts = { ...input, signal: ctx.signal, onEvent: ctx.onEvent };
  const publishId = newRunId();
  // 1. A short write: migrate, check there is something to publish, record the run as running.
  await withLakeWrite(lake, async (w) => {
    const run = await lastTransformRun(w);
    await listSources(w, opts, run.run_id);
    await startRun(w, publishId, 'publish', opts.args ?? []);
  });
  // 2. The long part reads the marts through a sealed read-only handle: report, query, tui and other readers open
  // the lakehouse meanwhile. The only path it may write is the FIFO its COPY streams through.
  const fifoDir = opts.transport === 'chunks' ? undefined : makeFifoDir();
  let outcome: { result: PublishResult; mirror: MirrorRow[] } | undefined;
  let failure: Error | undefined;
  try {
    const ro = await lake.openReader({
      // One DuckDB thread unless told otherwise: the COPY is bound by the server's one backend parsing it, and DuckDB's
      // CSV writer on one thread still outpaces it; a second thread only took CPU from that backend (at 1M rows on
      // this 2-core machine the COPY took 9.2-9.7 s with two threads, 6.9-7.0 s with one, and half the memory; again
      // with the socket relay: 2.96 client CPU s with two threads, 1.42-1.49 with one, the server's the same).
      threads: 1,
      writePaths: fifoDir ? [fifoDir.fifo] : [],
    });
    try {
      outcome = await publishDb(ro, { ...opts, fifoPath: fifoDir?.fifo }, publishId);
    } finally {
      ro.close();
    }
  } catch (e) {
    failure = toPublishError(e, opts.target, opts.signal);
  } finally {
    fifoDir?.remove();
  }
  // 3. A short write again: the lakehouse's ledger and the run's outcome.
  if (failure || !outcome) {
    const err = failure ?? new Error('publish: no result');
    await withLakeWrite(lake, (w) =>
      finishRun(w, publishId, err instanceof InterruptedError ? 'interrupted' : 'failed', { target: opts.target.redacted }, err.message),
    ).catch(() => undefined);
    throw err;
  }
  const { result, mirror } = outcome;
  const { target } = opts;
  try {
    await opts.beforeLedger?.();
    await withLakeWrite(lake, async (w) => {
      await recordLedger(w, target, mirror);
      result.duration_ms = Date.now() - t0;
      await finishRun(w, publishId, 'succeeded', {
        target: target.redacted,
        schema: target.schema,
        transform_run_id: result.transform_run_id,
        tables: result.tables.map((t) => ({ table: t.table, mode: t.mode, rows_written: t.rows_written })),
      });
    });
  } catch (e) {
    // The target committed: nothing there is wrong or to undo. Only the lakehouse's copy of the ledger (and this run's
    // outcome) is missing; the next publish copies the missing ledger rows from the target's mirror.
    const why = scrubSecret(e instanceof Error ? e.message : String(e), target.secret);
    throw new PublishError(
      'publish_ledger',
      `published to ${target.redacted} schema ${target.schema} (transform run ${result.transform_run_id}, committed), but the lakehouse's published ledger could not be written: ${why}`,
      {
        hint: `the target is complete and its ledger ${target.schema}.published (the mirror) records this publish; only the lakehouse's entry is missing. Run surgctl publish again when the lakehouse is free (nothing will be copied; it records the missing entry from the mirror)`,
        cause: e,
      },
    );
  }
  return result;
}

/** A row of the target's ledger, <schema>.published (instants as ISO text, counts as text). */
interface MirrorRow extends Record<string, unknown> {
  publish_id: string;
  table_name: string;
  mode: string;
  source_version: string;
  transform_run_id: string | null;
  rows_written: string;
  rows_total: string;
  published_at: string;
}

/**
 * Writes into the lakehouse's `published` ledger every row of the target's mirror it lacks: this publish's rows, and
 * those of an earlier publish whose ledger write failed after its COMMIT. Only rows of transform runs this lakehouse
 * made are taken (another lakehouse may publish into the same schema).
 */
async function recordLedger(w: Db, target: PublishTarget, mirror: MirrorRow[]): Promise<void> {
  if (mirror.length === 0) return;
  await w.run(
    `INSERT INTO published (publish_id, target, schema_name, table_name, mode, source_version, transform_run_id, rows_written, rows_total, published_at)
     SELECT m.publish_id, $target, $schema, m.table_name, m.mode, m.source_version, m.transform_run_id, m.rows_written, m.rows_total, m.published_at::TIMESTAMPTZ
     FROM (SELECT unnest(from_json($rows, '[{"publish_id":"VARCHAR","table_name":"VARCHAR","mode":"VARCHAR","source_version":"VARCHAR","transform_run_id":"VARCHAR","rows_written":"BIGINT","rows_total":"BIGINT","published_at":"VARCHAR"}]'), recursive := true)) m
     WHERE m.transform_run_id IN (SELECT run_id FROM transform_runs)
       AND NOT EXISTS (SELECT 1 FROM published p WHERE p.publish_id = m.publish_id AND p.table_name = m.table_name)
     ORDER BY m.published_at, m.publish_id, m.table_name`,
    { target: target.redacted, schema: target.schema, rows: JSON.stringify(mirror) },
  );
}

/** The target's whole ledger (read inside the publish transaction, after this publish's rows went in). */
async function readMirror(client: Client, target: PublishTarget): Promise<MirrorRow[]> {
  return (
    await q<MirrorRow>(
      client,
      target,
      `SELECT publish_id, table_name, mode, source_version, transform_run_id, rows_written::text AS rows_written, rows_total::text AS rows_total,
              to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS published_at
       FROM ${ident(target.schema)}.published ORDER BY published_at, publish_id, table_name`,
    )
  ).rows;
}

/** Opens the lakehouse read-write (migrating it) for one short write, with the writer's note up so readers let it in. */
async function withLakeWrite<T>(lake: Lakehouse, fn: (db: Db) => Promise<T>): Promise<T> {
  return withWriterNote(lake.path, async () => {
    const db = await lake.openWriter();
    try {
      return await fn(db);
    } finally {
      db.close();
    }
  });
}

/**
 * Publishes from `db` (read-only is enough: nothing is written to the lakehouse here) into the target and returns
 * the result and the tables written (for the lakehouse's ledger). Throws as runPublish does.
 */
async function publishDb(
  db: Db,
  opts: RunOpts,
  publishId: string,
): Promise<{ result: PublishResult; mirror: MirrorRow[] }> {
  const t0 = Date.now();
  const emit = opts.onEvent ?? (() => undefined);
  const { target } = opts;
  const transformRun = await lastTransformRun(db);
  const sources = await listSources(db, opts, transformRun.run_id);
  if (opts.signal?.aborted) throw new InterruptedError('publish stopped before it began; the target was not changed');
  const result: PublishResult = {
    publish_id: publishId,
    target: target.redacted,
    schema: target.schema,
    transform_run_id: transformRun.run_id,
    changed: false,
    tables: [],
    duration_ms: 0,
  };
  let client: Client | undefined;
  const onAbort = (): void => {
    // Closing the connection makes the server roll the transaction back.
    (client as unknown as { connection?: { stream?: { destroy(): void } } } | undefined)?.connection?.stream?.destroy();
  };
  opts.signal?.addEventListener('abort', onAbort);
  try {
    client = await connect(target);
    const schema = ident(target.schema);
    await q(client, target, "SET TIME ZONE 'UTC'");
    await q(client, target, "SET maintenance_work_mem = '256MB'");
    await q(client, target, 'BEGIN');
    // One publisher per schema at a time; released at COMMIT or ROLLBACK.
    await q(client, target, "SELECT pg_advisory_xact_lock(hashtext('surgctl publish ' || $1))", [target.schema]);
    await q(client, target, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await q(client, target, `CREATE TABLE IF NOT EXISTS ${schema}.published (${LEDGER_COLUMNS})`);
    const state: PublishState = { builtScope: undefined, copyMs: 0 };
    const plans = await planTables(db, client, target, sources, opts.full === true);
    emit({ type: 'plan', tables: plans.map((p) => ({ table: p.source.name, mode: p.mode, reason: p.reason })) });

    const swaps: Source[] = [];
    for (const plan of plans) {
      if (opts.signal?.aborted) throw new InterruptedError('publish stopped; the target was not changed');
      const started = Date.now();
      emit({ type: 'table-start', table: plan.source.name, mode: plan.mode });
      let written = 0;
      state.copyMs = 0;
      if (plan.mode === 'full') {
        written = await stageFull(db, client, target, plan.source, opts, state);
        swaps.push(plan.source);
      } else if (plan.mode === 'incremental') {
        written = await replacePartitions(db, client, target, plan, opts, state);
      }
      const done: PublishedTable = {
        table: plan.source.name,
        mode: plan.mode,
        reason: plan.reason,
        source_version: plan.source.version,
        rows_written: written,
        rows_total: 0,
        copy_ms: state.copyMs,
        duration_ms: Date.now() - started,
      };
      result.tables.push(done);
      if (plan.mode === 'unchanged') emit({ type: 'table-done', result: done });
    }
    result.changed = plans.some((p) => p.mode !== 'unchanged');
    let mirror: MirrorRow[];
    if (!result.changed) {
      mirror = await readMirror(client, target);
      await q(client, target, 'ROLLBACK');
    } else {
      for (const s of swaps) await swapIn(client, target, s);
      for (const t of result.tables) {
        const name = `${schema}.${ident(t.table)}`;
        // A full table was created empty in this transaction and filled by one COPY: the server's own count of the
        // rows that COPY inserted is its row count (a count(*) scan of 5M rows took 0.8 s); others are counted.
        t.rows_total =
          t.mode === 'full' ? t.rows_written : Number((await q<{ n: string }>(client, target, `SELECT count(*) AS n FROM ${name}`)).rows[0]?.n ?? 0);
        const expected = await db.scalar<number>(`SELECT count(*)::BIGINT FROM ${ident(t.table)}`);
        if (t.rows_total !== Number(expected)) {
          throw new PublishError('publish_failed', `${t.table}: ${t.rows_total} rows in the target after publish, ${expected} in the lakehouse; nothing was changed`, {
            hint: 'run publish again with --full; if it repeats, report a bug (re-run with --debug)',
          });
        }
        if (t.mode !== 'unchanged') {
          await q(
            client,
            target,
            `INSERT INTO ${schema}.published (publish_id, table_name, mode, source_version, transform_run_id, rows_written, rows_total, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, now())`,
            [publishId, t.table, t.mode, t.source_version, transformRun.run_id, t.rows_written, t.rows_total],
          );
        }
      }
      mirror = await readMirror(client, target);
      if (opts.signal?.aborted) throw new InterruptedError('publish stopped before its commit; the target was not changed');
      await q(client, target, 'COMMIT');
      for (const t of result.tables) if (t.mode !== 'unchanged') emit({ type: 'table-done', result: t });
    }
    for (const t of result.tables) {
      if (t.mode === 'unchanged') t.rows_total = await lakehouseCount(db, t.table);
    }
    result.duration_ms = Date.now() - t0;
    return { result, mirror };
  } catch (e) {
    const err = toPublishError(e, target, opts.signal);
    if (client) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await client?.end().catch(() => undefined);
  }
}

async function lakehouseCount(db: Db, table: string): Promise<number> {
  return Number(await db.scalar<number>(`SELECT count(*)::BIGINT FROM ${ident(table)}`));
}

/** The newest transform run; refuses when there is none or it did not succeed (its marts may be half-built). */
async function lastTransformRun(db: Db): Promise<TransformRunRow> {
  const have = await existingTables(db, ['transform_runs']);
  const last = have.has('transform_runs')
    ? (
        await db.all<TransformRunRow & Record<string, unknown>>(
          `SELECT run_id, mode, status, strftime(started_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS started_at FROM transform_runs
           ORDER BY started_at DESC, run_id DESC LIMIT 1`,
        )
      )[0]
    : undefined;
  if (last === undefined) {
    throw new UsageError(`${db.path} has no marts to publish yet`, { file: db.path, hint: 'build them first: surgctl transform (or surgctl pipeline)' });
  }
  if (last.status !== 'succeeded') {
    throw new PublishError('publish_not_ready', `the last transform run ${last.run_id} is ${last.status}: its marts may be incomplete, so nothing was published`, {
      exitCode: ExitCode.usage,
      hint: 'run surgctl transform until it succeeds, then publish',
    });
  }
  return last;
}

/** The tables to publish, with their columns, keys and versions. Throws UsageError for an unknown name. */
async function listSources(db: Db, opts: RunOpts, runId: string): Promise<Source[]> {
  const marts = loadModels().models.filter((m) => m.materialized === 'table');
  const martNames = marts.map((m) => m.name);
  const wanted = opts.tables && opts.tables.length > 0 ? opts.tables : [...martNames, ...(opts.raw ? RAW_TABLES : [])];
  if (opts.raw && opts.tables && opts.tables.length > 0) wanted.push(...RAW_TABLES.filter((t) => !wanted.includes(t)));
  for (const name of wanted) {
    if (!martNames.includes(name) && !(RAW_TABLES as readonly string[]).includes(name)) {
      throw new UsageError(`${JSON.stringify(name)} is not a mart or raw table surgctl publishes`, {
        hint: `marts: ${martNames.join(', ')}; raw tables (with --raw): ${RAW_TABLES.join(', ')}`,
      });
    }
  }
  const have = await existingTables(db, wanted);
  const missing = wanted.filter((t) => !have.has(t));
  if (missing.length > 0) {
    const raw = missing.every((t) => t.startsWith('raw_'));
    throw new UsageError(`publish needs table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not in ${db.path}`, {
      file: db.path,
      hint: raw ? 'load data first: surgctl load DIR (or surgctl pipeline)' : 'build the marts first: surgctl transform (or surgctl pipeline)',
    });
  }
  const out: Source[] = [];
  for (const name of wanted) {
    const cols = await db.all<{ name: string; type: string }>(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns
       WHERE table_schema = 'main' AND table_catalog = current_database() AND table_name = $t ORDER BY ordinal_position`,
      { t: name },
    );
    const columns = cols.map((c) => ({ name: c.name, duckType: c.type, pgType: pgTypeOf(c.type) }));
    const model = marts.find((m) => m.name === name);
    if (model) {
      out.push({ name, columns, key: model.key, partition: model.partition, model, version: runId, raw: false });
    } else {
      // A raw table changes only by loads: its version is its row count and the loads it holds.
      const fp = (
        await db.all<{ n: string; h: string }>(
          `SELECT count(*)::VARCHAR AS n, coalesce(md5(string_agg(DISTINCT _load_id, ',' ORDER BY _load_id)), '') AS h FROM ${ident(name)}`,
        )
      )[0];
      out.push({ name, columns, key: [], partition: null, version: `loads:${fp?.n ?? 0}:${(fp?.h ?? '').slice(0, 16)}`, model: undefined, raw: true });
    }
  }
  return out;
}

/** Decides, per table, full / incremental / unchanged from the target's ledger and the lakehouse's run history. */
async function planTables(db: Db, client: Client, target: PublishTarget, sources: Source[], forceFull: boolean): Promise<Plan[]> {
  const schema = ident(target.schema);
  const mirror = new Map(
    (
      await q<{ table_name: string; source_version: string }>(
        client,
        target,
        `SELECT DISTINCT ON (table_name) table_name, source_version FROM ${schema}.published ORDER BY table_name, published_at DESC, publish_id DESC`,
      )
    ).rows.map((r) => [r.table_name, r.source_version]),
  );
  const runs = await db.all<TransformRunRow & Record<string, unknown>>(
    `SELECT run_id, mode, status, strftime(started_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS started_at FROM transform_runs ORDER BY started_at, run_id`,
  );
  const plans: Plan[] = [];
  for (const source of sources) {
    const previous = mirror.get(source.name);
    const targetCols = await targetColumns(client, target, source.name);
    const sameShape =
      targetCols.length === source.columns.length && targetCols.every((c, i) => c.name === source.columns[i]?.name && c.type === normalisePgType(source.columns[i]?.pgType ?? ''));
    const full = (reason: string): Plan => ({ source, mode: 'full', reason, loads: [] });
    if (forceFull) plans.push(full('--full'));
    else if (previous === undefined || targetCols.length === 0) plans.push(full('first publish to this schema'));
    else if (!sameShape) plans.push(full('its columns changed'));
    else if (previous === source.version) plans.push({ source, mode: 'unchanged', reason: source.raw ? 'same loads' : 'same transform run', loads: [] });
    else if (source.raw || !source.partition) plans.push(full(source.raw ? 'new loads' : 'rebuilt in full by every transform run'));
    else {
      const from = runs.findIndex((r) => r.run_id === previous);
      const since = from < 0 ? undefined : runs.slice(from + 1);
      if (since === undefined) plans.push(full('its last published run is not in this lakehouse'));
      else if (since.some((r) => r.status !== 'succeeded' || (r.mode !== 'incremental' && r.mode !== 'up_to_date'))) {
        plans.push(full('a full, selective or unfinished transform run since the last publish'));
      } else {
        const ids = since.map((r) => r.run_id);
        const loads = (
          await db.all<{ load_id: string }>(
            `SELECT load_id FROM transform_state WHERE list_contains($ids::JSON::VARCHAR[], run_id) ORDER BY load_id`,
            { ids: JSON.stringify(ids) },
          )
        ).map((r) => r.load_id);
        plans.push({ source, mode: 'incremental', reason: `${since.length} incremental transform run${since.length === 1 ? '' : 's'} (${loads.length} new load${loads.length === 1 ? '' : 's'})`, loads });
      }
    }
  }
  return plans;
}

const FORMAT_TYPE: Record<string, string> = {
  timestamptz: 'timestamp with time zone',
  timestamp: 'timestamp without time zone',
  time: 'time without time zone',
};

/** The DDL type as PostgreSQL's format_type() spells it (what targetColumns reads back). */
function normalisePgType(t: string): string {
  const list = t.endsWith('[]');
  const base = list ? t.slice(0, -2) : t;
  return `${FORMAT_TYPE[base] ?? base}${list ? '[]' : ''}`;
}

async function targetColumns(client: Client, target: PublishTarget, table: string): Promise<{ name: string; type: string }[]> {
  return (
    await q<{ name: string; type: string }>(
      client,
      target,
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
       WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [target.schema, table],
    )
  ).rows;
}

function stageName(table: string): string {
  return `_stage_${table}`;
}

/** Creates the staging table, COPYs every row into it, adds the primary key and serving indexes. Returns rows. */
async function stageFull(db: Db, client: Client, target: PublishTarget, s: Source, opts: RunOpts, state: PublishState): Promise<number> {
  const schema = ident(target.schema);
  const stage = `${schema}.${ident(stageName(s.name))}`;
  await q(client, target, `DROP TABLE IF EXISTS ${stage}`);
  await q(client, target, `CREATE TABLE ${stage} (${pgColumnsDdl(s.columns, ident)})`);
  // FREEZE: the staging table was created in this transaction, so its rows can be written frozen and all-visible;
  // the server's vacuum after the commit then has nothing to rewrite (it costs the COPY nothing measurable).
  const rows = await copyRows(db, client, target, stage, s.columns, ident(s.name), opts, state, { freeze: true });
  if (s.key.length > 0) {
    await q(client, target, `ALTER TABLE ${stage} ADD CONSTRAINT ${ident(`${stageName(s.name)}_pkey`)} PRIMARY KEY (${s.key.map(ident).join(', ')})`);
  }
  for (const ix of SERVING_INDEXES[s.name] ?? []) {
    await q(client, target, `CREATE INDEX ${ident(`${stageName(s.name)}_${ix.suffix}`)} ON ${stage} ${ix.on}`);
  }
  const analyze = SERVING_ANALYZE[s.name];
  await q(client, target, `ANALYZE ${stage}${analyze ? ` (${analyze.map(ident).join(', ')})` : ''}`);
  return rows;
}

/** Drops the previous version and renames the staged table (and its key and indexes) into place. */
async function swapIn(client: Client, target: PublishTarget, s: Source): Promise<void> {
  const schema = ident(target.schema);
  await q(client, target, `DROP TABLE IF EXISTS ${schema}.${ident(s.name)}`);
  await q(client, target, `ALTER TABLE ${schema}.${ident(stageName(s.name))} RENAME TO ${ident(s.name)}`);
  if (s.key.length > 0) {
    await q(client, target, `ALTER TABLE ${schema}.${ident(s.name)} RENAME CONSTRAINT ${ident(`${stageName(s.name)}_pkey`)} TO ${ident(`${s.name}_pkey`)}`);
  }
  for (const ix of SERVING_INDEXES[s.name] ?? []) {
    await q(client, target, `ALTER INDEX ${schema}.${ident(`${stageName(s.name)}_${ix.suffix}`)} RENAME TO ${ident(`${s.name}_${ix.suffix}`)}`);
  }
}

const SCOPES = {
  procedure: { table: '_scope_procedure', columns: [{ name: 'procedure_id', duckType: 'VARCHAR', pgType: 'text' }] },
  patient: { table: '_scope_patient', columns: [{ name: 'patient_id', duckType: 'VARCHAR', pgType: 'text' }] },
  patient_hour: {
    table: '_scope_patient_hour',
    columns: [
      { name: 'patient_id', duckType: 'VARCHAR', pgType: 'text' },
      { name: 'hour_start', duckType: 'TIMESTAMP WITH TIME ZONE', pgType: 'timestamptz' },
    ],
  },
} as const satisfies Record<string, { table: string; columns: MartColumn[] }>;

/**
 * Replaces the partitions the plan's loads touched: the same scope the incremental transform computed (procedures,
 * patients, patient-hours), built again from those loads in the lakehouse, sent to temporary tables in the target,
 * then DELETE of those partitions and INSERT of their current rows. Returns the rows inserted.
 */
async function replacePartitions(db: Db, client: Client, target: PublishTarget, plan: Plan, opts: RunOpts, state: PublishState): Promise<number> {
  const s = plan.source;
  const part = s.partition;
  if (!part || !s.model) throw new Error(`replacePartitions: ${s.name} has no partition`);
  const key = JSON.stringify(plan.loads);
  if (state.builtScope !== key) {
    await buildScopes(db, plan.loads);
    await defineScopeMacros(db, true);
    state.builtScope = key;
  }
  const scope = SCOPES[part.kind];
  await q(client, target, `DROP TABLE IF EXISTS pg_temp.${ident(scope.table)}`);
  await q(client, target, `CREATE TEMP TABLE ${ident(scope.table)} (${pgColumnsDdl(scope.columns, ident)}) ON COMMIT DROP`);
  await copyRows(db, client, target, `pg_temp.${ident(scope.table)}`, scope.columns, ident(scope.table), opts, state);
  const rowsTable = `pg_temp.${ident(`_rows_${s.name}`)}`;
  await q(client, target, `DROP TABLE IF EXISTS ${rowsTable}`);
  await q(client, target, `CREATE TEMP TABLE ${ident(`_rows_${s.name}`)} (${pgColumnsDdl(s.columns, ident)}) ON COMMIT DROP`);
  const rows = await copyRows(db, client, target, rowsTable, s.columns, `${ident(s.name)} WHERE ${partitionPredicate(s.model)}`, opts, state);
  const cols = part.columns.map(ident);
  const pred =
    part.kind === 'patient_hour'
      ? `(${cols[0]}, date_trunc('hour', ${cols[1]})) IN (SELECT patient_id, hour_start FROM pg_temp.${ident(scope.table)})`
      : `${cols[0]} IN (SELECT ${ident(scope.columns[0].name)} FROM pg_temp.${ident(scope.table)})`;
  const schema = ident(target.schema);
  await q(client, target, `DELETE FROM ${schema}.${ident(s.name)} WHERE ${pred}`);
  await q(client, target, `INSERT INTO ${schema}.${ident(s.name)} (${s.columns.map((c) => ident(c.name)).join(', ')}) SELECT * FROM ${rowsTable}`);
  return rows;
}


/** How rows travel from DuckDB to COPY: DuckDB's own CSV writer into a FIFO, or CSV lines built per chunk. */
export type Transport = 'fifo' | 'chunks';

/**
 * Streams the rows of `SELECT columns FROM <from>` from DuckDB into `COPY table FROM STDIN (FORMAT csv)` with
 * backpressure, never holding more than a buffer of them in JS. Runs on the (read-only) handle's main connection (the
 * incremental scope's TEMP tables and macros live there); nothing else may use it meanwhile. Returns the rows copied,
 * as the server counted them (its COPY command tag).
 */
async function copyRows(
  db: Db,
  client: Client,
  target: PublishTarget,
  table: string,
  columns: readonly MartColumn[],
  from: string,
  opts: RunOpts,
  state: PublishState,
  how: { freeze?: boolean } = {},
): Promise<number> {
  const { from: copyFrom } = await import('pg-copy-streams');
  const t0 = Date.now();
  const copy = client.query(copyFrom(`COPY ${table} (${columns.map((c) => ident(c.name)).join(', ')}) FROM STDIN (FORMAT csv${how.freeze ? ', FREEZE' : ''})`));
  const fifo = opts.transport === 'chunks' ? undefined : makeFifo(opts.fifoPath);
  let rows: number;
  try {
    rows = fifo ? await viaFifo(db, copy, fifo.path, pgReadySelectSql(columns, from), opts.signal) : await viaChunks(db, copy, csvLinesSql(columns, from), opts);
  } catch (e) {
    throw wrapPg(e, target, `COPY into ${table}`);
  } finally {
    fifo?.remove();
  }
  state.copyMs += Date.now() - t0;
  return rows;
}

/** A private temporary directory for the FIFO (its path is fixed before the read-only handle is sealed). */
function makeFifoDir(): { fifo: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'surgctl-publish-'));
  return { fifo: join(dir, 'rows.csv'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes the FIFO at `path` (afresh for each COPY), or undefined where mkfifo is not available (then chunks are used). */
function makeFifo(path: string | undefined): { path: string; remove: () => void } | undefined {
  if (path === undefined) return undefined;
  try {
    rmSync(path, { force: true });
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
    return { path, remove: () => rmSync(path, { force: true }) };
  } catch {
    rmSync(path, { force: true });
    return undefined;
  }
}

/**
 * DuckDB's CSV writer (set-at-a-time, its own threads) writes into the FIFO; Node pipes the FIFO into COPY. The read
 * end is a pipe handle that libuv polls (net.Socket over the FIFO's descriptor), not an fs stream: an fs stream reads
 * a pipe through the thread pool, a fresh buffer per read, and took twice the client CPU (1M rows of telemetry_risk
 * into COPY: 3.05-3.26 CPU s against 1.56-1.62). Its open blocks (in the thread pool) until DuckDB opens the write
 * end. A failure on either side ends the other: a closed reader makes DuckDB's write fail (EPIPE), and a DuckDB error
 * before it opened the FIFO is unblocked by opening and closing the write end ourselves.
 */
async function viaFifo(db: Db, copy: Writable & { rowCount: number }, fifo: string, selectSql: string, signal: AbortSignal | undefined): Promise<number> {
  const opening = new Promise<Socket>((resolveOpen, rejectOpen) =>
    open(fifo, fsConstants.O_RDONLY, (e, fd) => (e ? rejectOpen(e) : resolveOpen(new Socket({ fd, readable: true, writable: false })))),
  );
  const piping = opening.then((reader) => pipeline(reader, copy, signal ? { signal } : {}));
  const writing = db.run(`COPY (${selectSql}) TO ${literal(fifo)} (FORMAT csv, HEADER false, USE_TMP_FILE false)`).then(
    () => undefined,
    async (e: unknown) => {
      await unblockOpen(fifo, opening);
      // The reader then sees the end of the data: fail it instead, so COPY is cancelled rather than completed.
      (await opening.catch(() => undefined))?.destroy(e instanceof Error ? e : new Error(String(e)));
      throw e;
    },
  );
  const [w, p] = await Promise.allSettled([writing, piping]);
  if (p.status === 'rejected') throw p.reason;
  if (w.status === 'rejected') throw w.reason;
  return copy.rowCount;
}

/**
 * Opens and closes the FIFO's write end until our open of the read end has returned (it waits for a writer, and
 * DuckDB failed before opening). Opening the write end fails (ENXIO) while no reader waits yet, e.g. when the thread
 * pool has not started our open: so it is tried again, every 10 ms for up to 5 s.
 */
async function unblockOpen(fifo: string, opening: Promise<unknown>): Promise<void> {
  let settled = false;
  void opening.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 500 && !settled; i++) {
    try {
      closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** The slower path: DuckDB renders each row as one CSV line, JS joins a batch of chunks per write. Returns the server's count. */
async function viaChunks(db: Db, copy: Writable & { rowCount: number }, linesSql: string, opts: RunOpts): Promise<number> {
  const batchRows = opts.batchRows ?? 16384;
  const result = await db.stream(linesSql);
  async function* lines(): AsyncGenerator<string> {
    let batch: string[] = [];
    let inBatch = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const values = chunk.getColumnValues(0) as string[];
      inBatch += values.length;
      batch.push(values.join('\n'));
      if (inBatch >= batchRows) {
        yield `${batch.join('\n')}\n`;
        batch = [];
        inBatch = 0;
      }
    }
    if (batch.length > 0) yield `${batch.join('\n')}\n`;
  }
  await pipeline(Readable.from(lines(), { objectMode: false }), copy, opts.signal ? { signal: opts.signal } : {});
  return copy.rowCount;
}

async function connect(target: PublishTarget): Promise<Client> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: target.url, application_name: 'surgctl publish', connectionTimeoutMillis: 15_000 });
  // An 'error' event (server gone between queries) must not crash the process; the next query fails instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    const msg = scrubSecret(e instanceof Error ? e.message : String(e), target.secret);
    throw new PublishError('publish_connect', `cannot connect to ${target.redacted}: ${msg}`, {
      hint: 'check that the server is running and the URL, user and password are right (the password is never printed)',
      cause: e,
    });
  }
  return client;
}

type QueryClient = Client | PoolClient;

async function q<R extends Record<string, unknown> = Record<string, unknown>>(client: QueryClient, target: PublishTarget, sql: string, params?: unknown[]): Promise<{ rows: R[] }> {
  try {
    return await client.query<R>(sql, params);
  } catch (e) {
    throw wrapPg(e, target, sql);
  }
}

function wrapPg(e: unknown, target: PublishTarget, doing: string): Error {
  if (isSurgctlError(e)) return e;
  if (e instanceof Error && e.name === 'AbortError') return new InterruptedError('publish stopped; the target was not changed');
  const msg = scrubSecret(e instanceof Error ? e.message : String(e), target.secret);
  const first = doing.split('\n')[0]?.slice(0, 120) ?? doing;
  return new PublishError('publish_failed', `publish to ${target.redacted} failed: ${msg} (at: ${first}); the target was not changed`, {
    hint: 'nothing was committed: the previous version of every table is intact; fix the cause and run publish again',
    cause: e,
  });
}

function toPublishError(e: unknown, target: PublishTarget, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return new InterruptedError('publish stopped; the target was not changed');
  if (isSurgctlError(e)) {
    if (e.message.includes(target.secret ?? randomUUID())) {
      return new PublishError(e.code, scrubSecret(e.message, target.secret), { hint: e.hint, cause: e });
    }
    return e;
  }
  return wrapPg(e, target, 'publish');
}
