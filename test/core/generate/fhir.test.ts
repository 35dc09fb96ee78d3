// generate --data-format fhir: the generator's own dataset as FHIR R4 Bulk Data NDJSON, read back through the
// shipped ViewDefinitions: every vitals reading comes back with its LOINC code, value and UCUM unit.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/db/db.js';
import { runView, shippedView, stageFhir } from '../../../src/core/fhir/index.js';
import { FHIR_VITAL_CODES } from '../../../src/core/fhir/codes.js';
import { generateDataset, type GenerateResult } from '../../../src/core/generate/index.js';

let dir: string;
let db: Db;
let fhir: GenerateResult;
const small = { seed: 11, robots: 2, patients: 6, procedures: 8, vitalsHours: 3, vitalsIntervalMin: 30, telemetryRows: 100 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'surgctl-genfhir-'));
  db = await openDb(':memory:', { threads: 1, memoryLimit: '512MB' });
  fhir = await generateDataset({ ...small, out: join(dir, 'fhir'), format: 'fhir' });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('generate --data-format fhir', () => {
  it('writes Bulk Data NDJSON per resource type and a manifest', () => {
    expect(fhir.manifest.files.map((f) => [f.path, f.format])).toEqual([
      ['Patient.ndjson', 'fhir'], ['Device.ndjson', 'fhir'], ['Procedure.ndjson', 'fhir'], ['Observation.ndjson', 'fhir'],
    ]);
    expect(fhir.manifest.bad_rows).toEqual([]);
    for (const f of fhir.manifest.files) {
      const lines = readFileSync(join(fhir.outDir, f.path), 'utf8').split('\n').filter(Boolean);
      expect(lines.length).toBe(f.rows);
      const types = new Set(lines.map((l) => (JSON.parse(l) as { resourceType: string }).resourceType));
      expect([...types]).toEqual([f.path.replace('.ndjson', '')]);
    }
  });

  it('uses the LOINC codes and UCUM units of the issue (and of the import code map)', () => {
    expect(Object.fromEntries(Object.entries(FHIR_VITAL_CODES).map(([m, c]) => [m, [c.loinc, 'ucum' in c ? c.ucum : null]]))).toEqual({
      heart_rate: ['8867-4', '/min'], resp_rate: ['9279-1', '/min'], spo2: ['59408-5', '%'], systolic_bp: ['8480-6', 'mm[Hg]'],
      diastolic_bp: ['8462-4', 'mm[Hg]'], temperature_c: ['8310-5', 'Cel'], glucose_mg_dl: ['2339-0', 'mg/dL'], weight_kg: ['29463-7', 'kg'],
      consciousness: ['67775-7', null], o2_supplemental: ['3150-0', '%'],
    });
  });

  it('every vitals reading round-trips through observation-readings (compiled engine): LOINC, value, UCUM unit', async () => {
    const csv = await generateDataset({ ...small, out: join(dir, 'csv'), format: 'csv', badRows: 0, datasets: ['robots', 'patients', 'procedures', 'vitals'] });
    const vitals = join(csv.outDir, 'vitals.csv');
    const st = await stageFhir(db, [fhir.outDir]);
    expect(st.errors).toEqual([]);
    await runView(db, shippedView('observation-readings'), { source: 'fhir_resources', target: 'readings', engine: 'compiled' });
    const codes = Object.entries(FHIR_VITAL_CODES).map(([metric, c]) => ({ metric, loinc: c.loinc, ucum: 'ucum' in c ? c.ucum : null }));
    // The contract CSV and the FHIR readings, joined by reading id: each metric has its LOINC code and UCUM unit,
    // quantities carry the contract's value, consciousness its ACVPU answer, oxygen 21 % (air) or 28 % (supplemental).
    const mismatches = await db.all(
      `WITH c AS (SELECT * FROM read_csv('${vitals}', header = true, all_varchar = true))
       SELECT c.reading_id, c.metric, c.value, r.* FROM c LEFT JOIN readings r ON r.id = c.reading_id JOIN (SELECT unnest(x, recursive := true) FROM (SELECT unnest(CAST($codes AS JSON)::STRUCT(metric VARCHAR, loinc VARCHAR, ucum VARCHAR)[]) AS x)) k ON k.metric = c.metric
       WHERE r.id IS NULL OR r.patient_id <> c.patient_id OR r.code <> k.loinc OR r.code_system <> 'http://loinc.org'
          OR r.effective <> strftime(c.measured_at::TIMESTAMPTZ, '%Y-%m-%dT%H:%M:%S.%gZ')
          OR (k.ucum IS NOT NULL AND (r.unit <> k.ucum OR r.unit_system <> 'http://unitsofmeasure.org'))
          OR (c.metric NOT IN ('consciousness', 'o2_supplemental') AND r.value <> c.value::DOUBLE)
          OR (c.metric = 'consciousness' AND r.value_code <> CASE WHEN c.value::DOUBLE = 0 THEN 'A' ELSE 'C' END)
          OR (c.metric = 'o2_supplemental' AND r.value <> CASE WHEN c.value::DOUBLE = 0 THEN 21 ELSE 28 END)`,
      { codes: JSON.stringify(codes) },
    );
    expect(mismatches).toEqual([]);
    const n = await db.all<{ c: number; r: number }>(`SELECT (SELECT count(*) FROM read_csv('${vitals}'))::INTEGER AS c, (SELECT count(*) FROM readings)::INTEGER AS r`);
    expect(n[0]?.r).toBe(n[0]?.c);
    expect(n[0]?.r).toBeGreaterThan(100);
  });

  it('patients, procedures and devices come back through their views', async () => {
    await stageFhir(db, [fhir.outDir]);
    await runView(db, shippedView('procedures'), { source: 'fhir_resources', target: 'p', engine: 'compiled' });
    const p = await db.all('SELECT * FROM p ORDER BY procedure_id LIMIT 1');
    expect(p[0]).toMatchObject({ procedure_id: expect.stringMatching(/^\S+$/), patient_id: expect.any(String), performer: expect.any(String) });
    await runView(db, shippedView('devices'), { source: 'fhir_resources', target: 'd', engine: 'compiled' });
    expect(await db.scalar('SELECT count(*)::INTEGER FROM d')).toBe(2);
    await runView(db, shippedView('patients'), { source: 'fhir_resources', target: 'pt', engine: 'compiled' });
    expect(await db.scalar('SELECT count(*)::INTEGER FROM pt WHERE gender IS NOT NULL AND birth_date IS NOT NULL')).toBe(6);
  });

  it('is byte-identical for the same seed, and refuses --bad-rows', async () => {
    const again = await generateDataset({ ...small, out: join(dir, 'fhir2'), format: 'fhir' });
    expect(again.manifest.files.map((f) => f.sha256)).toEqual(fhir.manifest.files.map((f) => f.sha256));
    await expect(generateDataset({ ...small, out: join(dir, 'fhir3'), format: 'fhir', badRows: 0.01 })).rejects.toMatchObject({ code: 'usage', field: '--bad-rows' });
  });
});
