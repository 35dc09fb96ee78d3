-- depends-on: telemetry_risk, alerts, news2_hourly
-- grain: one row per (patient_id)
-- partition: patient(patient_id)
-- test: not_null(events, critical_alerts)
-- test: expect(events >= 0 AND critical_alerts >= 0 AND (avg_risk IS NULL OR avg_risk >= 0))
-- Patient risk summary over all their telemetry and vitals: events (telemetry events), avg_risk (mean risk_score),
-- p95_latency_ms (continuous), critical_alerts, max_news2 (highest hourly NEWS2). Every patient in raw_patients,
-- telemetry_risk or news2_hourly has a row; a patient without telemetry has events 0 and NULL averages.
WITH ids AS (
  SELECT patient_id FROM raw_patients WHERE in_scope_patient(patient_id)
  UNION
  SELECT patient_id FROM telemetry_risk WHERE in_scope_patient(patient_id)
  UNION
  SELECT patient_id FROM news2_hourly WHERE in_scope_patient(patient_id)
),
tr AS (
  SELECT patient_id, count(*) AS events, avg(risk_score) AS avg_risk, quantile_cont(latency_ms, 0.95) AS p95_latency_ms
  FROM telemetry_risk
  WHERE in_scope_patient(patient_id)
  GROUP BY patient_id
),
al AS (
  SELECT patient_id, count(*) FILTER (WHERE level = 'critical') AS critical_alerts
  FROM alerts
  WHERE in_scope_patient(patient_id)
  GROUP BY patient_id
),
nw AS (
  SELECT patient_id, max(news2_total) AS max_news2
  FROM news2_hourly
  WHERE in_scope_patient(patient_id)
  GROUP BY patient_id
)
SELECT
  ids.patient_id,
  coalesce(tr.events, 0)::BIGINT AS events,
  tr.avg_risk::DOUBLE AS avg_risk,
  tr.p95_latency_ms::DOUBLE AS p95_latency_ms,
  coalesce(al.critical_alerts, 0)::BIGINT AS critical_alerts,
  nw.max_news2::INTEGER AS max_news2
FROM ids
LEFT JOIN tr ON tr.patient_id = ids.patient_id
LEFT JOIN al ON al.patient_id = ids.patient_id
LEFT JOIN nw ON nw.patient_id = ids.patient_id
