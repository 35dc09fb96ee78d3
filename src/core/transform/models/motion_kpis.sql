-- depends-on:
-- grain: one row per (procedure_id, robot_arm, step)
-- partition: procedure(procedure_id)
-- test: not_null(procedure_id, robot_arm, samples, duration_s, idle_s, jerk_events, started_at, ended_at)
-- test: expect(samples >= 1 AND duration_s >= 0 AND idle_s >= 0 AND idle_s <= duration_s + 1e-6 AND ended_at >= started_at)
-- test: expect(economy_of_motion IS NULL OR (economy_of_motion >= 0 AND economy_of_motion <= 1 + 1e-9))
-- Motion measures per procedure, arm and step (issue 15), as the surgical-robotics skill literature uses them
-- (rules file `motion`, with sources): backward differences between consecutive samples of one procedure, arm and
-- step (ordered by recorded_at, event_id); an interval longer than motion.max_gap_s (or of 0 s) is not differenced.
-- Velocity: the tool-tip position difference / dt (mm/s, a vector) when the sample and the one before carry a
-- position; without positions the reported speed velocity_mm_s stands for it (a scalar, so acceleration and jerk
-- are then its derivatives along the path). Acceleration = velocity difference / dt (mm/s^2), jerk = acceleration
-- difference / dt (mm/s^3); means and maxima are of their magnitudes.
-- Units: duration_s and idle_s s (sum of differenced intervals; idle = speed under motion.idle_speed_mm_s),
-- path_length_mm mm (sum of position steps; NULL without positions), straight_line_mm (first to last position),
-- economy_of_motion = straight_line_mm / path_length_mm (1 = a straight path), jerk_events = samples whose jerk
-- exceeds motion.jerk_high_mm_s3, gripper_* rad (NULL without a gripper angle).
WITH t AS (
  SELECT procedure_id, patient_id, robot_id, robot_arm, step, event_id, recorded_at, velocity_mm_s,
         tool_x_mm AS x, tool_y_mm AS y, tool_z_mm AS z, gripper_angle_rad
  FROM raw_telemetry
  WHERE in_scope_procedure(procedure_id)
),
d AS (
  SELECT t.*,
         (epoch_us(recorded_at) - epoch_us(lag(recorded_at) OVER w)) / 1e6 AS dt_raw,
         x - lag(x) OVER w AS dx, y - lag(y) OVER w AS dy, z - lag(z) OVER w AS dz
  FROM t
  WINDOW w AS (PARTITION BY procedure_id, robot_arm, step ORDER BY recorded_at, event_id)
),
v AS (
  SELECT d.*,
         CASE WHEN d.dt_raw > 0 AND d.dt_raw <= p.motion_max_gap_s THEN d.dt_raw END AS dt,
         p.motion_idle_speed_mm_s AS idle_speed, p.motion_jerk_high_mm_s3 AS jerk_high
  FROM d CROSS JOIN rules_params p
),
vel AS (
  SELECT v.*,
         CASE WHEN v.x IS NULL THEN v.velocity_mm_s ELSE v.dx / v.dt END AS vx,
         CASE WHEN v.x IS NULL THEN CASE WHEN v.velocity_mm_s IS NOT NULL THEN 0.0 END ELSE v.dy / v.dt END AS vy,
         CASE WHEN v.x IS NULL THEN CASE WHEN v.velocity_mm_s IS NOT NULL THEN 0.0 END ELSE v.dz / v.dt END AS vz,
         sqrt(v.dx * v.dx + v.dy * v.dy + v.dz * v.dz) AS step_mm
  FROM v
),
acc AS (
  SELECT vel.*,
         (vx - lag(vx) OVER w) / dt AS ax, (vy - lag(vy) OVER w) / dt AS ay, (vz - lag(vz) OVER w) / dt AS az
  FROM vel
  WINDOW w AS (PARTITION BY procedure_id, robot_arm, step ORDER BY recorded_at, event_id)
),
jrk AS (
  SELECT acc.*,
         sqrt(vx * vx + vy * vy + vz * vz) AS speed,
         sqrt(ax * ax + ay * ay + az * az) AS accel,
         sqrt(power((ax - lag(ax) OVER w) / dt, 2) + power((ay - lag(ay) OVER w) / dt, 2) + power((az - lag(az) OVER w) / dt, 2)) AS jerk
  FROM acc
  WINDOW w AS (PARTITION BY procedure_id, robot_arm, step ORDER BY recorded_at, event_id)
)
SELECT
  procedure_id,
  min(patient_id) AS patient_id,
  min(robot_id) AS robot_id,
  robot_arm,
  step,
  min(recorded_at) AS started_at,
  max(recorded_at) AS ended_at,
  count(*)::BIGINT AS samples,
  coalesce(sum(dt), 0)::DOUBLE AS duration_s,
  CASE WHEN count(x) > 0 THEN coalesce(sum(step_mm) FILTER (WHERE dt IS NOT NULL), 0) END::DOUBLE AS path_length_mm,
  CASE WHEN count(x) > 0 THEN sqrt(power(last(x ORDER BY recorded_at, event_id) - first(x ORDER BY recorded_at, event_id), 2)
    + power(last(y ORDER BY recorded_at, event_id) - first(y ORDER BY recorded_at, event_id), 2)
    + power(last(z ORDER BY recorded_at, event_id) - first(z ORDER BY recorded_at, event_id), 2)) END::DOUBLE AS straight_line_mm,
  CASE WHEN sum(step_mm) FILTER (WHERE dt IS NOT NULL) > 0 THEN
    least(1.0, sqrt(power(last(x ORDER BY recorded_at, event_id) - first(x ORDER BY recorded_at, event_id), 2)
      + power(last(y ORDER BY recorded_at, event_id) - first(y ORDER BY recorded_at, event_id), 2)
      + power(last(z ORDER BY recorded_at, event_id) - first(z ORDER BY recorded_at, event_id), 2))
      / sum(step_mm) FILTER (WHERE dt IS NOT NULL)) END::DOUBLE AS economy_of_motion,
  avg(speed)::DOUBLE AS mean_speed_mm_s,
  max(speed)::DOUBLE AS max_speed_mm_s,
  avg(accel)::DOUBLE AS mean_accel_mm_s2,
  max(accel)::DOUBLE AS max_accel_mm_s2,
  avg(jerk)::DOUBLE AS mean_jerk_mm_s3,
  max(jerk)::DOUBLE AS max_jerk_mm_s3,
  count(*) FILTER (WHERE jerk > jerk_high)::BIGINT AS jerk_events,
  coalesce(sum(dt) FILTER (WHERE speed < idle_speed), 0)::DOUBLE AS idle_s,
  min(gripper_angle_rad)::DOUBLE AS gripper_min_rad,
  max(gripper_angle_rad)::DOUBLE AS gripper_max_rad,
  avg(gripper_angle_rad)::DOUBLE AS gripper_mean_rad
FROM jrk
GROUP BY procedure_id, robot_arm, step
