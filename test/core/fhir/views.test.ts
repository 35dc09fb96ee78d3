// The shipped ViewDefinitions on the HL7 FHIR R4 examples (fixtures/fhir-r4-examples, CC0) on both engines, and
// stageFhir on NDJSON, Bundles and broken input.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { compileView, runView, shippedView, shippedViewNames, stageFhir, type ViewDefinition } from '../../../src/core/fhir/index.js';

const R4 = resolve('fixtures/fhir-r4-examples');
const r4Json = readdirSync(R4).filter((f) => f.endsWith('.json')).sort().map((f) => join(R4, f));

const scratch = useScratchDb({ threads: 1, memoryLimit: '512MB' });

type Row = Record<string, unknown>;
const sorted = (rows: Row[]): Row[] => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

async function readings(engine: 'compiled' | 'reference', source = 'fhir_resources'): Promise<Row[]> {
  const r = await runView(scratch.db, shippedView('observation-readings'), { source, target: 'readings', engine, lineage: true });
  expect(r.engine).toBe(engine);
  return scratch.db.all('SELECT * FROM readings ORDER BY id, code');
}

// Read off the example files: every vital-sign reading (value, UCUM code) and the one laboratory reading.
const EXPECTED = [
  ['blood-pressure', '8462-4', 60, 'mm[Hg]', 'vital-signs'],
  ['blood-pressure', '8480-6', 107, 'mm[Hg]', 'vital-signs'],
  ['blood-pressure-dar', '8480-6', 107, 'mm[Hg]', 'vital-signs'], // its diastolic has a dataAbsentReason, no value
  ['bmi', '39156-5', 16.2, 'kg/m2', 'vital-signs'],
  ['body-height', '8302-2', 66.899999999999991, '[in_i]', 'vital-signs'],
  ['body-temperature', '8310-5', 36.5, 'Cel', 'vital-signs'],
  ['example', '29463-7', 185, '[lb_av]', 'vital-signs'],
  ['f001', '15074-8', 6.3, 'mmol/L', null],
  ['f202', '8310-5', 39, 'Cel', 'vital-signs'],
  ['heart-rate', '8867-4', 44, '/min', 'vital-signs'],
  ['respiratory-rate', '9279-1', 26, '/min', 'vital-signs'],
  ['satO2', '2708-6', 95, '%', 'vital-signs'],
].map(([id, code, value, unit, category]) => ({ id, code, value, unit, category }));

describe('observation-readings on the HL7 FHIR R4 examples', () => {
  it.each(['compiled', 'reference'] as const)('%s: every reading with its LOINC code, value and UCUM unit', async (engine) => {
    const st = await stageFhir(scratch.db, r4Json);
    expect(st).toMatchObject({ resources: 14, byType: { Observation: 14 }, errors: [] });
    const rows = await readings(engine);
    expect(rows.map((r) => ({ id: r.id, code: r.code, value: r.value, unit: r.unit, category: r.category }))).toEqual(EXPECTED);
    const bp = rows.filter((r) => r.id === 'blood-pressure');
    expect(bp.map((r) => [r.patient_id, r.effective, r.status, r.code_system, r.unit_system])).toEqual([
      ['example', '2012-09-17', 'final', 'http://loinc.org', 'http://unitsofmeasure.org'],
      ['example', '2012-09-17', 'final', 'http://loinc.org', 'http://unitsofmeasure.org'],
    ]);
    // effectiveDateTime with an offset is kept as text; a subject given as Patient/x gives x.
    expect(rows.find((r) => r.id === 'satO2')).toMatchObject({ effective: '2014-12-05T09:30:10+01:00', patient_id: 'example' });
    expect(rows.find((r) => r.id === 'f001')).toMatchObject({ patient_id: 'f001', effective: '2013-04-02T09:30:10+01:00' });
    // Lineage: a single-resource file has no line or entry.
    expect(rows.every((r) => r._line === null && r._entry === null && String(r._file).startsWith(R4))).toBe(true);
  });

  it('the NDJSON rendering (content-detected) gives the same readings, with line numbers', async () => {
    const st = await stageFhir(scratch.db, [join(R4, 'observations.ndjson')]);
    expect(st).toMatchObject({ resources: 14, errors: [] });
    const lines = await scratch.db.all<{ l: number }>('SELECT _line::INTEGER AS l FROM fhir_resources ORDER BY _line');
    expect(lines.map((r) => r.l)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    const c = await readings('compiled');
    const r = await readings('reference');
    expect(c).toEqual(r);
    expect(c.map((x) => ({ id: x.id, code: x.code, value: x.value, unit: x.unit, category: x.category }))).toEqual(EXPECTED);
    expect(c.find((x) => x.id === 'heart-rate')?._line).toBe('9'); // BIGINT, JSON-safe as text
  });

  it('a transaction Bundle of the examples, pretty-printed and named .ndjson, is read as a Bundle', async () => {
    const entries = r4Json.map((f) => ({ fullUrl: `urn:uuid:${f.length}`, resource: JSON.parse(readFileSync(f, 'utf8')), request: { method: 'POST', url: 'Observation' } }));
    entries.splice(3, 0, { request: { method: 'DELETE', url: 'Observation/gone' } } as never);
    const path = join(scratch.dir, 'bundle.ndjson');
    writeFileSync(path, JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }, null, 2));
    const st = await stageFhir(scratch.db, [path]);
    expect(st.resources).toBe(14);
    expect(st.errors).toEqual([{ file: path, entry: 3, entryOf: 'Bundle', reason: 'the Bundle entry has no resource (request DELETE Observation/gone)', raw: expect.any(String) }]);
    const rows = await readings('compiled');
    expect(rows).toHaveLength(12);
    expect(rows.find((r) => r.id === 'heart-rate')?._entry).toBe('9');
  });
});

