// The transform stage: builds the marts from the raw tables by running the SQL models in dependency order, each
// in its own transaction, recording every model run (model_runs), the model tests (model_tests), the loads each
// run consumed (transform_state) and the run itself (transform_runs, and the shared `runs` history).
// Full or incremental: after new loads, only the procedures, patients and (patient, hour)s they touch are
// recomputed (delete + insert of those partitions); a change of rules or models forces a full rebuild.
import type { Db } from '../../db/db.js';
import { ident } from '../../db/sql.js';
import { InterruptedError, QueryError } from '../../errors.js';
import { loadConfig } from '../config.js';
import { migrate, refuseNewer } from '../../db/migrate.js';
import { writer } from '../../db/process.js';
import { finishRun, newRunId, startRun } from '../runs.js';
import type { StageContext } from '../stage.js';
import { runModelTests, type TestResult } from './model-tests.js';
import { loadModels, selectModels, type Model, type ModelSet } from './models.js';
import { loadRules, resolveRulesFile, writeRulesTables, type LoadedRules } from './rules.js';
import { buildScopes, defineBatchMacro, defineScopeMacros, existingTables, findNewLoads, partitionBatches, partitionPredicate, scopeRows, type BatchKind, type ScopeCounts } from './scope.js';

/**
 * Raw rows per batch when a procedure- or patient-partitioned model is built in full (issue 18): its windows and
 * aggregates then hold one batch of procedures (raw_telemetry rows) or patients (raw_telemetry + raw_vitals rows)
 * at a time, so peak memory follows the batch, not the lakehouse. Measured on a 5M-row lakehouse (bench transform
 * data): one pass 1,588 MiB peak RSS; 2M-row batches 917 MiB (961 at 768MB); 1M-row batches at 768MB 746 MiB, the
 * same CPU seconds (36 s) as 2M-row batches. At 25M rows the unbatched patient models set the peak (news2_hourly's
 * window over every vitals reading, patient_risk's exact p95 over every event: 1,362 MiB), hence patient batches.
 */
export const FULL_BATCH_ROWS = 1_000_000;

/**
 * A patient batch holds this many times FULL_BATCH_ROWS raw rows: what the patient models hold per row is small
 * (a latency for patient_risk's p95, a reading in news2_hourly's window), and every batch of patient_risk scans
 * telemetry_risk's patient_id column again, so fewer, larger batches cost less for the same bound.
 */
export const PATIENT_BATCH_FACTOR = 4;

/**
 * runTransform's DuckDB memory_limit unless limits.memoryLimit says otherwise (issue 18: peak RSS < 1 GiB at 25M
 * rows). DuckDB keeps the blocks it has read cached up to its limit, so at 2GB the RSS grew with the lakehouse;
 * batches keep each model's working set well under this, and what does not fit (the unique-key test over every
 * event) spills to the temp directory. On the transform bench's 25M-row data (busy machine) a full refresh peaked
 * at 1,065 MiB with 768MB (in that unique test; the models 931) and at 790 MiB with 512MB, for the same CPU seconds
 * (184.1 and 181.9).
 */
export const TRANSFORM_MEMORY_LIMIT = '512MB';

/** What a transform runs; the lakehouse (which must exist) is the context's. */
export interface TransformInput {
  /** For a relative --rules path, ./surgctl.rules.json and the config file. Default process.cwd(). */
  cwd?: string | undefined;
  /** Environment for SURGCTL_RULES and the config file (the CLI passes its own). Default: none. */
  env?: NodeJS.ProcessEnv | undefined;
  /** --rules PATH: project rules merged over the defaults. Otherwise config `rules`, else ./surgctl.rules.json. */
  rulesPath?: string | undefined;
  /** --select: model names, "NAME+" adds everything downstream. Selected models are rebuilt in full. */
  select?: string[] | undefined;
  /** Plan only: what would run and why; writes nothing. */
  dryRun?: boolean | undefined;
  /** Rebuild everything even when an incremental run would do. */
  fullRefresh?: boolean | undefined;
  /** Models folder (tests use their own). Default: the shipped models. */
  modelsDir?: string | undefined;
  /** Raw rows per batch for a full build of the procedure-partitioned models (default FULL_BATCH_ROWS; patient
   *  batches PATIENT_BATCH_FACTOR times as many). */
  batchRows?: number | undefined;
  /** The arguments to record in the `runs` history. */
  args?: string[] | undefined;
}

