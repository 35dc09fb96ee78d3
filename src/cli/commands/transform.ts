// `surgctl transform`: build the marts from the raw tables (full or incremental), run the model tests.
// Exit 1 when a model test fails (unless --warn-only); 3 when a model fails.
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { MetricSet, readMetricValue, writeMetricsFile } from '../../core/metrics.js';
import { addAlertMetrics, addOutcomeMetrics, addStageMetric } from '../../core/pipeline/metrics.js';
import type { TransformEvent, TransformResult } from '../../core/transform/transform.js';
import { GateFailedError } from '../../errors.js';
import { renderTextTable } from '../../render/text-table.js';
import { say } from '../io.js';
import { resultFormat, type CliContext } from '../io.js';

interface TransformFlags {
  select?: string[];
  dryRun?: boolean;
  warnOnly?: boolean;
  fullRefresh?: boolean;
  rules?: string;
  metricsFile?: string;
  format?: 'table' | 'json';
}

export const transformCommand = (ctx: CliContext): Command =>
  new Command('transform')
    .description('run the SQL models: risk scores, alerts, NEWS2, hourly aggregates, trends and KPI marts')
    .option('--select <models...>', 'only these models; NAME+ adds everything downstream (comma lists work too)')
    .option('--dry-run', 'show what would run and why, change nothing')
    .option('--warn-only', 'report failing model tests without failing the command')
    .option('--full-refresh', 'rebuild every mart even when an incremental run would do')
    .option('--rules <path>', 'project rules file merged over the defaults (default: ./surgctl.rules.json)')
    .option('--metrics-file <path>', 'write Prometheus metrics here (textfile-collector format, atomic)')
    .addOption(new Option('--format <format>', 'table | json').choices(['table', 'json']))
    .action(async (flags: TransformFlags) => {
      const globals = ctx.globals();
      ctx.lake().requireExisting();
      const progress = ctx.io.stderr.isTTY === true && !globals.quiet && flags.format !== 'json';
      const writeMetrics = (m: MetricSet, ok: boolean): void => {
        if (!flags.metricsFile) return;
        const path = resolve(ctx.io.cwd, flags.metricsFile);
        addOutcomeMetrics(m, 'transform', ok, new Date());
        if (!ok) {
          // A failed run keeps the previous success time, so an alert on staleness still measures from it.
          const last = readMetricValue(path, 'surgctl_last_success_timestamp_seconds', { command: 'transform' });
          if (last !== undefined) m.add('surgctl_last_success_timestamp_seconds', 'gauge', 'Unix time of the last successful run.', last, { command: 'transform' });
        }
        writeMetricsFile(path, m.list());
      };
      const { runTransform } = await import('../../core/transform/transform.js');
      let result: TransformResult;
      try {
        result = await runTransform({
          cwd: ctx.io.cwd,
          env: ctx.io.env,
          rulesPath: flags.rules,
          select: flags.select,
          dryRun: flags.dryRun,
          fullRefresh: flags.fullRefresh,
          args: flagArgs(flags),
        }, ctx.stage<TransformEvent>({
          signal: ctx.signal,
          onEvent: progress
            ? (e) => {
                if (e.type === 'model-done') ctx.io.stderr.write(`  ${e.result.status.padEnd(10)} ${e.result.model} (${e.result.duration_ms} ms)\n`);
              }
            : undefined,
        }));
      } catch (e) {
        if (!flags.dryRun) writeMetrics(new MetricSet(), false);
        throw e;
      }
      const format = resultFormat(ctx.io, flags.format);
      if (format === 'json') ctx.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else ctx.io.stdout.write(renderResult(result));
      const failing = result.tests.filter((t) => t.status === 'fail');
      if (!result.dry_run) {
        writeMetrics(addStageMetric(addAlertMetrics(new MetricSet(), result.alerts_by_level), 'transform', result.duration_ms / 1000), failing.length === 0);
      }
      if (failing.length > 0) {
        const list = failing.slice(0, 5).map((t) => `${t.model} ${t.test} (${t.failures})`).join('; ');
        const message = `${failing.length} model test${failing.length === 1 ? '' : 's'} failed: ${list}${failing.length > 5 ? '; ...' : ''}`;
        if (!flags.warnOnly) {
          throw new GateFailedError(message, { hint: 'the marts were built; see model_tests in the lakehouse, or pass --warn-only to report without failing' });
        }
        say(ctx.io, globals, `warning: ${message}`, 'warn');
      }
    });

/** The flags as argv words, for the run history. */
function flagArgs(flags: TransformFlags): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(flags)) {
    const name = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (v === true) out.push(name);
    else if (Array.isArray(v)) out.push(name, ...v.map(String));
    else if (typeof v === 'string') out.push(name, v);
  }
  return out;
}

function renderResult(r: TransformResult): string {
  const head = [
    `transform ${r.dry_run ? '(dry run) ' : ''}${r.mode}${r.reason ? ` (${r.reason})` : ''}`,
    `rules ${r.rules.version}${r.rules.file ? ` from ${r.rules.file}` : ' (defaults)'}`,
    `${r.new_loads.length} new load${r.new_loads.length === 1 ? '' : 's'}`,
  ];
  if (r.scope) head.push(`scope: ${r.scope.procedures} procedures, ${r.scope.patients} patients, ${r.scope.patient_hours} patient-hours`);
  const table = renderTextTable(r.models, [
    { header: 'model', value: (m) => m.model },
    { header: 'action', value: (m) => m.action },
    { header: 'status', value: (m) => m.status },
    { header: 'rows', value: (m) => m.rows, align: 'right' },
    { header: 'ms', value: (m) => m.duration_ms, align: 'right' },
  ]);
  const passed = r.tests.filter((t) => t.status === 'pass').length;
  const failedTests = r.tests.filter((t) => t.status === 'fail');
  const tests = r.dry_run
    ? ''
    : `tests: ${passed} passed, ${failedTests.length} failed${failedTests.map((t) => `\n  FAIL ${t.model} ${t.test}: ${t.failures}`).join('')}\n`;
  return `${head.join(' · ')}\n${table}${tests}`;
}
