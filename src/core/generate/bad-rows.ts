// Labelled bad rows: which kinds a dataset and format can carry, where they go, and how a good row is corrupted.
// Driven by the dataset's JSON Schema (types, ranges, enums, formats, keys), so every bad row fails exactly the
// keyword the manifest names. Each bad row draws from its own PRNG stream (dataset, position), so a shard builds
// the same bytes for it as the whole run does.
import type { DatasetSchema, JsonSchema } from '../schemas.js';
import { createRng, type Rng } from './rng.js';
import type { DataFormat } from './options.js';
import type { LineFault } from './format.js';
import type { Row } from './reference.js';

export const BAD_ROW_KINDS = [
  'wrong_type', 'out_of_range', 'bad_enum', 'missing_required', 'bad_timestamp', 'duplicate_key',
  'orphan_foreign_key', 'unterminated_quote', 'ragged_row',
] as const;
export type BadRowKind = (typeof BAD_ROW_KINDS)[number];

/** Kinds a typed Parquet column can hold. */
const PARQUET_KINDS: readonly BadRowKind[] = ['out_of_range', 'bad_enum', 'missing_required', 'duplicate_key', 'orphan_foreign_key'];

export interface BadPlan {
  /** Position in the dataset's own coordinates (row index, telemetry slot, vitals tick). */
  pos: number;
  kind: BadRowKind;
  field: string | null;
}

export interface Corrupted {
  row: Row;
  fault: LineFault | undefined;
  keyword: string;
  key: string | null;
}

function prop(ds: DatasetSchema, col: string): JsonSchema {
  return ds.schema.properties?.[col] ?? {};
}

/** Columns a kind can be planted in, for this dataset. */
export function fieldsFor(ds: DatasetSchema, kind: BadRowKind): string[] {
  const t = (c: string): string => ds.columnTypes[c]?.type ?? 'string';
  switch (kind) {
    case 'wrong_type':
      return ds.columns.filter((c) => ['number', 'integer', 'boolean'].includes(t(c)));
    case 'out_of_range':
      return ds.columns.filter((c) => t(c) === 'number' && (prop(ds, c).minimum !== undefined || prop(ds, c).maximum !== undefined));
    case 'bad_enum':
      return ds.columns.filter((c) => Array.isArray(prop(ds, c).enum));
    case 'missing_required':
      return [...ds.required];
    case 'bad_timestamp':
      return ds.columns.filter((c) => ['date', 'date-time'].includes(ds.columnTypes[c]?.format ?? ''));
    case 'duplicate_key':
      return ds.primaryKey.slice(0, 1);
    case 'orphan_foreign_key':
      return ds.foreignKeys.filter((f) => f.columns.length === 1).map((f) => f.columns[0] as string);
    case 'unterminated_quote':
      return ds.columns.filter((c, i) => i > 0 && t(c) === 'string');
    case 'ragged_row':
      return [''];
  }
}

/** Kinds this dataset can carry in this format (unterminated_quote is handled apart: one, last line, CSV only). */
export function applicableKinds(ds: DatasetSchema, format: DataFormat): BadRowKind[] {
  return BAD_ROW_KINDS.filter((k) => {
    if (k === 'unterminated_quote') return false;
    if (format === 'parquet' && !PARQUET_KINDS.includes(k)) return false;
    if (format === 'ndjson' && k === 'ragged_row') return false;
    return fieldsFor(ds, k).length > 0;
  });
}

export function badRng(seed: number, dataset: string, pos: number): Rng {
  return createRng(seed, `bad:${dataset}:${pos}`);
}

/**
 * Plans `count` bad rows at distinct positions drawn by `pick` (which returns a fresh position or null when it
 * gives up). With CSV, the last planned row is an unterminated quote at `lastPos` (always the file's last line).
 */
export function planBadRows(args: {
  seed: number;
  ds: DatasetSchema;
  format: DataFormat;
  count: number;
  pick: (rng: Rng) => number | null;
  lastPos: number | null;
}): BadPlan[] {
  const { seed, ds, format } = args;
  const kinds = applicableKinds(ds, format);
  if (args.count <= 0 || kinds.length === 0) return [];
  const rng = createRng(seed, `badplan:${ds.name}`);
  rng.shuffle(kinds);
  const plans: BadPlan[] = [];
  const taken = new Set<number>();
  const wantQuote = format === 'csv' && args.lastPos !== null && fieldsFor(ds, 'unterminated_quote').length > 0;
  if (wantQuote) taken.add(args.lastPos as number);
  const n = wantQuote ? args.count - 1 : args.count;
  for (let i = 0; i < n; i++) {
    let pos: number | null = null;
    for (let tries = 0; tries < 50 && pos === null; tries++) {
      const p = args.pick(rng);
      if (p !== null && !taken.has(p)) pos = p;
    }
    if (pos === null) break;
    taken.add(pos);
    const kind = kinds[i % kinds.length] as BadRowKind;
    const fields = fieldsFor(ds, kind);
    const field = kind === 'ragged_row' ? null : rng.pick(fields);
    plans.push({ pos, kind, field });
  }
  if (wantQuote) plans.push({ pos: args.lastPos as number, kind: 'unterminated_quote', field: rng.pick(fieldsFor(ds, 'unterminated_quote')) });
  plans.sort((a, b) => a.pos - b.pos);
  return plans;
}

