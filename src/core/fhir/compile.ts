// The compiled engine: a ViewDefinition and the FHIRPath subset it uses become one DuckDB SELECT over the staged
// JSON, so rows never cross into JS. A FHIRPath value is a DuckDB expression of a kind known at compile time:
//   coll  JSON[] (a FHIRPath collection; never NULL, [] is empty), from paths, where(), first(), ofType(), ...
//   bool  BOOLEAN (NULL = empty), from comparisons, and/or/not, exists(), empty()
//   str / num  VARCHAR / DOUBLE (NULL = empty), from literals, constants, join(), arithmetic
// A select node is a list of row structs: forEach maps its items to the rows of its children, a node's column,
// select and unionAll parts are crossed, unionAll concatenates; the top unnests the list. What the compiler does not
// know (repeat, functions outside the subset, is/as) is refused with a reason naming it.
import fhirpath from 'fhirpath';
import { KEY, MODEL, REPEATING, Refusal, refuse, resolveElement, typeArg, unquote, type FpNode } from './model.js';
import { quoteAnyIdent } from '../../db/sql.js';
import { ROOT, TYPED_COLUMN, TypedExprs } from './typed.js';
import type { CheckedView, ConstantValue, ViewColumn, ViewSelect } from './view.js';

type Kind = 'coll' | 'bool' | 'str' | 'num';
interface Ex {
  k: Kind;
  sql: string;
  /** For a member path step: the collection it navigated from and the key (ofType(T) turns key into keyT). */
  nav?: { base: Ex; key: string };
  /** The FHIR element path its items are (R4 model: 'Observation.component', 'CodeableConcept.coding'), when known. */
  model?: string | undefined;
  /** When the collection is one JSON path from one item: json_extract(item, jpath) (wild: the path has [*]). */
  root?: { item: string; jpath: string; wild: boolean };
  /** For a union (a | b | ...): the collections united, so first() can take the first of their concatenation. */
  union?: Ex[];
  /**
   * For a collection of at most one item by construction (first(), a reference key of one Reference): that item as a
   * JSON SQL expression, NULL when empty (never JSON null). Read instead of building and unpacking a list.
   */
  one?: string;
  /** With `one`, when that item is a JSON string: its text (VARCHAR), read by str() without the JSON round trip. */
  text?: string;
}

/** Where an expression is evaluated: the focus item (a JSON SQL expression), %rowIndex, the focus's FHIR path. */
interface Scope {
  ctx: string;
  rowIndex: string;
  model?: string | undefined;
}

