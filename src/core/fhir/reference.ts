// The reference engine: HL7's FHIRPath.js (the `fhirpath` package, R4 model) evaluates every FHIRPath of a view on
// each resource in JS, following the SQL-on-FHIR v2 row rules literally; rows go into DuckDB through an Appender.
// It is the slow, complete path, and the yardstick the compiled engine is tested against.
import type { DuckDBAppender } from '@duckdb/node-api';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { Db } from '../../db/db.js';
import { ident } from '../../db/sql.js';
import { ConfigError, InterruptedError } from '../../errors.js';
import { selectColumns, type CheckedView, type ConstantValue, type ViewSelect } from './view.js';

type Row = Record<string, unknown>;
type Evaluator = (base: unknown, vars: Record<string, unknown>) => unknown[];

/** The resource id a reference points at ("Patient/p1", ".../Patient/p1/_history/2", "urn:uuid:x"), and its type. */
export function referenceKey(ref: unknown): { type: string | undefined; id: string } | undefined {
  if (typeof ref !== 'string') return undefined;
  const urn = /^urn:(?:uuid|oid):(.+)$/.exec(ref);
  if (urn) return { type: undefined, id: urn[1] as string };
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m ? { type: m[1], id: m[2] as string } : undefined;
}

const valData = (n: unknown): unknown => (fhirpath as unknown as { util: { valData(x: unknown): unknown } }).util.valData(n);

/** getResourceKey() and getReferenceKey([type]), the two functions SQL-on-FHIR adds to FHIRPath. */
const USER_FUNCTIONS = {
  getResourceKey: {
    fn: (inputs: unknown[]) =>
      inputs.flatMap((i) => {
        const d = valData(i) as { id?: unknown } | undefined;
        return typeof d?.id === 'string' ? [d.id] : [];
      }),
    arity: { 0: [] },
  },
  getReferenceKey: {
    fn: (inputs: unknown[], type?: { name?: string }) =>
      inputs.flatMap((i) => {
        const k = referenceKey((valData(i) as { reference?: unknown } | undefined)?.reference);
        if (!k) return [];
        if (type?.name !== undefined && k.type !== undefined && k.type !== type.name) return [];
        return [k.id];
      }),
    arity: { 0: [], 1: ['TypeSpecifier'] },
  },
  // SQL-on-FHIR's join: the empty collection joins to '' (FHIRPath.js 5 returns empty).
  join: {
    fn: (inputs: unknown[], sep?: string) => [inputs.map((i) => String(valData(i))).join(sep ?? '')],
    arity: { 0: [], 1: ['String'] },
  },
};

