// The report's charts as Vega-Lite specs (plain JSON, data inline): src/render draws them to static SVG with vega's
// headless View, and `report --format vega-lite` hands them to a notebook. Vitals are small multiples: one row per
// vital (its own y-axis and unit) and NEWS2 on top over its shaded bands, one column per stay (a gap of more than
// the rules' stay_gap_h hours starts a new one), alarming values (a parameter scoring 3) marked red.
import { ALERT_LEVELS, NEWS2_BANDS, RISK_LEVELS, VITAL_DISPLAY } from '../domain.js';
import type { ChartSpec } from '../read/result.js';
import { DEFAULT_STAY_GAP_HOURS, type Dashboard, type LevelCounts, type LoadQuality, type PatientVitals, type RiskLevelCount } from './dashboard.js';

type Spec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const HOUR_MS = 3_600_000;

export const LEVEL_COLORS: Record<string, string> = {
  none: '#9aa5b1',
  low: '#3fa34d',
  medium: '#f2a516',
  high: '#e4572e',
  critical: '#a4161a',
};
const BAND_COLORS: Record<string, string> = { low: '#3fa34d', 'low-medium': '#a7c957', medium: '#f2a516', high: '#d62828' };
/** A partial observation set has no band (news2_band 'incomplete'): grey, never a band colour, and in the legend. */
const INCOMPLETE = 'incomplete';
const INCOMPLETE_COLOR = '#9e9e9e';
const BAND_DOMAIN = [...NEWS2_BANDS, INCOMPLETE];
const BAND_RANGE = [...NEWS2_BANDS.map((b) => BAND_COLORS[b] ?? '#666'), INCOMPLETE_COLOR];
/** NEWS2 aggregate-score zones shaded behind the bars (RCP 2017: 0-4 low, 5-6 medium, 7+ high). */
const ZONES = [
  { zone: 'low 0–4', y0: 0, y1: 4.5, fill: '#eaf6ec' },
  { zone: 'medium 5–6', y0: 4.5, y1: 6.5, fill: '#fdf1d8' },
  { zone: 'high ≥7', y0: 6.5, y1: 20, fill: '#fbe3df' },
];
const ALARM = '#c0392b';
/** Each cell keeps its own scales: stays never share an x-axis, vitals never share a y-axis (domains are explicit). */
const INDEPENDENT = { scale: { x: 'independent', y: 'independent', color: 'shared' } };
const LINE = '#1f5fa8';
/** At most this many stays (columns) per patient: the latest ones. */
export const MAX_STAYS = 6;

const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
  view: { stroke: '#d9dee7' },
  axis: { labelFontSize: 10, titleFontSize: 11, labelColor: '#5b6475', titleColor: '#1d2433', gridColor: '#edf0f5' },
  header: { labelFontSize: 11, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 0 },
};

function base(title: string, description: string): Spec {
  return { $schema: SCHEMA, title: { text: title, anchor: 'start', fontSize: 13 }, description, background: 'white', config: CONFIG };
}

export interface Stay {
  /** ISO 8601 UTC, the first hour with data. */
  from: string;
  /** ISO 8601 UTC, the end of the last hour with data (exclusive). */
  to: string;
}

/** Splits hour starts (ISO, any order) into stays: a gap of more than `gapHours` without data starts a new one. */
export function splitStays(hours: readonly string[], gapHours: number): Stay[] {
  const times = [...new Set(hours.map((h) => Date.parse(h)))].filter(Number.isFinite).sort((a, b) => a - b);
  const stays: { from: number; last: number }[] = [];
  for (const t of times) {
    const cur = stays[stays.length - 1];
    if (cur !== undefined && t - cur.last <= (gapHours + 1) * HOUR_MS) cur.last = t;
    else stays.push({ from: t, last: t });
  }
  return stays.map((s) => ({ from: new Date(s.from).toISOString(), to: new Date(s.last + HOUR_MS).toISOString() }));
}

const iso = (t: number): string => new Date(t).toISOString();
const inStay = (s: Stay, hour: string): boolean => hour >= s.from && hour < s.to;

