// SQL for the alert browser's list: one view (mode, filters, sort) becomes one keyset-paged query over the alerts
// or alert_episodes mart. Every value is a bound $param; identifiers are fixed names quoted through ident().
// Keyset paging compares the row tuple (risk_score, time, id) with the last row seen, so a page costs one top-N
// scan however deep it is, and the browser never holds more than a few pages.
import type { DuckDBValue } from '@duckdb/node-api';
import { ident } from '../../db/sql.js';
import { LEVEL_RANK, type RowKey, type SortKey, type ViewSpec } from './types.js';

export type SqlParams = Record<string, DuckDBValue>;

interface ModeColumns {
  table: string;
  id: string;
  time: string;
  /** Columns the `/` filter looks in. */
  search: string[];
}

export const MODE_COLUMNS = {
  alerts: { table: 'alerts', id: 'alert_id', time: 'at', search: ['reason', 'step', 'patient_id', 'procedure_id'] },
  episodes: { table: 'alert_episodes', id: 'episode_id', time: 'started_at', search: ['reason', 'patient_id', 'procedure_id'] },
} as const satisfies Record<ViewSpec['mode'], ModeColumns>;

/** An empty stand-in for alert_acks before the first acknowledgement creates the table. */
export const EMPTY_ACKS =
  '(SELECT NULL::VARCHAR AS alert_id, NULL::VARCHAR AS acked_by, NULL::TIMESTAMPTZ AS acked_at, NULL::VARCHAR AS note WHERE false)';

export function isoSql(expr: string): string {
  return `strftime(${expr}, '%Y-%m-%dT%H:%M:%SZ')`;
}

