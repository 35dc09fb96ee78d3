// Model discovery: reads models/*.sql (one SELECT each, with a `-- key: value` header), parses the header
// (depends-on, grain, materialized, partition, test), orders models by dependency and resolves --select.
// Files starting with "_" are runtime helpers (macros), not models.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, UsageError } from '../../errors.js';

export type PartitionKind = 'procedure' | 'patient' | 'patient_hour';

export interface Partition {
  kind: PartitionKind;
  /** The model's columns that hold the partition key: [procedure_id] | [patient_id] | [patient_id, instant]. */
  columns: string[];
}

export type ModelTest =
  | { kind: 'unique'; name: string; columns: string[] }
  | { kind: 'not_null'; name: string; column: string }
  | { kind: 'range'; name: string; column: string; min: number | null; max: number | null }
  | { kind: 'accepted_values'; name: string; column: string; values: string[] }
  | { kind: 'expect'; name: string; expression: string };

export interface Model {
  name: string;
  file: string;
  /** The SELECT (header included as comments). */
  sql: string;
  dependsOn: string[];
  grain: string;
  /** Grain columns: unique and not null together. */
  key: string[];
  materialized: 'table' | 'view';
  /** How an incremental run recomputes it; null: rebuilt in full every run. */
  partition: Partition | null;
  /**
   * Whether a full build of a procedure- or patient-partitioned model runs in batches of that partition (header
   * `-- batched: false` turns it off: a model whose memory does not grow with the rows it reads, a filter or a
   * grouping into a few rows per procedure, costs a scan and a statement per batch for nothing). Default true.
   */
  batched: boolean;
  tests: ModelTest[];
}

/** The shipped models folder, resolved from the repo root so it works from src (vitest) and dist (bin). */
export function defaultModelsDir(): string {
  return fileURLToPath(new URL('../../../src/core/transform/models/', import.meta.url));
}

const HEADER = /^--\s*([a-z-]+):\s*(.*)$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function splitArgs(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function parseTest(file: string, line: number, spec: string): ModelTest[] {
  const m = /^([a-z_]+)\((.*)\)\s*$/s.exec(spec.trim());
  const bad = (why: string): never => {
    throw new ConfigError(`model ${file}:${line}: bad test "${spec}": ${why}`, {
      file,
      line,
      hint: 'tests are not_null(col, ...), range(col, min|*, max|*), accepted_values(col, v1, v2, ...), expect(SQL boolean)',
    });
  };
  if (!m) return bad('expected kind(arguments)');
  const kind = m[1] as string;
  const body = m[2] as string;
  if (kind === 'expect') return [{ kind: 'expect', name: `expect(${body.trim()})`, expression: body.trim() }];
  const args = splitArgs(body);
  const col = args[0];
  if (col === undefined || !IDENT.test(col)) return bad('the first argument must be a column name');
  switch (kind) {
    case 'not_null':
      return args.map((c) => {
        if (!IDENT.test(c)) bad(`"${c}" is not a column name`);
        return { kind: 'not_null', name: `not_null(${c})`, column: c } as const;
      });
    case 'range': {
      if (args.length !== 3) return bad('range needs (column, min, max); use * for no bound');
      const num = (s: string): number | null => {
        if (s === '*') return null;
        const n = Number(s);
        return Number.isFinite(n) ? n : bad(`"${s}" is not a number`);
      };
      return [{ kind: 'range', name: `range(${args.join(', ')})`, column: col, min: num(args[1] as string), max: num(args[2] as string) }];
    }
    case 'accepted_values':
      if (args.length < 2) return bad('accepted_values needs a column and at least one value');
      return [{ kind: 'accepted_values', name: `accepted_values(${col})`, column: col, values: args.slice(1) }];
    default:
      return bad(`unknown test kind "${kind}"`);
  }
}

/** Parses one model file. Throws ConfigError naming the file and line for a malformed header. */
export function parseModel(file: string, text: string): Model {
  const name = file.replace(/^.*\//, '').replace(/\.sql$/, '');
  if (!IDENT.test(name)) throw new ConfigError(`model file name ${file} is not a plain SQL name`, { file });
  const lines = text.split('\n');
  let dependsOn: string[] | undefined;
  let grain: string | undefined;
  let materialized: Model['materialized'] = 'table';
  let partition: Partition | null = null;
  let batched = true;
  const tests: ModelTest[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === '') continue;
    if (!raw.startsWith('--')) break;
    const h = HEADER.exec(raw);
    if (!h) continue;
    const key = h[1] as string;
    const value = (h[2] as string).trim();
    const line = i + 1;
    switch (key) {
      case 'depends-on':
        dependsOn = splitArgs(value);
        break;
      case 'grain':
        grain = value;
        break;
      case 'materialized':
        if (value !== 'table' && value !== 'view') {
          throw new ConfigError(`model ${file}:${line}: materialized must be table or view, got "${value}"`, { file, line });
        }
        materialized = value;
        break;
      case 'partition': {
        const p = /^(procedure|patient_hour|patient)\(([^)]*)\)$/.exec(value);
        const cols = p ? splitArgs(p[2] as string) : [];
        const want = p?.[1] === 'patient_hour' ? 2 : 1;
        if (!p || cols.length !== want || !cols.every((c) => IDENT.test(c))) {
          throw new ConfigError(`model ${file}:${line}: bad partition "${value}"`, {
            file,
            line,
            hint: 'use procedure(col), patient(col) or patient_hour(patient_col, instant_col)',
          });
        }
        partition = { kind: p[1] as PartitionKind, columns: cols };
        break;
      }
      case 'batched': {
        // true or false, optionally followed by the reason in words.
        const flag = /^(true|false)(?:\s|$)/.exec(value)?.[1];
        if (flag === undefined) {
          throw new ConfigError(`model ${file}:${line}: batched must be true or false, got "${value}"`, { file, line });
        }
        batched = flag === 'true';
        break;
      }
      case 'test':
        tests.push(...parseTest(file, line, value));
        break;
      default:
        break;
    }
  }
  if (dependsOn === undefined) {
    throw new ConfigError(`model ${file} has no "-- depends-on:" header line`, { file, line: 1, hint: 'start the file with -- depends-on: a, b (empty for none)' });
  }
  if (grain === undefined) {
    throw new ConfigError(`model ${file} has no "-- grain:" header line`, { file, line: 1, hint: 'say what one row is: -- grain: one row per (col, ...)' });
  }
  const g = /one row per \(([^)]+)\)/.exec(grain);
  const key = g ? splitArgs(g[1] as string) : [];
  if (key.length === 0 || !key.every((c) => IDENT.test(c))) {
    throw new ConfigError(`model ${file}: grain "${grain}" must name its key columns as "one row per (col, ...)"`, { file });
  }
  const body = lines.filter((l) => !l.trim().startsWith('--')).join('\n').trim();
  const code = body.replace(/'(?:[^']|'')*'/g, "''").replace(/;\s*$/, '');
  if (!/^(SELECT|WITH)\b/i.test(body) || code.includes(';')) {
    throw new ConfigError(`model ${file} must hold exactly one SELECT (or WITH ... SELECT) statement`, { file });
  }
  const keyTests: ModelTest[] = materialized === 'table'
    ? [{ kind: 'unique', name: `unique(${key.join(', ')})`, columns: key }, ...key.map((c) => ({ kind: 'not_null', name: `not_null(${c})`, column: c }) as ModelTest)]
    : [];
  return {
    name,
    file,
    sql: text.trim().replace(/;\s*$/, ''),
    dependsOn,
    grain,
    key,
    materialized,
    partition,
    batched,
    tests: materialized === 'table' ? [...keyTests, ...tests.filter((t) => !keyTests.some((k) => k.name === t.name))] : [],
  };
}

