// Inline SVG charts for the HTML report: drawn here as strings, no script and no network. Data marks carry
// class="mark" (the headless-browser test measures them) and a <title> tooltip with the exact value.
import { ALERT_LEVELS, isNews2Band, type News2Band } from '../core/domain.js';
import type { LevelCounts, LoadQuality, PatientVitals, RiskLevelCount } from '../core/read/charts.js';
import { formatNumber } from './cells.js';

export const LEVEL_COLORS: Record<string, string> = {
  none: '#9aa5b1',
  low: '#3fa34d',
  medium: '#f2a516',
  high: '#e4572e',
  critical: '#a4161a',
};
const BAND_COLORS: Record<News2Band, string> = { low: '#3fa34d', 'low-medium': '#a7c957', medium: '#f2a516', high: '#d62828' };
const BAND_ZONES = [
  { band: 'low', from: 0, to: 5, fill: '#eaf6ec', label: 'low 0–4' },
  { band: 'medium', from: 5, to: 7, fill: '#fdf1d8', label: 'medium 5–6' },
  { band: 'high', from: 7, to: Infinity, fill: '#fbe3df', label: 'high ≥7' },
];
const METRIC_COLORS = ['#1f77b4', '#9467bd', '#17becf', '#8c564b', '#e377c2'];
const METRIC_LABELS: Record<string, string> = {
  heart_rate: 'heart rate /min',
  resp_rate: 'resp. rate /min',
  spo2: 'SpO₂ %',
  systolic_bp: 'systolic mmHg',
  temperature_c: 'temp. °C',
};

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const r1 = (n: number): string => (Math.round(n * 10) / 10).toString();

function svg(width: number, height: number, label: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(label)}">${body}</svg>`;
}

function rect(x: number, y: number, w: number, h: number, fill: string, title?: string, cls = 'mark'): string {
  const t = title === undefined ? '' : `<title>${esc(title)}</title>`;
  return `<rect class="${cls}" x="${r1(x)}" y="${r1(y)}" width="${r1(Math.max(0, w))}" height="${r1(Math.max(0, h))}" fill="${fill}">${t}</rect>`;
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${r1(x)}" y="${r1(y)}" ${attrs}>${esc(s)}</text>`;
}

