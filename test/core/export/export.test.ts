// export on the hand-made contract lakehouse: Parquet reads back with the same rows and types (DuckDB),
// Arrow IPC reads back with apache-arrow, metadata, partitions, bound --where, and safe overwrites.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { openDb } from '../../../src/db/db.js';
import { literal } from '../../../src/db/sql.js';
import { exportTable } from '../../../src/core/export/index.js';
import { InterruptedError, OutputExistsError, UsageError } from '../../../src/errors.js';
import { inspect, useFixtureLakehouse } from '../report/fixture.js';
import { lakeAt } from '../../helpers/lake.js';

const lake = useFixtureLakehouse();

async function tableTypes(table: string): Promise<[string, string][]> {
  const db = await openDb(lake.db, { readOnly: true });
  try {
    const rows = await db.all<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t ORDER BY ordinal_position',
      { t: table },
    );
    return rows.map((r) => [r.column_name, r.data_type]);
  } finally {
    db.close();
  }
}

describe('export to parquet', () => {
  it('reads back with the same row count and column types, zstd-compressed, with provenance metadata', async () => {
    const out = join(lake.dir, 'risk.parquet');
    const result = await exportTable({ table: 'telemetry_risk', out }, { lake: lakeAt(lake.db) });
    expect(result).toMatchObject({ format: 'parquet', rows: 7, path: out });
    const [count] = await inspect<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${literal(out)})`);
    expect(count?.n).toBe(7);
    const described = await inspect<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${literal(out)})`);
    expect(described.map((d) => [d.column_name, d.column_type])).toEqual(await tableTypes('telemetry_risk'));
    const codecs = await inspect<{ c: string }>(`SELECT DISTINCT compression AS c FROM parquet_metadata(${literal(out)})`);
    expect(codecs.map((c) => c.c)).toEqual(['ZSTD']);
    const kv = Object.fromEntries(
      (await inspect<{ k: string; v: string }>(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${literal(out)})`)).map((r) => [r.k, r.v]),
    );
    expect(kv).toMatchObject({ surgctl_table: 'telemetry_risk', surgctl_run_id: 'RUN-1', surgctl_load_ids: 'L-001,L-002,L-003' });
    expect(kv.surgctl_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(kv.surgctl_schema_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.metadata).toEqual(kv);
    expect(readdirSync(lake.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('takes load ids from a raw table lineage column, limited by --where', async () => {
    const out = join(lake.dir, 'raw.parquet');
    const result = await exportTable({ table: 'raw_telemetry', out, where: ['procedure_id=PROC-2'] }, { lake: lakeAt(lake.db) });
    expect(result.rows).toBe(2);
    expect(result.metadata).toMatchObject({ surgctl_load_ids: 'L-002', surgctl_where: 'procedure_id=PROC-2' });
  });

  it('writes Hive partitions that read back with the partition column', async () => {
    const out = join(lake.dir, 'alerts_by_proc');
    const result = await exportTable({ table: 'alerts', out, partitionBy: ['procedure_id'] }, { lake: lakeAt(lake.db) });
    expect(result.rows).toBe(5);
    expect(readdirSync(out).sort()).toEqual(['.surgctl-output', 'procedure_id=PROC-1', 'procedure_id=PROC-2', 'procedure_id=PROC-3']);
    const rows = await inspect<{ procedure_id: string; n: number }>(
      `SELECT procedure_id, count(*)::INTEGER AS n FROM read_parquet(${literal(join(out, '**', '*.parquet'))}, hive_partitioning = true) GROUP BY ALL ORDER BY 1`,
    );
    expect(rows).toEqual([{ procedure_id: 'PROC-1', n: 2 }, { procedure_id: 'PROC-2', n: 2 }, { procedure_id: 'PROC-3', n: 1 }]);
    const types = await inspect<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${literal(join(out, '**', '*.parquet'))}, hive_partitioning = true)`);
    expect(types.find((t) => t.column_name === 'triggers')?.column_type).toBe('VARCHAR[]');
    expect(types.find((t) => t.column_name === 'at')?.column_type).toBe('TIMESTAMP WITH TIME ZONE');
  });

  it('binds --where values, casting them to the column type, and ANDs repeats', async () => {
    const at = await exportTable({ table: 'telemetry_risk', out: join(lake.dir, 'w1.parquet'), where: ['recorded_at>=2026-01-05T02:00:00Z', 'risk_level!=none'] }, { lake: lakeAt(lake.db) });
    expect(at.rows).toBe(3);
    const num = await exportTable({ table: 'telemetry_risk', out: join(lake.dir, 'w2.parquet'), where: ['risk_score >= 4'] }, { lake: lakeAt(lake.db) });
    expect(num.rows).toBe(3);
    const evil = await exportTable({ table: 'alerts', out: join(lake.dir, 'w3.parquet'), where: ["patient_id=x'; DROP TABLE loads; --"] }, { lake: lakeAt(lake.db) });
    expect(evil.rows).toBe(0);
    const db = await openDb(lake.db, { readOnly: true });
    try {
      expect(await db.scalar<number>('SELECT count(*)::INTEGER FROM loads')).toBe(3);
    } finally {
      db.close();
    }
  });

  it('refuses bad --where, unknown tables and columns, and partitions outside parquet', async () => {
    const out = join(lake.dir, 'bad.parquet');
    await expect(exportTable({ table: 'telemetry_risk', out, where: ['nope=1'] }, { lake: lakeAt(lake.db) })).rejects.toThrow(/has no column "nope"/);
    await expect(exportTable({ table: 'telemetry_risk', out, where: ['risk_score'] }, { lake: lakeAt(lake.db) })).rejects.toThrow(/is not COLUMN OP VALUE/);
    await expect(exportTable({ table: 'telemetry_risk', out, where: ['force_n>=heavy'] }, { lake: lakeAt(lake.db) })).rejects.toBeInstanceOf(UsageError);
    await expect(exportTable({ table: 'telemetry_risk; DROP TABLE loads', out }, { lake: lakeAt(lake.db) })).rejects.toThrow(/no table or model/);
    await expect(exportTable({ table: 'alerts', out, partitionBy: ['nope'] }, { lake: lakeAt(lake.db) })).rejects.toThrow(/has no column "nope"/);
    await expect(exportTable({ table: 'alerts', out: join(lake.dir, 'x.csv'), partitionBy: ['level'] }, { lake: lakeAt(lake.db) })).rejects.toThrow(/Hive-partitioned Parquet/);
    expect(readdirSync(lake.dir).filter((f) => f.startsWith('bad') || f.includes('.tmp-'))).toEqual([]);
  });
});