/** Temp macros the compiled SQL uses; created by runView before the SELECT runs. */
export const FHIR_MACROS = [
  // Each macro names its argument once: a macro is inlined, so an argument used n times would be copied n times at
  // every nesting level (a path of five steps would grow 5^5-fold). `list_transform([arg], lambda y: ...)[1]` binds it.
  // A JSON value as a FHIRPath collection: an array's non-null items, a scalar or object as one item, null as none.
  // Its argument is always json_extract's output, which is minified JSON text: the first character tells an array and
  // 'null' is the JSON null, so the type is read from the text instead of parsing it again (json_type parses).
  `CREATE OR REPLACE TEMP MACRO fp_items(v) AS list_transform([v], lambda y: CASE WHEN y IS NULL OR y::VARCHAR = 'null' THEN []::JSON[]
     WHEN starts_with(y::VARCHAR, '[') THEN list_filter(json_extract(y, '$[*]'), lambda e: e::VARCHAR <> 'null')
     ELSE [y] END)[1]`,
  // Navigation from every item of a collection by one key.
  `CREATE OR REPLACE TEMP MACRO fp_nav(c, k) AS flatten(list_transform(c, lambda x: fp_items(json_extract(x, k))))`,
  // Singleton evaluation: the one item, NULL when empty, an error when several.
  `CREATE OR REPLACE TEMP MACRO fp_one(c) AS list_transform([c], lambda l: CASE WHEN len(l) = 0 THEN NULL WHEN len(l) = 1 THEN l[1]
     ELSE error('FHIRPath: a single value was expected, got ' || len(l)) END)[1]`,
  `CREATE OR REPLACE TEMP MACRO fp_str(c) AS json_extract_string(fp_one(c), '$')`,
  `CREATE OR REPLACE TEMP MACRO fp_num(c) AS TRY_CAST(fp_one(c) AS DOUBLE)`,
  // A collection as a boolean operand (FHIRPath singleton rule): empty NULL, a boolean itself, any other item true.
  `CREATE OR REPLACE TEMP MACRO fp_truthy(c) AS list_transform([fp_one(c)], lambda o: CASE WHEN o IS NULL THEN NULL
     WHEN json_type(o) = 'BOOLEAN' THEN o::BOOLEAN ELSE true END)[1]`,
  // A view's where path: empty is false, a non-boolean is an error.
  `CREATE OR REPLACE TEMP MACRO fp_where(c) AS list_transform([fp_one(c)], lambda o: CASE WHEN o IS NULL THEN false
     WHEN json_type(o) = 'BOOLEAN' THEN o::BOOLEAN ELSE error('where: the path must give a boolean') END)[1]`,
  // Comparison of two JSON items: numbers as numbers, anything else as text. -1, 0, 1, or NULL when either is empty.
  `CREATE OR REPLACE TEMP MACRO fp_cmp(a0, b0) AS list_transform([[a0, b0]], lambda p: list_transform([p[1]], lambda a:
     list_transform([p[2]], lambda b: CASE WHEN a IS NULL OR b IS NULL THEN NULL
     WHEN json_type(a) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND json_type(b) IN ('BIGINT', 'UBIGINT', 'DOUBLE')
       THEN sign(a::DOUBLE - b::DOUBLE)::INTEGER
     WHEN json_type(a) = 'BOOLEAN' OR json_type(b) = 'BOOLEAN' THEN CASE WHEN a::VARCHAR = b::VARCHAR THEN 0 ELSE 1 END
     ELSE CASE WHEN json_extract_string(a, '$') < json_extract_string(b, '$') THEN -1
               WHEN json_extract_string(a, '$') > json_extract_string(b, '$') THEN 1 ELSE 0 END END)[1])[1])[1]`,
  // FHIRPath's union (|): both collections, duplicates removed, first occurrences kept in order.
  `CREATE OR REPLACE TEMP MACRO fp_union(a, b) AS list_transform([list_concat(a, b)], lambda l: list_filter(l,
     lambda x, i: NOT list_contains(list_slice(l, 1, i - 1), x)))[1]`,
  // The id a Reference points at, when its type is t (or t is NULL, or the reference names no type).
  // One regular expression gives the type and the id (the leftmost [Type]/[id] that runs to the end).
  // The plain form Type/id (most references) is told by one full match and split, without the search and the struct.
  `CREATE OR REPLACE TEMP MACRO fp_refkey(ref0, t) AS list_transform([ref0], lambda ref: CASE
     WHEN regexp_full_match(ref, '[A-Z][A-Za-z]+/[A-Za-z0-9\\-.]{1,64}') THEN CASE WHEN t IS NULL OR split_part(ref, '/', 1) = t THEN split_part(ref, '/', 2) END
     WHEN starts_with(ref, 'urn:uuid:') OR starts_with(ref, 'urn:oid:') THEN regexp_extract(ref, '^urn:(?:uuid|oid):(.+)$', 1)
     ELSE list_transform([regexp_extract(ref, '(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$', ['t', 'i'])],
       lambda m: CASE WHEN m.i <> '' AND (t IS NULL OR m.t = t) THEN m.i END)[1] END)[1]`,
  // The same for a reference cheap to name several times (a column or a struct field: the typed mode's): the plain
  // form without binding it through a lambda first.
  `CREATE OR REPLACE TEMP MACRO fp_refkey_at(ref, t) AS CASE
     WHEN regexp_full_match(ref, '[A-Z][A-Za-z]+/[A-Za-z0-9\\-.]{1,64}') THEN CASE WHEN t IS NULL OR split_part(ref, '/', 1) = t THEN split_part(ref, '/', 2) END
     ELSE fp_refkey(ref, t) END`,
];

/** An item expression cheap to repeat: the resource or a lambda's variable. */
const SIMPLE_ITEM = /^(_r\.resource|_x\d+)$/;

class Compiler {
  private lambdaN = 0;
  readonly params: Record<string, string | number | boolean> = {};
  private paramN = 0;

  /** The typed mode's expressions (typed.ts), when the view is compiled over json_transform's structs. */
  readonly typed: TypedExprs | undefined;

  constructor(private readonly checked: CheckedView, typed: boolean) {
    this.typed = typed ? new TypedExprs(checked.view.resource, () => this.lambda(), (v) => this.param(v)) : undefined;
  }

  param(v: string | number | boolean): string {
    const name = `p${++this.paramN}`;
    this.params[name] = v;
    return `$${name}`;
  }

  lambda(): string {
    return `_x${++this.lambdaN}`;
  }

  // ---- conversions between kinds ----
  coll(e: Ex): string {
    switch (e.k) {
      case 'coll':
        return e.sql;
      case 'bool':
      case 'num':
      case 'str':
        return `list_filter([to_json(${e.sql})], lambda j: j IS NOT NULL)`;
    }
  }
  bool(e: Ex): string {
    if (e.k === 'bool') return e.sql;
    if (e.k === 'coll') return `fp_truthy(${e.sql})`;
    return `((${e.sql}) IS NOT NULL OR NULL)`;
  }
  /** A collection the model says holds at most one item, read straight from its JSON path (no list built). */
  private single(e: Ex, fn: 'json_extract' | 'json_extract_string'): string | undefined {
    return e.k === 'coll' && e.root && !e.root.wild && e.model !== undefined ? `${fn}(${e.root.item}, '${e.root.jpath}')` : undefined;
  }
  /**
   * The one item (JSON, NULL when none) of a collection known to hold at most one: `one`, or a 0..1 element's path
   * from the resource or a lambda's item (the path is written twice: from a longer expression it would double at
   * every step, so those keep the list).
   */
  private oneItem(e: Ex): string | undefined {
    if (e.one !== undefined) return e.one;
    if (e.k !== 'coll' || !e.root || e.root.wild || e.model === undefined || !SIMPLE_ITEM.test(e.root.item)) return undefined;
    const x = `json_extract(${e.root.item}, '${e.root.jpath}')`;
    return `(CASE WHEN ${x}::VARCHAR <> 'null' THEN ${x} END)`;
  }

