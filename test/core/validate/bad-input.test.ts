// Files written by other tools, or not CSV at all: every row is accounted for (read = valid + quarantined) or the
// file is refused with one file-level csv_* error; never DuckDB's internal "state machine" error, never out of memory.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describeSchema, loadDatasetSchema } from '../../../src/core/schemas.js';
import { dropStaged, stageAndValidate, type StageOptions } from '../../../src/core/validate/index.js';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { TELEMETRY_HEADER, telemetryRow } from '../../helpers/small-dataset.js';

const scratch = useScratchDb();
const telemetry = loadDatasetSchema('telemetry');

let n = 0;
async function run(content: string | Buffer, opts: StageOptions & { name?: string } = {}) {
  const file = join(scratch.dir, `${n++}-${opts.name ?? 'telemetry.csv'}`);
  writeFileSync(file, content);
  const s = await stageAndValidate(scratch.db, { path: file, displayName: 'in.csv' }, telemetry, opts);
  const q = (await scratch.db.all<{ line: number; kw: string }>(
    `SELECT line::INTEGER AS line, rule AS kw FROM ${s.quarantineTable} ORDER BY line`)).map((r) => `${r.line}:${r.kw}`);
  await dropStaged(scratch.db, s);
  expect(s.rowsRead).toBe(s.rowsValid + s.rowsQuarantined);
  return { s, q };
}

const MODES: [string, StageOptions][] = [
  ['fast path', { materializeValid: false }],
  ['exact staging', { materializeValid: true }],
  ['ajv', { engine: 'ajv', materializeValid: true }],
];

describe('line endings', () => {
  // Lines 2-4 end in CRLF (as Excel writes), lines 5-8 in LF (as a script appending to the file writes).
  const rows = [TELEMETRY_HEADER, telemetryRow(1), `${telemetryRow(2)},extra`, telemetryRow(3),
    telemetryRow(4, { force_n: '300' }), telemetryRow(5), telemetryRow(6, { step: 'a "quoted" step' }).replace('a "quoted" step', '"a\r\nb"'), telemetryRow(7)];
  const mixed = rows.map((r, i) => r + (i < 4 ? '\r\n' : '\n')).join('');

  for (const [name, opts] of MODES) {
    it(`CRLF then LF (${name}): every row read, bad ones quarantined at their physical lines`, async () => {
      const r = await run(mixed, opts);
      expect(r.s.rowsRead).toBe(7);
      // Row 6 holds a quoted CRLF (and a step not in the enum): it starts on line 7 and row 7 on line 9.
      expect(r.q).toEqual(['3:csv_field_count', '5:maximum', '7:enum']);
      expect(r.s.rowsValid).toBe(4);
      expect(r.s.notes.join(' ')).toMatch(/mixes line endings \(4 CRLF, 4 LF, 0 CR\)/);
    });
  }

  it('alternating CRLF and LF in a gzip file, and a last line in LF after CRLF lines', async () => {
    const alternating = [TELEMETRY_HEADER, ...[1, 2, 3, 4, 5].map((i) => telemetryRow(i))].map((r, i) => r + (i % 2 ? '\r\n' : '\n')).join('');
    const gz = await run(gzipSync(alternating), { name: 'telemetry.csv.gz', materializeValid: true });
    expect(gz.s).toMatchObject({ rowsRead: 5, rowsValid: 5 });
    const lastLf = [TELEMETRY_HEADER, telemetryRow(1), telemetryRow(2)].join('\r\n') + `\r\n${telemetryRow(3)}\n`;
    const r = await run(lastLf);
    expect(r.s).toMatchObject({ rowsRead: 3, rowsValid: 3 });
  });

  it('a pipe-delimited file with CRLF validates with --delimiter |', async () => {
    const text = [TELEMETRY_HEADER, telemetryRow(1), telemetryRow(2, { latency_ms: 'slow' })].map((l) => l.replaceAll(',', '|')).join('\r\n') + '\r\n';
    for (const [, opts] of MODES) {
      const r = await run(text, { ...opts, delimiter: '|' });
      expect(r.s.rowsRead).toBe(2);
      expect(r.q).toEqual(['3:type']);
    }
  });
});

