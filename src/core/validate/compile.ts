// The schema compiler: the row-level JSON Schema keywords of a flat object schema become ONE set-at-a-time DuckDB
// query that returns, per failing row, a list of error structs {field, keyword, message, value, severity, rule}.
// What it does not support it says (unsupportedReasons), and the caller runs ajv instead. Values are bound params.
import type { DuckDBValue } from '@duckdb/node-api';
import type { JsonSchema } from '../schemas.js';
import { dateTimeProperties, LEAP_SECOND_KEYWORD, LEAP_SECOND_MESSAGE } from './formats.js';
import { ecmaToRe2, UnsupportedPatternError } from './regex.js';

/** How a staged value is held: a CSV cell (VARCHAR, NULL when empty) or a JSON value (NDJSON, Parquet as JSON). */
export type SourceKind = 'csv' | 'json';

export const SUPPORTED_FORMATS = ['date-time', 'date', 'time', 'uuid', 'email'] as const;

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated',
  'readOnly', 'writeOnly', '$anchor']);
const PROP_KEYWORDS = new Set(['type', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'multipleOf', 'minLength', 'maxLength', 'pattern', 'format']);
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/** The JSON number grammar (RFC 8259); a CSV cell is a number only when it matches and is finite. */
export const JSON_NUMBER_RE = '-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?';

type Schema = JsonSchema | boolean;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
const isAnnotation = (k: string): boolean => ANNOTATIONS.has(k) || k.startsWith('x-');
const isScalar = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function propReasons(where: string, s: Schema, kind: SourceKind): string[] {
  if (s === true) return [];
  if (s === false) return [`${where}: false schema`];
  if (!isObj(s)) return [`${where}: not a schema object`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (isAnnotation(k)) continue;
    if (!PROP_KEYWORDS.has(k)) {
      out.push(`${where}: keyword ${k}`);
      continue;
    }
    if (k === 'type') {
      const types = Array.isArray(v) ? v : [v];
      for (const t of types) {
        if (typeof t !== 'string') out.push(`${where}: type ${JSON.stringify(t)}`);
        else if (!SCALAR_TYPES.has(t) && (kind === 'csv' || !['object', 'array'].includes(t))) out.push(`${where}: type ${t}`);
      }
    } else if (k === 'enum') {
      if (!Array.isArray(v) || !v.every(isScalar)) out.push(`${where}: enum with non-scalar values`);
    } else if (k === 'const') {
      if (!isScalar(v)) out.push(`${where}: non-scalar const`);
    } else if (k === 'format') {
      if (!(SUPPORTED_FORMATS as readonly string[]).includes(String(v))) out.push(`${where}: format ${String(v)}`);
    } else if (k === 'pattern') {
      try {
        ecmaToRe2(String(v));
      } catch (e) {
        if (e instanceof UnsupportedPatternError) out.push(`${where}: pattern ${JSON.stringify(v)} (${e.message})`);
        else throw e;
      }
    } else if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`${where}: ${k} is not a number`);
    else if ((k === 'minLength' || k === 'maxLength') && !Number.isInteger(v)) out.push(`${where}: ${k} not an integer`);
    else if (k === 'multipleOf' && v <= 0) out.push(`${where}: multipleOf <= 0`);
  }
  return out;
}

function objectPartReasons(where: string, s: Record<string, unknown>, kind: SourceKind, allowed: Set<string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (isAnnotation(k) || allowed.has(k)) continue;
    if (k === 'properties') {
      if (!isObj(v)) out.push(`${where}: properties is not an object`);
      else for (const [name, ps] of Object.entries(v)) out.push(...propReasons(`${where}.${name}`, ps as Schema, kind));
    } else if (k === 'required') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) out.push(`${where}: required is not a string list`);
    } else out.push(`${where}: keyword ${k}`);
  }
  return out;
}