function timeAxis(s: Stay, showTitle: boolean, stayNo: number, field = 'hour_start'): Spec {
  const hours = (Date.parse(s.to) - Date.parse(s.from)) / HOUR_MS;
  // Within two days the labels are hours and the title carries the date (sparse real data, e.g. yearly Synthea
  // visits, makes 1 h stays whose two full date-time labels ran into each other).
  const day = s.from.slice(0, 10);
  return {
    field,
    type: 'temporal',
    scale: { type: 'utc', domain: [Date.parse(s.from), Date.parse(s.to)] },
    axis: showTitle
      ? {
          title: hours > 48 ? `stay ${stayNo} (${hours} h, UTC)` : `stay ${stayNo} (${hours} h, UTC) ${day}`,
          format: hours > 48 ? '%m-%d' : '%H:%M',
          labelOverlap: 'greedy',
          labelSeparation: 6,
          labelAngle: 0,
          tickCount: 2,
          labelFlush: true,
        }
      : null,
  };
}

/** Width of a stay's column: about 640 px shared by the stays in proportion to their hours, at least 130 px each. */
function stayWidth(s: Stay, stays: readonly Stay[]): number {
  const hours = (x: Stay): number => (Date.parse(x.to) - Date.parse(x.from)) / HOUR_MS;
  const total = stays.reduce((t, x) => t + hours(x), 0);
  return Math.round(Math.max(130, (640 * hours(s)) / Math.max(1, total)));
}

function news2Cell(p: PatientVitals, s: Stay, i: number, first: number, stays: readonly Stay[], yMax: number, last: boolean): Spec {
  const points = p.news2
    .filter((h) => inStay(s, h.hour_start) && h.news2_total !== null)
    .map((h) => ({ hour_start: h.hour_start, hour_end: iso(Date.parse(h.hour_start) + HOUR_MS), news2_total: h.news2_total, bar: Math.max(h.news2_total ?? 0, 0.15), news2_band: h.news2_band ?? 'low' }));
  return {
    width: stayWidth(s, stays),
    height: 90,
    layer: [
      {
        data: { values: ZONES.map((z) => ({ ...z, t0: s.from, t1: s.to, y1: Math.min(z.y1, yMax) })).filter((z) => z.y0 < yMax) },
        mark: { type: 'rect', opacity: 1 },
        encoding: {
          x: { field: 't0', type: 'temporal', axis: null },
          x2: { field: 't1' },
          y: { field: 'y0', type: 'quantitative', scale: { domain: [0, yMax], nice: false }, axis: i === 0 ? { title: 'NEWS2', values: [0, 5, 7, yMax], grid: false } : null },
          y2: { field: 'y1' },
          fill: { field: 'fill', type: 'nominal', scale: null },
          tooltip: { field: 'zone', type: 'nominal' },
        },
      },
      {
        data: { values: points },
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: timeAxis(s, last, first + i + 1),
          x2: { field: 'hour_end' },
          // A score of 0 still shows as a thin bar: the hour was scored.
          y: { field: 'bar', type: 'quantitative', scale: { domain: [0, yMax], nice: false } },
          y2: { datum: 0 },
          color: {
            field: 'news2_band',
            type: 'nominal',
            title: 'NEWS2 band',
            scale: { domain: BAND_DOMAIN, range: BAND_RANGE },
            legend: { orient: 'right' },
          },
          tooltip: [
            { field: 'hour_start', type: 'nominal', title: 'hour (UTC)' },
            { field: 'news2_total', type: 'quantitative', title: 'NEWS2' },
            { field: 'news2_band', type: 'nominal', title: 'band' },
          ],
        },
      },
    ],
  };
}

function metricCell(metric: PatientVitals['metrics'][number], s: Stay, i: number, first: number, stays: readonly Stay[], domain: [number, number], last: boolean): Spec {
  const d = VITAL_DISPLAY[metric.metric] ?? { label: metric.metric, unit: '' };
  const values = metric.points
    .filter((q) => inStay(s, q.hour_start) && q.avg !== null)
    .map((q) => ({ hour_start: q.hour_start, hour_mid: iso(Date.parse(q.hour_start) + HOUR_MS / 2), avg: q.avg, score: q.score ?? 0, alarm: (q.score ?? 0) >= 3 }));
  const y = { field: 'avg', type: 'quantitative', scale: { domain, nice: true, zero: false }, axis: i === 0 ? { title: [d.label, `(${d.unit})`], tickCount: 3 } : null };
  const tooltip = [
    { field: 'hour_start', type: 'nominal', title: 'hour (UTC)' },
    { field: 'avg', type: 'quantitative', title: `${d.label} (${d.unit})`, format: '.1f' },
    { field: 'score', type: 'quantitative', title: 'NEWS2 score' },
  ];
  return {
    width: stayWidth(s, stays),
    height: 60,
    data: { values },
    layer: [
      { mark: { type: 'line', color: LINE, strokeWidth: 1.5, interpolate: 'monotone' }, encoding: { x: timeAxis(s, last, first + i + 1, 'hour_mid'), y } },
      { mark: { type: 'point', filled: true, size: 14, color: LINE }, encoding: { x: { field: 'hour_mid', type: 'temporal' }, y: { field: 'avg', type: 'quantitative' }, tooltip } },
      {
        transform: [{ filter: 'datum.alarm' }],
        mark: { type: 'point', filled: true, size: 60, color: ALARM, stroke: 'white', strokeWidth: 1 },
        encoding: { x: { field: 'hour_mid', type: 'temporal' }, y: { field: 'avg', type: 'quantitative' }, tooltip },
      },
    ],
  };
}

