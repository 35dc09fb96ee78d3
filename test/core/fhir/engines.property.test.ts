// Property: the compiled engine (DuckDB SQL) and the reference engine (FHIRPath.js) give the same rows for every
// shipped view, on generated Observations, Patients, Procedures and Devices with the optional parts present or not.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { runView, shippedView, shippedViewNames, stageFhir } from '../../../src/core/fhir/index.js';

const scratch = useScratchDb({ threads: 1, memoryLimit: '512MB' });

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.-]{0,8}$/);
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const loinc = fc.constantFrom('8867-4', '9279-1', '59408-5', '8480-6', '8462-4', '8310-5', '2339-0', '29463-7', '67775-7', '85354-9');
const coding = fc.record({
  system: fc.constantFrom('http://loinc.org', 'http://snomed.info/sct', 'urn:local'),
  code: fc.oneof(loinc, id),
  display: maybe(fc.string({ maxLength: 6 })),
}, { requiredKeys: ['code'] });
const concept = fc.record({ coding: fc.array(coding, { maxLength: 3 }), text: maybe(fc.string({ maxLength: 5 })) }, { requiredKeys: [] });
const quantity = fc.record({
  value: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double({ min: 0, max: 500, noNaN: true, noDefaultInfinity: true })),
  unit: maybe(fc.constantFrom('mmHg', 'beats/min', '%', 'C')),
  system: maybe(fc.constantFrom('http://unitsofmeasure.org', 'urn:other')),
  code: maybe(fc.constantFrom('mm[Hg]', '/min', '%', 'Cel', '[lb_av]')),
}, { requiredKeys: ['value'] });
const reference = fc.oneof(
  id.map((x) => ({ reference: `Patient/${x}` })),
  id.map((x) => ({ reference: `urn:uuid:${x}` })),
  id.map((x) => ({ reference: `Group/${x}` })),
  fc.constant({ display: 'no reference' }),
);
const instant = fc.integer({ min: 0, max: 2e12 }).map((ms) => new Date(ms).toISOString());
// A choice element (value[x], effective[x], performed[x]) holds at most one of its types, as FHIR requires.
const valueX = fc.oneof(fc.constant({}), quantity.map((q) => ({ valueQuantity: q })), concept.map((c) => ({ valueCodeableConcept: c })));
const component = fc
  .tuple(fc.record({ code: concept, dataAbsentReason: maybe(concept) }, { requiredKeys: ['code'] }), valueX)
  .map(([c, v]) => ({ ...c, ...v }));
const period = fc.record({ start: maybe(instant), end: maybe(instant) }, { requiredKeys: [] });
const effectiveX = fc.oneof(fc.constant({}), instant.map((x) => ({ effectiveDateTime: x })), instant.map((x) => ({ effectiveInstant: x })),
  period.map((p) => ({ effectivePeriod: p })));
const observation = fc
  .tuple(
    fc.record({
      resourceType: fc.constant('Observation'),
      id,
      status: fc.constantFrom('final', 'amended', 'cancelled', 'entered-in-error'),
      category: maybe(fc.array(concept, { maxLength: 2 })),
      code: concept,
      subject: maybe(reference),
      component: maybe(fc.array(component, { maxLength: 3 })),
    }, { requiredKeys: ['resourceType', 'id', 'status', 'code'] }),
    effectiveX,
    valueX,
  )
  .map(([o, e, v]) => ({ ...o, ...e, ...v }));
const patient = fc.record({
  resourceType: fc.constant('Patient'),
  id,
  gender: maybe(fc.constantFrom('male', 'female', 'other', 'unknown')),
  birthDate: maybe(fc.constantFrom('1950', '1950-02', '1950-02-03')),
  managingOrganization: maybe(fc.oneof(id.map((x) => ({ reference: `Organization/${x}` })), reference)),
}, { requiredKeys: ['resourceType', 'id'] });
const procedure = fc.record({
  resourceType: fc.constant('Procedure'),
  id,
  status: fc.constantFrom('completed', 'in-progress'),
  subject: reference,
  code: maybe(concept),
  performer: maybe(fc.array(fc.record({ actor: fc.oneof(reference, id.map((x) => ({ reference: `Device/${x}` }))) }), { maxLength: 2 })),
}, { requiredKeys: ['resourceType', 'id', 'status', 'subject'] })
  .chain((p) => fc.oneof(fc.constant({}), period.map((x) => ({ performedPeriod: x })), instant.map((x) => ({ performedDateTime: x }))).map((x) => ({ ...p, ...x })));
const device = fc.record({
  resourceType: fc.constant('Device'),
  id,
  serialNumber: maybe(id),
  modelNumber: maybe(id),
  manufacturer: maybe(fc.string({ maxLength: 6 })),
  status: maybe(fc.constantFrom('active', 'inactive')),
  owner: maybe(reference),
}, { requiredKeys: ['resourceType', 'id'] });

describe('compiled and reference engines agree', () => {
  it('on every shipped view, for generated resources', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ weight: 4, arbitrary: observation }, patient, procedure, device), { minLength: 1, maxLength: 6 }), async (resources) => {
        const path = join(scratch.dir, `r${n++}.ndjson`);
        writeFileSync(path, resources.map((r) => JSON.stringify(r)).join('\n'));
        await stageFhir(scratch.db, [path]);
        for (const name of shippedViewNames()) {
          const out: Record<string, unknown>[][] = [];
          for (const engine of ['compiled', 'reference'] as const) {
            await runView(scratch.db, shippedView(name), { source: 'fhir_resources', target: `prop_${engine}`, engine, lineage: true });
            out.push(await scratch.db.all(`SELECT * FROM prop_${engine}`));
          }
          expect(out[0], name).toEqual(out[1]);
        }
      }),
      { numRuns: 15, seed: 14 },
    );
  });
});
