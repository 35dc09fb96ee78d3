-- depends-on: telemetry_risk, alerts, news2_hourly
-- grain: one row per (procedure_id)
-- partition: procedure(procedure_id)
-- test: not_null(events, critical_alerts)
-- test: expect(duration_min IS NULL OR duration_min >= 0)
-- test: accepted_values(outcome, success, minor_complication, major_complication, death)
-- Procedure risk summary: the patient summary's measures over one procedure's telemetry, plus duration_min
-- (ended_at - started_at, minutes) and the outcome. max_news2 is the patient's highest hourly NEWS2 from the
-- procedure's start hour to kpis.procedure_news2_after_end_h (24 h) after its end. Every procedure in
-- raw_procedures or telemetry_risk has a row.
WITH ids AS (
  SELECT procedure_id FROM raw_procedures WHERE in_scope_procedure(procedure_id)
  UNION
  SELECT procedure_id FROM telemetry_risk WHERE in_scope_procedure(procedure_id)
),
pr AS (
  SELECT * FROM raw_procedures WHERE in_scope_procedure(procedure_id)
),
tr AS (
  SELECT procedure_id, min(patient_id) AS patient_id, min(robot_id) AS robot_id, count(*) AS events,
         avg(risk_score) AS avg_risk, quantile_cont(latency_ms, 0.95) AS p95_latency_ms
  FROM telemetry_risk
  WHERE in_scope_procedure(procedure_id)
  GROUP BY procedure_id
),
al AS (
  SELECT procedure_id, count(*) FILTER (WHERE level = 'critical') AS critical_alerts
  FROM alerts
  WHERE in_scope_procedure(procedure_id)
  GROUP BY procedure_id
),
nw AS (
  SELECT pr.procedure_id, max(n.news2_total) AS max_news2
  FROM pr
  CROSS JOIN rules_params p
  JOIN news2_hourly n
    ON n.patient_id = pr.patient_id
   AND n.hour_start >= date_trunc('hour', pr.started_at)
   AND n.hour_start <= pr.ended_at + to_microseconds((p.procedure_news2_after_end_h * 3600e6)::BIGINT)
  GROUP BY pr.procedure_id
),
oc AS (
  SELECT procedure_id, outcome FROM raw_outcomes WHERE in_scope_procedure(procedure_id)
)
SELECT
  ids.procedure_id,
  coalesce(pr.patient_id, tr.patient_id) AS patient_id,
  coalesce(pr.robot_id, tr.robot_id) AS robot_id,
  pr.procedure_type,
  coalesce(tr.events, 0)::BIGINT AS events,
  tr.avg_risk::DOUBLE AS avg_risk,
  tr.p95_latency_ms::DOUBLE AS p95_latency_ms,
  coalesce(al.critical_alerts, 0)::BIGINT AS critical_alerts,
  nw.max_news2::INTEGER AS max_news2,
  (epoch_us(pr.ended_at) - epoch_us(pr.started_at)) / 60e6 AS duration_min,
  oc.outcome
FROM ids
LEFT JOIN pr ON pr.procedure_id = ids.procedure_id
LEFT JOIN tr ON tr.procedure_id = ids.procedure_id
LEFT JOIN al ON al.procedure_id = ids.procedure_id
LEFT JOIN nw ON nw.procedure_id = ids.procedure_id
LEFT JOIN oc ON oc.procedure_id = ids.procedure_id
