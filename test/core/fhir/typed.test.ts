// The compiled engine's typed mode (typed.ts: each resource parsed once by json_transform into a STRUCT) gives the rows
// of its JSON mode and of the reference engine, on resources with the awkward parts FHIR JSON allows (null items in
// arrays, empty objects, absent elements, integer and decimal numbers); a view outside its subset falls back to the
// JSON mode, still compiled.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { checkView, compileView, runView, shippedView, shippedViewNames, stageFhir, type ViewDefinition } from '../../../src/core/fhir/index.js';
import { compileChecked } from '../../../src/core/fhir/compile.js';

const scratch = useScratchDb({ threads: 1, memoryLimit: '256MB' });

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const RESOURCES: Record<string, unknown>[] = [
  { resourceType: 'Observation', id: 'o1', status: 'final', subject: { reference: 'Patient/p1' }, effectiveDateTime: '2026-01-01T00:00:00Z',
    code: { coding: [null, { system: 'urn:x', code: 'x1' }, { system: LOINC, code: '8867-4' }] }, valueQuantity: { value: 72.5, unit: 'bpm', system: UCUM, code: '/min' },
    category: [{ coding: [null, { code: 'vital-signs' }] }, { coding: [{ code: 'second' }] }] },
  { resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ code: 'nosys' }] }, valueQuantity: {}, effectivePeriod: { end: '2026-01-02' } },
  { resourceType: 'Observation', id: 'o3', status: 'final', code: { text: 'no coding' }, subject: { display: 'nobody' },
    valueCodeableConcept: { coding: [{ system: 'urn:acvpu', code: 'A' }, { code: 'B' }] }, category: [] },
  { resourceType: 'Observation', id: 'o4', status: 'amended', code: { coding: [{ system: LOINC, code: '85354-9' }] }, effectiveInstant: '2026-01-03T00:00:00Z',
    component: [
      null,
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg' } },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 80, system: 'urn:other', code: 'mm[Hg]', unit: 'mmHg' } },
      { code: { coding: [{ system: LOINC, code: '9999-9' }] }, dataAbsentReason: { text: 'no value' } },
      { code: { coding: [] }, valueCodeableConcept: { coding: [null] } },
    ] },
  { resourceType: 'Observation', id: 'o5', status: 'final', code: { coding: [{ system: LOINC, code: '2339-0' }] }, valueQuantity: { value: 1e2, unit: 'mg/dL', code: 'mg/dL', system: UCUM } },
  { resourceType: 'Procedure', id: 'pr1', status: 'completed', subject: { reference: 'urn:uuid:abc' }, code: { text: 'only text' },
    performedPeriod: { start: '2026-01-01T08:00:00Z', end: '2026-01-01T09:00:00Z' }, performer: [{ actor: { display: 'x' } }, { actor: { reference: 'Device/d1' } }] },
  { resourceType: 'Procedure', id: 'pr2', status: 'completed', subject: { reference: 'Patient/p2' }, code: { coding: [{ code: 'c1', display: 'first' }], text: 'txt' },
    performedDateTime: '2026-01-02T08:00:00Z' },
  { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1950', managingOrganization: { reference: 'Organization/org1' } },
  { resourceType: 'Device', id: 'd1', serialNumber: 'SN1', owner: { reference: 'Organization/org1' } },
];

describe('typed mode of the compiled engine', () => {
  it('compiles every shipped view; a view outside its subset (extension()) is compiled in the JSON mode instead', () => {
    for (const name of shippedViewNames()) {
      const c = compileChecked(checkView(shippedView(name)), 'fhir_resources', true);
      expect('sql' in c && c.sql.includes('json_transform('), name).toBe(true);
    }
    const ext: ViewDefinition = { resource: 'Device', select: [{ column: [{ name: 'x', path: "extension('urn:x').value.ofType(date)", type: 'date' }] }] };
    const c = compileView(ext);
    expect('sql' in c && !c.sql.includes('json_transform(') && c.sql.includes('json_extract'), JSON.stringify(c)).toBe(true);
  });

  it('gives the rows of the JSON mode and of the reference engine on every shipped view', async () => {
    const file = join(scratch.dir, 'mixed.ndjson');
    writeFileSync(file, `${RESOURCES.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const st = await stageFhir(scratch.db, [file]);
    expect(st.errors).toEqual([]);
    for (const name of shippedViewNames()) {
      const out: Record<string, unknown>[][] = [];
      for (const [engine, mode] of [['compiled', 'typed'], ['compiled', 'json'], ['reference', 'typed']] as const) {
        await runView(scratch.db, shippedView(name), { source: 'fhir_resources', target: 'typed_out', engine, compiledMode: mode, lineage: true });
        out.push(await scratch.db.all('SELECT * FROM typed_out ORDER BY ALL'));
      }
      expect(out[0], `${name}: typed vs JSON mode`).toEqual(out[1]);
      expect(out[0], `${name}: typed vs reference`).toEqual(out[2]);
    }
    await runView(scratch.db, shippedView('observation-readings'), { source: 'fhir_resources', target: 'typed_out', engine: 'compiled' });
    const rows = await scratch.db.all<Record<string, unknown>>('SELECT id, code, code_system, value, unit, value_code, category, effective FROM typed_out ORDER BY id, code NULLS FIRST');
    expect(rows).toEqual([
      { id: 'o1', code: '8867-4', code_system: LOINC, value: 72.5, unit: '/min', value_code: null, category: 'vital-signs', effective: '2026-01-01T00:00:00Z' },
      { id: 'o2', code: 'nosys', code_system: null, value: null, unit: null, value_code: null, category: null, effective: null },
      { id: 'o3', code: null, code_system: null, value: null, unit: null, value_code: 'A', category: null, effective: null },
      { id: 'o4', code: null, code_system: null, value: null, unit: null, value_code: null, category: null, effective: '2026-01-03T00:00:00Z' },
      { id: 'o4', code: '8462-4', code_system: LOINC, value: 80, unit: 'mmHg', value_code: null, category: null, effective: '2026-01-03T00:00:00Z' },
      { id: 'o4', code: '8480-6', code_system: LOINC, value: 120, unit: 'mmHg', value_code: null, category: null, effective: '2026-01-03T00:00:00Z' },
      { id: 'o5', code: '2339-0', code_system: LOINC, value: 100, unit: 'mg/dL', value_code: null, category: null, effective: null },
    ]);
  });
});
