// A load's memory default. Every writer opens the lakehouse through src/db/lakehouse.ts (Lakehouse.openWriter); load,
// its scratch and import give it this default, which the Lakehouse's limits.memoryLimit (SURGCTL_MEMORY_LIMIT) overrides.

/**
 * A load's DuckDB memory limit, for the lakehouse and its scratch: 512MB keeps a 5M-row load under 1 GiB of RSS
 * (measured: 934 MiB, against 2.3 GiB at 2GB) for ~15% more time; DuckDB spills the rest to its temp directory.
 * Other writers keep openDb's default (2GB; transform its own).
 */
export const LOAD_MEMORY_LIMIT = '512MB';