/** One patient's small multiples: NEWS2 then each vital as rows, stays as columns. */
export function vitalsSpec(p: PatientVitals, gapHours = DEFAULT_STAY_GAP_HOURS): Spec {
  const all = splitStays([...p.news2.map((h) => h.hour_start), ...p.metrics.flatMap((m) => m.points.map((q) => q.hour_start))], gapHours);
  // Real records can hold many short stays (Synthea: a visit a year): the latest MAX_STAYS columns stay readable,
  // and the title says how many were left out.
  const first = Math.max(0, all.length - MAX_STAYS);
  const stays = all.slice(first);
  const maxTotal = Math.max(0, ...p.news2.map((h) => h.news2_total ?? 0));
  const yMax = Math.max(10, maxTotal + 1);
  const rows: Spec[] = [];
  const metrics = p.metrics.filter((m) => m.points.some((q) => q.avg !== null));
  rows.push({ hconcat: stays.map((s, i) => news2Cell(p, s, i, first, stays, yMax, metrics.length === 0)), spacing: 14, bounds: 'flush', resolve: INDEPENDENT });
  metrics.forEach((m, k) => {
    const vals = m.points.map((q) => q.avg).filter((v): v is number => v !== null);
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const pad = hi === lo ? Math.max(1, Math.abs(hi) * 0.05) : (hi - lo) * 0.08;
    rows.push({ hconcat: stays.map((s, i) => metricCell(m, s, i, first, stays, [lo - pad, hi + pad], k === metrics.length - 1)), spacing: 14, bounds: 'flush', resolve: INDEPENDENT });
  });
  const maxNews2 = p.news2.length ? ` (max NEWS2 ${maxTotal})` : '';
  const shown = first > 0 ? `; the last ${stays.length} of ${all.length} stays` : '';
  return {
    ...base(
      `${p.patient_id}: NEWS2 and hourly vitals${maxNews2}${shown}`,
      `NEWS2 per hour over its bands, then each vital's hourly mean on its own axis; one column per stay (a gap of more than ${gapHours} h starts a new stay); red points: a parameter scoring 3.`,
    ),
    vconcat: rows,
    spacing: 6,
    resolve: INDEPENDENT,
  };
}

/** Events per risk level, bars on a log scale (critical events are rare but must show). */
export function riskSpec(levels: readonly RiskLevelCount[]): Spec {
  if (levels.every((l) => l.events === 0)) {
    // A lakehouse with vitals only (e.g. imported Synthea or PhysioNet records): say so instead of a zero log axis.
    return {
      ...base('Risk-level distribution', 'telemetry events per risk level: no telemetry loaded'),
      width: 360,
      height: 60,
      data: { values: [{ text: 'no telemetry events loaded' }] },
      mark: { type: 'text', fontSize: 12, color: '#5b6475' },
      encoding: { text: { field: 'text', type: 'nominal' } },
    };
  }
  return {
    ...base('Risk-level distribution', 'telemetry events per risk level (log scale)'),
    width: 360,
    height: 180,
    data: { values: levels.map((l) => ({ ...l, shown: Math.max(l.events, 0) })) },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'level', type: 'ordinal', sort: [...RISK_LEVELS], title: 'risk level', axis: { labelAngle: 0 } },
          y: { field: 'events', type: 'quantitative', scale: { type: 'symlog' }, title: 'events (log scale)' },
          color: { field: 'level', type: 'nominal', scale: { domain: [...RISK_LEVELS], range: RISK_LEVELS.map((l) => LEVEL_COLORS[l] ?? '#666') }, legend: null },
          tooltip: [{ field: 'level', type: 'nominal' }, { field: 'events', type: 'quantitative', format: ',' }],
        },
      },
      { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { x: { field: 'level', type: 'ordinal', sort: [...RISK_LEVELS] }, y: { field: 'events', type: 'quantitative' }, text: { field: 'events', type: 'quantitative', format: ',' } } },
    ],
  };
}

