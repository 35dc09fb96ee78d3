// What the exact staging (engine.ts) and the CSV fast path (fast-csv.ts) share: temp names, the attached staging
// database, the error struct and the messages of structural rejects.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/db.js';
import { ident } from '../../db/sql.js';

let counter = 0;
export function tempName(prefix: string): string {
  counter += 1;
  return `_sv_${prefix}_${process.pid}_${counter}_${randomBytes(3).toString('hex')}`;
}

// The parsed input is staged in an attached in-memory database with compression on (DuckDB compresses nothing in a
// plain in-memory database): about a third less memory for a big file, so less spilling, and a little faster.
export const STAGE_DB = 'surgctl_stage';
export function stageRef(table: string): string {
  return `${STAGE_DB}.main.${ident(table)}`;
}

export const ERR_STRUCT = 'STRUCT(field VARCHAR, keyword VARCHAR, message VARCHAR, value VARCHAR, severity VARCHAR, rule VARCHAR)';

export const REJECT_MESSAGES: Record<string, string> = {
  csv_invalid_utf8: 'the line is not valid UTF-8',
  csv_unterminated_quote: 'a quoted field is never closed (the quote runs to the end of the file)',
  csv_stray_quote: 'a quote inside a field is not escaped ("" inside a quoted field)',
  csv_field_count: 'wrong number of fields',
  csv_line_too_long: 'the line is longer than 4 MiB',
  csv_parse: 'the line cannot be parsed',
};

/** SQL: a CASE giving the message of a reject keyword column. */
export function rejectMessageSql(keywordSql: string): string {
  return `CASE ${keywordSql} ${Object.entries(REJECT_MESSAGES).map(([k, m]) => `WHEN '${k}' THEN '${m.replaceAll("'", "''")}'`).join(' ')} END`;
}

/** SQL: the public JSON error list (no severity/rule fields; the rule named in the message) of an error-struct list. */
export function publicErrorsSql(e: string): string {
  return `to_json(list_transform(${e}, x -> {'field': x.field, 'keyword': x.keyword,
       'message': CASE WHEN x.rule IS NULL THEN x.message ELSE x.message || ' (rule ' || x.rule || ')' END, 'value': x.value}))::VARCHAR`;
}

/**
 * SQL: a staged cell's text cast to its raw table type (duckType): what the typed valid rows (and so the raw tables)
 * hold. Both stagings use it, so a row is typed the same whichever path decided it.
 */
export function castTextSql(duckTypeName: string, text: string): string {
  // A leap second (valid, with a leap_second warning) becomes 23:59:59.999999 of its minute, never NULL.
  return duckTypeName === 'TIMESTAMPTZ' ? `surgctl_to_instant(${text})`
    : duckTypeName === 'DATE' ? `TRY_CAST(${text} AS DATE)`
      : duckTypeName === 'DOUBLE' ? `TRY_CAST(${text} AS DOUBLE)`
        : duckTypeName === 'BIGINT' ? `TRY_CAST(TRY_CAST(${text} AS DOUBLE) AS BIGINT)`
          : duckTypeName === 'BOOLEAN' ? `TRY_CAST(${text} AS BOOLEAN)`
            : `nullif(${text}, '')`;
}

/** Drops what a StagedValidation left behind (its valid rows, table or view, its quarantine table, its staged input
 *  and any tables the valid view reads). */
export async function dropStaged(db: Db, s: { validTable: string; quarantineTable: string; stagedTable: string; validIsView?: boolean; extraTables?: string[] }): Promise<void> {
  await db.run(`DROP ${s.validIsView ? 'VIEW' : 'TABLE'} IF EXISTS ${ident(s.validTable)}`);
  for (const t of [s.quarantineTable, ...(s.extraTables ?? [])]) await db.run(`DROP TABLE IF EXISTS ${ident(t)}`);
  await db.run(`DROP TABLE IF EXISTS ${stageRef(s.stagedTable)}`);
}
