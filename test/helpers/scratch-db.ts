// A shared in-memory DuckDB and a scratch directory for a test file: opened before its tests, closed after.
import { afterAll, beforeAll } from 'vitest';
import { openDb, type Db, type OpenOptions } from '../../src/db/db.js';
import { tempDir } from './run-cli.js';

export interface Scratch {
  readonly db: Db;
  readonly dir: string;
}

/** options: DuckDB's threads and memory for this file's database (openDb's defaults otherwise). */
export function useScratchDb(options: Pick<OpenOptions, 'threads' | 'memoryLimit'> = {}): Scratch {
  let db: Db | undefined;
  let tmp: { dir: string; cleanup: () => void } | undefined;
  beforeAll(async () => {
    db = await openDb(':memory:', options);
    tmp = tempDir();
  });
  afterAll(() => {
    db?.close();
    tmp?.cleanup();
  });
  return {
    get db(): Db {
      if (!db) throw new Error('useScratchDb: used outside a test');
      return db;
    },
    get dir(): string {
      if (!tmp) throw new Error('useScratchDb: used outside a test');
      return tmp.dir;
    },
  };
}