/**
 * transformDb's options: the input, and the context's signal and onEvent (transformDb is given the open handle, not
 * the lake). Aborting stops before the next model (a running model's statement is interrupted and rolled back),
 * marks the run 'interrupted' and throws InterruptedError; models built before it are kept.
 */
export type TransformOptions = TransformInput & Omit<StageContext<TransformEvent>, 'lake'> & WriterHandoff;

/** What runTransform's writer hands transformDb (a caller with a handle of its own passes none of it). */
export interface WriterHandoff {
  /** The writer has applied the migrations already (Lakehouse.openWriter): transformDb does not check again. */
  migrated?: boolean | undefined;
  /**
   * Gives readers a read snapshot; called when the plan shows a long run: a full or --select build, or an
   * incremental one whose scope holds at least `readSnapshotRows` raw rows (default TRANSFORM_READ_SNAPSHOT_ROWS;
   * 0: every run that builds). Without it, nothing is published.
   */
  publishReadSnapshot?: (() => Promise<boolean>) | undefined;
  readSnapshotRows?: number | undefined;
}

/**
 * From how many raw rows in an incremental run's scope (telemetry of the procedures plus vitals of the patients in
 * scope) the run gives readers a read snapshot. Below it the run holds the lock about as long as a load's short
 * merge (the 1% load of the transform bench, about 60,000 rows in scope, 1-1.5 s), which readers wait out; a copy of
 * the whole lakehouse (324 MiB in that bench) cost more than the rest of such a run's fixed cost together.
 */
export const TRANSFORM_READ_SNAPSHOT_ROWS = 100_000;

export type TransformMode = 'full' | 'incremental' | 'up_to_date' | 'select';

export interface ModelRunResult {
  model: string;
  materialized: 'table' | 'view';
  /** How this model was (or would be) built. */
  action: 'full' | 'incremental' | 'view' | 'up_to_date';
  status: 'succeeded' | 'failed' | 'skipped' | 'up_to_date' | 'planned';
  /** Rows written by this run (inserted in an incremental run); null for views and skipped models. */
  rows: number | null;
  /** ISO instants; null for planned (dry-run) models. */
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number;
  error: string | null;
}

export interface TransformResult {
  run_id: string;
  db: string;
  mode: TransformMode;
  /** Why this mode: "first run", "rules changed", "3 new loads", ... */
  reason: string;
  dry_run: boolean;
  rules: { version: string; sha256: string; file: string | null };
  new_loads: string[];
  scope: ScopeCounts | null;
  models: ModelRunResult[];
  tests: TestResult[];
  tests_failed: number;
  /** Alerts in the lakehouse after the run, by level (medium, high, critical); empty for a dry run. */
  alerts_by_level: Record<string, number>;
  duration_ms: number;
}

export type TransformEvent =
  | { type: 'plan'; mode: TransformMode; reason: string; models: string[] }
  | { type: 'model-start'; model: string; action: ModelRunResult['action'] }
  | { type: 'model-done'; result: ModelRunResult }
  | { type: 'tests-done'; model: string; results: TestResult[] };

/**
 * Opens the lakehouse (the lake's memoryLimit, else TRANSFORM_MEMORY_LIMIT; a dry run 2GB), runs the transform,
 * closes it. See transformDb. Readers: --full-refresh copies the lakehouse before it asks for the lock (readers read
 * that snapshot and never wait for it); any other run gives them a snapshot only once its plan shows a long run
 * (WriterHandoff: the copy is then made under the lock), else they wait for it as for a short load.
 */
