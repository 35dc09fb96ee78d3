// `surgctl version [--verbose]`: the surgctl version, and with --verbose what a bug report needs (Node, DuckDB,
// platform). `surgctl --version --verbose` is the same (main() routes it here).
import { Command, Option } from 'commander';
import { runtimeInfo, surgctlVersion } from '../../core/version.js';
import type { CliContext } from '../io.js';

export const versionCommand = (ctx: CliContext): Command =>
  new Command('version')
    .description('print the surgctl version; with --verbose also Node, DuckDB and the platform (for bug reports)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (flags: { format: 'text' | 'json' }) => {
      const verbose = ctx.globals().verbose === true;
      if (!verbose) {
        ctx.io.stdout.write(flags.format === 'json' ? `${JSON.stringify({ surgctl: surgctlVersion() })}\n` : `${surgctlVersion()}\n`);
        return;
      }
      const info = await runtimeInfo();
      if (flags.format === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(info)}\n`);
        return;
      }
      ctx.io.stdout.write(
        [
          `surgctl ${info.surgctl}`,
          `node ${info.node}`,
          `duckdb ${info.duckdb} (@duckdb/node-api ${info.duckdbNodeApi})`,
          `platform ${info.platform} ${info.arch}`,
        ].join('\n') + '\n',
      );
    });
