// The SQL-on-FHIR v2 conformance suite (134 cases) on both engines. The reference engine passes at least 95%; the
// compiled engine passes every case it accepts and refuses the rest with "not compiled, use --engine reference".
// With SURGCTL_CONFORMANCE_OUT=DIR (npm run conformance) the reports are written there in the suite's format.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/db/db.js';
import { checkView } from '../../../src/core/fhir/index.js';
import { compileChecked } from '../../../src/core/fhir/compile.js';
import { loadSuite, runSuite, testReport, type CaseResult } from './conformance.js';

let db: Db;
beforeAll(async () => {
  db = await openDb(':memory:', { threads: 1, memoryLimit: '512MB' });
});
afterAll(() => db.close());

const out = process.env.SURGCTL_CONFORMANCE_OUT;
function save(engine: string, results: CaseResult[]): void {
  if (!out) return;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${engine}.json`), `${JSON.stringify(testReport(results), null, 2)}\n`);
}

describe('SQL-on-FHIR v2 conformance', () => {
  it('the suite holds 22 files and 134 cases', () => {
    const suite = loadSuite();
    expect(suite.length).toBe(22);
    expect(suite.reduce((n, f) => n + f.tests.length, 0)).toBe(134);
  });

  it('reference engine (FHIRPath.js) passes at least 95% of the cases', async () => {
    const results = await runSuite(db, 'reference');
    save('reference', results);
    expect(results.length).toBe(134);
    expect(results.filter((r) => r.outcome === 'refused')).toEqual([]);
    const failed = results.filter((r) => r.outcome === 'failed');
    expect(failed.length, JSON.stringify(failed, null, 1)).toBeLessThanOrEqual(Math.floor(134 * 0.05));
  });

  it('compiled engine passes every case it accepts and refuses the rest with the reason', async () => {
    const results = await runSuite(db, 'compiled');
    save('compiled', results);
    expect(results.length).toBe(134);
    const failed = results.filter((r) => r.outcome === 'failed');
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    for (const r of results.filter((x) => x.outcome === 'refused')) expect(r.error).toMatch(/^.*not compiled, use --engine reference: \S/);
    // Most of the suite compiles: the speed path is not a corner case.
    expect(results.filter((r) => r.outcome === 'passed').length).toBeGreaterThanOrEqual(100);
  });

  it('the typed mode compiles a good part of the suite (so the case above tests it, not only the JSON mode)', () => {
    let typed = 0;
    for (const f of loadSuite()) {
      for (const t of f.tests) {
        let view;
        try {
          view = checkView(t.view);
        } catch {
          continue; // an invalid view (expectError): refused before either mode
        }
        // Outside the catch: a crash in either mode fails the test instead of counting as an invalid view.
        const c = compileChecked(view, 'sof_staged', false);
        if ('sql' in c && c.sql.includes('json_transform(')) typed++;
      }
    }
    expect(typed).toBeGreaterThanOrEqual(40);
  });

  it('compiled engine in its JSON mode alone (the typed mode off) passes every case it accepts too', async () => {
    const results = await runSuite(db, 'compiled', 'json');
    const failed = results.filter((r) => r.outcome === 'failed');
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    expect(results.filter((r) => r.outcome === 'passed').length).toBeGreaterThanOrEqual(100);
  });
});