export async function runTransform(input: TransformInput, ctx: StageContext<TransformEvent>): Promise<TransformResult> {
  // A dry run writes nothing (no migration either) but still refuses a lakehouse newer than this CLI.
  if (input.dryRun || input.fullRefresh) {
    const db = input.dryRun
      ? await ctx.lake.openWritable()
      : await ctx.lake.openWriter({ memoryLimit: TRANSFORM_MEMORY_LIMIT, readSnapshot: true });
    try {
      if (input.dryRun) await refuseNewer(db);
      return await transformDb(db, { ...input, signal: ctx.signal, onEvent: ctx.onEvent, migrated: !input.dryRun });
    } finally {
      db.close();
    }
  }
  const { db, publishReadSnapshot } = await ctx.lake.openSnapshotOnDemandWriter({ memoryLimit: TRANSFORM_MEMORY_LIMIT });
  try {
    return await transformDb(db, { ...input, signal: ctx.signal, onEvent: ctx.onEvent, migrated: true, publishReadSnapshot, readSnapshotRows: ctx.lake.readSnapshotRows });
  } finally {
    db.close();
  }
}

/** Resolves and loads the rules a run would use (flag, config / SURGCTL_RULES, ./surgctl.rules.json, defaults). */
export function rulesInForce(opts: Pick<TransformOptions, 'cwd' | 'env' | 'rulesPath'>): LoadedRules {
  const cwd = opts.cwd ?? process.cwd();
  const configRules = opts.rulesPath ? null : loadConfig({ cwd, env: opts.env ?? {} }).config.rules;
  return loadRules(resolveRulesFile({ cwd, rulesPath: opts.rulesPath, configRules }));
}

