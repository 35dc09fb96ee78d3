// surgctl pipeline: generate -> validate + load -> transform, on the effective configuration, recorded as one run.
// Generated files go to <data_dir>/<seed>-<format>-<options hash>/ and are reused when the same options ran before;
// the lakehouse is the configured one (./surgctl.duckdb by default) so every other command finds it afterwards.
// A second run with the same options generates nothing, loads nothing new (files skipped by content hash) and finds
// the transform up to date.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lakehouse } from '../../db/lakehouse.js';
import { GateFailedError, InterruptedError } from '../../errors.js';
import type { Config } from '../config.js';
import { generateDataset, resolveOptions, type GenerateEvent, type Manifest } from '../generate/index.js';
import { checkFilesLoaded } from '../load/gate.js';
import { loadFiles, type LoadEvent, type LoadResult } from '../load/load.js';
import { MetricSet, readMetricValue, writeMetricsFile } from '../metrics.js';
import { finishRun, newRunId, startRun, type RunStatus } from '../runs.js';
import { runTransform, type TransformEvent, type TransformResult } from '../transform/transform.js';
import type { StageContext } from '../stage.js';
import { parseMaxInvalid } from '../validate/index.js';
import { addAlertMetrics, addLoadMetrics, addOutcomeMetrics, addStageMetric } from './metrics.js';

export type StageName = 'generate' | 'load' | 'transform';

export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName; detail: string }
  | { type: 'stage-done'; stage: StageName; seconds: number; detail: string }
  | { type: 'generate'; event: GenerateEvent }
  | { type: 'load'; event: LoadEvent }
  | { type: 'transform'; event: TransformEvent };

/**
 * The pipeline's request: its effective configuration. The lakehouse is the context's (the CLI builds it from
 * config.db and config.lock_timeout_s); ctx.signal (Ctrl-C) is passed to every stage: the run is recorded
 * 'interrupted' and InterruptedError propagates; the lake's limits apply to every stage (each stage's own default
 * otherwise), its validateFast and readSnapshotRows to the load stage.
 */
export interface PipelineInput {
  config: Config;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Arguments recorded in the run history. */
  args: string[];
  metricsFile?: string | undefined;
}

export interface PipelineResult {
  run_id: string;
  db: string;
  data_dir: string;
  generated: { reused: boolean; files: number; rows: number; bad_rows: number; incidents: number };
  load: LoadResult['totals'] & { files: number; skipped: number; quarantine_share: number };
  transform: { mode: string; reason: string; models: number; tests_failed: number };
  alerts: Record<string, number>;
  stages: { stage: StageName; seconds: number }[];
}

/** The folder the generator writes for these options: stable, so identical options reuse it. */
export function generatedDir(config: Config): string {
  const opts = resolveOptions({ out: '.', seed: config.seed, scale: config.scale, format: config.format, badRows: config.bad_rows, incidents: config.incidents });
  const hash = createHash('sha256').update(JSON.stringify(opts)).digest('hex').slice(0, 8);
  return join(config.data_dir, `seed${config.seed}-${config.format}-${hash}`);
}

/**
 * Runs the whole job. Throws GateFailedError (exit 1) when the share of quarantined rows exceeds
 * config.max_invalid (after loading: the lakehouse then holds the valid rows, and the transform is not run),
 * or when model tests fail; other SurgctlErrors as the stages throw them.
 */
