// export --partition-by with Iceberg-style transforms (day(col), hour(col)) and the partition-count limit, on the
// hand-made contract lakehouse: directories per UTC day/hour that read back with every row, and a refusal that
// writes nothing when a column has too many distinct values.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { literal } from '../../../src/db/sql.js';
import { exportTable } from '../../../src/core/export/index.js';
import { UsageError } from '../../../src/errors.js';
import { runCli } from '../../helpers/run-cli.js';
import { inspect, useFixtureLakehouse } from '../report/fixture.js';
import { lakeAt } from '../../helpers/lake.js';

const lake = useFixtureLakehouse();

const parts = (dir: string): string[] => readdirSync(dir).filter((f) => f !== '.surgctl-output').sort();

describe('export --partition-by day(col) and hour(col)', () => {
  it('hour(recorded_at) makes one directory per UTC hour, and every row reads back with its instant', async () => {
    const out = join(lake.dir, 'risk_by_hour');
    const result = await exportTable({ table: 'telemetry_risk', out, partitionBy: ['hour(recorded_at)'] }, { lake: lakeAt(lake.db) });
    expect(result.rows).toBe(7);
    expect(parts(out)).toEqual(['recorded_at_hour=2026-01-05-01', 'recorded_at_hour=2026-01-05-02', 'recorded_at_hour=2026-01-05-05']);
    const rows = await inspect<{ h: string; n: number; first: string }>(
      `SELECT recorded_at_hour::VARCHAR AS h, count(*)::INTEGER AS n, strftime(min(recorded_at), '%H:%M:%S') AS first
       FROM read_parquet(${literal(join(out, '**', '*.parquet'))}, hive_partitioning = true) GROUP BY ALL ORDER BY 1`,
    );
    expect(rows).toEqual([
      { h: '2026-01-05-01', n: 3, first: '01:00:00' },
      { h: '2026-01-05-02', n: 2, first: '02:00:00' },
      { h: '2026-01-05-05', n: 2, first: '05:00:00' },
    ]);
  });

  it('day(at) together with a plain column nests the directories', async () => {
    const out = join(lake.dir, 'alerts_by_day');
    const result = await exportTable({ table: 'alerts', out, partitionBy: ['day(at)', 'level'] }, { lake: lakeAt(lake.db) });
    expect(result.rows).toBe(5);
    expect(parts(out)).toEqual(['at_day=2026-01-05']);
    expect(readdirSync(join(out, 'at_day=2026-01-05')).sort()).toEqual(['level=critical', 'level=high', 'level=medium']);
  });

  it('refuses a transform of a non-timestamp column, an unknown transform, and names the timestamp columns', async () => {
    const out = join(lake.dir, 'bad_parts');
    const err = await exportTable({ table: 'alerts', out, partitionBy: ['day(level)'] }, { lake: lakeAt(lake.db) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/alerts\.level is VARCHAR, not a timestamp/);
    expect((err as UsageError).hint).toMatch(/day\(\) takes a timestamp column: at/);
    await expect(exportTable({ table: 'alerts', out, partitionBy: ['month(at)'] }, { lake: lakeAt(lake.db) })).rejects.toThrow(/unknown transform "month"/);
    await expect(exportTable({ table: 'alerts', out, partitionBy: ['day(nope)'] }, { lake: lakeAt(lake.db) })).rejects.toThrow(/has no column "nope"/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('export --partition-by refuses too many partitions before writing', () => {
  it('a column with more distinct values than --max-partitions is refused with a hint, and nothing is written', async () => {
    const out = join(lake.dir, 'risk_by_instant');
    const err = await exportTable({ table: 'telemetry_risk', out, partitionBy: ['recorded_at'], maxPartitions: 5 }, { lake: lakeAt(lake.db) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/would write more than 5 partitions; nothing was written/);
    expect((err as UsageError).hint).toMatch(/partition by day\(recorded_at\) or hour\(recorded_at\)/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(lake.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // At the limit it is allowed.
    const ok = await exportTable({ table: 'telemetry_risk', out, partitionBy: ['recorded_at'], maxPartitions: 7 }, { lake: lakeAt(lake.db) });
    expect(ok.rows).toBe(7);
    expect(parts(out)).toHaveLength(7);
  });

  it('the CLI says so in one line with a hint and exit 2; --max-partitions must be a positive integer', async () => {
    const out = join(lake.dir, 'cli_events');
    const r = await runCli('export', 'telemetry_risk', '--db', lake.db, '--out', out, '--partition-by', 'event_id', '--max-partitions', '3');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^surgctl: --partition-by event_id would write more than 3 partitions; nothing was written/m);
    expect(r.stderr).toMatch(/^hint: partition by a column with fewer distinct values, or raise the limit with --max-partitions N/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    const bad = await runCli('export', 'telemetry_risk', '--db', lake.db, '--out', out, '--partition-by', 'event_id', '--max-partitions', '0');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--max-partitions must be a positive integer/);
    const day = await runCli('export', 'telemetry_risk', '--db', lake.db, '--out', out, '--partition-by', 'day(recorded_at),robot_id');
    expect(day.exitCode, day.stderr).toBe(0);
    expect(parts(out)).toEqual(['recorded_at_day=2026-01-05']);
    expect(readdirSync(join(out, 'recorded_at_day=2026-01-05')).sort()).toEqual(['robot_id=ROB-1', 'robot_id=ROB-2']);
  });
});
