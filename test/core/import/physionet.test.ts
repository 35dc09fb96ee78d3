// The physionet-2012 profile on a record file in the Challenge's own format (Time,Parameter,Value; -1 = not
// measured; RecordID in the first rows): per-metric counts and means equal a plain computation over the same file
// with the same filters, every row is accounted for, and the import goes through the normal load (ledger,
// quarantine, idempotency).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { importCsv } from '../../../src/core/import/import.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';
import { physionetRecord } from '../../helpers/physionet.js';

const METRIC: Record<string, string> = {
  HR: 'heart_rate', RespRate: 'resp_rate', SaO2: 'spo2', SysABP: 'systolic_bp', NISysABP: 'systolic_bp',
  DiasABP: 'diastolic_bp', NIDiasABP: 'diastolic_bp', Temp: 'temperature_c', Glucose: 'glucose_mg_dl', Weight: 'weight_kg',
  GCS: 'consciousness', MechVent: 'o2_supplemental',
};

/** The plain computation: parse the file, same filters (mapped parameter, not -1/NA/empty, numeric). */
function plain(text: string): Map<string, { n: number; sum: number }> {
  const out = new Map<string, { n: number; sum: number }>();
  for (const line of text.trim().split('\n').slice(1)) {
    const [, p, v] = line.split(',') as [string, string, string];
    const metric = METRIC[p];
    if (!metric || v === '-1' || v === 'NA' || v === '' || !Number.isFinite(Number(v))) continue;
    let value = Number(v);
    if (p === 'GCS') value = value < 15 ? 1 : 0;
    if (p === 'MechVent') value = value >= 1 ? 1 : 0;
    const s = out.get(metric) ?? { n: 0, sum: 0 };
    s.n += 1;
    s.sum += value;
    out.set(metric, s);
  }
  return out;
}

describe('import csv --profile physionet-2012', () => {
  it('per-metric counts and means equal a plain computation over the record file; rows are all accounted for', async () => {
    const t = tempDir();
    try {
      const text = physionetRecord(132539);
      const file = join(t.dir, '132539.txt');
      writeFileSync(file, text);
      const dbPath = join(t.dir, 'lake.duckdb');
      const opts = { inputs: [file], profile: 'physionet-2012', cwd: t.dir, allowOrphans: true };
      const lake = lakeAt(dbPath);
      const r = await importCsv(opts, { lake });
      const f = r.files[0]!;
      expect(f.status).toBe('loaded');
      const rowsInFile = text.trim().split('\n').length - 1;
      const skipped = Object.values(f.counts!.skipped).reduce((a, b) => a + b, 0);
      const missing = Object.values(f.counts!.missing).reduce((a, b) => a + b, 0);
      expect(f.counts!.rows_read).toBe(rowsInFile);
      expect(f.counts!.mapped + skipped + missing).toBe(rowsInFile);
      // -1 of a mapped parameter is a missing reading; -1 of a descriptor (Height) is skipped with the descriptor.
      expect(f.counts!.missing['-1']).toBe(text.split('\n').filter((l) => l.endsWith(',-1') && METRIC[l.split(',')[1]!]).length);
      expect(f.counts!.skipped['code not mapped']).toBe(text.split('\n').filter((l) => /,(MAP|Lactate|pH),/.test(l)).length);
      expect(f.counts!.quarantined_by_keyword).toEqual({ type: 1 });
      const load = f.load!;
      expect(load.rows_read).toBe(f.counts!.mapped);
      expect(load.rows_inserted + load.rows_duplicate + load.rows_quarantined).toBe(load.rows_read);
      expect(load.rows_quarantined).toBe(1);

      const db = await openDb(dbPath, { readOnly: true });
      try {
        const got = await db.all<{ metric: string; n: number; avg: number }>(
          'SELECT metric, count(*)::INTEGER AS n, avg(value) AS avg FROM raw_vitals GROUP BY metric ORDER BY metric',
        );
        const want = plain(text);
        expect(got.map((g) => g.metric)).toEqual([...want.keys()].sort());
        for (const g of got) {
          const w = want.get(g.metric)!;
          expect(g.n, g.metric).toBe(w.n);
          expect(g.avg, g.metric).toBeCloseTo(w.sum / w.n, 9);
        }
        // Relative times anchored at the profile's admission instant; lineage keeps the source value and code.
        const first = await db.all<{ at: string; reading_id: string; patient_id: string; original_code: string; original_value: string; _source_line: number }>(
          `SELECT strftime(measured_at, '%Y-%m-%dT%H:%M:%SZ') AS at, reading_id, patient_id, original_code, original_value, _source_line::INTEGER AS _source_line
           FROM raw_vitals ORDER BY _source_line LIMIT 1`,
        );
        const firstHr = text.split('\n').findIndex((l) => l.startsWith('00:07,HR,'));
        expect(first[0]).toEqual({ at: '2012-01-01T00:07:00Z', reading_id: `pn132539-${firstHr}`, patient_id: 'pn132539', original_code: 'HR', original_value: text.split('\n')[firstHr]!.split(',')[2], _source_line: firstHr + 1 });
        const q = await db.all<{ line: number; rule: string; errors: string }>('SELECT line::INTEGER AS line, rule, errors FROM quarantine');
        expect(q).toHaveLength(1);
        expect(q[0]!.rule).toBe('type');
        expect(q[0]!.line).toBe(rowsInFile + 1);
        expect(JSON.parse(q[0]!.errors)[0]).toMatchObject({ field: 'value', keyword: 'type', value: 'x' });
      } finally {
        db.close();
      }

      // The same import again is skipped; --force loads it again, idempotent by key (all duplicates).
      const again = await importCsv(opts, { lake });
      expect(again.files[0]!.status).toBe('skipped');
      const forced = await importCsv({ ...opts, force: true }, { lake });
      expect(forced.files[0]!.load!.rows_inserted).toBe(0);
      expect(forced.files[0]!.load!.rows_duplicate).toBe(load.rows_inserted);
    } finally {
      t.cleanup();
    }
  });
});