/** Sets up a session to run models: rules tables, helper macros, scope macros (all true). */
export async function prepareSession(db: Db, rules: LoadedRules, set: ModelSet): Promise<void> {
  await writeRulesTables(db, rules.rules);
  for (const h of set.helpers) {
    try {
      await db.run(h.sql);
    } catch (e) {
      throw wrapModelError(e, h.file.replace(/^.*\//, ''), h.file);
    }
  }
  await defineScopeMacros(db, false);
}

function wrapModelError(e: unknown, model: string, file: string): QueryError {
  const q = e instanceof QueryError ? e : undefined;
  const msg = e instanceof Error ? e.message : String(e);
  return new QueryError(`model ${model} failed: ${msg}`, q?.sql ?? '', q?.params, {
    model,
    file,
    hint: 're-run with --debug to see the SQL; fix the model or the data it reads',
    cause: e,
  });
}

interface LastRun {
  rules_sha256: string | null;
  models_sha256: string | null;
}

/**
 * Runs the transform on an open lakehouse. Model tests that fail do not throw: the result lists them
 * (tests_failed) and the caller decides (the CLI exits 1 unless --warn-only). Throws QueryError naming the model
 * when a model fails (after recording the failure), UsageError for an unknown --select name, ConfigError for bad
 * rules or model files.
 */
export async function transformDb(db: Db, opts: Omit<TransformOptions, 'dbPath'>): Promise<TransformResult> {
  const t0 = Date.now();
  const emit = opts.onEvent ?? (() => undefined);
  const runId = newRunId();
  const rules = rulesInForce(opts);
  const set = loadModels(opts.modelsDir);
  const selected = opts.select && opts.select.length > 0 ? selectModels(set.models, opts.select) : set.models;
  const dryRun = opts.dryRun === true;

  if (!dryRun && opts.migrated !== true) {
    // model_runs, model_tests, transform_state, transform_runs and rules_in_force come from the migrations.
    await migrate(db);
  }
  await prepareSession(db, rules, set);

  // Decide full or incremental.
  const tables = set.models.filter((m) => m.materialized === 'table').map((m) => m.name);
  const have = await existingTables(db, [...tables, 'transform_runs']);
  const last = have.has('transform_runs')
    ? (
        await db.all<LastRun & Record<string, unknown>>(
          `SELECT rules_sha256, models_sha256 FROM transform_runs
           WHERE status = 'succeeded' AND "select" IS NULL ORDER BY started_at DESC, run_id DESC LIMIT 1`,
        )
      )[0]
    : undefined;
  const missing = tables.filter((t) => !have.has(t));
  let mode: TransformMode;
  let reason: string;
  if (opts.select && opts.select.length > 0) {
    mode = 'select';
    reason = `--select ${opts.select.join(',')}: selected models rebuilt in full`;
  } else if (opts.fullRefresh) {
    [mode, reason] = ['full', '--full-refresh'];
  } else if (!last) {
    [mode, reason] = ['full', 'first run'];
  } else if (last.rules_sha256 !== rules.sha256) {
    [mode, reason] = ['full', 'rules changed since the last run'];
  } else if (last.models_sha256 !== set.sha256) {
    [mode, reason] = ['full', 'models changed since the last run'];
  } else if (missing.length > 0) {
    [mode, reason] = ['full', `missing table ${missing.join(', ')}`];
  } else {
    [mode, reason] = ['incremental', ''];
  }
  const newLoads = await findNewLoads(db);
  let scope: ScopeCounts | null = null;
  if (mode === 'incremental') {
    if (newLoads.length === 0) {
      [mode, reason] = ['up_to_date', 'no new loads since the last run'];
    } else {
      reason = `${newLoads.length} new load${newLoads.length === 1 ? '' : 's'}`;
      scope = await buildScopes(db, newLoads);
      await defineScopeMacros(db, true);
    }
  }
  if (!dryRun && mode !== 'up_to_date' && opts.publishReadSnapshot) {
    const rows = mode === 'incremental' ? await scopeRows(db) : Number.POSITIVE_INFINITY;
    if (rows >= (opts.readSnapshotRows ?? TRANSFORM_READ_SNAPSHOT_ROWS)) await opts.publishReadSnapshot();
  }
  emit({ type: 'plan', mode, reason, models: selected.map((m) => m.name) });

  const actionFor = (m: Model): ModelRunResult['action'] => {
    if (m.materialized === 'view') return 'view';
    if (mode === 'up_to_date') return 'up_to_date';
    return mode === 'incremental' && m.partition ? 'incremental' : 'full';
  };
  const result: TransformResult = {
    run_id: runId,
    db: db.path,
    mode,
    reason,
    dry_run: dryRun,
    rules: { version: rules.rules.version, sha256: rules.sha256, file: rules.projectFile },
    new_loads: newLoads,
    scope,
    models: [],
    tests: [],
    tests_failed: 0,
    alerts_by_level: {},
    duration_ms: 0,
  };
  if (dryRun) {
    result.models = selected.map((m) => ({
      model: m.name,
      materialized: m.materialized,
      action: actionFor(m),
      status: 'planned',
      rows: null,
      started_at: null,
      finished_at: null,
      duration_ms: 0,
      error: null,
    }));
    result.duration_ms = Date.now() - t0;
    return result;
  }

  if (opts.signal?.aborted) throw new InterruptedError('transform stopped before its first model; nothing changed');
  const w = writer();
  // One commit for both run records (each commit of the lakehouse's WAL is a sync to disk).
  await db.transaction(async () => {
    await startRun(db, runId, 'transform', opts.args ?? []);
    await db.run(
      `INSERT INTO transform_runs (run_id, mode, reason, started_at, status, rules_version, rules_sha256, models_sha256, new_loads, "select", pid, host)
       VALUES ($id, $mode, $reason, now(), 'running', $rv, $rs, $ms, $nl, $sel, $pid, $host)`,
      {
        pid: w.pid,
        host: w.host,
        id: runId,
        mode,
        reason,
        rv: rules.rules.version,
        rs: rules.sha256,
        ms: set.sha256,
        nl: newLoads.length,
        sel: opts.select && opts.select.length > 0 ? opts.select.join(',') : null,
      },
    );
  });

  const failed = new Set<string>();
  let firstError: QueryError | undefined;
  // Ctrl-C cuts the running statement short; its model's transaction rolls back.
  const interrupting = db.interruptOn(opts.signal);
  const built = (): number => result.models.filter((r) => r.status === 'succeeded').length;
  // Computed once per kind, when the first model partitioned that way is built in full.
  const batches: Partial<Record<BatchKind, string[]>> = {};
  try {
    for (const m of selected) {
      if (opts.signal?.aborted) throw new InterruptedError(`transform stopped at model ${m.name}; ${built()} model(s) built before it kept`);
      const action = actionFor(m);
      const upstreamFailed = m.dependsOn.find((d) => failed.has(d));
      let run: ModelRunResult;
      if (upstreamFailed) {
        failed.add(m.name);
        const at = new Date().toISOString();
        run = { model: m.name, materialized: m.materialized, action, status: 'skipped', rows: null, started_at: at, finished_at: at, duration_ms: 0, error: `upstream ${upstreamFailed} failed` };
      } else if (action === 'up_to_date') {
        const at = new Date().toISOString();
        run = { model: m.name, materialized: m.materialized, action, status: 'up_to_date', rows: 0, started_at: at, finished_at: at, duration_ms: 0, error: null };
      } else {
        emit({ type: 'model-start', model: m.name, action });
        const kind = batchKindOf(m);
        if (action === 'full' && kind) {
          const rows = (opts.batchRows ?? FULL_BATCH_ROWS) * (kind === 'patient' ? PATIENT_BATCH_FACTOR : 1);
          batches[kind] ??= await partitionBatches(db, kind, rows);
        }
        const out = await runModel(db, m, action, (kind && batches[kind]) ?? []);
        if (opts.signal?.aborted) throw new InterruptedError(`transform stopped at model ${m.name} (rolled back); ${built()} model(s) built before it kept`);
        run = out.run;
        if (out.error) {
          failed.add(m.name);
          firstError ??= out.error;
        }
      }
      result.models.push(run);
      emit({ type: 'model-done', result: run });
    }

    await recordModelRuns(db, runId, result.models);

    for (const m of selected) {
      const run = result.models.find((r) => r.model === m.name);
      if (!run || run.status !== 'succeeded' || m.materialized !== 'table' || m.tests.length === 0) continue;
      const tests = await runModelTests(db, m, run.action === 'incremental');
      result.tests.push(...tests);
      emit({ type: 'tests-done', model: m.name, results: tests });
    }
    result.tests_failed = result.tests.filter((t) => t.status === 'fail').length;
    const ok = failed.size === 0;
    const counts = {
      mode,
      models: result.models.length,
      failed: failed.size,
      tests_failed: result.tests_failed,
      rows: result.models.reduce((n, r) => n + (r.rows ?? 0), 0),
    };
    // The tests, the loads consumed, the rules in force and the run's end: one commit.
    await db.transaction(async () => {
      if (result.tests.length > 0) {
        // One statement: the results travel as one JSON parameter.
        await db.run(
          `INSERT INTO model_tests (run_id, model, test, status, failures, checked_at)
           SELECT $run, t.model, t.test, t.status, t.failures, now()
           FROM (SELECT unnest(from_json($tests, '[{"model":"VARCHAR","test":"VARCHAR","status":"VARCHAR","failures":"BIGINT"}]'), recursive := true)) t`,
          { run: runId, tests: JSON.stringify(result.tests) },
        );
      }
      if (ok && mode !== 'select') {
        await db.run(
          `INSERT INTO transform_state (load_id, run_id, consumed_at) SELECT load_id, $id, now() FROM _new_loads
           ON CONFLICT (load_id) DO NOTHING`,
          { id: runId },
        );
        await db.run('DELETE FROM rules_in_force');
        await db.run(
          `INSERT INTO rules_in_force (path, value, source)
           SELECT r.path, r.value, r.source
           FROM (SELECT unnest(from_json($values, '[{"path":"VARCHAR","value":"VARCHAR","source":"VARCHAR"}]'), recursive := true)) r`,
          { values: JSON.stringify(rules.values.map((v) => ({ path: v.path, value: JSON.stringify(v.value), source: v.from }))) },
        );
      }
      await db.run(`UPDATE transform_runs SET status = $s, finished_at = now() WHERE run_id = $id`, {
        id: runId,
        s: ok ? 'succeeded' : 'failed',
      });
      await finishRun(db, runId, ok ? 'succeeded' : 'failed', counts, firstError?.message);
    });
  } catch (e) {
    const status = e instanceof InterruptedError ? 'interrupted' : 'failed';
    await db.run(`UPDATE transform_runs SET status = $s, finished_at = now() WHERE run_id = $id`, { id: runId, s: status }).catch(() => undefined);
    await finishRun(db, runId, status, {}, e instanceof Error ? e.message : String(e)).catch(() => undefined);
    throw e;
  } finally {
    interrupting.remove();
  }
  if ((await existingTables(db, ['alerts'])).has('alerts')) {
    const levels = await db.all<{ level: string; n: number }>('SELECT level, count(*)::INTEGER AS n FROM alerts GROUP BY level ORDER BY level');
    result.alerts_by_level = Object.fromEntries(levels.map((r) => [r.level, r.n]));
  }
  result.duration_ms = Date.now() - t0;
  if (firstError) throw firstError;
  return result;
}

/**
 * The kind of batches a model's full build is cut into (its partition, when that is procedure or patient, unless
 * its header says `batched: false`).
 */
function batchKindOf(m: Model): BatchKind | undefined {
  if (!m.batched) return undefined;
  const kind = m.partition?.kind;
  return kind === 'procedure' || kind === 'patient' ? kind : undefined;
}

/**
 * Builds one model in its own transaction. `batches` (id lower bounds of the model's partition kind,
 * partitionBatches) cut the full build of a procedure- or patient-partitioned model into one CREATE plus one INSERT
 * per further batch; [] builds it at once.
 */
async function runModel(db: Db, m: Model, action: ModelRunResult['action'], batches: string[]): Promise<{ run: ModelRunResult; error?: QueryError }> {
  const started = new Date();
  const name = ident(m.name);
  const kind = batchKindOf(m);
  const batched = action === 'full' && kind !== undefined && batches.length > 0;
  const done = (status: 'succeeded' | 'failed', rows: number | null, error: string | null): ModelRunResult => {
    const finished = new Date();
    return {
      model: m.name,
      materialized: m.materialized,
      action,
      status,
      rows,
      started_at: started.toISOString(),
      finished_at: finished.toISOString(),
      duration_ms: finished.getTime() - started.getTime(),
      error,
    };
  };
  try {
    const rows = await db.transaction(async () => {
      if (action === 'view') {
        await db.run(`CREATE OR REPLACE VIEW ${name} AS\n${m.sql}`);
        return null;
      }
      if (action === 'incremental') {
        await db.run(`DELETE FROM ${name} WHERE ${partitionPredicate(m)}`);
        return countOf(await db.all(`INSERT INTO ${name} BY NAME\n${m.sql}`));
      }
      if (batched && kind) return buildInBatches(db, m, kind, batches);
      return countOf(await db.all(`CREATE OR REPLACE TABLE ${name} AS\n${m.sql}`));
    });
    // The batch macro was committed with the model: a full or --select run has every scope macro `true` again
    // for the models after this one. (A rollback takes the macro back itself.)
    if (batched) await defineScopeMacros(db, false);
    return { run: done('succeeded', rows, null) };
  } catch (e) {
    const error = wrapModelError(e, m.name, m.file);
    return { run: done('failed', null, error.message), error };
  }
}

/** The full build of a partitioned model, one procedure_id or patient_id range at a time; the rows written. */
async function buildInBatches(db: Db, m: Model, kind: BatchKind, batches: string[]): Promise<number> {
  const name = ident(m.name);
  const bounds: (string | null)[] = [null, ...batches, null];
  let rows = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    await defineBatchMacro(db, bounds[i] ?? null, bounds[i + 1] ?? null, kind);
    const sql = i === 0 ? `CREATE OR REPLACE TABLE ${name} AS\n${m.sql}` : `INSERT INTO ${name} BY NAME\n${m.sql}`;
    rows += countOf(await db.all(sql));
  }
  return rows;
}

function countOf(rows: Record<string, unknown>[]): number {
  const first = rows[0];
  return first === undefined ? 0 : Number(Object.values(first)[0] ?? 0);
}

/** Writes the run's model_runs rows in one statement. */
async function recordModelRuns(db: Db, runId: string, runs: ModelRunResult[]): Promise<void> {
  if (runs.length === 0) return;
  await db.run(
    `INSERT INTO model_runs (run_id, model, started_at, finished_at, duration_ms, "rows", status, error)
     SELECT $run, r.model, r.started_at, r.finished_at, r.duration_ms, r."rows", r.status, r.error
     FROM (SELECT unnest(from_json($runs, '[{"model":"VARCHAR","started_at":"TIMESTAMPTZ","finished_at":"TIMESTAMPTZ","duration_ms":"BIGINT","rows":"BIGINT","status":"VARCHAR","error":"VARCHAR"}]'), recursive := true)) r`,
    {
      run: runId,
      runs: JSON.stringify(runs.map((r) => ({ model: r.model, started_at: r.started_at, finished_at: r.finished_at, duration_ms: r.duration_ms, rows: r.rows, status: r.status, error: r.error }))),
    },
  );
}