describe('not UTF-8 CSV text: refused as a whole with a csv_* file error', () => {
  const text = [TELEMETRY_HEADER, telemetryRow(1), telemetryRow(2)].join('\r\n');
  const cases: [string, Buffer, string, RegExp][] = [
    ['UTF-16 LE with a BOM (Excel "Unicode text")', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'csv_utf16', /UTF-16/],
    ['UTF-16 BE with a BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]), 'csv_utf16', /UTF-16/],
    ['UTF-32 LE with a BOM', Buffer.from([0xff, 0xfe, 0, 0, 0x61, 0, 0, 0]), 'csv_utf32', /UTF-32/],
    ['random bytes', Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) % 256)), 'csv_binary', /NUL byte at byte offset \d+ \(line \d+\)/],
    ['a PNG image', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR\r\n\n\rx')]), 'csv_binary', /a PNG image/],
    ['an .xlsx workbook', Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.from('\r\nab\n\r')]), 'csv_binary', /ZIP archive/],
    ['a Latin-1 header', Buffer.from(`${TELEMETRY_HEADER.replace('step', 'étape')}\n${telemetryRow(1)}\n`, 'latin1'), 'csv_invalid_utf8', new RegExp(`byte 0xe9 at byte offset ${TELEMETRY_HEADER.indexOf('step')} \\(line 1\\)`)],
  ];
  for (const [name, bytes, keyword, message] of cases) {
    it(name, async () => {
      for (const [, opts] of MODES) {
        const r = await run(bytes, opts);
        expect(r.s.fileErrors.map((e) => e.keyword)).toEqual([keyword]);
        expect(r.s.fileErrors[0]?.message).toMatch(message);
        expect(r.s.rowsRead).toBe(0);
        expect(r.s.notes).toEqual([]);
      }
    });
  }

  it('invalid UTF-8 in a data line stays a per-row csv_invalid_utf8, the other rows valid', async () => {
    const bytes = Buffer.concat([Buffer.from(`${TELEMETRY_HEADER}\n${telemetryRow(1)}\n`), Buffer.from(telemetryRow(2, { step: 'x\xffy' }), 'latin1'), Buffer.from(`\n${telemetryRow(3)}\n`)]);
    const r = await run(bytes, { materializeValid: true });
    expect(r.s.fileErrors).toEqual([]);
    expect(r.q).toEqual(['3:csv_invalid_utf8']);
    expect(r.s.rowsValid).toBe(2);
  });
});

describe('NDJSON from other tools', () => {
  const lines = ['{"event_id":"EV-1"}', '{"event_id":"EV-2"}', 'not json', '{"event_id":"EV-4"}'];
  it('mixed line endings: every line read (was the "state machine" error)', async () => {
    for (const engine of ['compiled', 'ajv'] as const) {
      const r = await run(lines.map((l, i) => l + (i < 2 ? '\r\n' : '\n')).join(''), { name: 'telemetry.ndjson', engine, materializeValid: true });
      expect(r.s.rowsRead).toBe(4);
      expect(r.q.filter((q) => q.endsWith('json_parse'))).toEqual(['3:json_parse']);
      expect(r.s.notes.join(' ')).toMatch(/mixes line endings \(2 CRLF, 2 LF, 0 CR\)/);
    }
  });

  it('UTF-16 and binary NDJSON: refused as a whole', async () => {
    const u16 = await run(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines.join('\n'), 'utf16le')]), { name: 'telemetry.ndjson' });
    expect(u16.s.fileErrors.map((e) => e.keyword)).toEqual(['csv_utf16']);
    expect(u16.s.rowsRead).toBe(0);
    const bin = await run(Buffer.from([0x7b, 0x0d, 0x00, 0x0a, 0x0d, 0x0d, 0x0a, 0xff]), { name: 'telemetry.ndjson' });
    expect(bin.s.fileErrors).toEqual([{ keyword: 'csv_binary', message: 'the file is binary, not NDJSON text: a NUL byte at byte offset 2 (line 1)' }]);
  });
});

