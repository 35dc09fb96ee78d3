// The data contracts: loads the JSON Schemas in schemas/, reads their x- keywords (primary key, foreign keys,
// event time, units) and orders datasets so that referenced ones come first.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, toIoError, UsageError } from '../errors.js';

export interface ForeignKey {
  columns: string[];
  references: { dataset: string; columns: string[] };
}

/** A JSON Schema object as parsed; only the parts surgctl reads are typed. */
export interface JsonSchema {
  $id?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  [keyword: string]: unknown;
}

export interface DatasetSchema {
  /** Dataset name, e.g. "telemetry". */
  name: string;
  /** Where the schema was read from. */
  path: string;
  schema: JsonSchema;
  /** Declared columns in schema order. */
  columns: string[];
  required: string[];
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  eventTime: string | undefined;
  /** JSON type of each column ("string", "number", "integer", "boolean"), and its format when it has one. */
  columnTypes: Record<string, { type: string; format?: string | undefined; unit?: string | undefined }>;
}

/** The schemas/ folder shipped with the package. */
export function builtinSchemaDir(): string {
  return fileURLToPath(new URL('../../schemas/', import.meta.url));
}

const SUFFIX = '.schema.json';

/** Built-in dataset names, in dependency order (referenced datasets first). */
export function listDatasets(): string[] {
  const names = readdirSync(builtinSchemaDir())
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .filter((n) => isDatasetSchemaFile(resolve(builtinSchemaDir(), n + SUFFIX)));
  return orderByDependencies(names.map((n) => loadDatasetSchema(n))).map((d) => d.name);
}

function isDatasetSchemaFile(path: string): boolean {
  try {
    return typeof (JSON.parse(readFileSync(path, 'utf8')) as JsonSchema)['x-dataset'] === 'string';
  } catch {
    return false;
  }
}

const cache = new Map<string, DatasetSchema>();

/**
 * Loads a dataset schema by built-in name ("telemetry") or by path to a .json file.
 * Throws UsageError for an unknown name (listing the choices), ConfigError for an unreadable or malformed schema.
 */
export function loadDatasetSchema(nameOrPath: string): DatasetSchema {
  const hit = cache.get(nameOrPath);
  if (hit) return hit;
  const looksLikePath = nameOrPath.endsWith('.json') || nameOrPath.includes('/');
  const path = looksLikePath ? resolve(nameOrPath) : resolve(builtinSchemaDir(), nameOrPath + SUFFIX);
  if (!existsSync(path)) {
    if (looksLikePath) throw new UsageError(`schema file ${nameOrPath} does not exist`, { file: nameOrPath });
    const choices = readdirSync(builtinSchemaDir())
      .filter((f) => f.endsWith(SUFFIX) && isDatasetSchemaFile(resolve(builtinSchemaDir(), f)))
      .map((f) => f.slice(0, -SUFFIX.length));
    throw new UsageError(`unknown dataset "${nameOrPath}"`, {
      hint: `choose one of: ${choices.join(', ')}, or pass --schema PATH to a JSON Schema file`,
    });
  }
  let schema: JsonSchema;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    // A directory or a file without permission: say which, not "not valid JSON".
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new UsageError(`schema ${nameOrPath} is a directory, not a file`, { file: nameOrPath, hint: 'pass a dataset name or the path of a .schema.json file' });
    }
    throw toIoError(path, e, 'read schema');
  }
  try {
    schema = JSON.parse(text) as JsonSchema;
  } catch (e) {
    throw new ConfigError(`schema ${path} is not valid JSON: ${(e as Error).message}`, { file: path, cause: e });
  }
  const ds = describeSchema(schema, path);
  cache.set(nameOrPath, ds);
  return ds;
}

/** Reads the surgctl x- keywords of a parsed schema. Throws ConfigError when they are malformed. */
export function describeSchema(schema: JsonSchema, path: string): DatasetSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new ConfigError(`schema ${path} is not a JSON object`, { file: path });
  }
  const properties = schema.properties ?? {};
  const columns = Object.keys(properties);
  const name = typeof schema['x-dataset'] === 'string' ? schema['x-dataset'] : basename(path).replace(/\.schema\.json$|\.json$/, '');
  const primaryKey = (schema['x-primary-key'] as string[] | undefined) ?? [];
  const foreignKeys = (schema['x-foreign-keys'] as ForeignKey[] | undefined) ?? [];
  const eventTime = (schema['x-event-time'] as string | null | undefined) ?? undefined;
  for (const col of [...primaryKey, ...foreignKeys.flatMap((f) => f.columns), ...(eventTime ? [eventTime] : [])]) {
    if (!columns.includes(col)) {
      throw new ConfigError(`schema ${path} names column "${col}" in an x- keyword but does not declare it`, {
        file: path,
        field: col,
        hint: 'add the column to "properties" or fix the x-primary-key / x-foreign-keys / x-event-time entry',
      });
    }
  }
  const columnTypes: DatasetSchema['columnTypes'] = {};
  for (const [col, prop] of Object.entries(properties)) {
    const t = Array.isArray(prop.type) ? prop.type.find((x) => x !== 'null') : prop.type;
    columnTypes[col] = {
      type: typeof t === 'string' ? t : 'string',
      format: typeof prop.format === 'string' ? prop.format : undefined,
      unit: typeof prop['x-unit'] === 'string' ? (prop['x-unit'] as string) : undefined,
    };
  }
  return {
    name,
    path,
    schema,
    columns,
    required: schema.required ?? [],
    primaryKey,
    foreignKeys,
    eventTime,
    columnTypes,
  };
}

/** Orders datasets so that every dataset comes after those its foreign keys reference; stable by name otherwise. */
export function orderByDependencies<T extends Pick<DatasetSchema, 'name' | 'foreignKeys'>>(datasets: T[]): T[] {
  const byName = new Map(datasets.map((d) => [d.name, d]));
  const out: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: T): void => {
    if (state.get(d.name) === 'done') return;
    if (state.get(d.name) === 'visiting') throw new ConfigError(`foreign keys form a cycle through ${d.name}`);
    state.set(d.name, 'visiting');
    for (const fk of d.foreignKeys) {
      const dep = byName.get(fk.references.dataset);
      if (dep && dep !== d) visit(dep);
    }
    state.set(d.name, 'done');
    out.push(d);
  };
  for (const d of [...datasets].sort((a, b) => a.name.localeCompare(b.name))) visit(d);
  return out;
}

/** Infers the dataset from a file name: "telemetry.csv", "telemetry-0001.ndjson.gz", "2026_vitals.parquet". */
export function inferDataset(file: string, datasets: string[] = listDatasets()): string | undefined {
  const base = basename(file).toLowerCase().replace(/(\.gz)?$/, '').replace(/\.(csv|tsv|ndjson|jsonl|json|parquet)$/, '');
  if (datasets.includes(base)) return base;
  const tokens = base.split(/[^a-z0-9]+/);
  const hits = datasets.filter((d) => tokens.includes(d));
  return hits.length === 1 ? hits[0] : undefined;
}

/** The DuckDB type a schema column is stored as. Instants are TIMESTAMPTZ (UTC), dates DATE. */
export function duckType(col: DatasetSchema['columnTypes'][string]): string {
  if (col.type === 'string' && col.format === 'date-time') return 'TIMESTAMPTZ';
  if (col.type === 'string' && col.format === 'date') return 'DATE';
  if (col.type === 'string' && col.format === 'time') return 'VARCHAR';
  switch (col.type) {
    case 'integer':
      return 'BIGINT';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'VARCHAR';
  }
}
