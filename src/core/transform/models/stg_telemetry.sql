-- depends-on:
-- materialized: view
-- grain: one row per (event_id)
-- Enrichment: each telemetry event with its procedure (type, status, surgeon), patient (sex, facility) and robot
-- (model, manufacturer, facility). Left joins: an event keeps its row when reference data is missing.
-- Units: force_n N, velocity_mm_s mm/s, latency_ms ms; instants TIMESTAMPTZ (UTC).
SELECT
  t.event_id, t.procedure_id, t.patient_id, t.robot_id, t.robot_arm, t.instrument, t.step,
  t.force_n, t.velocity_mm_s, t.latency_ms, nullif(t.error_code, '') AS error_code, t.recorded_at,
  p.procedure_type, p.status AS procedure_status, p.surgeon_id, p.started_at AS procedure_started_at,
  p.ended_at AS procedure_ended_at,
  pt.sex AS patient_sex, pt.facility_id AS patient_facility_id,
  r.model AS robot_model, r.manufacturer AS robot_manufacturer, r.facility_id AS robot_facility_id,
  t._load_id
FROM raw_telemetry t
LEFT JOIN raw_procedures p ON p.procedure_id = t.procedure_id
LEFT JOIN raw_patients pt ON pt.patient_id = t.patient_id
LEFT JOIN raw_robots r ON r.robot_id = t.robot_id
