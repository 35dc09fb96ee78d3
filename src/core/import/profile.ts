// Source profiles: declarative JSON files (schemas/profile.schema.json) that say how a source's CSV files map onto
// the data contracts. Shipped ones live in src/core/import/profiles/<name>.json; a user passes a path to their own.
// This module loads and checks them (schema, then what a schema cannot say: datasets, columns, metrics, time
// zones); it runs no SQL. The one LOINC code map (codes/loinc-vitals.json) is merged in here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError, UsageError } from '../../errors.js';
import { builtinSchemaDir, listDatasets, loadDatasetSchema } from '../schemas.js';
import { isRfc3339DateTime } from '../validate/formats.js';

export interface ColumnMap {
  from?: string;
  const?: string | number | boolean;
  template?: string;
  hash?: string[];
  prefix?: string;
  row_time?: { anchor: string; seconds_per_row: number };
  map?: Record<string, string | number | boolean | null>;
  scale?: number;
  format?: string;
  default?: string;
}

export interface CodeRule {
  metric?: string;
  unit?: string;
  values?: Record<string, number>;
  flag_if?: { op: '<' | '<=' | '>' | '>=' | '='; than: number };
  skip?: string;
  source?: string;
  display?: string;
}

export interface Readings {
  code: string;
  value: string;
  unit?: string;
  time: string;
  time_format?: string;
  code_maps?: 'loinc'[];
  codes?: Record<string, CodeRule>;
}

export interface ProfileTable {
  match: string;
  dataset?: string;
  skip?: string;
  csv?: { delimiter?: string; whitespace?: boolean; header?: boolean; columns?: string[] };
  missing?: string[];
  timezone?: string;
  record?: { code: string };
  only?: { column: string; values: string[]; reason: string };
  readings?: Readings;
  columns?: Record<string, ColumnMap>;
}

export interface Profile {
  name: string;
  description: string;
  source?: string;
  missing?: string[];
  timezone?: string;
  relative_time?: { anchor: string; note?: string };
  tables: ProfileTable[];
}

export interface LoadedProfile {
  profile: Profile;
  /** Absolute path of the profile file. */
  path: string;
  /** True for a profile shipped with surgctl. */
  shipped: boolean;
}

/** The folder of the shipped profiles (inside the package, next to dist/). */
export function shippedProfileDir(): string {
  return fileURLToPath(new URL('../../../src/core/import/profiles/', import.meta.url));
}

function codesDir(): string {
  return fileURLToPath(new URL('../../../src/core/import/codes/', import.meta.url));
}