/** Horizontal bars stacked by alert level, one row per key (procedure or robot). */
export function alertsSpec<K extends string>(rows: readonly (LevelCounts & Record<K, string>)[], key: K, what: string): Spec {
  const values = rows.flatMap((r, order) => ALERT_LEVELS.map((level) => ({ [key]: String(r[key]), level, alerts: r[level], order })));
  return {
    ...base(`Alerts per ${what} by level`, `alerts per ${what} (top ${rows.length}), stacked by level`),
    width: 360,
    height: { step: 18 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: key, type: 'nominal', sort: { field: 'order', op: 'min' }, title: null },
      x: { field: 'alerts', type: 'quantitative', title: 'alerts', stack: 'zero', axis: { tickMinStep: 1, format: 'd' } },
      color: { field: 'level', type: 'nominal', sort: [...ALERT_LEVELS], scale: { domain: [...ALERT_LEVELS], range: ALERT_LEVELS.map((l) => LEVEL_COLORS[l] ?? '#666') }, legend: { orient: 'top', title: null } },
      order: { field: 'level', sort: 'ascending' },
      tooltip: [{ field: key, type: 'nominal' }, { field: 'level', type: 'nominal' }, { field: 'alerts', type: 'quantitative' }],
    },
  };
}

/** Per load, in time order: the share of rows inserted, duplicate and quarantined. */
export function qualitySpec(loads: readonly LoadQuality[]): Spec {
  const kinds = [
    { k: 'rows_inserted', label: 'inserted', color: '#3fa34d' },
    { k: 'rows_duplicate', label: 'duplicate', color: '#9aa5b1' },
    { k: 'rows_quarantined', label: 'quarantined', color: '#d62828' },
  ] as const;
  const values = loads.flatMap((l, order) => {
    const label = `${l.dataset} · ${l.started_at.slice(0, 16).replace('T', ' ')}`;
    return kinds.map((k) => ({ load: label, load_id: l.load_id, kind: k.label, rows: l[k.k], order }));
  });
  return {
    ...base('Data quality over loads', 'per load: the share of rows inserted, duplicate and quarantined'),
    width: 420,
    height: { step: 18 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'load', type: 'nominal', sort: { field: 'order', op: 'min' }, title: null, axis: { labelLimit: 240 } },
      x: { field: 'rows', type: 'quantitative', stack: 'normalize', title: 'share of rows read', axis: { format: '%' } },
      color: { field: 'kind', type: 'nominal', sort: kinds.map((k) => k.label), scale: { domain: kinds.map((k) => k.label), range: kinds.map((k) => k.color) }, legend: { orient: 'top', title: null } },
      order: { field: 'kind', sort: 'descending' },
      tooltip: [{ field: 'load_id', type: 'nominal' }, { field: 'kind', type: 'nominal' }, { field: 'rows', type: 'quantitative', format: ',' }],
    },
  };
}

/** Every chart of a dashboard, in page order. */
export function chartSpecs(d: Dashboard): ChartSpec[] {
  const out: ChartSpec[] = [];
  if (d.riskLevels) out.push({ kind: 'risk', title: 'Risk-level distribution', spec: riskSpec(d.riskLevels) });
  if (d.alertsByProcedure) out.push({ kind: 'alerts-procedure', title: 'Alerts per procedure (top, by level)', spec: alertsSpec(d.alertsByProcedure, 'procedure_id', 'procedure') });
  if (d.alertsByRobot) out.push({ kind: 'alerts-robot', title: 'Alerts per robot (by level)', spec: alertsSpec(d.alertsByRobot, 'robot_id', 'robot') });
  if (d.dataQuality) out.push({ kind: 'quality', title: 'Data quality over loads', spec: qualitySpec(d.dataQuality) });
  for (const p of d.vitals ?? []) {
    const max = Math.max(0, ...p.news2.map((h) => h.news2_total ?? 0));
    out.push({ kind: 'vitals', title: `Hourly vitals and NEWS2 bands: ${p.patient_id} (max NEWS2 ${max})`, spec: vitalsSpec(p, d.stayGapHours) });
  }
  return out;
}
