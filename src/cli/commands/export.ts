// `surgctl export TABLE --out PATH`: one lakehouse table or model to Parquet, CSV, NDJSON or Arrow IPC.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { EXPORT_FORMATS, type ExportFormat } from '../../core/export/formats.js';
import { UsageError } from '../../errors.js';
import { say } from '../io.js';
import type { CliContext } from '../io.js';

interface ExportFlags {
  out: string;
  format?: string;
  partitionBy?: string;
  maxPartitions?: string;
  where: string[];
  force?: boolean;
}

export const exportCommand = (ctx: CliContext): Command =>
  new Command('export')
    .description('export a lakehouse table or model to Parquet (optionally Hive-partitioned), CSV, NDJSON or Arrow IPC')
    .argument('<table>', 'a table or model, e.g. telemetry_risk, alerts, raw_vitals')
    .requiredOption('--out <path>', 'the file to write (a directory with --partition-by); - for standard output')
    .option('--format <format>', `${EXPORT_FORMATS.join(' | ')} (default: from the --out extension, else parquet)`)
    .option('--partition-by <cols>', 'Hive-partitioned Parquet by these columns, comma-separated; day(col) or hour(col) for a timestamp')
    .option('--max-partitions <n>', 'refuse, before writing, an export with more partitions than this (default: 10000)')
    .option('--where <col=value>', 'keep rows where COLUMN OP VALUE (OP: = != < <= > >=); repeat to AND', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--force', 'replace --out if it exists (a directory only if surgctl wrote it)')
    .action(async (table: string, flags: ExportFlags) => {
      const g = ctx.globals();
      const format = flags.format === undefined ? undefined : EXPORT_FORMATS.find((f) => f === flags.format);
      if (flags.format !== undefined && format === undefined) {
        throw new UsageError(`unknown export --format ${flags.format}`, { hint: `choose one of ${EXPORT_FORMATS.join(', ')}` });
      }
      const { exportTable } = await import('../../core/export/index.js');
      const result = await exportTable({
        table,
        out: flags.out === '-' ? '-' : resolve(ctx.io.cwd, flags.out),
        format: format as ExportFormat | undefined,
        partitionBy: flags.partitionBy?.split(','),
        maxPartitions: flags.maxPartitions,
        where: flags.where,
        force: flags.force,
        cwd: ctx.io.cwd,
        stdout: ctx.io.stdout,
      }, ctx.stage({ signal: ctx.signal }));
      const where = result.path === '-' ? 'standard output' : result.path;
      say(ctx.io, g, `exported ${result.rows} rows of ${result.table} to ${where} (${result.format})`);
    });
