// import fhir on the HL7 FHIR R4 core examples (fixtures/fhir-r4-examples, CC0): every vital-sign Observation whose
// LOINC code is a contract metric becomes readings with the right value and canonical unit, and every other
// resource or Observation is skipped with a reason; rows read = mapped + skipped, loaded = inserted + dup + quarantined.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { importFhir } from '../../../src/core/import/import.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

const NDJSON = join(import.meta.dirname, '../../../fixtures/fhir-r4-examples/observations.ndjson');
const CODES = JSON.parse(readFileSync(join(import.meta.dirname, '../../../src/core/import/codes/loinc-vitals.json'), 'utf8')).codes as Record<string, { metric?: string; skip?: string }>;
const UNITS = JSON.parse(readFileSync(join(import.meta.dirname, '../../../schemas/vitals.schema.json'), 'utf8'))['x-metric-units'] as Record<string, string>;

/** Independent of UCUM: the factors a clinician would use. */
function toCanonical(value: number, unit: string, metric: string): number {
  if (unit === '[lb_av]') return value * 0.45359237;
  if (unit === '[degF]') return ((value - 32) * 5) / 9;
  if (metric === 'glucose_mg_dl' && unit === 'mmol/L') return value * 18.0156;
  return value;
}

interface Quantity { value?: number; code?: string; unit?: string; system?: string }
interface Coding { system?: string; code?: string }
interface Obs { id: string; status: string; code: { coding: Coding[] }; valueQuantity?: Quantity; component?: { code: { coding: Coding[] }; valueQuantity?: Quantity }[]; effectiveDateTime?: string; effectivePeriod?: { start: string }; effectiveInstant?: string }

function expected(): { reading_id: string; metric: string; value: number; unit: string }[] {
  const out: { reading_id: string; metric: string; value: number; unit: string }[] = [];
  for (const line of readFileSync(NDJSON, 'utf8').trim().split('\n')) {
    const o = JSON.parse(line) as Obs;
    if (!['final', 'amended', 'corrected', 'preliminary'].includes(o.status)) continue;
    const parts = [{ code: o.code, q: o.valueQuantity }, ...(o.component ?? []).map((c) => ({ code: c.code, q: c.valueQuantity }))];
    for (const p of parts) {
      const code = (p.code.coding.find((c) => c.system === 'http://loinc.org') ?? p.code.coding[0])?.code ?? '';
      const rule = CODES[code];
      if (!p.q || p.q.value === undefined || !rule?.metric) continue;
      out.push({ reading_id: `${o.id}-${code}`, metric: rule.metric, value: toCanonical(p.q.value, p.q.code ?? p.q.unit ?? '', rule.metric), unit: UNITS[rule.metric] as string });
    }
  }
  return out.sort((a, b) => a.reading_id.localeCompare(b.reading_id));
}

