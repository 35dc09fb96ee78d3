// `surgctl config show`: the effective configuration and where each value came from.
import { Command } from 'commander';
import { renderTextTable } from '../../render/text-table.js';
import { wantsJson, type CliContext } from '../io.js';

export const configCommand = (ctx: CliContext): Command => {
  const cmd = new Command('config').description('show the effective configuration');
  cmd
    .command('show')
    .description('print each setting, its value and where it came from (default, config, env, flag)')
    .option('--format <format>', 'table | json')
    .action(async (flags: { format?: string }) => {
      const { loadConfig } = await import('../../core/config.js');
      const { effective, file } = loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, configPath: ctx.globals().config });
      if (wantsJson(ctx.io, flags.format)) {
        ctx.io.stdout.write(`${JSON.stringify({ file, settings: effective }, null, 2)}\n`);
        return;
      }
      const rows = Object.entries(effective).map(([key, e]) => ({ key, value: e.value === null ? '' : String(e.value), from: e.from }));
      ctx.io.stdout.write(`config file: ${file ?? '(none)'}\n`);
      ctx.io.stdout.write(renderTextTable(rows, [
        { header: 'setting', value: (r) => r.key },
        { header: 'value', value: (r) => r.value },
        { header: 'from', value: (r) => r.from },
      ]));
    });
  return cmd;
};
