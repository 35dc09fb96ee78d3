// The alert browser's screens as lines of styled text: the list (header, columns, rows, status, key hints), the
// detail pane and the help. Pure functions of the controller's state, so the ink App only paints lines and the
// layout can be tested without a terminal.
import { basename } from 'node:path';
import { VITAL_DISPLAY } from '../core/domain.js';
import type { AlertDetail, ListRow } from '../core/tui-data/types.js';
import type { BrowserState } from './state.js';
import {
  LEVEL_COLOR, LEVEL_LABEL, cell, clockTime, duration, num, shortTime, sparkline, thousands, type Line, type Segment,
} from './format.js';

/** The list's footer: the keys used most, short enough for an 80-column terminal; ? lists every key. */
export const LIST_HINTS = '↑↓ move · / filter · s/S sort · Enter detail · a/u ack · ? keys · q quit';
const DETAIL_HINTS = '↑↓ scroll · a ack · u un-ack · q/Esc back · ? keys';

export const HELP: [string, string][] = [
  ['↑ ↓  j k', 'move one row'],
  ['PgUp PgDn', 'move one page (also Space, Ctrl-F, Ctrl-B)'],
  ['g  G', 'first / last row'],
  ['/', 'filter: only rows whose reason, step, patient or procedure contains the text (Enter applies)'],
  ['Esc', 'clear the filter (with none, quit)'],
  ['l', 'cycle the minimum level: medium, high, critical'],
  ['p  P', 'only the selected row\'s patient / every patient'],
  ['s', 'cycle the sort: risk, newest, oldest, level, patient, procedure, arm'],
  ['S', 'reverse the sort; ties always run earliest first, then by id, as in report top-alerts'],
  ['E', 'toggle alerts / episodes (runs of alerts on one arm)'],
  ['Enter', 'detail: the event, the arm\'s force and latency over +-30 s, vitals and NEWS2 of the hour, other alerts'],
  ['a', 'acknowledge the alert (or every alert of the episode), with an optional note'],
  ['u', 'withdraw the acknowledgement, with an optional note (both stay in alert_ack_history)'],
  ['x', 'export the current view (filter, level and sort) to a new CSV or JSON file'],
  ['?', 'this help'],
  ['q', 'back, or quit from the list'],
];

/** Rows the list gets on a terminal of `rows` lines: the frame is rows-1 high; header 3, status 2. */
export function listHeight(rows: number): number {
  return Math.max(3, rows - 1 - 5);
}

/** Body lines the detail screen shows (title 1, status 2). */
export function detailHeight(rows: number): number {
  return Math.max(3, rows - 1 - 3);
}

/** Every line of the frame for `state` (rows - 1 lines, so ink never scrolls the terminal). */
export function screenLines(state: BrowserState): Line[] {
  const { rows, columns } = state.size;
  const lines = state.screen === 'help'
    ? pad(helpLines(columns), rows - 1)
    : state.screen === 'detail' && state.detail
      ? detailScreen(state, state.detail)
      : listScreen(state);
  return lines.map((l) => clip(l, columns));
}

function pad(lines: Line[], height: number): Line[] {
  const out = lines.slice(0, Math.max(0, height));
  while (out.length < height) out.push([{ text: '' }]);
  return out;
}

function helpLines(width: number): Line[] {
  const lines: Line[] = [[{ text: 'surgctl tui: keys', bold: true }], [{ text: '' }]];
  for (const [k, what] of HELP) lines.push([{ text: cell(k, 12), bold: true }, { text: what }]);
  lines.push([{ text: '' }], [{ text: 'Acknowledgements are stored in the lakehouse table alert_acks (who, when, note); alert_ack_history keeps every ack and un-ack.', dim: true }]);
  lines.push([{ text: cell('q, Esc or ? closes this help', width), dim: true }]);
  return lines;
}

