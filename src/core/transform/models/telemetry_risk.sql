-- depends-on:
-- grain: one row per (event_id)
-- partition: procedure(procedure_id)
-- test: not_null(procedure_id, patient_id, robot_id, robot_arm, recorded_at, risk_score, risk_level, force_spike)
-- test: range(latency_score, 0, 3)
-- test: range(force_score, 0, 3)
-- test: range(error_score, 0, 3)
-- test: range(velocity_score, 0, 3)
-- test: range(risk_score, 0, 12)
-- test: expect(list_has_all(['force', 'latency', 'error', 'velocity'], missing))
-- test: accepted_values(risk_level, none, low, medium, high, critical)
-- Robot risk per telemetry event: NEWS2-style sub-scores 0-3 for latency (rules_bands 'latency_ms'), force as a
-- ratio to the instrument's limit (rules_force_limits, rules_bands 'force_ratio') and error code
-- (rules_error_codes), summed into risk_score and banded into risk_level (rules_params). force_spike flags
-- force_n above the mean + k_sd sample standard deviations of the preceding window_events events of the same
-- procedure and arm (ordered by recorded_at, event_id), given at least min_events of them; it adds no points.
-- velocity_score bands the tool-tip speed (rules_bands 'velocity_mm_s'): velocity_mm_s as reported, else derived
-- from the tool-tip positions (distance to the previous sample of the procedure and arm / the time between them,
-- when that is over 0 and at most motion.max_gap_s); the output velocity_mm_s is that speed.
-- Kinematics-only sources (issue 15): a measurement the event lacks is never scored as 0. Its sub-score is NULL and
-- its name is in `missing` (force: no force_n; latency: no latency_ms; error: no latency_ms either, since error
-- codes come with the console's status stream, so an absent code there is unknown rather than "no error";
-- velocity: no velocity_mm_s). risk_score sums the sub-scores present; risk_level bands that sum as before.
WITH t AS (
  SELECT event_id, procedure_id, patient_id, robot_id, robot_arm, instrument, step, recorded_at, force_n,
         velocity_mm_s AS reported_mm_s, latency_ms, nullif(error_code, '') AS error_code,
         tool_x_mm AS x, tool_y_mm AS y, tool_z_mm AS z
  FROM raw_telemetry
  WHERE in_scope_procedure(procedure_id)
),
-- One window pass: the previous sample (for the derived speed) and the force-spike frame share the partition and
-- order, so DuckDB sorts the events once (issue 18). The frame's size is rules_params.spike_window_events, read from
-- the session variable the runner sets beside it: a constant frame, where a column bound is evaluated row by row.
windowed AS (
  SELECT t.* EXCLUDE (reported_mm_s, x, y, z, dt_s, dist_mm, motion_max_gap_s),
         coalesce(t.reported_mm_s, CASE WHEN t.dt_s > 0 AND t.dt_s <= t.motion_max_gap_s THEN t.dist_mm / t.dt_s END) AS velocity_mm_s
  FROM (
    SELECT t.*,
           (epoch_us(recorded_at) - epoch_us(lag(recorded_at) OVER w)) / 1e6 AS dt_s,
           sqrt(power(x - lag(x) OVER w, 2) + power(y - lag(y) OVER w, 2) + power(z - lag(z) OVER w, 2)) AS dist_mm,
           avg(force_n) OVER spike AS w_mean,
           stddev_samp(force_n) OVER spike AS w_sd,
           count(force_n) OVER spike AS w_n,
           p.spike_k_sd, p.spike_min_events, p.motion_max_gap_s
    FROM t CROSS JOIN rules_params p
    WINDOW w AS (PARTITION BY procedure_id, robot_arm ORDER BY recorded_at, event_id),
           spike AS (PARTITION BY procedure_id, robot_arm ORDER BY recorded_at, event_id
                     ROWS BETWEEN getvariable('surgctl_spike_window_events') PRECEDING AND 1 PRECEDING)
  ) t
),
scored AS (
  SELECT w.*,
         band_score(w.latency_ms, lat.maxes, lat.scores, lat.above)::INTEGER AS latency_score,
         CASE WHEN w.force_n IS NOT NULL THEN coalesce(band_score(w.force_n / fl.limit_n, frc.maxes, frc.scores, frc.above), 0) END::INTEGER AS force_score,
         CASE WHEN w.latency_ms IS NOT NULL OR w.error_code IS NOT NULL THEN coalesce(ec.score, 0) END::INTEGER AS error_score,
         band_score(w.velocity_mm_s, vel.maxes, vel.scores, vel.above)::INTEGER AS velocity_score,
         coalesce(w.w_n >= w.spike_min_events AND w.force_n > w.w_mean + w.spike_k_sd * w.w_sd, false) AS force_spike
  FROM windowed w
  LEFT JOIN rules_force_limits fl ON fl.instrument = w.instrument
  LEFT JOIN rules_error_codes ec ON ec.code = w.error_code
  CROSS JOIN (SELECT maxes, scores, above FROM rules_bands WHERE rule = 'latency_ms') lat
  CROSS JOIN (SELECT maxes, scores, above FROM rules_bands WHERE rule = 'force_ratio') frc
  CROSS JOIN (SELECT maxes, scores, above FROM rules_bands WHERE rule = 'velocity_mm_s') vel
),
summed AS (
  SELECT s.*,
         (coalesce(s.latency_score, 0) + coalesce(s.force_score, 0) + coalesce(s.error_score, 0) + coalesce(s.velocity_score, 0))::INTEGER AS total,
         greatest(coalesce(s.latency_score, 0), coalesce(s.force_score, 0), coalesce(s.error_score, 0), coalesce(s.velocity_score, 0)) AS top
  FROM scored s
)
SELECT
  s.event_id, s.procedure_id, s.patient_id, s.robot_id, s.robot_arm, s.instrument, s.step, s.recorded_at,
  s.force_n, s.velocity_mm_s, s.latency_ms, s.error_code,
  s.latency_score, s.force_score, s.error_score, s.force_spike,
  s.total AS risk_score,
  CASE
    WHEN s.total >= p.critical_min THEN 'critical'
    WHEN s.total >= p.high_min OR s.top >= p.single_score_high THEN 'high'
    WHEN s.total >= p.medium_min THEN 'medium'
    WHEN s.total >= p.low_min THEN 'low'
    ELSE 'none'
  END AS risk_level,
  s.velocity_score,
  -- Most events have every measurement: those skip building and filtering a list (issue 18: a lambda per event).
  CASE WHEN s.force_score IS NOT NULL AND s.latency_score IS NOT NULL AND s.error_score IS NOT NULL AND s.velocity_score IS NOT NULL
    THEN []::VARCHAR[]
    ELSE list_filter([
      CASE WHEN s.force_score IS NULL THEN 'force' END,
      CASE WHEN s.latency_score IS NULL THEN 'latency' END,
      CASE WHEN s.error_score IS NULL THEN 'error' END,
      CASE WHEN s.velocity_score IS NULL THEN 'velocity' END
    ], x -> x IS NOT NULL)
  END AS missing
FROM summed s CROSS JOIN rules_params p