  str(e: Ex): string {
    if (e.k === 'str') return e.sql;
    if (e.text !== undefined) return e.text;
    if (e.one !== undefined) return `json_extract_string(${e.one}, '$')`;
    const one = this.single(e, 'json_extract_string');
    if (one !== undefined) return one;
    if (e.k === 'coll') return `fp_str(${e.sql})`;
    return `CAST(${e.sql} AS VARCHAR)`;
  }
  num(e: Ex): string {
    if (e.k === 'num') return e.sql;
    if (e.one !== undefined) return `TRY_CAST(${e.one} AS DOUBLE)`;
    const one = this.single(e, 'json_extract');
    if (one !== undefined) return `TRY_CAST(${one} AS DOUBLE)`;
    if (e.k === 'coll') return `fp_num(${e.sql})`;
    return `TRY_CAST(${e.sql} AS DOUBLE)`;
  }

  // ---- expressions ----
  /** Compiles `expr` with `ctx` (a JSON item) as its focus. */
  expr(expr: string, scope: Scope): Ex {
    const ast = fhirpath.parse(expr) as FpNode;
    return this.node(unwrap(ast), scope);
  }

  /** The focus as a collection of one item. */
  private focus(s: Scope): Ex {
    return { k: 'coll', sql: `[${s.ctx}]`, model: s.model, root: { item: s.ctx, jpath: '$', wild: false } };
  }

  private node(n: FpNode, s: Scope): Ex {
    const kids = n.children ?? [];
    const kid = (i: number): FpNode => kids[i] ?? refuse(`a malformed ${n.type}`);
    switch (n.type) {
      case 'EntireExpression':
      case 'TermExpression':
      case 'InvocationTerm':
      case 'ParenthesizedTerm':
        return this.node(kid(0), s);
      case 'LiteralTerm':
        return this.literal(kid(0));
      case 'ExternalConstantTerm':
        return this.constant(n.text ?? '', s);
      case 'ThisInvocation':
        return this.focus(s);
      case 'MemberInvocation':
        return this.member(this.focus(s), n.text ?? '', true);
      case 'FunctionInvocation':
        return this.fn(this.focus(s), n, s);
      case 'InvocationExpression': {
        const base = this.node(kid(0), s);
        const step = kid(1);
        if (step.type === 'MemberInvocation') return this.member(base, step.text ?? '', false);
        if (step.type === 'FunctionInvocation') return this.fn(base, step, s);
        return refuse(`${step.type} after "."`);
      }
      case 'IndexerExpression': {
        const base = this.coll(this.node(kid(0), s));
        const idx = this.num(this.node(kid(1), s));
        return { k: 'coll', sql: `list_slice(${base}, CAST(${idx} AS BIGINT) + 1, CAST(${idx} AS BIGINT) + 1)` };
      }
      case 'EqualityExpression':
        return this.equality(n.text ?? '', this.node(kid(0), s), this.node(kid(1), s));
      case 'InequalityExpression':
        return this.inequality(n.text ?? '', this.node(kid(0), s), this.node(kid(1), s));
      case 'AndExpression':
        return { k: 'bool', sql: `(${this.bool(this.node(kid(0), s))} AND ${this.bool(this.node(kid(1), s))})` };
      case 'OrExpression': {
        const a = this.bool(this.node(kid(0), s));
        const b = this.bool(this.node(kid(1), s));
        if (n.text === 'or') return { k: 'bool', sql: `(${a} OR ${b})` };
        return { k: 'bool', sql: `(${a} <> ${b})` }; // xor: empty when either is empty
      }
      case 'ImpliesExpression': {
        const a = this.bool(this.node(kid(0), s));
        const b = this.bool(this.node(kid(1), s));
        return { k: 'bool', sql: `(CASE WHEN ${a} IS FALSE THEN true WHEN ${a} IS NULL THEN (CASE WHEN ${b} THEN true END) ELSE ${b} END)` };
      }
      case 'AdditiveExpression':
      case 'MultiplicativeExpression': {
        const op = n.text ?? '';
        const a = this.node(kid(0), s);
        const b = this.node(kid(1), s);
        if (op === '&') return { k: 'str', sql: `(coalesce(${this.str(a)}, '') || coalesce(${this.str(b)}, ''))` };
        if (op === '+' && (a.k === 'str' || b.k === 'str')) return { k: 'str', sql: `(${this.str(a)} || ${this.str(b)})` };
        if (!['+', '-', '*', '/'].includes(op)) return refuse(`the operator ${op}`);
        const sqlOp = op === '/' ? `/ NULLIF(${this.num(b)}, 0)` : `${op} ${this.num(b)}`;
        return { k: 'num', sql: `(${this.num(a)} ${sqlOp})` };
      }
      case 'UnionExpression': {
        const a = this.node(kid(0), s);
        const b = this.node(kid(1), s);
        const union = [...(a.union ?? [a]), ...(b.union ?? [b])];
        // Items of one element path (code.coding.where(...) | code.coding) keep its model: later steps read by path.
        const model = union.every((u) => u.model !== undefined && u.model === union[0]?.model) ? union[0]?.model : undefined;
        return { k: 'coll', sql: `fp_union(${this.coll(a)}, ${this.coll(b)})`, union, model };
      }
      case 'PolarityExpression': {
        const a = this.num(this.node(kid(0), s));
        return { k: 'num', sql: n.text === '-' ? `(- ${a})` : a };
      }
      default:
        return refuse(`${describe(n)}`);
    }
  }

