// The reference engine: ajv (JSON Schema 2020-12, ajv-formats, allErrors) with surgctl's x- keywords registered,
// x-compare really checked. Also the CSV cell coercion both engines share (coerceCsvCell), and the mapping of ajv
// errors to surgctl's {field, keyword, message, value, severity, rule}.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { JsonSchema } from '../schemas.js';
import { compareRules } from './compile.js';
import { instantMicros, isRfc3339DateTime, isRfc3339Time } from './formats.js';
import { RE2 } from 're2-wasm';
import { ecmaToRe2, UnsupportedPatternError } from './regex.js';

// ajv-formats is CommonJS with `export default`; under NodeNext the callable sits on .default at type level.
const addFormats = addFormatsImport as unknown as (ajv: Ajv2020) => Ajv2020;

export interface RowError {
  field: string | null;
  keyword: string;
  message: string;
  value: string | null;
  severity: 'error' | 'warn';
  rule: string | null;
}

const ANNOTATION_KEYWORDS = ['x-dataset', 'x-primary-key', 'x-foreign-keys', 'x-event-time', 'x-unit', 'x-rule',
  'x-severity', 'x-metric-units'];

// x-compare compares instants and dates only when both values pass their format (as the compiled SQL does).
function compareValues(a: unknown, b: unknown, format: unknown, formatOk: (f: string, v: string) => boolean): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a !== 'string' || typeof b !== 'string') return undefined;
  if (format === 'date-time' || format === 'date') {
    if (!formatOk(format, a) || !formatOk(format, b)) return undefined;
    // Instants to the microsecond, a leap second as :59.999999 (as TIMESTAMPTZ holds them in the compiled engine).
    const x = format === 'date-time' ? instantMicros(a) : BigInt(Date.parse(a));
    const y = format === 'date-time' ? instantMicros(b) : BigInt(Date.parse(b));
    return x === undefined || y === undefined ? undefined : x > y ? 1 : x < y ? -1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const OPS: Record<string, (c: number) => boolean> = {
  '>=': (c) => c >= 0, '>': (c) => c > 0, '<=': (c) => c <= 0, '<': (c) => c < 0, '==': (c) => c === 0, '!=': (c) => c !== 0,
};

/** A schema pattern RE2 cannot run (lookaround, backreferences): refused when the schema compiles. */
export class PatternNotLinearError extends Error {}

/**
 * ajv's regExp engine: Google's RE2 (WebAssembly), linear in the input, so a pattern like ^(a+)+$ cannot hang a
 * run. The ECMA-262 pattern is translated to RE2 syntax first as for DuckDB (regex.ts: \s, `.`, \u escapes), so
 * both engines read a pattern alike. Throws PatternNotLinearError for what RE2 cannot do.
 */
function re2RegExp(pattern: string): { test: (s: string) => boolean; toString: () => string } {
  let re: RE2;
  try {
    re = new RE2(ecmaToRe2(pattern), 'u');
  } catch (e) {
    const why = e instanceof UnsupportedPatternError ? e.message : e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
    throw new PatternNotLinearError(`keyword pattern ${JSON.stringify(pattern)} cannot run on a linear-time regex engine (RE2): ${why}`);
  }
  // ajv keys its compiled patterns by toString(): it must differ per pattern.
  return { test: (s: string) => re.test(s), toString: () => `re2:${pattern}` };
}
re2RegExp.code = 'surgctl-re2';

/** A configured Ajv2020: allErrors, strictNumbers (NaN and Infinity are not numbers), full formats, x- keywords,
 * patterns on RE2 (linear time). */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, strictNumbers: true, validateFormats: true, code: { regExp: re2RegExp } });
  addFormats(ajv);
  // RFC 3339 as JSON Schema reads it (formats.ts), where ajv-formats is looser: offsets need minutes, hour 24 is
  // never valid, a long fraction does not round the seconds up.
  ajv.addFormat('date-time', isRfc3339DateTime);
  ajv.addFormat('time', isRfc3339Time);
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword });
  const checkers = new Map<string, ValidateFunction>();
  const formatOk = (f: string, v: string): boolean => {
    let fn = checkers.get(f);
    if (!fn) checkers.set(f, (fn = ajv.compile({ type: 'string', format: f })));
    return fn(v) === true;
  };
  ajv.addKeyword({
    keyword: 'x-compare',
    type: 'object',
    schemaType: 'array',
    errors: true,
    validate: function xCompare(
      this: unknown,
      rules: unknown,
      data: Record<string, unknown>,
      parent?: JsonSchema,
    ): boolean {
      const self = xCompare as unknown as { errors: Partial<ErrorObject>[] | null };
      self.errors = null;
      const errors: Partial<ErrorObject>[] = [];
      for (const r of compareRules({ 'x-compare': rules } as JsonSchema)) {
        if (!Object.hasOwn(data, r.field) || !Object.hasOwn(data, r.other)) continue;
        const fieldSchema = parent?.properties?.[r.field];
        const c = compareValues(data[r.field], data[r.other], fieldSchema?.format, formatOk);
        if (c === undefined || (OPS[r.op] ?? (() => true))(c)) continue;
        errors.push({
          keyword: 'x-compare',
          instancePath: `/${r.field.replaceAll('~', '~0').replaceAll('/', '~1')}`,
          params: { field: r.field, other: r.other, op: r.op },
          message: r.message ?? `${r.field} must be ${r.op} ${r.other}`,
        });
      }
      if (errors.length) self.errors = errors;
      return errors.length === 0;
    },
  });
  return ajv;
}