export interface ModelSet {
  dir: string;
  /** In dependency order (ties by name). */
  models: Model[];
  /** The runtime helpers (_*.sql), in file-name order. */
  helpers: { file: string; sql: string }[];
  /** sha256 over every file: a change forces a full rebuild. */
  sha256: string;
}

/** Reads and orders the models in `dir`. Throws ConfigError for unknown dependencies or a cycle. */
export function loadModels(dir: string = defaultModelsDir()): ModelSet {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  } catch (e) {
    throw new ConfigError(`cannot read the models folder ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
  }
  const hash = createHash('sha256');
  const models: Model[] = [];
  const helpers: { file: string; sql: string }[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8');
    hash.update(f).update('\0').update(text).update('\0');
    if (f.startsWith('_')) helpers.push({ file: path, sql: text });
    else models.push(parseModel(path, text));
  }
  return { dir, models: orderModels(models), helpers, sha256: hash.digest('hex') };
}

/** Topological order (dependencies first), ties broken by name so the order is stable. */
export function orderModels(models: Model[]): Model[] {
  const byName = new Map(models.map((m) => [m.name, m]));
  for (const m of models) {
    for (const d of m.dependsOn) {
      if (!byName.has(d)) {
        throw new ConfigError(`model ${m.name} depends on "${d}", which is not a model`, {
          file: m.file,
          hint: `models are: ${[...byName.keys()].sort().join(', ')}; raw_* and rules_* tables are sources, not dependencies`,
        });
      }
    }
  }
  const out: Model[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (m: Model, path: string[]): void => {
    if (state.get(m.name) === 'done') return;
    if (state.get(m.name) === 'visiting') {
      throw new ConfigError(`models depend on each other in a cycle: ${[...path, m.name].join(' -> ')}`, { file: m.file });
    }
    state.set(m.name, 'visiting');
    for (const d of [...m.dependsOn].sort()) visit(byName.get(d) as Model, [...path, m.name]);
    state.set(m.name, 'done');
    out.push(m);
  };
  for (const m of [...models].sort((a, b) => a.name.localeCompare(b.name))) visit(m, []);
  return out;
}

/**
 * Resolves --select: comma-separated names; "NAME+" adds every model downstream of NAME. Returns the chosen models
 * in run order. Throws UsageError for an unknown name.
 */
export function selectModels(models: Model[], selectors: string[]): Model[] {
  const names = new Set(models.map((m) => m.name));
  const chosen = new Set<string>();
  for (const raw of selectors.flatMap((s) => splitArgs(s))) {
    const plus = raw.endsWith('+');
    const name = plus ? raw.slice(0, -1) : raw;
    if (!names.has(name)) {
      throw new UsageError(`--select: unknown model "${name}"`, { hint: `models are: ${[...names].sort().join(', ')}` });
    }
    chosen.add(name);
    if (plus) for (const d of downstreamOf(models, name)) chosen.add(d);
  }
  return models.filter((m) => chosen.has(m.name));
}

/** Every model that depends, directly or not, on `name`. */
export function downstreamOf(models: Model[], name: string): Set<string> {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const m of models) {
      if (!out.has(m.name) && m.dependsOn.some((d) => d === name || out.has(d))) {
        out.add(m.name);
        grew = true;
      }
    }
  }
  return out;
}
