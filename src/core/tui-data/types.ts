// The shapes the alert browser's data layer returns: a view (mode, filters, sort), list rows with their keyset
// key, counts by level, the detail of one alert or episode, and acknowledgements. Plain JSON-safe values only.

import { ALERT_LEVELS, RISK_LEVEL_RANK, type AlertLevel } from '../domain.js';

/** The alert levels (domain.ts), lowest first. */
export const LEVELS = ALERT_LEVELS;
export type Level = AlertLevel;
/** level_rank as the alerts mart stores it (medium 2, high 3, critical 4). */
export const LEVEL_RANK: Readonly<Record<Level, number>> = RISK_LEVEL_RANK;

export const MODES = ['alerts', 'episodes'] as const;
export type Mode = (typeof MODES)[number];

/**
 * The list orders, in the order `s` cycles them: risk (highest first), newest, oldest, level (highest first), then
 * patient, procedure and arm (A to Z). Ties run earliest first, then by id, as in `surgctl report top-alerts`;
 * `reverse` (the `S` key) runs the whole order backwards.
 */
export const SORTS = ['risk', 'newest', 'oldest', 'level', 'patient', 'procedure', 'arm'] as const;
export type SortKey = (typeof SORTS)[number];

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What the list shows: the mart, the filters and the order. */
export interface ViewSpec {
  mode: Mode;
  minLevel: Level;
  patientId: string | null;
  sort: SortKey;
  /** The sort run backwards (S). */
  reverse?: boolean | undefined;
  /** Only rows whose reason, step, patient or procedure contains this text (case-insensitive); `/` sets it. */
  filter?: string | null | undefined;
}

export const DEFAULT_VIEW: ViewSpec = { mode: 'alerts', minLevel: 'medium', patientId: null, sort: 'risk' };

/** A row's position in every order: the values of every sortable column, time in epoch microseconds (a string). */
export interface RowKey {
  risk: number;
  atUs: string;
  id: string;
  rank?: number | undefined;
  patient?: string | undefined;
  procedure?: string | undefined;
  arm?: string | undefined;
}

export interface Ack {
  alertId: string;
  ackedBy: string;
  /** ISO 8601 UTC. */
  ackedAt: string;
  note: string | null;
}

/** One line of the list: an alert, or an episode (a run of alerts on one arm). Times are ISO 8601 UTC. */
export interface ListRow {
  kind: 'alert' | 'episode';
  /** alert_id or episode_id. */
  id: string;
  level: Level;
  levelRank: number;
  riskScore: number;
  /** The alert's time, or the episode's start. */
  at: string;
  /** The episode's end; null for an alert. */
  endedAt: string | null;
  patientId: string;
  procedureId: string;
  robotId: string;
  robotArm: string;
  /** The surgical step; null for an episode. */
  step: string | null;
  instrument: string | null;
  reason: string;
  /** 1 for an alert; the episode's alert count. */
  alerts: number;
  /** How many of `alerts` are acknowledged. */
  acked: number;
  /** The acknowledgement of an alert; null when not acknowledged and for episodes. */
  ack: Ack | null;
  key: RowKey;
}

/** Counts over the mode's mart with the patient filter applied (not the level filter, so hidden levels show). */
export interface LevelCounts {
  medium: number;
  high: number;
  critical: number;
  total: number;
  /** Rows the current view shows (level >= minLevel). */
  inView: number;
  /** Acknowledged alerts (alerts mode) or episodes with every alert acknowledged (episodes mode). */
  acked: number;
}

export interface PageRequest {
  /** Rows strictly after this key, in view order. */
  after?: RowKey | undefined;
  /** Rows strictly before this key, returned in view order. */
  before?: RowKey | undefined;
  /** The last `limit` rows of the view, in view order. */
  fromEnd?: boolean | undefined;
  limit: number;
}

export interface TelemetryEvent {
  eventId: string;
  recordedAt: string;
  instrument: string | null;
  step: string | null;
  forceN: number | null;
  velocityMmS: number | null;
  latencyMs: number | null;
  errorCode: string | null;
  latencyScore: number | null;
  forceScore: number | null;
  errorScore: number | null;
  forceSpike: boolean | null;
  riskScore: number | null;
  riskLevel: string | null;
}

/** Force and latency of one arm over a time window, one bucket per sparkline cell (max per bucket; null = no data). */
export interface ArmWindow {
  from: string;
  to: string;
  bucketSeconds: number;
  force: (number | null)[];
  latency: (number | null)[];
  events: number;
}

export interface VitalHour {
  metric: string;
  n: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  p95: number | null;
  /**
   * Readings of the hour that are alarming but possible (issue 15's second tier: loaded and scored, outside rules
   * vitals_limits' alarming range); null when the lakehouse's vitals_hourly predates the column.
   */
  alarmingN: number | null;
}

export interface News2Hour {
  total: number | null;
  band: string | null;
  missing: string[];
  scores: Record<string, number | null>;
}

export interface RelatedAlert {
  alertId: string;
  at: string;
  level: Level;
  riskScore: number;
  robotArm: string;
  step: string | null;
  reason: string;
  acked: boolean;
}

export interface AlertDetail {
  row: ListRow;
  triggers: string[];
  errorCode: string | null;
  /** The telemetry event behind an alert; null for an episode or when the mart lacks it. */
  event: TelemetryEvent | null;
  /** The arm's telemetry over +-30 s around the alert (or the episode's span +-30 s); null without telemetry_risk. */
  window: ArmWindow | null;
  /** The UTC hour (ISO) of the alert (an episode's start). */
  hour: string;
  /** Vitals of the patient's hour nearest to `hour` (null without the mart; empty when the patient has none). */
  vitals: VitalHour[] | null;
  /** The hour `vitals` are for: `hour` itself, or the nearest hour with readings; null when none. */
  vitalsHour: string | null;
  news2: News2Hour | null;
  /** The hour `news2` is for, as vitalsHour. */
  news2Hour: string | null;
  /** For an alert: the procedure's other alerts. For an episode: the alerts in the episode. */
  related: { title: string; total: number; rows: RelatedAlert[] };
  /** Marts the detail wanted but the lakehouse lacks. */
  missing: string[];
}

export interface AckResult {
  /** Alerts newly acknowledged by this call. */
  added: number;
  /** Alerts that were already acknowledged (left as they were). */
  already: number;
  /** The stored acknowledgement of the (first) alert. */
  ack: Ack | null;
}

export interface ExportResult {
  path: string;
  rows: number;
  format: ExportFormat;
}

/** What the browser needs from the data layer. AlertStore implements it over DuckDB. */
export interface AlertSource {
  readonly path: string;
  counts(spec: ViewSpec): Promise<LevelCounts>;
  page(spec: ViewSpec, request: PageRequest): Promise<ListRow[]>;
  /** The number of rows before `key` in the view (its 0-based position). */
  rankOf(spec: ViewSpec, key: RowKey): Promise<number>;
  /** Whether the lakehouse has this mart (e.g. alert_episodes). */
  hasTable(name: string): boolean;
  detail(row: ListRow, options?: { buckets?: number; relatedLimit?: number }): Promise<AlertDetail>;
  acknowledge(row: ListRow, note: string | null): Promise<AckResult>;
  /** Withdraws the acknowledgement of an alert (or of every alert of an episode); history keeps both, with notes. */
  unacknowledge(row: ListRow, note: string | null): Promise<{ removed: number }>;
  exportView(spec: ViewSpec, format: ExportFormat, dir: string): Promise<ExportResult>;
  close(): void;
}
