// Global options and the environment, resolved once by main() and passed down: --db and --config before or after
// the command name, and SURGCTL_THREADS / SURGCTL_MEMORY_LIMIT from the CLI's environment reaching DuckDB.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { migrate } from '../../src/db/migrate.js';
import { runCliWith, scratchDirs } from '../helpers/run-cli.js';

const tmp = scratchDirs();

async function lakehouse(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  const db = await openDb(path);
  try {
    await migrate(db);
    await db.run("INSERT INTO runs (run_id, command, started_at, status) VALUES ($id, 'load', now(), 'succeeded')", { id: `R-${name}` });
  } finally {
    db.close();
  }
  return path;
}

const runIds = (stdout: string): string[] => (JSON.parse(stdout) as { run_id: string }[]).map((r) => r.run_id);

describe('global --db and --config', () => {
  it('--db works before and after the command name, and beats SURGCTL_DB and the config file', async () => {
    const dir = tmp();
    await lakehouse(dir, 'a.duckdb');
    await lakehouse(dir, 'b.duckdb');
    writeFileSync(join(dir, 'surgctl.config.json'), JSON.stringify({ db: 'b.duckdb' }));
    const env = { NO_COLOR: '1' };
    const before = await runCliWith({ cwd: dir, env }, '--db', 'a.duckdb', 'runs', '--format', 'json');
    expect(before.exitCode, before.stderr).toBe(0);
    expect(runIds(before.stdout)).toEqual(['R-a.duckdb']);
    const after = await runCliWith({ cwd: dir, env: { ...env, SURGCTL_DB: 'b.duckdb' } }, 'runs', '--db', 'a.duckdb', '--format', 'json');
    expect(after.exitCode, after.stderr).toBe(0);
    expect(runIds(after.stdout)).toEqual(['R-a.duckdb']);
    const config = await runCliWith({ cwd: dir, env }, 'runs', '--format', 'json');
    expect(runIds(config.stdout)).toEqual(['R-b.duckdb']);
  });

  it('--config names the config file whose "db" is used; a missing one is a config error (exit 2)', async () => {
    const dir = tmp();
    await lakehouse(dir, 'a.duckdb');
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ db: 'a.duckdb' }));
    const r = await runCliWith({ cwd: dir }, '--config', 'other.json', 'runs', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(runIds(r.stdout)).toEqual(['R-a.duckdb']);
    const alias = await runCliWith({ cwd: dir }, 'runs', '--config', 'other.json', '--format', 'json');
    expect(runIds(alias.stdout)).toEqual(['R-a.duckdb']);
    const missing = await runCliWith({ cwd: dir }, '--config', 'nope.json', 'runs');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^surgctl: config file .*nope\.json does not exist\nhint: /);
  });
});

describe('the environment reaches DuckDB through the CLI, never read by core', () => {
  it('SURGCTL_THREADS and SURGCTL_MEMORY_LIMIT in the CLI environment set the handle a command opens', async () => {
    const dir = tmp();
    await lakehouse(dir, 'lake.duckdb');
    const sql = "SELECT current_setting('threads')::INTEGER AS threads, current_setting('memory_limit') AS memory";
    const r = await runCliWith({ cwd: dir, env: { NO_COLOR: '1', SURGCTL_THREADS: '1', SURGCTL_MEMORY_LIMIT: '300MB' } }, 'query', sql, '--db', 'lake.duckdb', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout) as { threads: number; memory: string }[];
    expect(row?.threads).toBe(1);
    expect(row?.memory).toMatch(/^28\d\.\d MiB$/); // 300 MB = 286.1 MiB
    const plain = await runCliWith({ cwd: dir, env: { NO_COLOR: '1' } }, 'query', sql, '--db', 'lake.duckdb', '--format', 'json');
    expect((JSON.parse(plain.stdout) as { threads: number }[])[0]?.threads).toBe(2);
  });

  it('a bad SURGCTL_THREADS or SURGCTL_MEMORY_LIMIT is a usage error naming the variable', async () => {
    const dir = tmp();
    await lakehouse(dir, 'lake.duckdb');
    for (const [name, value] of [['SURGCTL_THREADS', 'many'], ['SURGCTL_MEMORY_LIMIT', 'lots']] as const) {
      const r = await runCliWith({ cwd: dir, env: { NO_COLOR: '1', [name]: value } }, 'runs', '--db', 'lake.duckdb');
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^surgctl: ${name} must be .*\\nhint: `));
    }
  });
});

describe('load: --format is the output, --input-format the input', () => {
  const robots = '{"robot_id":"RB-9","serial":"SN-9","model":"da Vinci Xi","manufacturer":"Intuitive Surgical","facility_id":"FAC-1","installed_on":"2023-02-01","status":"active"}\n';

  it('--input-format ndjson reads stdin as NDJSON while --format json prints the result', async () => {
    const dir = tmp();
    const r = await runCliWith({ cwd: dir, stdin: robots }, 'load', '-', '--dataset', 'robots', '--input-format', 'ndjson', '--format', 'json', '--db', 'lake.duckdb');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ totals: { rows_read: 1, rows_inserted: 1 } });
    expect(r.stderr).not.toMatch(/deprecated/);
  });

  it('the old --format ndjson still loads, with a note naming --input-format; a wrong --input-format is exit 2', async () => {
    const dir = tmp();
    const r = await runCliWith({ cwd: dir, stdin: robots }, 'load', '-', '--dataset', 'robots', '--format', 'ndjson', '--db', 'lake.duckdb');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('surgctl: note: --format ndjson for the input is deprecated; use --input-format ndjson');
    const bad = await runCliWith({ cwd: dir, stdin: robots }, 'load', '-', '--dataset', 'robots', '--input-format', 'xml', '--db', 'lake.duckdb');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^surgctl: .*--input-format/);
  });
});