/**
 * Why the compiler cannot run this schema (empty when it can). Supported: a flat object schema with properties of
 * scalar keywords, required, additionalProperties true/false, allOf entries of properties/required or
 * if(properties/required)-then/else(properties/required), x-compare, and annotations.
 */
export function unsupportedReasons(schema: Schema, kind: SourceKind): string[] {
  if (schema === true) return [];
  if (!isObj(schema)) return ['root: not an object schema'];
  const out: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    if (isAnnotation(k)) continue;
    switch (k) {
      case 'type':
        if (v !== 'object') out.push(`root: type ${JSON.stringify(v)}`);
        break;
      case 'properties':
        if (!isObj(v)) out.push('root: properties is not an object');
        else for (const [name, ps] of Object.entries(v)) out.push(...propReasons(name, ps as Schema, kind));
        break;
      case 'required':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) out.push('root: required is not a string list');
        break;
      case 'additionalProperties':
        if (typeof v !== 'boolean') out.push('root: additionalProperties is a schema');
        break;
      case 'allOf':
        if (!Array.isArray(v)) out.push('root: allOf is not a list');
        else
          v.forEach((entry, i) => {
            if (!isObj(entry)) return void out.push(`allOf[${i}]: not an object`);
            out.push(...objectPartReasons(`allOf[${i}]`, entry, kind, new Set(['if', 'then', 'else'])));
            if ('if' in entry || 'then' in entry || 'else' in entry) {
              if (!isObj(entry.if)) out.push(`allOf[${i}]: then/else without an if object`);
              for (const part of ['if', 'then', 'else'] as const) {
                const sub = entry[part];
                if (sub === undefined) continue;
                if (!isObj(sub)) out.push(`allOf[${i}].${part}: not an object`);
                else out.push(...objectPartReasons(`allOf[${i}].${part}`, sub, kind, new Set()));
              }
            }
          });
        break;
      case 'x-compare':
        break;
      default:
        out.push(`root: keyword ${k}`);
    }
  }
  return out;
}

export interface CompileSource {
  kind: SourceKind;
  /** csv: each header name and the staged column (a safe identifier) holding it, in header order. */
  columns?: { name: string; column: string }[];
  /** json: the staged column holding each row's JSON text. */
  jsonColumn?: string;
}

export interface CompiledQuery {
  /** SELECT _row, errs FROM <table>: only rows with at least one error or warning. errs is a LIST of STRUCT. */
  sql: string;
  params: Record<string, DuckDBValue>;
}

interface ValueExprs {
  present: string;
  isStr: string;
  isNum: string;
  isInt: string;
  isBool: string;
  isNull: string;
  isObj: string;
  isArr: string;
  num: string;
  str: string;
  text: string;
  /** For x-compare: a comparable SQL value. */
  raw: string;
}

class Builder {
  params: Record<string, DuckDBValue> = {};
  private n = 0;
  p(value: DuckDBValue): string {
    const name = `p${this.n++}`;
    this.params[name] = value;
    return `$${name}`;
  }
}

function typesOf(s: Schema): string[] | undefined {
  if (!isObj(s) || s.type === undefined) return undefined;
  return Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
}

/**
 * SQL for the CSV coercion of a cell: boolean, then number, else string (as allowed by the declared types).
 * `numCol` names a column precomputed once per row (see csvDerived): the cell as DOUBLE when it is a finite JSON number.
 */
function csvExprs(col: string, types: string[] | undefined, numCol: string): ValueExprs {
  const t = new Set(types ?? ['string']);
  const present = `(${col} IS NOT NULL)`;
  const numeric = t.has('number') || t.has('integer');
  const num = numeric ? numCol : `TRY_CAST(${col} AS DOUBLE)`;
  const isBool = t.has('boolean') ? `(${col} IN ('true', 'false'))` : 'false';
  const isNum = numeric ? `(${numCol} IS NOT NULL)` : 'false';
  const isStr = `(NOT (${isBool} OR ${isNum}))`;
  return {
    present,
    isStr,
    isNum,
    isInt: `(${isNum} AND ${num} = trunc(${num}))`,
    isBool,
    isNull: 'false',
    isObj: 'false',
    isArr: 'false',
    num,
    str: col,
    text: col,
    raw: col,
  };
}

