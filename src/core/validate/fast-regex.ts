// The fast-path line regex: one RE2 expression over a whole CSV line that matches only lines which are one complete
// record (no quotes, the header's field count) whose every cell passes every row-level check of the schema, warnings
// included. It must be sound, not complete: a line it matches is valid for sure; a line it does not match goes
// through the exact compiled checks, which decide. So each slot accepts a simple, common subset of the valid values
// (numbers without exponent and inside the bounds by their integer part, dates with a day the month surely has, ...).
// Whatever the slot builder cannot express soundly makes the whole schema ineligible (`reason`), and the caller
// validates the file the exact way only.
import type { JsonSchema } from '../schemas.js';

type Schema = JsonSchema | boolean;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A slot: the RE2 text for one cell and the fewest characters a cell it matches can have. */
interface Slot {
  re: string;
  min: number;
}

export type FastLine =
  | {
      ok: true;
      regex: string;
      /** Lines up to this long (characters) hold no cell over its maxLength: they need no cellMaxLength check. */
      maxLineLength: number | null;
      /** Per header column: the maxLength its cell must keep that the regex does not bound (null: none). A longer
       *  line passes only when each such cell is within its bound, as length(cell) <= bound in SQL. */
      cellMaxLength: (number | null)[];
      /** Per header column: what a present cell must match (RE2, before the empty-cell option) and its maxLength. */
      cells: { re: string; maxLength: number | null }[];
      /** Columns with a finite set of values (enum, const): the values a cell may hold. */
      values: Map<string, string[]>;
    }
  | { ok: false; reason: string };

const ANNOTATION = (k: string): boolean =>
  k.startsWith('x-') || ['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly',
    'writeOnly', '$anchor'].includes(k);

/** One character as RE2 text: letters and digits as is, other ASCII as \x{HH}, the rest (UTF-8) as is. */
export function reChar(ch: string): string {
  if (/^[A-Za-z0-9]$/.test(ch)) return ch;
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) return `\\x{${cp.toString(16).toUpperCase()}}`;
  return ch;
}

export function reLiteral(s: string): string {
  return [...s].map(reChar).join('');
}

/** Largest integer part the fast path accepts for an unbounded number: below 2^53, so exact as a double. */
const MAX_INT_PART = 999_999_999_999_999;

/** RE2 for the decimal numerals (no leading zeros) of the integers in [lo, hi], 0 <= lo; '' when empty. */
export function intRangeRegex(lo: number, hi: number): string {
  lo = Math.max(0, Math.ceil(lo));
  hi = Math.min(MAX_INT_PART, Math.floor(hi));
  if (!(lo <= hi)) return '';
  const parts: string[] = [];
  for (let d = String(lo).length; d <= String(hi).length; d++) {
    const a = Math.max(lo, d === 1 ? 0 : 10 ** (d - 1));
    const b = Math.min(hi, 10 ** d - 1);
    if (a <= b) parts.push(sameLength(String(a), String(b)));
  }
  return parts.length === 1 ? (parts[0] as string) : `(?:${parts.join('|')})`;
}

/** RE2 for the equal-length digit strings a..b (a <= b). */
function sameLength(a: string, b: string): string {
  if (a.length === 0) return '';
  if (a === b) return a;
  const rest = a.length - 1;
  const a0 = Number(a[0]);
  const b0 = Number(b[0]);
  const aRest = a.slice(1);
  const bRest = b.slice(1);
  if (a0 === b0) return `${a0}${sameLength(aRest, bRest)}`;
  const any = (n: number): string => (n === 0 ? '' : n === 1 ? '[0-9]' : `[0-9]{${n}}`);
  const cls = (x: number, y: number): string => (x === y ? String(x) : `[${x}-${y}]`);
  const alts: string[] = [];
  let lowMid = a0 + 1;
  let highMid = b0 - 1;
  if (/^0*$/.test(aRest)) lowMid = a0;
  else alts.push(`${a0}${sameLength(aRest, '9'.repeat(rest))}`);
  const lastAll9 = /^9*$/.test(bRest);
  if (lastAll9) highMid = b0;
  if (lowMid <= highMid) alts.push(`${cls(lowMid, highMid)}${any(rest)}`);
  if (!lastAll9) alts.push(`${b0}${sameLength('0'.repeat(rest), bRest)}`);
  return alts.length === 1 ? (alts[0] as string) : `(?:${alts.join('|')})`;
}

