// The HTML report: one self-contained file (inline CSS and SVG, no script, a CSP that forbids any fetch) with
// the report's charts and its table. Deterministic: no wall-clock time in the page.
import type { TabularResult } from '../core/read/result.js';
import type { TextSink } from '../core/export/output.js';
import type { ResultRow } from '../core/read/values.js';
import { cellText, formatNumber, isNumericKind, severity } from './cells.js';
import { alertBarsChart, esc, qualityChart, riskLevelsChart, vitalsChart } from './svg-charts.js';

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
`;

function chartsHtml(result: TabularResult): string {
  const c = result.charts;
  if (c === undefined) return '';
  const figs: string[] = [];
  const fig = (caption: string, body: string, cls: string): void => {
    figs.push(`<figure class="${cls}"><figcaption>${esc(caption)}</figcaption>${body}</figure>`);
  };
  if (c.riskLevels) fig('Risk-level distribution', riskLevelsChart(c.riskLevels), 'chart-risk');
  if (c.alertsByProcedure) fig('Alerts per procedure (top, by level)', alertBarsChart(c.alertsByProcedure, 'procedure_id', 'procedure'), 'chart-alerts-procedure');
  if (c.alertsByRobot) fig('Alerts per robot (by level)', alertBarsChart(c.alertsByRobot, 'robot_id', 'robot'), 'chart-alerts-robot');
  if (c.dataQuality) fig('Data quality over loads', qualityChart(c.dataQuality), 'chart-quality');
  if (c.vitals) {
    if (c.vitals.length === 0) fig('Hourly vitals and NEWS2', '<p class="meta">no hourly vitals in range</p>', 'chart-vitals');
    for (const p of c.vitals) {
      const max = Math.max(0, ...p.news2.map((h) => h.news2_total ?? 0));
      fig(`Hourly vitals and NEWS2 bands: ${p.patient_id} (max NEWS2 ${max})`, vitalsChart(p), 'chart-vitals');
    }
  }
  return figs.length ? `<h2>Charts</h2><section class="charts">${figs.join('\n')}</section>` : '';
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
<header><h1>${esc(result.title)}</h1><p class="meta">${esc(meta)}</p></header>
<main>
${chartsHtml(result)}
${tableHtml(result, rows, total)}
</main>
</body>
</html>
`,
    );
    return total;
  };
}
