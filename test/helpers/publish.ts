// A publish test file's setup: a throwaway PostgreSQL cluster (pg.ts) and a lakehouse built by `surgctl pipeline` in a
// temp directory before the file's tests (removed after), with a client on the cluster, a read-only handle on the
// lakehouse and `surgctl publish` into the cluster at hand.
import { afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import type pg from 'pg';
import { openDb, type Db } from '../../src/db/db.js';
import { usePgCluster, withPgClient, type PgHandle } from './pg.js';
import { runCliWith, tempDir, type CliResult } from './run-cli.js';

export interface PublishSetup {
  readonly server: PgHandle;
  /** The temp directory the pipeline ran in (known in the tests, after beforeAll). */
  readonly dir: string;
  /** Its lakehouse, dir/surgctl.duckdb. */
  readonly dbPath: string;
  /** Runs fn with a client connected to the cluster, closed after. */
  withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T>;
  /** Runs fn with the lakehouse opened read-only, closed after. */
  withLake<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** `surgctl publish --to <the cluster> --db <the lakehouse> --format json ...args`, run in dir. */
  pub(...args: string[]): Promise<CliResult>;
}

/** file: the test file (named when the cluster cannot start); pipelineArgs: what `surgctl pipeline` is given. */
export function usePublishSetup(file: string, pipelineArgs: string[]): PublishSetup {
  const server = usePgCluster(file);
  let tmp: { dir: string; cleanup: () => void } | undefined;
  beforeAll(async () => {
    tmp = tempDir('surgctl-publish-');
    const r = await runCliWith({ cwd: tmp.dir, env: {} }, 'pipeline', ...pipelineArgs, '--format', 'json');
    if (r.exitCode !== 0) throw new Error(`pipeline failed: ${r.stderr}`);
  });
  afterAll(() => tmp?.cleanup());
  const setup: PublishSetup = {
    server,
    get dir(): string {
      if (!tmp) throw new Error('usePublishSetup: used outside a test');
      return tmp.dir;
    },
    get dbPath(): string {
      return join(setup.dir, 'surgctl.duckdb');
    },
    withPg: (fn) => withPgClient(server.cluster.url, fn),
    async withLake(fn) {
      const db = await openDb(setup.dbPath, { readOnly: true });
      try {
        return await fn(db);
      } finally {
        db.close();
      }
    },
    pub: (...args) => runCliWith({ cwd: setup.dir, env: {} }, 'publish', '--to', server.cluster.url, '--db', setup.dbPath, '--format', 'json', ...args),
  };
  return setup;
}