describe('wide files', () => {
  // 10,000 columns x 5 rows, about 200 KB: DuckDB used to exhaust the 512 MB limit staging every column.
  const extra = Array.from({ length: 10_000 - 12 }, (_, i) => `x${i}`);
  const wide = [`${TELEMETRY_HEADER},${extra.join(',')}`, ...[1, 2, 3, 4, 5].map((i) => `${telemetryRow(i)},${extra.map(() => '1').join(',')}`)].join('\n') + '\n';

  for (const [name, opts] of MODES) {
    it(`10,000 columns the schema forbids (${name}): one file error counting them, every row quarantined with it`, async () => {
      expect(wide.length).toBeGreaterThan(150_000);
      const t0 = Date.now();
      const r = await run(wide, opts);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r.s.fileErrors).toHaveLength(1);
      expect(r.s.fileErrors[0]).toMatchObject({ keyword: 'additionalProperties', message: 'the header has 9988 columns the schema does not allow (x0, x1, x2, x3, x4 and 9983 more)' });
      expect(r.s.fileErrors[0]?.fields).toHaveLength(20);
      expect(r.s).toMatchObject({ rowsRead: 5, rowsQuarantined: 5, rowsValid: 0 });
      expect(r.q).toEqual(['2:additionalProperties', '3:additionalProperties', '4:additionalProperties', '5:additionalProperties', '6:additionalProperties']);
    });
  }

  it('a schema that allows other columns: only the named ones are staged, the rows checked, a note says so', async () => {
    const open = describeSchema({ type: 'object', 'x-primary-key': ['id'], properties: { id: { type: 'string' }, n: { type: 'integer' } }, required: ['id'] }, '/test/open.schema.json');
    const cols = Array.from({ length: 5000 }, (_, i) => `x${i}`);
    const file = join(scratch.dir, 'open.csv');
    writeFileSync(file, [`id,n,${cols.join(',')}`, ...['1,2', '2,two', '3,4'].map((r) => `${r},${cols.map(() => 'v').join(',')}`)].join('\n') + '\n');
    for (const [, opts] of MODES) {
      const s = await stageAndValidate(scratch.db, { path: file }, open, opts);
      await dropStaged(scratch.db, s);
      expect(s).toMatchObject({ rowsRead: 3, rowsValid: 2, rowsQuarantined: 1, fileErrors: [], failuresByRule: { type: 1 } });
      expect(s.notes).toEqual(['only the 2 columns the schema names were read; 5000 other columns were skipped (x0, x1, x2, x3, x4 and 4995 more)']);
    }
  });

  it('NDJSON objects with 10,000 properties the schema forbids: one error per line, the other lines checked as usual', async () => {
    const wideObj = (id: string) => `{"event_id":"${id}",${Array.from({ length: 10_000 }, (_, i) => `"x${i}":1`).join(',')}}`;
    const text = [wideObj('EV-1'), '{"event_id":"EV-2","note":"a","tag":"b"}', wideObj('EV-3'), wideObj('EV-4'), wideObj('EV-5'), wideObj('EV-6')].join('\n') + '\n';
    for (const engine of ['compiled', 'ajv'] as const) {
      const t0 = Date.now();
      const file = join(scratch.dir, `${n++}-telemetry.ndjson`);
      writeFileSync(file, text);
      const s = await stageAndValidate(scratch.db, { path: file }, telemetry, { engine, materializeValid: true });
      const q = await scratch.db.all<{ line: number; errors: string }>(`SELECT line::INTEGER AS line, errors FROM ${s.quarantineTable} ORDER BY line`);
      await dropStaged(scratch.db, s);
      expect(Date.now() - t0, engine).toBeLessThan(15_000);
      expect(s).toMatchObject({ rowsRead: 6, rowsQuarantined: 6 });
      const errs = q.map((r) => JSON.parse(r.errors) as { field: string | null; keyword: string; message: string }[]);
      expect(errs[0], engine).toEqual([{ field: null, keyword: 'additionalProperties', value: null,
        message: 'the object has 10000 properties the schema does not allow (x0, x1, x2, x3, x4 and 9995 more)' }]);
      // Line 2 is an ordinary line: its missing required fields and its two unknown properties, each reported.
      expect(errs[1]?.filter((e) => e.keyword === 'additionalProperties').map((e) => e.field).sort(), engine).toEqual(['note', 'tag']);
      expect(errs[1]?.some((e) => e.keyword === 'required'), engine).toBe(true);
    }
  });

  it('a few unknown columns still fail only the rows that fill them', async () => {
    const r = await run([`${TELEMETRY_HEADER},note`, `${telemetryRow(1)},`, `${telemetryRow(2)},hello`].join('\n') + '\n', { materializeValid: true });
    expect(r.s.fileErrors).toEqual([]);
    expect(r.q).toEqual(['3:additionalProperties']);
  });
});
