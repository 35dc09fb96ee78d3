// Outputs that never destroy, for every command that writes a file or a directory (export, report, query,
// generate): refusals checked before any work, a marker in every directory surgctl writes, and a replace that
// swaps a finished temporary sibling into place and puts the old output back when any step fails.
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { basename, dirname, isAbsolute, join, parse, relative, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { OutputExistsError, OutputRefusedError, toIoError } from '../errors.js';

/** The file in every directory surgctl writes: who wrote it, when, and exactly which files (with sizes). */
export const OUTPUT_MARKER = '.surgctl-output';

/** `--out -` means standard output, for every command that has --out. */
export const STDOUT = '-';

export type OutputShape = 'file' | 'directory';

export interface OutputGuard {
  /** The command family that writes it ('export', 'generate', ...): a directory is replaced only by its own kind. */
  kind: string;
  shape: OutputShape;
  force?: boolean | undefined;
  /** The directory --out was resolved against (default process.cwd()): it and its parents are never replaced. */
  cwd?: string | undefined;
  /** Files that must survive (the lakehouse): never replaced, nor any directory above them. */
  protect?: readonly string[] | undefined;
}

export interface OutputMarker {
  tool: 'surgctl';
  version: string;
  id: string;
  created_at: string;
  /** The kind of output (export, generate). */
  what: string;
  /** A readable description, e.g. "export alerts --partition-by level". */
  command: string;
  /** Every file surgctl wrote under the directory, relative with `/`, sorted, with its size in bytes. */
  files: { path: string; bytes: number }[];
}

/** The file-system steps of a replace; injected by tests to prove a failure at any step keeps the old output. */
export interface ReplaceSteps {
  rename(from: string, to: string): void;
}

const REAL_STEPS: ReplaceSteps = { rename: renameSync };

const REFUSED_HINT = 'surgctl replaces only outputs it wrote, even with --force: choose another --out path, or move or remove it yourself';

/** The version in package.json ('0.0.0' if unreadable). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function lstat(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The path with its existing directories' symlinks resolved (so `.`, `..` and a linked cwd compare alike). */
function canonical(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync.native(abs);
  } catch {
    const up = dirname(abs);
    return up === abs ? abs : join(canonical(up), basename(abs));
  }
}

/** True when `dir` is `path` or a directory above it. */
function covers(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Refuses the root, the current directory or a parent of it, the lakehouse or a parent of it. Throws OutputRefusedError. */
function refuseDangerous(out: string, target: string, guard: OutputGuard): void {
  const t = canonical(target);
  const refuse = (what: string): never => {
    throw new OutputRefusedError(out, `refusing to write --out ${out}: it is ${what}`, 'give --out a new file or folder name, e.g. --out exports/alerts.parquet');
  };
  if (t === parse(t).root) refuse('the root of the file system');
  const cwd = canonical(guard.cwd ?? process.cwd());
  if (t === cwd) refuse('the current directory');
  if (covers(t, cwd)) refuse('a parent of the current directory');
  for (const p of guard.protect ?? []) {
    const c = canonical(p);
    if (t === c || t === `${c}.wal`) refuse('the lakehouse file');
    if (covers(t, c)) refuse(`a folder that holds the lakehouse ${p}`);
  }
}

/** Every entry under `dir` (relative, `/`-separated), sorted; symlinks and special files reported apart. */
function listTree(dir: string): { files: { path: string; bytes: number }[]; odd: string[] } {
  const files: { path: string; bytes: number }[] = [];
  const odd: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p, r);
      else if (e.isFile()) files.push({ path: r, bytes: lstatSync(p).size });
      else odd.push(r);
    }
  };
  walk(dir, '');
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, odd: odd.sort() };
}

function readMarker(dir: string): OutputMarker | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, OUTPUT_MARKER), 'utf8')) as Partial<OutputMarker>;
    if (m.tool !== 'surgctl' || typeof m.what !== 'string' || !Array.isArray(m.files)) return undefined;
    return m as OutputMarker;
  } catch {
    return undefined;
  }
}

/** A generated dataset written before markers existed: manifest.json lists every file with its size. */
function legacyGenerateMarker(dir: string): OutputMarker | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { tool?: unknown; files?: { path?: unknown; bytes?: unknown }[] };
    if (m.tool !== 'surgctl' || !Array.isArray(m.files)) return undefined;
    const files = m.files.map((f) => ({ path: String(f.path), bytes: Number(f.bytes) }));
    files.push({ path: 'manifest.json', bytes: lstatSync(join(dir, 'manifest.json')).size });
    return { tool: 'surgctl', version: '', id: '', created_at: '', what: 'generate', command: 'generate', files };
  } catch {
    return undefined;
  }
}

