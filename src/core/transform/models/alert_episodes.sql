-- depends-on: alerts
-- grain: one row per (episode_id)
-- partition: procedure(procedure_id)
-- batched: false (windows over the alerts only, a few per procedure)
-- test: not_null(procedure_id, robot_arm, started_at, ended_at, alerts, level, level_rank, risk_score, reason)
-- test: accepted_values(level, medium, high, critical)
-- test: expect(ended_at >= started_at AND alerts >= 1)
-- Episodes: consecutive alerts of one procedure and arm, each no more than rules_params.episode_gap_s after the
-- previous one, collapse into one row. episode_id is 'EP-' || the first alert's event_id. level, level_rank and
-- risk_score are the maxima; reason is the reason of the highest alert (level_rank, then risk_score, then the
-- earliest, then alert_id).
WITH a AS (
  SELECT * FROM alerts WHERE in_scope_procedure(procedure_id)
),
marked AS (
  SELECT a.*,
         CASE
           WHEN lag(a."at") OVER w IS NULL THEN 1
           WHEN (epoch_us(a."at") - epoch_us(lag(a."at") OVER w)) / 1e6 > p.episode_gap_s THEN 1
           ELSE 0
         END AS starts_episode
  FROM a CROSS JOIN rules_params p
  WINDOW w AS (PARTITION BY a.procedure_id, a.robot_arm ORDER BY a."at", a.alert_id)
),
numbered AS (
  SELECT *,
         sum(starts_episode) OVER (PARTITION BY procedure_id, robot_arm ORDER BY "at", alert_id ROWS UNBOUNDED PRECEDING) AS episode_no
  FROM marked
)
SELECT
  'EP-' || first(event_id ORDER BY "at", alert_id) AS episode_id,
  procedure_id,
  min(patient_id) AS patient_id,
  min(robot_id) AS robot_id,
  robot_arm,
  min("at") AS started_at,
  max("at") AS ended_at,
  count(*)::INTEGER AS alerts,
  first(level ORDER BY level_rank DESC, risk_score DESC, "at", alert_id) AS level,
  max(level_rank)::INTEGER AS level_rank,
  max(risk_score)::INTEGER AS risk_score,
  first(reason ORDER BY level_rank DESC, risk_score DESC, "at", alert_id) AS reason
FROM numbered
GROUP BY procedure_id, robot_arm, episode_no