// Compiling is the slow part of ajv (tens of ms per schema): cache per schema object (schemas are not mutated).
const compiled = new WeakMap<object, ValidateFunction>();
const problems = new WeakMap<object, string | null>();

/** Compiles a schema with ajv (cached per schema object); throws the ajv error (invalid schema). */
export function compileAjv(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) compiled.set(schema, (fn = createAjv().compile(schema)));
  return fn;
}

/** Meta-validates a schema against draft 2020-12 and compiles it. Returns the error text, or undefined when valid. */
export function schemaProblem(schema: JsonSchema): string | undefined {
  const hit = problems.get(schema);
  if (hit !== undefined) return hit ?? undefined;
  const ajv = createAjv();
  let problem: string | null = null;
  if (!ajv.validateSchema(schema)) problem = ajv.errorsText(ajv.errors, { dataVar: 'schema' });
  else {
    try {
      compiled.set(schema, ajv.compile(schema));
      compareRules(schema);
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
  }
  problems.set(schema, problem);
  return problem ?? undefined;
}

const NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/**
 * The JSON value a CSV cell stands for, given the column's declared types (a string when none is declared):
 * "true"/"false" become booleans where boolean is allowed, cells in the JSON number grammar that are finite become
 * numbers where number or integer is allowed, everything else stays a string. An empty cell is absent (undefined).
 */
export function coerceCsvCell(cell: string | null, types: string[] | undefined): unknown {
  if (cell === null || cell === '') return undefined;
  const t = types ?? ['string'];
  if (t.includes('boolean') && (cell === 'true' || cell === 'false')) return cell === 'true';
  if ((t.includes('number') || t.includes('integer')) && NUMBER_RE.test(cell)) {
    const n = Number(cell);
    if (Number.isFinite(n)) return n;
  }
  return cell;
}

/** Declared JSON types of each property (undefined when the property declares none). */
export function propertyTypes(schema: JsonSchema): Map<string, string[] | undefined> {
  const out = new Map<string, string[] | undefined>();
  for (const [name, p] of Object.entries(schema.properties ?? {})) {
    const t = typeof p === 'object' && p !== null ? p.type : undefined;
    out.set(name, t === undefined ? undefined : Array.isArray(t) ? t : [t]);
  }
  return out;
}

function decodePointerSegment(s: string): string {
  return s.replaceAll('~1', '/').replaceAll('~0', '~');
}

function valueText(v: unknown): string | null {
  if (v === undefined) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Maps ajv errors of one row to surgctl errors. `texts` gives the original text of a field (CSV cells) so the
 * reported value is what the file holds.
 */
export function mapAjvErrors(
  errors: ErrorObject[] | null | undefined,
  schema: JsonSchema,
  row: unknown,
  texts?: (field: string) => string | null,
): RowError[] {
  if (!errors) return [];
  const out: RowError[] = [];
  const allOf = Array.isArray(schema.allOf) ? (schema.allOf as JsonSchema[]) : [];
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    let field: string | null = null;
    if (e.keyword === 'required') field = String((e.params as { missingProperty: string }).missingProperty);
    else if (e.keyword === 'additionalProperties') field = String((e.params as { additionalProperty: string }).additionalProperty);
    else if (e.instancePath) field = decodePointerSegment(e.instancePath.split('/')[1] ?? '');
    const m = /^#\/allOf\/(\d+)\//.exec(e.schemaPath);
    const entry = m ? allOf[Number(m[1])] : undefined;
    const severity = entry?.['x-severity'] === 'warn' ? 'warn' : 'error';
    const rule = typeof entry?.['x-rule'] === 'string' ? (entry['x-rule'] as string) : null;
    const instance = field !== null && typeof row === 'object' && row !== null ? (row as Record<string, unknown>)[field] : undefined;
    const value = e.keyword === 'required' ? null : field !== null && texts ? texts(field) : field === null ? valueText(row) : valueText(instance);
    let message = e.message ?? e.keyword;
    if (e.keyword === 'type' && Array.isArray(e.params.type)) message = `must be ${(e.params.type as string[]).join(',')}`;
    out.push({ field, keyword: e.keyword, message, value, severity, rule });
  }
  return out;
}
