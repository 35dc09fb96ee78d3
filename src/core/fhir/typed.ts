// The compiled engine's typed mode: each resource is parsed once, by json_transform, into a DuckDB STRUCT holding just
// the elements the view reads (typed from the R4 model: lists where an element repeats, DOUBLE for decimal, ...), and
// FHIRPath is compiled over structs and typed lists, so no element is parsed twice. It knows a smaller subset than
// the JSON mode (compile.ts): member paths the model resolves, ofType() of a choice, where(), first(), exists(),
// empty(), not(), unions under first(), getResourceKey(), getReferenceKey(), =, !=, <, >, and, or, literals. Anything
// else is refused, and compileChecked then compiles the view in the JSON mode, whose semantics this mode follows.
import fhirpath from 'fhirpath';
import { quoteAnyIdent } from '../../db/sql.js';
import { KEY, MODEL, REPEATING, refuse, resolveElement, typeArg, typeName, unquote, type FpNode } from './model.js';

type Prim = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'BOOLEAN';

/** The column holding a staged row's typed resource (json_transform's output), beside the row's alias `_r`. */
export const TYPED_COLUMN = '_t';
/** The typed resource of the staged row `_r`: the root every typed expression starts from. */
export const ROOT = `_r.${TYPED_COLUMN}`;

/** A node of json_transform's structure: a leaf of a primitive type, or an object with the fields read from it. */
class Shape {
  readonly fields = new Map<string, Shape>();
  constructor(
    readonly prim: Prim | undefined,
    readonly list: boolean,
  ) {}

  /** The structure json_transform takes; an object none of whose fields is read stays JSON (only its presence counts). */
  structure(): unknown {
    const item = this.prim ?? (this.fields.size === 0 ? 'JSON' : Object.fromEntries([...this.fields].map(([k, v]) => [k, v.structure()])));
    return this.list ? [item] : item;
  }
}

/** The type of the items of a typed collection: a primitive, or a struct of `shape` at R4 model path `model`. */
type T = { prim: Prim } | { shape: Shape; model: string };

/**
 * A typed FHIRPath value. one: at most one item (the SQL value, NULL when empty); many: a list whose non-NULL items
 * are the collection (a NULL list is empty; NULLs are left in, as JSON nulls in arrays and absent fields give them,
 * because removing them costs a lambda per step: first() takes the first non-NULL, where() drops them); bool: a BOOLEAN (NULL when empty); lit: a literal; choice: a value[x] element before ofType();
 * union: the united collections (only first() is taken of them).
 */
type TEx =
  | { k: 'one'; sql: string; t: T }
  | { k: 'many'; sql: string; t: T }
  | { k: 'bool'; sql: string }
  | { k: 'lit'; sql: string; prim: Prim }
  | { k: 'choice'; base: Coll; key: string }
  | { k: 'union'; parts: Coll[] };
type Coll = Extract<TEx, { k: 'one' | 'many' }>;

/** The DuckDB type of an element of FHIR type `type` (a primitive), or undefined for a complex type (a struct). */
function primOf(type: string | undefined): Prim | undefined {
  switch (type) {
    case undefined:
      return refuse('an element the R4 model gives no type');
    case 'boolean':
    case 'System.Boolean':
      return 'BOOLEAN';
    case 'decimal':
    case 'System.Decimal':
      return 'DOUBLE';
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt':
    case 'System.Integer':
      return 'BIGINT';
    default:
      return /^[a-z]|^System\./.test(type) ? 'VARCHAR' : undefined;
  }
}

const numeric = (p: Prim): boolean => p === 'DOUBLE' || p === 'BIGINT';
const sameKind = (a: Prim, b: Prim): boolean => a === b || (numeric(a) && numeric(b));
/** An expression cheap to write twice: a column, a lambda's variable, or a chain of struct fields from one. */
const SIMPLE = new RegExp(`^(${ROOT.replace('.', '\\.')}|_x\\d+)(\\."[A-Za-z0-9_]+")*$`);

/** Whether element `key` of items at model path `model` is a choice (value[x]), on the path or on its type's chain. */
function isChoice(model: string, key: string): boolean {
  if (`${model}.${key}` in MODEL.choiceTypePaths) return true;
  const seen = new Set<string>();
  for (let t = model.includes('.') ? typeName(model) : model; t !== undefined && !seen.has(t); t = MODEL.type2Parent[t]) {
    seen.add(t);
    if (`${t}.${key}` in MODEL.choiceTypePaths) return true;
  }
  return false;
}

