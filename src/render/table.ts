// The terminal view of a result: a table fitted to the terminal width by column priority (ids and instants whole,
// values shrink their headers or leave from the right, free text last, elided with … or moved under its row),
// numbers right-aligned, level-like columns coloured (chalk; none when colour is off).
import { Chalk, type ChalkInstance } from 'chalk';
import type { TabularResult } from '../core/read/result.js';
import type { TextSink } from '../core/export/output.js';
import type { ColumnKind, ResultColumn, ResultRow } from '../core/read/values.js';
import { cellText, formatNumber, isNumericKind, severity } from './cells.js';

export interface TableOptions {
  /** Terminal width in characters (default 120). */
  width?: number | undefined;
  color?: boolean | undefined;
  /** Rows shown at most; the rest are counted in a footer. */
  maxRows?: number | undefined;
  /** Free-text columns (elided or wrapped, shown last); default: reason, path, match, note, message, error, missing. */
  textColumns?: readonly string[] | undefined;
  /** Columns most important first: the last leave first when the terminal is narrow (default: keys, then values). */
  priority?: readonly string[] | undefined;
}

const MIN_WIDTH = 4;
const GAP = 2;
/** A free-text column narrower than this goes to a line of its own under each row. */
const TEXT_MIN = 16;
/** Free-text columns when the result does not name its own (query results). */
const TEXT_NAMES = new Set(['reason', 'path', 'match', 'note', 'notes', 'message', 'error', 'description', 'missing']);

/** How a column gives way: a key (id, instant) never does; a value shrinks its header or leaves; text elides. */
export type ColumnRole = 'key' | 'value' | 'text';

/** Display width of a string (code points; the data is ASCII but for names and reasons). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function truncate(s: string, w: number): string {
  if (width(s) <= w) return s;
  if (w <= 1) return '…';
  return `${[...s].slice(0, w - 1).join('')}…`;
}

/** The role of a column: ids (`*_id`) and instants are keys; free text is named by the result or by TEXT_NAMES. */
export function columnRole(col: ResultColumn, textColumns?: readonly string[]): ColumnRole {
  if (textColumns ? textColumns.includes(col.name) : TEXT_NAMES.has(col.name)) return 'text';
  if (col.kind === 'instant' || col.kind === 'date' || col.name === 'id' || col.name.endsWith('_id')) return 'key';
  return 'value';
}

/**
 * Column widths that fit `total`: start from the natural widths, then shave text columns down to their minimum,
 * then the widest other column, never below its minimum (so a key or a number keeps every character).
 */
export function fitWidths(natural: number[], minimums: number[], total: number, roles: ColumnRole[] = []): number[] {
  const w = [...natural];
  const budget = total - GAP * Math.max(0, w.length - 1);
  let sum = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length && sum > budget; i++) {
    if (roles[i] !== 'text') continue;
    const cut = Math.min(sum - budget, (w[i] ?? 0) - (minimums[i] ?? MIN_WIDTH));
    if (cut > 0) ((w[i] = (w[i] ?? 0) - cut), (sum -= cut));
  }
  while (sum > budget) {
    let widest = -1;
    for (let i = 0; i < w.length; i++) {
      if ((w[i] ?? 0) > (minimums[i] ?? MIN_WIDTH) && (widest < 0 || (w[i] ?? 0) > (w[widest] ?? 0))) widest = i;
    }
    if (widest < 0) break;
    w[widest] = (w[widest] ?? 0) - 1;
    sum--;
  }
  return w;
}

function paint(c: ChalkInstance, level: number | undefined, text: string): string {
  switch (level) {
    case 0:
      return c.dim(text);
    case 1:
      return c.green(text);
    case 2:
      return c.yellow(text);
    case 3:
      return c.red(text);
    case 4:
      return c.bold.red(text);
    default:
      return text;
  }
}

/** The narrowest a column may get: a key or a number its data (a key header 8, a value header 7); a short string 8. */
function minimumWidth(role: ColumnRole, kind: ColumnKind, data: number, header: number): number {
  if (role === 'text') return Math.min(Math.max(data, header), TEXT_MIN);
  if (role === 'key') return Math.max(data, Math.min(header, 8));
  const keepsData = kind === 'integer' || kind === 'number' || kind === 'boolean';
  return Math.max(keepsData ? data : Math.min(data, 8), Math.min(header, 7));
}

export interface TablePlan {
  /** Shown inline, in display order (non-text columns in result order, then text). */
  inline: { column: ResultColumn; index: number; role: ColumnRole; width: number }[];
  /** Free text too narrow to sit in the row: printed on a line of its own under each row. */
  wrapped: { column: ResultColumn; index: number }[];
  /** Columns left out for want of room (values first, keys only when the keys alone do not fit), in result order. */
  hidden: ResultColumn[];
}

/**
 * Plans a table for `total` columns. Keys (ids, instants) are never truncated; value columns leave from the right
 * when even their minimum widths do not fit (then keys, whole, when the keys alone are wider than the terminal); free text goes last and is elided at its end, or
 * moves under the row when fewer than 16 columns are left for it.
 */