describe('export safety', () => {
  it('never replaces an existing file without --force, and replaces it whole with --force', async () => {
    const out = join(lake.dir, 'keep.csv');
    writeFileSync(out, 'precious\n');
    await expect(exportTable({ table: 'alerts', out }, { lake: lakeAt(lake.db) })).rejects.toBeInstanceOf(OutputExistsError);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
    const r = await exportTable({ table: 'alerts', out, force: true }, { lake: lakeAt(lake.db) });
    expect(r.rows).toBe(5);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toMatch(/^alert_id,event_id,/);
  });

  it('replaces a partitioned export directory with --force but never an unrelated directory', async () => {
    const out = join(lake.dir, 'parts');
    await exportTable({ table: 'alerts', out, partitionBy: ['level'] }, { lake: lakeAt(lake.db) });
    await expect(exportTable({ table: 'alerts', out, partitionBy: ['level'] }, { lake: lakeAt(lake.db) })).rejects.toBeInstanceOf(OutputExistsError);
    const again = await exportTable({ table: 'alerts', out, partitionBy: ['level'], force: true }, { lake: lakeAt(lake.db) });
    expect(again.rows).toBe(5);
    const other = join(lake.dir, 'notes');
    (await import('node:fs')).mkdirSync(other);
    writeFileSync(join(other, 'thesis.docx'), 'x');
    await expect(exportTable({ table: 'alerts', out: other, partitionBy: ['level'], force: true }, { lake: lakeAt(lake.db) })).rejects.toThrow(/refusing to replace directory/);
    expect(readFileSync(join(other, 'thesis.docx'), 'utf8')).toBe('x');
  });
});