export function isoMsSql(expr: string): string {
  return `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
}

interface KeyColumn {
  /** The column in the mart. */
  sql: string;
  /** The same column in a page's projection (pageSql's outer query). */
  projected: string;
  /** The bound value of a key for this column. */
  value: (key: RowKey, params: SqlParams) => string;
  desc: boolean;
}

/**
 * The key columns of a view's order, each with its direction: the sort's own columns, then time earliest first,
 * then id (the tie order of `report top-alerts`); `reverse` flips every one.
 */
function keyColumns(spec: ViewSpec): KeyColumn[] {
  const m = MODE_COLUMNS[spec.mode];
  const col = (name: string, projected: string, value: KeyColumn['value'], desc: boolean): KeyColumn => ({ sql: ident(name), projected, value, desc });
  const time = (desc: boolean) => col(m.time, 'p.at_us::BIGINT', (k, p) => ((p.k_at = BigInt(k.atUs)), 'make_timestamptz($k_at::BIGINT)'), desc);
  const id = col(m.id, 'p.id', (k, p) => ((p.k_id = k.id), '$k_id'), false);
  const risk = col('risk_score', 'p.risk_score', (k, p) => ((p.k_risk = k.risk), '$k_risk'), true);
  const text = (name: string, field: 'patient' | 'procedure' | 'arm') =>
    col(name, `p.${ident(name)}`, (k, p) => ((p[`k_${field}`] = k[field] ?? ''), `$k_${field}`), false);
  const bySort: Record<SortKey, KeyColumn[]> = {
    risk: [risk, time(false), id],
    newest: [time(true), id],
    oldest: [time(false), id],
    level: [col('level_rank', 'p.level_rank', (k, p) => ((p.k_rank = k.rank ?? 0), '$k_rank'), true), risk, time(false), id],
    patient: [text('patient_id', 'patient'), time(false), id],
    procedure: [text('procedure_id', 'procedure'), time(false), id],
    arm: [text('robot_arm', 'arm'), time(false), id],
  };
  const cols = bySort[spec.sort];
  return spec.reverse ? cols.map((c) => ({ ...c, desc: !c.desc })) : cols;
}

export interface WhereOptions {
  /** Rows after (in view order) or before the key. */
  keyset?: { side: 'after' | 'before'; key: RowKey; inclusive?: boolean } | undefined;
  /** Ignore the level filter (counts by level). */
  allLevels?: boolean;
}

/** The WHERE clause (without the keyword; 'true' when empty) of a view, filling `params`. */
export function whereSql(spec: ViewSpec, params: SqlParams, options: WhereOptions = {}): string {
  const m = MODE_COLUMNS[spec.mode];
  const parts: string[] = [];
  if (!options.allLevels) {
    params.min_rank = LEVEL_RANK[spec.minLevel];
    parts.push(`${ident('level_rank')} >= $min_rank`);
  }
  if (spec.patientId !== null) {
    params.patient_id = spec.patientId;
    parts.push(`${ident('patient_id')} = $patient_id`);
  }
  if (spec.filter !== undefined && spec.filter !== null && spec.filter !== '') {
    params.filter = spec.filter.toLowerCase();
    parts.push(`(${m.search.map((c) => `contains(lower(${ident(c)}), $filter)`).join(' OR ')})`);
  }
  if (options.keyset) {
    // Columns run in mixed directions (risk down, time up), so "after the key" is spelled out column by column:
    // c1 beyond v1, or c1 = v1 and c2 beyond v2, ... (beyond: < for a descending column, > for an ascending one).
    const cols = keyColumns(spec);
    const key = options.keyset.key;
    const values = cols.map((c) => c.value(key, params));
    const after = options.keyset.side === 'after';
    const terms = cols.map((c, i) => {
      const eq = cols.slice(0, i).map((e, j) => `${e.sql} = ${values[j]}`);
      return [...eq, `${c.sql} ${c.desc === after ? '<' : '>'} ${values[i]}`].join(' AND ');
    });
    if (options.keyset.inclusive) terms.push(cols.map((c, j) => `${c.sql} = ${values[j]}`).join(' AND '));
    parts.push(`(${terms.map((t) => `(${t})`).join(' OR ')})`);
  }
  return parts.length === 0 ? 'true' : parts.join(' AND ');
}

/** ORDER BY (without the keyword) for the view, or its exact reverse; `projected` names a page's own columns. */
export function orderSql(spec: ViewSpec, reverse = false, projected = false): string {
  return keyColumns(spec)
    .map((c) => `${projected ? c.projected : c.sql} ${c.desc !== reverse ? 'DESC' : 'ASC'}`)
    .join(', ');
}

/** The projection of a list row for a mode (columns named as the row mapper expects). */
export function listColumnsSql(spec: ViewSpec): string {
  if (spec.mode === 'alerts') {
    return [
      'alert_id AS id', 'level', 'level_rank', 'risk_score', `${isoSql('"at"')} AS at_iso`, 'NULL::VARCHAR AS ended_iso',
      'epoch_us("at")::VARCHAR AS at_us', 'patient_id', 'procedure_id', 'robot_id', 'robot_arm', 'step', 'instrument',
      'reason', '1 AS alerts',
    ].join(', ');
  }
  return [
    'episode_id AS id', 'level', 'level_rank', 'risk_score', `${isoSql('started_at')} AS at_iso`,
    `${isoSql('ended_at')} AS ended_iso`, 'epoch_us(started_at)::VARCHAR AS at_us', 'patient_id', 'procedure_id',
    'robot_id', 'robot_arm', 'NULL::VARCHAR AS step', 'NULL::VARCHAR AS instrument', 'reason', 'alerts::INTEGER AS alerts',
  ].join(', ');
}

/** Alerts that belong to episode `e`, joined as `a`: as transform groups them, same procedure and arm, inside its span. */
export const EPISODE_MEMBERS_ON =
  'a.procedure_id = e.procedure_id AND a.robot_arm = e.robot_arm AND a."at" BETWEEN e.started_at AND e.ended_at';

/**
 * One page of the view: the top `limit` rows matching `where`, ordered (or reverse-ordered), with their
 * acknowledgement state. `acks` is the alert_acks table name or EMPTY_ACKS.
 */
export function pageSql(spec: ViewSpec, where: string, reverse: boolean, acks: string): string {
  const m = MODE_COLUMNS[spec.mode];
  const order = orderSql(spec, reverse);
  const page = `SELECT ${listColumnsSql(spec)} FROM ${ident(m.table)} WHERE ${where} ORDER BY ${order} LIMIT $limit`;
  const outerOrder = orderSql(spec, reverse, true);
  if (spec.mode === 'alerts') {
    return `WITH p AS (${page})
      SELECT p.*, 1 - (k.alert_id IS NULL)::INTEGER AS acked, k.acked_by, ${isoSql('k.acked_at')} AS acked_at, k.note
      FROM p LEFT JOIN ${acks} k ON k.alert_id = p.id
      ORDER BY ${outerOrder}`;
  }
  return `WITH p AS (${page}),
    x AS (SELECT e0.id, count(*)::INTEGER AS acked
          FROM p e0 JOIN ${ident(m.table)} e ON e.episode_id = e0.id
          JOIN ${ident('alerts')} a ON ${EPISODE_MEMBERS_ON}
          JOIN ${acks} k ON k.alert_id = a.alert_id
          GROUP BY e0.id)
    SELECT p.*, coalesce(x.acked, 0)::INTEGER AS acked, NULL::VARCHAR AS acked_by, NULL::VARCHAR AS acked_at,
           NULL::VARCHAR AS note
    FROM p LEFT JOIN x ON x.id = p.id
    ORDER BY ${outerOrder}`;
}
