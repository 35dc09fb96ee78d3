// The output formats of report, query and export, and how one is chosen: --format and the --out extension must
// agree; without --format the extension decides; else table on a terminal and json when piped.
import { basename, extname } from 'node:path';
import { UsageError } from '../../errors.js';

import { FILE_FORMATS, OUTPUT_FORMATS, type FileFormat, type OutputFormat } from '../domain.js';

export { EXPORT_FORMATS, FILE_FORMATS, OUTPUT_FORMATS, QUERY_FORMATS, type ExportFormat, type FileFormat, type OutputFormat, type TextFormat } from '../domain.js';

const BY_EXTENSION: Record<string, OutputFormat> = {
  '.parquet': 'parquet',
  '.arrow': 'arrow',
  '.arrows': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.txt': 'table',
};

export function isFileFormat(f: OutputFormat): f is FileFormat {
  return (FILE_FORMATS as readonly string[]).includes(f);
}

/** Extensions that name some other kind of file: writing surgctl's output under them is always an error. */
const FOREIGN_EXTENSIONS = new Set([
  '.xlsx', '.xls', '.xlsm', '.ods', '.odt', '.doc', '.docx', '.pdf', '.pptx', '.tsv', '.xml', '.yaml', '.yml', '.sql',
  '.zip', '.gz', '.tgz', '.bz2', '.xz', '.zst', '.tar', '.7z', '.duckdb', '.db', '.sqlite', '.sqlite3', '.wal',
  '.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.js', '.ts', '.py', '.sh', '.exe',
]);

/** The extension each format is usually written with (for hints). */
const EXTENSION_OF: Record<OutputFormat, string> = {
  table: '.txt', json: '.json', ndjson: '.ndjson', csv: '.csv', markdown: '.md', html: '.html', 'vega-lite': '.vl.json', parquet: '.parquet', arrow: '.arrow',
};

export interface FormatChoice {
  /** The format when neither --format nor the --out extension says (default: table on a terminal, else json). */
  fallback?: OutputFormat | undefined;
  /** What a `.json` --out means for this command (export writes NDJSON there). */
  json?: OutputFormat | undefined;
  /** The command, for messages (e.g. "export"). */
  command?: string | undefined;
}

function choices(allowed: readonly OutputFormat[], json: OutputFormat): string {
  return allowed
    .map((f) => {
      const exts = Object.entries(BY_EXTENSION)
        .filter(([e, g]) => (e === '.json' ? json : g) === f)
        .map(([e]) => e);
      return `${f} (${exts.join(' ') || 'any name'})`;
    })
    .join(', ');
}

/**
 * Picks the output format from --format and the --out extension (`-` or no --out: standard output). Rules: a
 * known extension that contradicts --format is an error naming both; without --format the extension decides; an
 * extension of another kind of file (.xlsx, .duckdb, ...), or an unknown one without --format, is an error that
 * lists the choices; no extension takes --format or the fallback. Binary formats (parquet, arrow) need --out: a
 * file, or `-` when standard output is not a terminal. Throws UsageError (exit 2).
 */
export function resolveFormat(
  flag: string | undefined,
  out: string | undefined,
  stdoutIsTty: boolean,
  allowed: readonly OutputFormat[] = OUTPUT_FORMATS,
  choice: FormatChoice = {},
): OutputFormat {
  const jsonAs = choice.json ?? 'json';
  const who = choice.command === undefined ? '' : `${choice.command} `;
  let format: OutputFormat | undefined;
  if (flag !== undefined) {
    format = allowed.find((a) => a === flag);
    if (format === undefined) throw new UsageError(`unknown ${who}--format ${flag}`, { field: '--format', hint: `choose one of ${allowed.join(', ')}` });
  }
  const toFile = out !== undefined && out !== '-';
  if (toFile) {
    const ext = extname(out).toLowerCase();
    // Vega-Lite specs are JSON files too (charts.vl.json): a .json --out agrees with --format vega-lite.
    const byExt = ext === '.json' ? (format === 'vega-lite' ? 'vega-lite' : jsonAs) : BY_EXTENSION[ext];
    const name = basename(out);
    if (byExt !== undefined) {
      if (!allowed.includes(byExt)) {
        throw new UsageError(`--out ${name}: ${ext} is ${byExt}, which ${who}cannot write`, {
          field: '--out',
          hint: `choose one of ${choices(allowed, jsonAs)}`,
        });
      }
      if (format !== undefined && format !== byExt) {
        throw new UsageError(`--out ${name} has the extension ${ext} (${byExt}) but --format is ${format}`, {
          field: '--out',
          hint: `name it ${name.slice(0, name.length - ext.length)}${EXTENSION_OF[format]}, or drop --format and the extension decides`,
        });
      }
      format = byExt;
    } else if (ext !== '' && (FOREIGN_EXTENSIONS.has(ext) || format === undefined)) {
      throw new UsageError(`--out ${name}: surgctl ${who}does not write ${ext} files`, {
        field: '--out',
        hint: `choose one of ${choices(allowed, jsonAs)}`,
      });
    }
  }
  if (format === undefined) {
    // A file without an extension keeps the old default (the command's first format); stdout follows the terminal.
    format = choice.fallback ?? (toFile ? allowed[0] : stdoutIsTty ? 'table' : 'json') ?? 'json';
    if (!allowed.includes(format)) format = allowed[0] ?? 'json';
  }
  if (isFileFormat(format)) {
    if (out === undefined) {
      throw new UsageError(`--format ${format} writes a binary file and needs --out PATH`, {
        hint: `e.g. --format ${format} --out result.${format}, or --out - to pipe it`,
      });
    }
    if (out === '-' && stdoutIsTty) {
      throw new UsageError(`--format ${format} is binary and standard output is a terminal`, {
        field: '--out',
        hint: `pipe or redirect it (--out - | duckdb, --out - > result.${format}), write a file with --out result.${format}, or choose a text --format`,
      });
    }
  }
  return format;
}