interface Bounds {
  min?: number | undefined;
  exMin?: number | undefined;
  max?: number | undefined;
  exMax?: number | undefined;
}

/**
 * Numbers in [bounds], as a CSV cell the compiled engine reads as a finite JSON number: -?I or -?I.F, no exponent.
 * Integer part ranges are chosen so that the double of any matched numeral is inside the bounds (see inline notes).
 */
export function numberSlot(bounds: Bounds, integerOnly: boolean): Slot | null {
  const { min, exMin, max, exMax } = bounds;
  const inf = Number.POSITIVE_INFINITY;
  const ceil = Math.ceil;
  const floor = Math.floor;
  const alts: string[] = [];
  const add = (sign: string, lo: number, hi: number, tail: string): void => {
    const r = intRangeRegex(lo, hi);
    if (r) alts.push(`${sign}${r}${tail}`);
  };
  // Exact integers (I or I.000): the value is +-I exactly (I < 2^53).
  {
    let lo = 0;
    let hi = inf;
    if (min !== undefined) lo = Math.max(lo, ceil(min));
    if (exMin !== undefined) lo = Math.max(lo, floor(exMin) + 1);
    if (max !== undefined) hi = Math.min(hi, floor(max));
    if (exMax !== undefined) hi = Math.min(hi, ceil(exMax) - 1);
    add('', lo, hi, '(?:\\.0+)?');
    // Negative: v = -I, I >= 1 (no "-0").
    let nlo = 1;
    let nhi = inf;
    if (min !== undefined) nhi = Math.min(nhi, floor(-min));
    if (exMin !== undefined) nhi = Math.min(nhi, ceil(-exMin) - 1);
    if (max !== undefined) nlo = Math.max(nlo, ceil(-max));
    if (exMax !== undefined) nlo = Math.max(nlo, floor(-exMax) + 1);
    add('-', nlo, nhi, '(?:\\.0+)?');
  }
  if (!integerOnly) {
    // Fractions I.F: the value v is in [I, I + 1] and so is its double (I and I + 1 are exact doubles).
    let lo = 0;
    let hi = inf;
    if (min !== undefined) lo = Math.max(lo, ceil(min));
    if (exMin !== undefined) lo = Math.max(lo, floor(exMin) + 1);
    if (max !== undefined) hi = Math.min(hi, floor(max) - 1);
    if (exMax !== undefined) hi = Math.min(hi, ceil(exMax) - 2);
    add('', lo, hi, '\\.[0-9]+');
    // -I.F: the double is in [-(I + 1), -I].
    let nlo = 0;
    let nhi = inf;
    if (min !== undefined) nhi = Math.min(nhi, floor(-min) - 1);
    if (exMin !== undefined) nhi = Math.min(nhi, ceil(-exMin) - 2);
    if (max !== undefined) nlo = Math.max(nlo, ceil(-max));
    if (exMax !== undefined) nlo = Math.max(nlo, floor(-exMax) + 1);
    add('-', nlo, nhi, '\\.[0-9]+');
  }
  if (!alts.length) return null;
  return { re: alts.length === 1 ? (alts[0] as string) : `(?:${alts.join('|')})`, min: 1 };
}

// Shapes that are valid for sure (the compiled format macros accept them on their first branch, or by the calendar):
// the day exists in every year for that month; hour <= 23, second <= 59; an offset Z or ±HH:MM (formats.ts).
const MONTH_DAY = '(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)';
const DATE = `[0-9]{4}-${MONTH_DAY}`;
const TIME = '(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?(?:[zZ]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])';
const FORMATS: Record<string, { re: string; min: number; chars: string }> = {
  'date-time': { re: `${DATE}[tT ]${TIME}`, min: 20, chars: '0123456789-:.tTzZ+ ' },
  date: { re: DATE, min: 10, chars: '0123456789-' },
  time: { re: TIME, min: 9, chars: '0123456789-:.zZ+' },
  uuid: { re: '(?i:(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12})', min: 36, chars: '0123456789abcdefABCDEF-:urnidURNID' },
};

