// `surgctl quarantine list|show|replay`: the quarantine lifecycle.
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { renderTextTable } from '../../render/text-table.js';
import { say } from '../io.js';
import { wantsJson, type CliContext } from '../io.js';

const machine = (ctx: CliContext, format: string | undefined): boolean => wantsJson(ctx.io, format);

export const quarantineCommand = (ctx: CliContext): Command => {
  const cmd = new Command('quarantine').description('list, show and replay quarantined rows');
  cmd
    .command('list')
    .description('loads that hold quarantined rows, with open (not yet replayed) counts')
    .option('--format <format>', 'table | json')
    .action(async (flags: { format?: string }) => {
      const { readQuarantineSummary } = await import('../../core/load/read.js');
      const rows = await readQuarantineSummary(ctx.lake());
      if (machine(ctx, flags.format)) ctx.io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else
        ctx.io.stdout.write(
          renderTextTable(rows, [
            { header: 'load_id', value: (r) => r.load_id },
            { header: 'dataset', value: (r) => r.dataset },
            { header: 'rows', value: (r) => r.rows, align: 'right' },
            { header: 'open', value: (r) => r.open_rows, align: 'right' },
            { header: 'rules', value: (r) => r.rules },
            { header: 'file', value: (r) => r.file },
          ]),
        );
    });
  cmd
    .command('show')
    .description('the quarantined rows of one load, with their reasons')
    .argument('<load_id>')
    .option('--limit <n>', 'rows to show', '100')
    .option('--format <format>', 'table | json')
    .action(async (loadId: string, flags: { limit: string; format?: string }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit must be a positive whole number, got "${flags.limit}"`);
      const { readQuarantineRows } = await import('../../core/load/read.js');
      const rows = await readQuarantineRows(ctx.lake(), loadId, limit);
      if (machine(ctx, flags.format)) {
        ctx.io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      ctx.io.stdout.write(
        renderTextTable(rows, [
          { header: 'line', value: (r) => r.line, align: 'right' },
          { header: 'rule', value: (r) => r.rule },
          { header: 'reasons', value: (r) => reasons(r.errors) },
          { header: 'replayed_by', value: (r) => r.replayed_by },
        ]),
      );
    });
  cmd
    .command('replay')
    .description('re-validate a load\'s quarantined rows against the current schema and load those now valid')
    .argument('<load_id>')
    .option('--allow-orphans', 'keep rows whose foreign keys do not resolve')
    .option('--quarantine-dir <dir>', 'where quarantine NDJSON files go', 'quarantine')
    .option('--format <format>', 'table | json')
    .action(async (loadId: string, flags: { allowOrphans?: boolean; quarantineDir: string; format?: string }) => {
      const { replayQuarantine } = await import('../../core/load/quarantine.js');
      const r = await replayQuarantine({
        loadId,
        allowOrphans: flags.allowOrphans,
        quarantineDir: flags.quarantineDir,
        cwd: ctx.io.cwd,
      }, ctx.stage({ signal: ctx.signal }));
      if (machine(ctx, flags.format)) {
        ctx.io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const res = r.result;
      ctx.io.stdout.write(
        res
          ? `replayed ${r.candidates} row(s) of ${loadId} as ${res.load_id}: ${res.rows_inserted} loaded, ${res.rows_duplicate} already present, ${res.rows_quarantined} still quarantined` +
              (r.not_replayable ? `; ${r.not_replayable} structurally broken row(s) left as they were` : '') + '\n'
          : `nothing to replay for ${loadId}${r.not_replayable ? ` (${r.not_replayable} structurally broken row(s) cannot be re-checked)` : ''}\n`,
      );
      say(ctx.io, ctx.globals(), 'surgctl quarantine list shows what is still held', 'verbose');
    });
  return cmd;
};

function reasons(errors: unknown): string {
  if (!Array.isArray(errors)) return String(errors);
  return errors
    .map((e: { field?: string; keyword?: string; message?: string }) => `${e.field ?? ''} ${e.keyword ?? ''}: ${e.message ?? ''}`.trim())
    .join('; ');
}
