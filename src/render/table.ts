// The terminal view of a result: a table fitted to the terminal width (the widest columns give way first and
// their cells end in …), numbers right-aligned, level-like columns coloured (chalk; none when colour is off).
import { Chalk, type ChalkInstance } from 'chalk';
import type { TabularResult } from '../core/read/result.js';
import type { TextSink } from '../core/export/output.js';
import type { ResultColumn, ResultRow } from '../core/read/values.js';
import { cellText, formatNumber, isNumericKind, severity } from './cells.js';

export interface TableOptions {
  /** Terminal width in characters (default 120). */
  width?: number | undefined;
  color?: boolean | undefined;
  /** Rows shown at most; the rest are counted in a footer. */
  maxRows?: number | undefined;
}

const MIN_WIDTH = 4;
const GAP = 2;

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

/** Column widths that fit `total`: start from the natural widths, then shave the widest until it fits. */
export function fitWidths(natural: number[], minimums: number[], total: number): number[] {
  const w = [...natural];
  const budget = total - GAP * Math.max(0, w.length - 1);
  let sum = w.reduce((a, b) => a + b, 0);
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

/** Columns that fit `total` at their minimum widths, from the left; the rest are hidden (and counted). */
export function visibleColumns(minimums: number[], total: number): number {
  let used = 0;
  for (let i = 0; i < minimums.length; i++) {
    used += (minimums[i] ?? MIN_WIDTH) + (i > 0 ? GAP : 0);
    if (used > total) return Math.max(1, i);
  }
  return minimums.length;
}

/**
 * Renders rows as a fitted table string (header, rule, rows). Columns give way widest first down to 8
 * characters (or their natural width); when even that is too wide, the rightmost columns are left out and
 * a last line says which.
 */
export function formatTable(allColumns: ResultColumn[], rows: ResultRow[], options: TableOptions = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const total = options.width ?? 120;
  const allCells = rows.map((r) => allColumns.map((col) => cellText(r[col.name])));
  // A loop, not Math.max(...cells): spreading 100k+ rows as arguments overflows the call stack.
  const allNatural = allColumns.map((col, i) => allCells.reduce((m, row) => Math.max(m, width(row[i] ?? '')), width(col.name)));
  const allMinimums = allNatural.map((n) => Math.min(n, 8));
  const shown = visibleColumns(allMinimums, total);
  const columns = allColumns.slice(0, shown);
  const cells = allCells.map((row) => row.slice(0, shown));
  const widths = fitWidths(allNatural.slice(0, shown), allMinimums.slice(0, shown), total);
  const right = columns.map((col) => isNumericKind(col.kind));
  const pad = (text: string, i: number): string => {
    const w = widths[i] ?? MIN_WIDTH;
    const t = truncate(text, w);
    const fill = ' '.repeat(Math.max(0, w - width(t)));
    return right[i] ? fill + t : t + fill;
  };
  const lines: string[] = [];
  lines.push(columns.map((col, i) => c.bold(pad(col.name, i))).join(' '.repeat(GAP)).trimEnd());
  lines.push(c.dim(widths.map((w) => '─'.repeat(w)).join(' '.repeat(GAP))));
  rows.forEach((row, r) => {
    const line = columns.map((col, i) => {
      const text = pad(cells[r]?.[i] ?? '', i);
      return paint(c, severity(col.name, row[col.name]), text);
    });
    lines.push(line.join(' '.repeat(GAP)).trimEnd());
  });
  if (shown < allColumns.length) {
    const hidden = allColumns.slice(shown).map((col) => col.name).join(', ');
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
    sink.write(formatTable(result.columns, rows, options));
    const n = formatNumber(rows.length);
    sink.write(c.dim(more ? `first ${n} rows shown; more not shown (use --limit, or --format csv/json for all)\n` : `${n} row${rows.length === 1 ? '' : 's'}\n`));
    return rows.length;
  };
}