  private literal(n: FpNode): Ex {
    const text = n.text ?? '';
    switch (n.type) {
      case 'StringLiteral':
        return { k: 'str', sql: this.param(unquote(text)) };
      case 'NumberLiteral':
        return { k: 'num', sql: `CAST(${this.param(Number(text))} AS DOUBLE)` };
      case 'BooleanLiteral':
        return { k: 'bool', sql: text === 'true' ? 'true' : 'false' };
      case 'NullLiteral':
        return { k: 'coll', sql: '[]::JSON[]' };
      default:
        return refuse(`the literal ${text}`);
    }
  }

  private constant(name: string, s: Scope): Ex {
    const id = name.replace(/^`|`$/g, '');
    if (id === 'rowIndex') return { k: 'num', sql: `CAST(${s.rowIndex} AS DOUBLE)` };
    if (id === 'resource' || id === 'rootResource') {
      return { k: 'coll', sql: '[_r.resource]', model: this.checked.view.resource, root: { item: '_r.resource', jpath: '$', wild: false } };
    }
    const c: ConstantValue | undefined = this.checked.constants.get(id);
    if (!c) return refuse(`the variable %${id}`);
    if (c.kind === 'boolean') return { k: 'bool', sql: c.value ? 'true' : 'false' };
    if (c.kind === 'number') return { k: 'num', sql: `CAST(${this.param(c.value)} AS DOUBLE)` };
    return { k: 'str', sql: `CAST(${this.param(c.value)} AS VARCHAR)` };
  }

  /**
   * A member step. With the FHIR model known, a chain of member steps from one item is one json_extract of a JSON
   * path ([*] where the element repeats); a choice element (value) is every value[x] of the model. Otherwise fp_nav.
   */
  private member(base: Ex, name: string, atRoot: boolean): Ex {
    const key = name.replace(/^`|`$/g, '');
    if (atRoot && key === this.checked.view.resource) return base;
    if (!KEY.test(key)) return refuse(`the element name ${JSON.stringify(key)}`);
    const el = base.model === undefined ? undefined : resolveElement(base.model, key);
    const nav = { base, key };
    const choices = el === undefined ? undefined : MODEL.choiceTypePaths[el];
    if (choices) {
      const parts = choices.map((t) => this.member(base, `${key}${t}`, false).sql);
      return { k: 'coll', sql: parts.length === 1 ? (parts[0] as string) : `list_concat(${parts.join(', ')})`, nav };
    }
    // A collection of at most one item (`one`) is navigated like the focus: by JSON path from that item.
    const root = base.root ?? (base.one === undefined ? undefined : { item: base.one, jpath: '$', wild: false });
    if (el !== undefined && root) {
      const rep = REPEATING.has(el);
      const jpath = `${root.jpath}.${key}${rep ? '[*]' : ''}`;
      const wild = root.wild || rep;
      const sql = wild
        ? `list_filter(json_extract(${root.item}, '${jpath}'), lambda _n: _n::VARCHAR <> 'null')`
        : `fp_items(json_extract(${root.item}, '${jpath}'))`;
      return { k: 'coll', sql, nav, model: el, root: { item: root.item, jpath, wild } };
    }
    // From one item (the focus, or a collection of at most one): its member's items, no list of bases to flatten.
    const one = base.root && base.root.jpath === '$' ? base.root.item : base.one;
    const sql = one !== undefined ? `fp_items(json_extract(${one}, '$.${key}'))` : `fp_nav(${this.coll(base)}, '$.${key}')`;
    return { k: 'coll', sql, nav, model: el };
  }