function list(names: string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** Why the directory is not surgctl's to replace, or undefined when it is (it holds exactly what the marker lists). */
function notOurs(dir: string, kind: string): string | undefined {
  const marker = readMarker(dir) ?? (kind === 'generate' ? legacyGenerateMarker(dir) : undefined);
  if (marker === undefined) return `it holds files surgctl did not write (no ${OUTPUT_MARKER} marker)`;
  if (marker.what !== kind) return `it holds a surgctl ${marker.what} output, not ${kind} output`;
  const { files, odd } = listTree(dir);
  if (odd.length > 0) return `it holds links or special files (${list(odd)})`;
  const listed = new Map(marker.files.map((f) => [f.path, f.bytes]));
  const present = files.filter((f) => f.path !== OUTPUT_MARKER);
  const extra = present.filter((f) => !listed.has(f.path)).map((f) => f.path);
  if (extra.length > 0) return `it holds files surgctl did not write (${list(extra)})`;
  const changed = present.filter((f) => listed.get(f.path) !== f.bytes).map((f) => f.path);
  if (changed.length > 0) return `files in it changed since surgctl wrote them (${list(changed)})`;
  return undefined;
}

type Existing = 'none' | 'file' | 'empty-dir' | 'our-dir';

/**
 * What is at `target` and whether surgctl may replace it. Throws OutputRefusedError for what is never replaced
 * (a symlink, a directory where a file goes or the reverse, a directory surgctl did not write).
 */
function inspect(out: string, target: string, guard: OutputGuard): Existing {
  const st = lstat(target);
  if (st === undefined) return 'none';
  const refuse = (why: string): never => {
    throw new OutputRefusedError(out, `refusing to replace ${out}: ${why}`, REFUSED_HINT);
  };
  if (st.isSymbolicLink()) refuse('it is a symbolic link (surgctl neither follows nor replaces links)');
  if (st.isDirectory()) {
    if (guard.shape === 'file') refuse('it is a directory and this output is one file (give --out a file name)');
    if (readdirSync(target).length === 0) return 'empty-dir';
    const why = notOurs(target, guard.kind);
    if (why !== undefined) {
      throw new OutputRefusedError(out, `refusing to replace directory ${out}: ${why}`, REFUSED_HINT);
    }
    return 'our-dir';
  }
  if (!st.isFile()) refuse('it is not a regular file');
  if (guard.shape === 'directory') refuse('it is a file and this output is a directory');
  return 'file';
}

/**
 * Checks `out` before any work: never the root, the current directory or a parent of it, the lakehouse or a
 * folder holding it; an existing output only with force and only if surgctl may replace it (an empty directory
 * needs no force: it holds nothing to lose). Returns the absolute target. Throws OutputRefusedError or
 * OutputExistsError (both exit 2).
 */
export function checkOutput(out: string, guard: OutputGuard): string {
  return examine(out, guard).target;
}

function examine(out: string, guard: OutputGuard): { target: string; existing: Existing } {
  const target = resolve(guard.cwd ?? process.cwd(), out);
  refuseDangerous(out, target, guard);
  const existing = inspect(out, target, guard);
  if ((existing === 'file' || existing === 'our-dir') && !guard.force) throw new OutputExistsError(out);
  return { target, existing };
}

/** A fresh temporary path beside `target` (same directory, so the final rename stays on one file system). */
export function tempPathFor(target: string, tag = 'tmp'): string {
  const abs = resolve(target);
  return join(dirname(abs), `.${basename(abs)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes the marker into a finished output directory, listing every file in it. Returns the marker. */
export function writeMarker(dir: string, what: string, command: string): OutputMarker {
  const marker: OutputMarker = {
    tool: 'surgctl',
    version: packageVersion(),
    id: randomUUID(),
    created_at: new Date().toISOString(),
    what,
    command,
    files: listTree(dir).files.filter((f) => f.path !== OUTPUT_MARKER),
  };
  writeFileSync(join(dir, OUTPUT_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  return marker;
}

/**
 * Moves a finished temporary file or directory onto `out`, checking again what is there now. A file is replaced
 * by one atomic rename; a directory by renaming the old one aside, the new one into place, then removing the old
 * one; if a step fails the old output is put back and the temporary one removed. Throws what checkOutput throws,
 * or IoError.
 */
export function commitOutput(temp: string, out: string, guard: OutputGuard, steps: ReplaceSteps = REAL_STEPS): void {
  let existing: Existing;
  let target: string;
  try {
    ({ target, existing } = examine(out, guard));
  } catch (e) {
    discardOutput(temp);
    throw e;
  }
  if (existing === 'none' || existing === 'file') {
    try {
      steps.rename(temp, target);
    } catch (e) {
      discardOutput(temp);
      throw toIoError(out, e, 'write');
    }
    return;
  }
  const aside = tempPathFor(target, 'old');
  try {
    steps.rename(target, aside);
  } catch (e) {
    discardOutput(temp);
    throw toIoError(out, e, 'move aside the old output');
  }
  try {
    steps.rename(temp, target);
  } catch (e) {
    try {
      renameSync(aside, target);
    } catch {
      // the old output stays whole at `aside`; the message below names the failure that matters
    }
    discardOutput(temp);
    throw toIoError(out, e, 'write');
  }
  // The new output is in place; an old copy that cannot be removed is only a dot-named leftover beside it.
  discardOutput(aside);
}

/** Removes a temporary output after a failure (never throws). */
export function discardOutput(temp: string): void {
  try {
    rmSync(temp, { recursive: true, force: true });
  } catch {
    // nothing more can be done; it is a dot-named temporary beside the output
  }
}

/** Where bytes for `--out -` go: process.stdout (or a test's capture). */
export interface ByteSink {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean | undefined;
  once?: (event: 'drain', listener: () => void) => unknown;
}

/** Copies a finished file to the sink, 1 MiB at a time (as text when `text`, else as bytes), waiting for drain. */
export async function pipeFile(path: string, sink: ByteSink, text: boolean): Promise<void> {
  const decoder = new StringDecoder('utf8');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = Buffer.from(buf.subarray(0, n));
      const ok = sink.write(text ? decoder.write(chunk) : chunk);
      if (ok === false && sink.once) await new Promise<void>((r) => sink.once?.('drain', r));
    }
    if (text) {
      const rest = decoder.end();
      if (rest !== '') sink.write(rest);
    }
  } finally {
    closeSync(fd);
  }
}