export async function runPipeline(opts: PipelineInput, ctx: StageContext<PipelineEvent>): Promise<PipelineResult> {
  const { config } = opts;
  const { lake, signal } = ctx;
  // The run is written to the lakehouse at the end (the lakehouse may not exist before the load), with this start.
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const stages: PipelineResult['stages'] = [];
  const metrics = new MetricSet();
  const emit = (e: PipelineEvent): void => ctx.onEvent?.(e);
  const stage = async <T>(name: StageName, detail: string, fn: () => Promise<T>, done: (r: T) => string): Promise<T> => {
    emit({ type: 'stage-start', stage: name, detail });
    const t0 = performance.now();
    let r: T;
    try {
      r = await fn();
    } catch (e) {
      // generate's own InterruptedError says only "interrupted": say what was kept.
      if (e instanceof InterruptedError && name === 'generate') throw new InterruptedError('pipeline stopped while generating; the partial output was removed and nothing was loaded');
      throw e;
    }
    const seconds = (performance.now() - t0) / 1000;
    stages.push({ stage: name, seconds });
    addStageMetric(metrics, name, seconds);
    emit({ type: 'stage-done', stage: name, seconds, detail: done(r) });
    return r;
  };
  const gate = parseMaxInvalid(config.max_invalid);
  let ok = false;
  try {
    const dir = generatedDir(config);
    const manifestPath = join(dir, 'manifest.json');
    const reused = existsSync(manifestPath);
    const manifest = await stage(
      'generate',
      reused ? `reusing ${dir}` : `seed ${config.seed}, scale ${config.scale}, ${config.format} -> ${dir}`,
      async () =>
        reused
          ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest)
          : (
              await generateDataset(
                { out: dir, seed: config.seed, scale: config.scale, format: config.format, badRows: config.bad_rows, incidents: config.incidents },
                { lake, signal, onEvent: (event) => emit({ type: 'generate', event }) },
              )
            ).manifest,
      (m) => `${m.files.length} files, ${m.files.reduce((s, f) => s + f.rows, 0).toLocaleString('en-US')} rows, ${m.bad_rows.length} labelled bad rows, ${m.incidents.length} incidents${reused ? ' (already generated)' : ''}`,
    );
    const load = await stage(
      'load',
      `validate and load into ${lake.path}`,
      () =>
        loadFiles({
          inputs: [dir],
          cwd: opts.cwd,
          quarantineDir: config.quarantine_dir,
          args: ['pipeline:load', dir],
        }, { lake, signal, onEvent: (event) => emit({ type: 'load', event }) }),
      (r) => {
        const skipped = r.files.filter((f) => f.status === 'skipped').length;
        return `${r.totals.rows_read.toLocaleString('en-US')} rows read, ${r.totals.rows_inserted.toLocaleString('en-US')} inserted, ${r.totals.rows_duplicate.toLocaleString('en-US')} duplicate, ${r.totals.rows_quarantined.toLocaleString('en-US')} quarantined${skipped ? `, ${skipped} file(s) already loaded` : ''}`;
      },
    );
    addLoadMetrics(metrics, load);
    const share = load.totals.rows_read === 0 ? 0 : load.totals.rows_quarantined / load.totals.rows_read;
    checkFilesLoaded(load.files);
    const overRows = gate.rows !== undefined && load.totals.rows_quarantined > gate.rows;
    const overPct = gate.percent !== undefined && share * 100 > gate.percent;
    if (overRows || overPct) {
      throw new GateFailedError(
        `validation gate failed: ${load.totals.rows_quarantined} of ${load.totals.rows_read} rows quarantined (${(share * 100).toFixed(2)}%), more than --max-invalid ${config.max_invalid}`,
        { hint: 'surgctl quarantine list shows why; raise --max-invalid to accept' },
      );
    }
    const transform: TransformResult = await stage(
      'transform',
      'SQL models, model tests',
      () =>
        runTransform({
          cwd: opts.cwd,
          env: opts.env,
          rulesPath: config.rules ?? undefined,
          args: ['pipeline:transform'],
        }, { lake, signal, onEvent: (event) => emit({ type: 'transform', event }) }),
      (r) => `${r.mode} (${r.reason}): ${r.models.filter((m) => m.status === 'succeeded').length} models built, ${r.tests_failed} model test(s) failed`,
    );
    if (transform.tests_failed > 0) {
      throw new GateFailedError(`${transform.tests_failed} model test(s) failed`, { hint: 'surgctl report data-quality shows which; surgctl transform --warn-only reports without failing' });
    }
    const alerts = await countAlerts(lake);
    addAlertMetrics(metrics, alerts);
    ok = true;
    const result: PipelineResult = {
      run_id: runId,
      db: lake.path,
      data_dir: dir,
      generated: {
        reused,
        files: manifest.files.length,
        rows: manifest.files.reduce((s, f) => s + f.rows, 0),
        bad_rows: manifest.bad_rows.length,
        incidents: manifest.incidents.length,
      },
      load: { ...load.totals, files: load.files.length, skipped: load.files.filter((f) => f.status === 'skipped').length, quarantine_share: share },
      transform: { mode: transform.mode, reason: transform.reason, models: transform.models.length, tests_failed: transform.tests_failed },
      alerts,
      stages,
    };
    await recordPipelineRun(lake, runId, startedAt, opts.args, 'succeeded', result);
    return result;
  } catch (e) {
    // Nothing is recorded in a lakehouse that refused us (newer schema, read-only): recordPipelineRun opens it
    // through the same gate, which throws before writing.
    if (lake.exists()) {
      const status = e instanceof InterruptedError ? 'interrupted' : 'failed';
      await recordPipelineRun(lake, runId, startedAt, opts.args, status, { stages }, e instanceof Error ? e.message : String(e)).catch(() => undefined);
    }
    throw e;
  } finally {
    if (opts.metricsFile) {
      addOutcomeMetrics(metrics, 'pipeline', ok, new Date());
      if (!ok) {
        const last = readMetricValue(opts.metricsFile, 'surgctl_last_success_timestamp_seconds', { command: 'pipeline' });
        if (last !== undefined) metrics.add('surgctl_last_success_timestamp_seconds', 'gauge', 'Unix time of the last successful run.', last, { command: 'pipeline' });
      }
      writeMetricsFile(opts.metricsFile, metrics.list());
    }
  }
}

async function countAlerts(lake: Lakehouse): Promise<Record<string, number>> {
  return lake.withReader(async (db) => {
    const rows = await db.all<{ level: string; n: number }>('SELECT level, count(*)::INTEGER AS n FROM alerts GROUP BY level ORDER BY level');
    return Object.fromEntries(rows.map((r) => [r.level, r.n]));
  });
}

async function recordPipelineRun(lake: Lakehouse, runId: string, startedAt: Date, args: string[], status: RunStatus, counts: object, error?: string): Promise<void> {
  const db = await lake.openWriter();
  try {
    await startRun(db, runId, 'pipeline', args, startedAt);
    await finishRun(db, runId, status, counts as Record<string, unknown>, error);
  } finally {
    db.close();
  }
}
