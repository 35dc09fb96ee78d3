-- depends-on:
-- grain: one row per (patient_id, hour_start)
-- partition: patient_hour(patient_id, hour_start)
-- test: not_null(news2_total, news2_band, missing, resp_rate_score, spo2_score, o2_supplemental_score, systolic_bp_score, heart_rate_score, consciousness_score, temperature_score)
-- test: range(news2_total, 0, 20)
-- test: accepted_values(news2_band, low, low-medium, medium, high)
-- test: expect(news2_total = resp_rate_score + spo2_score + o2_supplemental_score + systolic_bp_score + heart_rate_score + consciousness_score + temperature_score)
-- NEWS2 (Royal College of Physicians 2017, Chart 1 scores, Chart 2 bands) per patient and UTC hour, for every hour
-- with at least one reading of a NEWS2 parameter. Each parameter scores from its most recent reading in the hour
-- (latest measured_at, then the greatest reading_id); a parameter with no reading scores 0 and is listed in
-- `missing` (chart order). SpO2 uses scale 1. Bands: high at >= high_min, medium at >= medium_min, low-medium
-- when any single parameter scores low_medium_single (3), else low.
WITH latest AS (
  SELECT patient_id, date_trunc('hour', measured_at) AS hour_start, metric,
         arg_max(value, (measured_at, reading_id)) AS value
  FROM raw_vitals
  WHERE metric IN ('resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness', 'temperature_c')
    AND in_scope_patient_hour(patient_id, measured_at)
  GROUP BY patient_id, date_trunc('hour', measured_at), metric
),
scored AS (
  SELECT l.patient_id, l.hour_start, l.metric,
         band_score(l.value, b.maxes, b.scores, b.above)::INTEGER AS score
  FROM latest l
  JOIN rules_bands b ON b.rule = 'news2_' || l.metric
),
wide AS (
  SELECT patient_id, hour_start,
         list(metric) AS present,
         coalesce(max(score) FILTER (WHERE metric = 'resp_rate'), 0) AS resp_rate_score,
         coalesce(max(score) FILTER (WHERE metric = 'spo2'), 0) AS spo2_score,
         coalesce(max(score) FILTER (WHERE metric = 'o2_supplemental'), 0) AS o2_supplemental_score,
         coalesce(max(score) FILTER (WHERE metric = 'systolic_bp'), 0) AS systolic_bp_score,
         coalesce(max(score) FILTER (WHERE metric = 'heart_rate'), 0) AS heart_rate_score,
         coalesce(max(score) FILTER (WHERE metric = 'consciousness'), 0) AS consciousness_score,
         coalesce(max(score) FILTER (WHERE metric = 'temperature_c'), 0) AS temperature_score
  FROM scored
  GROUP BY patient_id, hour_start
),
totalled AS (
  SELECT *,
         resp_rate_score + spo2_score + o2_supplemental_score + systolic_bp_score + heart_rate_score
           + consciousness_score + temperature_score AS total,
         greatest(resp_rate_score, spo2_score, o2_supplemental_score, systolic_bp_score, heart_rate_score,
                  consciousness_score, temperature_score) AS top
  FROM wide
)
SELECT
  t.patient_id,
  t.hour_start,
  t.total::INTEGER AS news2_total,
  CASE
    WHEN t.total >= p.news2_high_min THEN 'high'
    WHEN t.total >= p.news2_medium_min THEN 'medium'
    WHEN t.top >= p.news2_low_medium_single THEN 'low-medium'
    ELSE 'low'
  END AS news2_band,
  list_filter(['resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness', 'temperature_c'],
              m -> NOT list_contains(t.present, m)) AS missing,
  t.resp_rate_score::INTEGER AS resp_rate_score,
  t.spo2_score::INTEGER AS spo2_score,
  t.o2_supplemental_score::INTEGER AS o2_supplemental_score,
  t.systolic_bp_score::INTEGER AS systolic_bp_score,
  t.heart_rate_score::INTEGER AS heart_rate_score,
  t.consciousness_score::INTEGER AS consciousness_score,
  t.temperature_score::INTEGER AS temperature_score
FROM totalled t CROSS JOIN rules_params p
