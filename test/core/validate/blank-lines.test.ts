// A blank line is not a row in a CSV file, in a one-column file too (F5: DuckDB reads a blank line as a NULL row when
// the file has one column, so the exact staging, ajv and load counted it and numbered the rows after it one line
// early, while the fast path skipped it). All four deciders must agree, with the physical line of each row.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '../../../src/core/load/migrations.js';
import { describeSchema, loadDatasetSchema, type DatasetSchema } from '../../../src/core/schemas.js';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { loadVerdicts, validateVerdicts, type FileVerdicts, type LoadVerdicts } from '../../helpers/verdicts.js';

const scratch = useScratchDb();
let n = 0;
let migrated = false;

interface All {
  fast: FileVerdicts;
  exact: FileVerdicts;
  ajv: FileVerdicts;
  load: LoadVerdicts | undefined;
}

/** Decides `text` by the fast path, the exact staging and ajv (and load, for a built-in dataset) and checks they agree. */
async function decide(ds: DatasetSchema, text: string, load = false): Promise<All> {
  const file = join(scratch.dir, `f5-${n++}.csv`);
  writeFileSync(file, text);
  const fast = await validateVerdicts(scratch.db, file, ds, 'fast');
  const exact = await validateVerdicts(scratch.db, file, ds, 'exact');
  const ajv = await validateVerdicts(scratch.db, file, ds, 'ajv');
  let loaded: LoadVerdicts | undefined;
  if (load) {
    if (!migrated) {
      await migrate(scratch.db);
      migrated = true;
    }
    loaded = await loadVerdicts(scratch.db, file, ds, join(scratch.dir, 'quarantine'));
  }
  const verdict = (v: FileVerdicts): object => ({ errors: v.errors, warnings: v.warnings, rowsRead: v.rowsRead });
  expect(verdict(fast), 'fast path vs exact').toEqual(verdict(exact));
  expect(verdict(ajv), 'ajv vs exact').toEqual(verdict(exact));
  if (loaded) expect(loaded.rowsRead, 'load vs exact').toBe(exact.rowsRead);
  return { fast, exact, ajv, load: loaded };
}

const BOOL = describeSchema({ type: 'object', properties: { c0: { type: 'boolean' } } }, '/x/f5-boolean.schema.json');
const BOOL_REQUIRED = describeSchema({ type: 'object', properties: { c0: { type: 'boolean' } }, required: ['c0'] }, '/x/f5-boolean-required.schema.json');

describe('blank lines in a one-column CSV are not rows (F5)', () => {
  it('a header and one blank line: no rows on every path', async () => {
    const r = await decide(BOOL, 'c0\n\n');
    expect(r.exact.rowsRead).toBe(0);
    expect(r.exact.errors).toEqual({});
    expect(r.fast.fastPath).toBe(true);
  });

  it('rows after blank lines keep their physical line numbers', async () => {
    const r = await decide(BOOL_REQUIRED, 'c0\ntrue\n\nx\n\n\nfalse\nmaybe\n\n');
    expect(r.exact.rowsRead).toBe(4);
    expect(r.exact.errors).toEqual({ 4: 'c0:type', 8: 'c0:type' });
  });

  it('blank lines among CRLF lines, a quoted line break and a rejected line', async () => {
    // 1 header, 2 true, 3 blank, 4-5 one quoted cell over two lines, 6 two fields, 7 blank, 8 false, 9 maybe, 10 blank.
    const r = await decide(BOOL_REQUIRED, 'c0\r\ntrue\r\n\r\n"tr\r\nue"\r\nx,y\r\n\r\nfalse\r\nmaybe\r\n\r\n');
    expect(r.exact.rowsRead).toBe(5);
    expect(r.exact.errors).toEqual({ 4: 'c0:type', 6: 'null:csv_field_count', 9: 'c0:type' });
  });

  it('load agrees: a one-column patients file with blank lines reads two rows, at lines 2 and 4', async () => {
    // Every built-in dataset requires several columns, so a one-column file lacks some: validate quarantines each row
    // for them; load refuses the file as a whole (nothing inserted, nothing quarantined) and reports the rows it read.
    const r = await decide(loadDatasetSchema('patients'), 'patient_id\nPA-1\n\nPA-2\n\n', true);
    const missing = 'birth_date:required facility_id:required sex:required';
    expect(r.exact).toMatchObject({ rowsRead: 2, errors: { 2: missing, 4: missing } });
    expect(r.load).toMatchObject({ rowsRead: 2, errors: {}, inserted: {} });
  });
});
