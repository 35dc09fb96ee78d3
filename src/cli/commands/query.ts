// `surgctl query "SQL"`: one read-only SELECT against the lakehouse, in any output format. `-` reads the SQL
// from stdin.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { QUERY_FORMATS, resolveFormat } from '../../core/export/formats.js';
import { UsageError } from '../../errors.js';
import { say, useColor } from '../io.js';
import { packageVersion, type CliContext } from '../io.js';

interface QueryFlags {
  format?: string;
  out?: string;
  force?: boolean;
  allowRead: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Each --allow-read must name an existing directory; returns them absolute. */
function allowedDirs(dirs: readonly string[], cwd: string): string[] {
  return dirs.map((d) => {
    const abs = resolve(cwd, d);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      throw new UsageError(`--allow-read ${d}: not a directory`, { field: '--allow-read', hint: 'name an existing directory whose files the SQL may read' });
    }
    return abs;
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const chunk of stream) s += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  return s;
}

export const queryCommand = (ctx: CliContext): Command =>
  new Command('query')
    .description('run one read-only SQL SELECT against the lakehouse (writes are refused)')
    .argument('<sql>', 'the SELECT statement, or - to read it from stdin')
    .option('--format <format>', `${QUERY_FORMATS.join(' | ')} (default: table on a terminal, json when piped)`)
    .option('--out <path>', 'write to this file instead of stdout (- for stdout; parquet and arrow need one)')
    .option('--force', 'replace --out if it exists (a file; never a directory)')
    .option('--allow-read <dir>', 'let the SQL read files in this directory (read_csv, read_text, glob ...); repeatable', collect, [])
    .addHelpText('after', '\nThe lakehouse is opened read-only and sealed: one SELECT (or EXPLAIN of one) runs; nothing can write,\n'
      + 'install, load, attach or change a setting, and no file outside the lakehouse is read unless --allow-read names\n'
      + 'its directory.\n\nExample:\n  surgctl query "SELECT level, count(*) AS n FROM alerts GROUP BY ALL ORDER BY n DESC"\n')
    .action(async (sqlArg: string, flags: QueryFlags) => {
      const g = ctx.globals();
      const stage = ctx.stage();
      // `--out -` is standard output, like no --out (binary formats included, when stdout is not a terminal).
      const out = flags.out === undefined || flags.out === '-' ? flags.out : resolve(ctx.io.cwd, flags.out);
      const toFile = out !== undefined && out !== '-';
      const format = resolveFormat(flags.format, out, ctx.io.stdout.isTTY === true, QUERY_FORMATS);
      const allowRead = allowedDirs(flags.allowRead, ctx.io.cwd);
      const sql = sqlArg === '-' ? await readAll(ctx.io.stdin) : sqlArg;
      const [{ runQuery }, { rendererFor }] = await Promise.all([import('../../core/query/index.js'), import('../../render/result.js')]);
      const render = rendererFor(format, {
        color: !toFile && useColor(ctx.io, g),
        // On a terminal a table fits its width; written to a file or a pipe it keeps every character.
        width: !toFile && ctx.io.stdout.isTTY ? ctx.io.stdout.columns : Number.MAX_SAFE_INTEGER,
        maxRows: !toFile && ctx.io.stdout.isTTY ? 200 : undefined,
        generator: `surgctl ${packageVersion()}`,
      });
      const target = { format, out, force: flags.force, cwd: ctx.io.cwd, stdout: ctx.io.stdout, render };
      const result = await runQuery({ sql, allowRead, target }, stage);
      if (result.path !== undefined) say(ctx.io, g, `wrote ${result.rows} rows to ${result.path} (${format})`);
    });