export function planTable(columns: ResultColumn[], cells: string[][], total: number, textColumns?: readonly string[], priority?: readonly string[]): TablePlan {
  const roles = columns.map((c) => columnRole(c, textColumns));
  // Lower rank stays longer: the result's own priority list, else keys then values, each in result order.
  const byDefault = [...columns.keys()].sort((a, b) => Number(roles[a] !== 'key') - Number(roles[b] !== 'key') || a - b);
  const rank = columns.map((c, i) => {
    const p = priority?.indexOf(c.name) ?? -1;
    return p >= 0 ? p : (priority?.length ?? 0) + byDefault.indexOf(i);
  });
  const data = columns.map((_, i) => cells.reduce((m, row) => Math.max(m, width(row[i] ?? '')), 0));
  const header = columns.map((c) => width(c.name));
  const natural = columns.map((_, i) => Math.max(data[i] ?? 0, header[i] ?? 0));
  const minimum = columns.map((c, i) => minimumWidth(roles[i] ?? 'value', c.kind, data[i] ?? 0, header[i] ?? 0));
  const fixed = columns.map((_, i) => i).filter((i) => roles[i] !== 'text');
  const texts = columns.map((_, i) => i).filter((i) => roles[i] === 'text');
  const need = (ids: number[]): number => ids.reduce((s, i, k) => s + (minimum[i] ?? 0) + (k > 0 ? GAP : 0), 0);
  const shown = [...fixed];
  const hidden: number[] = [];
  // The lowest-ranked column leaves first, whole (a key is never cut, though it may leave when nothing else can).
  while (need(shown) > total && shown.length > 1) {
    const last = shown.reduce((worst, i) => ((rank[i] ?? 0) > (rank[worst] ?? 0) ? i : worst), shown[0] ?? 0);
    shown.splice(shown.indexOf(last), 1);
    hidden.push(last);
  }
  hidden.sort((a, b) => a - b);
  const inlineText: number[] = [];
  const wrapped: number[] = [];
  for (const i of texts) {
    if (need([...shown, ...inlineText, i]) <= total) inlineText.push(i);
    else wrapped.push(i);
  }
  const order = [...shown, ...inlineText];
  const widths = fitWidths(
    order.map((i) => natural[i] ?? 0),
    order.map((i) => minimum[i] ?? 0),
    total,
    order.map((i) => roles[i] ?? 'value'),
  );
  return {
    inline: order.map((i, k) => ({ column: columns[i] as ResultColumn, index: i, role: roles[i] ?? 'value', width: widths[k] ?? MIN_WIDTH })),
    wrapped: wrapped.map((i) => ({ column: columns[i] as ResultColumn, index: i })),
    hidden: hidden.map((i) => columns[i] as ResultColumn),
  };
}

/**
 * Renders rows as a fitted table string (header, rule, rows): see planTable for how columns give way. Free text
 * moved under its row reads `  reason: …`; value columns left out are named on a last line.
 */
export function formatTable(allColumns: ResultColumn[], rows: ResultRow[], options: TableOptions = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const total = options.width ?? 120;
  const cells = rows.map((r) => allColumns.map((col) => cellText(r[col.name])));
  const plan = planTable(allColumns, cells, total, options.textColumns, options.priority);
  const pad = (text: string, k: number): string => {
    const p = plan.inline[k];
    const w = p?.width ?? MIN_WIDTH;
    const t = truncate(text, w);
    const fill = ' '.repeat(Math.max(0, w - width(t)));
    return p !== undefined && isNumericKind(p.column.kind) ? fill + t : t + fill;
  };
  const lines: string[] = [];
  lines.push(plan.inline.map((p, k) => c.bold(pad(p.column.name, k))).join(' '.repeat(GAP)).trimEnd());
  lines.push(c.dim(plan.inline.map((p) => '─'.repeat(p.width)).join(' '.repeat(GAP))));
  rows.forEach((row, r) => {
    const line = plan.inline.map((p, k) => paint(c, severity(p.column.name, row[p.column.name]), pad(cells[r]?.[p.index] ?? '', k)));
    lines.push(line.join(' '.repeat(GAP)).trimEnd());
    for (const w of plan.wrapped) {
      const text = cells[r]?.[w.index] ?? '';
      if (text !== '') lines.push(c.dim(truncate(`  ${w.column.name}: ${text}`, total)));
    }
  });
  if (plan.hidden.length > 0) {
    const hidden = plan.hidden.map((col) => col.name).join(', ');
    lines.push(c.dim(truncate(`not shown (too narrow): ${hidden}; widen the terminal or use --format`, total)));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The table renderer: collects up to maxRows (then stops reading, so a huge result on a terminal costs little),
 * prints a title, the table and a footer with the count.
 */
export function tableRenderer(options: TableOptions = {}) {
  return async (result: TabularResult, sink: TextSink): Promise<number> => {
    const max = options.maxRows ?? Number.POSITIVE_INFINITY;
    const rows: ResultRow[] = [];
    let more = false;
    outer: for await (const batch of result.rows) {
      for (const row of batch) {
        if (rows.length >= max) {
          more = true;
          break outer;
        }
        rows.push(row);
      }
    }
    const c = new Chalk({ level: options.color ? 1 : 0 });
    const filters = Object.entries(result.filters ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
    sink.write(`${c.bold(result.title)}${filters ? c.dim(`  ${filters}`) : ''}\n`);
    if (rows.length === 0) {
      sink.write(c.dim('(no rows)\n'));
      return 0;
    }
    sink.write(formatTable(result.columns, rows, { ...options, textColumns: options.textColumns ?? result.textColumns, priority: options.priority ?? result.priority }));
    const n = formatNumber(rows.length);
    sink.write(c.dim(more ? `first ${n} rows shown; more not shown (use --limit, or --format csv/json for all)\n` : `${n} row${rows.length === 1 ? '' : 's'}\n`));
    return rows.length;
  };
}