  private fn(base: Ex, n: FpNode, s: Scope): Ex {
    const functn = (n.children ?? [])[0];
    const name = n.text ?? functn?.children?.[0]?.text ?? '';
    const args = functn?.children?.find((c) => c.type === 'ParamList')?.children ?? [];
    const c = (): string => this.coll(base);
    const argCount = (...allowed: number[]): void => {
      if (!allowed.includes(args.length)) refuse(`${name}() with ${args.length} arguments`);
    };
    const withItem = (arg: FpNode): { v: string; body: Ex } => {
      const v = this.lambda();
      return { v, body: this.node(arg, { ctx: v, rowIndex: s.rowIndex, model: base.model }) };
    };
    switch (name) {
      case 'first':
        argCount(0);
        // The first item of a union is the first of the concatenation (removing duplicates keeps first occurrences).
        // The item itself (`one`): the first collection's first item, else the next one's (items are never NULL).
        if (base.union) {
          const one = `coalesce(${base.union.map((u) => this.oneItem(u) ?? `(${this.coll(u)})[1]`).join(', ')})`;
          return { k: 'coll', sql: `list_slice(list_concat(${base.union.map((u) => this.coll(u)).join(', ')}), 1, 1)`, model: base.model, one };
        }
        return { k: 'coll', sql: `list_slice(${c()}, 1, 1)`, model: base.model, one: this.oneItem(base) ?? `(${c()})[1]` };
      case 'last':
        argCount(0);
        return { k: 'coll', sql: `list_slice(${c()}, -1, -1)`, model: base.model };
      case 'exists': {
        argCount(0, 1);
        if (args.length === 0) {
          const item = this.oneItem(base);
          return { k: 'bool', sql: item === undefined ? `(len(${c()}) > 0)` : `(${item} IS NOT NULL)` };
        }
        const { v, body } = withItem(args[0] as FpNode);
        return { k: 'bool', sql: `(len(list_filter(${c()}, lambda ${v}: coalesce(${this.bool(body)}, false))) > 0)` };
      }
      case 'empty':
        argCount(0);
        return { k: 'bool', sql: `(len(${c()}) = 0)` };
      case 'count':
        argCount(0);
        return { k: 'num', sql: `CAST(len(${c()}) AS DOUBLE)` };
      case 'not':
        argCount(0);
        return { k: 'bool', sql: `(NOT ${this.bool(base)})` };
      case 'where': {
        argCount(1);
        // Over at most one element read by path: the criteria on that item itself (no list, no lambda); the item when
        // they hold. (Not over `one`: the item is written once more in the criteria, so chained where()s would double.)
        const item = base.one === undefined ? this.oneItem(base) : undefined;
        if (item !== undefined) {
          const body = this.node(args[0] as FpNode, { ctx: item, rowIndex: s.rowIndex, model: base.model });
          const one = `(CASE WHEN coalesce(${this.bool(body)}, false) THEN ${item} END)`;
          return { k: 'coll', sql: `list_filter([${one}], lambda _w: _w IS NOT NULL)`, model: base.model, one };
        }
        const { v, body } = withItem(args[0] as FpNode);
        return { k: 'coll', sql: `list_filter(${c()}, lambda ${v}: coalesce(${this.bool(body)}, false))`, model: base.model };
      }
      case 'join': {
        argCount(0, 1);
        const sep = args.length === 0 ? "''" : `coalesce(${this.str(this.node(args[0] as FpNode, s))}, '')`;
        const v = this.lambda();
        return { k: 'str', sql: `array_to_string(list_transform(${c()}, lambda ${v}: json_extract_string(${v}, '$')), ${sep})` };
      }
      case 'ofType': {
        argCount(1);
        const type = typeArg(args[0] as FpNode);
        if (base.nav) {
          // A choice element: value.ofType(Quantity) is valueQuantity.
          return this.member(base.nav.base, `${base.nav.key}${type.charAt(0).toUpperCase()}${type.slice(1)}`, false);
        }
        if (/^[A-Z]/.test(type)) {
          const v = this.lambda();
          return { k: 'coll', sql: `list_filter(${c()}, lambda ${v}: json_extract_string(${v}, '$.resourceType') = ${this.param(type)})` };
        }
        return refuse(`ofType(${type}) on something other than a choice element`);
      }
      case 'extension': {
        argCount(1);
        const url = this.str(this.node(args[0] as FpNode, s));
        const v = this.lambda();
        return { k: 'coll', sql: `list_filter(fp_nav(${c()}, '$.extension'), lambda ${v}: json_extract_string(${v}, '$.url') = ${url})`, model: 'Extension' };
      }
      case 'getResourceKey': {
        argCount(0);
        // On the resource itself: its id read by path (one parse of the resource for every path, see onePass).
        if (base.root && !base.root.wild && base.root.jpath === '$') return this.member(base, 'id', false);
        const v = this.lambda();
        return { k: 'coll', sql: `list_filter(list_transform(${c()}, lambda ${v}: json_extract(${v}, '$.id')), lambda ${v}: ${v} IS NOT NULL)` };
      }
      case 'getReferenceKey': {
        argCount(0, 1);
        const type = args.length === 0 ? 'NULL' : this.param(typeArg(args[0] as FpNode));
        const v = this.lambda();
        // Of one Reference (the model's 0..1 element read by path, or `one`): its key straight from its text.
        const ref = base.one ?? (base.k === 'coll' && base.root && !base.root.wild && base.model !== undefined ? `json_extract(${base.root.item}, '${base.root.jpath}')` : undefined);
        return {
          k: 'coll',
          sql: `list_filter(list_transform(${c()}, lambda ${v}: to_json(fp_refkey(json_extract_string(${v}, '$.reference'), ${type}))), lambda ${v}: json_type(${v}) <> 'NULL')`,
          ...(ref === undefined ? {} : { one: `to_json(fp_refkey(json_extract_string(${ref}, '$.reference'), ${type}))`, text: `fp_refkey(json_extract_string(${ref}, '$.reference'), ${type})` }),
        };
      }
      default:
        return refuse(`the function ${name}()`);
    }
  }