describe('export interrupted (Ctrl-C)', () => {
  it('stops the write and leaves nothing at --out or beside it', async () => {
    const big = join(lake.dir, 'big.duckdb');
    const db = await openDb(big);
    try {
      // Cheap to define, seconds to write: the export is still running when the signal comes.
      await db.run('CREATE VIEW big AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(50000000)');
    } finally {
      db.close();
    }
    for (const format of ['parquet', 'csv', 'arrow'] as const) {
      const dir = join(lake.dir, `stopped-${format}`);
      (await import('node:fs')).mkdirSync(dir);
      const out = join(dir, `big.${format}`);
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 300);
      const err = await exportTable({ table: 'big', out, format }, { lake: lakeAt(big), signal: abort.signal }).catch((e: unknown) => e);
      expect(err, String(err)).toBeInstanceOf(InterruptedError);
      expect((err as InterruptedError).exitCode).toBe(130);
      expect((err as InterruptedError).message).toBe(`interrupted: export of big stopped; nothing written to ${out}`);
      expect(readdirSync(dir)).toEqual([]);
    }
    const before = new AbortController();
    before.abort();
    const out = join(lake.dir, 'never.parquet');
    await expect(exportTable({ table: 'alerts', out }, { lake: lakeAt(lake.db), signal: before.signal })).rejects.toBeInstanceOf(InterruptedError);
    expect(readdirSync(lake.dir)).not.toContain('never.parquet');
  }, 60_000);
});

describe('export to text and arrow', () => {
  it('writes NDJSON and CSV with ISO 8601 instants', async () => {
    const nd = join(lake.dir, 'alerts.ndjson');
    expect((await exportTable({ table: 'alerts', out: nd }, { lake: lakeAt(lake.db) })).format).toBe('ndjson');
    const lines = readFileSync(nd, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(lines.find((l) => l.alert_id === 'AL-1')).toMatchObject({ at: '2026-01-05T01:00:01Z', triggers: ['latency', 'force', 'force_spike'], risk_score: 8 });
    const csv = join(lake.dir, 'vitals.csv');
    await exportTable({ table: 'vitals_hourly', out: csv, where: ['patient_id=PAT-2', 'metric=spo2'] }, { lake: lakeAt(lake.db) });
    expect(readFileSync(csv, 'utf8').split('\n')[1]).toBe('PAT-2,spo2,2026-01-05T00:00:00Z,12,90.0,97.0,93.0,96.0,0');
  });

  it('writes Arrow IPC that apache-arrow reads with the same rows and types', async () => {
    const out = join(lake.dir, 'alerts.arrow');
    const result = await exportTable({ table: 'alerts', out }, { lake: lakeAt(lake.db) });
    expect(result).toMatchObject({ format: 'arrow', rows: 5 });
    const table = tableFromIPC(readFileSync(out));
    expect(table.numRows).toBe(5);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({ alert_id: 'Utf8', at: 'Timestamp<MICROSECOND, UTC>', level_rank: 'Int32', triggers: 'List<Utf8>' });
    const first = table.get(0)?.toJSON() as Record<string, unknown>;
    expect(first.alert_id).toBe('AL-1');
    expect(Number(first.at)).toBe(Date.parse('2026-01-05T01:00:01Z'));
    expect([...(table.getChild('triggers')?.get(0) ?? [])]).toEqual(['latency', 'force', 'force_spike']);
    expect(table.getChild('error_code')?.get(0)).toBeNull();
    expect(table.getChild('error_code')?.get(1)).toBe('E-ARC');
  });

  it('writes every telemetry_risk type to Arrow (doubles, booleans, integers, nulls)', async () => {
    const out = join(lake.dir, 'risk.arrow');
    await exportTable({ table: 'telemetry_risk', out, where: ['procedure_id=PROC-1'] }, { lake: lakeAt(lake.db) });
    const table = tableFromIPC(readFileSync(out));
    expect(table.numRows).toBe(3);
    expect(table.getChild('force_n')?.toArray()).toEqual(new Float64Array([4.5, 14.2, 3.1]));
    expect([...(table.getChild('force_spike') ?? [])]).toEqual([false, true, false]);
    expect(String(table.schema.fields.find((f) => f.name === 'force_spike')?.type)).toBe('Bool');
    expect([...(table.getChild('error_code') ?? [])]).toEqual([null, null, 'W-COMM']);
  });
});