function unwrap(n: FpNode): FpNode {
  let x = n;
  while (['EntireExpression', 'TermExpression', 'InvocationTerm', 'ParenthesizedTerm'].includes(x.type) && x.children?.length === 1) x = x.children[0] as FpNode;
  return x;
}

/** Typed expressions of one view; the JSON-mode compiler (compile.ts) calls it for columns, forEach items and where. */
export class TypedExprs {
  readonly root: Shape = new Shape(undefined, false);
  /** The item type of each lambda variable and of ROOT. */
  private readonly vars = new Map<string, T>();

  constructor(
    private readonly resource: string,
    private readonly lambda: () => string,
    private readonly param: (v: string | number | boolean) => string,
  ) {
    this.vars.set(ROOT, { shape: this.root, model: resource });
  }

  /** json_transform's structure for the resource: every element any expression of the view reads. */
  structure(): string {
    return JSON.stringify(this.root.structure());
  }

  /** The SQL of column `path` as DuckDB type `duckType` with focus `ctx`; refuses what the JSON mode would type otherwise. */
  column(path: string, duckType: string, collection: boolean, ctx: string): string {
    if (collection) return refuse('a collection column');
    const e = this.expr(path, ctx);
    if (e.k === 'bool') return duckType === 'BOOLEAN' ? e.sql : refuse('a boolean in a column of another type');
    if (e.k !== 'one' || !('prim' in e.t)) return refuse(`a column of ${e.k === 'many' ? 'several items' : 'a complex value'}`);
    const p = e.t.prim;
    switch (duckType) {
      case 'BOOLEAN':
        return p === 'BOOLEAN' ? e.sql : refuse('a column of another type than its element');
      case 'DOUBLE':
        return numeric(p) ? `CAST(${e.sql} AS DOUBLE)` : refuse('a column of another type than its element');
      case 'INTEGER':
      case 'BIGINT':
        return p === 'BIGINT' ? `TRY_CAST(${e.sql} AS ${duckType})` : refuse('a column of another type than its element');
      case 'JSON':
        return refuse('a JSON column');
      default:
        return p === 'VARCHAR' ? e.sql : refuse('a column of another type than its element');
    }
  }

  /** forEach: the items of `path` (a list of structs), bound to lambda variable `v` for the children. */
  items(path: string, ctx: string, v: string): string {
    const e = this.expr(path, ctx);
    if ((e.k !== 'one' && e.k !== 'many') || 'prim' in e.t) return refuse('forEach over something other than elements');
    this.vars.set(v, e.t);
    return `coalesce(list_filter(${e.k === 'many' ? e.sql : `[${e.sql}]`}, lambda ${v}: ${v} IS NOT NULL), [])`;
  }

  /** A where path or a forEach's where() criterion as BOOLEAN (NULL when empty). */
  condition(n: FpNode | string, ctx: string): string {
    const e = typeof n === 'string' ? this.expr(n, ctx) : this.node(n, ctx);
    return this.bool(e);
  }

  private expr(path: string, ctx: string): TEx {
    return this.node(fhirpath.parse(path) as FpNode, ctx);
  }

  private focus(ctx: string): Coll {
    const t = this.vars.get(ctx) ?? refuse('a focus of unknown type');
    return { k: 'one', sql: ctx, t };
  }

  private bool(e: TEx): string {
    if (e.k === 'bool') return e.sql;
    if (e.k === 'one' && 'prim' in e.t && e.t.prim === 'BOOLEAN') return e.sql;
    return refuse('a non-boolean operand of a boolean');
  }

  /** A primitive operand of a comparison: one primitive item or a literal. */
  private operand(e: TEx): { sql: string; prim: Prim } {
    if (e.k === 'lit') return e;
    if (e.k === 'one' && 'prim' in e.t) return { sql: e.sql, prim: e.t.prim };
    return refuse('a comparison of something other than one primitive value');
  }

