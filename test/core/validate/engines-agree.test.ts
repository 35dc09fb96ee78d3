// Property tests: rows that are mostly valid with random mutations, validated by both engines; per row the verdict,
// the set of failing keywords and the warnings must be the same. Many rows per file (one staging per file is the cost).
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDatasetSchema, type DatasetSchema } from '../../../src/core/schemas.js';
import { dropStaged, stageAndValidate } from '../../../src/core/validate/index.js';

const scratch = useScratchDb();

const TRICKY = ['', '1e309', 'NaN', '-0', '00012', '1.0', ' 5', 'true', 'false', 'True', '2025-02-30', '2025-03-01 10:00',
  '2025-03-01T10:00:00+05:30', '2025-03-01t10:00:00z', '2016-12-31T23:59:60Z', '23:59:60', 'arm_9', 'x'.repeat(70), 'EV-1',
  '💩', 'a,b', 'q"q', '-1', '1e2', '101', '0.1', '1000.5', 'null', '2024-02-29', 'heart_rate', '/min', 'mmHg', '70', '300',
  'spo2', '%', 'line\nbreak', '-', '_x',
  // RFC 3339 as both engines read it (formats.ts): leap seconds (valid with a warning, or invalid), offsets without
  // minutes or with seconds, lowercase t and z, separators other than T and space; U+FEFF and spaces in values.
  '2016-12-31T18:59:60-05:00', '2016-12-31t23:59:60.5z', '2016-12-31T12:59:60Z', '2016-12-31T24:59:60+01:00', '2016-12-31T23:59:61Z',
  '2025-03-01T10:00:00+05', '2025-03-01T10:00:00+0530', '2025-03-01T10:00:00+05:30:00', '2025-03-01T10:00:00-00:00',
  '2025-03-01 10:00:00Z', '2025-03-01\t10:00:00Z', '2025-03-01\uFEFF10:00:00Z', '\uFEFF2025-03-01T10:00:00Z', '2025-03-01T10:00:00Z ',
  '1985-04-12T00:59:59.999999999999999Z', '\uFEFFEV-1', 'EV-1\uFEFF', '\uFEFF72', '\uFEFFtrue', '\uFEFF', ' heart_rate', 'arm_2 ',
  '\u00A0arm_2'];

const GOOD: Record<string, (i: number) => string> = {
  event_id: (i) => `EV-${i}`, procedure_id: () => 'PR-1', patient_id: () => 'PA-1', robot_id: () => 'RB-1', robot_arm: () => 'arm_2',
  instrument: () => 'stapler', step: () => 'stapling', force_n: () => '12.5', velocity_mm_s: () => '40', latency_ms: () => '90',
  error_code: () => '', recorded_at: () => '2025-03-01T10:00:00.250Z',
  reading_id: (i) => `R-${i}`, metric: () => 'heart_rate', value: () => '72', unit: () => '/min', measured_at: () => '2025-03-01T10:00:00+01:00',
  surgeon_id: () => 'S-1', procedure_type: () => 'colectomy', started_at: () => '2025-03-01T08:00:00Z', ended_at: () => '2025-03-01T10:00:00Z',
  status: () => 'completed',
};

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

async function verdicts(file: string, ds: DatasetSchema, engine: 'compiled' | 'ajv'): Promise<Map<number, string>> {
  const s = await stageAndValidate(scratch.db, { path: file }, ds, { engine, materializeValid: false, examples: 1e6 });
  expect(s.engine).toBe(engine);
  const rows = await scratch.db.all<{ line: number; errors: string }>(`SELECT line::INTEGER AS line, errors FROM ${s.quarantineTable}`);
  await dropStaged(scratch.db, s);
  const out = new Map(rows.map((r) => [Number(r.line), [...new Set((JSON.parse(r.errors) as { keyword: string; field: string | null }[]).map((e) => `${e.field}:${e.keyword}`))].sort().join(' ')]));
  // Warnings (leap_second, x-severity warn rules) by line, from the uncapped examples.
  for (const e of s.examples.filter((x) => x.severity === 'warn')) out.set(e.line, `${out.get(e.line) ?? ''} warn ${e.field}:${e.keyword}`.trim());
  return out;
}

let n = 0;
let files = 0;
let rowsChecked = 0;
for (const dataset of ['telemetry', 'vitals', 'procedures']) {
  describe(`${dataset}: compiled and ajv agree`, () => {
    const ds = loadDatasetSchema(dataset);
    const cols = ds.columns;
    const mutation = fc.record({ col: fc.integer({ min: 0, max: cols.length - 1 }), value: fc.constantFrom(...TRICKY) });
    const row = fc.array(mutation, { maxLength: 3 });
    it('CSV rows', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(row, { minLength: 60, maxLength: 200 }), async (rows) => {
          const lines = [cols.join(',')];
          rows.forEach((muts, i) => {
            const cells = cols.map((c) => GOOD[c]?.(i) ?? '');
            for (const m of muts) cells[m.col] = m.value;
            lines.push(cells.map(csvCell).join(','));
          });
          const file = join(scratch.dir, `${dataset}-${n++}.csv`);
          writeFileSync(file, `${lines.join('\n')}\n`);
          const a = await verdicts(file, ds, 'compiled');
          const b = await verdicts(file, ds, 'ajv');
          expect(Object.fromEntries(a)).toEqual(Object.fromEntries(b));
          files++;
          rowsChecked += rows.length;
        }),
        { numRuns: 8, seed: 20260105, endOnFailure: true },
      );
    });
    it('NDJSON rows with JSON types', async () => {
      const jsonValue = fc.oneof(fc.constantFrom(...TRICKY), fc.constantFrom(0, -0.5, 1, 1.5, 72, 101, 1e21, true, false, null), fc.constant(undefined));
      const jrow = fc.array(fc.record({ col: fc.integer({ min: 0, max: cols.length - 1 }), value: jsonValue }), { maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(fc.array(jrow, { minLength: 60, maxLength: 200 }), async (rows) => {
          const lines = rows.map((muts, i) => {
            const obj: Record<string, unknown> = {};
            cols.forEach((c) => {
              const g = GOOD[c]?.(i) ?? '';
              const t = ds.columnTypes[c]?.type;
              if (g !== '') obj[c] = t === 'number' ? Number(g) : g;
            });
            for (const m of muts) {
              const c = cols[m.col] as string;
              if (m.value === undefined) delete obj[c];
              else obj[c] = m.value;
            }
            return JSON.stringify(obj);
          });
          const file = join(scratch.dir, `${dataset}-${n++}.ndjson`);
          writeFileSync(file, `${lines.join('\n')}\n`);
          const a = await verdicts(file, ds, 'compiled');
          const b = await verdicts(file, ds, 'ajv');
          expect(Object.fromEntries(a)).toEqual(Object.fromEntries(b));
          files++;
          rowsChecked += rows.length;
        }),
        { numRuns: 8, seed: 20260105, endOnFailure: true },
      );
    });
  });
}

it('ran many rows per file', () => {
  expect(rowsChecked).toBeGreaterThan(files * 50);
  console.info(`engines-agree: ${files} files, ${rowsChecked} rows, each validated by the compiled engine and ajv`);
});
