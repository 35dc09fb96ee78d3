// What the serving side needs in PostgreSQL: the indexes behind the queries the reports run (a patient's timeline,
// top alerts by level and time, risk summaries by patient and procedure, full-text search of steps, error codes
// and alert reasons), and those queries written for PostgreSQL ($1.. parameters), shown in the README and checked
// by test/core/publish/serving.test.ts (each uses an index; each equals the lakehouse report).

export interface ServingIndex {
  /** Suffix of the index name: <table>_<suffix>. */
  suffix: string;
  /** What follows ON <table>: the method and the key, e.g. `(patient_id, recorded_at)` or `USING gin (...)`. */
  on: string;
}

/** The text the full-text indexes cover; the serving queries must use exactly these expressions. */
export const TELEMETRY_SEARCH_TSV = `to_tsvector('simple', match)`;
export const ALERT_SEARCH_TSV = `to_tsvector('simple', coalesce(reason, ''))`;

/** Secondary indexes by table (the primary key comes from the mart's grain). */
export const SERVING_INDEXES: Record<string, readonly ServingIndex[]> = {
  telemetry_risk: [
    // The largest mart: only the indexes a serving query uses (each btree on 5M rows costs about as much as a third
    // of the COPY; a procedure's events are reached through the patient's). Full-text search of its steps and error
    // codes goes through telemetry_search (a few rows per procedure): a GIN over every event cost as much again.
    { suffix: 'patient_time', on: '(patient_id, recorded_at)' },
  ],
  telemetry_search: [{ suffix: 'search', on: `USING gin (${TELEMETRY_SEARCH_TSV})` }],
  alerts: [
    { suffix: 'top', on: '(risk_score DESC, "at", alert_id)' },
    { suffix: 'level_time', on: '(level_rank DESC, "at" DESC)' },
    { suffix: 'patient_time', on: '(patient_id, "at")' },
    { suffix: 'procedure_time', on: '(procedure_id, "at")' },
    { suffix: 'search', on: `USING gin (${ALERT_SEARCH_TSV})` },
  ],
  alert_episodes: [{ suffix: 'procedure', on: '(procedure_id, started_at)' }],
  procedure_risk: [
    { suffix: 'patient', on: '(patient_id)' },
    { suffix: 'riskiest', on: '(critical_alerts DESC NULLS LAST, avg_risk DESC NULLS LAST, procedure_id)' },
  ],
  patient_risk: [{ suffix: 'riskiest', on: '(critical_alerts DESC NULLS LAST, avg_risk DESC NULLS LAST, patient_id)' }],
  raw_vitals: [{ suffix: 'patient_time', on: '(patient_id, measured_at)' }],
  raw_procedures: [{ suffix: 'procedure', on: '(procedure_id)' }],
};

/**
 * Tables whose ANALYZE covers only the columns the serving queries filter, join or sort on (the key and indexed
 * columns): sampling every column of the 5M-row telemetry_risk took twice as long. The server's autovacuum analyzes
 * the rest after the commit (the insert count alone triggers it). Tables not named here are analyzed whole.
 */
export const SERVING_ANALYZE: Record<string, readonly string[]> = {
  telemetry_risk: ['event_id', 'procedure_id', 'patient_id', 'robot_id', 'recorded_at'],
};

export interface ServingQuery {
  name: string;
  /** What it answers. */
  title: string;
  /** PostgreSQL, tables unqualified (set search_path to the publish schema); parameters $1, $2, ... */
  sql: string;
}

/** The serving queries an application runs against the published schema. */
export const SERVING_QUERIES: readonly ServingQuery[] = [
  {
    name: 'patient-timeline',
    title: "a patient's telemetry events and alerts in time order ($1 patient_id)",
    sql: `SELECT "at", kind, id, procedure_id, robot_arm, step, level, risk_score FROM (
  SELECT recorded_at AS "at", 'event' AS kind, 1 AS kind_order, event_id AS id, procedure_id, robot_arm, step,
         risk_level AS level, risk_score
  FROM telemetry_risk WHERE patient_id = $1
  UNION ALL
  SELECT "at", 'alert', 2, alert_id, procedure_id, robot_arm, step, level, risk_score
  FROM alerts WHERE patient_id = $1
) t ORDER BY "at", kind_order, id`,
  },
  {
    name: 'top-alerts',
    title: 'the highest-risk alerts, then the earliest ($1 limit)',
    sql: `SELECT alert_id, level, risk_score, procedure_id, patient_id, robot_arm, step, "at", reason
FROM alerts ORDER BY risk_score DESC, "at", alert_id LIMIT $1`,
  },
  {
    name: 'alerts-by-level',
    title: 'the latest alerts at or above a level ($1 minimum level_rank: 2 medium, 3 high, 4 critical; $2 limit)',
    sql: `SELECT alert_id, level, level_rank, "at", patient_id, procedure_id, reason
FROM alerts WHERE level_rank >= $1 ORDER BY level_rank DESC, "at" DESC LIMIT $2`,
  },
  {
    name: 'patient-risk',
    title: "one patient's risk summary ($1 patient_id)",
    sql: `SELECT patient_id, events, avg_risk, p95_latency_ms, critical_alerts, max_news2 FROM patient_risk WHERE patient_id = $1`,
  },
  {
    name: 'procedure-risk',
    title: "a patient's procedures with their risk summary ($1 patient_id)",
    sql: `SELECT procedure_id, patient_id, robot_id, procedure_type, events, avg_risk, p95_latency_ms, critical_alerts,
       max_news2, duration_min, outcome
FROM procedure_risk WHERE patient_id = $1 ORDER BY critical_alerts DESC NULLS LAST, avg_risk DESC NULLS LAST, procedure_id`,
  },
  {
    name: 'search',
    title: 'steps, error codes and alert reasons with a word starting with $1 (e.g. sutur), grouped as report search groups them; $2 limit',
    // The tsvector match finds the rows through the GIN indexes; the ILIKE keeps report search's exact matching.
    // telemetry_search holds the steps and error codes already grouped by procedure (as report search groups them).
    sql: `SELECT kind, match, procedure_id, patient_id, robot_id, n, first_at, last_at, alert_id, level FROM (
  SELECT kind, CASE kind WHEN 'step' THEN 1 ELSE 2 END AS ord, match, procedure_id, patient_id, robot_id, n,
         first_at, last_at, NULL AS alert_id, NULL AS level
  FROM telemetry_search
  WHERE ${TELEMETRY_SEARCH_TSV} @@ to_tsquery('simple', quote_literal(lower($1)) || ':*')
    AND match ILIKE '%' || $1 || '%'
  UNION ALL
  SELECT 'alert', 3, reason, procedure_id, patient_id, robot_id, 1, "at", "at", alert_id, level
  FROM alerts
  WHERE ${ALERT_SEARCH_TSV} @@ to_tsquery('simple', quote_literal(lower($1)) || ':*') AND reason ILIKE '%' || $1 || '%'
) s ORDER BY ord, first_at, procedure_id, match, alert_id LIMIT $2`,
  },
];
