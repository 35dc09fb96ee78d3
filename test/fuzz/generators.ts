// fast-check generators for the fuzz harness (issue 12): CSV bytes for the dataset contracts with cells at every
// boundary, the styles real exporters write (Excel, R write.csv, mainframe fixed width, Windows-1252, files cut
// mid-line), and random flat JSON Schemas from the keyword subset the compiler supports, with cells at their edges.
// Every generator yields bytes (Uint8Array), never strings: invalid UTF-8 and stray BOMs must survive to disk.
import fc from 'fast-check';
import { loadDatasetSchema, type JsonSchema } from '../../src/core/schemas.js';

export const DATASETS = ['telemetry', 'vitals', 'procedures'] as const;
export type FuzzDataset = (typeof DATASETS)[number];

/** One generated input: the file bytes, the dataset (file name) or a schema, and what the bytes were made as. */
export interface FuzzCase {
  style: string;
  dataset: string;
  /** A custom schema written next to the file and passed with --schema; undefined = the built-in dataset. */
  schema?: JsonSchema | undefined;
  bytes: Uint8Array;
  /** Rows the file must read as, when the bytes are well formed enough to know it; undefined otherwise. */
  expectedRows?: number | undefined;
}

const enc = new TextEncoder();
const bytesOf = (s: string): Uint8Array => enc.encode(s);
const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

// ---------------------------------------------------------------------------------------------------------------
// Cell values: good ones per column, and the boundaries of each column's contract.

type Prop = JsonSchema & { type?: string; enum?: unknown[]; minimum?: number; maximum?: number; format?: string };

const GOOD_TIMES = ['2025-03-01T10:00:00Z', '2025-03-01T10:00:00.250Z', '2025-03-01T10:00:00+01:00', '2024-02-29T23:59:59.999Z'];
const TIME_EDGES = ['2016-12-31T23:59:60Z', '2025-03-01T10:00:00+05', '2025-03-01T10:00:00+0530', '2025-03-01t10:00:00z',
  '2025-02-29T10:00:00Z', '2024-02-29T10:00:00Z', '2025-04-31T10:00:00Z', '2025-03-01 10:00:00Z', '2025-03-01T10:00:00',
  '2025-03-01T10:00:00.1234567890123Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '10000-01-01T00:00:00Z',
  '2025-03-01T24:00:00Z', '2025-03-01T10:00:00-00:00', '2025-03-01', '2025-13-01T00:00:00Z', '2025-03-01T10:00Z'];
const DATE_EDGES = ['2025-03-01', '2024-02-29', '2025-02-29', '0000-01-01', '9999-12-31', '2025-3-1', '2025-03-01T00:00:00Z', '20250301'];
const NUMBER_JUNK = ['', ' ', '1e309', '-1e309', 'NaN', 'Infinity', '-0', '-0.0', '00012', '+5', '.5', '5.', ' 5', '5 ', '1e2',
  '0x10', '1_000', '1,5', '5e-324', '1.7976931348623157e308', 'true', 'null', 'NA', '9007199254740993', '-9223372036854775809'];
const STRING_JUNK = ['', ' ', '-', '_x', 'x'.repeat(64), 'x'.repeat(65), '💩', 'é', 'a b', 'NA', 'null', 'NULL', '\uFEFFID-1',
  'ID-1\uFEFF', 'ID\u00001', 'a,b', 'q"q', 'line\nbreak', 'cr\rin', 'x'.repeat(5000), 'ID-1 ', ' ID-1', 'L'.repeat(70_000)];

/** Doubles just inside and outside a bound. */
function around(b: number, integer: boolean): string[] {
  const eps = integer ? 1 : Math.max(Math.abs(b) * Number.EPSILON * 2, Number.MIN_VALUE);
  return [b, b - eps, b + eps, b - 0.001, b + 0.001].map((v) => (integer ? String(Math.round(v)) : String(v)))
    .concat(integer ? [`${b}.0`, `${b}.5`] : [`${b}.0`, `${b}.000000000000001`]);
}

