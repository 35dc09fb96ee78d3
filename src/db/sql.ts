// Identifier quoting and the one place where a value is spliced into SQL text (file paths DuckDB cannot bind).

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes an identifier after checking it is a plain name. Throws on anything else. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a safe SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Quotes any column name as an identifier (for user-supplied header names), escaping embedded quotes. */
export function quoteAnyIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A string literal, for what DuckDB cannot bind as a parameter: file paths in read_csv / COPY ... TO, and
 * option values. Everything else must be a bound `$name` parameter.
 */
export function literal(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL byte');
  return `'${value.replaceAll("'", "''")}'`;
}
