// Plain aligned text tables for small result sets (ledgers, summaries). Numbers right-aligned; no colour here.

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  align?: 'left' | 'right';
}

export function renderTextTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => formatCell(c.value(r))));
  const widths = columns.map((c, i) => cells.reduce((m, row) => Math.max(m, (row[i] ?? '').length), c.header.length));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => {
        const w = widths[i] ?? 0;
        const right = columns[i]?.align === 'right';
        return right ? v.padStart(w) : v.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

function formatCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2);
  return v;
}
