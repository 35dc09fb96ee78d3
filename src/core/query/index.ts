// `query`: ad hoc SQL against the lakehouse. The database is opened READ_ONLY, and the text must parse as exactly
// one SELECT (or EXPLAIN): writes, COPY ... TO, ATTACH, SET, CALL and stacked statements are refused before
// anything runs, with a usage error (exit 2).
import { StatementType } from '@duckdb/node-api';
import type { Db } from '../../db/db.js';
import { UsageError } from '../../errors.js';
import { emitQuery, type EmitResult, type EmitTarget } from '../export/emit.js';
import { provenance } from '../export/metadata.js';
import { queryColumns, withLakehouse } from './lakehouse.js';

export interface QueryRequest {
  /** The lakehouse file (must exist; opened read-only). */
  dbPath: string;
  sql: string;
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

/**
 * Checks that `sql` is exactly one SELECT or EXPLAIN and returns its text without a trailing `;` or comment.
 * Throws UsageError for anything else (including SQL that does not parse).
 */
export async function readOnlyStatement(db: Db, sql: string): Promise<string> {
  if (sql.trim() === '') throw new UsageError('query needs SQL text', { hint: 'e.g. surgctl query "SELECT count(*) FROM alerts"' });
  let count: number;
  try {
    count = (await db.connection.extractStatements(sql)).count;
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
  let type: StatementType;
  try {
    const prepared = await db.connection.prepare(text);
    type = prepared.statementType;
    prepared.destroySync();
  } catch (e) {
    throw new UsageError(`query cannot run: ${(e as Error).message.split('\n')[0] ?? ''}`, { hint: 'check table and column names with surgctl query "SHOW TABLES"', cause: e });
  }
  if (!ALLOWED.has(type)) {
    throw new UsageError(`query is read-only: ${StatementType[type] ?? 'this'} statements are refused`, { hint: REFUSED_HINT });
  }
  return text;
}

/**
 * Runs one read-only SELECT against the lakehouse and writes its result to `target`.
 * Throws UsageError for a missing lakehouse or a refused statement, QueryError when DuckDB fails.
 */
export async function runQuery(req: QueryRequest, target: EmitTarget): Promise<EmitResult> {
  return withLakehouse(req.dbPath, async (db) => {
    const sql = await readOnlyStatement(db, req.sql);
    const kvMetadata = target.format === 'parquet' ? await provenance(db, { columns: await queryColumns(db, sql), extra: { surgctl_query: sql } }) : undefined;
    return emitQuery(db, { name: 'query', title: 'Query', sql }, { ...target, kvMetadata });
  });
}