function header(state: BrowserState): Line[] {
  const c = state.counts;
  const mode = state.spec.mode;
  const title: Line = [
    { text: 'surgctl tui', bold: true },
    { text: ` │ ${mode} │ ` },
  ];
  if (c) {
    title.push(
      { text: `critical ${thousands(c.critical)}`, color: LEVEL_COLOR.critical },
      { text: ' · ' },
      { text: `high ${thousands(c.high)}`, color: LEVEL_COLOR.high },
      { text: ' · ' },
      { text: `medium ${thousands(c.medium)}`, color: LEVEL_COLOR.medium },
      { text: ` │ ${thousands(c.acked)} ${mode === 'alerts' ? 'acked' : 'fully acked'}`, color: 'green' },
    );
  }
  title.push({ text: ` │ ${basename(state.dbPath)}`, dim: true });
  const s = state.spec;
  const filters: Line = [
    { text: 'filters: ', dim: true },
    { text: `level ≥ ${s.minLevel}` },
    { text: ' · ' },
    { text: s.patientId === null ? 'patient: all' : `patient ${s.patientId}`, bold: s.patientId !== null },
    { text: ' · ' },
    { text: `sort: ${s.sort}${s.reverse ? ' reversed' : ''}` },
  ];
  if (s.filter) filters.push({ text: ' · ' }, { text: `filter "${s.filter}"`, color: 'magenta', bold: true });
  if (c) filters.push({ text: ` │ ${thousands(c.inView)} ${s.filter ? `match${c.inView === 1 ? '' : 'es'}` : 'in view'}`, bold: true });
  return [title, filters];
}

interface Widths {
  patient: number;
  procedure: number;
  arm: number;
  step: number;
}

function widths(rows: ListRow[]): Widths {
  const w = (label: string, values: (string | null)[], cap: number) =>
    Math.min(cap, Math.max(label.length, ...values.map((v) => (v ?? '').length)));
  return {
    patient: w('PATIENT', rows.map((r) => r.patientId), 14),
    procedure: w('PROCEDURE', rows.map((r) => r.procedureId), 14),
    arm: w('ARM', rows.map((r) => r.robotArm), 8),
    step: w('STEP', rows.map((r) => r.step), 16),
  };
}

function columnHeader(state: BrowserState, w: Widths): Line {
  const cols = state.spec.mode === 'alerts'
    ? ['  ', cell('LVL', 4), ' ', cell('RISK', 4, 'right'), ' ', cell('TIME (UTC)', 14), ' ', cell('PATIENT', w.patient), ' ',
      cell('PROCEDURE', w.procedure), ' ', cell('ARM', w.arm), ' ', cell('STEP', w.step), ' ', 'REASON']
    : ['  ', cell('LVL', 4), ' ', cell('RISK', 4, 'right'), ' ', cell('START (UTC)', 14), ' ', cell('LENGTH', 6), ' ',
      cell('ALERTS', 6), ' ', cell('PATIENT', w.patient), ' ', cell('PROCEDURE', w.procedure), ' ', cell('ARM', w.arm), ' ', 'REASON'];
  return [{ text: cols.join(''), bold: true, dim: true }];
}

function rowLine(row: ListRow, w: Widths, selected: boolean): Line {
  const full = row.acked >= row.alerts;
  const mark: Segment = row.acked === 0
    ? { text: '  ' }
    : { text: full ? '✓ ' : '~ ', color: 'green' };
  const level: Segment = { text: cell(LEVEL_LABEL[row.level], 4), color: LEVEL_COLOR[row.level], bold: row.level === 'critical' };
  const rest = row.kind === 'alert'
    ? [' ', cell(String(row.riskScore), 4, 'right'), ' ', shortTime(row.at), ' ', cell(row.patientId, w.patient), ' ',
      cell(row.procedureId, w.procedure), ' ', cell(row.robotArm, w.arm), ' ', cell(row.step ?? '', w.step), ' ', row.reason]
    : [' ', cell(String(row.riskScore), 4, 'right'), ' ', shortTime(row.at), ' ', cell(duration(row.at, row.endedAt ?? row.at), 6), ' ',
      cell(row.acked > 0 ? `${row.acked}/${row.alerts}` : String(row.alerts), 6), ' ', cell(row.patientId, w.patient), ' ',
      cell(row.procedureId, w.procedure), ' ', cell(row.robotArm, w.arm), ' ', row.reason];
  const line: Line = [mark, level, { text: rest.join('') }];
  return selected ? line.map((s) => ({ ...s, inverse: true })) : line;
}

