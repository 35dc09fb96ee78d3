// A lakehouse with the marts the alert browser reads (telemetry_risk, alerts, alert_episodes, vitals_hourly,
// news2_hourly), built to the cross-stage contracts by SQL from range(): deterministic, any size.
// Each procedure has 4 arms x 120 s of 1 Hz telemetry; every 8th second of an arm is an alert, so a procedure
// carries 60 alerts, and each arm's alerts form 3 episodes of 5.
import { openDb } from '../../../src/db/db.js';

export interface FixtureOptions {
  /** Alerts to make (procedures = ceil(alerts / 60)). */
  alerts: number;
  /** Leave these marts out (to test a partial lakehouse). */
  without?: string[];
}

export const FIXTURE_START = '2026-01-05 08:00:00+00';

/** Writes the marts into the DuckDB file at `path` (created). Returns the number of alerts. */
export async function buildMartFixture(path: string, options: FixtureOptions): Promise<number> {
  const procedures = Math.max(1, Math.ceil(options.alerts / 60));
  const without = new Set(options.without ?? []);
  const db = await openDb(path);
  try {
    await db.run(`CREATE OR REPLACE TABLE telemetry_risk AS
      WITH ev AS (
        SELECT i, i // 480 AS p, (i % 480) // 120 AS arm, i % 120 AS sec FROM range($n * 480) t(i)
      ), base AS (
        SELECT *, (i % 120) % 8 = 3 AS is_alert, (p * 31 + arm * 7 + sec) % 10 AS h FROM ev
      ), vals AS (
        SELECT *,
          CASE WHEN NOT is_alert THEN 'none' WHEN h < 2 THEN 'critical' WHEN h < 5 THEN 'high' ELSE 'medium' END AS lvl,
          round(4 + 2 * sin(sec / 5.0 + arm) + CASE WHEN is_alert AND h % 2 = 0 THEN 9 ELSE 0 END, 1) AS force,
          round(120 + 40 * cos(sec / 7.0 + p) + CASE WHEN is_alert AND h % 2 = 1 THEN 480 + h * 10 ELSE 0 END, 0) AS latency
        FROM base
      )
      SELECT 'EV-' || lpad(i::VARCHAR, 9, '0') AS event_id,
             'PR-' || lpad(p::VARCHAR, 6, '0') AS procedure_id,
             'PT-' || lpad((p // 2)::VARCHAR, 5, '0') AS patient_id,
             'RB-' || lpad((p % 7)::VARCHAR, 3, '0') AS robot_id,
             'arm_' || (arm + 1) AS robot_arm,
             ['needle_driver', 'monopolar_scissors', 'bipolar_forceps', 'endoscope'][arm + 1] AS instrument,
             ['docking', 'dissection', 'retraction', 'suturing', 'stapling', 'closure'][(sec // 20) + 1] AS step,
             TIMESTAMPTZ '${FIXTURE_START}' + to_minutes(p * 37) + to_seconds(sec) AS recorded_at,
             force AS force_n, round(20 + sec % 13, 1) AS velocity_mm_s, latency AS latency_ms,
             CASE WHEN is_alert AND h = 0 THEN 'E-MOTION' END AS error_code,
             CASE WHEN latency > 500 THEN 3 ELSE 0 END::INTEGER AS latency_score,
             CASE WHEN force > 10 THEN 3 ELSE 0 END::INTEGER AS force_score,
             CASE WHEN is_alert AND h = 0 THEN 3 ELSE 0 END::INTEGER AS error_score,
             is_alert AND h = 2 AS force_spike,
             (CASE lvl WHEN 'critical' THEN 80 WHEN 'high' THEN 60 WHEN 'medium' THEN 30 ELSE 0 END
               + CASE WHEN is_alert THEN (h * 7 + sec + p) % 20 ELSE (sec + p) % 10 END)::INTEGER AS risk_score,
             CASE WHEN lvl = 'none' AND (sec + p) % 10 > 5 THEN 'low' ELSE lvl END AS risk_level
      FROM vals`, { n: procedures });
    await db.run(`CREATE OR REPLACE TABLE alerts AS
      SELECT 'AL-' || substr(event_id, 4) AS alert_id, event_id, procedure_id, patient_id, robot_id, robot_arm,
             instrument, step, recorded_at AS "at", risk_level AS level,
             CASE risk_level WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END::INTEGER AS level_rank,
             risk_score,
             list_filter(['latency', 'force', 'error', 'force_spike'],
               x -> (x = 'latency' AND latency_score > 0) OR (x = 'force' AND force_score > 0)
                 OR (x = 'error' AND error_score > 0) OR (x = 'force_spike' AND force_spike)) AS triggers,
             concat_ws('; ',
               CASE WHEN latency_score > 0 THEN 'latency ' || latency_ms::INTEGER || ' ms (>500)' END,
               CASE WHEN force_score > 0 THEN 'force ' || force_n || ' N = ' || round(force_n / 12, 2) || 'x ' || instrument || ' limit' END,
               CASE WHEN error_score > 0 THEN 'severe error ' || error_code END,
               CASE WHEN force_spike THEN 'force spike' END,
               CASE WHEN latency_score = 0 AND force_score = 0 AND error_score = 0 AND NOT force_spike
                    THEN 'risk ' || risk_score || ' during ' || step END) AS reason,
             error_code
      FROM telemetry_risk WHERE risk_level IN ('medium', 'high', 'critical')
      ORDER BY event_id LIMIT $n`, { n: options.alerts });
    if (!without.has('alert_episodes')) {
      await db.run(`CREATE OR REPLACE TABLE alert_episodes AS
        SELECT 'EP-' || procedure_id || '-' || robot_arm || '-' || (epoch(min("at"))::BIGINT) AS episode_id,
               procedure_id, patient_id, robot_id, robot_arm, min("at") AS started_at, max("at") AS ended_at,
               count(*)::INTEGER AS alerts, arg_max(level, level_rank) AS level, max(level_rank)::INTEGER AS level_rank,
               max(risk_score)::INTEGER AS risk_score, arg_max(reason, risk_score) AS reason
        FROM alerts
        GROUP BY procedure_id, patient_id, robot_id, robot_arm,
          (date_diff('second', TIMESTAMPTZ '${FIXTURE_START}', "at") - substr(procedure_id, 4)::INTEGER * 2220) // 40`);
    }
    if (!without.has('vitals_hourly')) {
      await db.run(`CREATE OR REPLACE TABLE vitals_hourly AS
        WITH hours AS (
          SELECT DISTINCT patient_id, date_trunc('hour', recorded_at) AS hour_start FROM telemetry_risk
        ), m AS (SELECT * FROM (VALUES ('heart_rate', 78.0), ('resp_rate', 16.0), ('spo2', 96.0),
                                       ('systolic_bp', 121.0), ('temperature_c', 37.1)) v(metric, mid))
        SELECT h.patient_id, m.metric, h.hour_start, 12::BIGINT AS n, m.mid * 0.95 AS min, m.mid * 1.05 AS max,
               m.mid AS avg, m.mid * 1.04 AS p95
        FROM hours h CROSS JOIN m`);
    }
    if (!without.has('news2_hourly')) {
      await db.run(`CREATE OR REPLACE TABLE news2_hourly AS
        SELECT patient_id, hour_start, (hash(patient_id, hour_start) % 8)::INTEGER AS news2_total,
               CASE WHEN hash(patient_id, hour_start) % 8 >= 7 THEN 'high' WHEN hash(patient_id, hour_start) % 8 >= 5
                    THEN 'medium' WHEN hash(patient_id, hour_start) % 8 >= 1 THEN 'low-medium' ELSE 'low' END AS news2_band,
               []::VARCHAR[] AS missing, 1 AS resp_rate_score, 0 AS spo2_score, 0 AS o2_supplemental_score,
               1 AS systolic_bp_score, 1 AS heart_rate_score, 0 AS consciousness_score, 0 AS temperature_score
        FROM (SELECT DISTINCT patient_id, date_trunc('hour', recorded_at) AS hour_start FROM telemetry_risk)`);
    }
    if (without.has('telemetry_risk')) await db.run('DROP TABLE telemetry_risk');
    return (await db.scalar<number>('SELECT count(*)::INTEGER FROM alerts')) ?? 0;
  } finally {
    db.close();
  }
}
