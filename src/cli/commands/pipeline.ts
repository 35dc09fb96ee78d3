// `surgctl pipeline`: the whole job in one command, then the summary report.
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Config } from '../../core/config.js';
import { resolveFormat } from '../../core/export/formats.js';
import type { PipelineEvent } from '../../core/pipeline/pipeline.js';
import { DATA_FORMATS, DEFAULT_BAD_ROWS, DEFAULT_MAX_INVALID, type DataFormat } from '../../core/domain.js';
import { UsageError } from '../../errors.js';
import type { Progress } from '../../render/progress.js';
import { lakehouseFor, say, useColor } from '../io.js';
import type { CliContext } from '../io.js';

interface PipelineFlags {
  dataDir?: string;
  seed?: string;
  scale?: string;
  dataFormat?: DataFormat;
  badRows?: string;
  incidents?: string;
  maxInvalid?: string;
  rules?: string;
  metricsFile?: string;
  format?: string;
}

function num(v: string | undefined, flag: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} must be a ${integer ? 'whole ' : ''}number >= 0, got "${v}"`);
  return n;
}

export const pipelineCommand = (ctx: CliContext): Command =>
  new Command('pipeline')
    .description('generate -> validate -> load -> transform -> summary report, in one command (safe to run twice)')
    .option('--data-dir <dir>', 'working folder for generated files (default: ./surgctl-data)')
    .option('--seed <n>', 'generator seed (default: 7)')
    .option('--scale <x>', 'generator size multiplier (default: 1)')
    .option('--data-format <format>', 'generated file format: csv | ndjson | parquet (default: csv)')
    .option('--bad-rows <rate>', `share of labelled bad rows to plant (default: ${DEFAULT_BAD_ROWS})`)
    .option('--incidents <rate>', 'share of procedures with planted incidents (default: 0.05)')
    .option('--max-invalid <n|p%>', `fail (exit 1) when more rows than this are quarantined, N rows or P% of all rows read, in total (default: ${DEFAULT_MAX_INVALID})`)
    .option('--rules <path>', 'rules file over the default rule pack')
    .option('--metrics-file <path>', 'write Prometheus metrics here (textfile-collector format, atomic)')
    .option('--format <format>', 'summary as table | json | markdown (default: table on a terminal, json when piped)')
    .action(async (flags: PipelineFlags) => {
      const g = ctx.globals();
      const given: Partial<Config> = {};
      if (g.db !== undefined) given.db = g.db;
      if (flags.dataDir !== undefined) given.data_dir = flags.dataDir;
      if (flags.rules !== undefined) given.rules = flags.rules;
      if (flags.maxInvalid !== undefined) given.max_invalid = flags.maxInvalid;
      if (flags.dataFormat !== undefined) {
        if (!(DATA_FORMATS as readonly string[]).includes(flags.dataFormat)) throw new UsageError(`--data-format must be csv, ndjson or parquet, got "${flags.dataFormat}"`);
        given.format = flags.dataFormat;
      }
      const seed = num(flags.seed, '--seed', true);
      if (seed !== undefined) given.seed = seed;
      const scale = num(flags.scale, '--scale');
      if (scale !== undefined) given.scale = scale;
      const bad = num(flags.badRows, '--bad-rows');
      if (bad !== undefined) given.bad_rows = bad;
      const inc = num(flags.incidents, '--incidents');
      if (inc !== undefined) given.incidents = inc;
      // The global --lock-timeout, when given, is a flag like the others: it beats lock_timeout_s in the config.
      if (g.lockTimeout !== undefined) given.lock_timeout_s = g.lockTimeout;
      const { loadConfig } = await import('../../core/config.js');
      const { config } = loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, flags: given, configPath: g.config });
      const format = resolveFormat(flags.format, undefined, ctx.io.stdout.isTTY === true);
      if (format === 'parquet' || format === 'arrow' || format === 'html') {
        throw new UsageError(`pipeline prints its summary as table, json, ndjson, csv or markdown; for ${format} run surgctl report summary --format ${format} --out FILE`);
      }
      const globals = { ...g, ...(g.logFormat === undefined && config.log_format === 'json' ? { logFormat: 'json' as const } : {}) };
      const [{ runPipeline }, { runReport }, { createProgress }, { rendererFor }] = await Promise.all([
        import('../../core/pipeline/pipeline.js'),
        import('../../core/report/index.js'),
        import('../../render/progress.js'),
        import('../../render/result.js'),
      ]);
      let bar: Progress | undefined;
      let loadFiles = 0;
      let loadDone = 0;
      const onEvent = (e: PipelineEvent): void => {
        if (e.type === 'stage-start') say(ctx.io, globals, `[${e.stage}] ${e.detail}`);
        else if (e.type === 'stage-done') {
          bar?.stop();
          bar = undefined;
          say(ctx.io, globals, `[${e.stage}] done in ${e.seconds.toFixed(1)} s: ${e.detail}`);
        } else if (e.type === 'generate' && e.event.type === 'start') {
          bar = createProgress(ctx.io.stderr, { total: e.event.totalRows, unit: 'rows', enabled: !globals.quiet && globals.logFormat !== 'json' });
        } else if (e.type === 'generate' && e.event.type === 'dataset') bar?.update(e.event.doneRows, e.event.dataset);
        else if (e.type === 'load' && e.event.type === 'start') {
          // Load progress as in `surgctl load`: a bar over the files and their stages, on a terminal only.
          loadFiles = e.event.files;
          loadDone = 0;
          const live = ctx.io.stderr.isTTY === true && !globals.quiet && globals.logFormat !== 'json';
          bar = live ? createProgress(ctx.io.stderr, { total: Math.max(1, loadFiles * 100), counts: false }) : undefined;
        } else if (e.type === 'load' && e.event.type === 'file-progress') {
          bar?.update(loadDone * 100 + Math.floor((100 * (e.event.step - 1)) / e.event.of), `[${loadDone + 1}/${loadFiles}] ${e.event.path}: ${e.event.phase}`);
        } else if (e.type === 'load' && (e.event.type === 'file-done' || e.event.type === 'file-skipped')) {
          loadDone += 1;
          bar?.update(loadDone * 100, `${loadDone}/${loadFiles} files`);
          if (e.event.type === 'file-done' && globals.verbose && !globals.quiet) {
            const line = `  ${e.event.result.path}: ${e.event.result.rows_inserted} inserted, ${e.event.result.rows_quarantined} quarantined`;
            if (bar) bar.log(line);
            else say(ctx.io, globals, line, 'verbose');
          }
        }
        else if (e.type === 'transform' && e.event.type === 'model-done') say(ctx.io, globals, `  ${e.event.result.model}: ${e.event.result.status}`, 'verbose');
      };
      // The pipeline's lakehouse is its configuration's (config.db, lock_timeout_s: flags, config file, defaults).
      const lake = lakehouseFor(config.db, { ...ctx.settings(), lockTimeoutMs: config.lock_timeout_s * 1000 });
      const metricsFile = flags.metricsFile === undefined ? undefined : resolve(ctx.io.cwd, flags.metricsFile);
      const result = await runPipeline({ config, cwd: ctx.io.cwd, env: ctx.io.env, args: ['pipeline'], metricsFile }, { lake, signal: ctx.signal, onEvent });
      say(ctx.io, globals, `pipeline ${result.run_id} succeeded; lakehouse ${result.db}. Next: surgctl report top-alerts, surgctl tui, surgctl runs`);
      const render = rendererFor(format, { color: useColor(ctx.io, g), width: ctx.io.stdout.columns });
      await runReport({ name: 'summary', target: { format, stdout: ctx.io.stdout, render } }, { lake });
    });
