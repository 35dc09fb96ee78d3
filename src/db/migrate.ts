// The lakehouse's schema: frozen, numbered SQL files in src/db/migrations (NNN-name.sql), applied in order, each in
// one transaction with its schema_migrations row. A released file never changes (test/db/migrations.test.ts pins
// their sha256); a new table or column is a new file. A database whose newest migration is unknown is refused.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseError } from '../errors.js';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  /** The file's first comment line (recorded in schema_migrations.name). */
  name: string;
  file: string;
  /** The file's statements, run as one script. */
  sql: string;
}

const FILE_RE = /^(\d{3})-[a-z0-9][a-z0-9-]*\.sql$/;

/** The shipped migrations folder (src/db/migrations, in the package too; from dist/db and src/db alike). */
export function migrationsDir(): string {
  return fileURLToPath(new URL('../../src/db/migrations/', import.meta.url));
}

let shipped: Migration[] | undefined;

/**
 * The migrations in `dir` (default: the shipped ones), by version. Throws when a file name does not match
 * NNN-name.sql or two files share a number (a packaging mistake, not a user error).
 */
export function listMigrations(dir?: string): Migration[] {
  if (dir === undefined && shipped) return shipped;
  const from = dir ?? migrationsDir();
  const out: Migration[] = [];
  for (const f of readdirSync(from).sort()) {
    if (!f.endsWith('.sql')) continue;
    const m = FILE_RE.exec(f);
    if (!m) throw new Error(`migration file ${f} is not named NNN-name.sql`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new Error(`two migration files are numbered ${m[1]}`);
    const sql = readFileSync(join(from, f), 'utf8');
    const first = sql.split('\n')[0] ?? '';
    out.push({ version, name: first.startsWith('-- ') ? first.slice(3).trim() : f, file: f, sql });
  }
  if (dir === undefined) shipped = out;
  return out;
}

/** The newest schema version this surgctl knows. */
export function latestVersion(): number {
  return Math.max(0, ...listMigrations().map((m) => m.version));
}

/** Applies the migrations this database lacks; returns the versions it ran. Throws DatabaseError('db_too_new') when
 *  the database is ahead of `migrations`, before writing anything. */
export async function migrate(db: Db, migrations: Migration[] = listMigrations()): Promise<number[]> {
  await refuseNewer(db, Math.max(0, ...migrations.map((m) => m.version)));
  await db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`);
  const applied = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
  const ran: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    await db.transaction(async () => {
      await db.run(m.sql);
      await db.run('INSERT INTO schema_migrations VALUES ($v, $n, now())', { v: m.version, n: m.name });
    });
    ran.push(m.version);
  }
  return ran;
}

/**
 * Throws DatabaseError('db_too_new') when the database records a schema version above `latest`. Reads only, so
 * every writer can call it before its first write.
 */
export async function refuseNewer(db: Db, latest: number = latestVersion()): Promise<void> {
  const newest = await schemaVersion(db);
  if (newest > latest) {
    throw new DatabaseError('db_too_new', `database ${db.path} is at schema version ${newest}, newer than this surgctl (${latest})`, {
      file: db.path,
      hint: 'upgrade surgctl to a version that knows this lakehouse; the database was not changed',
    });
  }
}

/** Reads the schema version without changing anything (0 for a database with no migrations table). */
export async function schemaVersion(db: Db): Promise<number> {
  const exists = await db.scalar<number>(
    "SELECT count(*)::INTEGER FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_catalog = current_database()",
  );
  if (!exists) return 0;
  return (await db.scalar<number>('SELECT coalesce(max(version), 0)::INTEGER FROM schema_migrations')) ?? 0;
}
