// Defaults of the database layer that light modules need without loading DuckDB (the CLI's option help is built
// at every start, so it must not import db.ts and with it @duckdb/node-api).

/** The default wait for another process's lock, in seconds (the global --lock-timeout). */
export const DEFAULT_LOCK_TIMEOUT_S = 5;