/** Names of the shipped profiles, sorted. */
export function listProfiles(): string[] {
  return readdirSync(shippedProfileDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

let compiled: ReturnType<Ajv2020['compile']> | undefined;
function validator(): ReturnType<Ajv2020['compile']> {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(resolve(builtinSchemaDir(), 'profile.schema.json'), 'utf8')) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    ajv.addFormat('date-time', isRfc3339DateTime);
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** The shipped LOINC -> metric map (codes/loinc-vitals.json). */
export function loincCodes(): Record<string, CodeRule> {
  const file = resolve(codesDir(), 'loinc-vitals.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { codes: Record<string, CodeRule> }).codes;
}

/**
 * Loads a profile by shipped name ("synthea") or by path (anything with a / or ending in .json), relative to cwd.
 * Throws UsageError for an unknown name or a missing file (listing the shipped names), ConfigError (naming the file
 * and the field) for invalid JSON or a profile the schema or the contracts reject.
 */
export function loadProfile(nameOrPath: string, cwd: string = process.cwd()): LoadedProfile {
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  const path = looksLikePath ? resolve(cwd, nameOrPath) : resolve(shippedProfileDir(), `${nameOrPath}.json`);
  if (!existsSync(path)) {
    if (looksLikePath) throw new UsageError(`profile file ${nameOrPath} does not exist`, { file: nameOrPath, hint: 'check the path given to --profile' });
    throw new UsageError(`unknown profile "${nameOrPath}"`, {
      hint: `choose one of: ${listProfiles().join(', ')} (surgctl profiles), or pass --profile PATH to your own profile file`,
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read profile ${nameOrPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`profile ${path} is not valid JSON: ${(e as Error).message}`, { file: path, hint: 'fix the JSON syntax', cause: e });
  }
  const validate = validator();
  if (!validate(json)) {
    const err = validate.errors?.[0];
    const extra = (err?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    const field = [err?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? '', extra ?? ''].filter(Boolean).join('.');
    throw new ConfigError(`profile ${path}: ${field ? `"${field}" ` : ''}${err?.message ?? 'is invalid'}${extra ? ` (${extra})` : ''}`, {
      file: path,
      field: field || undefined,
      hint: 'see schemas/profile.schema.json for the profile format',
    });
  }
  const profile = json as Profile;
  checkProfile(profile, path);
  return { profile, path, shipped: !looksLikePath };
}

function fail(path: string, field: string, message: string, hint?: string): never {
  throw new ConfigError(`profile ${path}: "${field}" ${message}`, { file: path, field, hint: hint ?? 'see schemas/profile.schema.json for the profile format' });
}

/** True when `tz` is an IANA time zone name this runtime (and DuckDB's icu) knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The checks a JSON Schema cannot make: every dataset, contract column, metric and time zone named exists. */
function checkProfile(p: Profile, path: string): void {
  const datasets = listDatasets();
  if (p.timezone !== undefined && !isTimeZone(p.timezone)) fail(path, 'timezone', `is not an IANA time zone: ${p.timezone}`);
  p.tables.forEach((t, i) => {
    const at = `tables.${i}`;
    if (t.skip !== undefined) return;
    if (t.dataset === undefined) fail(path, `${at}.dataset`, 'is required unless the table has skip');
    if (t.columns === undefined) fail(path, `${at}.columns`, 'is required unless the table has skip');
    if (!datasets.includes(t.dataset)) fail(path, `${at}.dataset`, `names no dataset: ${t.dataset}`, `one of ${datasets.join(', ')}`);
    if (t.timezone !== undefined && !isTimeZone(t.timezone)) fail(path, `${at}.timezone`, `is not an IANA time zone: ${t.timezone}`);
    const ds = loadDatasetSchema(t.dataset);
    const fromReadings = t.readings ? ['metric', 'value', 'unit', ds.eventTime ?? 'measured_at'] : [];
    if (t.readings && t.dataset !== 'vitals') fail(path, `${at}.readings`, 'is for the vitals dataset only');
    for (const [col, m] of Object.entries(t.columns)) {
      if (!ds.columns.includes(col)) fail(path, `${at}.columns.${col}`, `is not a column of ${t.dataset}`, `columns: ${ds.columns.join(', ')}`);
      if (fromReadings.includes(col)) fail(path, `${at}.columns.${col}`, 'comes from readings; remove it here');
      const kinds = (['from', 'const', 'template', 'hash', 'row_time'] as const).filter((k) => m[k] !== undefined);
      if (kinds.length !== 1) fail(path, `${at}.columns.${col}`, `needs exactly one of from, const, template, hash, row_time (has ${kinds.length === 0 ? 'none' : kinds.join(', ')})`);
    }
    const missing = ds.required.filter((c) => !(c in t.columns!) && !fromReadings.includes(c));
    if (missing.length > 0) fail(path, `${at}.columns`, `lacks required ${t.dataset} column(s): ${missing.join(', ')}`);
    if (t.readings) {
      const metrics = (ds.schema.properties?.metric?.enum ?? []) as string[];
      for (const [code, rule] of Object.entries(t.readings.codes ?? {})) {
        const where = `${at}.readings.codes.${code}`;
        if (rule.skip !== undefined) continue;
        if (rule.metric === undefined) fail(path, where, 'needs a metric (or skip)');
        if (!metrics.includes(rule.metric)) fail(path, `${where}.metric`, `is not a vitals metric: ${rule.metric}`, `one of ${metrics.join(', ')}`);
      }
    }
  });
}

/** The code rules of a readings table: the shipped maps it names, then its own codes over them. */
export function codeRules(r: Readings): Record<string, CodeRule> {
  const base = (r.code_maps ?? []).includes('loinc') ? loincCodes() : {};
  return { ...base, ...(r.codes ?? {}) };
}

/** The first table whose match pattern fits the file's base name, or undefined. */
export function tableFor(profile: Profile, file: string): ProfileTable | undefined {
  return tablesFor(profile, file)[0];
}

/** Every table whose match fits the file's name, in profile order (e.g. one table per manipulator of one file). */
export function tablesFor(profile: Profile, file: string): ProfileTable[] {
  const name = basename(file);
  return profile.tables.filter((t) => globMatch(t.match, name));
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}