function goodValue(name: string, p: Prop, i: number): fc.Arbitrary<string> {
  if (Array.isArray(p.enum)) return fc.constantFrom(...p.enum.map(String));
  if (p.format === 'date-time') return fc.constantFrom(...GOOD_TIMES);
  if (p.format === 'date') return fc.constantFrom('2025-03-01', '2024-02-29');
  if (p.type === 'number' || p.type === 'integer') {
    const lo = typeof p.minimum === 'number' ? p.minimum : -1000;
    const hi = typeof p.maximum === 'number' ? p.maximum : 1000;
    return p.type === 'integer'
      ? fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) }).map(String)
      : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }).map((v) => String(Object.is(v, -0) ? 0 : v));
  }
  if (p.type === 'boolean') return fc.constantFrom('true', 'false');
  // Keys from a small pool so duplicate keys happen.
  return fc.integer({ min: 1, max: 6 }).map((k) => `${name.slice(0, 2).toUpperCase()}-${k + i * 0}`);
}

function edgeValue(p: Prop): fc.Arbitrary<string> {
  const edges: string[] = [];
  if (Array.isArray(p.enum)) {
    const first = String(p.enum[0] ?? '');
    edges.push(first.toUpperCase(), `${first} `, ` ${first}`, `${first}x`, `"${first}"`);
  }
  if (p.format === 'date-time') edges.push(...TIME_EDGES);
  if (p.format === 'date') edges.push(...DATE_EDGES);
  if (p.type === 'number' || p.type === 'integer') {
    if (typeof p.minimum === 'number') edges.push(...around(p.minimum, p.type === 'integer'));
    if (typeof p.maximum === 'number') edges.push(...around(p.maximum, p.type === 'integer'));
    edges.push(...NUMBER_JUNK);
  } else {
    edges.push(...STRING_JUNK);
  }
  return fc.constantFrom(...edges);
}

// ---------------------------------------------------------------------------------------------------------------
// Raw cells: a value plus how it is written (bare, quoted, broken), as bytes.

type Cell = Uint8Array;

const RAW_JUNK: Uint8Array[] = [
  Uint8Array.of(0xff), Uint8Array.of(0xc3), Uint8Array.of(0xe2, 0x82), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xc0, 0xaf),
  Uint8Array.of(0x00), Uint8Array.of(0xef, 0xbb, 0xbf), bytesOf('"'), bytesOf('""'), bytesOf('a"b'), bytesOf('\r'), bytesOf('\n'),
  bytesOf('\t'), bytesOf('|'), bytesOf(';'),
];

