// Input discovery: files, directories and globs expanded to data files; the input format from the name or the
// first bytes; stdin spooled to a temporary file (streamed, bounded memory).
import { closeSync, createWriteStream, existsSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FS_ERROR_WORDS, toIoError, UsageError } from '../../errors.js';
import type { DataFormat } from '../domain.js';

export type InputFormat = DataFormat;

const DATA_FILE = /\.(csv|tsv|ndjson|jsonl|json|parquet)(\.gz)?$/i;

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
}

/**
 * Expands inputs to data files, relative to cwd as given. A directory yields its data files (not recursive), sorted;
 * a glob (* ? **) its matches, sorted; '-' stays '-' (stdin). Throws UsageError for a missing path or an empty glob.
 */
export function expandInputs(inputs: string[], cwd: string = process.cwd()): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      out.push(input);
      continue;
    }
    const abs = resolve(cwd, input);
    if (/[*?]/.test(input)) {
      const parts = input.split('/');
      const firstWild = parts.findIndex((p) => /[*?]/.test(p));
      const baseRel = parts.slice(0, firstWild).join('/') || (isAbsolute(input) ? '/' : '.');
      const base = resolve(cwd, baseRel);
      const re = globToRegExp(parts.slice(firstWild).join('/'));
      const all: string[] = [];
      if (existsSync(base)) walk(base, all);
      const hits = all
        .filter((f) => re.test(relative(base, f).split(sep).join('/')))
        .map((f) => (isAbsolute(input) ? f : relative(cwd, f) || f))
        .sort();
      if (hits.length === 0) throw new UsageError(`no file matches ${input}`, { hint: 'check the pattern; quote it so the shell does not expand it' });
      out.push(...hits);
      continue;
    }
    if (statInput(input, abs).isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(abs);
      } catch (e) {
        throw toIoError(input, e, 'list directory');
      }
      const files = names
        // manifest.json is the generator's description of a dataset folder, not data.
        .filter((f) => DATA_FILE.test(f) && f !== 'manifest.json' && statSync(join(abs, f)).isFile())
        .sort()
        .map((f) => join(input, f));
      if (files.length === 0) throw new UsageError(`directory ${input} holds no CSV, NDJSON or Parquet files`, { file: input });
      out.push(...files);
      continue;
    }
    out.push(input);
  }
  return out;
}

/**
 * stat() of an input, its failure in words: a missing path or one through a file (ENOTDIR) is a usage error (exit 2),
 * a path that cannot be read (EACCES, EPERM) an IoError (exit 3).
 */
function statInput(input: string, abs: string): Stats {
  try {
    return statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`input ${input} does not exist`, { file: input, hint: 'check the path' });
    if (code === 'ENOTDIR') {
      throw new UsageError(`input ${input} does not exist: ${FS_ERROR_WORDS.ENOTDIR}`, { file: input, hint: 'check the path' });
    }
    throw toIoError(input, e, 'read input');
  }
}

/** The format a file name says (.csv/.tsv, .ndjson/.jsonl/.json, .parquet, each optionally .gz), or undefined. */
export function formatFromName(path: string): InputFormat | undefined {
  const name = basename(path).toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv)$/.test(name)) return 'csv';
  if (/\.(ndjson|jsonl|json)$/.test(name)) return 'ndjson';
  if (name.endsWith('.parquet')) return 'parquet';
  return undefined;
}

/** Reads the first bytes of a file to tell gzip, Parquet, NDJSON ('{' or '[' first) and CSV apart. */
export function sniffFile(path: string): { format: InputFormat; gzip: boolean } {
  const buf = Buffer.alloc(64);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, buf, 0, buf.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
  const head = buf.subarray(0, n);
  if (head[0] === 0x1f && head[1] === 0x8b) return { format: formatFromName(path) ?? 'csv', gzip: true };
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return { format: 'parquet', gzip: false };
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return { format: text.startsWith('{') ? 'ndjson' : 'csv', gzip: false };
}

/**
 * Spools a readable stream (stdin) into `dir`, streaming. Returns the file path, named for the sniffed format so
 * DuckDB reads it right (gzip keeps a .gz suffix).
 */
export async function spoolStream(input: NodeJS.ReadableStream, dir: string, format?: InputFormat): Promise<{ path: string; format: InputFormat }> {
  const tmp = join(dir, 'stdin.spool');
  try {
    await pipeline(input, createWriteStream(tmp));
  } catch (e) {
    throw toIoError('-', e, 'read standard input from');
  }
  const sniffed = sniffFile(tmp);
  const fmt = format ?? sniffed.format;
  const ext = fmt === 'ndjson' ? 'ndjson' : fmt;
  const final = join(dirname(tmp), `stdin.${ext}${sniffed.gzip ? '.gz' : ''}`);
  const { renameSync } = await import('node:fs');
  renameSync(tmp, final);
  return { path: final, format: fmt };
}
