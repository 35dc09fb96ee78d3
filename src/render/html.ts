// The HTML report: one self-contained file (inline CSS and SVG, no script, a CSP that forbids any fetch) with
// a header saying when, from which lakehouse and with which rules it was made, the report's charts (Vega-Lite
// specs drawn to static SVG by vega, loaded only here), its table, and a print stylesheet for a clean PDF.
import type { TabularResult } from '../core/read/result.js';
import type { TextSink } from '../core/export/output.js';
import type { ResultRow } from '../core/read/values.js';
import { cellText, formatNumber, isNumericKind, severity } from './cells.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export interface HtmlOptions {
  /** Table rows shown at most (the rest are counted). */
  maxRows?: number | undefined;
  /** e.g. 'surgctl 0.1.0'. */
  generator?: string | undefined;
}

const CSS = `
:root { --fg: #1d2433; --muted: #5b6475; --line: #d9dee7; --bg: #ffffff; --panel: #f6f8fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 20px 28px 12px; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { font-size: 16px; margin: 24px 0 10px; }
.meta { color: var(--muted); margin: 0; }
main { padding: 0 28px 28px; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
figure { margin: 0; padding: 12px 14px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; max-width: 100%; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg text.axis { fill: var(--muted); }
svg text.title { font-weight: 600; font-size: 12px; }
svg text.value { font-size: 10px; }
svg text.note { fill: var(--muted); font-style: italic; }
svg .rule { stroke: #aab2c0; stroke-width: 1; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { position: sticky; top: 0; background: var(--panel); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sev-0 { color: #7b8594; } .sev-1 { color: #2b7a37; } .sev-2 { color: #a86b00; } .sev-3 { color: #c0392b; font-weight: 600; } .sev-4 { color: #fff; background: #a4161a; font-weight: 700; }
.count { color: var(--muted); }
dl.about { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0; font-size: 12px; color: var(--muted); }
dl.about dt { font-weight: 600; } dl.about dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
figure.chart-vitals { flex-basis: 100%; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { font-size: 10pt; }
  header { padding: 0 0 6px; }
  main { padding: 0; }
  .charts { display: block; }
  figure { break-inside: avoid; page-break-inside: avoid; border: none; background: none; padding: 0; margin: 0 0 8mm; overflow: visible; }
  svg { max-width: 100%; height: auto; }
  th { position: static; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  h2 { break-after: avoid; }
}
`;

const ABOUT_LABELS: Record<string, string> = {
  generated_at: 'generated',
  lakehouse: 'lakehouse',
  last_load_id: 'last load',
  last_transform_run_id: 'last transform run',
  rules_version: 'rules',
  rules_sha256: 'rules sha256',
  surgctl_version: 'surgctl',
};

function aboutHtml(about: Record<string, string> | undefined): string {
  if (about === undefined) return '';
  const items = Object.entries(about).map(([k, v]) => `<dt>${esc(ABOUT_LABELS[k] ?? k)}</dt><dd>${esc(v)}</dd>`);
  return `<dl class="about">${items.join('')}</dl>`;
}

async function chartsHtml(result: TabularResult): Promise<string> {
  const charts = result.charts;
  if (charts === undefined || charts.length === 0) return '';
  const { renderSvg } = await import('./vega.js');
  const figs: string[] = [];
  for (const c of charts) figs.push(`<figure class="chart-${esc(c.kind)}"><figcaption>${esc(c.title)}</figcaption>${await renderSvg(c.spec)}</figure>`);
  return `<h2>Charts</h2><section class="charts">${figs.join('\n')}</section>`;
}

function tableHtml(result: TabularResult, rows: ResultRow[], total: number): string {
  const head = result.columns.map((c) => `<th>${esc(c.name)}</th>`).join('');
  const body = rows
    .map((row) => {
      const tds = result.columns.map((c) => {
        const v = row[c.name];
        const sev = severity(c.name, v);
        const cls = [isNumericKind(c.kind) ? 'num' : '', sev === undefined ? '' : `sev-${sev}`].filter(Boolean).join(' ');
        return `<td${cls ? ` class="${cls}"` : ''}>${esc(cellText(v))}</td>`;
      });
      return `<tr>${tds.join('')}</tr>`;
    })
    .join('\n');
  const more = total - rows.length;
  const count = `<p class="count">${formatNumber(total)} row${total === 1 ? '' : 's'}${more > 0 ? `; the first ${formatNumber(rows.length)} shown (use --format csv or parquet for all)` : ''}</p>`;
  return `<h2>Data</h2><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${count}`;
}

/** Renders the whole page; returns the row count. */
export function htmlRenderer(options: HtmlOptions = {}) {
  return async (result: TabularResult, sink: TextSink): Promise<number> => {
    const max = options.maxRows ?? 2000;
    const rows: ResultRow[] = [];
    let total = 0;
    for await (const batch of result.rows) {
      for (const row of batch) {
        if (rows.length < max) rows.push(row);
        total++;
      }
    }
    const filters = Object.entries(result.filters ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
    const charts = await chartsHtml(result);
    const meta = [`surgctl ${result.name === 'query' ? 'query' : `report ${result.name}`}`, filters, options.generator].filter(Boolean).join(' · ');
    sink.write(
      `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(result.title)} · surgctl</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(result.title)}</h1><p class="meta">${esc(meta)}</p>${aboutHtml(result.about)}</header>
<main>
${charts}
${tableHtml(result, rows, total)}
</main>
</body>
</html>
`,
    );
    return total;
  };
}
