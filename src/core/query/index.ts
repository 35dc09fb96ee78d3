// `query`: ad hoc SQL against the lakehouse. Two layers, both always on: the text must parse as exactly one SELECT
// (or EXPLAIN [ANALYZE] of one SELECT), checked by DuckDB's parser before anything is bound or run; and the
// lakehouse is opened READ_ONLY and sealed (openDb), so DuckDB itself refuses files outside --allow-read,
// extensions, ATTACH and settings. Anything refused is a usage error (exit 2).
import { readOnlyRefusal, type Db } from '../../db/db.js';
import { duckdb } from '../../db/duckdb-api.js';
import { UsageError } from '../../errors.js';
import { emitQuery, stagedOutput, type EmitResult, type EmitTarget } from '../export/emit.js';
import { provenance } from '../export/metadata.js';
import { queryColumns } from '../read/lakehouse.js';
import type { StageContext } from '../stage.js';

const { StatementType } = duckdb;
type StatementType = import('@duckdb/node-api').StatementType;

/** One query and where its result goes; the lakehouse (which must exist; opened read-only) is the context's. */
export interface QueryRequest {
  sql: string;
  /** Directories whose files the SQL may read (read_csv, read_text, glob ...). Default: none. */
  allowRead?: readonly string[] | undefined;
  /** Where the result goes (stdout through target.render, or --out). */
  target: EmitTarget;
}

const ALLOWED = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

const REFUSED_HINT = 'surgctl query runs one read-only SELECT; change the lakehouse with load, transform or pipeline';

/**
 * The index just past the statement's text: before a top-level `;` (outside strings, quoted identifiers,
 * dollar quotes and comments), or the end. What follows is only whitespace and comments once the statement
 * count is known to be one.
 */
export function statementEnd(sql: string): number {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      i++;
      while (i < sql.length) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === '-' && next === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag === undefined) i++;
      else {
        const end = sql.indexOf(tag, i + tag.length);
        i = end < 0 ? sql.length : end + tag.length;
      }
    } else if (c === ';') {
      return i;
    } else i++;
  }
  return sql.length;
}

/** Skips whitespace and comments from index i; returns the index of the next token. */
function skipBlank(sql: string, i: number): number {
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i] ?? '')) i++;
    if (sql.startsWith('--', i)) {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else return i;
  }
}

/**
 * The statement inside any `EXPLAIN [ANALYZE] [(options)]` prefixes (the text itself when there is none), so
 * the classifier judges what EXPLAIN ANALYZE would really run. Only strips; never adds text.
 */
export function explainedStatement(sql: string): string {
  let i = skipBlank(sql, 0);
  for (;;) {
    const head = /^explain\b/i.exec(sql.slice(i));
    if (!head) return sql.slice(i);
    i = skipBlank(sql, i + head[0].length);
    const analyze = /^analy[sz]e\b/i.exec(sql.slice(i));
    if (analyze) i = skipBlank(sql, i + analyze[0].length);
    if (sql[i] === '(') {
      const close = closingParen(sql, i);
      if (close < 0) return sql.slice(i);
      i = skipBlank(sql, close + 1);
    }
  }
}

/** The index of the `)` closing the `(` at `open`, skipping quoted text and nested parentheses; -1 when none. */
function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      for (i++; i < sql.length; i++) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i++;
          else break;
        }
      }
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Asks DuckDB's parser (no binding, no file access) whether `sql` is one SELECT; returns why not, or undefined. */
async function notASelect(db: Db, sql: string): Promise<{ parse: boolean; message: string } | undefined> {
  const json = await db.scalar<string>('SELECT json_serialize_sql($sql::VARCHAR)', { sql });
  const parsed = JSON.parse(json ?? '{}') as { error?: boolean; error_type?: string; error_message?: string };
  if (!parsed.error) return undefined;
  return { parse: parsed.error_type === 'parser', message: parsed.error_message ?? 'not a SELECT' };
}

/**
 * Checks that `sql` is exactly one SELECT, or EXPLAIN [ANALYZE] of one SELECT, and returns its text without a
 * trailing `;` or comment. The statement kind is decided by DuckDB's parser before anything is prepared (preparing
 * EXPORT DATABASE or IMPORT DATABASE already touches the file system), then confirmed by the prepared type.
 * Throws UsageError for anything else (including SQL that does not parse).
 */
export async function readOnlyStatement(db: Db, sql: string): Promise<string> {
  if (sql.trim() === '') throw new UsageError('query needs SQL text', { hint: 'e.g. surgctl query "SELECT count(*) FROM alerts"' });
  let count: number;
  try {
    count = await db.countStatements(sql);
  } catch (e) {
    throw new UsageError(`query does not parse: ${((e as Error).message.split('\n')[0] ?? '').replace(/^Failed to extract statements: /, '')}`, {
      hint: 'check the SQL; surgctl query takes one SELECT statement',
      cause: e,
    });
  }
  if (count !== 1) {
    throw new UsageError(`query takes exactly one statement; found ${count}`, { hint: REFUSED_HINT });
  }
  const text = sql.slice(0, statementEnd(sql)).trimEnd();
  const inner = explainedStatement(text);
  const why = await notASelect(db, inner);
  if (why?.parse) {
    throw new UsageError(`query does not parse: ${why.message}`, { hint: 'check the SQL; surgctl query takes one SELECT statement' });
  }
  if (why) {
    const kind = /^\s*([A-Za-z]+)/.exec(inner)?.[1]?.toUpperCase() ?? 'this';
    throw new UsageError(`query is read-only: ${kind === 'WITH' ? 'a WITH clause that does not end in SELECT is' : `${kind} statements are`} refused${inner === text ? '' : ', inside EXPLAIN too'}`, {
      hint: REFUSED_HINT,
    });
  }
  let type: StatementType;
  try {
    const prepared = await db.prepare(text);
    type = prepared.statementType;
    prepared.destroySync();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const refused = readOnlyRefusal(e);
    if (refused) throw refused;
    throw new UsageError(`query cannot run: ${(e as Error).message.split('\n')[0] ?? ''}`, { hint: 'check table and column names with surgctl query "SHOW TABLES"', cause: e });
  }
  if (!ALLOWED.has(type)) {
    throw new UsageError(`query is read-only: ${StatementType[type] ?? 'this'} statements are refused`, { hint: REFUSED_HINT });
  }
  if (type === StatementType.EXPLAIN && inner === text) {
    throw new UsageError('query is read-only: this EXPLAIN form is refused', { hint: REFUSED_HINT });
  }
  return text;
}

/**
 * Runs one read-only SELECT against the lakehouse and writes its result to `target`.
 * Throws UsageError for a missing lakehouse or a refused statement, QueryError when DuckDB fails.
 */
export async function runQuery(req: QueryRequest, ctx: StageContext): Promise<EmitResult> {
  const target = req.target;
  const staged = stagedOutput(target);
  const open = { allowRead: req.allowRead, writePaths: staged.writePaths };
  return ctx.lake.withReader(async (db) => {
    const sql = await readOnlyStatement(db, req.sql);
    const kvMetadata = target.format === 'parquet' ? await provenance(db, { columns: await queryColumns(db, sql), extra: { surgctl_query: sql } }) : undefined;
    return emitQuery(db, { name: 'query', title: 'Query', sql }, { ...staged.target, kvMetadata });
  }, open);
}