function emptyState(state: BrowserState): Line[] {
  const c = state.counts;
  const what = state.spec.mode;
  if (state.busy && c === null) return [[{ text: 'loading…', dim: true }]];
  if (c !== null && c.total === 0 && state.spec.patientId === null && !state.spec.filter) {
    return [[{ text: `No ${what} in this lakehouse: nothing to triage.`, bold: true }],
      [{ text: 'They appear after `surgctl transform` finds medium, high or critical risk events.', dim: true }]];
  }
  const f = state.spec.filter ? `, filter "${state.spec.filter}"` : '';
  return [[{ text: `No ${what} match these filters (level ≥ ${state.spec.minLevel}${state.spec.patientId ? `, patient ${state.spec.patientId}` : ''}${f}).`, bold: true }],
    [{ text: `Press ${f ? 'Esc to clear the filter, ' : ''}l to change the minimum level, or P to show every patient.`, dim: true }]];
}

function listScreen(state: BrowserState): Line[] {
  const height = listHeight(state.size.rows);
  const rows = state.view.rows;
  const w = widths(rows);
  const body: Line[] = rows.length === 0
    ? emptyState(state)
    : rows.map((r, i) => rowLine(r, w, i === state.view.selected));
  return [
    ...header(state),
    columnHeader(state, w),
    ...pad(body, height),
    statusLine(state),
    [{ text: LIST_HINTS, dim: true }],
  ];
}

function statusLine(state: BrowserState): Line {
  const p = state.prompt;
  if (p) {
    if (p.kind === 'search') return [{ text: 'filter /', bold: true, color: 'magenta' }, { text: `${p.text}▏` }, { text: '  Enter applies (empty: all rows) · Esc cancels', dim: true }];
    if (p.kind === 'export') {
      const n = state.counts?.inView ?? 0;
      return [{ text: `export ${thousands(n)} ${state.spec.mode} of this view: `, bold: true }, { text: 'c = CSV, j = JSON, Esc cancels' }];
    }
    const row = state.screen === 'detail' && state.detail ? state.detail.row : state.view.rows[state.view.selected];
    const verb = p.kind === 'unack' ? 'withdraw the acknowledgement of' : 'acknowledge';
    return [{ text: `${verb} ${row?.id ?? ''} as ${state.user}; note (optional): `, bold: true }, { text: `${p.text}▏` },
      { text: '  Enter saves · Esc cancels', dim: true }];
  }
  const out: Line = [];
  if (state.screen === 'list' && state.counts) {
    const pos = state.view.position;
    out.push({ text: pos === null ? `0 of ${thousands(state.counts.inView)}` : `row ${thousands(pos + 1)} of ${thousands(state.counts.inView)}`, bold: true });
  }
  if (state.busy) out.push({ text: '  …', dim: true });
  if (state.message) out.push({ text: `  ${state.message.text}`, color: state.message.tone === 'error' ? 'red' : 'green' });
  else if (state.lastExport) out.push({ text: `  last export: ${state.lastExport}`, dim: true });
  return out.length === 0 ? [{ text: '' }] : out;
}

function detailScreen(state: BrowserState, detail: AlertDetail): Line[] {
  const row = detail.row;
  const title: Line = [
    { text: `${row.kind === 'alert' ? 'alert' : 'episode'} ${row.id}`, bold: true },
    { text: '  ' },
    { text: `${row.level.toUpperCase()}`, color: LEVEL_COLOR[row.level], bold: true },
    { text: `  risk ${row.riskScore}` },
  ];
  const body = detailLines(detail, state.size.columns);
  const h = detailHeight(state.size.rows);
  const scroll = Math.max(0, Math.min(state.detailScroll, Math.max(0, body.length - h)));
  const more = body.length > h ? `  (lines ${scroll + 1}-${Math.min(body.length, scroll + h)} of ${body.length})` : '';
  const status = statusLine(state);
  if (more && !state.prompt) status.push({ text: more, dim: true });
  return [title, ...pad(body.slice(scroll, scroll + h), h), status, [{ text: DETAIL_HINTS, dim: true }]];
}