  private equality(op: string, a: Ex, b: Ex): Ex {
    let sql: string;
    if (op !== '=' && op !== '!=') return refuse(`the operator ${op}`);
    if (a.k === 'bool' || b.k === 'bool') sql = `(${this.bool(a)} = ${this.bool(b)})`;
    else if (a.k === 'num' || b.k === 'num') sql = `(${this.num(a)} = ${this.num(b)})`;
    else if (a.k === 'str' || b.k === 'str') sql = `(${this.str(a)} = ${this.str(b)})`;
    else sql = `(fp_cmp(fp_one(${a.sql}), fp_one(${b.sql})) = 0)`;
    return { k: 'bool', sql: op === '=' ? sql : `(NOT ${sql})` };
  }

  private inequality(op: string, a: Ex, b: Ex): Ex {
    if (!['<', '>', '<=', '>='].includes(op)) return refuse(`the operator ${op}`);
    if (a.k === 'num' || b.k === 'num') return { k: 'bool', sql: `(${this.num(a)} ${op} ${this.num(b)})` };
    if (a.k === 'str' || b.k === 'str') return { k: 'bool', sql: `(${this.str(a)} ${op} ${this.str(b)})` };
    return { k: 'bool', sql: `(fp_cmp(fp_one(${this.coll(a)}), fp_one(${this.coll(b)})) ${op} 0)` };
  }

  // ---- columns and selects ----
  column(c: ViewColumn, duckType: string, scope: Scope): string {
    if (this.typed) return this.typed.column(c.path, duckType, c.collection === true, scope.ctx);
    const e = this.expr(c.path, scope);
    if (c.collection === true) return `to_json(${this.coll(e)})`;
    switch (duckType) {
      case 'BOOLEAN':
        return e.k === 'bool' ? e.sql : `TRY_CAST(${e.one ?? `fp_one(${this.coll(e)})`} AS BOOLEAN)`;
      case 'INTEGER':
      case 'BIGINT':
        return `TRY_CAST(${e.k === 'coll' ? (e.one ?? `fp_one(${e.sql})`) : e.sql} AS ${duckType})`;
      case 'DOUBLE':
        return this.num(e);
      case 'JSON':
        return e.one ?? `fp_one(${this.coll(e)})`;
      default:
        return e.k === 'coll' ? this.str(e) : `CAST(${e.sql} AS VARCHAR)`;
    }
  }

  private typeOf(name: string): string {
    return this.checked.columns.find((c) => c.name === name)?.duckType ?? 'JSON';
  }

  private nullRow(s: ViewSelect): string {
    // Every column is null, except %rowIndex, which is 0 in the null row of a forEachOrNull.
    const index = new Set((s.column ?? []).filter((c) => c.path.trim() === '%rowIndex').map((c) => c.name));
    const cols = columnsOf(s);
    return `struct_pack(${cols.map((c) => `${quoteAnyIdent(c)} := ${index.has(c) ? '0' : 'NULL'}::${this.typeOf(c)}`).join(', ')})`;
  }

  /** The rows (a list of structs) of select node `s` for context item `ctx`. */
  select(s: ViewSelect, scope: Scope): string {
    if (s.repeat !== undefined) refuse('repeat');
    const iter = s.forEach ?? s.forEachOrNull;
    if (iter !== undefined) {
      // forEach: "where(criteria)" on the focus iterates over the focus itself or nothing: no new item is bound, so
      // the children keep reading the focus (and the resource's one-parse paths, see onePass).
      const crit = focusWhere(iter);
      if (crit !== undefined) {
        const cond = this.typed ? this.typed.condition(crit, scope.ctx) : this.bool(this.node(crit, scope));
        const empty = s.forEachOrNull === undefined ? '[]' : `[${this.nullRow(s)}]`;
        return `(CASE WHEN coalesce(${cond}, false) THEN ${this.parts(s, { ...scope, rowIndex: '0' })} ELSE ${empty} END)`;
      }
      const v = this.lambda();
      const e = this.typed ? undefined : this.expr(iter, scope);
      const items = e ? this.coll(e) : (this.typed as TypedExprs).items(iter, scope.ctx, v);
      const i = `${v}_i`;
      const inner: Scope = { ctx: v, rowIndex: `(${i} - 1)`, model: e?.model };
      const rowsOf = (list: string): string => `flatten(list_transform(${list}, lambda ${v}, ${i}: ${this.parts(s, inner)}))`;
      if (s.forEachOrNull === undefined) return rowsOf(items);
      const l = `${v}_l`;
      return `list_transform([${items}], lambda ${l}: CASE WHEN len(${l}) = 0 THEN [${this.nullRow(s)}] ELSE ${rowsOf(l)} END)[1]`;
    }
    return this.parts(s, scope);
  }

