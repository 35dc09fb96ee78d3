// `surgctl publish`: the marts (and with --raw the raw tables) into a PostgreSQL schema, for the applications
// that serve them. One core call; the target URL's password is never printed (redacted in every message, in the
// run history and in the result).
import { Command, Option } from 'commander';
import type { PublishEvent } from '../../core/publish/index.js';
import { renderTextTable } from '../../render/text-table.js';
import { resultFormat, say, type CliContext } from '../io.js';

interface PublishFlags {
  to?: string;
  schema?: string;
  raw?: boolean;
  full?: boolean;
  format?: 'table' | 'json';
}

export const publishCommand = (ctx: CliContext): Command =>
  new Command('publish')
    .description('publish the marts into PostgreSQL (staged COPY, swapped in one transaction; incremental; idempotent)')
    .argument('[tables...]', 'marts to publish (default: all), or raw tables')
    .option('--to <url>', 'postgresql://USER[:PASSWORD]@HOST:PORT/DB (default: publish.url in the config file, else DATABASE_URL)')
    .option('--schema <name>', 'target schema (default: publish.schema in the config file, else surgctl)')
    .option('--raw', 'also publish the raw tables (raw_telemetry, raw_vitals, ...)')
    .option('--full', 'rewrite every table in full even when it is up to date or only some partitions changed')
    .addOption(new Option('--format <format>', 'table | json').choices(['table', 'json']))
    .action(async (tables: string[], flags: PublishFlags) => {
      const g = ctx.globals();
      const { loadConfig } = await import('../../core/config.js');
      const { resolvePublishTarget, runPublish } = await import('../../core/publish/index.js');
      const { publish } = loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, configPath: g.config });
      const target = resolvePublishTarget({ to: flags.to, schema: flags.schema, config: publish, env: ctx.io.env });
      ctx.lake().requireExisting();
      const args = [...tables, '--to', target.redacted, '--schema', target.schema, ...(flags.raw ? ['--raw'] : []), ...(flags.full ? ['--full'] : [])];
      const progress = ctx.io.stderr.isTTY === true && !g.quiet;
      const result = await runPublish({ target, tables, raw: flags.raw, full: flags.full, args }, ctx.stage<PublishEvent>({
        signal: ctx.signal,
        onEvent: progress
          ? (e) => {
              if (e.type === 'table-start') ctx.io.stderr.write(`  ${e.mode.padEnd(11)} ${e.table} ...\n`);
            }
          : undefined,
      }));
      if (resultFormat(ctx.io, flags.format) === 'json') ctx.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        ctx.io.stdout.write(
          renderTextTable(result.tables, [
            { header: 'table', value: (t) => t.table },
            { header: 'mode', value: (t) => t.mode },
            { header: 'rows_written', value: (t) => String(t.rows_written) },
            { header: 'rows_total', value: (t) => String(t.rows_total) },
            { header: 'reason', value: (t) => t.reason },
          ]),
        );
      }
      say(
        ctx.io,
        g,
        result.changed
          ? `published transform run ${result.transform_run_id} to ${result.target} schema ${result.schema} in ${(result.duration_ms / 1000).toFixed(1)} s`
          : `${result.target} schema ${result.schema} already holds transform run ${result.transform_run_id}: nothing to publish`,
      );
    });
