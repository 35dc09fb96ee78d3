// The compiled engine's fast paths (issue 14) give what the reference engine gives: a reference's key read by one
// regular expression, first() of a union taken from the concatenation, getResourceKey() read by path, and staging
// that tests a line for blankness only when it is not a plain resource.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { runView, shippedView, stageFhir } from '../../../src/core/fhir/index.js';

const scratch = useScratchDb({ threads: 1, memoryLimit: '256MB' });

const LOINC = 'http://loinc.org';
const obs = (id: string, extra: Record<string, unknown>): Record<string, unknown> => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code: '8867-4' }] },
  valueQuantity: { value: 60, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  ...extra,
});
// [id, subject.reference, the patient_id expected]
const REFS: [string, string | undefined, string | null][] = [
  ['r1', 'Patient/p1', 'p1'],
  ['r2', 'http://example.org/fhir/Patient/p2/_history/3', 'p2'],
  ['r3', 'urn:uuid:0f1e2d3c-aaaa-4bbb-8ccc-000000000001', '0f1e2d3c-aaaa-4bbb-8ccc-000000000001'],
  ['r4', 'Practitioner/x1', null],
  ['r5', 'aPatient/p5', null],
  ['r6', 'Patient/', null],
  ['r7', 'Group/g1/Patient/p7', 'p7'],
  ['r8', undefined, null],
  ['r9', 'urn:oid:1.2.3', '1.2.3'],
  ['r10', 'Patient/p-1.2', 'p-1.2'],
  ['r11', 'Device/d1', null],
];

describe('compiled fast paths agree with the reference engine', () => {
  it('references, unions with first(), effective[x] and blank lines, on both engines', async () => {
    const lines: string[] = [];
    for (const [id, ref] of REFS) lines.push(JSON.stringify(obs(id, ref === undefined ? {} : { subject: { reference: ref } })));
    // A blank and a whitespace-only line are skipped, never errors.
    lines.push('', '   ');
    // code: the LOINC coding when there is one (not the first), else the first; effective: the first of the union.
    lines.push(
      JSON.stringify(obs('u1', {
        code: { coding: [{ system: 'http://snomed.info/sct', code: 's1' }, { system: LOINC, code: 'L1' }, { system: LOINC, code: 'L2' }] },
        effectivePeriod: { start: '2026-01-01T00:00:00Z' },
      })),
    );
    lines.push(JSON.stringify(obs('u2', { code: { coding: [{ system: 'http://snomed.info/sct', code: 's2' }] }, effectiveInstant: '2026-01-02T00:00:00Z' })));
    lines.push(JSON.stringify(obs('u3', { code: { coding: [{ code: 'nosys' }, { code: 'nosys' }] }, valueQuantity: { value: 1, unit: 'mg' } })));
    const file = join(scratch.dir, 'Observation.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const out: Record<string, Record<string, unknown>[]> = {};
    for (const engine of ['compiled', 'reference'] as const) {
      const st = await stageFhir(scratch.db, [file]);
      expect(st).toMatchObject({ resources: REFS.length + 3, errors: [] });
      await runView(scratch.db, shippedView('observation-readings'), { source: 'fhir_resources', target: 'readings', engine, lineage: true });
      out[engine] = await scratch.db.all('SELECT id, patient_id, code, code_system, effective, unit, _line::INTEGER AS _line FROM readings ORDER BY id');
    }
    expect(out.compiled).toEqual(out.reference);
    const by = new Map((out.compiled ?? []).map((r) => [r.id, r]));
    for (const [id, , want] of REFS) expect(by.get(id)?.patient_id, id).toBe(want);
    expect(by.get('u1')).toMatchObject({ code: 'L1', code_system: LOINC, effective: '2026-01-01T00:00:00Z', _line: REFS.length + 3 });
    expect(by.get('u2')).toMatchObject({ code: 's2', code_system: 'http://snomed.info/sct', effective: '2026-01-02T00:00:00Z' });
    expect(by.get('u3')).toMatchObject({ code: 'nosys', code_system: null, unit: 'mg' });
  });
});
