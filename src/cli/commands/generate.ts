// `surgctl generate`: parse flags, one core call (generateDataset), render a summary. Data goes to files; the
// summary goes to stdout, a table on a terminal and JSON when piped (--format forces); a progress bar only on a TTY.
import { Command } from 'commander';
import { resolve } from 'node:path';
import { DATA_FORMATS as DATA_FORMAT_NAMES } from '../../core/domain.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { wantsJson, type CliContext } from '../io.js';
import { say } from '../io.js';
import { DEFAULT_BAD_ROWS, DEFAULT_REFERENCE_DATE } from '../../core/domain.js';
import type { GenerateEvent, GenerateOptions, GenerateResult } from '../../core/generate/index.js';

// fhir: FHIR R4 Bulk Data NDJSON of the same dataset (Observation, Patient, Procedure, Device), for `import fhir`.
const DATA_FORMATS: readonly string[] = [...DATA_FORMAT_NAMES, 'fhir'];

interface Flags {
  out: string;
  seed?: string;
  format?: string[];
  dataFormat?: string;
  robots?: string;
  patients?: string;
  procedures?: string;
  telemetryRows?: string;
  telemetryHz?: string;
  vitalsInterval?: string;
  vitalsHours?: string;
  start?: string;
  badRows?: string;
  incidents?: string;
  shard?: string;
  scale?: string;
  datasets?: string;
  force?: boolean;
}

function integer(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = v.replaceAll('_', '');
  if (!/^\d+$/.test(s)) throw new UsageError(`${flag} must be a whole number, got "${v}"`, { field: flag });
  return Number(s);
}

function number(flag: string, v: string | undefined, percentAllowed = false): number | undefined {
  if (v === undefined) return undefined;
  const pct = percentAllowed && v.endsWith('%');
  const s = pct ? v.slice(0, -1) : v;
  if (!/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) {
    throw new UsageError(`${flag} must be a number${percentAllowed ? ' (or a percentage like 2%)' : ''}, got "${v}"`, { field: flag });
  }
  return pct ? Number(s) / 100 : Number(s);
}

/**
 * --format may repeat or hold a comma list: table | json for the summary; csv | ndjson | parquet there is the old
 * spelling of --data-format (still accepted, with a deprecation note). Returns the data format and summary format.
 */
function formats(values: string[], dataFormat: string | undefined): { data: GenerateOptions['format']; summary: 'table' | 'json' | undefined; deprecated: string | undefined } {
  let data: string | undefined;
  let summary: 'table' | 'json' | undefined;
  let deprecated: string | undefined;
  for (const v of values.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    if (v === 'json' || v === 'table') summary = v;
    else if (DATA_FORMATS.includes(v)) {
      if (data !== undefined && data !== v) throw new UsageError(`--format names two data formats: ${data} and ${v}`, { field: '--format' });
      data = v;
      deprecated = v;
    } else {
      throw new UsageError(`unknown format "${v}"`, { field: '--format', hint: 'the summary: --format table|json; the data: --data-format csv|ndjson|parquet|fhir' });
    }
  }
  if (dataFormat !== undefined) {
    if (!DATA_FORMATS.includes(dataFormat)) {
      throw new UsageError(`unknown --data-format "${dataFormat}"`, { field: '--data-format', hint: 'csv, ndjson, parquet or fhir' });
    }
    if (data !== undefined && data !== dataFormat) throw new UsageError(`--format ${data} and --data-format ${dataFormat} disagree`, { field: '--data-format', hint: 'give the data format once, with --data-format' });
    data = dataFormat;
  }
  return { data: data as GenerateOptions['format'], summary, deprecated };
}