/**
 * Value expressions of a JSON value `v`. `derived` names columns that already hold json_type(v), v ->> '$' and
 * TRY_CAST(v AS DOUBLE), computed once per row (see compileChecks): the checks then refer to them instead of
 * repeating the calls, which keeps the statement's expression tree small (planning a contract with if/then rules cost
 * hundreds of milliseconds per load otherwise, however few the rows).
 */
function jsonExprs(v: string, derived?: { type: string; str: string; num: string }): ValueExprs {
  const jt = derived?.type ?? `json_type(${v})`;
  const num = derived?.num ?? `TRY_CAST(${v} AS DOUBLE)`;
  const isNum = `(${jt} IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT') AND isfinite(${num}))`;
  const isStr = `(${jt} = 'VARCHAR')`;
  const str = derived?.str ?? `(${v} ->> '$')`;
  return {
    present: `(${v} IS NOT NULL)`,
    isStr,
    isNum,
    isInt: `(${isNum} AND (${jt} IN ('BIGINT', 'UBIGINT', 'HUGEINT') OR ${num} = trunc(${num})))`,
    isBool: `(${jt} = 'BOOLEAN')`,
    isNull: `(${jt} = 'NULL')`,
    isObj: `(${jt} = 'OBJECT')`,
    isArr: `(${jt} = 'ARRAY')`,
    num,
    str,
    text: `CASE WHEN ${isStr} THEN ${str} ELSE CAST(${v} AS VARCHAR) END`,
    raw: `CASE WHEN ${isStr} THEN ${str} ELSE CAST(${v} AS VARCHAR) END`,
  };
}

function fmtNum(n: number): string {
  return String(n);
}

interface Ctx {
  b: Builder;
  /** Value expressions of a property by name (absent columns give present = false). */
  value(name: string): ValueExprs;
  /** Guard that the row is an object (json kind) so object keywords apply. */
  rowIsObject: string;
}

interface Check {
  cond: string;
  field: string | null;
  keyword: string;
  message: string;
  valueSql: string;
}

const ABSENT: ValueExprs = {
  present: 'false', isStr: 'false', isNum: 'false', isInt: 'false', isBool: 'false', isNull: 'false', isObj: 'false',
  isArr: 'false', num: 'NULL', str: 'NULL', text: 'NULL', raw: 'NULL',
};

function eqScalar(ctx: Ctx, v: ValueExprs, c: unknown): string {
  if (c === null) return v.isNull;
  if (typeof c === 'boolean') return `(${v.isBool} AND lower(CAST(${v.raw} AS VARCHAR)) = ${ctx.b.p(String(c))})`;
  if (typeof c === 'number') return `(${v.isNum} AND ${v.num} = ${ctx.b.p(c)})`;
  return `(${v.isStr} AND ${v.str} = ${ctx.b.p(String(c))})`;
}

const FORMAT_MACRO: Record<string, string> = {
  'date-time': 'surgctl_is_date_time',
  date: 'surgctl_is_date',
  time: 'surgctl_is_time',
  uuid: 'surgctl_is_uuid',
  email: 'surgctl_is_email',
};

