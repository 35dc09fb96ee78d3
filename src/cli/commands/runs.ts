// `surgctl runs` and `surgctl runs show ID`: the run history kept in the lakehouse.
import { Command } from 'commander';
import type { Db } from '../../db/db.js';
import { UsageError } from '../../errors.js';
import { renderTextTable } from '../../render/text-table.js';
import { wantsJson, type CliContext } from '../io.js';

function withDb<T>(ctx: CliContext, fn: (db: Db) => Promise<T>): Promise<T> {
  return ctx.lake().withReader(fn);
}

export const runsCommand = (ctx: CliContext): Command => {
  const cmd = new Command('runs')
    .description('list recorded pipeline, load and transform runs, newest first')
    .option('--limit <n>', 'how many', '50')
    .option('--format <format>', 'table | json')
    .action(async (flags: { limit: string; format?: string }) => {
      const { listRuns } = await import('../../core/runs.js');
      const runs = await withDb(ctx, (db) => listRuns(db, Number(flags.limit) || 50));
      if (wantsJson(ctx.io, flags.format)) {
        ctx.io.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      ctx.io.stdout.write(renderTextTable(runs, [
        { header: 'run_id', value: (r) => r.run_id },
        { header: 'command', value: (r) => r.command },
        { header: 'status', value: (r) => r.status },
        { header: 'started_at', value: (r) => r.started_at },
        { header: 'finished_at', value: (r) => r.finished_at },
      ]));
    });
  cmd
    .command('show')
    .description('one run in detail')
    .argument('<run_id>')
    .action(async (runId: string) => {
      const { getRun } = await import('../../core/runs.js');
      const run = await withDb(ctx, (db) => getRun(db, runId));
      if (!run) throw new UsageError(`no run with id ${runId}`, { hint: 'surgctl runs lists the recorded runs' });
      ctx.io.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    });
  return cmd;
};