  private node(n0: FpNode, ctx: string): TEx {
    const n = unwrap(n0);
    const kids = n.children ?? [];
    const kid = (i: number): FpNode => kids[i] ?? refuse(`a malformed ${n.type}`);
    switch (n.type) {
      case 'LiteralTerm':
        return this.literal(kid(0));
      case 'ThisInvocation':
        return this.focus(ctx);
      case 'MemberInvocation':
        return this.member(this.focus(ctx), n.text ?? '', true);
      case 'FunctionInvocation':
        return this.fn(this.focus(ctx), n, ctx);
      case 'InvocationExpression': {
        const base = this.node(kid(0), ctx);
        const step = kid(1);
        if (step.type === 'MemberInvocation') return this.member(base, step.text ?? '', false);
        if (step.type === 'FunctionInvocation') return this.fn(base, step, ctx);
        return refuse(`${step.type} after "."`);
      }
      case 'EqualityExpression': {
        const op = n.text ?? '';
        if (op !== '=' && op !== '!=') return refuse(`the operator ${op}`);
        const sql = this.compare('=', kid(0), kid(1), ctx);
        return { k: 'bool', sql: op === '=' ? sql : `(NOT ${sql})` };
      }
      case 'InequalityExpression': {
        const op = n.text ?? '';
        if (!['<', '>', '<=', '>='].includes(op)) return refuse(`the operator ${op}`);
        return { k: 'bool', sql: this.compare(op, kid(0), kid(1), ctx) };
      }
      case 'AndExpression':
        return { k: 'bool', sql: `(${this.bool(this.node(kid(0), ctx))} AND ${this.bool(this.node(kid(1), ctx))})` };
      case 'OrExpression':
        if (n.text !== 'or') return refuse(`the operator ${n.text ?? 'xor'}`);
        return { k: 'bool', sql: `(${this.bool(this.node(kid(0), ctx))} OR ${this.bool(this.node(kid(1), ctx))})` };
      case 'UnionExpression': {
        const parts: Coll[] = [];
        for (const x of [this.node(kid(0), ctx), this.node(kid(1), ctx)]) {
          if (x.k === 'union') parts.push(...x.parts);
          else if (x.k === 'one' || x.k === 'many') parts.push(x);
          else refuse('a union of something other than elements');
        }
        return { k: 'union', parts };
      }
      default:
        return refuse(`FHIRPath ${n.type}`);
    }
  }

  private compare(op: string, a0: FpNode, b0: FpNode, ctx: string): string {
    const a = this.operand(this.node(a0, ctx));
    const b = this.operand(this.node(b0, ctx));
    if (!sameKind(a.prim, b.prim)) return refuse('a comparison of values of two kinds');
    return `(${a.sql} ${op} ${b.sql})`;
  }

  private literal(n: FpNode): TEx {
    const text = n.text ?? '';
    switch (n.type) {
      case 'StringLiteral':
        return { k: 'lit', sql: this.param(unquote(text)), prim: 'VARCHAR' };
      case 'NumberLiteral':
        return { k: 'lit', sql: `CAST(${this.param(Number(text))} AS DOUBLE)`, prim: 'DOUBLE' };
      case 'BooleanLiteral':
        return { k: 'lit', sql: text === 'true' ? 'true' : 'false', prim: 'BOOLEAN' };
      default:
        return refuse(`the literal ${text}`);
    }
  }

  /** Element `name` of every item of `base`: a struct field, read from each item of a list. */
  private member(base: TEx, name: string, atRoot: boolean): TEx {
    const key = name.replace(/^`|`$/g, '');
    if (base.k !== 'one' && base.k !== 'many') return refuse(`the element ${key} of a ${base.k}`);
    if (!('shape' in base.t)) return refuse(`the element ${key} of a primitive`);
    if (atRoot && key === this.resource && base.sql === ROOT) return base;
    if (!KEY.test(key)) return refuse(`the element name ${JSON.stringify(key)}`);
    const { shape, model } = base.t;
    if (isChoice(model, key)) return { k: 'choice', base, key };
    const el = resolveElement(model, key) ?? refuse(`${key}, an element the R4 model does not know on ${model}`);
    const prim = primOf(typeName(el));
    const list = REPEATING.has(el);
    let child = shape.fields.get(key);
    if (child === undefined) {
      // DuckDB's struct fields are case-insensitive.
      if ([...shape.fields.keys()].some((k) => k.toLowerCase() === key.toLowerCase())) refuse(`two elements named ${key} but for case`);
      child = new Shape(prim, list);
      shape.fields.set(key, child);
    }
    const t: T = prim === undefined ? { shape: child, model: el } : { prim };
    const field = (x: string): string => (SIMPLE.test(x) ? `${x}.${quoteAnyIdent(key)}` : `(${x}).${quoteAnyIdent(key)}`);
    if (base.k === 'one') return { k: list ? 'many' : 'one', sql: field(base.sql), t };
    const v = this.lambda();
    // flatten() skips NULL lists.
    const each = `list_transform(${base.sql}, lambda ${v}: ${field(v)})`;
    return { k: 'many', sql: list ? `flatten(${each})` : each, t };
  }

