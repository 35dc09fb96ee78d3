// csv-spectrum (fixtures/csv-spectrum, BSD-2-Clause, see its SOURCE.txt and LICENSE): CSV edge cases from another
// project's test suite, each with its expected parse. Every file is validated with a schema of all-string columns:
// no exit 3, no stack trace, rows add up, the three validation paths agree (checkCase), and the cells the exact
// staging hands on (--valid-out as Parquet, read back with DuckDB) equal the expected JSON, for both engines.
import { describe, expect, it } from 'vitest';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { JsonSchema } from '../../src/core/schemas.js';
import { openDb } from '../../src/db/db.js';
import { literal } from '../../src/db/sql.js';
import { runCli, scratchDirs } from '../helpers/run-cli.js';
import { checkCase } from './properties.js';

const SPECTRUM = resolve(import.meta.dirname, '../../fixtures/csv-spectrum');
const files = readdirSync(join(SPECTRUM, 'csvs')).filter((f) => f.endsWith('.csv')).sort();
const scratch = scratchDirs();

/** Columns from the header line (the expected JSON's keys), all strings; empty cells are absent, so none required. */
function stringSchema(columns: string[]): JsonSchema {
  return { type: 'object', properties: Object.fromEntries(columns.map((c) => [c, { type: 'string' }])), additionalProperties: false };
}

async function readParquet(path: string, columns: string[]): Promise<Record<string, string>[]> {
  const db = await openDb(':memory:', { threads: 1, memoryLimit: '256MB' });
  try {
    const cols = columns.map((c) => `"${c}"`).join(', ');
    return await db.all<Record<string, string>>(`SELECT ${cols} FROM read_parquet(${literal(path)}, file_row_number = true) ORDER BY file_row_number`);
  } finally {
    db.close();
  }
}

describe('csv-spectrum', () => {
  it('has the corpus and its licence', () => {
    expect(files.length).toBe(11);
    expect(readFileSync(join(SPECTRUM, 'LICENSE'), 'utf8')).toContain('BSD 2-Clause');
    expect(readFileSync(join(SPECTRUM, 'SOURCE.txt'), 'utf8')).toContain('maxogden/csv-spectrum');
  });

  for (const f of files) {
    it(`${f}: rows add up, the paths agree, and the cells equal the expected parse`, async () => {
      const name = basename(f, '.csv');
      const expected = JSON.parse(readFileSync(join(SPECTRUM, 'json', `${name}.json`), 'utf8')) as Record<string, string>[];
      const bytes = readFileSync(join(SPECTRUM, 'csvs', f));
      const columns = Object.keys(expected[0] ?? {});
      const schema = stringSchema(columns);
      await checkCase({ style: 'csv-spectrum', dataset: name, schema, bytes, expectedRows: expected.length }, { load: false });

      const dir = scratch();
      copyFileSync(join(SPECTRUM, 'csvs', f), join(dir, f));
      writeFileSync(join(dir, 's.schema.json'), JSON.stringify(schema));
      for (const engine of ['compiled', 'ajv']) {
        const out = join(dir, `valid-${engine}`);
        const r = await runCli('validate', join(dir, f), '--schema', join(dir, 's.schema.json'), '--engine', engine, '--format', 'json',
          '--quarantine-dir', join(dir, 'q'), '--valid-out', out, '--valid-format', 'parquet');
        expect(r.stderr).toBe('');
        expect(r.exitCode).toBe(0);
        const report = JSON.parse(r.stdout) as { files: { rows_read: number; rows_valid: number; valid_path: string }[] };
        const file = report.files[0];
        expect(file?.rows_read).toBe(expected.length);
        expect(file?.rows_valid).toBe(expected.length);
        const rows = await readParquet(file?.valid_path ?? '', columns);
        // An empty cell is an absent value (NULL) in surgctl; csv-spectrum writes it as "".
        expect(rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? ''])))).toEqual(expected);
      }
    });
  }
});
