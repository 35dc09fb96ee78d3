// Full builds in procedure and patient batches (issue 18, bounded memory): a procedure- or patient-partitioned
// model built one id range at a time gives exactly the marts of a build in one pass, every later model sees the scope
// macros `true` again, the ranges cover every value once (NULL included), and an incremental run after a batched
// build still equals a full one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../../src/db/db.js';
import { QueryError } from '../../../src/errors.js';
import { transformDb, type TransformResult } from '../../../src/core/transform/transform.js';
import { defineBatchMacro, defineScopeMacros, partitionBatches, procedureBatches } from '../../../src/core/transform/scope.js';
import { tempDir } from '../../helpers/run-cli.js';
import { insertSynthetic, MARTS, martDiff, openLakehouse } from './helpers.js';

let dir: string;
let cleanup: () => void;
let batched: Db;
let batchedRun: TransformResult;
let batchedInc: TransformResult;

// 14 procedures x 150 events = 2,100 telemetry rows; 400 rows a batch gives 5 batches (procedures are never split).
const first = (db: Db): Promise<void> =>
  insertSynthetic(db, { loadId: 'L1', from: 0, to: 14, events: 150, patients: 5, vitalsPatients: [0, 1, 2, 3, 4], hours: 6 });
const second = (db: Db): Promise<void> =>
  insertSynthetic(db, { loadId: 'L2', from: 14, to: 16, events: 150, patients: 5, vitalsPatients: [2], hours: 2, vitalsStart: '2026-01-05T13:00:00Z' });

async function attach(db: Db, file: string, alias: string): Promise<void> {
  await db.run(`ATTACH '${join(dir, file).replaceAll("'", "''")}' AS ${alias} (READ_ONLY)`);
}

beforeAll(async () => {
  const t = tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  // The same raw data three ways: batched full, then an incremental after a second load (batched.duckdb);
  // one-pass full of the first load (once.duckdb); one-pass full of both loads (both.duckdb).
  batched = await openLakehouse(dir, 'batched.duckdb');
  await first(batched);
  batchedRun = await transformDb(batched, { cwd: dir, env: {}, batchRows: 400 });
  const once = await openLakehouse(dir, 'once.duckdb');
  await first(once);
  const onceRun = await transformDb(once, { cwd: dir, env: {} });
  expect(onceRun.tests_failed).toBe(0);
  once.close();
  const both = await openLakehouse(dir, 'both.duckdb');
  await first(both);
  await second(both);
  await transformDb(both, { cwd: dir, env: {} });
  both.close();
  await attach(batched, 'once.duckdb', 'once_db');
  await attach(batched, 'both.duckdb', 'both_db');
}, 180_000);

afterAll(() => {
  batched?.close();
  cleanup?.();
});

describe('a full build in procedure batches', () => {
  it('cuts raw_telemetry into several ranges of about batchRows rows, never splitting a procedure', async () => {
    const bounds = await procedureBatches(batched, 400);
    expect(bounds.length).toBe(4);
    expect([...bounds].sort()).toEqual(bounds);
    // Each range holds whole procedures of 150 rows: at most 400 + 149 rows.
    const sizes = await batched.all<{ n: number }>(
      `SELECT count(*)::INTEGER AS n FROM raw_telemetry t
       ASOF JOIN (SELECT unnest($b::JSON::VARCHAR[]) AS lo UNION ALL SELECT '') b ON t.procedure_id >= b.lo
       GROUP BY b.lo ORDER BY b.lo`,
      { b: JSON.stringify(bounds) },
    );
    expect(sizes.map((s) => s.n).reduce((a, b) => a + b, 0)).toBe(2100);
    for (const s of sizes) expect(s.n).toBeLessThanOrEqual(549);
    expect(await procedureBatches(batched, 2100)).toEqual([]);
  });

  it('cuts patients into ranges of about batchRows raw telemetry + vitals rows, never splitting a patient', async () => {
    // batchRows 400 gives patient batches of 1,600 rows (PATIENT_BATCH_FACTOR): the run above built the patient
    // models (news2_hourly, patient_risk, trends, vitals_flags) in more than one batch.
    const bounds = await partitionBatches(batched, 'patient', 1600);
    expect(bounds.length).toBeGreaterThanOrEqual(1);
    expect([...bounds].sort()).toEqual(bounds);
    const perPatient = await batched.all<{ patient_id: string; n: number }>(
      `SELECT patient_id, count(*)::INTEGER AS n FROM (SELECT patient_id FROM raw_telemetry UNION ALL SELECT patient_id FROM raw_vitals)
       GROUP BY patient_id ORDER BY patient_id`,
    );
    const biggest = Math.max(...perPatient.map((p) => p.n));
    const total = perPatient.reduce((a, p) => a + p.n, 0);
    const sizes = bounds.map((lo, i) => perPatient.filter((p) => p.patient_id >= lo && (bounds[i + 1] === undefined || p.patient_id < (bounds[i + 1] as string))).reduce((a, p) => a + p.n, 0));
    const first = total - sizes.reduce((a, b) => a + b, 0);
    for (const n of [first, ...sizes]) expect(n).toBeLessThanOrEqual(1600 + biggest - 1);
    expect(await partitionBatches(batched, 'patient', total)).toEqual([]);
  });

  it('builds every mart exactly as one pass does, with the same row counts and no failed test', async () => {
    expect(batchedRun.tests_failed).toBe(0);
    for (const mart of MARTS) expect({ mart, diff: await martDiff(batched, 'once_db', 'batched', mart) }).toEqual({ mart, diff: 0 });
    const risk = batchedRun.models.find((m) => m.model === 'telemetry_risk');
    expect(risk?.rows).toBe(2100);
  });

  it('leaves the scope macros true for the models after it', async () => {
    expect(await batched.scalar<boolean>(`SELECT in_scope_procedure('PR-0') AND in_scope_procedure('zzz') AND in_scope_procedure(NULL)
      AND in_scope_patient('P-0') AND in_scope_patient('zzz') AND in_scope_patient(NULL)`)).toBe(true);
  });

  it('an incremental run after it equals a full build of the same loads', async () => {
    await second(batched);
    batchedInc = await transformDb(batched, { cwd: dir, env: {}, batchRows: 400 });
    expect(batchedInc.mode).toBe('incremental');
    expect(batchedInc.tests_failed).toBe(0);
    for (const mart of MARTS) expect({ mart, diff: await martDiff(batched, 'both_db', 'batched', mart) }).toEqual({ mart, diff: 0 });
  });
});

