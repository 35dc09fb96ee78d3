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
-- One window pass (issue 18: one sort, not three): the three samples before each one (suffixes 1, 2, 3), from
-- which the sample's velocity, acceleration and jerk and those of the samples before it are computed with the
-- same expressions, in the same order, as chained lags would.
l AS (
  SELECT t.*,
         lag(recorded_at, 1) OVER w AS at1, lag(recorded_at, 2) OVER w AS at2, lag(recorded_at, 3) OVER w AS at3,
         lag(x, 1) OVER w AS x1, lag(x, 2) OVER w AS x2, lag(x, 3) OVER w AS x3,
         lag(y, 1) OVER w AS y1, lag(y, 2) OVER w AS y2, lag(y, 3) OVER w AS y3,
         lag(z, 1) OVER w AS z1, lag(z, 2) OVER w AS z2, lag(z, 3) OVER w AS z3,
         lag(velocity_mm_s, 1) OVER w AS sp1, lag(velocity_mm_s, 2) OVER w AS sp2
  FROM t
  WINDOW w AS (PARTITION BY procedure_id, robot_arm, step ORDER BY recorded_at, event_id)
),
d AS (
  SELECT l.*,
         (epoch_us(recorded_at) - epoch_us(at1)) / 1e6 AS dt_raw,
         (epoch_us(at1) - epoch_us(at2)) / 1e6 AS dt_raw1,
         (epoch_us(at2) - epoch_us(at3)) / 1e6 AS dt_raw2,
         x - x1 AS dx, y - y1 AS dy, z - z1 AS dz,
         x1 - x2 AS dx1, y1 - y2 AS dy1, z1 - z2 AS dz1,
         x2 - x3 AS dx2, y2 - y3 AS dy2, z2 - z3 AS dz2
  FROM l
),
v AS (
  SELECT d.*,
         CASE WHEN d.dt_raw > 0 AND d.dt_raw <= p.motion_max_gap_s THEN d.dt_raw END AS dt,
         CASE WHEN d.dt_raw1 > 0 AND d.dt_raw1 <= p.motion_max_gap_s THEN d.dt_raw1 END AS dt1,
         CASE WHEN d.dt_raw2 > 0 AND d.dt_raw2 <= p.motion_max_gap_s THEN d.dt_raw2 END AS dt2,
         p.motion_idle_speed_mm_s AS idle_speed, p.motion_jerk_high_mm_s3 AS jerk_high
  FROM d CROSS JOIN rules_params p
),
vel AS (
  SELECT v.*,
         CASE WHEN v.x IS NULL THEN v.velocity_mm_s ELSE v.dx / v.dt END AS vx,
         CASE WHEN v.x IS NULL THEN CASE WHEN v.velocity_mm_s IS NOT NULL THEN 0.0 END ELSE v.dy / v.dt END AS vy,
         CASE WHEN v.x IS NULL THEN CASE WHEN v.velocity_mm_s IS NOT NULL THEN 0.0 END ELSE v.dz / v.dt END AS vz,
         CASE WHEN v.x1 IS NULL THEN v.sp1 ELSE v.dx1 / v.dt1 END AS vx1,
         CASE WHEN v.x1 IS NULL THEN CASE WHEN v.sp1 IS NOT NULL THEN 0.0 END ELSE v.dy1 / v.dt1 END AS vy1,
         CASE WHEN v.x1 IS NULL THEN CASE WHEN v.sp1 IS NOT NULL THEN 0.0 END ELSE v.dz1 / v.dt1 END AS vz1,
         CASE WHEN v.x2 IS NULL THEN v.sp2 ELSE v.dx2 / v.dt2 END AS vx2,
         CASE WHEN v.x2 IS NULL THEN CASE WHEN v.sp2 IS NOT NULL THEN 0.0 END ELSE v.dy2 / v.dt2 END AS vy2,
         CASE WHEN v.x2 IS NULL THEN CASE WHEN v.sp2 IS NOT NULL THEN 0.0 END ELSE v.dz2 / v.dt2 END AS vz2,
         sqrt(v.dx * v.dx + v.dy * v.dy + v.dz * v.dz) AS step_mm
  FROM v
),
acc AS (
  SELECT vel.*,
         (vx - vx1) / dt AS ax, (vy - vy1) / dt AS ay, (vz - vz1) / dt AS az,
         (vx1 - vx2) / dt1 AS ax1, (vy1 - vy2) / dt1 AS ay1, (vz1 - vz2) / dt1 AS az1
  FROM vel
),
jrk AS (
  SELECT acc.*,
         sqrt(vx * vx + vy * vy + vz * vz) AS speed,
         sqrt(ax * ax + ay * ay + az * az) AS accel,
         sqrt(power((ax - ax1) / dt, 2) + power((ay - ay1) / dt, 2) + power((az - az1) / dt, 2)) AS jerk
  FROM acc
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
