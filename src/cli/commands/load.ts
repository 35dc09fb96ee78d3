// `surgctl load`, `surgctl loads`: parse flags, one core call, render the per-file results.
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { MetricSet, writeMetricsFile } from '../../core/metrics.js';
import { addLoadMetrics, addOutcomeMetrics } from '../../core/pipeline/metrics.js';
import type { FileLoadResult, LoadEvent, LoadInput } from '../../core/load/load.js';
import type { LoadRecord } from '../../core/load/ledger.js';
import { GateFailedError, UsageError } from '../../errors.js';
import { DATA_FORMATS, DEFAULT_MAX_INVALID, type DataFormat, type ResultFormat } from '../../core/domain.js';
import type { Progress } from '../../render/progress.js';
import { renderTextTable, type Column } from '../../render/text-table.js';
import { debugStatementLine, resultFormat, say, wantsJson, type CliContext } from '../io.js';

interface LoadFlags {
  dataset?: string;
  format?: ResultFormat | DataFormat;
  inputFormat?: DataFormat;
  force?: boolean;
  allowOrphans?: boolean;
  quarantineDir?: string;
  delimiter?: string;
  batchRows: string;
  batchSeconds: string;
  list?: boolean;
  metricsFile?: string;
  maxInvalid: string;
}

