// The output formats of report, query and export, and how one is chosen: --format, else the --out extension,
// else table on a terminal and json when piped.
import { extname } from 'node:path';
import { UsageError } from '../../errors.js';

export const OUTPUT_FORMATS = ['table', 'json', 'ndjson', 'csv', 'markdown', 'html', 'parquet', 'arrow'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Formats written by DuckDB or apache-arrow straight to a file; they need --out. */
export const FILE_FORMATS = ['parquet', 'arrow'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];
export type TextFormat = Exclude<OutputFormat, FileFormat>;

export const EXPORT_FORMATS = ['parquet', 'csv', 'ndjson', 'arrow'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

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

/**
 * Picks the output format. Throws UsageError for an unknown --format, and for parquet/arrow without --out
 * (binary formats never go to a terminal or pipe).
 */
export function resolveFormat(
  flag: string | undefined,
  out: string | undefined,
  stdoutIsTty: boolean,
  allowed: readonly OutputFormat[] = OUTPUT_FORMATS,
): OutputFormat {
  let format: OutputFormat;
  if (flag !== undefined) {
    const f = allowed.find((a) => a === flag);
    if (f === undefined) throw new UsageError(`unknown --format ${flag}`, { hint: `choose one of ${allowed.join(', ')}` });
    format = f;
  } else if (out !== undefined) {
    const f = BY_EXTENSION[extname(out).toLowerCase()];
    format = f !== undefined && allowed.includes(f) ? f : (allowed[0] ?? 'json');
  } else {
    format = stdoutIsTty ? 'table' : 'json';
    if (!allowed.includes(format)) format = allowed[0] ?? 'json';
  }
  if (isFileFormat(format) && out === undefined) {
    throw new UsageError(`--format ${format} writes a binary file and needs --out PATH`, {
      hint: `e.g. --format ${format} --out result.${format}`,
    });
  }
  return format;
}