/** The body of the detail pane, one entry per terminal line (long lines are cut by the terminal width). */
export function detailLines(detail: AlertDetail, width: number): Line[] {
  const row = detail.row;
  const lines: Line[] = [];
  const blank: Line = [{ text: '' }];
  if (row.kind === 'alert') {
    lines.push(row.ack
      ? [{ text: `✓ acknowledged by ${row.ack.ackedBy} at ${row.ack.ackedAt}`, color: 'green' }, ...(row.ack.note ? [{ text: `: "${row.ack.note}"` }] : [])]
      : [{ text: 'not acknowledged (press a)', dim: true }]);
    lines.push([{ text: `time ${row.at} · patient ${row.patientId} · procedure ${row.procedureId} · robot ${row.robotId} ${row.robotArm} · instrument ${row.instrument ?? '-'} · step ${row.step ?? '-'}` }]);
  } else {
    lines.push([{ text: `${row.acked} of ${row.alerts} alerts acknowledged${row.acked < row.alerts ? ' (press a for the rest)' : ''}`, color: row.acked >= row.alerts ? 'green' : undefined, dim: row.acked < row.alerts }]);
    lines.push([{ text: `from ${row.at} to ${row.endedAt ?? row.at} (${duration(row.at, row.endedAt ?? row.at)}) · patient ${row.patientId} · procedure ${row.procedureId} · robot ${row.robotId} ${row.robotArm}` }]);
  }
  lines.push([{ text: 'reason ', dim: true }, { text: row.reason }]);
  if (row.kind === 'alert') {
    lines.push([{ text: 'triggers ', dim: true }, { text: detail.triggers.join(', ') || '-' }, { text: ' · error code ', dim: true }, { text: detail.errorCode ?? 'none' }]);
  }
  const e = detail.event;
  if (e) {
    lines.push([{ text: `event ${e.eventId} `, dim: true },
      { text: `force ${measured(e.forceN, 'N')} · velocity ${measured(e.velocityMmS, 'mm/s')} · latency ${measured(e.latencyMs, 'ms', 0)} · scores latency ${e.latencyScore ?? '-'}, force ${e.forceScore ?? '-'}, error ${e.errorScore ?? '-'} · force spike ${e.forceSpike ? 'yes' : 'no'} · risk ${e.riskScore ?? '-'} ${e.riskLevel ?? ''}` }]);
  }
  lines.push(blank);
  const win = detail.window;
  if (win) {
    const n = win.force.length;
    lines.push([{ text: `${row.robotArm} telemetry ${clockTime(win.from)} to ${clockTime(win.to)} UTC (${row.kind === 'alert' ? '±30 s' : 'episode ±30 s'}, ${num(win.bucketSeconds, 1)} s a cell, ${win.events} events)`, bold: true }]);
    /** The window's maximum, null when no event in it measured the value (kinematics-only telemetry has no force). */
    const max = (xs: (number | null)[]) => {
      const present = xs.filter((x): x is number => x !== null);
      return present.length === 0 ? null : Math.max(...present);
    };
    const hasData = win.events > 0;
    const maxText = (xs: (number | null)[], unit: string, digits: number) => {
      const m = max(xs);
      return m === null ? '  not measured' : `  max ${num(m, digits)} ${unit}`;
    };
    lines.push([{ text: 'force   ', dim: true }, { text: sparkline(win.force), color: 'yellow' }, { text: hasData ? maxText(win.force, 'N', 1) : '  no telemetry in this window', dim: true }]);
    lines.push([{ text: 'latency ', dim: true }, { text: sparkline(win.latency), color: 'cyan' }, { text: hasData ? maxText(win.latency, 'ms', 0) : '', dim: true }]);
    const cellMs = win.bucketSeconds * 1000;
    const at = (iso: string) => Math.max(0, Math.min(n - 1, Math.floor((Date.parse(iso) - Date.parse(win.from)) / cellMs)));
    const marks = Array.from({ length: n }, () => ' ');
    marks[at(row.at)] = '▲';
    if (row.endedAt) marks[at(row.endedAt)] = '▲';
    lines.push([{ text: '        ' }, { text: marks.join(''), bold: true }, { text: row.kind === 'alert' ? '  the alert' : '  start, end', dim: true }]);
  } else {
    lines.push([{ text: 'no telemetry_risk mart: no sparkline', dim: true }]);
  }
  lines.push(blank);
  const hourText = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  /** ' (nearest to the alert's hour, +3 h)' when the data is for another hour than the alert's. */
  const offset = (iso: string) => {
    const hours = Math.round((Date.parse(iso) - Date.parse(detail.hour)) / 3_600_000);
    return hours === 0 ? '' : ` (none in ${hourText(detail.hour)}; nearest hour, ${hours > 0 ? '+' : ''}${hours} h)`;
  };
  if (detail.vitals === null) lines.push([{ text: 'no vitals_hourly mart', dim: true }]);
  else if (detail.vitalsHour === null || detail.vitals.length === 0) {
    lines.push([{ text: `vitals: none recorded for ${row.patientId}`, dim: true }]);
  } else {
    lines.push([{ text: `vitals of ${row.patientId}, hour ${hourText(detail.vitalsHour)}`, bold: true }, { text: offset(detail.vitalsHour), dim: true }]);
    for (const v of detail.vitals) {
      const d = VITAL_DISPLAY[v.metric];
      const u = d === undefined || d.unit.includes(' ') ? '' : ` ${d.unit}`;
      // Alarming readings (loaded, possible, outside the rules' alarming range) are marked by a '!' and a word, not
      // by colour alone, so they read on a monochrome terminal and with NO_COLOR.
      const alarming = v.alarmingN !== null && v.alarmingN > 0;
      lines.push([
        alarming ? { text: '! ', color: 'red', bold: true } : { text: '  ' },
        { text: cell(d?.label ?? v.metric, 16), dim: !alarming, bold: alarming },
        { text: `avg ${num(v.avg)}${u} · min ${num(v.min)}${u} · max ${num(v.max)}${u} · p95 ${num(v.p95)}${u} · n ${v.n}${d !== undefined && u === '' ? ` (${d.unit})` : ''}` },
        ...(alarming ? [{ text: ` · alarming ${v.alarmingN} of ${v.n}`, color: 'red', bold: true }] : []),
      ]);
    }
  }
  if (detail.news2 && detail.news2Hour) {
    const nw = detail.news2;
    const color = nw.band === 'high' ? 'red' : nw.band === 'medium' ? 'yellow' : undefined;
    lines.push([{ text: `NEWS2 ${hourText(detail.news2Hour)} `, bold: true }, { text: `${nw.total ?? '-'} (${nw.band ?? '-'})`, color, bold: true },
      { text: offset(detail.news2Hour), dim: true },
      { text: ` · ${Object.entries(nw.scores).map(([k, v]) => `${k} ${v ?? '-'}`).join(' · ')}${nw.missing.length ? ` · missing ${nw.missing.join(', ')}` : ''}`, dim: true }]);
  } else {
    lines.push([{ text: detail.missing.includes('news2_hourly') ? 'no news2_hourly mart' : `NEWS2: not scored for ${row.patientId}`, dim: true }]);
  }
  lines.push(blank);
  const rel = detail.related;
  lines.push([{ text: `${rel.title}: ${rel.total}${rel.rows.length < rel.total ? ` (${rel.rows.length} shown${row.kind === 'alert' ? ', nearest in time' : ', highest risk'})` : ''}`, bold: true }]);
  if (rel.total === 0) lines.push([{ text: '  none', dim: true }]);
  for (const r of rel.rows) {
    lines.push([
      { text: r.acked ? '✓ ' : '  ', color: 'green' },
      { text: `${clockTime(r.at)} ` },
      { text: cell(LEVEL_LABEL[r.level], 4), color: LEVEL_COLOR[r.level] },
      { text: ` ${cell(String(r.riskScore), 3, 'right')} ${r.robotArm} ${cell(r.step ?? '', 14)} ${r.reason}` },
    ]);
  }
  if (detail.missing.length > 0) lines.push(blank, [{ text: `missing marts: ${detail.missing.join(', ')}`, dim: true }]);
  return lines.map((l) => clip(l, width));
}

/** '12.5 N', or 'not measured' for an absent value (null: kinematics-only telemetry has no force or latency). */
function measured(value: number | null, unit: string, digits = 1): string {
  return value === null ? 'not measured' : `${num(value, digits)} ${unit}`;
}

/** Cuts a line to `width` columns so one entry is one terminal line. */
function clip(line: Line, width: number): Line {
  let left = width;
  const out: Line = [];
  for (const s of line) {
    if (left <= 0) break;
    out.push(s.text.length > left ? { ...s, text: cell(s.text, left) } : s);
    left -= Math.min(left, s.text.length);
  }
  return out;
}