function hourLabel(iso: string): string {
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** NEWS2 per hour as bars over the band zones (top panel) and each vital's hourly mean as a line (bottom panel). */
export function vitalsChart(p: PatientVitals): string {
  const W = 760;
  const H = 280;
  const left = 44;
  const right = 170;
  const plotW = W - left - right;
  const a = { top: 18, h: 100 };
  const b = { top: 148, h: 100 };
  const times = [...p.news2.map((h) => Date.parse(h.hour_start)), ...p.metrics.flatMap((m) => m.points.map((q) => Date.parse(q.hour_start)))];
  if (times.length === 0) return svg(W, 40, `${p.patient_id}: no vitals`, text(left, 24, `${p.patient_id}: no hourly vitals in range`, 'class="note"'));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const span = t1 - t0 + 3_600_000;
  const x = (t: number): number => left + ((t - t0) / span) * plotW;
  const hourW = Math.max(1, (3_600_000 / span) * plotW - (plotW / (span / 3_600_000) > 4 ? 1 : 0));
  const parts: string[] = [];
  const maxTotal = Math.max(0, ...p.news2.map((h) => h.news2_total ?? 0));
  const yMax = Math.max(10, maxTotal + 1);
  const yA = (v: number): number => a.top + a.h - (Math.min(v, yMax) / yMax) * a.h;
  for (const z of BAND_ZONES) {
    if (z.from >= yMax) continue;
    const top = yA(Math.min(z.to, yMax));
    parts.push(rect(left, top, plotW, yA(z.from) - top, z.fill, undefined, 'zone'));
    parts.push(text(left + plotW + 6, (top + yA(z.from)) / 2 + 4, z.label, 'class="axis"'));
  }
  for (const tick of [0, 5, 7, yMax]) parts.push(text(left - 6, yA(tick) + 4, String(tick), 'class="axis" text-anchor="end"'));
  for (const h of p.news2) {
    if (h.news2_total === null) continue;
    const top = yA(h.news2_total);
    const height = Math.max(1, a.top + a.h - top);
    const band = h.news2_band ?? 'low';
    parts.push(rect(x(Date.parse(h.hour_start)), a.top + a.h - height, hourW, height, isNews2Band(band) ? BAND_COLORS[band] : '#666', `${h.hour_start} NEWS2 ${h.news2_total} (${band})`));
  }
  parts.push(text(left, a.top - 4, 'NEWS2 per hour', 'class="axis"'));
  parts.push(`<line x1="${left}" y1="${b.top + b.h}" x2="${left + plotW}" y2="${b.top + b.h}" class="rule"/>`);
  parts.push(text(left, b.top - 4, 'hourly mean, each vital on its own scale', 'class="axis"'));
  p.metrics.forEach((m, i) => {
    const vals = m.points.map((q) => q.avg).filter((v): v is number => v !== null);
    if (vals.length === 0) return;
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const yB = (v: number): number => (hi === lo ? b.top + b.h / 2 : b.top + b.h - ((v - lo) / (hi - lo)) * (b.h - 8) - 4);
    const color = METRIC_COLORS[i % METRIC_COLORS.length] ?? '#333';
    // A gap of more than two hours without readings breaks the line rather than drawing across it.
    let prev = Number.NEGATIVE_INFINITY;
    const d = m.points
      .filter((q) => q.avg !== null)
      .map((q) => {
        const t = Date.parse(q.hour_start);
        const move = t - prev > 2 * 3_600_000 ? 'M' : 'L';
        prev = t;
        return `${move}${r1(x(t) + hourW / 2)} ${r1(yB(q.avg as number))}`;
      })
      .join(' ');
    const label = `${METRIC_LABELS[m.metric] ?? m.metric} ${formatNumber(lo)}–${formatNumber(hi)}`;
    parts.push(`<path class="mark" d="${d.replace(/M([\d.]+ [\d.]+)(?= M|$)/g, 'M$1 h2')}" fill="none" stroke="${color}" stroke-width="1.6"><title>${esc(label)}</title></path>`);
    const ly = b.top + 10 + i * 18;
    parts.push(`<line x1="${left + plotW + 6}" y1="${ly - 4}" x2="${left + plotW + 20}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    parts.push(text(left + plotW + 24, ly, label, 'class="axis"'));
  });
  const hours = Math.round(span / 3_600_000);
  const ticks = new Set<number>();
  for (let k = 0; k <= Math.min(6, hours - 1); k++) ticks.add(t0 + Math.round(((hours - 1) * k) / Math.max(1, Math.min(6, hours - 1))) * 3_600_000);
  for (const t of ticks) {
    parts.push(`<line x1="${r1(x(t) + hourW / 2)}" y1="${b.top + b.h}" x2="${r1(x(t) + hourW / 2)}" y2="${b.top + b.h + 4}" class="rule"/>`);
    parts.push(text(x(t) + hourW / 2, H - 10, hourLabel(new Date(t).toISOString()), 'class="axis" text-anchor="middle"'));
  }
  return svg(W, H, `hourly vitals and NEWS2 for ${p.patient_id}`, parts.join(''));
}

/** Events per risk level, vertical bars on a log scale (critical events are rare but must show). */
export function riskLevelsChart(levels: RiskLevelCount[]): string {
  const W = 480;
  const H = 240;
  const left = 20;
  const top = 40;
  const plotH = 150;
  const barW = (W - left * 2) / Math.max(1, levels.length);
  const max = Math.max(1, ...levels.map((l) => l.events));
  const scale = (n: number): number => (n <= 0 ? 0 : Math.max(2, (Math.log10(1 + n) / Math.log10(1 + max)) * plotH));
  const parts = [text(left, 16, 'events per risk level (log scale)', 'class="axis"')];
  levels.forEach((l, i) => {
    const h = scale(l.events);
    const x = left + i * barW + 8;
    parts.push(rect(x, top + plotH - h, barW - 16, h, LEVEL_COLORS[l.level] ?? '#666', `${l.level}: ${l.events} events`));
    parts.push(text(x + (barW - 16) / 2, top + plotH - h - 4, formatNumber(l.events), 'class="value" text-anchor="middle"'));
    parts.push(text(x + (barW - 16) / 2, top + plotH + 18, l.level, 'class="axis" text-anchor="middle"'));
  });
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${W - left}" y2="${top + plotH}" class="rule"/>`);
  return svg(W, H, 'risk-level distribution of telemetry events', parts.join(''));
}

/** Horizontal bars stacked by alert level (medium, high, critical), one row per key. */
export function alertBarsChart<K extends string>(rows: (LevelCounts & Record<K, string>)[], key: K, what: string): string {
  const W = 480;
  const rowH = 22;
  const top = 34;
  const labelW = 120;
  const plotW = W - labelW - 60;
  const H = top + Math.max(1, rows.length) * rowH + 10;
  const totals = rows.map((r) => r.medium + r.high + r.critical);
  const max = Math.max(1, ...totals);
  const parts: string[] = [];
  let lx = labelW;
  for (const level of ALERT_LEVELS) {
    parts.push(rect(lx, 8, 10, 10, LEVEL_COLORS[level] ?? '#666', undefined, 'key'));
    parts.push(text(lx + 14, 17, level, 'class="axis"'));
    lx += 80;
  }
  if (rows.length === 0) parts.push(text(labelW, top + 14, `no alerts per ${what}`, 'class="note"'));
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(text(labelW - 6, y + 14, String(r[key] ?? ''), 'class="axis" text-anchor="end"'));
    let x = labelW;
    for (const level of ALERT_LEVELS) {
      const n = r[level];
      if (n <= 0) continue;
      const w = Math.max(1, (n / max) * plotW);
      parts.push(rect(x, y + 3, w, rowH - 6, LEVEL_COLORS[level] ?? '#666', `${String(r[key])}: ${n} ${level}`));
      x += w;
    }
    parts.push(text(x + 4, y + 15, formatNumber(totals[i] ?? 0), 'class="value"'));
  });
  return svg(W, H, `alerts per ${what} by level`, parts.join(''));
}

/** Per load, in time order: a 100% bar of rows inserted, duplicate and quarantined (small shares kept visible). */
export function qualityChart(loads: LoadQuality[]): string {
  const W = 760;
  const rowH = 22;
  const top = 34;
  const labelW = 200;
  const plotW = W - labelW - 150;
  const H = top + Math.max(1, loads.length) * rowH + 10;
  const parts: string[] = [];
  const keys = [
    { k: 'rows_inserted', label: 'inserted', fill: '#3fa34d' },
    { k: 'rows_duplicate', label: 'duplicate', fill: '#9aa5b1' },
    { k: 'rows_quarantined', label: 'quarantined', fill: '#d62828' },
  ] as const;
  let lx = labelW;
  for (const key of keys) {
    parts.push(rect(lx, 8, 10, 10, key.fill, undefined, 'key'));
    parts.push(text(lx + 14, 17, key.label, 'class="axis"'));
    lx += 100;
  }
  if (loads.length === 0) parts.push(text(labelW, top + 14, 'no loads in range', 'class="note"'));
  loads.forEach((l, i) => {
    const y = top + i * rowH;
    const total = l.rows_inserted + l.rows_duplicate + l.rows_quarantined;
    parts.push(text(labelW - 6, y + 14, `${l.dataset} · ${l.started_at.slice(0, 16).replace('T', ' ')}`, 'class="axis" text-anchor="end"'));
    let x = labelW;
    for (const key of keys) {
      const n = l[key.k];
      if (n <= 0 || total <= 0) continue;
      const w = Math.max(2, (n / total) * plotW);
      parts.push(rect(x, y + 3, w, rowH - 6, key.fill, `${l.load_id} ${l.dataset}: ${n} ${key.label} of ${total}`));
      x += w;
    }
    const share = total > 0 ? (l.rows_quarantined / total) * 100 : 0;
    parts.push(text(labelW + plotW + 14, y + 15, `${formatNumber(l.rows_quarantined)} quarantined (${share.toFixed(2)}%)`, 'class="value"'));
  });
  return svg(W, H, 'data quality per load', parts.join(''));
}
