-- depends-on: telemetry_risk
-- grain: one row per (procedure_id, latency_key)
-- partition: procedure(procedure_id)
-- test: expect(events >= 1 AND risk_n <= events AND errors <= events)
-- test: expect(events_none + events_low + events_medium + events_high + events_critical <= events)
-- What `report summary` needs from telemetry_risk, precomputed so the report reads one row per procedure and
-- latency value instead of every event: the events, the sum and count of risk_score, the events with an error
-- code and the events per risk level. latency_key is latency_ms, or -1 for the events without one (latency_ms is
-- NULL; a latency is never negative). Summed over procedures the rows give the fleet's counts and its exact
-- latency histogram (the nearest-rank p95).
SELECT
  procedure_id,
  coalesce(latency_ms, -1)::DOUBLE AS latency_key,
  latency_ms::DOUBLE AS latency_ms,
  count(*)::BIGINT AS events,
  sum(risk_score)::BIGINT AS risk_sum,
  count(risk_score)::BIGINT AS risk_n,
  count(nullif(error_code, ''))::BIGINT AS errors,
  count(*) FILTER (WHERE risk_level = 'none')::BIGINT AS events_none,
  count(*) FILTER (WHERE risk_level = 'low')::BIGINT AS events_low,
  count(*) FILTER (WHERE risk_level = 'medium')::BIGINT AS events_medium,
  count(*) FILTER (WHERE risk_level = 'high')::BIGINT AS events_high,
  count(*) FILTER (WHERE risk_level = 'critical')::BIGINT AS events_critical
FROM telemetry_risk
WHERE in_scope_procedure(procedure_id)
GROUP BY procedure_id, latency_ms