export const loadCommand = (ctx: CliContext): Command =>
  new Command('load')
    .description('validate and load files into the DuckDB lakehouse, idempotently, with a ledger')
    .argument('[inputs...]', 'files, directories, globs, or - for stdin')
    .option('--dataset <name>', 'dataset of every input (default: from each file name)')
    .option('--format <format>', 'table | json for the results (default: table on a terminal, json otherwise)')
    .addOption(new Option('--input-format <format>', 'format of - (stdin): csv | ndjson | parquet (default: sniffed)').choices(DATA_FORMATS))
    .option('--force', 'load a file again even if the same content already loaded (still idempotent by key)')
    .option('--allow-orphans', 'keep rows whose foreign keys do not resolve')
    .option('--quarantine-dir <dir>', 'where quarantine NDJSON files go', 'quarantine')
    .option('--max-invalid <n|p%>', 'exit 1 when a file has more quarantined rows than this, N rows or P% of its rows read (per file; stdin counts as one); checked after the load, which stays committed', DEFAULT_MAX_INVALID)
    .option('--delimiter <char>', 'CSV delimiter (default: sniffed)')
    .option('--batch-rows <n>', 'stdin: commit a batch every N rows', '50000')
    .option('--batch-seconds <s>', 'stdin: commit a batch at least every S seconds', '5')
    .option('--list', 'print the ledger instead of loading (same as `surgctl loads`)')
    .option('--metrics-file <path>', 'write Prometheus metrics here (textfile-collector format, atomic)')
    .action(async (inputs: string[], flags: LoadFlags) => {
      const g = ctx.globals();
      const lake = ctx.lake();
      if (flags.list) return printLedger(ctx, flags.format);
      if (inputs.length === 0) throw new UsageError('load needs at least one input file, directory, glob or -', { hint: 'e.g. surgctl load ./surgctl-data/' });
      // --format csv|ndjson|parquet was the input format of - before --input-format; it still works, with a note.
      const legacyInput = DATA_FORMATS.find((f) => f === flags.format);
      if (legacyInput) say(ctx.io, g, `surgctl: note: --format ${legacyInput} for the input is deprecated; use --input-format ${legacyInput}`, 'warn');
      const inputFormat = flags.inputFormat ?? legacyInput;
      const printed = resultFormat(ctx.io, legacyInput ? undefined : flags.format);
      if (printed !== 'table' && printed !== 'json') {
        throw new UsageError(`unknown --format ${flags.format}`, { field: '--format', hint: 'table or json for the results; --input-format csv|ndjson|parquet for the format of -' });
      }
      const [{ checkFilesLoaded, describeBreaches, overMaxInvalid }, { createProgress }] = await Promise.all([import('../../core/load/gate.js'), import('../../render/progress.js')]);
      overMaxInvalid([], flags.maxInvalid); // a bad --max-invalid is a usage error before anything loads
      const t0 = performance.now();
      // A progress bar on a terminal (stderr), nothing on a pipe; messages print above it.
      const live = ctx.io.stderr.isTTY === true && !g.quiet && g.logFormat !== 'json';
      let bar: Progress | undefined;
      let files = 0;
      let done = 0;
      const STEPS = 100;
      const tell = (message: string, level: 'info' | 'warn' | 'verbose' = 'info'): void => {
        if (bar && (level !== 'verbose' || g.verbose)) bar.log(message);
        else say(ctx.io, g, message, level);
      };
      const onEvent = (e: LoadEvent): void => {
        if (e.type === 'statement') {
          if (g.debug) tell(debugStatementLine(e));
          return;
        }
        if (e.type === 'start') {
          files = e.files;
          if (live) bar = createProgress(ctx.io.stderr, { total: Math.max(1, files * STEPS), counts: false });
          bar?.update(0, `0/${files} files`);
        }
        if (e.type === 'file-start') tell(`loading ${e.path} (${e.dataset}) as ${e.loadId}`, 'verbose');
        if (e.type === 'file-progress') bar?.update(done * STEPS + Math.floor((STEPS * (e.step - 1)) / e.of), `[${done + 1}/${files}] ${e.path}: ${e.phase}`);
        if (e.type === 'file-skipped') {
          done += 1;
          bar?.update(done * STEPS, `${done}/${files} files`);
          tell(`skipped ${e.path}: already loaded by ${e.previousLoadId} (use --force to load it again)`);
        }
        if (e.type === 'file-done') {
          done += 1;
          bar?.update(done * STEPS, `${done}/${files} files`);
          tell(describe(e.result));
        }
        if (e.type === 'abandoned') tell(`marked ${e.count} unfinished earlier load(s) as failed (interrupted; none of their rows were kept)`, 'warn');
        if (e.type === 'warning') tell(`warning: ${e.message}`, 'warn');
        if (e.type === 'quarantine-restored') tell(`wrote the missing quarantine file of ${e.loadId} from the quarantine table: ${e.path}`, 'warn');
      };
      const fromStdin = inputs.length === 1 && inputs[0] === '-';
      const { LOAD_STEPS, loadFiles } = await import('../../core/load/load.js');
      const input: LoadInput = {
        dataset: flags.dataset,
        format: inputFormat,
        delimiter: flags.delimiter,
        force: flags.force,
        allowOrphans: flags.allowOrphans,
        quarantineDir: flags.quarantineDir,
        cwd: ctx.io.cwd,
        args: ['load', ...inputs],
        atStep: faultHook(ctx.io.env.SURGCTL_FAULT, LOAD_STEPS),
      };
      const stage = { lake, signal: ctx.signal, onEvent };
      const result =
        fromStdin
          ? await (await import('../../core/load/stream.js')).loadStream({
              ...input,
              stream: ctx.io.stdin,
              batchRows: positive(flags.batchRows, '--batch-rows'),
              batchSeconds: positive(flags.batchSeconds, '--batch-seconds', true),
            }, stage)
          : await loadFiles({ ...input, inputs }, stage).finally(() => bar?.stop());
      const t = result.totals;
      say(ctx.io, g, `load: ${result.files.length} file(s), ${t.rows_read} read, ${t.rows_inserted} inserted, ${t.rows_duplicate} duplicate, ${t.rows_quarantined} quarantined in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (printed === 'json') ctx.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else ctx.io.stdout.write(renderResults(result.files));
      const failed = result.files.filter((f) => f.status === 'failed');
      const over = overMaxInvalid(result.files, flags.maxInvalid, fromStdin ? '-' : undefined);
      if (flags.metricsFile) {
        const m = addOutcomeMetrics(addLoadMetrics(new MetricSet(), result), 'load', failed.length === 0 && over.length === 0, new Date());
        writeMetricsFile(resolve(ctx.io.cwd, flags.metricsFile), m.list());
      }
      checkFilesLoaded(result.files);
      if (over.length > 0) {
        const which = describeBreaches(over);
        throw new GateFailedError(`load gate failed, more than --max-invalid ${flags.maxInvalid}: ${which}. The load is committed: the valid rows are loaded and the rest are in the quarantine`, {
          file: over[0]?.path,
          hint: 'surgctl quarantine list shows why; fix the rows and surgctl quarantine replay LOAD_ID, or raise --max-invalid',
        });
      }
    });

export const loadsCommand = (ctx: CliContext): Command =>
  new Command('loads')
    .description('print the load ledger, newest first')
    .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']))
    .action(async (flags: { format?: string }) => {
      await printLedger(ctx, flags.format);
    });

async function printLedger(ctx: CliContext, format: string | undefined): Promise<void> {
  const { readLedger } = await import('../../core/load/read.js');
  const rows = await readLedger(ctx.lake());
  if (wantsJson(ctx.io, format)) {
    ctx.io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  ctx.io.stdout.write(
    renderTextTable<LoadRecord>(rows, [
      { header: 'load_id', value: (r) => r.load_id },
      ...countColumns,
      { header: 'started_at', value: (r) => r.started_at },
      { header: 'path', value: (r) => r.path },
    ]),
  );
}

/** The columns a ledger row and a load result share: dataset, status and the row accounting. */
type Counted = Pick<FileLoadResult, 'dataset' | 'rows_read' | 'rows_inserted' | 'rows_duplicate' | 'rows_quarantined'> & { status: string };
const countColumns: Column<Counted>[] = [
  { header: 'dataset', value: (r) => r.dataset },
  { header: 'status', value: (r) => r.status },
  { header: 'read', value: (r) => r.rows_read, align: 'right' },
  { header: 'inserted', value: (r) => r.rows_inserted, align: 'right' },
  { header: 'duplicate', value: (r) => r.rows_duplicate, align: 'right' },
  { header: 'quarantined', value: (r) => r.rows_quarantined, align: 'right' },
];

function renderResults(files: FileLoadResult[]): string {
  return renderTextTable<FileLoadResult>(files, [{ header: 'file', value: (r) => r.path }, ...countColumns, { header: 'load_id', value: (r) => r.load_id }]);
}

function describe(r: FileLoadResult): string {
  if (r.status === 'failed') return `not loaded ${r.path}: ${r.message ?? 'failed'}`;
  const q = r.rows_quarantined > 0 ? `, ${r.rows_quarantined} quarantined -> ${r.quarantine_path}` : '';
  return `loaded ${r.path}: ${r.rows_read} read, ${r.rows_inserted} inserted, ${r.rows_duplicate} duplicate${q}`;
}

/**
 * SURGCTL_FAULT=<step> (a test hook, read only here): the process kills itself with SIGKILL when the load reaches
 * that step (see LOAD_STEPS), so tests can prove every step is recoverable by a rerun.
 */
function faultHook(fault: string | undefined, steps: readonly string[]): LoadInput['atStep'] {
  if (!fault) return undefined;
  if (!steps.includes(fault)) {
    throw new UsageError(`unknown SURGCTL_FAULT step ${fault}`, { hint: `one of ${steps.join(', ')}` });
  }
  return (step) => {
    if (step === fault) process.kill(process.pid, 'SIGKILL');
  };
}

function positive(value: string, flag: string, allowFraction = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (!allowFraction && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be a positive ${allowFraction ? 'number' : 'whole number'}, got "${value}"`);
  }
  return n;
}
