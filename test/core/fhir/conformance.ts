// Runs the official SQL-on-FHIR v2 conformance suite (fixtures/sql-on-fhir-v2, MIT) on one engine and returns the
// results in the suite's own test-report format (test-report.schema.json). Used by conformance.test.ts and by
// `npm run conformance`, which writes the reports under bench/results/sql-on-fhir/.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../../src/db/db.js';
import { runView, stageFhir, type ViewDefinition } from '../../../src/core/fhir/index.js';

export const SUITE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/sql-on-fhir-v2');

export interface SuiteCase {
  title: string;
  view: ViewDefinition;
  expect?: Record<string, unknown>[];
  expectCount?: number;
  expectError?: boolean;
  expectColumns?: string[];
}
export interface SuiteFile {
  file: string;
  resources: unknown[];
  tests: SuiteCase[];
}

export function loadSuite(): SuiteFile[] {
  return readdirSync(SUITE_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('schema.json'))
    .sort()
    .map((file) => {
      const d = JSON.parse(readFileSync(join(SUITE_DIR, file), 'utf8')) as { resources: unknown[]; tests: SuiteCase[] };
      return { file, resources: d.resources, tests: d.tests };
    });
}

export type Outcome = 'passed' | 'failed' | 'refused';
export interface CaseResult {
  file: string;
  name: string;
  outcome: Outcome;
  error?: string;
}

/** A row as a canonical string: keys sorted, numbers and booleans as JSON. */
function canon(row: Record<string, unknown>, columns: string[]): string {
  return JSON.stringify(columns.map((c) => [c, row[c] ?? null]));
}

async function readTarget(db: Db, target: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const info = await db.all<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t ORDER BY column_index`,
    { t: target },
  );
  const jsonCols = new Set(info.filter((c) => c.data_type === 'JSON').map((c) => c.column_name));
  const rows = await db.all(`SELECT * FROM ${target}`);
  for (const r of rows) for (const c of jsonCols) if (typeof r[c] === 'string') r[c] = JSON.parse(r[c] as string);
  return { columns: info.map((c) => c.column_name), rows };
}

/**
 * Runs every case of the suite with `engine` (the compiled engine in `mode`: typed where the view allows, or json);
 * resources of each file are staged once.
 */
export async function runSuite(db: Db, engine: 'compiled' | 'reference', mode: 'typed' | 'json' = 'typed'): Promise<CaseResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'surgctl-sof-'));
  const results: CaseResult[] = [];
  try {
    for (const f of loadSuite()) {
      const path = join(dir, f.file.replace(/\.json$/, '.ndjson'));
      writeFileSync(path, f.resources.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await stageFhir(db, [path], { table: 'sof_staged' });
      for (const t of f.tests) {
        const base = { file: f.file, name: t.title };
        let out: { columns: string[]; rows: Record<string, unknown>[] };
        try {
          await runView(db, t.view, { source: 'sof_staged', target: 'sof_out', engine, compiledMode: mode });
          out = await readTarget(db, 'sof_out');
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          if (msg.includes('not compiled, use --engine reference')) results.push({ ...base, outcome: 'refused', error: msg });
          else if (t.expectError) results.push({ ...base, outcome: 'passed' });
          else results.push({ ...base, outcome: 'failed', error: msg });
          continue;
        }
        if (t.expectError) {
          results.push({ ...base, outcome: 'failed', error: `expected an error, got ${out.rows.length} rows` });
          continue;
        }
        if (t.expectColumns && out.columns.join(',') !== t.expectColumns.join(',')) {
          results.push({ ...base, outcome: 'failed', error: `columns (${out.columns.join(', ')}), expected (${t.expectColumns.join(', ')})` });
          continue;
        }
        if (t.expectCount !== undefined) {
          const ok = out.rows.length === t.expectCount;
          results.push({ ...base, outcome: ok ? 'passed' : 'failed', ...(ok ? {} : { error: `${out.rows.length} rows, expected ${t.expectCount}` }) });
          continue;
        }
        const got = out.rows.map((r) => canon(r, out.columns)).sort();
        const want = (t.expect ?? []).map((r) => canon(r, out.columns)).sort();
        const ok = JSON.stringify(got) === JSON.stringify(want);
        results.push({ ...base, outcome: ok ? 'passed' : 'failed', ...(ok ? {} : { error: `rows ${JSON.stringify(got)} expected ${JSON.stringify(want)}`.slice(0, 2000) }) });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** The results in the suite's test-report format: { "<file>": { tests: [{ name, result: { passed, error? } }] } }. */
export function testReport(results: CaseResult[]): Record<string, { tests: { name: string; result: { passed: boolean; error?: string; details?: Record<string, unknown> } }[] }> {
  const out: ReturnType<typeof testReport> = {};
  for (const r of results) {
    const file = (out[r.file] ??= { tests: [] });
    file.tests.push({
      name: r.name,
      result: {
        passed: r.outcome === 'passed',
        ...(r.error === undefined ? {} : { error: r.error }),
        ...(r.outcome === 'refused' ? { details: { refused: true } } : {}),
      },
    });
  }
  return out;
}
