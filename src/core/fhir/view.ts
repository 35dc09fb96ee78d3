// The SQL-on-FHIR v2 ViewDefinition: its shape, the checks every engine runs before any row is read, and the
// output columns (names in order, declared FHIR types, DuckDB types). A view that fails a check is a ConfigError
// naming the view and the place in it; both engines then refuse it the same way.
import fhirpath from 'fhirpath';
import { ConfigError } from '../../errors.js';

export interface ViewColumn {
  name: string;
  path: string;
  type?: string;
  collection?: boolean;
  description?: string;
}

export interface ViewSelect {
  column?: ViewColumn[];
  select?: ViewSelect[];
  forEach?: string;
  forEachOrNull?: string;
  repeat?: string[];
  unionAll?: ViewSelect[];
}

export interface ViewConstant {
  name: string;
  [valueX: string]: unknown;
}

export interface ViewDefinition {
  resourceType?: string;
  name?: string;
  title?: string;
  description?: string;
  status?: string;
  resource: string;
  constant?: ViewConstant[];
  select: ViewSelect[];
  where?: { path: string; description?: string }[];
}

/** One output column: its name, declared FHIR type (if any), collection flag and DuckDB type. */
export interface OutputColumn {
  name: string;
  type: string | undefined;
  collection: boolean;
  duckType: string;
}

/** A constant's value as FHIRPath sees it: a string (also dates, codes, uris), a number or a boolean. */
export interface ConstantValue {
  kind: 'string' | 'number' | 'boolean';
  fhirType: string;
  value: string | number | boolean;
}

export interface CheckedView {
  view: ViewDefinition;
  name: string;
  columns: OutputColumn[];
  constants: Map<string, ConstantValue>;
}

const COLUMN_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const RESOURCE_NAME = /^[A-Z][A-Za-z]*$/;
/** Environment variables FHIRPath and SQL-on-FHIR define, which are not view constants. */
const BUILTIN_VARS = new Set(['rowIndex', 'resource', 'rootResource', 'context', 'ucum', 'sct', 'loinc']);

const NUMBER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt', 'decimal', 'integer64']);

/** DuckDB type of a column of FHIR type `type` (a collection column is a JSON array). */
export function duckTypeOf(type: string | undefined, collection: boolean): string {
  if (collection) return 'JSON';
  switch (type) {
    case 'boolean':
      return 'BOOLEAN';
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt':
      return 'INTEGER';
    case 'integer64':
      return 'BIGINT';
    case 'decimal':
      return 'DOUBLE';
    case undefined:
      return 'JSON';
    default:
      // string, code, id, uri, url, canonical, oid, uuid, markdown, base64Binary, date, dateTime, instant, time
      return 'VARCHAR';
  }
}