function toOptions(flags: Flags, cwd: string, parseShard: (s: string) => { index: number; count: number }): GenerateOptions {
  const { data } = formats(flags.format ?? [], flags.dataFormat);
  const o: GenerateOptions = { out: flags.out === '-' ? '-' : resolve(cwd, flags.out), cwd };
  const set = <K extends keyof GenerateOptions>(k: K, v: GenerateOptions[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set('seed', integer('--seed', flags.seed));
  set('format', data);
  set('robots', integer('--robots', flags.robots));
  set('patients', integer('--patients', flags.patients));
  set('procedures', integer('--procedures', flags.procedures));
  set('telemetryRows', integer('--telemetry-rows', flags.telemetryRows));
  set('telemetryHz', number('--telemetry-hz', flags.telemetryHz));
  set('vitalsIntervalMin', integer('--vitals-interval', flags.vitalsInterval));
  set('vitalsHours', integer('--vitals-hours', flags.vitalsHours));
  set('start', flags.start);
  set('badRows', number('--bad-rows', flags.badRows, true));
  set('incidents', number('--incidents', flags.incidents, true));
  set('scale', number('--scale', flags.scale));
  set('shard', flags.shard === undefined ? undefined : parseShard(flags.shard));
  set('datasets', flags.datasets?.split(',').map((d) => d.trim()).filter(Boolean));
  set('force', flags.force);
  return o;
}

function summaryJson(r: GenerateResult): Record<string, unknown> {
  const m = r.manifest;
  const count = <T>(items: T[], key: (t: T) => string): Record<string, number> =>
    items.reduce<Record<string, number>>((acc, x) => ((acc[key(x)] = (acc[key(x)] ?? 0) + 1), acc), {});
  return {
    out: r.outDir,
    seconds: Math.round(r.seconds * 1000) / 1000,
    seed: m.seed,
    format: m.options.format,
    shard: m.shard,
    files: m.files.map((f) => ({ path: f.path, dataset: f.dataset, rows: f.rows, bytes: f.bytes })),
    rows: m.files.reduce((s, f) => s + f.rows, 0),
    bad_rows: m.bad_rows.length,
    bad_rows_by_kind: count(m.bad_rows, (b) => b.kind),
    incidents: m.incidents.length,
    incidents_by_kind: count(m.incidents, (i) => i.kind),
    manifest: 'manifest.json',
  };
}

function summaryText(r: GenerateResult): string {
  const m = r.manifest;
  const width = Math.max(...m.files.map((f) => f.path.length));
  const lines = m.files.map((f) => `  ${f.path.padEnd(width)}  ${f.rows.toLocaleString('en-US').padStart(12)} rows  ${(f.bytes / 2 ** 20).toFixed(1).padStart(8)} MiB`);
  const shard = m.shard.count > 1 ? ` (shard ${m.shard.index}/${m.shard.count})` : '';
  return [
    `generated ${m.files.length} files in ${r.outDir}${shard} in ${r.seconds.toFixed(1)} s (seed ${m.seed})`,
    ...lines,
    `  ${m.bad_rows.length} labelled bad rows, ${m.incidents.length} planted incidents: see manifest.json`,
  ].join('\n');
}

export const generateCommand = (ctx: CliContext): Command =>
  new Command('generate')
    .description('generate a seeded synthetic dataset (robots, patients, procedures, telemetry, vitals, outcomes, maintenance) with labelled bad rows, planted incidents and a manifest')
    .option('--out <dir>', 'output directory (written to a temporary name, then renamed)', 'surgctl-data')
    .option('--seed <n>', 'seed: same seed and options give byte-identical files (default: 7)')
    .option('--data-format <format>', 'format of the data files: csv | ndjson | parquet | fhir (FHIR R4 Bulk Data NDJSON) (default: csv)')
    .option('--format <format>', 'summary on stdout: table | json (default: table on a terminal, json otherwise); csv | ndjson | parquet here is deprecated, use --data-format', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--robots <n>', 'robots (default: 8)')
    .option('--patients <n>', 'patients (default: 200)')
    .option('--procedures <n>', 'procedures (default: 300)')
    .option('--telemetry-rows <n>', 'telemetry rows in total, spread by procedure duration, recorded in windows around the surgical steps (default: 200000)')
    .option('--telemetry-hz <hz>', 'samples per second per robot arm inside a window (default: 10); alone, without --telemetry-rows: every second of every procedure')
    .option('--vitals-interval <min>', 'minutes between vital-sign readings, a divisor of 60 (default: 15)')
    .option('--vitals-hours <h>', 'hours of post-operative monitoring per procedure (default: 12)')
    .option('--start <instant>', `reference date procedures start from, never the clock (default: ${DEFAULT_REFERENCE_DATE})`)
    .option('--bad-rows <rate>', `fraction of rows per file that are labelled bad rows, e.g. 0.01 or 1% (default: ${DEFAULT_BAD_ROWS})`)
    .option('--incidents <rate>', 'fraction of procedures with a planted robot incident, and of stays with a deterioration (default: 0.05)')
    .option('--scale <x>', 'multiply the default sizes not given explicitly (e.g. --scale 25 for 5M telemetry rows)')
    .option('--shard <i/n>', 'write only part i of n; parts are disjoint and together equal the unsharded output')
    .option('--datasets <list>', 'comma-separated datasets to write (default: all)')
    .option('--force', 'replace an existing output directory (only one generate wrote)')
    .action(async (flags: Flags) => {
      const g = ctx.globals();
      const [core, { createProgress }] = await Promise.all([import('../../core/generate/index.js'), import('../../render/progress.js')]);
      const options = toOptions(flags, ctx.io.cwd, core.parseShard);
      const { summary, deprecated } = formats(flags.format ?? [], flags.dataFormat);
      if (deprecated !== undefined) say(ctx.io, g, `surgctl: note: --format ${deprecated} for the data files is deprecated; use --data-format ${deprecated}`, 'warn');
      // The summary follows the rule of every command: a table on a terminal, JSON when stdout is piped.
      const json = wantsJson(ctx.io, summary);
      const progress = createProgress(ctx.io.stderr, { total: 1, unit: 'rows', enabled: !g.quiet && g.logFormat !== 'json' });
      // Ctrl-C (main's handler aborts ctx.signal) stops the run cleanly: the core removes its temporary output and
      // main exits 130.
      try {
        const result = await core.generateDataset(options, ctx.work<GenerateEvent>({
          signal: ctx.signal,
          onEvent: (e) => {
            if (e.type === 'start') progress.setTotal(Math.max(1, e.totalRows));
            else progress.update(e.doneRows, e.dataset);
          },
        }));
        progress.stop();
        ctx.io.stdout.write(json ? `${JSON.stringify(summaryJson(result))}\n` : `${summaryText(result)}\n`);
      } catch (e) {
        if (e instanceof InterruptedError && e.message === 'interrupted') {
          throw new InterruptedError(`generate stopped; the temporary output was removed and ${options.out} was not written`);
        }
        throw e;
      } finally {
        progress.stop();
      }
    });