/**
 * A JSON Schema pattern (ECMA-262) as a slot: the strings without forbidden characters that the pattern matches.
 * Handles a common subset (literals, classes, \d \w, groups, alternation, quantifiers, ^ $ at the ends); undefined
 * otherwise. Every atom is narrowed to exclude the forbidden characters, which keeps the language exact.
 */
export function patternSlot(pattern: string, forbidden: string[]): Slot | undefined {
  let src = pattern;
  const anchoredStart = src.startsWith('^');
  if (anchoredStart) src = src.slice(1);
  const anchoredEnd = src.endsWith('$') && !src.endsWith('\\$');
  if (anchoredEnd) src = src.slice(0, -1);
  const notForbidden = `[^${forbidden.map(reChar).join('')}]`;
  let i = 0;
  const fail = (): never => {
    throw new Error('unsupported');
  };
  // Parses an alternation; returns RE2 and min length.
  const parseAlt = (): Slot => {
    const branches: Slot[] = [parseSeq()];
    while (src[i] === '|') {
      i++;
      branches.push(parseSeq());
    }
    if (branches.length === 1) return branches[0] as Slot;
    return { re: branches.map((b) => b.re).join('|'), min: Math.min(...branches.map((b) => b.min)) };
  };
  const parseSeq = (): Slot => {
    let re = '';
    let min = 0;
    while (i < src.length && src[i] !== '|' && src[i] !== ')') {
      const atom = parseAtom();
      const q = parseQuantifier();
      re += atom.re + q.re;
      min += atom.min * q.times;
    }
    return { re, min };
  };
  const parseQuantifier = (): { re: string; times: number } => {
    const ch = src[i];
    let re = '';
    let times = 1;
    if (ch === '*' || ch === '+' || ch === '?') {
      i++;
      re = ch;
      times = ch === '+' ? 1 : 0;
    } else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (!m) fail();
      const mm = m as RegExpExecArray;
      i += mm[0].length;
      re = mm[0];
      times = Number(mm[1]);
      if (times > 1000 || (mm[3] && Number(mm[3]) > 1000)) fail();
    } else return { re, times };
    if (src[i] === '?') i++; // lazy: same language
    if (src[i] === '*' || src[i] === '+' || src[i] === '?' || src[i] === '{') fail();
    return { re, times };
  };
  const classEscape = (c: string): string => {
    if (c === 'd') return '0-9';
    if (c === 'w') return 'A-Za-z0-9_';
    if (/[A-Za-z0-9]/.test(c)) fail();
    return reChar(c);
  };
  const parseAtom = (): Slot => {
    const ch = src[i] as string;
    if (ch === '(') {
      i++;
      if (src.startsWith('?:', i)) i += 2;
      else if (src[i] === '?') fail();
      const inner = parseAlt();
      if (src[i] !== ')') fail();
      i++;
      return { re: `(?:${inner.re})`, min: inner.min };
    }
    if (ch === '[') {
      i++;
      let negated = false;
      if (src[i] === '^') {
        negated = true;
        i++;
      }
      let body = '';
      let first = true;
      while (i < src.length && (src[i] !== ']' || first)) {
        first = false;
        const c = src[i] as string;
        if (c === '\\') {
          const e = src[i + 1];
          if (e === undefined) fail();
          body += classEscape(e as string);
          i += 2;
        } else if (c === '[') fail();
        else if (c === '-' && body !== '' && src[i + 1] !== ']') {
          body += '-';
          i++;
        } else {
          const cp = src.codePointAt(i) ?? 0;
          const s = String.fromCodePoint(cp);
          body += reChar(s);
          i += s.length;
        }
      }
      if (src[i] !== ']' || body === '') fail();
      i++;
      if (negated) return { re: `[^${body}${forbidden.map(reChar).join('')}]`, min: 1 };
      // A positive class: exact only when it holds no forbidden character (tested with the pattern's own semantics).
      const jsClass = new RegExp(`[${classSource(body)}]`, 'u');
      if (forbidden.some((f) => jsClass.test(f))) fail();
      return { re: `[${body}]`, min: 1 };
    }
    if (ch === '\\') {
      const e = src[i + 1];
      if (e === undefined) fail();
      i += 2;
      if (e === 'd') return { re: '[0-9]', min: 1 };
      if (e === 'w') return { re: '[A-Za-z0-9_]', min: 1 };
      if (/[A-Za-z0-9]/.test(e as string)) fail();
      if (forbidden.includes(e as string)) fail();
      return { re: reChar(e as string), min: 1 };
    }
    if (ch === '.') {
      i++;
      return { re: `[^\\n\\r\\x{2028}\\x{2029}${forbidden.map(reChar).join('')}]`, min: 1 };
    }
    if ('*+?{}|)^$]'.includes(ch)) fail();
    const cp = src.codePointAt(i) ?? 0;
    const s = String.fromCodePoint(cp);
    i += s.length;
    if (forbidden.includes(s)) fail();
    return { re: reChar(s), min: 1 };
  };
  try {
    const body = parseAlt();
    if (i !== src.length) return undefined;
    const re = `${anchoredStart ? '' : `${notForbidden}*`}(?:${body.re})${anchoredEnd ? '' : `${notForbidden}*`}`;
    return { re, min: body.min };
  } catch {
    return undefined;
  }
}

