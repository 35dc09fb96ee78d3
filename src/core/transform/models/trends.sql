-- depends-on:
-- grain: one row per (patient_id, metric)
-- partition: patient(patient_id)
-- test: not_null(n, mean, trend)
-- test: accepted_values(trend, volatile, increasing, decreasing, stable, insufficient_data)
-- test: expect((trend = 'insufficient_data') = (n < (SELECT trend_min_points FROM rules_params)))
-- test: expect(cv IS NULL OR cv >= 0)
-- Trend per patient and metric (rules_trend_metrics) over the last trends.window_h (24 h) of that metric's data,
-- i.e. readings at or after (latest reading - window_h). cv = sample standard deviation / |mean|; slope_per_h is
-- the least-squares slope in the metric's unit per hour. trend: insufficient_data with fewer than
-- trends.min_points (3) readings in the window (sparse data: yearly visits give n = 1), never stable;
-- volatile when cv >= cv_volatile (36%); increasing when slope_per_h * 24 >= slope_rel_per_24h * |mean|,
-- decreasing when <= minus that; else stable.
WITH v AS (
  SELECT patient_id, metric, value, measured_at,
         max(measured_at) OVER (PARTITION BY patient_id, metric) AS last_at
  FROM raw_vitals
  WHERE metric IN (SELECT metric FROM rules_trend_metrics)
    AND in_scope_patient(patient_id)
),
recent AS (
  SELECT v.* FROM v CROSS JOIN rules_params p
  WHERE v.measured_at >= v.last_at - to_microseconds((p.trend_window_h * 3600e6)::BIGINT)
),
agg AS (
  SELECT patient_id, metric,
         count(*) AS n,
         avg(value) AS mean,
         stddev_samp(value) AS sd,
         regr_slope(value, (epoch_us(measured_at) - epoch_us(last_at)) / 3600e6) AS slope_per_h
  FROM recent
  GROUP BY patient_id, metric
)
SELECT
  a.patient_id,
  a.metric,
  a.n,
  a.mean,
  CASE WHEN a.mean <> 0 THEN a.sd / abs(a.mean) END AS cv,
  a.slope_per_h,
  CASE
    WHEN a.n < p.trend_min_points THEN 'insufficient_data'
    WHEN a.mean <> 0 AND a.sd / abs(a.mean) >= p.trend_cv_volatile THEN 'volatile'
    WHEN a.slope_per_h * 24 >= p.trend_slope_rel_per_24h * abs(a.mean) AND a.slope_per_h > 0 THEN 'increasing'
    WHEN a.slope_per_h * 24 <= -p.trend_slope_rel_per_24h * abs(a.mean) AND a.slope_per_h < 0 THEN 'decreasing'
    ELSE 'stable'
  END AS trend
FROM agg a CROSS JOIN rules_params p