/** The error conditions of one property schema (each true when the value fails that keyword). */
function propertyChecks(ctx: Ctx, field: string, s: Schema): Check[] {
  if (!isObj(s)) return [];
  const v = ctx.value(field);
  const out: Check[] = [];
  const add = (keyword: string, cond: string, message: string): void => {
    out.push({ cond: `(${v.present} AND ${cond})`, field, keyword, message, valueSql: v.text });
  };
  const types = typesOf(s);
  if (types) {
    const ok = types.map((t) =>
      t === 'string' ? v.isStr : t === 'number' ? v.isNum : t === 'integer' ? v.isInt : t === 'boolean' ? v.isBool
        : t === 'null' ? v.isNull : t === 'object' ? v.isObj : v.isArr,
    );
    add('type', `NOT (${ok.join(' OR ')})`, `must be ${types.join(',')}`);
  }
  if (Array.isArray(s.enum)) {
    const strings = s.enum.filter((c): c is string => typeof c === 'string');
    const others = s.enum.filter((c) => typeof c !== 'string').map((c) => eqScalar(ctx, v, c));
    // Strings as one IN list (a hash probe), the rest one by one.
    const any = [...(strings.length ? [`(${v.isStr} AND ${v.str} IN (${strings.map((c) => ctx.b.p(c)).join(', ')}))`] : []), ...others];
    add('enum', any.length ? `NOT (${any.join(' OR ')})` : 'true', 'must be equal to one of the allowed values');
  }
  if ('const' in s) add('const', `NOT ${eqScalar(ctx, v, s.const)}`, 'must be equal to constant');
  const bound = (kw: string, op: string, text: string): void => {
    const lim = s[kw];
    if (typeof lim === 'number') add(kw, `(${v.isNum} AND ${v.num} ${op} ${ctx.b.p(lim)})`, `must be ${text} ${fmtNum(lim)}`);
  };
  bound('minimum', '<', '>=');
  bound('maximum', '>', '<=');
  bound('exclusiveMinimum', '<=', '>');
  bound('exclusiveMaximum', '>=', '<');
  if (typeof s.multipleOf === 'number') {
    const m = ctx.b.p(s.multipleOf);
    // ajv's test: (x / m) !== parseInt(x / m); parseInt misreads quotients printed in exponent form (>= 1e21).
    add('multipleOf', `(${v.isNum} AND (abs(${v.num} / ${m}) >= 1e21 OR ${v.num} / ${m} <> trunc(${v.num} / ${m})))`,
      `must be multiple of ${fmtNum(s.multipleOf)}`);
  }
  if (typeof s.minLength === 'number') {
    add('minLength', `(${v.isStr} AND length(${v.str}) < ${ctx.b.p(s.minLength)})`, `must NOT have fewer than ${s.minLength} characters`);
  }
  if (typeof s.maxLength === 'number') {
    add('maxLength', `(${v.isStr} AND length(${v.str}) > ${ctx.b.p(s.maxLength)})`, `must NOT have more than ${s.maxLength} characters`);
  }
  if (typeof s.pattern === 'string') {
    add('pattern', `(${v.isStr} AND NOT regexp_matches(${v.str}, ${ctx.b.p(ecmaToRe2(s.pattern))}))`, `must match pattern "${s.pattern}"`);
  }
  if (typeof s.format === 'string' && FORMAT_MACRO[s.format]) {
    add('format', `(${v.isStr} AND NOT ${FORMAT_MACRO[s.format]}(${v.str}))`, `must match format "${s.format}"`);
  }
  return out;
}

function partChecks(ctx: Ctx, part: Record<string, unknown>): Check[] {
  const out: Check[] = [];
  for (const name of (part.required as string[] | undefined) ?? []) {
    out.push({
      cond: `(${ctx.rowIsObject} AND NOT ${ctx.value(name).present})`,
      field: name,
      keyword: 'required',
      message: `must have required property '${name}'`,
      valueSql: 'NULL',
    });
  }
  if (isObj(part.properties)) {
    for (const [name, ps] of Object.entries(part.properties)) out.push(...propertyChecks(ctx, name, ps as Schema));
  }
  return out;
}

const COMPARE_OPS = new Set(['>=', '>', '<=', '<', '==', '!=']);