  private fn(base: TEx, n: FpNode, ctx: string): TEx {
    const functn = (n.children ?? [])[0];
    const name = n.text ?? functn?.children?.[0]?.text ?? '';
    const args = functn?.children?.find((c) => c.type === 'ParamList')?.children ?? [];
    if (args.length > (name === 'where' || name === 'ofType' || name === 'getReferenceKey' ? 1 : 0)) return refuse(`${name}() with ${args.length} arguments`);
    switch (name) {
      case 'first':
        if (base.k === 'many') return { k: 'one', sql: `list_any_value(${base.sql})`, t: base.t };
        if (base.k === 'one') return base;
        if (base.k === 'union') return this.firstOfUnion(base.parts);
        return refuse(`first() of a ${base.k}`);
      case 'exists':
      case 'empty': {
        if (base.k !== 'one' && base.k !== 'many') return refuse(`${name}() of a ${base.k}`);
        const has = base.k === 'one' ? `(${base.sql} IS NOT NULL)` : `(coalesce(list_count(${base.sql}), 0) > 0)`;
        return { k: 'bool', sql: name === 'exists' ? has : `(NOT ${has})` };
      }
      case 'not':
        return { k: 'bool', sql: `(NOT ${this.bool(base)})` };
      case 'where': {
        if (base.k !== 'one' && base.k !== 'many') return refuse(`where() of a ${base.k}`);
        const crit = args[0] ?? refuse('where() without criteria');
        if (base.k === 'one' && SIMPLE.test(base.sql)) {
          this.vars.set(base.sql, base.t);
          return { k: 'one', sql: `(CASE WHEN ${this.condition(crit, base.sql)} THEN ${base.sql} END)`, t: base.t };
        }
        const v = this.lambda();
        this.vars.set(v, base.t);
        // list_filter keeps the items whose criteria are true (not NULL); a NULL item kept stays absent.
        const sql = `list_filter(${base.k === 'many' ? base.sql : `[${base.sql}]`}, lambda ${v}: ${this.condition(crit, v)})`;
        return base.k === 'many' ? { k: 'many', sql, t: base.t } : { k: 'one', sql: `list_any_value(${sql})`, t: base.t };
      }
      case 'ofType': {
        const type = typeArg(args[0] ?? refuse('ofType() without a type'));
        // A choice element: value.ofType(Quantity) is valueQuantity.
        if (base.k !== 'choice') return refuse(`ofType(${type}) on something other than a choice element`);
        return this.member(base.base, `${base.key}${type.charAt(0).toUpperCase()}${type.slice(1)}`, false);
      }
      case 'getResourceKey':
        if (base.k !== 'one' || base.sql !== ROOT) return refuse('getResourceKey() of something other than the resource');
        return this.member(base, 'id', false);
      case 'getReferenceKey': {
        const type = args[0] === undefined ? 'NULL' : this.param(typeArg(args[0]));
        const ref = this.member(base, 'reference', false);
        if (ref.k === 'one') return { k: 'one', sql: `${SIMPLE.test(ref.sql) ? 'fp_refkey_at' : 'fp_refkey'}(${ref.sql}, ${type})`, t: { prim: 'VARCHAR' } };
        if (ref.k !== 'many') return refuse('getReferenceKey() of something other than references');
        const v = this.lambda();
        return { k: 'many', sql: `list_transform(${ref.sql}, lambda ${v}: fp_refkey_at(${v}, ${type}))`, t: { prim: 'VARCHAR' } };
      }
      default:
        return refuse(`the function ${name}()`);
    }
  }

  /** first() of a union: the first item of the first part that has one (FHIRPath's union keeps first occurrences). */
  private firstOfUnion(parts: Coll[]): TEx {
    const first = parts[0] ?? refuse('an empty union');
    for (const p of parts) {
      const same = 'prim' in first.t ? 'prim' in p.t && p.t.prim === first.t.prim : 'shape' in p.t && p.t.shape === first.t.shape;
      if (!same) refuse('first() of a union of items of two types');
    }
    return { k: 'one', sql: `coalesce(${parts.map((p) => (p.k === 'many' ? `list_any_value(${p.sql})` : p.sql)).join(', ')})`, t: first.t };
  }
}
