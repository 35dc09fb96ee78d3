-- depends-on:
-- grain: one row per (patient_id, hour_start)
-- partition: patient(patient_id)
-- test: accepted_values(bp_category, normal, elevated, stage_1, stage_2, crisis)
-- test: accepted_values(glucose_level, hypo_level_2, hypo_level_1, in_range, high, very_high)
-- test: expect(weight_gain_72h_kg IS NULL OR weight_gain_72h_kg >= 0)
-- Per patient and UTC hour with a blood-pressure, glucose or weight reading:
-- bp_category (ACC/AHA 2017) from the hour's most recent systolic and diastolic readings, the higher category
--   when they disagree: crisis (> crisis thresholds, either), stage_2, stage_1, elevated, normal; NULL unless both
--   are present.
-- glucose_level (ADA): hypo_level_2 (< 54 mg/dL) or hypo_level_1 (< 70) from the hour's lowest reading, else
--   very_high (> 250), high (> 180) or in_range from its highest reading; NULL without a reading.
-- weight_gain_72h_kg: the largest rise, over the hour's weight readings, of a reading above the lowest reading of
--   the same patient in the window_h (72 h) before it (inclusive); weight_gain_flag when it exceeds gain_kg (2 kg).
--   Both NULL in hours without a weight reading. A patient is the partition: the window spans hours.
WITH v AS (
  SELECT reading_id, patient_id, metric, value, measured_at, date_trunc('hour', measured_at) AS hour_start
  FROM raw_vitals
  WHERE metric IN ('systolic_bp', 'diastolic_bp', 'glucose_mg_dl', 'weight_kg')
    AND in_scope_patient(patient_id)
),
hourly AS (
  SELECT patient_id, hour_start,
         arg_max(value, (measured_at, reading_id)) FILTER (WHERE metric = 'systolic_bp') AS sbp,
         arg_max(value, (measured_at, reading_id)) FILTER (WHERE metric = 'diastolic_bp') AS dbp,
         min(value) FILTER (WHERE metric = 'glucose_mg_dl') AS glucose_min,
         max(value) FILTER (WHERE metric = 'glucose_mg_dl') AS glucose_max
  FROM v
  GROUP BY patient_id, hour_start
),
-- The lowest weight of the window_h before each weight reading (inclusive at both ends, readings at the same instant
-- included), as a window over the patient's weight readings: the same set a self-join on that range reads, without
-- joining each reading to every one before it (issue 18).
weights AS (
  SELECT w.patient_id, w.hour_start, w.reading_id,
         w.value - min(w.value) OVER (
           PARTITION BY w.patient_id ORDER BY w.measured_at
           RANGE BETWEEN to_microseconds((p.weight_window_h * 3600e6)::BIGINT) PRECEDING AND CURRENT ROW) AS gain
  FROM v w
  CROSS JOIN rules_params p
  WHERE w.metric = 'weight_kg' AND w.measured_at IS NOT NULL AND w.patient_id IS NOT NULL
),
weight_hourly AS (
  SELECT patient_id, hour_start, max(gain) AS gain FROM weights GROUP BY patient_id, hour_start
)
SELECT
  h.patient_id,
  h.hour_start,
  CASE
    WHEN h.sbp IS NULL OR h.dbp IS NULL THEN NULL
    WHEN h.sbp > p.bp_crisis_sbp_above OR h.dbp > p.bp_crisis_dbp_above THEN 'crisis'
    WHEN h.sbp >= p.bp_stage2_sbp_min OR h.dbp >= p.bp_stage2_dbp_min THEN 'stage_2'
    WHEN h.sbp >= p.bp_stage1_sbp_min OR h.dbp >= p.bp_stage1_dbp_min THEN 'stage_1'
    WHEN h.sbp >= p.bp_elevated_sbp_min THEN 'elevated'
    ELSE 'normal'
  END AS bp_category,
  CASE
    WHEN h.glucose_min IS NULL THEN NULL
    WHEN h.glucose_min < p.glucose_level2_hypo_below THEN 'hypo_level_2'
    WHEN h.glucose_min < p.glucose_level1_hypo_below THEN 'hypo_level_1'
    WHEN h.glucose_max > p.glucose_very_high_above THEN 'very_high'
    WHEN h.glucose_max > p.glucose_high_above THEN 'high'
    ELSE 'in_range'
  END AS glucose_level,
  w.gain AS weight_gain_72h_kg,
  CASE WHEN w.gain IS NULL THEN NULL ELSE w.gain > p.weight_gain_kg END AS weight_gain_flag
FROM hourly h
CROSS JOIN rules_params p
LEFT JOIN weight_hourly w ON w.patient_id = h.patient_id AND w.hour_start = h.hour_start
