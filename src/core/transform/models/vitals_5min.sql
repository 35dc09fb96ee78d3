-- depends-on:
-- grain: one row per (patient_id, metric, window_start)
-- partition: patient_hour(patient_id, window_start)
-- test: not_null(n, min, max, avg, alarming_n)
-- test: expect(min - 1e-9 * abs(min) <= avg AND avg <= max + 1e-9 * abs(max) AND n >= 1 AND window_start = time_bucket(INTERVAL '5 minutes', window_start))
-- Five-minute tumbling windows of every vital-sign reading: [window_start, window_start + 5 min) in UTC,
-- aligned to the hour (:00, :05, ...). alarming_n as in vitals_hourly: readings outside rules vitals_limits' alarming range.
SELECT
  patient_id,
  metric,
  time_bucket(INTERVAL '5 minutes', measured_at) AS window_start,
  count(*) AS n,
  min(value) AS min,
  max(value) AS max,
  avg(value) AS avg,
  count(*) FILTER (WHERE value < l.alarming_below OR value > l.alarming_above) AS alarming_n
FROM raw_vitals v
LEFT JOIN rules_vitals_limits l USING (metric)
WHERE in_scope_patient_hour(patient_id, measured_at)
GROUP BY patient_id, metric, time_bucket(INTERVAL '5 minutes', measured_at)
