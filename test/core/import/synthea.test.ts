// The same patients through two doors: Synthea's CSV export (fixtures/synthea-csv, trimmed from the shared copy)
// with the shipped synthea profile, and a FHIR R4 rendering of part of it made here (Bulk Data NDJSON: Patients,
// blood pressure as 85354-9 panels with components, weight in [lb_av], temperature in [degF], glucose in mmol/L,
// times with a +02:00 offset). After `transform`, vitals_hourly is identical on both sides, except for the last
// digits where the CSV had rounded a value and the FHIR side carries it converted to another unit and back.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { importCsv, importFhir } from '../../../src/core/import/import.js';
import { runTransform } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';

const DIR = join(import.meta.dirname, '../../../fixtures/synthea-csv');

function csvRows(file: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(join(DIR, file), 'utf8').trim().split('\n');
  const cols = (head as string).split(',');
  // These Synthea files have no quoted commas in the columns used here (checked by the row-count assertion below).
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

const SIMPLE: Record<string, { unit: string; convert?: (v: number) => number; to?: string }> = {
  '8867-4': { unit: '/min' },
  '9279-1': { unit: '/min' },
  '2708-6': { unit: '%' },
  '59408-5': { unit: '%' },
  '8310-5': { unit: 'Cel', convert: (c) => (c * 9) / 5 + 32, to: '[degF]' },
  '29463-7': { unit: 'kg', convert: (kg) => kg / 0.45359237, to: '[lb_av]' },
  '2339-0': { unit: 'mg/dL', convert: (mg) => mg / 18.0156, to: 'mmol/L' },
  '2345-7': { unit: 'mg/dL', convert: (mg) => mg / 18.0156, to: 'mmol/L' },
};

/** +02:00 local time of a Z instant (same instant). */
function plus2(z: string): string {
  const d = new Date(Date.parse(z) + 2 * 3600_000);
  return `${d.toISOString().slice(0, 19)}+02:00`;
}

function quantity(value: number, code: string): object {
  return { value, unit: code, system: 'http://unitsofmeasure.org', code };
}

/** The FHIR rendering of the CSV rows of `patients`. */
function renderFhir(patients: Set<string>): { patients: string; observations: string; rows: number } {
  const pats = csvRows('patients.csv').filter((p) => patients.has(p.Id as string)).map((p) => JSON.stringify({
    resourceType: 'Patient', id: p.Id, gender: p.GENDER === 'M' ? 'male' : 'female', birthDate: p.BIRTHDATE,
  }));
  const obs: string[] = [];
  const rows = csvRows('observations.csv').filter((r) => patients.has(r.PATIENT as string));
  const bp = new Map<string, { sys?: number; dia?: number; date: string; patient: string }>();
  let n = 0;
  for (const r of rows) {
    const base = { resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${r.PATIENT}` }, effectiveDateTime: plus2(r.DATE as string) };
    const v = Number(r.VALUE);
    if (r.CODE === '8480-6' || r.CODE === '8462-4') {
      const k = `${r.PATIENT}|${r.ENCOUNTER}|${r.DATE}`;
      const e = bp.get(k) ?? { date: r.DATE as string, patient: r.PATIENT as string };
      if (r.CODE === '8480-6') e.sys = v;
      else e.dia = v;
      bp.set(k, e);
      continue;
    }
    const s = SIMPLE[r.CODE as string];
    if (!s) continue;
    n += 1;
    obs.push(JSON.stringify({ ...base, id: `o${n}`, code: { coding: [{ system: 'http://loinc.org', code: r.CODE }] },
      valueQuantity: s.convert ? quantity(s.convert(v), s.to as string) : quantity(v, s.unit) }));
  }
  for (const e of bp.values()) {
    n += 1;
    obs.push(JSON.stringify({
      resourceType: 'Observation', id: `o${n}`, status: 'final', subject: { reference: `Patient/${e.patient}` }, effectiveDateTime: plus2(e.date),
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      component: [
        ...(e.sys === undefined ? [] : [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: quantity(e.sys, 'mm[Hg]') }]),
        ...(e.dia === undefined ? [] : [{ code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: quantity(e.dia, 'mm[Hg]') }]),
      ],
    }));
  }
  return { patients: `${pats.join('\n')}\n`, observations: `${obs.join('\n')}\n`, rows: rows.length };
}

type Hourly = { patient_id: string; metric: string; hour_start: string; n: number; min: number; max: number; avg: number; p95: number };

async function hourly(dbPath: string, patients: string[]): Promise<Hourly[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const all = await db.all<Hourly>(
      `SELECT patient_id, metric, strftime(hour_start, '%Y-%m-%dT%H:%M:%SZ') AS hour_start, n::INTEGER AS n, min, max, avg, p95
       FROM vitals_hourly ORDER BY patient_id, metric, hour_start`,
    );
    return all.filter((h) => patients.includes(h.patient_id));
  } finally {
    db.close();
  }
}

describe('Synthea CSV and its FHIR rendering', () => {
  it('give the same vitals_hourly after import and transform, except where the CSV rounded', async () => {
    const t = tempDir();
    try {
      const patients = csvRows('patients.csv').slice(0, 5).map((p) => p.Id as string);
      const fhirDir = join(t.dir, 'fhir');
      mkdirSync(fhirDir);
      const rendered = renderFhir(new Set(patients));
      writeFileSync(join(fhirDir, 'Patient.ndjson'), rendered.patients);
      writeFileSync(join(fhirDir, 'Observation.ndjson'), rendered.observations);

      const csvDb = join(t.dir, 'csv.duckdb');
      const csv = await importCsv([DIR], { dbPath: csvDb, profile: 'synthea', cwd: t.dir });
      expect(csv.files.map((f) => [f.path.split('/').pop(), f.status])).toEqual([
        ['encounters.csv', 'skipped'], ['patients.csv', 'loaded'], ['observations.csv', 'loaded'],
      ]);
      const obs = csv.files.find((f) => f.dataset === 'vitals')!;
      expect(obs.counts!.rows_read).toBe(readFileSync(join(DIR, 'observations.csv'), 'utf8').trim().split('\n').length - 1);
      expect(obs.load!.rows_quarantined).toBe(0);
      // mm[Hg] (the real UCUM code) is converted to the contract's mmHg, not quarantined.
      expect(obs.counts!.by_metric.systolic_bp).toBeGreaterThan(0);

      const fhirDb = join(t.dir, 'fhir.duckdb');
      const fhir = await importFhir([fhirDir], { dbPath: fhirDb, profile: 'fhir', cwd: t.dir });
      expect(fhir.quarantined_by_keyword).toEqual({});
      for (const f of fhir.files) expect(f.load!.rows_quarantined, f.path).toBe(0);

      for (const db of [csvDb, fhirDb]) await runTransform({ dbPath: db, cwd: t.dir, env: {}, select: ['vitals_hourly'] });
      const a = await hourly(csvDb, patients);
      const b = await hourly(fhirDb, patients);
      expect(a.length).toBeGreaterThan(50);
      expect(b.map((h) => [h.patient_id, h.metric, h.hour_start, h.n])).toEqual(a.map((h) => [h.patient_id, h.metric, h.hour_start, h.n]));
      let exact = 0;
      for (const [i, x] of a.entries()) {
        const y = b[i]!;
        for (const k of ['min', 'max', 'avg', 'p95'] as const) {
          // Identical where the FHIR side carries the CSV's value; within 1e-9 relative where it went through
          // another unit (lb, degF, mmol/L) and back.
          expect(Math.abs(x[k] - y[k]), `${x.patient_id} ${x.metric} ${x.hour_start} ${k}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x[k])));
        }
        if (['heart_rate', 'resp_rate', 'systolic_bp', 'diastolic_bp', 'spo2'].includes(x.metric)) {
          expect([y.min, y.max, y.avg, y.p95]).toEqual([x.min, x.max, x.avg, x.p95]);
          exact += 1;
        }
      }
      expect(exact).toBeGreaterThan(20);
    } finally {
      t.cleanup();
    }
  });
});
