-- depends-on:
-- grain: one row per (patient_id, metric, hour_start)
-- partition: patient_hour(patient_id, hour_start)
-- test: not_null(n, min, max, avg, p95, alarming_n)
-- test: expect(alarming_n >= 0 AND alarming_n <= n)
-- test: expect(min - 1e-9 * abs(min) <= least(avg, p95) AND greatest(avg, p95) <= max + 1e-9 * abs(max) AND n >= 1)
-- Hourly aggregates of every vital-sign reading, in the metric's own unit (see schemas/vitals.schema.json
-- x-metric-units). hour_start is the UTC hour; p95 is continuous (linear interpolation, quantile_cont). The range
-- test allows a last-bit rounding: avg and the interpolated p95 can land 1 ulp past min or max. alarming_n counts the
-- readings that are alarming but possible (rules vitals_limits: below `below` or above `above`; issue 15's second
-- tier: loaded and scored, shown apart); 0 for a metric without limits.
SELECT
  patient_id,
  metric,
  date_trunc('hour', measured_at) AS hour_start,
  count(*) AS n,
  min(value) AS min,
  max(value) AS max,
  avg(value) AS avg,
  quantile_cont(value, 0.95) AS p95,
  count(*) FILTER (WHERE value < l.alarming_below OR value > l.alarming_above) AS alarming_n
FROM raw_vitals v
LEFT JOIN rules_vitals_limits l USING (metric)
WHERE in_scope_patient_hour(patient_id, measured_at)
GROUP BY patient_id, metric, date_trunc('hour', measured_at)
