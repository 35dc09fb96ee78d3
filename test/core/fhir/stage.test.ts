// stageFhir's NDJSON pass puts every line into the staged table at once and numbers the lines from the rows' positions:
// the numbers hold across several files staged together, after lines DuckDB rejects (invalid UTF-8), and after bad,
// blank and Bundle lines taken out; the staged table keeps only its documented columns.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { stageFhir } from '../../../src/core/fhir/index.js';

const scratch = useScratchDb({ threads: 2, memoryLimit: '256MB' });

const obs = (id: string): string => JSON.stringify({ resourceType: 'Observation', id, status: 'final', code: { text: id } });

describe('stageFhir NDJSON line numbers', () => {
  it('are physical lines in each of several files, past rejected, bad, blank and Bundle lines', async () => {
    const a = join(scratch.dir, 'a.ndjson');
    writeFileSync(a, `${[obs('a1'), obs('a2'), obs('a3')].join('\n')}\n`);
    const b = join(scratch.dir, 'b.ndjson');
    const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: JSON.parse(obs('b5')) }] });
    const parts = [
      Buffer.from(`${obs('b1')}\n`),
      Buffer.concat([Buffer.from('{"resourceType":"Observation","id":"bad'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]),
      Buffer.from(`${obs('b3')}\n{"resourceType":"Observation","id":\n\n${bundle}\n${obs('b7')}\n`),
    ];
    writeFileSync(b, Buffer.concat(parts));
    const c = join(scratch.dir, 'c.ndjson');
    writeFileSync(c, `\n${obs('c2')}\n${obs('c3')}\n`);

    const st = await stageFhir(scratch.db, [a, b, c]);
    expect(st.resources).toBe(9);
    expect(st.errors.map((e) => [e.file === b, e.line, e.reason])).toEqual([
      [true, 2, 'the line cannot be read as UTF-8 text'],
      [true, 4, 'the line is not valid JSON'],
    ]);
    const rows = await scratch.db.all<{ id: string; f: string; l: number; e: number | null }>(
      'SELECT id, _file AS f, _line::INTEGER AS l, _entry::INTEGER AS e FROM fhir_resources ORDER BY id',
    );
    expect(rows.map((r) => [r.id, r.f === a ? 'a' : r.f === b ? 'b' : 'c', r.l, r.e])).toEqual([
      ['a1', 'a', 1, null], ['a2', 'a', 2, null], ['a3', 'a', 3, null],
      ['b1', 'b', 1, null], ['b3', 'b', 3, null], ['b5', 'b', 6, 0], ['b7', 'b', 7, null],
      ['c2', 'c', 2, null], ['c3', 'c', 3, null],
    ]);
    const cols = await scratch.db.all<{ column_name: string }>("SELECT column_name FROM duckdb_columns() WHERE table_name = 'fhir_resources' ORDER BY column_index");
    expect(cols.map((x) => x.column_name)).toEqual(['resource', 'resource_type', 'id', '_file', '_line', '_entry']);
  });

  it('hold past a DuckDB row group (122,880 rows): bad lines near the start and the end of a long file, and the next file', async () => {
    // Staged rows are numbered by their rowids: a file of more rows than one row group, read by two threads, must
    // still give each line its physical number, and the file after it must start again at line 1.
    const big = join(scratch.dir, 'big.ndjson');
    const N = 130_000;
    const lines: Buffer[] = [];
    for (let i = 1; i <= N; i++) {
      if (i === 3 || i === N - 2) lines.push(Buffer.from(`{"resourceType":"Observation","id":"broken-${i}"\n`));
      else if (i === N - 5) lines.push(Buffer.concat([Buffer.from('{"resourceType":"Observation","id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
      else lines.push(Buffer.from(`${obs(`g${i}`)}\n`));
    }
    writeFileSync(big, Buffer.concat(lines));
    const next = join(scratch.dir, 'next.ndjson');
    writeFileSync(next, `${obs('n1')}\n{"resourceType":"Observation"\n${obs('n3')}\n`);

    const st = await stageFhir(scratch.db, [big, next]);
    expect(st.resources).toBe(N - 3 + 2);
    expect(st.errors.map((e) => [e.file === big ? 'big' : 'next', e.line, e.reason])).toEqual([
      ['big', N - 5, 'the line cannot be read as UTF-8 text'],
      ['big', 3, 'the line is not valid JSON'],
      ['big', N - 2, 'the line is not valid JSON'],
      ['next', 2, 'the line is not valid JSON'],
    ]);
    const at = await scratch.db.all<{ id: string; l: number }>(
      `SELECT id, _line::INTEGER AS l FROM fhir_resources WHERE id IN ('g1', 'g2', 'g4', 'g122880', 'g122881', 'g129994', 'g129996', 'g129997', 'g129999', 'g130000', 'n1', 'n3')
       ORDER BY _file, _line`,
    );
    expect(at.map((r) => [r.id, r.l])).toEqual([
      ['g1', 1], ['g2', 2], ['g4', 4], ['g122880', 122_880], ['g122881', 122_881], ['g129994', 129_994], ['g129996', 129_996],
      ['g129997', 129_997], ['g129999', 129_999], ['g130000', 130_000], ['n1', 1], ['n3', 3],
    ]);
    // Every resource of the long file sits on the line its id names.
    const off = await scratch.db.scalar<number>(
      "SELECT count(*)::INTEGER FROM fhir_resources WHERE starts_with(id, 'g') AND _line <> CAST(id[2:] AS BIGINT)",
    );
    expect(off).toBe(0);
  });

  it('name a line over the 8 MiB limit by its length, and number the lines after it', async () => {
    const d = join(scratch.dir, 'long.ndjson');
    const long = JSON.stringify({ resourceType: 'Observation', id: 'long', note: [{ text: 'x'.repeat(9 * 1024 * 1024) }] });
    writeFileSync(d, `${obs('d1')}\n${long}\n${obs('d3')}\n`);
    const st = await stageFhir(scratch.db, [d]);
    expect(st.errors.map((e) => [e.line, e.reason])).toEqual([[2, 'the line is longer than 8 MiB']]);
    const rows = await scratch.db.all<{ id: string; l: number }>('SELECT id, _line::INTEGER AS l FROM fhir_resources ORDER BY id');
    expect(rows.map((r) => [r.id, r.l])).toEqual([['d1', 1], ['d3', 3]]);
  });
});