export interface CompareRule {
  field: string;
  op: string;
  other: string;
  message?: string;
}

/** Reads and checks a schema's x-compare list. Returns the rules; throws Error with a reason when malformed. */
export function compareRules(schema: Schema): CompareRule[] {
  if (!isObj(schema) || schema['x-compare'] === undefined) return [];
  const list = schema['x-compare'];
  if (!Array.isArray(list)) throw new Error('x-compare must be a list');
  return list.map((r, i) => {
    if (!isObj(r) || typeof r.field !== 'string' || typeof r.other !== 'string' || typeof r.op !== 'string' || !COMPARE_OPS.has(r.op)) {
      throw new Error(`x-compare[${i}] needs field, other and op (one of ${[...COMPARE_OPS].join(' ')})`);
    }
    return { field: r.field, op: r.op, other: r.other, ...(typeof r.message === 'string' ? { message: r.message } : {}) };
  });
}

/**
 * Compiles `schema` into one query over `table` (which has a BIGINT `_row` column). Call only when
 * unsupportedReasons(schema, kind) is empty.
 */
export function compileChecks(schema: Schema, table: string, source: CompileSource): CompiledQuery {
  const b = new Builder();
  const root = isObj(schema) ? schema : {};
  const props = isObj(root.properties) ? (root.properties as Record<string, Schema>) : {};
  const values = new Map<string, ValueExprs>();
  let from = table;
  let rowIsObject = 'true';
  if (source.kind === 'csv') {
    // Parse each numeric cell once per row (regex + cast), not once per keyword.
    const derived: string[] = [];
    (source.columns ?? []).forEach(({ name, column }, i) => {
      const types = typesOf(props[name] ?? true);
      if (types?.includes('number') || types?.includes('integer')) {
        derived.push(`CASE WHEN regexp_full_match(${column}, '${JSON_NUMBER_RE}') AND isfinite(TRY_CAST(${column} AS DOUBLE))
          THEN TRY_CAST(${column} AS DOUBLE) END AS _n${i}`);
      }
      values.set(name, csvExprs(column, types, `_n${i}`));
    });
    if (derived.length) from = `(SELECT *, ${derived.join(', ')} FROM ${table})`;
  } else if (source.columns) {
    // Typed sources (Parquet): one JSON value per column, SQL NULL when absent.
    for (const { name, column } of source.columns) values.set(name, jsonExprs(column));
  } else {
    // One JSON parse per row: extract every named property at once into a list, by JSON pointer.
    const j = source.jsonColumn ?? '_json';
    const names = new Set<string>([...Object.keys(props), ...((root.required as string[] | undefined) ?? [])]);
    const walk = (part: unknown): void => {
      if (!isObj(part)) return;
      for (const n of Object.keys(isObj(part.properties) ? part.properties : {})) names.add(n);
      for (const n of (part.required as string[] | undefined) ?? []) names.add(n);
      for (const k of ['if', 'then', 'else']) walk(part[k]);
    };
    for (const e of (root.allOf as unknown[] | undefined) ?? []) walk(e);
    for (const r of compareRules(schema)) names.add(r.field).add(r.other);
    const list = [...names];
    const pointers = list.map((n) => `/${n.replaceAll('~', '~0').replaceAll('/', '~1')}`);
    const extract = list.length ? `json_extract(${j}, CAST(CAST(${b.p(JSON.stringify(pointers))} AS JSON) AS VARCHAR[]))` : '[]::JSON[]';
    const per = list.map((_, i) => `json_type(_v[${i + 1}]) AS _t${i}, (_v[${i + 1}] ->> '$') AS _s${i}, TRY_CAST(_v[${i + 1}] AS DOUBLE) AS _d${i}`);
    from = `(SELECT *, json_type(_j) AS _jt${per.map((d) => `, ${d}`).join('')} FROM (SELECT _row, ${j} AS _j, ${extract} AS _v FROM ${table}))`;
    list.forEach((n, i) => values.set(n, jsonExprs(`_v[${i + 1}]`, { type: `_t${i}`, str: `_s${i}`, num: `_d${i}` })));
    rowIsObject = `(_jt = 'OBJECT')`;
  }
  const ctx: Ctx = { b, value: (n) => values.get(n) ?? ABSENT, rowIsObject };

  const entries: { check: Check; severity: 'error' | 'warn'; rule: string | null }[] = [];
  const push = (checks: Check[], severity: 'error' | 'warn', rule: string | null, guard?: string): void => {
    for (const c of checks) entries.push({ check: guard ? { ...c, cond: `(${guard} AND ${c.cond})` } : c, severity, rule });
  };
  if (source.kind === 'json' && !source.columns && root.type === 'object') {
    entries.push({
      check: { cond: `NOT ${rowIsObject}`, field: null, keyword: 'type', message: 'must be object', valueSql: 'CAST(_j AS VARCHAR)' },
      severity: 'error',
      rule: null,
    });
  }
  push(partChecks(ctx, root), 'error', null);
  // A valid leap second: a warning (load stores it as 23:59:59.999999 of its minute), as the ajv engine reports it.
  for (const name of dateTimeProperties(root)) {
    const v = ctx.value(name);
    entries.push({
      check: { cond: `(${v.present} AND ${v.isStr} AND surgctl_is_leap_second(${v.str}))`, field: name, keyword: LEAP_SECOND_KEYWORD,
        message: LEAP_SECOND_MESSAGE, valueSql: v.text },
      severity: 'warn',
      rule: null,
    });
  }
  // Unknown columns / keys.
  let extraList = '';
  if (root.additionalProperties === false) {
    if (source.columns) {
      for (const { name } of source.columns) {
        if (Object.hasOwn(props, name)) continue;
        const v = ctx.value(name);
        entries.push({
          check: { cond: v.present, field: name, keyword: 'additionalProperties', message: 'must NOT have additional properties', valueSql: v.text },
          severity: 'error',
          rule: null,
        });
      }
    } else {
      const known = b.p(JSON.stringify(Object.keys(props)));
      extraList = `CASE WHEN ${rowIsObject} THEN list_transform(list_filter(json_keys(_j), k -> NOT list_contains(CAST(CAST(${known} AS JSON) AS VARCHAR[]), k)),
        k -> {'field': k, 'keyword': 'additionalProperties', 'message': 'must NOT have additional properties',
              'value': CASE WHEN json_type(_j -> ('/' || replace(replace(k, '~', '~0'), '/', '~1'))) = 'VARCHAR'
                            THEN _j ->> ('/' || replace(replace(k, '~', '~0'), '/', '~1'))
                            ELSE CAST(_j -> ('/' || replace(replace(k, '~', '~0'), '/', '~1')) AS VARCHAR) END,
              'severity': 'error', 'rule': NULL::VARCHAR}) ELSE [] END`;
    }
  }
  const conditions: string[] = [];
  for (const entry of (root.allOf as unknown[] | undefined) ?? []) {
    if (!isObj(entry)) continue;
    const severity = entry['x-severity'] === 'warn' ? 'warn' : 'error';
    const rule = typeof entry['x-rule'] === 'string' ? entry['x-rule'] : null;
    push(partChecks(ctx, entry), severity, rule);
    if (isObj(entry.if)) {
      const ifChecks = partChecks(ctx, entry.if);
      // Computed once per row as a column (_hN): every then / else check is guarded by it.
      let holds = 'true';
      if (ifChecks.length) {
        holds = `_h${conditions.length}`;
        conditions.push(`NOT (${ifChecks.map((c) => c.cond).join(' OR ')}) AS ${holds}`);
      }
      if (isObj(entry.then)) push(partChecks(ctx, entry.then), severity, rule, holds);
      if (isObj(entry.else)) push(partChecks(ctx, entry.else), severity, rule, `NOT (${holds})`);
    }
  }
  for (const r of compareRules(schema)) {
    const a = ctx.value(r.field);
    const o = ctx.value(r.other);
    const fa = isObj(props[r.field]) ? (props[r.field] as JsonSchema) : {};
    const typed = (v: ValueExprs): string =>
      fa.format === 'date-time'
        ? `(CASE WHEN ${v.isStr} AND surgctl_is_date_time(${v.str}) THEN surgctl_to_instant(${v.str}) END)`
        : fa.format === 'date' ? `(CASE WHEN ${v.isStr} AND surgctl_is_date(${v.str}) THEN TRY_CAST(${v.str} AS DATE) END)`
        : fa.type === 'number' || fa.type === 'integer' ? `(CASE WHEN ${v.isNum} THEN ${v.num} END)` : v.str;
    const op = r.op === '==' ? '=' : r.op === '!=' ? '<>' : r.op;
    entries.push({
      check: {
        cond: `(${a.present} AND ${o.present} AND NOT (${typed(a)} ${op} ${typed(o)}))`,
        field: r.field,
        keyword: 'x-compare',
        message: r.message ?? `${r.field} must be ${r.op} ${r.other}`,
        valueSql: a.text,
      },
      severity: 'error',
      rule: null,
    });
  }

  // Each condition is computed once per row as a boolean column; the error structs are built only for rows where
  // one holds (CASE is lazy; repeating a condition inside the list would let DuckDB hoist it for every row).
  const flags = entries.map(({ check }, i) => `coalesce(${check.cond}, false) AS _b${i}`);
  const items = entries.map(({ check, severity, rule }, i) =>
    `CASE WHEN _b${i} THEN {'field': ${check.field === null ? 'NULL::VARCHAR' : b.p(check.field)}, ` +
      `'keyword': ${b.p(check.keyword)}, 'message': ${b.p(check.message)}, 'value': CAST(${check.valueSql} AS VARCHAR), ` +
      `'severity': ${b.p(severity)}, 'rule': ${rule === null ? 'NULL::VARCHAR' : b.p(rule)}} END`,
  );
  // Filter first (WHERE on the flags), then build the lists on the few failing rows only.
  const any = entries.map((_, i) => `_b${i}`).join(' OR ');
  const listExpr = items.length ? `list_filter([${items.join(',\n  ')}], x -> x IS NOT NULL)` : '[]';
  const guarded = conditions.length ? `(SELECT *, ${conditions.join(',\n  ')} FROM ${from})` : from;
  const flagged = flags.length ? `(SELECT *, ${flags.join(',\n  ')} FROM ${guarded})` : guarded;
  const sql = extraList
    ? `SELECT _row, errs FROM (SELECT _row, list_concat(CASE WHEN ${any || 'false'} THEN ${listExpr} ELSE [] END, ${extraList}) AS errs FROM ${flagged}) WHERE len(errs) > 0`
    : `SELECT _row, ${listExpr} AS errs FROM ${flagged} WHERE ${any || 'false'}`;
  return { sql, params: b.params };
}

