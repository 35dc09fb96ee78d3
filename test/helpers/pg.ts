// A throwaway PostgreSQL cluster for the test files that publish into one: initdb into a temp directory, pg_ctl
// start on 127.0.0.1 and a free port (unix sockets in the temp directory), stopped and removed after. Debian's
// binaries live in /usr/lib/postgresql/<major>/bin (not on PATH); initdb refuses root, so as root every server
// command runs as the `postgres` user through runuser. When no cluster can start, `skipReason` says why and the
// tests that need it are skipped visibly (console.warn), as the chromium tests are.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const PG_USER = 'surgctl';
/** The cluster's password: tests check that it is never printed. */
export const PG_PASSWORD = 'Tr0ub4dor-s3cret';

export interface PgCluster {
  /** postgresql://surgctl:PASSWORD@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** pg_ctl stop -m immediate (a crash, as far as clients can tell). */
  stop(): void;
  start(): void;
  /** Stops the server and removes the directory. */
  destroy(): void;
}

/** The directory holding initdb and pg_ctl: SURGCTL_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin, else PATH. */
export function findPgBin(): string | undefined {
  const fromEnv = process.env.SURGCTL_PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    for (const m of majors) if (existsSync(join(root, m, 'bin', 'initdb'))) return join(root, m, 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const p = which.stdout.trim();
  return which.status === 0 && p ? p.replace(/\/initdb$/, '') : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolveP(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Starts a cluster, or returns why it could not. */
export async function startPgCluster(): Promise<PgCluster | string> {
  const bin = findPgBin();
  if (!bin) return "PostgreSQL binaries not found (initdb, pg_ctl); install Debian's package: apt-get install -y postgresql";
  const root = process.getuid?.() === 0;
  const ids = root ? postgresIds() : undefined;
  if (root && !ids) return 'running as root and there is no `postgres` user to run initdb as';
  const dir = mkdtempSync(join(tmpdir(), 'surgctl-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${PG_PASSWORD}\n`);
  mkdirSync(data, { mode: 0o700 });
  if (ids) {
    for (const p of [dir, data, pwfile]) chownSync(p, ids.uid, ids.gid);
    chmodSync(dir, 0o755);
  }
  const as = (cmd: string, args: string[]): string[] => (root ? ['runuser', '-u', 'postgres', '--', join(bin, cmd), ...args] : [join(bin, cmd), ...args]);
  const run = (cmd: string, args: string[]): void => {
    const [exe, ...rest] = as(cmd, args);
    execFileSync(exe as string, rest, { stdio: 'pipe', timeout: 60_000 });
  };
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', PG_USER, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `initdb failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`;
  }
  const opts = [
    `-p ${port}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", '-c fsync=off', '-c synchronous_commit=off',
    '-c full_page_writes=off', '-c shared_buffers=64MB', '-c max_connections=30', "-c timezone='UTC'",
  ].join(' ');
  const start = (): void => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = (): void => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
  };
  try {
    start();
  } catch (e) {
    stop();
    rmSync(dir, { recursive: true, force: true });
    return `pg_ctl start failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`;
  }
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that dies still takes its server with it.
  process.once('exit', destroy);
  return {
    url: `postgresql://${PG_USER}:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stop,
    start,
    destroy,
  };
}

export interface PgHandle {
  /** The running cluster; throws when it could not start (only tests that are not skipped call it). */
  readonly cluster: PgCluster;
  /** Why the cluster could not start; undefined when it runs. Known after beforeAll. */
  readonly skipReason: string | undefined;
}

/**
 * Starts one cluster for this test file (beforeAll) and removes it afterwards. Use `it.runIf(...)` is not possible
 * before beforeAll runs, so tests call `pg.skipIfDown(ctx)` or check pg.skipReason inside; see usePgOrSkip.
 */
export function usePgCluster(file: string): PgHandle {
  let cluster: PgCluster | undefined;
  let reason: string | undefined;
  beforeAll(async () => {
    const c = await startPgCluster();
    if (typeof c === 'string') {
      reason = c;
      console.warn(`${file}: SKIPPED: no throwaway PostgreSQL server: ${c}`);
    } else cluster = c;
  });
  afterAll(() => cluster?.destroy());
  return {
    get cluster(): PgCluster {
      if (!cluster) throw new Error(`no PostgreSQL cluster: ${reason ?? 'not started yet'}`);
      return cluster;
    },
    get skipReason(): string | undefined {
      return reason;
    },
  };
}

/** Runs fn with a client connected to `url`, and closes the client after. */
export async function withPgClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