describe('import fhir', () => {
  it('maps every vital-sign reading of the HL7 R4 examples, skips the rest with a reason, and accounts for every row', async () => {
    const t = tempDir();
    try {
      const dbPath = join(t.dir, 'lake.duckdb');
      // The examples' dates are partly date-only (naive): --timezone says they are UTC.
      const r = await importFhir({ inputs: [NDJSON], profile: 'fhir', cwd: t.dir, timezone: 'UTC', allowOrphans: true }, { lake: lakeAt(dbPath) });
      const want = expected();
      expect(want.length).toBeGreaterThanOrEqual(8);
      const db = await openDb(dbPath, { readOnly: true });
      try {
        const got = await db.all<{ reading_id: string; metric: string; value: number; unit: string }>(
          'SELECT reading_id, metric, value, unit FROM raw_vitals ORDER BY reading_id',
        );
        expect(got.map((g) => g.reading_id)).toEqual(want.map((w) => w.reading_id));
        for (const [i, g] of got.entries()) {
          expect(g.metric).toBe(want[i]!.metric);
          expect(g.unit).toBe(want[i]!.unit);
          expect(g.value, g.reading_id).toBeCloseTo(want[i]!.value, 6);
        }
        const lineage = await db.all<{ original_unit: string; original_value: string }>(
          "SELECT original_unit, original_value FROM raw_vitals WHERE metric = 'glucose_mg_dl'",
        );
        expect(lineage).toEqual([{ original_unit: 'mmol/L', original_value: '6.3' }]);
      } finally {
        db.close();
      }
      const f = r.files.find((x) => x.dataset === 'vitals')!;
      const c = f.counts!;
      const skipped = Object.values(c.skipped).reduce((a, b) => a + b, 0);
      expect(c.rows_read).toBe(c.mapped + skipped + Object.values(c.missing).reduce((a, b) => a + b, 0));
      expect(c.mapped).toBe(want.length);
      // Every Observation is either a reading or skipped with a reason that says why.
      expect(Object.keys(c.skipped).sort()).toEqual([
        'Observation without a value (no valueQuantity or valueCodeableConcept, e.g. dataAbsentReason)',
        'code not mapped',
        'status is not a result (cancelled, entered-in-error, registered or unknown)',
      ]);
      expect(c.unmapped_codes).toEqual({ '39156-5': 1, '8302-2': 1 });
      const l = f.load!;
      expect(l.rows_read).toBe(c.mapped);
      expect(l.rows_inserted + l.rows_duplicate + l.rows_quarantined).toBe(l.rows_read);
    } finally {
      t.cleanup();
    }
  });

  it('reads a Bundle: patients mapped, offsets normalised to UTC, other resource types skipped by type, an entry without a resource unreadable', async () => {
    const t = tempDir();
    try {
      const bundle = {
        resourceType: 'Bundle', type: 'collection',
        entry: [
          { resource: { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1970-03-04' } },
          { resource: { resourceType: 'Observation', id: 'hr1', status: 'final', subject: { reference: 'Patient/p1' }, effectiveDateTime: '2024-05-01T10:15:00+02:00',
            code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, valueQuantity: { value: 88, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' } } },
          { resource: { resourceType: 'Observation', id: 't1', status: 'final', subject: { reference: 'Patient/p1' }, effectiveDateTime: '2024-05-01T10:20:00Z',
            code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] }, valueQuantity: { value: 100.4, unit: 'F', system: 'http://unitsofmeasure.org', code: '[degF]' } } },
          { resource: { resourceType: 'Observation', id: 'w1', status: 'final', subject: { reference: 'Patient/p1' }, effectiveDateTime: '2024-05-01T10:20:00Z',
            code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, valueQuantity: { value: 3, unit: 'L', system: 'http://unitsofmeasure.org', code: 'L' } } },
          { resource: { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' } } },
          { fullUrl: 'urn:uuid:nothing-here' },
        ],
      };
      const file = join(t.dir, 'bundle.json');
      writeFileSync(file, JSON.stringify(bundle, null, 2));
      const dbPath = join(t.dir, 'lake.duckdb');
      const r = await importFhir({ inputs: [file], profile: 'fhir', cwd: t.dir }, { lake: lakeAt(dbPath) });
      expect(r.resources_skipped).toEqual({ Condition: 1 });
      expect(r.skipped['resource type Condition: no view maps it onto a contract']).toBe(1);
      const patients = r.files.find((f) => f.dataset === 'patients')!;
      expect(patients.load!.rows_inserted).toBe(1);
      const vitals = r.files.find((f) => f.dataset === 'vitals')!;
      expect(vitals.counts!.quarantined_by_keyword).toEqual({ unit: 1 });
      // The entry holds no resource, so it names no dataset: it is in no load, and said so.
      expect(r.unreadable).toEqual([{ file, line: null, entry: 5, entry_of: 'Bundle', resource_type: null, reason: 'the Bundle entry has no resource' }]);
      expect(r.totals.unreadable).toBe(1);
      const db = await openDb(dbPath, { readOnly: true });
      try {
        expect(await db.all("SELECT patient_id, sex, CAST(birth_date AS VARCHAR) AS birth_date, facility_id FROM raw_patients")).toEqual([
          { patient_id: 'p1', sex: 'female', birth_date: '1970-03-04', facility_id: 'unknown' },
        ]);
        const v = await db.all<{ reading_id: string; value: number; unit: string; at: string }>(
          "SELECT reading_id, value, unit, strftime(measured_at, '%Y-%m-%dT%H:%M:%SZ') AS at FROM raw_vitals ORDER BY reading_id",
        );
        expect(v.map((x) => [x.reading_id, x.unit, x.at])).toEqual([
          ['hr1-8867-4', '/min', '2024-05-01T08:15:00Z'],
          ['t1-8310-5', 'Cel', '2024-05-01T10:20:00Z'],
        ]);
        expect(v[1]!.value).toBeCloseTo(38, 9);
        const q = await db.all<{ rule: string; errors: string; line: number }>("SELECT rule, errors, line::INTEGER AS line FROM quarantine WHERE dataset = 'vitals' ORDER BY rule");
        expect(q.map((x) => x.rule)).toEqual(['unit']);
        expect(JSON.parse(q.find((x) => x.rule === 'unit')!.errors)[0]).toMatchObject({ keyword: 'unit', field: 'unit', value: 'L' });
      } finally {
        db.close();
      }
    } finally {
      t.cleanup();
    }
  });

  it('books a resource that cannot be read to the load of the dataset its text names, and the rest to unreadable', async () => {
    const t = tempDir();
    try {
      const patient = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1970-03-04' };
      const obs = { resourceType: 'Observation', id: 'hr1', status: 'final', subject: { reference: 'Patient/p1' }, effectiveDateTime: '2024-05-01T10:15:00Z',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, valueQuantity: { value: 88, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' } };
      const file = join(t.dir, 'export.ndjson');
      writeFileSync(file, [
        JSON.stringify(patient),
        '{"resourceType": "Patient", "id": "p2", "gender": "ma', // line 2: a cut Patient
        JSON.stringify(obs),
        '{"resourceType":"Observation","id":"hr2","status":}', // line 4: a broken Observation
        '{"resourceType":"Procedure","id":"pr1",', // line 5: a broken Procedure, in a file with no good one
        'not json at all', // line 6: no type at all
        '{"resourceType":"Condition","id":"c1"', // line 7: a type no view maps
      ].join('\n') + '\n');
      const dbPath = join(t.dir, 'lake.duckdb');
      const r = await importFhir({ inputs: [file], profile: 'fhir', cwd: t.dir, allowOrphans: true }, { lake: lakeAt(dbPath) });
      const byDs = Object.fromEntries(r.files.map((f) => [f.dataset, f]));
      expect(Object.keys(byDs).sort()).toEqual(['patients', 'procedures', 'vitals']);
      expect(byDs.patients!.load).toMatchObject({ rows_read: 2, rows_inserted: 1, rows_quarantined: 1 });
      expect(byDs.vitals!.load).toMatchObject({ rows_read: 2, rows_inserted: 1, rows_quarantined: 1 });
      expect(byDs.procedures!.load).toMatchObject({ rows_read: 1, rows_inserted: 0, rows_quarantined: 1 });
      for (const f of r.files) {
        const l = f.load!;
        expect(l.rows_inserted + l.rows_duplicate + l.rows_quarantined, f.dataset!).toBe(l.rows_read);
        expect(f.counts!.quarantined_by_keyword, f.dataset!).toEqual({ fhir: 1 });
      }
      expect(r.unreadable).toEqual([
        { file, line: 6, entry: null, entry_of: null, resource_type: null, reason: 'the line is not valid JSON' },
        { file, line: 7, entry: null, entry_of: null, resource_type: 'Condition', reason: 'the line is not valid JSON' },
      ]);
      // Every line read is in one place: a load's rows_read, or unreadable.
      expect(r.files.reduce((a, f) => a + f.load!.rows_read, 0) + r.totals.unreadable).toBe(7);
      expect(r.totals.rows_read).toBe(7);
      const db = await openDb(dbPath, { readOnly: true });
      try {
        const q = await db.all<{ dataset: string; line: number; rule: string }>(
          'SELECT q.dataset, q.line::INTEGER AS line, q.rule FROM quarantine q JOIN loads l USING (load_id) WHERE l.dataset = q.dataset ORDER BY q.line',
        );
        expect(q).toEqual([
          { dataset: 'patients', line: 2, rule: 'fhir' },
          { dataset: 'vitals', line: 4, rule: 'fhir' },
          { dataset: 'procedures', line: 5, rule: 'fhir' },
        ]);
      } finally {
        db.close();
      }
    } finally {
      t.cleanup();
    }
  });

  it('names a bad element of a top-level JSON array "array element N", and of a Bundle "Bundle entry N"', async () => {
    const t = tempDir();
    try {
      const patient = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1970-03-04' };
      const array = join(t.dir, 'array.json');
      writeFileSync(array, JSON.stringify([patient, { id: 'no-type' }], null, 2));
      const bundle = join(t.dir, 'bundle.json');
      writeFileSync(bundle, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:x' }] }, null, 2));
      const r = await importFhir({ inputs: [array, bundle], profile: 'fhir', cwd: t.dir, dryRun: true }, { lake: lakeAt(join(t.dir, 'lake.duckdb')) });
      expect(r.unreadable.map((u) => [u.file, u.entry_of, u.entry, u.reason])).toEqual([
        [array, 'array', 1, 'the element is not a FHIR resource (no resourceType)'],
        [bundle, 'Bundle', 0, 'the Bundle entry has no resource'],
      ]);
    } finally {
      t.cleanup();
    }
  });
});
