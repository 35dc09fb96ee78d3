-- depends-on: telemetry_risk
-- grain: one row per (kind, match, procedure_id, patient_id, robot_id)
-- partition: procedure(procedure_id)
-- batched: false (a few rows per procedure: the grouping holds them, not the events)
-- test: accepted_values(kind, step, error_code)
-- test: expect(n >= 1 AND first_at <= last_at)
-- What full-text search of steps and error codes needs from telemetry_risk, grouped as `report search` groups it:
-- per distinct step or error code text and procedure, the events, the first and the last. A few rows per procedure
-- instead of every event, so publish builds its tsvector GIN index over these (issue 17: a GIN over millions of
-- events cost as much as the COPY) and the serving search reads no event rows.
SELECT 'step' AS kind, step AS match, procedure_id, patient_id, robot_id, count(*)::BIGINT AS n,
       min(recorded_at) AS first_at, max(recorded_at) AS last_at
FROM telemetry_risk
WHERE step IS NOT NULL AND in_scope_procedure(procedure_id)
GROUP BY step, procedure_id, patient_id, robot_id
UNION ALL
SELECT 'error_code', error_code, procedure_id, patient_id, robot_id, count(*)::BIGINT, min(recorded_at), max(recorded_at)
FROM telemetry_risk
WHERE error_code IS NOT NULL AND in_scope_procedure(procedure_id)
GROUP BY error_code, procedure_id, patient_id, robot_id
