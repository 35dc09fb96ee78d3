// stageAndValidate on hand-made bad inputs: every row ends valid or quarantined, with the physical line and a reason.
import { describe, expect, it } from 'vitest';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describeSchema, loadDatasetSchema, type DatasetSchema } from '../../../src/core/schemas.js';
import { dropStaged, stageAndValidate, type StageOptions } from '../../../src/core/validate/index.js';

const SCHEMA = describeSchema(
  {
    type: 'object',
    'x-primary-key': ['id'],
    properties: {
      id: { type: 'string', pattern: '^[A-Z]+-[0-9]+$' },
      n: { type: 'number', minimum: 0, maximum: 100 },
      d: { type: 'string', format: 'date' },
      t: { type: 'string', format: 'date-time' },
      name: { type: 'string', maxLength: 2000000 },
    },
    required: ['id', 'n'],
    additionalProperties: false,
  },
  '/test/things.schema.json',
);

const scratch = useScratchDb();

interface Q { line: number; row: number; raw: unknown; errors: { field: string | null; keyword: string; value: string | null }[]; rule: string }

let n = 0;
async function run(content: string | Buffer, opts: StageOptions & { name?: string; ds?: DatasetSchema } = {}) {
  const file = join(scratch.dir, `${n++}-${opts.name ?? 'things.csv'}`);
  writeFileSync(file, content);
  const s = await stageAndValidate(scratch.db, { path: file, displayName: 'in.csv' }, opts.ds ?? SCHEMA, opts);
  const q = (await scratch.db.all<Record<string, string>>(`SELECT line::INTEGER AS line, "row"::INTEGER AS "row", raw, errors, rule FROM ${s.quarantineTable} ORDER BY line`))
    .map((r) => ({ line: Number(r.line), row: Number(r.row), raw: JSON.parse(String(r.raw)), errors: JSON.parse(String(r.errors)), rule: String(r.rule) })) as Q[];
  const valid = await scratch.db.all<Record<string, unknown>>(`SELECT *, _source_line::INTEGER AS line FROM ${s.validTable} ORDER BY _row`);
  await dropStaged(scratch.db, s);
  expect(s.rowsRead).toBe(s.rowsValid + s.rowsQuarantined);
  expect(valid.length).toBe(s.rowsValid);
  expect(q.length).toBe(s.rowsQuarantined);
  expect(s.notes, 'the pre-scan and DuckDB agree on the record count').toEqual([]);
  return { s, q, valid, kw: q.map((r) => `${r.line}:${r.errors.map((e) => e.keyword).join('+')}`) };
}

