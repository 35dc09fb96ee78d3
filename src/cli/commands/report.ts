// `surgctl report NAME`: parse flags, one core call (runReport), rendered by src/render.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { OUTPUT_FORMATS, resolveFormat } from '../../core/export/formats.js';
import { RISK_LEVELS } from '../../core/report/filters.js';
import { listReports } from '../../core/report/reports.js';
import { say, useColor } from '../io.js';
import { packageVersion, type CliContext } from '../io.js';

interface ReportFlags {
  patient?: string;
  procedure?: string;
  robot?: string;
  since?: string;
  until?: string;
  minLevel?: string;
  limit?: string;
  all?: boolean;
  format?: string;
  out?: string;
  force?: boolean;
}

/** Rows a terminal table shows before it says how many more there are. */
const TTY_ROWS = 200;

export const reportCommand = (ctx: CliContext): Command =>
  new Command('report')
    .description('KPI reports over the lakehouse marts (read-only), as a table, JSON, CSV, Markdown, HTML, Parquet or Arrow')
    .argument('<name>', `report: ${listReports().map((r) => r.name).join(', ')}`)
    .argument('[text...]', 'for report search: the text to look for')
    .option('--patient <id>', 'only this patient')
    .option('--procedure <id>', 'only this procedure')
    .option('--robot <id>', 'only this robot')
    .option('--since <instant>', 'from this date or ISO 8601 instant (inclusive, UTC)')
    .option('--until <instant>', 'up to this date or instant (exclusive, UTC)')
    .option('--min-level <level>', `at least this risk level: ${RISK_LEVELS.join(', ')}`)
    .option('--limit <n>', 'at most n rows (vitals-hourly, news2 and timeline give 1000 unless told, top-alerts 20, search 100)')
    .option('--all', 'every row: no default limit (what a JSON or CSV consumer of vitals-hourly, news2 or timeline wants)')
    .option('--format <format>', `${OUTPUT_FORMATS.join(' | ')} (default: table on a terminal, json when piped)`)
    .option('--out <path>', 'write to this file instead of stdout (- for stdout; parquet and arrow need one)')
    .option('--force', 'replace --out if it exists (a file; never a directory)')
    .addHelpText('after', `\nReports:\n${listReports().map((r) => `  ${r.name.padEnd(15)} ${r.description}`).join('\n')}\n`)
    .action(async (name: string, text: string[], flags: ReportFlags) => {
      const g = ctx.globals();
      const stage = ctx.stage();
      // `--out -` is standard output, like no --out (binary formats included, when stdout is not a terminal).
      const out = flags.out === undefined || flags.out === '-' ? flags.out : resolve(ctx.io.cwd, flags.out);
      const toFile = out !== undefined && out !== '-';
      const format = resolveFormat(flags.format, out, ctx.io.stdout.isTTY === true);
      const [{ runReport }, { rendererFor }] = await Promise.all([import('../../core/report/index.js'), import('../../render/result.js')]);
      const render = rendererFor(format, {
        color: !toFile && useColor(ctx.io, g),
        // On a terminal a table fits its width; written to a file or a pipe it keeps every character.
        width: !toFile && ctx.io.stdout.isTTY ? ctx.io.stdout.columns : Number.MAX_SAFE_INTEGER,
        maxRows: !toFile && ctx.io.stdout.isTTY ? TTY_ROWS : undefined,
        generator: `surgctl ${packageVersion()}`,
      });
      const result = await runReport(
        {
          name,
          filters: {
            patient: flags.patient,
            procedure: flags.procedure,
            robot: flags.robot,
            since: flags.since,
            until: flags.until,
            minLevel: flags.minLevel,
            limit: flags.limit,
            all: flags.all,
            text: text.length > 0 ? text.join(' ') : undefined,
          },
          target: { format, out, force: flags.force, cwd: ctx.io.cwd, stdout: ctx.io.stdout, render },
        },
        stage,
      );
      // vega-lite writes the report's charts, not its rows.
      const what = format === 'vega-lite' ? `${result.rows} chart${result.rows === 1 ? '' : 's'}` : `${result.rows} rows`;
      if (result.path !== undefined) say(ctx.io, g, `wrote report ${result.report}: ${what} to ${result.path} (${format})`);
      const cap = result.defaultLimit;
      if (cap !== undefined && format !== 'vega-lite' && result.rows >= cap) {
        say(ctx.io, g, `report ${result.report}: the first ${cap} rows (its default limit); --limit N or --all for more`);
      }
    });
