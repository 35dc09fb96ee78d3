-- depends-on: telemetry_risk
-- grain: one row per (alert_id)
-- partition: procedure(procedure_id)
-- batched: false (a filter of telemetry_risk: it holds no event for long, a full build reads it once)
-- test: not_null(event_id, procedure_id, robot_arm, at, level, level_rank, risk_score, triggers, reason)
-- test: accepted_values(level, medium, high, critical)
-- test: range(level_rank, 2, 4)
-- test: expect(len(triggers) >= 1 AND list_has_all(['latency', 'force', 'error', 'force_spike', 'velocity'], triggers))
-- One alert per telemetry event at or above rules_params.alert_min_rank (medium by default). alert_id is
-- 'AL-' || event_id: stable across reruns and rule changes, so acknowledgements keep pointing at the same event.
-- triggers lists the sub-scores above 0 (and a force spike) in the order latency, force, error, force_spike,
-- velocity; reason says the same in words with the values and the thresholds they crossed, and names the
-- measurements the event lacks (telemetry_risk.missing) so a partial score never reads as a full one.
WITH r AS (
  SELECT *,
         CASE risk_level WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END AS level_rank
  FROM telemetry_risk
  WHERE in_scope_procedure(procedure_id)
)
SELECT
  'AL-' || r.event_id AS alert_id,
  r.event_id, r.procedure_id, r.patient_id, r.robot_id, r.robot_arm, r.instrument, r.step,
  r.recorded_at AS at,
  r.risk_level AS level,
  r.level_rank::INTEGER AS level_rank,
  r.risk_score,
  list_filter([
    CASE WHEN r.latency_score > 0 THEN 'latency' END,
    CASE WHEN r.force_score > 0 THEN 'force' END,
    CASE WHEN r.error_score > 0 THEN 'error' END,
    CASE WHEN r.force_spike THEN 'force_spike' END,
    CASE WHEN r.velocity_score > 0 THEN 'velocity' END
  ], x -> x IS NOT NULL) AS triggers,
  array_to_string(list_filter([
    CASE WHEN r.latency_score > 0
      THEN printf('latency %s ms (>%s)', fmt_num(r.latency_ms), fmt_num(band_floor(r.latency_ms, lat.maxes))) END,
    CASE WHEN r.force_score > 0
      THEN printf('force %.1f N = %.2fx %s limit (%s N)', r.force_n, r.force_n / fl.limit_n, r.instrument, fmt_num(fl.limit_n)) END,
    CASE WHEN r.error_score > 0
      THEN printf('error %s (%s)', r.error_code, coalesce(ec.severity, 'listed')) END,
    CASE WHEN r.force_spike
      THEN printf('force spike %.1f N (> mean + %s sd of the previous %d events)', r.force_n, fmt_num(p.spike_k_sd), p.spike_window_events) END,
    CASE WHEN r.velocity_score > 0
      THEN printf('tool-tip speed %s mm/s (>%s)', fmt_num(r.velocity_mm_s), fmt_num(band_floor(r.velocity_mm_s, vel.maxes))) END,
    CASE WHEN len(r.missing) > 0
      THEN 'not measured: ' || array_to_string(r.missing, ', ') END
  ], x -> x IS NOT NULL), '; ') AS reason,
  r.error_code
FROM r
CROSS JOIN rules_params p
CROSS JOIN (SELECT maxes FROM rules_bands WHERE rule = 'latency_ms') lat
CROSS JOIN (SELECT maxes FROM rules_bands WHERE rule = 'velocity_mm_s') vel
LEFT JOIN rules_force_limits fl ON fl.instrument = r.instrument
LEFT JOIN rules_error_codes ec ON ec.code = r.error_code
WHERE r.level_rank >= p.alert_min_rank