describe('CSV structure', () => {
  it('empty file: a file-level error, no rows', async () => {
    const r = await run('');
    expect(r.s.rowsRead).toBe(0);
    expect(r.s.fileErrors.map((e) => e.keyword)).toEqual(['csv_empty']);
  });

  it('header only: zero rows, no errors', async () => {
    const r = await run('id,n\n');
    expect(r.s).toMatchObject({ rowsRead: 0, rowsValid: 0, fileErrors: [] });
  });

  it('header missing a required column: one file-level error naming it, no row valid', async () => {
    const r = await run('id,name\nA-1,x\nA-2,y\n');
    expect(r.s.fileErrors).toEqual([{ keyword: 'required', message: 'the header lacks required column n', fields: ['n'] }]);
    expect(r.s.rowsValid).toBe(0);
    expect(r.kw).toEqual(['2:required', '3:required']);
  });

  it('unknown extra column: additionalProperties on each row that fills it', async () => {
    const r = await run('id,n,extra\nA-1,1,\nA-2,2,boo\n');
    expect(r.kw).toEqual(['3:additionalProperties']);
    expect(r.q[0]?.errors[0]).toMatchObject({ field: 'extra', value: 'boo' });
  });

  it('BOM, CRLF and CR line endings keep header names and physical lines', async () => {
    for (const eol of ['\r\n', '\r', '\n']) {
      const r = await run(`\uFEFFid,n${eol}A-1,1${eol}A-2,200${eol}A-3,3${eol}`);
      expect(r.s.rowsRead).toBe(3);
      expect(r.kw, JSON.stringify(eol)).toEqual(['3:maximum']);
      expect(r.valid.map((v) => v.line)).toEqual([2, 4]);
    }
  });

  it('quoted newlines: the line is the physical line the record starts on', async () => {
    const r = await run('id,n,name\nA-1,1,"two\nlines"\nA-2,500,x\n"A-3",3,"three\r\nline\ns"\nA-4,-1,y\n');
    expect(r.kw).toEqual(['4:maximum', '8:minimum']);
    expect(r.valid.map((v) => [v.id, v.line, v._row])).toEqual([['A-1', 2, '1'], ['A-3', 5, '3']]);
    expect(r.valid[0]?.name).toBe('two\nlines');
  });

  it('a ragged row (too few, too many fields) is one quarantined row each', async () => {
    const r = await run('id,n,name\nA-1,1,a\nA-2,2\nA-3,3,c,d\nA-4,4,d\n');
    expect(r.kw).toEqual(['3:csv_field_count', '4:csv_field_count']);
    expect(r.q[0]?.raw).toBe('A-2,2');
    expect(r.q[0]?.row).toBe(2);
    expect(r.valid.map((v) => v.line)).toEqual([2, 5]);
  });

  it('an unterminated quote on the last line, and a stray quote mid-file', async () => {
    const r = await run('id,n,name\nA-1,1,"a"b\nA-2,2,b\nA-3,3,"never closed\n');
    expect(r.kw).toEqual(['2:csv_stray_quote', '4:csv_unterminated_quote']);
    expect(r.valid.map((v) => v.id)).toEqual(['A-2']);
  });

  it('a non-UTF-8 byte: csv_invalid_utf8 on that line, naming the column', async () => {
    const r = await run(Buffer.concat([Buffer.from('id,n,name\nA-1,1,ok\nA-2,2,caf'), Buffer.from([0xe9]), Buffer.from('\nA-3,3,x\n')]));
    expect(r.kw).toEqual(['3:csv_invalid_utf8']);
    expect(r.q[0]?.errors[0]?.field).toBe('name');
    expect(r.s.rowsValid).toBe(2);
  });

  it('blank lines are not rows and do not shift line numbers', async () => {
    const r = await run('id,n\n\nA-1,1\n\n\nA-2,200\nA-3,3\n');
    expect(r.kw).toEqual(['6:maximum']);
    expect(r.q[0]?.row).toBe(2);
    expect(r.valid.map((v) => v.line)).toEqual([3, 7]);
  });

  it('a 1 MB field is read whole', async () => {
    const big = 'x'.repeat(1 << 20);
    const r = await run(`id,n,name\nA-1,1,${big}\nA-2,2,"${big}"\n`);
    expect(r.s.rowsValid).toBe(2);
    expect(String(r.valid[1]?.name).length).toBe(1 << 20);
  });

  it('.gz input, sniffed semicolon and tab delimiters, and --delimiter', async () => {
    const gz = await run(gzipSync('id,n\nA-1,1\nA-2,x\n'), { name: 'things.csv.gz' });
    expect(gz.kw).toEqual(['3:type']);
    const semi = await run('id;n\nA-1;1\nA-2;-5\n');
    expect(semi.s.delimiter).toBe(';');
    expect(semi.kw).toEqual(['3:minimum']);
    const tab = await run('id\tn\nA-1\t1\n');
    expect(tab.s).toMatchObject({ delimiter: '\t', rowsValid: 1 });
    const forced = await run('id|n\nA-1|1\n', { delimiter: '|' });
    expect(forced.s.rowsValid).toBe(1);
  });

  it('__proto__ as a column name is just an unknown column', async () => {
    for (const engine of ['compiled', 'ajv'] as const) {
      const r = await run('id,n,__proto__\nA-1,1,\nA-2,2,polluted\n', { engine });
      expect(r.kw).toEqual(['3:additionalProperties']);
      expect(r.q[0]?.errors[0]?.field).toBe('__proto__');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('duplicate primary keys: the first is valid, later ones duplicate_key', async () => {
    const r = await run('id,n\nA-1,1\nA-2,2\nA-1,3\nA-1,4\n');
    expect(r.kw).toEqual(['4:duplicate_key', '5:duplicate_key']);
  });
});

describe('CSV values', () => {
  it('numbers: 1e309, NaN, Infinity, 00012 and +1 are not numbers; -0, 1.0 and 1e2 are', async () => {
    for (const engine of ['compiled', 'ajv'] as const) {
      const r = await run('id,n\nA-1,1e309\nA-2,NaN\nA-3,Infinity\nA-4,00012\nA-5,+1\nA-6,-0\nA-7,1.0\nA-8,1e1\n', { engine });
      expect(r.kw, engine).toEqual(['2:type', '3:type', '4:type', '5:type', '6:type']);
      expect(r.valid.map((v) => v.n)).toEqual([-0, 1, 10]);
    }
  });

  it('dates: 2025-02-30 and an instant without offset are rejected', async () => {
    for (const engine of ['compiled', 'ajv'] as const) {
      const r = await run('id,n,d,t\nA-1,1,2025-02-30,\nA-2,1,,2025-03-01 10:00\nA-3,1,2024-02-29,2025-03-01T10:00:00+05:30\nA-4,1,,2025-03-01 10:00:00Z\n', { engine });
      expect(r.kw, engine).toEqual(['2:format', '3:format']);
      expect(r.valid.map((v) => String(v.t))).toEqual(['2025-03-01 04:30:00+00', '2025-03-01 10:00:00+00']);
    }
  });

  it('vitals if/then rules and procedures x-compare are checked by both engines', async () => {
    const vitals = loadDatasetSchema('vitals');
    const procs = loadDatasetSchema('procedures');
    for (const engine of ['compiled', 'ajv'] as const) {
      const v = await run('reading_id,patient_id,metric,value,unit,measured_at\nR-1,P-1,heart_rate,70,/min,2025-01-01T00:00:00Z\nR-2,P-1,heart_rate,700,/min,2025-01-01T00:00:00Z\nR-3,P-1,spo2,97,mmHg,2025-01-01T00:00:00Z\n', { engine, ds: vitals });
      expect(v.kw, engine).toEqual(['3:maximum', '4:const']);
      expect(v.s.failuresByRule).toEqual({ heart_rate_range: 1, spo2_range: 1 });
      const p = await run('procedure_id,patient_id,robot_id,surgeon_id,procedure_type,started_at,ended_at,status\nP-1,PA,RB,S,colectomy,2025-01-01T10:00:00Z,2025-01-01T09:00:00Z,completed\nP-2,PA,RB,S,colectomy,2025-01-01T10:00:00Z,2025-01-01T12:00:00+01:00,completed\n', { engine, ds: procs });
      expect(p.kw, engine).toEqual(['2:x-compare']);
    }
  });
});

describe('NDJSON and Parquet', () => {
  it('NDJSON: malformed lines are json_parse errors at their line; types are JSON types', async () => {
    for (const engine of ['compiled', 'ajv'] as const) {
      const r = await run('{"id":"A-1","n":1}\n{"id":"A-2","n":"1"}\n{broken\n\n{"id":"A-3","n":1.0,"x":true}\n[1]\n', { name: 'things.ndjson', engine });
      expect(r.kw, engine).toEqual(['2:type', '3:json_parse', '5:additionalProperties', '6:type']);
      expect(r.valid.map((v) => v.line)).toEqual([1]);
    }
  });

  it('Parquet: typed values, NULL is absent', async () => {
    const file = join(scratch.dir, 'things.parquet');
    await scratch.db.run(`COPY (SELECT * FROM (VALUES ('A-1', 1.5, DATE '2025-01-02'), ('A-2', 150.0, NULL), (NULL, 2.0, NULL)) v(id, n, d)) TO '${file}' (FORMAT parquet)`);
    for (const engine of ['compiled', 'ajv'] as const) {
      const s = await stageAndValidate(scratch.db, { path: file }, SCHEMA, { engine });
      const q = await scratch.db.all<{ line: number; errors: string }>(`SELECT line::INTEGER AS line, errors FROM ${s.quarantineTable} ORDER BY line`);
      expect(q.map((x) => `${x.line}:${(JSON.parse(x.errors) as { keyword: string }[]).map((e) => e.keyword).join('+')}`), engine).toEqual(['2:maximum', '3:required']);
      expect(await scratch.db.scalar(`SELECT strftime(d, '%Y-%m-%d') FROM ${s.validTable}`)).toBe('2025-01-02');
      await dropStaged(scratch.db, s);
    }
  });
});

describe('csv-spectrum (fixtures/csv/spectrum)', () => {
  const root = join(process.cwd(), 'fixtures/csv/spectrum');
  for (const f of readdirSync(join(root, 'csvs')).filter((x) => x.endsWith('.csv'))) {
    it(`parses ${f} as expected`, async () => {
      const expected = JSON.parse(readFileSync(join(root, 'json', f.replace(/\.csv$/, '.json')), 'utf8')) as Record<string, string>[];
      const cols = Object.keys(expected[0] ?? {});
      const ds = describeSchema({ type: 'object', properties: Object.fromEntries(cols.map((c) => [c, { type: 'string' }])) }, `/x/${f}.json`);
      const s = await stageAndValidate(scratch.db, { path: join(root, 'csvs', f) }, ds);
      const rows = await scratch.db.all<Record<string, string | null>>(`SELECT * EXCLUDE (_row, _source_line) FROM ${s.validTable} ORDER BY _row`);
      expect(s.rowsQuarantined).toBe(0);
      expect(rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? ''])))).toEqual(expected);
      await dropStaged(scratch.db, s);
    });
  }
});