const WRONG_NUMBERS = ['n/a', 'high', 'twelve', '12.5.1', '?', 'none'];
const WRONG_BOOLEANS = ['maybe', 'n/a', 'unknown'];

function badTimestamp(good: string, rng: Rng, isDate: boolean): string {
  const y = good.slice(0, 4);
  const mo = good.slice(5, 7);
  const d = good.slice(8, 10);
  const variants = isDate
    ? [`${y}-13-${d}`, `${y}-${mo}-32`, `${d}/${mo}/${y}`]
    : [`${y}-13-${d}${good.slice(10)}`, `${good.slice(0, 11)}25${good.slice(13)}`, `${d}/${mo}/${y} ${good.slice(11, 16)}`];
  return rng.pick(variants);
}

function badEnum(values: unknown[], good: unknown, rng: Rng): string {
  const base = typeof good === 'string' && good !== '' ? good : String(values.find((v) => v !== '') ?? 'x');
  const options = [base.toUpperCase(), `${base}-x`, `other_${base}`, 'n/a'].filter((v) => v !== '' && !values.includes(v));
  return rng.pick(options);
}

/**
 * Corrupts a good row for one plan. `context.duplicateOf` is the key an earlier good row already holds;
 * `context.orphanSerial` numbers orphan keys so they stay unique.
 */
export function corruptRow(ds: DatasetSchema, good: Row, plan: BadPlan, rng: Rng, context: { duplicateOf?: string }): Corrupted {
  const row: Row = { ...good };
  const f = plan.field;
  let keyword: string;
  let fault: LineFault | undefined;
  switch (plan.kind) {
    case 'wrong_type': {
      keyword = 'type';
      row[f as string] = ds.columnTypes[f as string]?.type === 'boolean' ? rng.pick(WRONG_BOOLEANS) : rng.pick(WRONG_NUMBERS);
      break;
    }
    case 'out_of_range': {
      const p = prop(ds, f as string);
      const max = typeof p.maximum === 'number' ? p.maximum : undefined;
      const min = typeof p.minimum === 'number' ? p.minimum : undefined;
      const goHigh = max !== undefined && (min === undefined || rng.chance(0.5));
      if (goHigh) {
        keyword = 'maximum';
        row[f as string] = Math.round((max as number) * rng.range(1.2, 2) * 10 + 10) / 10;
      } else {
        keyword = 'minimum';
        row[f as string] = Math.round(((min as number) - rng.range(0.5, 50)) * 10) / 10;
      }
      break;
    }
    case 'bad_enum':
      keyword = 'enum';
      row[f as string] = badEnum(prop(ds, f as string).enum as unknown[], good[f as string], rng);
      break;
    case 'missing_required':
      keyword = 'required';
      delete row[f as string];
      break;
    case 'bad_timestamp':
      keyword = 'format';
      row[f as string] = badTimestamp(String(good[f as string]), rng, ds.columnTypes[f as string]?.format === 'date');
      break;
    case 'duplicate_key':
      keyword = 'duplicate_key';
      row[f as string] = context.duplicateOf ?? null;
      break;
    case 'orphan_foreign_key': {
      keyword = 'orphan_foreign_key';
      const prefix = String(good[f as string] ?? 'X').split('-')[0] ?? 'X';
      row[f as string] = `${prefix}-ORPHAN-${String(rng.int(1, 999_999)).padStart(6, '0')}`;
      break;
    }
    case 'unterminated_quote':
      keyword = 'csv_unterminated_quote';
      fault = 'unterminated_quote';
      break;
    case 'ragged_row':
      keyword = 'csv_field_count';
      fault = 'ragged_row';
      break;
  }
  const pk = ds.primaryKey[0];
  const key = pk === undefined ? null : row[pk];
  return { row, fault, keyword, key: typeof key === 'string' ? key : null };
}
