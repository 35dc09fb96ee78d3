// The official JSON Schema Test Suite (fixtures/json-schema-test-suite, draft 2020-12) against the compiled engine:
// every case the compiler claims must pass. A case is "not applicable" (counted and listed, never silently dropped)
// when its schema uses what the compiler hands to ajv, or its instance is not a row (a non-object at the root of an
// object schema). Keyword-only schemas are applied to one column: {"v": instance} against {properties: {v: schema}}.
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describeSchema, type JsonSchema } from '../../../src/core/schemas.js';
import { createAjv, dropStaged, schemaProblem, stageAndValidate, unsupportedReasons } from '../../../src/core/validate/index.js';

const ROOT = join(process.cwd(), 'fixtures/json-schema-test-suite/draft2020-12');
const OBJECT_KEYWORDS = new Set(['properties', 'required', 'additionalProperties', 'allOf', 'patternProperties', 'x-compare']);

/**
 * Where the compiled engine departs from the suite. Each one is shared with ajv (the reference engine, which the
 * compiler mirrors), so the two engines still agree; a compiled-only failure fails this test.
 */
const SHARED_WITH_AJV: { match: RegExp; why: string }[] = [
  { match: /^format\.json > .* > invalid .* string is only an annotation by default/, why: 'surgctl asserts format (ajv validateFormats), as data contracts need' },
  { match: /^optional\/format\/email\.json > .* > (a quoted string|an IPv[46]-address-literal)/, why: 'ajv-formats email regex: no quoted local parts, no address literals' },
  { match: /^optional\/format\/uuid\.json > .* > URN prefixed UUID is invalid/, why: 'ajv-formats uuid accepts the urn:uuid: prefix' },
];

interface Case { description: string; data: unknown; valid: boolean }
interface Group { description: string; schema: JsonSchema | boolean; tests: Case[] }

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.json') ? [p] : [];
  }).sort();
}

const ajv = createAjv();
const scratch = useScratchDb();

const notApplicable: string[] = [];
const failures: string[] = [];
const deviations: string[] = [];
let passed = 0;
let total = 0;

describe('JSON Schema Test Suite (draft 2020-12) on the compiled engine', () => {
  for (const file of files(ROOT)) {
    const name = relative(ROOT, file);
    it(name, async () => {
      const groups = JSON.parse(readFileSync(file, 'utf8')) as Group[];
      for (const [gi, g] of groups.entries()) {
        total += g.tests.length;
        const label = (c: Case): string => `${name} > ${g.description} > ${c.description}`;
        if (typeof g.schema === 'boolean') {
          g.tests.forEach((c) => notApplicable.push(`${label(c)}: boolean schema`));
          continue;
        }
        const keys = Object.keys(g.schema).filter((k) => k !== '$schema');
        const objectLevel = keys.some((k) => OBJECT_KEYWORDS.has(k)) || g.schema.type === 'object';
        const schema: JsonSchema = objectLevel ? g.schema : { type: 'object', properties: { v: g.schema as JsonSchema } };
        const reasons = unsupportedReasons(schema, 'json');
        if (reasons.length) {
          g.tests.forEach((c) => notApplicable.push(`${label(c)}: ${reasons.join('; ')}`));
          continue;
        }
        const cases = g.tests.filter((c) => {
          const row = objectLevel ? c.data : { v: c.data };
          if (typeof row !== 'object' || row === null || Array.isArray(row)) {
            notApplicable.push(`${label(c)}: the instance is not an object (not a row)`);
            return false;
          }
          return true;
        });
        if (cases.length === 0) continue;
        const path = join(scratch.dir, `${name.replace(/\W/g, '_')}-${gi}.ndjson`);
        writeFileSync(path, cases.map((c) => JSON.stringify(objectLevel ? c.data : { v: c.data })).join('\n') + '\n');
        const ds = describeSchema(schema, path.replace(/ndjson$/, 'json'));
        const problem = schemaProblem(schema);
        if (problem) {
          cases.forEach((c) => notApplicable.push(`${label(c)}: ajv's meta-validation refuses the schema (${problem})`));
          continue;
        }
        const s = await stageAndValidate(scratch.db, { path, format: 'ndjson' }, ds, { engine: 'compiled', materializeValid: false });
        expect(s.engine).toBe('compiled');
        const bad = new Set((await scratch.db.all<{ line: number }>(`SELECT line::INTEGER AS line FROM ${s.quarantineTable}`)).map((r) => Number(r.line)));
        await dropStaged(scratch.db, s);
        cases.forEach((c, i) => {
          const ok = !bad.has(i + 1) === c.valid;
          if (ok) passed++;
          else {
            const dev = SHARED_WITH_AJV.find((d) => d.match.test(label(c)));
            const ajvValid = ajv.validate(schema, objectLevel ? c.data : { v: c.data });
            if (dev && ajvValid === !bad.has(i + 1)) deviations.push(`${label(c)}: ${dev.why}`);
            else failures.push(`${label(c)}: expected ${c.valid ? 'valid' : 'invalid'}${ajvValid === c.valid ? ' (ajv agrees with the suite)' : ''}`);
          }
        });
      }
    });
  }

  it('every applicable case passes; the rest are listed as not applicable', () => {
    const summary = `${passed} passed of ${total - notApplicable.length} applicable (${total} cases, ${notApplicable.length} not applicable, ${deviations.length} deviations shared with ajv)`;
    if (process.env.JSTS_REPORT) {
      writeFileSync(process.env.JSTS_REPORT, `${summary}\n\ndeviations:\n${deviations.join('\n')}\n\nnot applicable:\n${notApplicable.join('\n')}\n\nfailures:\n${failures.join('\n')}\n`);
    }
    expect(failures, summary).toEqual([]);
    expect(passed + notApplicable.length + deviations.length).toBe(total);
    expect(passed).toBeGreaterThan(400);
  });
});
