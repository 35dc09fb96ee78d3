-- depends-on:
-- grain: one row per (event_id)
-- partition: procedure(procedure_id)
-- test: not_null(procedure_id, patient_id, robot_id, robot_arm, recorded_at, risk_score, risk_level, force_spike)
-- test: range(latency_score, 0, 3)
-- test: range(force_score, 0, 3)
-- test: range(error_score, 0, 3)
-- test: range(risk_score, 0, 9)
-- test: accepted_values(risk_level, none, low, medium, high, critical)
-- Robot risk per telemetry event: NEWS2-style sub-scores 0-3 for latency (rules_bands 'latency_ms'), force as a
-- ratio to the instrument's limit (rules_force_limits, rules_bands 'force_ratio') and error code
-- (rules_error_codes), summed into risk_score and banded into risk_level (rules_params). force_spike flags
-- force_n above the mean + k_sd sample standard deviations of the preceding window_events events of the same
-- procedure and arm (ordered by recorded_at, event_id), given at least min_events of them; it adds no points.
WITH t AS (
  SELECT event_id, procedure_id, patient_id, robot_id, robot_arm, instrument, step, recorded_at, force_n,
         velocity_mm_s, latency_ms, nullif(error_code, '') AS error_code
  FROM raw_telemetry
  WHERE in_scope_procedure(procedure_id)
),
windowed AS (
  SELECT t.*,
         avg(force_n) OVER w AS w_mean,
         stddev_samp(force_n) OVER w AS w_sd,
         count(force_n) OVER w AS w_n,
         p.spike_k_sd, p.spike_min_events
  FROM t CROSS JOIN rules_params p
  WINDOW w AS (PARTITION BY procedure_id, robot_arm ORDER BY recorded_at, event_id
               ROWS BETWEEN p.spike_window_events PRECEDING AND 1 PRECEDING)
),
scored AS (
  SELECT w.*,
         coalesce(band_score(w.latency_ms, lat.maxes, lat.scores, lat.above), 0)::INTEGER AS latency_score,
         coalesce(band_score(w.force_n / fl.limit_n, frc.maxes, frc.scores, frc.above), 0)::INTEGER AS force_score,
         coalesce(ec.score, 0)::INTEGER AS error_score,
         coalesce(w.w_n >= w.spike_min_events AND w.force_n > w.w_mean + w.spike_k_sd * w.w_sd, false) AS force_spike
  FROM windowed w
  LEFT JOIN rules_force_limits fl ON fl.instrument = w.instrument
  LEFT JOIN rules_error_codes ec ON ec.code = w.error_code
  CROSS JOIN (SELECT maxes, scores, above FROM rules_bands WHERE rule = 'latency_ms') lat
  CROSS JOIN (SELECT maxes, scores, above FROM rules_bands WHERE rule = 'force_ratio') frc
)
SELECT
  s.event_id, s.procedure_id, s.patient_id, s.robot_id, s.robot_arm, s.instrument, s.step, s.recorded_at,
  s.force_n, s.velocity_mm_s, s.latency_ms, s.error_code,
  s.latency_score, s.force_score, s.error_score, s.force_spike,
  (s.latency_score + s.force_score + s.error_score)::INTEGER AS risk_score,
  CASE
    WHEN s.latency_score + s.force_score + s.error_score >= p.critical_min THEN 'critical'
    WHEN s.latency_score + s.force_score + s.error_score >= p.high_min
      OR greatest(s.latency_score, s.force_score, s.error_score) >= p.single_score_high THEN 'high'
    WHEN s.latency_score + s.force_score + s.error_score >= p.medium_min THEN 'medium'
    WHEN s.latency_score + s.force_score + s.error_score >= p.low_min THEN 'low'
    ELSE 'none'
  END AS risk_level
FROM scored s CROSS JOIN rules_params p