// Fast paths: shapes that are valid for sure (day <= 28, hour <= 23, second <= 59) match one regex; only the rest take
// the exact arithmetic. date-time and time follow RFC 3339 as formats.ts defines it (ajv gets those functions).
const FAST_DATE = '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])';
const FAST_TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([zZ]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])';

/** The SQL macros the compiled checks call (formats as ajv-formats "full" mode defines them; date-time and time as formats.ts). */
export const FORMAT_MACROS_SQL = `
CREATE OR REPLACE TEMP MACRO surgctl_days_in_month(y, m) AS
  CASE WHEN m = 2 THEN CASE WHEN y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 29 ELSE 28 END
       WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END;
CREATE OR REPLACE TEMP MACRO surgctl_is_date(s) AS
  CASE WHEN regexp_full_match(s, '${FAST_DATE}') THEN true ELSE coalesce(regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
    AND TRY_CAST(substr(s, 6, 2) AS INTEGER) BETWEEN 1 AND 12
    AND TRY_CAST(substr(s, 9, 2) AS INTEGER) BETWEEN 1
        AND surgctl_days_in_month(TRY_CAST(substr(s, 1, 4) AS INTEGER), TRY_CAST(substr(s, 6, 2) AS INTEGER)), false) END;
-- surgctl_time_ok names its argument t sixteen times: a macro repeats the argument's expression at each, so
-- surgctl_is_time passes it through a lambda (one regexp_extract per value, not sixteen to plan and run).
CREATE OR REPLACE TEMP MACRO surgctl_time_ok(t) AS
  coalesce(t.h <> '' AND TRY_CAST(t.h AS INTEGER) <= 23 AND TRY_CAST(t.mi AS INTEGER) <= 59
    AND coalesce(TRY_CAST(nullif(t.tzh, '') AS INTEGER), 0) <= 23 AND coalesce(TRY_CAST(nullif(t.tzm, '') AS INTEGER), 0) <= 59
    AND (TRY_CAST(t.sec AS INTEGER) <= 59
      OR (TRY_CAST(t.sec AS INTEGER) = 60
        AND (((TRY_CAST(t.h AS INTEGER) * 60 + TRY_CAST(t.mi AS INTEGER)
               - (CASE WHEN t.sign = '-' THEN -1 ELSE 1 END) * (coalesce(TRY_CAST(nullif(t.tzh, '') AS INTEGER), 0) * 60
                                                           + coalesce(TRY_CAST(nullif(t.tzm, '') AS INTEGER), 0))) % 1440) + 1440) % 1440 = 1439)), false);
CREATE OR REPLACE TEMP MACRO surgctl_is_time(s) AS
  CASE WHEN regexp_full_match(s, '${FAST_TIME}') THEN true ELSE coalesce(
    list_transform([regexp_extract(s, '^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\\.[0-9]+)?([zZ]|([+-])([0-9]{2}):([0-9]{2}))$',
                                   ['h', 'mi', 'sec', 'tz', 'sign', 'tzh', 'tzm'])], t -> surgctl_time_ok(t))[1], false) END;
CREATE OR REPLACE TEMP MACRO surgctl_is_date_time(s) AS
  CASE WHEN regexp_full_match(s, '${FAST_DATE}[tT ]${FAST_TIME}') THEN true ELSE coalesce(length(s) > 11
    AND substr(s, 11, 1) IN ('T', 't', ' ') AND surgctl_is_date(substr(s, 1, 10)) AND surgctl_is_time(substr(s, 12)), false) END;
CREATE OR REPLACE TEMP MACRO surgctl_is_leap_second(s) AS
  substr(s, 18, 2) = '60' AND surgctl_is_date_time(s);
CREATE OR REPLACE TEMP MACRO surgctl_to_instant(s) AS
  CASE WHEN substr(s, 11, 1) IN ('T', 't') AND substr(s, 17, 3) <> ':60' THEN TRY_CAST(upper(s) AS TIMESTAMPTZ)
    ELSE TRY_CAST(regexp_replace(upper(substr(s, 1, 10) || 'T' || substr(s, 12)), '^(.{16}):60(\\.[0-9]*)?', '\\1:59.999999') AS TIMESTAMPTZ) END;
CREATE OR REPLACE TEMP MACRO surgctl_is_uuid(s) AS
  regexp_full_match(s, '(?i)(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}');
CREATE OR REPLACE TEMP MACRO surgctl_is_email(s) AS
  regexp_full_match(s, '(?i)[a-z0-9!#$%&''*+/=?^_\`{|}~-]+(?:\\.[a-z0-9!#$%&''*+/=?^_\`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?');
`;