  /** A child select as a part of a cross product (a node of columns only is one row: `one`). */
  part(s: ViewSelect, scope: Scope): { sql: string; cols: string[]; one?: string } {
    const plain = s.forEach === undefined && s.forEachOrNull === undefined && s.repeat === undefined && !s.select?.length && !s.unionAll;
    if (plain && s.column && s.column.length > 0) {
      const fields = s.column.map((c) => `${quoteAnyIdent(c.name)} := ${this.column(c, this.typeOf(c.name), scope)}`);
      const one = `struct_pack(${fields.join(', ')})`;
      return { sql: `[${one}]`, cols: s.column.map((c) => c.name), one };
    }
    return { sql: this.select(s, scope), cols: columnsOf(s) };
  }

  /** A node's column row crossed with each child select's rows and with its unionAll rows. */
  private parts(s: ViewSelect, scope: Scope): string {
    const parts: { sql: string; cols: string[]; one?: string }[] = [];
    if (s.column && s.column.length > 0) {
      const fields = s.column.map((c) => `${quoteAnyIdent(c.name)} := ${this.column(c, this.typeOf(c.name), scope)}`);
      const one = `struct_pack(${fields.join(', ')})`;
      parts.push({ sql: `[${one}]`, cols: s.column.map((c) => c.name), one });
    }
    for (const child of s.select ?? []) parts.push(this.part(child, scope));
    if (s.unionAll) {
      const branches = s.unionAll.map((b) => this.select(b, scope));
      parts.push({ sql: branches.length === 1 ? (branches[0] as string) : `list_concat(${branches.join(', ')})`, cols: columnsOf(s.unionAll[0] as ViewSelect) });
    }
    return this.cross(parts);
  }

  /** The cross product of the parts' row lists; a part of one row (a column struct) is concatenated directly. */
  cross(parts: { sql: string; cols: string[]; one?: string }[]): string {
    if (parts.length === 0) return '[]';
    let acc = parts[0] as { sql: string; cols: string[]; one?: string };
    for (const p of parts.slice(1)) {
      const a = this.lambda();
      const b = this.lambda();
      let sql: string;
      if (acc.one !== undefined) sql = `list_transform(${p.sql}, lambda ${b}: struct_concat(${acc.one}, ${b}))`;
      else if (p.one !== undefined) sql = `list_transform(${acc.sql}, lambda ${a}: struct_concat(${a}, ${p.one}))`;
      else sql = `flatten(list_transform(${acc.sql}, lambda ${a}: list_transform(${p.sql}, lambda ${b}: struct_concat(${a}, ${b}))))`;
      acc = { sql, cols: [...acc.cols, ...p.cols] };
    }
    return acc.sql;
  }
}

function columnsOf(s: ViewSelect): string[] {
  const out = (s.column ?? []).map((c) => c.name);
  for (const c of s.select ?? []) out.push(...columnsOf(c));
  const first = s.unionAll?.[0];
  if (first) out.push(...columnsOf(first));
  return out;
}

function unwrap(n: FpNode): FpNode {
  return n;
}

/** The criteria node when `expr` is exactly where(criteria) applied to the focus, else undefined. */
function focusWhere(expr: string): FpNode | undefined {
  let n = fhirpath.parse(expr) as FpNode;
  while (['EntireExpression', 'TermExpression', 'InvocationTerm'].includes(n.type) && n.children?.length === 1) n = n.children[0] as FpNode;
  if (n.type !== 'FunctionInvocation' || n.text !== 'where') return undefined;
  const params = n.children?.[0]?.children?.find((c) => c.type === 'ParamList')?.children ?? [];
  return params.length === 1 ? params[0] : undefined;
}

/**
 * Every JSON path read from the whole resource is read in one parse: json_extract(resource, [paths]) once per row
 * (DuckDB allows no [*] there, so a wildcard path reads its prefix and applies the rest to that small value).
 */
