// DuckDB column types to PostgreSQL types, and the DuckDB expression that renders one row as one line of
// PostgreSQL's COPY CSV: DuckDB does the formatting set-at-a-time, JS only joins the lines of a chunk.
// NULL is an unquoted empty field; every text value is quoted, so '' stays an empty string. Instants are written
// as UTC with +00 (the lakehouse runs in UTC), lists as PostgreSQL array literals.
import { ident } from '../../db/sql.js';

export interface MartColumn {
  name: string;
  /** DuckDB's type text, e.g. 'TIMESTAMP WITH TIME ZONE', 'VARCHAR[]', 'DECIMAL(18,3)'. */
  duckType: string;
  /** The PostgreSQL type, e.g. 'timestamptz', 'text[]', 'numeric(18,3)'. */
  pgType: string;
}

const SCALARS: Record<string, string> = {
  VARCHAR: 'text',
  BIGINT: 'bigint',
  INTEGER: 'integer',
  SMALLINT: 'smallint',
  TINYINT: 'smallint',
  UTINYINT: 'smallint',
  USMALLINT: 'integer',
  UINTEGER: 'bigint',
  UBIGINT: 'numeric(20,0)',
  HUGEINT: 'numeric(39,0)',
  UHUGEINT: 'numeric(39,0)',
  DOUBLE: 'double precision',
  FLOAT: 'real',
  BOOLEAN: 'boolean',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
  TIME: 'time',
  INTERVAL: 'interval',
  UUID: 'uuid',
};

/** The PostgreSQL type for a DuckDB type; anything unknown travels as text. */
export function pgTypeOf(duckType: string): string {
  const t = duckType.trim().toUpperCase();
  if (t.endsWith('[]')) return `${pgTypeOf(t.slice(0, -2))}[]`;
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `numeric(${dec[1]},${dec[2]})`;
  return SCALARS[t] ?? 'text';
}

type Kind = 'text' | 'plain' | 'timestamptz' | 'timestamp' | 'list';

function kindOf(duckType: string): Kind {
  const t = duckType.trim().toUpperCase();
  if (t.endsWith('[]')) return 'list';
  if (t === 'TIMESTAMP WITH TIME ZONE') return 'timestamptz';
  if (t === 'TIMESTAMP') return 'timestamp';
  const pg = pgTypeOf(t);
  return pg === 'text' || pg === 'uuid' ? 'text' : 'plain';
}

/** The value as PostgreSQL reads it (NULL stays NULL), before CSV quoting. */
function valueText(expr: string, duckType: string): string {
  switch (kindOf(duckType)) {
    case 'timestamptz':
      return `(strftime(${expr}, '%Y-%m-%d %H:%M:%S.%f') || '+00')`;
    case 'timestamp':
      return `strftime(${expr}, '%Y-%m-%d %H:%M:%S.%f')`;
    case 'list': {
      const inner = duckType.trim().slice(0, -2);
      const el = valueText('_x', inner);
      // Array literal: every element double-quoted with \ and " escaped, NULL unquoted.
      return `('{' || array_to_string(list_transform(${expr}, _x -> CASE WHEN _x IS NULL THEN 'NULL' ELSE '"' || replace(replace(${el}, '\\', '\\\\'), '"', '\\"') || '"' END), ',') || '}')`;
    }
    case 'text':
      return `CAST(${expr} AS VARCHAR)`;
    default:
      return `CAST(${expr} AS VARCHAR)`;
  }
}

function csvField(col: MartColumn): string {
  const v = valueText(ident(col.name), col.duckType);
  const quoted = kindOf(col.duckType) === 'text' || kindOf(col.duckType) === 'list';
  return quoted ? `coalesce('"' || replace(${v}, '"', '""') || '"', '')` : `coalesce(${v}, '')`;
}

/** `SELECT <one CSV line per row> AS line FROM <from>`, columns in the given order. */
export function csvLinesSql(columns: readonly MartColumn[], from: string): string {
  return `SELECT ${columns.map(csvField).join(` || ',' || `)} AS line FROM ${from}`;
}

/**
 * `SELECT <columns> FROM <from>` for DuckDB's own CSV writer, whose output PostgreSQL's COPY CSV reads as is (NULL
 * an empty field, '' quoted, instants as 2026-01-05 08:00:00.123+00, nan/inf, true/false), lists turned into
 * PostgreSQL array literals (DuckDB would write [a, b]).
 */
export function pgReadySelectSql(columns: readonly MartColumn[], from: string): string {
  const cols = columns.map((c) => (kindOf(c.duckType) === 'list' ? `${valueText(ident(c.name), c.duckType)} AS ${ident(c.name)}` : ident(c.name)));
  return `SELECT ${cols.join(', ')} FROM ${from}`;
}

/** The PostgreSQL column definitions, in order: "name" type, ... */
export function pgColumnsDdl(columns: readonly MartColumn[], quote: (s: string) => string): string {
  return columns.map((c) => `${quote(c.name)} ${c.pgType}`).join(', ');
}
