// `surgctl export` in-process: flags to the core, messages on stderr, nothing on stdout, exit codes.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { literal } from '../../src/db/sql.js';
import { runCli } from '../helpers/run-cli.js';
import { useFixtureLakehouse } from '../core/report/fixture.js';

const lake = useFixtureLakehouse();

describe('surgctl export', () => {
  it('exports a filtered, partitioned table and says so on stderr', async () => {
    const out = join(lake.dir, 'risk');
    const r = await runCli('export', 'telemetry_risk', '--db', lake.db, '--out', out, '--partition-by', 'patient_id,risk_level', '--where', 'robot_id=ROB-1', '--where', 'risk_score>=0');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`exported 5 rows of telemetry_risk to ${out} (parquet)`);
    expect(readdirSync(out).sort()).toEqual(['.surgctl-output', 'patient_id=PAT-1']);
    const mem = await openDb(':memory:');
    try {
      const n = await mem.scalar<number>(`SELECT count(*)::INTEGER FROM read_parquet(${literal(join(out, '**', '*.parquet'))}, hive_partitioning = true) WHERE risk_level = 'none'`);
      expect(n).toBe(2);
    } finally {
      mem.close();
    }
  });

  it('picks the format from the extension and honours --format', async () => {
    const csv = join(lake.dir, 'alerts.csv');
    expect((await runCli('export', 'alerts', '--db', lake.db, '--out', csv)).exitCode).toBe(0);
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(6);
    const nd = join(lake.dir, 'alerts.data');
    expect((await runCli('export', 'alerts', '--db', lake.db, '--out', nd, '--format', 'ndjson')).exitCode).toBe(0);
    expect(readFileSync(nd, 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('usage errors exit 2: no --out, bad format, bad --where, existing output, missing lakehouse', async () => {
    const noOut = await runCli('export', 'alerts', '--db', lake.db);
    expect(noOut.exitCode).toBe(2);
    expect(noOut.stderr).toContain("required option '--out <path>'");
    const fmt = await runCli('export', 'alerts', '--db', lake.db, '--out', join(lake.dir, 'a.x'), '--format', 'xlsx');
    expect(fmt.exitCode).toBe(2);
    expect(fmt.stderr).toContain('unknown export --format xlsx');
    const where = await runCli('export', 'alerts', '--db', lake.db, '--out', join(lake.dir, 'w.parquet'), '--where', 'levle=high');
    expect(where.exitCode).toBe(2);
    expect(where.stderr).toContain('alerts has no column "levle"');
    expect(where.stderr).toMatch(/hint: columns: alert_id, event_id/);
    const existing = join(lake.dir, 'alerts.csv');
    const again = await runCli('export', 'alerts', '--db', lake.db, '--out', existing);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('already exists');
    const missing = await runCli('export', 'alerts', '--db', join(lake.dir, 'none.duckdb'), '--out', join(lake.dir, 'n.parquet'));
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no lakehouse at');
    expect(existsSync(join(lake.dir, 'w.parquet'))).toBe(false);
  });
});