describe('a batched model that fails', () => {
  it('rolls back with its batch scope: a later model in the same run reads every procedure', async () => {
    const models = join(dir, 'failing-models');
    mkdirSync(models, { recursive: true });
    // Fails in a late batch only (PR-9 sorts after PR-1x), after earlier batches were written.
    writeFileSync(join(models, 'risky.sql'), `-- depends-on:
-- grain: one row per (procedure_id)
-- partition: procedure(procedure_id)
SELECT procedure_id, CASE WHEN procedure_id = 'PR-9' THEN error('boom') ELSE count(*) END AS n
FROM raw_telemetry WHERE in_scope_procedure(procedure_id) GROUP BY procedure_id
`);
    // Not partitioned: built in one pass, so it sees whatever in_scope_procedure says after risky.
    writeFileSync(join(models, 'zz_after.sql'), `-- depends-on:
-- grain: one row per (procedure_id)
SELECT procedure_id, count(*) AS n FROM raw_telemetry WHERE in_scope_procedure(procedure_id) GROUP BY procedure_id
`);
    const db = await openLakehouse(dir, 'failing.duckdb');
    try {
      await first(db);
      await expect(transformDb(db, { cwd: dir, env: {}, batchRows: 400, modelsDir: models, fullRefresh: true })).rejects.toThrow(QueryError);
      expect(await db.scalar<number>(`SELECT count(*)::INTEGER FROM information_schema.tables WHERE table_name = 'risky'`)).toBe(0);
      expect(await db.scalar<number>('SELECT count(*)::INTEGER FROM zz_after')).toBe(14);
      expect(await db.scalar<string>(`SELECT status FROM model_runs WHERE model = 'risky'`)).toBe('failed');
    } finally {
      db.close();
    }
  });
});

describe('the batch ranges', () => {
  it('put every value, NULL included, in exactly one batch', async () => {
    const values = ['', 'A', 'PR-0', 'PR-1', 'PR-10', 'PR-2', 'PR-3', 'PR-69', 'PR-7', 'PR-8', 'zzz', null];
    const hits = new Map<string, number>();
    const ranges: [string | null, string | null][] = [[null, 'PR-1'], ['PR-1', 'PR-3'], ['PR-3', 'PR-7'], ['PR-7', null]];
    for (const [lo, hi] of ranges) {
      await defineBatchMacro(batched, lo, hi);
      const inBatch = await batched.all<{ v: string | null }>(
        `SELECT v FROM (SELECT unnest($vals::JSON::VARCHAR[]) AS v) WHERE in_scope_procedure(v)`,
        { vals: JSON.stringify(values) },
      );
      for (const r of inBatch) hits.set(String(r.v), (hits.get(String(r.v)) ?? 0) + 1);
    }
    await defineScopeMacros(batched, false);
    expect(Object.fromEntries(hits)).toEqual(Object.fromEntries(values.map((v) => [String(v), 1])));
  });
});