function fail(view: string, where: string, msg: string): never {
  throw new ConfigError(`ViewDefinition ${view}: ${where}: ${msg}`, {
    hint: 'see https://sql-on-fhir.org/ig/StructureDefinition-ViewDefinition.html for the ViewDefinition format',
  });
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

interface FpNode {
  type: string;
  text?: string;
  children?: FpNode[];
}

/** Parses a FHIRPath expression (throws ConfigError on a syntax error) and returns its external constants. */
function checkPath(viewName: string, where: string, path: unknown, constants: Map<string, ConstantValue>): void {
  if (typeof path !== 'string' || path.trim() === '') fail(viewName, where, `expected a FHIRPath expression string, got ${JSON.stringify(path)}`);
  let ast: FpNode;
  try {
    ast = fhirpath.parse(path) as FpNode;
  } catch (e) {
    fail(viewName, where, `invalid FHIRPath "${path}": ${(e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''}`);
  }
  const walk = (n: FpNode): void => {
    if (n.type === 'ExternalConstantTerm') {
      const id = (n.text ?? '').replace(/^`|`$/g, '').replace(/^'|'$/g, '');
      if (!BUILTIN_VARS.has(id) && !constants.has(id)) fail(viewName, where, `%${id} is not a constant of this view`);
    }
    for (const c of n.children ?? []) walk(c);
  };
  walk(ast);
}

function constantValue(viewName: string, i: number, c: unknown): [string, ConstantValue] {
  const at = `constant[${i}]`;
  if (!isObject(c) || typeof c.name !== 'string' || !COLUMN_NAME.test(c.name)) fail(viewName, at, 'needs a name (letters, digits, _)');
  const keys = Object.keys(c).filter((k) => k.startsWith('value'));
  if (keys.length !== 1) fail(viewName, at, `needs exactly one value[x] (valueString, valueInteger, ...), got ${keys.length}`);
  const key = keys[0] as string;
  const fhirType = key.slice(5, 6).toLowerCase() + key.slice(6);
  const v = c[key];
  if (fhirType === 'boolean') {
    if (typeof v !== 'boolean') fail(viewName, at, `${key} must be a boolean`);
    return [c.name, { kind: 'boolean', fhirType, value: v }];
  }
  if (NUMBER_TYPES.has(fhirType)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(viewName, at, `${key} must be a number`);
    return [c.name, { kind: 'number', fhirType, value: v }];
  }
  if (typeof v !== 'string') fail(viewName, at, `${key} must be a string`);
  return [c.name, { kind: 'string', fhirType, value: v }];
}

/**
 * Checks a ViewDefinition against the specification's rules (a resource, at least one select, FHIRPath that
 * parses, constants that exist, unionAll branches with the same columns in the same order, unique column names)
 * and returns its output columns. Throws ConfigError naming the view and the place.
 */
export function checkView(input: unknown): CheckedView {
  if (!isObject(input)) throw new ConfigError('ViewDefinition: expected a JSON object');
  const viewName = typeof input.name === 'string' ? input.name : '(unnamed)';
  if (input.resourceType !== undefined && input.resourceType !== 'ViewDefinition') {
    fail(viewName, 'resourceType', `expected "ViewDefinition", got ${JSON.stringify(input.resourceType)}`);
  }
  if (typeof input.resource !== 'string' || !RESOURCE_NAME.test(input.resource)) {
    fail(viewName, 'resource', `expected a FHIR resource type such as "Observation", got ${JSON.stringify(input.resource)}`);
  }
  const constants = new Map<string, ConstantValue>();
  if (input.constant !== undefined) {
    if (!Array.isArray(input.constant)) fail(viewName, 'constant', 'expected an array');
    input.constant.forEach((c, i) => {
      const [name, value] = constantValue(viewName, i, c);
      constants.set(name, value);
    });
  }
  if (!Array.isArray(input.select) || input.select.length === 0) fail(viewName, 'select', 'expected a non-empty array');
  if (input.where !== undefined) {
    if (!Array.isArray(input.where)) fail(viewName, 'where', 'expected an array');
    input.where.forEach((w, i) => checkPath(viewName, `where[${i}].path`, isObject(w) ? w.path : undefined, constants));
  }
  const columnsOf = (s: unknown, at: string): OutputColumn[] => {
    if (!isObject(s)) fail(viewName, at, 'expected an object');
    const iters = ['forEach', 'forEachOrNull', 'repeat'].filter((k) => s[k] !== undefined);
    if (iters.length > 1) fail(viewName, at, `${iters.join(' and ')} cannot be used together`);
    if (s.forEach !== undefined) checkPath(viewName, `${at}.forEach`, s.forEach, constants);
    if (s.forEachOrNull !== undefined) checkPath(viewName, `${at}.forEachOrNull`, s.forEachOrNull, constants);
    if (s.repeat !== undefined) {
      if (!Array.isArray(s.repeat) || s.repeat.length === 0) fail(viewName, `${at}.repeat`, 'expected a non-empty array of FHIRPath expressions');
      s.repeat.forEach((p, i) => checkPath(viewName, `${at}.repeat[${i}]`, p, constants));
    }
    const out: OutputColumn[] = [];
    if (s.column !== undefined) {
      if (!Array.isArray(s.column)) fail(viewName, `${at}.column`, 'expected an array');
      s.column.forEach((c, i) => {
        const cat = `${at}.column[${i}]`;
        if (!isObject(c)) fail(viewName, cat, 'expected an object');
        if (typeof c.name !== 'string' || !COLUMN_NAME.test(c.name)) {
          fail(viewName, `${cat}.name`, `a column name is letters, digits and _ starting with a letter, got ${JSON.stringify(c.name)}`);
        }
        checkPath(viewName, `${cat}.path`, c.path, constants);
        if (c.type !== undefined && typeof c.type !== 'string') fail(viewName, `${cat}.type`, 'expected a FHIR type name');
        if (c.collection !== undefined && typeof c.collection !== 'boolean') fail(viewName, `${cat}.collection`, 'expected true or false');
        const type = c.type as string | undefined;
        const collection = c.collection === true;
        out.push({ name: c.name, type, collection, duckType: duckTypeOf(type, collection) });
      });
    }
    if (s.select !== undefined) {
      if (!Array.isArray(s.select)) fail(viewName, `${at}.select`, 'expected an array');
      s.select.forEach((c, i) => out.push(...columnsOf(c, `${at}.select[${i}]`)));
    }
    if (s.unionAll !== undefined) {
      if (!Array.isArray(s.unionAll) || s.unionAll.length === 0) fail(viewName, `${at}.unionAll`, 'expected a non-empty array');
      const branches = s.unionAll.map((b, i) => columnsOf(b, `${at}.unionAll[${i}]`));
      const first = branches[0] ?? [];
      branches.forEach((b, i) => {
        const names = b.map((c) => c.name).join(', ');
        if (names !== first.map((c) => c.name).join(', ')) {
          fail(viewName, `${at}.unionAll[${i}]`, `every branch must have the same columns in the same order: (${first.map((c) => c.name).join(', ')}) vs (${names})`);
        }
      });
      out.push(...first);
    }
    return out;
  };
  const columns = (input.select as unknown[]).flatMap((s, i) => columnsOf(s, `select[${i}]`));
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) fail(viewName, 'select', `column "${c.name}" is defined twice`);
    seen.add(c.name);
  }
  if (columns.length === 0) fail(viewName, 'select', 'the view defines no column');
  return { view: input as unknown as ViewDefinition, name: viewName, columns, constants };
}

/** The columns a select node and its descendants contribute, in output order (for null rows). */
export function selectColumns(s: ViewSelect): string[] {
  const out = (s.column ?? []).map((c) => c.name);
  for (const c of s.select ?? []) out.push(...selectColumns(c));
  const first = s.unionAll?.[0];
  if (first) out.push(...selectColumns(first));
  return out;
}
