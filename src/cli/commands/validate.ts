// `surgctl validate`: parse flags, one core call (validateFiles), render the report; exit 1 when the gate fails.
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { MetricSet, writeMetricsFile } from '../../core/metrics.js';
import { addOutcomeMetrics, addValidateMetrics } from '../../core/pipeline/metrics.js';
import type { ValidateEvent, ValidationReport } from '../../core/validate/index.js';
import { DATA_FORMATS, DEFAULT_MAX_INVALID, VALIDATE_MAX_INVALID, type DataFormat } from '../../core/domain.js';
import { GateFailedError, UsageError } from '../../errors.js';
import type { ValidationFormat } from '../../render/validation-report.js';
import { debugStatementLine, say, useColor } from '../io.js';
import { resultFormat, type CliContext } from '../io.js';

interface ValidateFlags {
  schema?: string;
  delimiter?: string;
  quarantineDir?: string;
  validOut?: string;
  validFormat?: 'same' | 'parquet';
  maxInvalid: string;
  format?: ValidationFormat;
  limitErrors: string;
  engine: 'auto' | 'compiled' | 'ajv';
  inputFormat?: DataFormat;
  metricsFile?: string;
}

export const validateCommand = (ctx: CliContext): Command =>
  new Command('validate')
    .description('check CSV, NDJSON or Parquet files against the dataset contracts; quarantine failing rows')
    .argument('<inputs...>', 'files, directories, globs, or - for stdin')
    .option('--schema <dataset|path>', 'dataset name or JSON Schema file (default: from each file name)')
    .option('--delimiter <char>', 'CSV delimiter (default: sniffed from the header)')
    .option('--quarantine-dir <dir>', 'where quarantine NDJSON files go (one per input, never overwritten)', 'quarantine')
    .option('--valid-out <dir>', 'also write the valid rows here')
    .addOption(new Option('--valid-format <format>', 'format of --valid-out files').choices(['same', 'parquet']).default('same'))
    .option('--max-invalid <n|p%>', `quarantined rows (N) or share of rows read (P%) allowed per file before the gate fails (exit 1); stricter than load and pipeline (${DEFAULT_MAX_INVALID}) on purpose: validate is the CI gate on a data drop`, VALIDATE_MAX_INVALID)
    .addOption(new Option('--format <format>', 'report format (default: table on a terminal, json otherwise)').choices(['table', 'json', 'junit', 'github']))
    .option('--limit-errors <n>', 'examples printed per file (never limits the quarantine)', '10')
    .addOption(new Option('--engine <engine>', 'compiled SQL, ajv, or auto (compiled when it supports the schema)').choices(['auto', 'compiled', 'ajv']).default('auto'))
    .addOption(new Option('--input-format <format>', 'format of - (stdin) when it cannot be sniffed').choices(DATA_FORMATS))
    .option('--metrics-file <path>', 'write Prometheus metrics here (textfile-collector format, atomic)')
    .action(async (inputs: string[], flags: ValidateFlags) => {
      const g = ctx.globals();
      const limit = Number(flags.limitErrors);
      if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit-errors must be a whole number >= 0, got "${flags.limitErrors}"`);
      const format: ValidationFormat = resultFormat(ctx.io, flags.format);
      const progress = ctx.io.stderr.isTTY === true && format === 'table';
      // A one-line progress display on a terminal (stderr), rewritten in place; nothing when piped or --quiet.
      const live = progress && !g.quiet && g.logFormat !== 'json';
      let current = '';
      const onEvent = (e: ValidateEvent): void => {
        if (e.type === 'statement') {
          if (g.debug) ctx.io.stderr.write(`${debugStatementLine(e)}\n`);
          return;
        }
        if (e.type === 'file-start') current = `[${e.index + 1}/${e.count}] ${e.path} (${e.dataset})`;
        if (e.type === 'file-progress' && live) ctx.io.stderr.write(`\r\x1b[2K${current}: ${e.phase} ${'#'.repeat(e.step)}${'.'.repeat(e.of - e.step)}`);
        if (e.type === 'file-done') {
          if (live) ctx.io.stderr.write('\r\x1b[2K');
          say(ctx.io, g, `${e.file.path}: ${e.file.rows_quarantined} of ${e.file.rows_read} rows quarantined`, 'verbose');
        }
      };
      const [{ validateFiles }, { renderValidationReport }] = await Promise.all([
        import('../../core/validate/index.js'),
        import('../../render/validation-report.js'),
      ]);
      const report: ValidationReport = await validateFiles({
        inputs,
        cwd: ctx.io.cwd,
        schema: flags.schema,
        delimiter: flags.delimiter,
        engine: flags.engine,
        quarantineDir: flags.quarantineDir,
        validOut: flags.validOut,
        validFormat: flags.validFormat,
        maxInvalid: flags.maxInvalid,
        limitErrors: Math.max(limit, format === 'github' ? 50 : 0, 20),
        stdin: ctx.io.stdin,
        inputFormat: flags.inputFormat,
      // Ctrl-C cuts the running statement; main prints what was stopped and exits 130.
      }, ctx.work({ signal: ctx.signal, onEvent }));
      ctx.io.stdout.write(renderValidationReport(report, format, { color: useColor(ctx.io, g), limitErrors: limit }));
      if (flags.metricsFile) {
        const m = addOutcomeMetrics(addValidateMetrics(new MetricSet(), report), 'validate', report.passed, new Date());
        writeMetricsFile(resolve(ctx.io.cwd, flags.metricsFile), m.list());
      }
      if (!report.passed) {
        const failed = report.files.filter((f) => !f.passed);
        const refused = failed.find((f) => f.file_errors.length > 0);
        const fileError = refused?.file_errors[0];
        if (refused && fileError) {
          // A file that does not fit as a whole (not text, not Parquet, no header, wrong columns): say why first.
          const others = failed.filter((f) => f !== refused).map((f) => f.path);
          throw new GateFailedError(`validation failed for ${refused.path}: ${fileError.message} (${fileError.keyword})${others.length ? `; also for ${others.join(', ')}` : ''}`, {
            file: refused.path,
            hint: FILE_ERROR_HINTS[fileError.keyword] ?? 'fix the file and validate it again',
          });
        }
        throw new GateFailedError(`validation failed for ${failed.map((f) => f.path).join(', ')}`, {
          hint: 'see the quarantine files for every failing row; --max-invalid N or P% allows some',
        });
      }
    });

/** What to do about a file refused as a whole, by its file-error keyword. */
const FILE_ERROR_HINTS: Record<string, string> = {
  csv_utf16: 'convert it to UTF-8 first, e.g. iconv -f UTF-16 -t UTF-8 IN > OUT',
  csv_utf32: 'convert it to UTF-8 first, e.g. iconv -f UTF-32 -t UTF-8 IN > OUT',
  csv_binary: 'this is not a text data file: check you picked the right file (save a workbook as CSV UTF-8 first)',
  csv_invalid_utf8: 'the file is not UTF-8: convert it first, e.g. iconv -f WINDOWS-1252 -t UTF-8 IN > OUT',
  csv_empty: 'the file has no header row: check the export',
  csv_duplicate_column: 'rename or drop the repeated column in the header',
  csv_too_many_columns: 'drop the columns the schema does not name, or name them in the schema',
  required: 'the header must name every required column: check the file holds the dataset (or pass --schema)',
  parquet_invalid: 'the Parquet file is empty, cut off or not Parquet: copy or export it again',
  additionalProperties: 'the header has columns the schema does not allow: check the file holds the dataset (or pass --schema)',
};
