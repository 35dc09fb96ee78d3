// The same patients through two doors: Synthea's CSV export (fixtures/synthea-csv, trimmed from the shared copy)
// with the shipped synthea profile, and a FHIR R4 rendering of part of it made here (Bulk Data NDJSON: Patients,
// blood pressure as 85354-9 panels with components, weight in [lb_av], temperature in [degF], glucose in mmol/L,
// times with a +02:00 offset). After `transform`, vitals_hourly is identical on both sides, except for the last
// digits where the CSV had rounded a value and the FHIR side carries it converted to another unit and back.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { importCsv, importFhir } from '../../../src/core/import/import.js';
import { runTransform } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

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
      const csv = await importCsv({ inputs: [DIR], profile: 'synthea', cwd: t.dir }, { lake: lakeAt(csvDb) });
      expect(csv.files.map((f) => [f.path.split('/').pop(), f.status])).toEqual([
        ['encounters.csv', 'skipped'], ['patients.csv', 'loaded'], ['procedures.csv', 'loaded'], ['observations.csv', 'loaded'],
      ]);
      const obs = csv.files.find((f) => f.dataset === 'vitals')!;
      expect(obs.counts!.rows_read).toBe(readFileSync(join(DIR, 'observations.csv'), 'utf8').trim().split('\n').length - 1);
      expect(obs.load!.rows_quarantined).toBe(0);
      // mm[Hg] (the real UCUM code) is converted to the contract's mmHg, not quarantined.
      expect(obs.counts!.by_metric.systolic_bp).toBeGreaterThan(0);

      const fhirDb = join(t.dir, 'fhir.duckdb');
      const fhir = await importFhir({ inputs: [fhirDir], profile: 'fhir', cwd: t.dir }, { lake: lakeAt(fhirDb) });
      expect(fhir.quarantined_by_keyword).toEqual({});
      for (const f of fhir.files) expect(f.load!.rows_quarantined, f.path).toBe(0);

      for (const db of [csvDb, fhirDb]) await runTransform({ cwd: t.dir, env: {}, select: ['vitals_hourly'] }, { lake: lakeAt(db) });
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

// procedures.csv: the shipped profile keeps only the contract's surgical types (cholecystectomy SNOMED codes), so the
// sample's rows (screenings, reconciliations, an X-ray, a throat culture) are all skipped with the reason. A user's
// own copy that adds two of the sample's codes maps them: id = prefix + md5(PATIENT|START|CODE), times in UTC, the
// source line kept. Synthea records no robot or surgeon: both are 'unknown', so the robots foreign key has no row to
// point at and the load quarantines the rows unless --allow-orphans (the profile's description says so).
describe('Synthea procedures.csv', () => {
  const rows = csvRows('procedures.csv');
  const reason = "not one of the contract's surgical procedure types (add its SNOMED code to only.values and procedure_type.map in your own copy of this profile)";

  it('the shipped profile skips every non-surgical row of the sample with its reason, and accounts for each', async () => {
    const t = tempDir();
    try {
      const r = await importCsv({ inputs: [join(DIR, 'patients.csv'), join(DIR, 'procedures.csv')], profile: 'synthea', cwd: t.dir }, { lake: lakeAt(join(t.dir, 'lake.duckdb')) });
      const f = r.files.find((x) => x.dataset === 'procedures')!;
      expect(rows).toHaveLength(12);
      expect(f.counts).toMatchObject({ rows_read: 12, mapped: 0, skipped: { [reason]: 12 } });
      expect(f.load).toMatchObject({ rows_read: 0, rows_inserted: 0, rows_quarantined: 0 });
    } finally {
      t.cleanup();
    }
  });

  it('a copy of the profile with two of its codes added maps them exactly; the unknown robot needs --allow-orphans', async () => {
    const t = tempDir();
    try {
      const profile = JSON.parse(readFileSync(join(import.meta.dirname, '../../../src/core/import/profiles/synthea.json'), 'utf8'));
      delete profile.$schema;
      const table = profile.tables.find((x: { match: string }) => x.match === 'procedures.csv');
      table.only.values.push('117015009', '305428000');
      Object.assign(table.columns.procedure_type.map, { 117015009: 'cholecystectomy', 305428000: 'hernia_repair' });
      const mine = join(t.dir, 'my-synthea.json');
      writeFileSync(mine, JSON.stringify(profile));
      const inputs = [join(DIR, 'patients.csv'), join(DIR, 'procedures.csv')];
      const want = rows.flatMap((r, i) => (r.CODE === '117015009' || r.CODE === '305428000' ? [{
        procedure_id: `syn-proc-${createHash('md5').update(`${r.PATIENT}|${r.START}|${r.CODE}`).digest('hex').slice(0, 24)}`,
        patient_id: r.PATIENT, robot_id: 'unknown', surgeon_id: 'unknown', procedure_type: r.CODE === '117015009' ? 'cholecystectomy' : 'hernia_repair',
        started_at: r.START, ended_at: r.STOP, status: 'completed', line: i + 2,
      }] : []));
      expect(want).toHaveLength(2);

      const strict = await importCsv({ inputs, profile: mine, cwd: t.dir }, { lake: lakeAt(join(t.dir, 'strict.duckdb')) });
      const s = strict.files.find((x) => x.dataset === 'procedures')!;
      expect(s.counts).toMatchObject({ rows_read: 12, mapped: 2, skipped: { [reason]: 10 } });
      expect(s.load).toMatchObject({ rows_read: 2, rows_inserted: 0, rows_quarantined: 2, failures_by_rule: { orphan_foreign_key: 2 } });

      const dbPath = join(t.dir, 'lake.duckdb');
      const r = await importCsv({ inputs, profile: mine, cwd: t.dir, allowOrphans: true }, { lake: lakeAt(dbPath) });
      expect(r.files.find((x) => x.dataset === 'procedures')!.load).toMatchObject({ rows_read: 2, rows_inserted: 2, rows_quarantined: 0 });
      const db = await openDb(dbPath, { readOnly: true });
      try {
        const got = await db.all(`SELECT procedure_id, patient_id, robot_id, surgeon_id, procedure_type,
            strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS started_at, strftime(ended_at, '%Y-%m-%dT%H:%M:%SZ') AS ended_at, status,
            _source_line::INTEGER AS line FROM raw_procedures ORDER BY _source_line`);
        expect(got).toEqual(want);
      } finally {
        db.close();
      }
    } finally {
      t.cleanup();
    }
  });
});

