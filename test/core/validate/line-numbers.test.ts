// Property test of physical line numbers: random CSV files (LF or CRLF or CR, quoted fields with embedded newlines,
// blank lines, ragged rows) must map every record to the physical line it starts on, valid or quarantined.
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeSchema } from '../../../src/core/schemas.js';
import { dropStaged, stageAndValidate } from '../../../src/core/validate/index.js';

const DS = describeSchema({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' }, c: { type: 'string' } } }, '/x/lines.json');

const scratch = useScratchDb();

const plain = fc.stringMatching(/^[a-z0-9 ]{1,6}$/);
const quoted = fc.tuple(fc.stringMatching(/^[a-z]{0,3}$/), fc.constantFrom('\n', '\r\n', '"', ',', ''), fc.stringMatching(/^[a-z]{0,3}$/)).map((p) => p.join(''));
const field = fc.oneof({ arbitrary: plain, weight: 3 }, { arbitrary: quoted.map((s) => ({ q: s })), weight: 1 });
const record = fc.record({ fields: fc.array(field, { minLength: 1, maxLength: 4 }), blanksBefore: fc.nat({ max: 2 }) });

function render(f: string | { q: string }): string {
  return typeof f === 'string' ? f : `"${f.q.replaceAll('"', '""')}"`;
}
function newlines(s: string): number {
  return (s.match(/\r\n|\r|\n/g) ?? []).length;
}

let n = 0;
describe('physical line numbers', () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    it(`records start where the pre-scan says (${JSON.stringify(eol)})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 25 }), async (records) => {
          let text = `a,b,c${eol}`;
          let line = 2;
          const expected: { line: number; ok: boolean }[] = [];
          for (const r of records) {
            text += eol.repeat(r.blanksBefore);
            line += r.blanksBefore;
            const body = r.fields.map(render).join(',');
            expected.push({ line, ok: r.fields.length === 3 });
            text += body + eol;
            line += 1 + newlines(body);
          }
          const file = join(scratch.dir, `lines-${n++}.csv`);
          writeFileSync(file, text);
          const s = await stageAndValidate(scratch.db, { path: file }, DS);
          const valid = (await scratch.db.all<{ l: number }>(`SELECT _source_line::INTEGER AS l FROM ${s.validTable} ORDER BY _row`)).map((r) => Number(r.l));
          const bad = (await scratch.db.all<{ l: number; rule: string }>(`SELECT line::INTEGER AS l, rule FROM ${s.quarantineTable} ORDER BY line`)).map((r) => `${r.l}:${r.rule}`);
          await dropStaged(scratch.db, s);
          expect(s.notes).toEqual([]);
          expect(s.rowsRead).toBe(records.length);
          expect(valid).toEqual(expected.filter((e) => e.ok).map((e) => e.line));
          expect(bad).toEqual(expected.filter((e) => !e.ok).map((e) => `${e.line}:csv_field_count`));
        }),
        { numRuns: 15, seed: 20260105 },
      );
    });
  }
});
