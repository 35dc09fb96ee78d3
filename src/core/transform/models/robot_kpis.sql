-- depends-on: telemetry_risk
-- grain: one row per (robot_id)
-- test: not_null(procedures, utilization_hours, downtime_hours, maintenance_cost_usd)
-- test: expect(utilization_hours >= 0 AND downtime_hours >= 0 AND maintenance_cost_usd >= 0)
-- test: expect(error_rate IS NULL OR (error_rate >= 0 AND error_rate <= 1))
-- Robot KPIs (whole fleet, rebuilt every run: small): procedures performed, utilization_hours (sum of procedure
-- durations, h), downtime_hours and maintenance_cost_usd (sums over the maintenance log), error_rate (telemetry
-- events with an error code / events; NULL without telemetry). model and facility from the robot registry.
WITH ids AS (
  SELECT robot_id FROM raw_robots
  UNION SELECT robot_id FROM raw_procedures
  UNION SELECT robot_id FROM raw_maintenance
  UNION SELECT robot_id FROM telemetry_risk
),
pr AS (
  SELECT robot_id, count(*) AS procedures, sum(epoch_us(ended_at) - epoch_us(started_at)) / 3600e6 AS utilization_hours
  FROM raw_procedures
  GROUP BY robot_id
),
mt AS (
  SELECT robot_id, sum(downtime_hours) AS downtime_hours, sum(cost_usd) AS maintenance_cost_usd
  FROM raw_maintenance
  GROUP BY robot_id
),
ev AS (
  SELECT robot_id, count(*) AS events, count(error_code) AS errors
  FROM telemetry_risk
  GROUP BY robot_id
)
SELECT
  ids.robot_id,
  r.model,
  r.facility_id,
  coalesce(pr.procedures, 0)::BIGINT AS procedures,
  coalesce(pr.utilization_hours, 0)::DOUBLE AS utilization_hours,
  coalesce(mt.downtime_hours, 0)::DOUBLE AS downtime_hours,
  coalesce(mt.maintenance_cost_usd, 0)::DOUBLE AS maintenance_cost_usd,
  CASE WHEN ev.events > 0 THEN ev.errors / ev.events END::DOUBLE AS error_rate
FROM ids
LEFT JOIN raw_robots r ON r.robot_id = ids.robot_id
LEFT JOIN pr ON pr.robot_id = ids.robot_id
LEFT JOIN mt ON mt.robot_id = ids.robot_id
LEFT JOIN ev ON ev.robot_id = ids.robot_id