/** The RE2 class body (\x{HH} escapes) as a JS class body for testing membership. */
function classSource(body: string): string {
  return body.replace(/\\x\{([0-9A-F]+)\}/g, (_, h: string) => `\\u{${h}}`);
}

interface FieldRules {
  types: Set<string> | undefined;
  parts: Record<string, unknown>[];
}

/**
 * Builds the fast line regex for a CSV file with `header` and `delimiter` under `schema`, or says why not.
 * `members` narrows columns to a set of values (foreign keys: the referenced keys), each of which the caller has
 * checked against that column's own cell regex and maxLength (from a first call without `members`).
 * Only flat schemas: properties of scalar keywords, required, additionalProperties true/false, and allOf entries of
 * plain properties/required (any x-severity). Conditionals (if/then/else), x-compare and multipleOf make it ineligible.
 */
export function buildFastLine(schema: Schema, header: string[], delimiter: string, members?: Map<string, string[]>): FastLine {
  if (!isObj(schema)) return { ok: false, reason: 'not an object schema' };
  if (delimiter === '"' || delimiter === '\n' || delimiter === '\r') return { ok: false, reason: 'delimiter' };
  for (const [k] of Object.entries(schema)) {
    if (ANNOTATION(k) || k === 'type' || k === 'properties' || k === 'required' || k === 'additionalProperties') continue;
    if (k !== 'allOf') return { ok: false, reason: `root keyword ${k}` };
  }
  if (schema['x-compare'] !== undefined) return { ok: false, reason: 'x-compare' };
  const props = isObj(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
  const parts: [string, Schema][] = Object.entries(props);
  const required = new Set<string>(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const plain = (part: Record<string, unknown>, where: string): string | undefined => {
    for (const k of Object.keys(part)) if (!ANNOTATION(k) && k !== 'properties' && k !== 'required') return `${where} keyword ${k}`;
    return undefined;
  };
  const add = (part: Record<string, unknown>, into: [string, Schema][], req: Set<string>): void => {
    for (const n of Array.isArray(part.required) ? (part.required as string[]) : []) req.add(n);
    for (const [name, ps] of Object.entries(isObj(part.properties) ? part.properties : {})) into.push([name, ps as Schema]);
  };
  // Conditionals of one shape: if {properties: {F: {const: C}}, required?: [F]} then/else plain parts, all on one F.
  interface Cond { value: string; needsF: boolean; then?: Record<string, unknown>; else?: Record<string, unknown> }
  const conds: Cond[] = [];
  let switchField: string | undefined;
  for (const entry of Array.isArray(schema.allOf) ? (schema.allOf as unknown[]) : []) {
    if (!isObj(entry)) return { ok: false, reason: 'allOf entry' };
    if (!('if' in entry || 'then' in entry || 'else' in entry)) {
      const why = plain(entry, 'allOf');
      if (why) return { ok: false, reason: why };
      add(entry, parts, required);
      continue;
    }
    const cond = entry.if;
    const ifProps = isObj(cond) && isObj(cond.properties) ? Object.entries(cond.properties) : [];
    const [field, fs] = ifProps[0] ?? [];
    const ifReq = isObj(cond) && Array.isArray(cond.required) ? (cond.required as unknown[]) : [];
    if (!isObj(cond) || ifProps.length !== 1 || !field || !isObj(fs) || typeof fs.const !== 'string' || Object.keys(fs).some((k) => k !== 'const' && !ANNOTATION(k))
      || Object.keys(cond).some((k) => k !== 'properties' && k !== 'required' && !ANNOTATION(k)) || ifReq.some((r) => r !== field)) {
      return { ok: false, reason: 'allOf: an if other than one property equal to a constant' };
    }
    if (switchField !== undefined && switchField !== field) return { ok: false, reason: 'allOf: conditionals on several properties' };
    switchField = field;
    for (const part of ['then', 'else'] as const) {
      const x = entry[part];
      if (x === undefined) continue;
      if (!isObj(x)) return { ok: false, reason: `allOf ${part}: not an object` };
      const why = plain(x, `allOf ${part}`);
      if (why) return { ok: false, reason: why };
    }
    conds.push({
      value: fs.const, needsF: ifReq.length > 0,
      ...(isObj(entry.then) ? { then: entry.then } : {}), ...(isObj(entry.else) ? { else: entry.else } : {}),
    });
  }
  const base = buildCase(schema, props, header, delimiter, parts, required, members);
  if (!base.ok || switchField === undefined) return base;
  // One alternative per value of the switch field (its enum), each with the then/else parts that hold for it, and
  // one for the field absent when it may be.
  const f = switchField;
  if (members?.has(f)) return { ok: false, reason: `${f}: both a switch and a foreign key` };
  const values = base.values.get(f);
  if (!values) return { ok: false, reason: `${f}: conditionals on a property without an enum` };
  const alternatives: FastLine[] = [];
  const cases: (string | null)[] = [...values, ...(required.has(f) ? [] : [null])];
  for (const v of cases) {
    const caseParts = [...parts];
    const caseReq = new Set(required);
    for (const c of conds) {
      const holds = v === null ? !c.needsF : v === c.value;
      const part = holds ? c.then : c.else;
      if (part) add(part, caseParts, caseReq);
    }
    const m = new Map(members ?? []);
    m.set(f, v === null ? [] : [v]);
    alternatives.push(buildCase(schema, props, header, delimiter, caseParts, caseReq, m));
  }
  const ok = alternatives.filter((a): a is Extract<FastLine, { ok: true }> => a.ok);
  if (!ok.length) return { ok: false, reason: `${f}: no case of the conditionals can be matched` };
  const bounds = ok.map((a) => a.maxLineLength);
  return {
    ok: true,
    regex: ok.length === 1 ? (ok[0] as { regex: string }).regex : `(?:${ok.map((a) => a.regex).join('|')})`,
    // Sound for whichever alternative a line matches: the smallest bound.
    maxLineLength: bounds.includes(null) && bounds.every((b) => b === null) ? null : Math.min(...bounds.filter((b): b is number => b !== null)),
    cellMaxLength: header.map((_, i) => {
      const b = ok.map((a) => a.cellMaxLength[i]).filter((x): x is number => typeof x === 'number');
      return b.length ? Math.min(...b) : null;
    }),
    cells: base.cells,
    values: base.values,
  };
}

function buildCase(schema: Record<string, unknown>, props: Record<string, Schema>, header: string[], delimiter: string,
  parts: [string, Schema][], required: Set<string>, members: Map<string, string[]> | undefined): FastLine {
  const forbidden = [delimiter, '"', '\r', '\n'];
  const anyCell = `[^${forbidden.map(reChar).join('')}]`;
  const rules = new Map<string, FieldRules>();
  for (const [name, s] of parts) {
    if (s === true) continue;
    if (!isObj(s)) return { ok: false, reason: `${name}: not a schema object` };
    const r = rules.get(name) ?? { types: undefined, parts: [] };
    if (s.type !== undefined) {
      const t = new Set(Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]);
      r.types = r.types ? new Set([...r.types].filter((x) => t.has(x))) : t;
    }
    r.parts.push(s);
    rules.set(name, r);
  }
  const values = new Map<string, string[]>();
  const slots: Slot[] = [];
  const maxLens: (number | undefined)[] = [];
  const cells: { re: string; maxLength: number | null }[] = [];
  for (const name of header) {
    const r = rules.get(name);
    let slot: Slot | undefined;
    let maxLen: number | undefined;
    if (!Object.hasOwn(props, name) && !r) {
      // An unknown column: with additionalProperties false only an empty (absent) cell passes.
      if (schema.additionalProperties === false && required.has(name)) return { ok: false, reason: `${name}: required and unknown` };
      slot = schema.additionalProperties === false ? { re: '', min: 0 } : { re: `${anyCell}+`, min: 1 };
    } else {
      const built = fieldSlot(name, r ?? { types: undefined, parts: [] }, forbidden, anyCell);
      if ('reason' in built) return { ok: false, reason: built.reason };
      slot = built.slot;
      maxLen = built.maxLen;
      if (built.values) values.set(name, built.values);
    }
    cells.push({ re: slot.re, maxLength: maxLen ?? null });
    const allowed = members?.get(name);
    if (allowed) {
      // The exact set of values (RE2 compiles a large alternation of literals into one automaton).
      if (!allowed.length) slot = { re: '', min: 0 };
      else {
        const sorted = [...allowed].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
        slot = { re: `(?:${sorted.map(reLiteral).join('|')})`, min: Math.min(...allowed.map((v) => [...v].length)) };
      }
      maxLen = undefined;
    }
    if (required.has(name)) {
      // A present cell has at least one character (an empty cell is absent).
      if (slot.min === 0) return { ok: false, reason: `${name}: required but its check allows an empty cell` };
    } else if (slot.re !== '') slot = { re: `(?:${slot.re})?`, min: 0 };
    slots.push(slot);
    maxLens.push(maxLen);
  }
  for (const n of required) if (!header.includes(n)) return { ok: false, reason: `required column ${n} missing` };
  // maxLength without a direct regex bound: a line of L characters holds a cell of at most
  // L - (fields - 1) - (the other cells' minimum lengths) characters.
  const totalMin = slots.reduce((s, x) => s + x.min, 0);
  let maxLineLength: number | null = null;
  maxLens.forEach((m, i) => {
    if (m === undefined) return;
    const bound = m + (header.length - 1) + (totalMin - (slots[i] as Slot).min);
    maxLineLength = maxLineLength === null ? bound : Math.min(maxLineLength, bound);
  });
  const sep = reChar(delimiter);
  // Empty fields past the header's last column are no fields (DuckDB's read_csv drops them, so the exact staging
  // does): a line may end in any number of delimiters. They only lengthen the line, so maxLineLength stays sound.
  return { ok: true, regex: `${slots.map((s) => s.re).join(sep)}(?:${sep})*`, maxLineLength, cellMaxLength: maxLens.map((m) => m ?? null), cells, values };
}

function fieldSlot(name: string, r: FieldRules, forbidden: string[], anyCell: string): { slot: Slot; maxLen?: number; values?: string[] } | { reason: string } {
  const no = (why: string): { reason: string } => ({ reason: `${name}: ${why}` });
  const types = r.types ? [...r.types] : ['string'];
  if (types.length !== 1) return no('several types');
  const type = types[0] as string;
  const merged: Record<string, unknown[]> = {};
  for (const p of r.parts) {
    for (const [k, v] of Object.entries(p)) {
      if (ANNOTATION(k) || k === 'type') continue;
      (merged[k] ??= []).push(v);
    }
  }
  const one = (k: string): unknown => (merged[k]?.length === 1 ? merged[k]?.[0] : undefined);
  const known = new Set(['enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'format']);
  // multipleOf 1 is "an integer" (what the integer numerals below are); other multiples are not handled.
  const wholeOnly = merged.multipleOf !== undefined && merged.multipleOf.every((m) => m === 1) && (type === 'number' || type === 'integer');
  for (const k of Object.keys(merged)) if (!known.has(k) && !(k === 'multipleOf' && wholeOnly)) return no(`keyword ${k}`);
  if (type === 'number' || type === 'integer') {
    for (const k of ['enum', 'const', 'minLength', 'maxLength', 'pattern', 'format']) if (merged[k]) return no(`${k} on a number`);
    const nums = (k: string): number[] => (merged[k] ?? []).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
      if ((merged[k] ?? []).length !== nums(k).length) return no(`${k} not a number`);
      if (nums(k).some((x) => Math.abs(x) > MAX_INT_PART)) return no(`${k} too large`);
    }
    const b: Bounds = {};
    if (nums('minimum').length) b.min = Math.max(...nums('minimum'));
    if (nums('exclusiveMinimum').length) b.exMin = Math.max(...nums('exclusiveMinimum'));
    if (nums('maximum').length) b.max = Math.min(...nums('maximum'));
    if (nums('exclusiveMaximum').length) b.exMax = Math.min(...nums('exclusiveMaximum'));
    const slot = numberSlot(b, type === 'integer' || wholeOnly);
    return slot ? { slot } : no('no number passes the bounds');
  }
  if (type === 'boolean') {
    if (Object.keys(merged).length) return no('keywords on a boolean');
    return { slot: { re: '(?:true|false)', min: 4 } };
  }
  if (type !== 'string') return no(`type ${type}`);
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) if (merged[k]) return no(`${k} on a string`);
  const minLength = Math.max(0, ...((merged.minLength ?? []) as number[]));
  const maxLength = merged.maxLength ? Math.min(...(merged.maxLength as number[])) : undefined;
  if (![minLength, maxLength ?? 0].every((n) => Number.isInteger(n))) return no('length not an integer');
  const patterns = (merged.pattern ?? []) as string[];
  const formats = (merged.format ?? []) as string[];
  const choices = merged.enum || merged.const;
  if (choices) {
    // A finite set: keep the values every other keyword accepts (checked here, exactly), unquoted-safe and non-empty.
    // Every enum and const applies: the values in all of them.
    if (formats.length) return no('format with enum');
    const lists = [...(merged.enum ?? []), ...(merged.const ?? []).map((c) => [c])];
    if (!lists.every(Array.isArray)) return no('enum not a list');
    const values = (lists[0] as unknown[]).filter((v) => lists.every((l) => (l as unknown[]).includes(v)));
    const res = patterns.map((p) => {
      try {
        return new RegExp(p, 'u');
      } catch {
        return undefined;
      }
    });
    if (res.some((x) => x === undefined)) return no('pattern');
    const ok = values.filter((v): v is string => typeof v === 'string').filter((v) => {
      const len = [...v].length;
      return v !== '' && !forbidden.some((f) => v.includes(f)) && len >= minLength && (maxLength === undefined || len <= maxLength)
        && res.every((re) => (re as RegExp).test(v));
    });
    if (!ok.length) return no('no enum value can be written unquoted');
    const sorted = [...ok].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    return { slot: { re: `(?:${sorted.map(reLiteral).join('|')})`, min: Math.min(...ok.map((v) => [...v].length)) }, values: ok };
  }
  if (formats.length + patterns.length > 1) return no('several patterns/formats');
  let slot: Slot;
  if (formats.length) {
    const f = FORMATS[formats[0] as string];
    if (!f) return no(`format ${formats[0]}`);
    if (forbidden.some((c) => f.chars.includes(c))) return no('the delimiter can occur in the format');
    slot = { re: f.re, min: f.min };
    if (minLength > f.min) return no('minLength above the format');
  } else if (patterns.length) {
    const p = patternSlot(patterns[0] as string, forbidden);
    if (!p) return no('pattern');
    if (p.min < minLength) return no('minLength above the pattern');
    slot = p;
  } else if (maxLength !== undefined && maxLength <= 32) {
    return { slot: { re: `${anyCell}{${Math.max(minLength, 1)},${maxLength}}`, min: Math.max(minLength, 1) } };
  } else {
    slot = { re: `${anyCell}${minLength > 1 ? `{${minLength},}` : '+'}`, min: Math.max(minLength, 1) };
  }
  // An empty cell is absent in CSV, never an empty string: a present cell has at least one character.
  if (slot.min === 0) slot = { re: `(?:${slot.re})`, min: 0 };
  return maxLength !== undefined ? { slot, maxLen: maxLength } : { slot };
}