function onePass(sql: string): { sql: string; paths: string[] } {
  const paths: string[] = [];
  const index = (p: string): number => {
    const i = paths.indexOf(p);
    if (i >= 0) return i + 1;
    paths.push(p);
    return paths.length;
  };
  const out = sql.replace(/(json_extract|json_extract_string)\(_r\.resource, '(\$[^']*)'\)/g, (_, fn: string, path: string) => {
    const w = path.indexOf('[*]');
    if (w < 0) return fn === 'json_extract' ? `_r._j[${index(path)}]` : `json_extract_string(_r._j[${index(path)}], '$')`;
    if (fn !== 'json_extract' || w === 1) return `${fn}(_r.resource, '${path}')`;
    return `coalesce(json_extract(_r._j[${index(path.slice(0, w))}], '$${path.slice(w)}'), []::JSON[])`;
  });
  return { sql: out, paths };
}

function describe(n: FpNode): string {
  const names: Record<string, string> = {
    TypeExpression: `the type operator ${n.text ?? 'is/as'}`,
    MembershipExpression: `the operator ${n.text ?? 'in/contains'}`,
    IndexInvocation: '$index',
    TotalInvocation: '$total',
  };
  return names[n.type] ?? `FHIRPath ${n.type}${n.text ? ` "${n.text}"` : ''}`;
}

export interface CompiledView {
  /** SELECT giving the view's rows (plus the lineage columns when asked) from the staged table `source`. */
  sql: string;
  params: Record<string, string | number | boolean>;
}

/**
 * Compiles a checked view to one SELECT over `source` (the staged table; `_r` is its alias). Returns the refusal
 * reason, "not compiled, use --engine reference: <what>", when the view uses what the compiler does not know.
 */
export function compileChecked(checked: CheckedView, source: string, lineage: boolean, mode: 'typed' | 'json' = 'typed'): CompiledView | { refused: string } {
  if (mode === 'typed') {
    const typed = compileMode(checked, source, lineage, true);
    if ('sql' in typed) return typed;
  }
  return compileMode(checked, source, lineage, false);
}

function compileMode(checked: CheckedView, source: string, lineage: boolean, typed: boolean): CompiledView | { refused: string } {
  const c = new Compiler(checked, typed);
  try {
    const view = checked.view;
    const top: Scope = { ctx: c.typed ? ROOT : '_r.resource', rowIndex: '0', model: view.resource };
    const parts = view.select.map((s) => c.part(s, top));
    // At most one part of several rows: the one-row parts (column structs) are plain columns of the resource's row,
    // computed once per resource, and the list part is unnested beside them (a cross product of one list). Crossing
    // them inside a lambda instead evaluated every one-row column per element, in the lambda executor.
    const flat = parts.length > 0 && parts.filter((p) => p.one === undefined).length <= 1;
    const owner = new Map<string, number>();
    parts.forEach((p, i) => p.cols.forEach((col) => owner.has(col) || owner.set(col, i)));
    const rows = flat ? parts.map((p, i) => (p.one !== undefined ? `${p.one} AS _v${i}` : `unnest(${p.sql}) AS _v${i}`)).join(', ') : `unnest(${c.cross(parts)}) AS _v`;
    const where = (view.where ?? []).map((w) => {
      if (c.typed) return `coalesce(${c.typed.condition(w.path, ROOT)}, false)`;
      const e = c.expr(w.path, top);
      return e.k === 'bool' ? `coalesce(${e.sql}, false)` : `fp_where(${c.coll(e)})`;
    });
    const cols = checked.columns.map((col) => `_v${flat ? (owner.get(col.name) ?? 0) : ''}.${quoteAnyIdent(col.name)}`);
    const lin = lineage ? ', _file, _line, _entry, _resource_id' : '';
    const body = `SELECT ${rows}${lineage ? ', _r._file, _r._line, _r._entry, _r.id AS _resource_id' : ''}
  FROM _r WHERE true${where.map((w) => ` AND ${w}`).join('')}`;
    const rt = c.param(view.resource);
    if (c.typed) {
      // One parse per resource, into a struct of just the elements the view reads.
      const from = `FROM (SELECT _file, _line, _entry, id, json_transform(resource, ${c.param(c.typed.structure())}) AS ${TYPED_COLUMN}
        FROM ${quoteAnyIdent(source)} WHERE resource_type = ${rt}) _r WHERE`;
      return { sql: `SELECT ${cols.join(', ')}${lin} FROM (${body.replace('FROM _r WHERE', () => from)})`, params: c.params };
    }
    const one = onePass(body);
    const multi = one.paths.length === 0 ? '' : `, json_extract(resource, [${one.paths.map((p) => `'${p}'`).join(', ')}]) AS _j`;
    // A function, not a replacement string: a path '$' in `multi` would read as the pattern $' (text after the match).
    const from = `FROM (SELECT *${multi} FROM ${quoteAnyIdent(source)} WHERE resource_type = ${rt}) _r WHERE`;
    const sql = `SELECT ${cols.join(', ')}${lin} FROM (${one.sql.replace('FROM _r WHERE', () => from)})`;
    return { sql, params: c.params };
  } catch (e) {
    if (e instanceof Refusal) return { refused: `not compiled, use --engine reference: ${e.message}` };
    throw e;
  }
}