/** A constant as a typed FHIRPath literal (FHIRPath.js compares a string variable with a date as unequal). */
function constantLiteral(c: ConstantValue): string {
  if (c.kind !== 'string') return String(c.value);
  const v = String(c.value);
  if (c.fhirType === 'date') return `@${v}`;
  if (c.fhirType === 'dateTime' || c.fhirType === 'instant') return `@${v.includes('T') ? v : `${v}T`}`;
  if (c.fhirType === 'time') return `@T${v}`;
  return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** Replaces %name of the view's constants by literals, outside string literals and quoted identifiers. */
export function inlineConstants(expr: string, constants: Map<string, ConstantValue>): string {
  if (constants.size === 0) return expr;
  let out = '';
  for (let i = 0; i < expr.length; ) {
    const ch = expr[i] as string;
    if (ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== ch) j += expr[j] === '\\' ? 2 : 1;
      out += expr.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = ch === '%' ? /^%([A-Za-z_][A-Za-z0-9_]*)/.exec(expr.slice(i)) : null;
    const c = m ? constants.get(m[1] as string) : undefined;
    if (m && c) {
      out += constantLiteral(c);
      i += m[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

export class ReferenceEvaluator {
  private readonly cache = new Map<string, Evaluator>();
  constructor(private readonly checked: CheckedView) {}

  private fn(expr: string): Evaluator {
    let f = this.cache.get(expr);
    if (!f) {
      try {
        f = fhirpath.compile(inlineConstants(expr, this.checked.constants), r4, {
          resolveInternalTypes: false,
          userInvocationTable: USER_FUNCTIONS,
        } as never) as unknown as Evaluator;
      } catch (e) {
        throw new ConfigError(`ViewDefinition ${this.checked.name}: invalid FHIRPath "${expr}": ${(e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''}`);
      }
      this.cache.set(expr, f);
    }
    return f;
  }

  private eval(base: unknown, expr: string, rowIndex: number): unknown[] {
    return this.fn(expr)(base, { rowIndex });
  }

  /** The rows of one resource (already parsed). */
  rows(resource: unknown): Row[] {
    const view = this.checked.view;
    for (const w of view.where ?? []) {
      const r = fhirpath.resolveInternalTypes(this.eval(resource, w.path, 0)) as unknown[];
      if (r.length === 0) return [];
      if (r.length > 1 || typeof r[0] !== 'boolean') {
        throw new ConfigError(`ViewDefinition ${this.checked.name}: where path "${w.path}" must give a boolean, got ${JSON.stringify(r).slice(0, 80)}`);
      }
      if (r[0] !== true) return [];
    }
    return this.product(view.select.map((s) => this.selectRows(s, resource, 0)));
  }

  private product(parts: Row[][]): Row[] {
    let acc: Row[] = [{}];
    for (const p of parts) {
      const next: Row[] = [];
      for (const a of acc) for (const b of p) next.push({ ...a, ...b });
      acc = next;
    }
    return acc;
  }

  private selectRows(s: ViewSelect, base: unknown, rowIndex: number): Row[] {
    const iter = s.forEach ?? s.forEachOrNull;
    if (iter !== undefined || s.repeat !== undefined) {
      const items = s.repeat !== undefined ? this.repeat(base, s.repeat) : this.eval(base, iter as string, rowIndex);
      if (items.length === 0) {
        if (s.forEachOrNull === undefined) return [];
        // Every column is null, except %rowIndex, which is 0 in the null row of a forEachOrNull.
        const index = new Set((s.column ?? []).filter((c) => c.path.trim() === '%rowIndex').map((c) => c.name));
        return [Object.fromEntries(selectColumns(s).map((c) => [c, index.has(c) ? 0 : null]))];
      }
      return items.flatMap((item, i) => this.nodeRows(s, item, i));
    }
    return this.nodeRows(s, base, rowIndex);
  }

  private repeat(base: unknown, paths: string[]): unknown[] {
    const out: unknown[] = [];
    const visit = (node: unknown, depth: number): void => {
      if (depth > 100) throw new ConfigError(`ViewDefinition ${this.checked.name}: repeat goes deeper than 100 levels`);
      for (const p of paths) {
        for (const child of this.eval(node, p, 0)) {
          out.push(child);
          visit(child, depth + 1);
        }
      }
    };
    visit(base, 0);
    return out;
  }

  private nodeRows(s: ViewSelect, base: unknown, rowIndex: number): Row[] {
    const parts: Row[][] = [];
    if (s.column) {
      const row: Row = {};
      for (const c of s.column) {
        const v = fhirpath.resolveInternalTypes(this.eval(base, c.path, rowIndex)) as unknown[];
        if (c.collection === true) row[c.name] = v;
        else if (v.length > 1) {
          throw new ConfigError(`ViewDefinition ${this.checked.name}: column "${c.name}" (${c.path}) gave ${v.length} values; set "collection": true to keep them all`);
        } else row[c.name] = v.length === 0 ? null : v[0];
      }
      parts.push([row]);
    }
    for (const child of s.select ?? []) parts.push(this.selectRows(child, base, rowIndex));
    if (s.unionAll) parts.push(s.unionAll.flatMap((b) => this.selectRows(b, base, rowIndex)));
    return this.product(parts);
  }
}

/** Appends one value to a column of DuckDB type `duckType`; a value the type cannot hold becomes NULL. */
function appendValue(app: DuckDBAppender, duckType: string, v: unknown): void {
  if (v === null || v === undefined) return app.appendNull();
  switch (duckType) {
    case 'BOOLEAN':
      return typeof v === 'boolean' ? app.appendBoolean(v) : app.appendNull();
    case 'INTEGER':
      return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? app.appendInteger(v) : app.appendNull();
    case 'BIGINT':
      return typeof v === 'number' && Number.isInteger(v) ? app.appendBigInt(BigInt(v)) : app.appendNull();
    case 'DOUBLE': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
      return Number.isFinite(n) ? app.appendDouble(n) : app.appendNull();
    }
    case 'JSON':
      return app.appendVarchar(JSON.stringify(v));
    default:
      return app.appendVarchar(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
}

const BATCH = 2000;

/** Runs a checked view with the reference engine into the existing table `target`; returns the rows written. */
export async function runReferenceEngine(
  db: Db,
  checked: CheckedView,
  opts: { source: string; target: string; lineage: boolean; signal?: AbortSignal | undefined },
): Promise<number> {
  const ev = new ReferenceEvaluator(checked);
  const src = ident(opts.source);
  const bounds = await db.all<{ lo: number | null; hi: number | null }>(
    `SELECT min(rowid)::BIGINT::DOUBLE AS lo, max(rowid)::BIGINT::DOUBLE AS hi FROM ${src} WHERE resource_type = $rt`,
    { rt: checked.view.resource },
  );
  const lo = bounds[0]?.lo ?? null;
  const hi = bounds[0]?.hi ?? null;
  if (lo === null || hi === null) return 0;
  let written = 0;
  for (let from = lo; from <= hi; from += BATCH) {
    if (opts.signal?.aborted) throw new InterruptedError(`running view ${checked.name}`);
    const batch = await db.all<{ r: string; f: string | null; l: number | null; e: number | null; id: string | null }>(
      `SELECT resource::VARCHAR AS r, _file AS f, _line::DOUBLE AS l, _entry::DOUBLE AS e, id FROM ${src}
       WHERE resource_type = $rt AND rowid >= $from AND rowid < $to ORDER BY rowid`,
      { rt: checked.view.resource, from, to: from + BATCH },
    );
    const out: { row: Row; f: string | null; l: number | null; e: number | null; id: string | null }[] = [];
    for (const b of batch) {
      for (const row of ev.rows(JSON.parse(b.r))) out.push({ row, f: b.f, l: b.l, e: b.e, id: b.id });
    }
    if (out.length === 0) continue;
    const app = await db.appender(opts.target, 'main', 'temp');
    try {
      for (const o of out) {
        for (const c of checked.columns) appendValue(app, c.duckType, o.row[c.name]);
        if (opts.lineage) {
          appendValue(app, 'VARCHAR', o.f);
          appendValue(app, 'BIGINT', o.l);
          appendValue(app, 'BIGINT', o.e);
          appendValue(app, 'VARCHAR', o.id);
        }
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
    written += out.length;
  }
  return written;
}