describe('stageFhir on bad input', () => {
  it('one bad line is an error with its line; the other resources are staged', async () => {
    const good = readFileSync(join(R4, 'observations.ndjson'), 'utf8').split('\n').filter(Boolean);
    const path = join(scratch.dir, 'mixed.json'); // NDJSON named .json: the content decides
    writeFileSync(path, [good[0], '{"resourceType": "Observation", "id": "cut', '', '[1, 2]', '{"id": "x"}', good[1], ''].join('\n'));
    const st = await stageFhir(scratch.db, [path]);
    expect(st.resources).toBe(2);
    expect(st.errors.map((e) => [e.line, e.entry, e.entryOf, e.resourceType, e.reason])).toEqual([
      // The cut line names its type at its start: the import books it to that type's dataset.
      [2, undefined, undefined, 'Observation', 'the line is not valid JSON'],
      [4, 0, 'array', undefined, 'the element is not a FHIR resource (no resourceType)'],
      [4, 1, 'array', undefined, 'the element is not a FHIR resource (no resourceType)'],
      [5, undefined, undefined, undefined, 'the JSON object has no resourceType: not a FHIR resource'],
    ]);
    // A JSON array on a line is taken apart like a Bundle's entries: each of [1, 2] is an error; a blank line is none.
    const lines = await scratch.db.all<{ l: number }>('SELECT _line::INTEGER AS l FROM fhir_resources ORDER BY 1');
    expect(lines.map((r) => r.l)).toEqual([1, 6]);
  });

  it('a Bundle on an NDJSON line is taken apart: its entries carry the line and their entry index', async () => {
    const path = join(scratch.dir, 'bundles.ndjson');
    const bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', id: 'b1' } }, { search: { mode: 'outcome' } }, { resource: { resourceType: 'Patient', id: 'b2' } }] };
    writeFileSync(path, [JSON.stringify({ resourceType: 'Patient', id: 'p0' }), JSON.stringify(bundle)].join('\n'));
    const st = await stageFhir(scratch.db, [path]);
    expect(st.resources).toBe(3);
    expect(st.errors.map((e) => [e.line, e.entry, e.entryOf, e.reason])).toEqual([[2, 1, 'Bundle', 'the Bundle entry has no resource']]);
    const rows = await scratch.db.all<{ id: string; l: number; e: number | null }>('SELECT id, _line::INTEGER AS l, _entry::INTEGER AS e FROM fhir_resources ORDER BY id');
    expect(rows).toEqual([{ id: 'b1', l: 2, e: 0 }, { id: 'b2', l: 2, e: 2 }, { id: 'p0', l: 1, e: null }]);
  });

  it('a file that is not JSON is one error, not a crash', async () => {
    const path = join(scratch.dir, 'notes.json');
    writeFileSync(path, 'Time,Parameter,Value\n00:00,HR,80\n');
    const st = await stageFhir(scratch.db, [path]);
    expect(st.resources).toBe(0);
    expect(st.errors).toEqual([{ file: path, reason: expect.stringMatching(/^not FHIR JSON: the file starts with "Time,Para/) }]);
  });
});

describe('patients, procedures and devices', () => {
  it.each(['compiled', 'reference'] as const)('%s: one row per resource with ids from references', async (engine) => {
    const path = join(scratch.dir, 'mix.ndjson');
    const res = [
      { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1950-02-03', managingOrganization: { reference: 'Organization/org1' } },
      { resourceType: 'Patient', id: 'p2' },
      { resourceType: 'Procedure', id: 'pr1', status: 'completed', subject: { reference: 'urn:uuid:p1' },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '80146002', display: 'Appendectomy' }] },
        performedPeriod: { start: '2026-01-05T08:00:00Z', end: '2026-01-05T09:10:00Z' }, performer: [{ actor: { reference: 'Device/rb1' } }] },
      { resourceType: 'Procedure', id: 'pr2', status: 'in-progress', subject: { reference: 'Patient/p2' }, code: { text: 'Cholecystectomy' },
        performedDateTime: '2026-01-06T10:00:00Z' },
      { resourceType: 'Device', id: 'rb1', serialNumber: 'SN-1', modelNumber: 'X1', manufacturer: 'Acme', status: 'active', owner: { reference: 'Organization/org1' } },
    ];
    writeFileSync(path, res.map((r) => JSON.stringify(r)).join('\n'));
    await stageFhir(scratch.db, [path]);
    const run = async (name: string): Promise<Row[]> => {
      await runView(scratch.db, shippedView(name), { source: 'fhir_resources', target: 't', engine });
      return sorted(await scratch.db.all('SELECT * FROM t'));
    };
    expect(await run('patients')).toEqual([
      { patient_id: 'p1', gender: 'female', birth_date: '1950-02-03', managing_organization: 'org1' },
      { patient_id: 'p2', gender: null, birth_date: null, managing_organization: null },
    ]);
    expect(await run('procedures')).toEqual([
      { procedure_id: 'pr1', patient_id: 'p1', code: '80146002', display: 'Appendectomy', performed_start: '2026-01-05T08:00:00Z',
        performed_end: '2026-01-05T09:10:00Z', status: 'completed', performer: 'rb1' },
      { procedure_id: 'pr2', patient_id: 'p2', code: null, display: 'Cholecystectomy', performed_start: '2026-01-06T10:00:00Z',
        performed_end: null, status: 'in-progress', performer: null },
    ]);
    expect(await run('devices')).toEqual([{ device_id: 'rb1', serial: 'SN-1', model: 'X1', manufacturer: 'Acme', status: 'active', owner: 'org1' }]);
  });

  it('every shipped view compiles (the speed path)', () => {
    expect(shippedViewNames()).toEqual(['devices', 'observation-readings', 'patients', 'procedures']);
    for (const n of shippedViewNames()) expect(compileView(shippedView(n))).toHaveProperty('sql');
  });
});

describe('engines', () => {
  const repeatView: ViewDefinition = {
    resource: 'Observation',
    select: [{ column: [{ name: 'id', path: 'id', type: 'id' }] }, { repeat: ['component'], column: [{ name: 'c', path: 'code.coding.code.first()', type: 'code' }] }],
  };
  it('the compiled engine refuses what it cannot compile, with the reason; auto falls back to the reference engine', async () => {
    await stageFhir(scratch.db, r4Json);
    expect(compileView(repeatView)).toEqual({ refused: 'not compiled, use --engine reference: repeat' });
    await expect(runView(scratch.db, repeatView, { source: 'fhir_resources', target: 'r', engine: 'compiled' })).rejects.toMatchObject({
      code: 'usage',
      message: 'ViewDefinition (unnamed): not compiled, use --engine reference: repeat',
    });
    const auto = await runView(scratch.db, repeatView, { source: 'fhir_resources', target: 'r', engine: 'auto' });
    expect(auto).toEqual({ engine: 'reference', rows: 9 }); // the components of the three BP examples (2 each) and sample-data (3)
  });

  it('an aborted signal (Ctrl-C) ends staging and views in InterruptedError (exit 130)', async () => {
    const signal = AbortSignal.abort();
    await expect(stageFhir(scratch.db, r4Json, { signal })).rejects.toMatchObject({ code: 'interrupted', exitCode: 130 });
    await stageFhir(scratch.db, r4Json);
    for (const engine of ['compiled', 'reference'] as const) {
      await expect(runView(scratch.db, shippedView('observation-readings'), { source: 'fhir_resources', target: 'r', engine, signal })).rejects.toMatchObject({
        code: 'interrupted',
      });
    }
  });

  it('an invalid view is a ConfigError naming the place, on both engines', async () => {
    const bad = { resource: 'Observation', select: [{ column: [{ name: 'v', path: 'value.where(' }] }] } as ViewDefinition;
    for (const engine of ['compiled', 'reference'] as const) {
      await expect(runView(scratch.db, bad, { source: 'fhir_resources', target: 'r', engine })).rejects.toMatchObject({
        code: 'config',
        message: expect.stringMatching(/^ViewDefinition \(unnamed\): select\[0\]\.column\[0\]\.path: invalid FHIRPath "value\.where\("/),
      });
    }
  });
});