const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;
const needsQuote = (s: string): boolean => /[",\r\n]/.test(s);

function cellArb(value: fc.Arbitrary<string>): fc.Arbitrary<Cell> {
  return fc.oneof(
    { weight: 6, arbitrary: value.map((v) => bytesOf(needsQuote(v) ? quote(v) : v)) },
    { weight: 2, arbitrary: value.map((v) => bytesOf(quote(v))) },
    { weight: 1, arbitrary: fc.tuple(value, fc.constantFrom(...RAW_JUNK), fc.boolean()).map(([v, junk, before]) => {
      const b = bytesOf(v);
      return before ? concat([junk, b]) : concat([b, junk]);
    }) },
  );
}

const EOLS = ['\n', '\r\n', '\r'] as const;

const HEADER_MODES = ['schema', 'schema', 'schema', 'schema', 'reversed', 'drop-last', 'extra', 'renamed', 'wide'] as const;
/** Unknown columns a 'wide' header adds (a wide export with the contract's columns first). */
const WIDE_EXTRA = 300;

/**
 * Telemetry/vitals/procedures CSV bytes: a header of the schema's columns (sometimes reordered, short of one, with an
 * unknown or misspelt column), rows of good and edge cells, every structural flaw. No fc.chain, so a failure shrinks
 * to few rows and plain cells.
 */
export function datasetCsv(dataset: FuzzDataset): fc.Arbitrary<FuzzCase> {
  const ds = loadDatasetSchema(dataset);
  const props = (ds.schema.properties ?? {}) as Record<string, Prop>;
  const cols = ds.columns;
  const rowArb = fc.record({
    cells: fc.tuple(...cols.map((c, i) => {
      const p = props[c] ?? {};
      return cellArb(fc.oneof({ weight: 3, arbitrary: goodValue(c, p, i) }, { weight: 1, arbitrary: edgeValue(p) }));
    })),
    shape: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'ok', 'trailing', 'missing', 'extra', 'blank'),
    eol: fc.constantFrom(...EOLS),
  });
  return fc.record({
    header: fc.constantFrom(...HEADER_MODES),
    eolMode: fc.constantFrom('lf', 'crlf', 'cr', 'mixed'),
    bom: fc.boolean(),
    finalEol: fc.boolean(),
    rows: fc.array(rowArb, { maxLength: 6 }),
  }).map((shape): FuzzCase => {
    // Column order as written: indexes into the schema's columns; -1 is an unknown column.
    const order: number[] = cols.map((_, i) => i);
    if (shape.header === 'reversed') order.reverse();
    if (shape.header === 'drop-last') order.pop();
    if (shape.header === 'extra') order.push(-1);
    if (shape.header === 'wide') order.push(...Array.from({ length: WIDE_EXTRA }, (_, k) => -2 - k));
    const names = order.map((i) => (i === -1 ? 'note' : i < -1 ? `x${-2 - i}` : cols[i] ?? ''));
    if (shape.header === 'renamed') names[0] = `${names[0] ?? ''} `;
    const parts: Uint8Array[] = [];
    const eolFor = (own: string): string => (shape.eolMode === 'mixed' ? own : { lf: '\n', crlf: '\r\n', cr: '\r' }[shape.eolMode] ?? '\n');
    if (shape.bom) parts.push(Uint8Array.of(0xef, 0xbb, 0xbf));
    parts.push(bytesOf(names.join(',')));
    for (const r of shape.rows) {
      parts.push(bytesOf(eolFor(r.eol)));
      if (r.shape === 'blank') continue;
      // Unknown columns: 'x' under 'note'; the wide ones mostly empty (an empty cell is an absent value), one filled.
      let cells: Uint8Array[] = order.map((i) => (i === -1 || i === -2 - WIDE_EXTRA + 1 ? bytesOf('x') : i < -1 ? new Uint8Array() : r.cells[i] ?? new Uint8Array()));
      if (r.shape === 'missing') cells = cells.slice(0, Math.max(0, cells.length - 1));
      if (r.shape === 'extra') cells.push(bytesOf('x'));
      if (r.shape === 'trailing') cells.push(new Uint8Array());
      cells.forEach((c, j) => parts.push(...(j > 0 ? [bytesOf(','), c] : [c])));
    }
    if (shape.finalEol) parts.push(bytesOf(eolFor('\n')));
    return { style: `dataset-${shape.eolMode}${shape.bom ? '-bom' : ''}-${shape.header}`, dataset, bytes: concat(parts) };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// What real exporters write. Rows are value strings (good or edge, never raw junk); the exporter decides the bytes.

interface Table {
  dataset: FuzzDataset;
  cols: string[];
  types: string[];
  rows: (string | null)[][];
}

function tableFor(dataset: FuzzDataset): fc.Arbitrary<Table> {
  const ds = loadDatasetSchema(dataset);
  const props = (ds.schema.properties ?? {}) as Record<string, Prop>;
  const cols = ds.columns;
  const row = fc.tuple(...cols.map((c, i) => {
    const p = props[c] ?? {};
    return fc.oneof({ weight: 6, arbitrary: goodValue(c, p, i) }, { weight: 1, arbitrary: edgeValue(p) }, { weight: 1, arbitrary: fc.constant(null) });
  }));
  return fc.array(row, { minLength: 1, maxLength: 6 }).map((rows) => ({
    dataset, cols, types: cols.map((c) => String(props[c]?.type ?? 'string')), rows: rows.map((r) => [...r]),
  }));
}

const tableArb = (): fc.Arbitrary<Table> => fc.oneof(...DATASETS.map(tableFor));

/** Excel "CSV UTF-8": BOM, CRLF, quotes only when needed, a final CRLF; missing = empty cell. */
function excel(t: Table): FuzzCase {
  const line = (cells: string[]): string => cells.map((c) => (needsQuote(c) ? quote(c) : c)).join(',');
  const text = [line(t.cols), ...t.rows.map((r) => line(r.map((v) => v ?? '')))].join('\r\n') + '\r\n';
  return { style: 'excel', dataset: t.dataset, bytes: concat([Uint8Array.of(0xef, 0xbb, 0xbf), bytesOf(text)]), expectedRows: t.rows.length };
}

/** R write.csv: every string quoted (numbers bare), NA for missing, LF; optionally R's row-names column (header ""). */
function rWriteCsv(t: Table, rowNames: boolean): FuzzCase {
  const cell = (v: string | null, type: string): string => (v === null ? 'NA' : type === 'string' || Number.isNaN(Number(v)) || v.trim() === '' ? quote(v) : v);
  const head = (rowNames ? ['""'] : []).concat(t.cols.map(quote)).join(',');
  const body = t.rows.map((r, i) => (rowNames ? [quote(String(i + 1))] : []).concat(r.map((v, j) => cell(v, t.types[j] ?? 'string'))).join(','));
  return { style: rowNames ? 'r-write.csv-rownames' : 'r-write.csv', dataset: t.dataset, bytes: bytesOf([head, ...body].join('\n') + '\n'), expectedRows: t.rows.length };
}

/** Mainframe extract: every field padded with spaces to its column's width (numbers right-aligned), comma-separated. */
function mainframe(t: Table): FuzzCase {
  const all = [t.cols, ...t.rows.map((r) => r.map((v) => v ?? ''))];
  if (all.some((r) => r.some((c) => needsQuote(c)))) return excel(t);
  const widths = t.cols.map((_, j) => Math.max(...all.map((r) => (r[j] ?? '').length)) + 2);
  const text = all.map((r) => r.map((c, j) => (t.types[j] === 'number' && r !== t.cols ? c.padStart(widths[j] ?? 0) : c.padEnd(widths[j] ?? 0))).join(',')).join('\r\n') + '\r\n';
  return { style: 'mainframe-fixed-width', dataset: t.dataset, bytes: bytesOf(text), expectedRows: t.rows.length };
}

/** Windows-1252 bytes: Latin-1 range as single bytes, curly quotes and the euro sign as their cp1252 codes. */
function windows1252(t: Table): FuzzCase {
  const cp = new Map([['€', 0x80], ['‘', 0x91], ['’', 0x92], ['“', 0x93], ['”', 0x94], ['–', 0x96]]);
  const words = ['café', 'Müller', 'O’Brien', '€5', 'naïve'];
  const rows = t.rows.map((r, i) => r.map((v, j) => (t.types[j] === 'string' && i % 2 === 0 && j === 1 ? `${v ?? ''}${words[i % words.length]}` : v)));
  const text = [t.cols.join(','), ...rows.map((r) => r.map((v) => (v === null ? '' : needsQuote(v) ? quote(v) : v)).join(','))].join('\r\n') + '\r\n';
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (cp.has(ch)) out.push(cp.get(ch) ?? 0x3f);
    else if (code < 0x100) out.push(code);
    else out.push(...bytesOf(ch));
  }
  return { style: 'windows-1252', dataset: t.dataset, bytes: Uint8Array.from(out) };
}

/** Exporter-styled files, whole or cut at a random byte (a transfer that stopped mid-line). */
export function exporterCsv(): fc.Arbitrary<FuzzCase> {
  const styled = fc.tuple(tableArb(), fc.constantFrom('excel', 'r', 'r-rownames', 'mainframe', 'cp1252')).map(([t, s]) =>
    s === 'excel' ? excel(t) : s === 'r' ? rWriteCsv(t, false) : s === 'r-rownames' ? rWriteCsv(t, true) : s === 'mainframe' ? mainframe(t) : windows1252(t));
  return fc.oneof(
    { weight: 3, arbitrary: styled },
    { weight: 1, arbitrary: fc.tuple(styled, fc.double({ min: 0, max: 1, noNaN: true })).map(([c, at]): FuzzCase => ({
      style: `${c.style}-cut`, dataset: c.dataset, bytes: c.bytes.slice(0, Math.floor(c.bytes.length * at)),
    })) },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Random flat schemas (the keyword subset compile.ts supports) and CSV cells at their boundaries.

const PATTERNS = ['^[A-Z]{2}-[0-9]+$', '^[a-z_]*$', '^x', 'y$', '^[0-9]{3}$', '^\\S+$', '^(a|bb)+$'];

function columnSchema(): fc.Arbitrary<Prop> {
  const bound = fc.constantFrom(-1, 0, 0.5, 1, 10, 99.5, 100, 1e6);
  const number = fc.record({
    type: fc.constantFrom('number', 'integer'),
    minimum: fc.option(bound, { nil: undefined }), maximum: fc.option(bound, { nil: undefined }),
    exclusiveMinimum: fc.option(bound, { nil: undefined }), exclusiveMaximum: fc.option(bound, { nil: undefined }),
  }, { requiredKeys: ['type'] });
  const string = fc.record({
    type: fc.constant('string'),
    minLength: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), maxLength: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    pattern: fc.option(fc.constantFrom(...PATTERNS), { nil: undefined }),
  }, { requiredKeys: ['type'] });
  const enumerated = fc.uniqueArray(fc.constantFrom('a', 'b', 'A', 'a b', 'é', 'x,y', ''), { minLength: 1, maxLength: 4 }).map((e) => ({ type: 'string', enum: e }));
  const formatted = fc.constantFrom('date-time', 'date').map((f) => ({ type: 'string', format: f }));
  const boolean = fc.constant({ type: 'boolean' });
  return fc.oneof(number, string, enumerated, formatted, boolean).map((p) => JSON.parse(JSON.stringify(p)) as Prop);
}

function schemaEdges(p: Prop): string[] {
  const out = ['', ' ', 'NA', 'null', '💩'];
  const num = (k: string): number | undefined => (typeof p[k] === 'number' ? (p[k] as number) : undefined);
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
    const b = num(k);
    if (b !== undefined) out.push(...around(b, p.type === 'integer'));
  }
  if (p.type === 'number' || p.type === 'integer') out.push('0', '1', '-1', '1.5', '1e309', 'NaN', '-0', '+1', '.5', '00', ' 1');
  if (p.type === 'boolean') out.push('true', 'false', 'TRUE', 'True', '1', '0', 't', 'yes');
  if (p.type === 'string') {
    for (const k of ['minLength', 'maxLength']) {
      const n = num(k);
      if (n !== undefined) out.push('a'.repeat(Math.max(0, n - 1)), 'a'.repeat(n), 'a'.repeat(n + 1), '💩'.repeat(n), 'é'.repeat(n + 1));
    }
    if (Array.isArray(p.enum)) out.push(...p.enum.map(String), ...p.enum.map((e) => `${String(e)} `));
    if (p.format === 'date-time') out.push(...GOOD_TIMES, ...TIME_EDGES);
    if (p.format === 'date') out.push(...DATE_EDGES);
    out.push('AB-1', 'ab_c', 'x1', '1y', '123', '1234', 'a', 'bb', 'abba', 'a\tb', 'AB-1\n');
  }
  return out;
}

/** A random flat schema written as a file, and a CSV of cells at its boundaries (well formed: expectedRows known). */
export function randomSchemaCsv(): fc.Arbitrary<FuzzCase> {
  const MAX_COLS = 5;
  return fc.record({
    colSchemas: fc.array(columnSchema(), { minLength: 1, maxLength: MAX_COLS }),
    requiredMask: fc.array(fc.boolean(), { minLength: MAX_COLS, maxLength: MAX_COLS }),
    closed: fc.boolean(),
    // Cells as indexes into each column's boundary list (no fc.chain: shrinks to index 0, the empty cell).
    rows: fc.array(fc.array(fc.nat(), { minLength: MAX_COLS, maxLength: MAX_COLS }), { minLength: 1, maxLength: 8 }),
    crlf: fc.boolean(),
  }).map(({ colSchemas, requiredMask, closed, rows, crlf }): FuzzCase => {
    const names = colSchemas.map((_, i) => `c${i}`);
    const edges = colSchemas.map(schemaEdges);
    const required = names.filter((_, i) => requiredMask[i] === true);
    const schema: JsonSchema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
      properties: Object.fromEntries(names.map((n, i) => [n, colSchemas[i] ?? {}])),
      ...(required.length ? { required } : {}), ...(closed ? { additionalProperties: false } : {}) };
    const eol = crlf ? '\r\n' : '\n';
    const cells = rows.map((r) => names.map((_, j) => {
      const list = edges[j] ?? [''];
      return list[(r[j] ?? 0) % list.length] ?? '';
    }));
    const text = [names.join(','), ...cells.map((r) => r.map((v) => (needsQuote(v) ? quote(v) : v)).join(','))].join(eol) + eol;
    // A row whose every cell is empty is a blank line when there is one column: not a row.
    const expectedRows = names.length === 1 ? undefined : rows.length;
    return { style: 'random-schema', dataset: 'fuzz', schema, bytes: bytesOf(text), expectedRows };
  });
}
