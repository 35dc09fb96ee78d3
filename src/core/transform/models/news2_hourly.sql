-- depends-on:
-- grain: one row per (patient_id, hour_start)
-- partition: patient(patient_id)
-- test: not_null(news2_total, news2_band, missing, resp_rate_score, spo2_score, o2_supplemental_score, systolic_bp_score, heart_rate_score, consciousness_score, temperature_score, scored_at, complete, parameters_present)
-- test: range(news2_total, 0, 20)
-- test: range(parameters_present, 1, 7)
-- test: accepted_values(news2_band, low, low-medium, medium, high, incomplete)
-- test: accepted_values(news2_alert, low-medium, medium, high)
-- test: expect(news2_total = resp_rate_score + spo2_score + o2_supplemental_score + systolic_bp_score + heart_rate_score + consciousness_score + temperature_score)
-- test: expect(complete = (parameters_present = 7) AND complete = (len(missing) = 0) AND (news2_band = 'incomplete') = NOT complete)
-- NEWS2 (Royal College of Physicians 2017, Chart 1 scores, Chart 2 bands) on observation sets, per patient and UTC
-- hour with at least one reading of a NEWS2 parameter. The hour's set is scored at scored_at, its latest NEWS2
-- reading, from the latest reading of each parameter at or before scored_at and no older than news2.lookback_h
-- (4 h; a reading exactly lookback_h old still counts): readings are carried forward across hours. Ties on
-- measured_at go to the greatest reading_id. <param>_age_min is how old the value used was at scored_at
-- (minutes; NULL when missing). A parameter with no reading in the look-back scores 0 and is listed in `missing`
-- (chart order); complete = all 7 present, parameters_present counts them.
-- news2_band (Chart 2): high at >= high_min, medium at >= medium_min, low-medium when a single parameter scores
-- low_medium_single (3), else low; `incomplete` whenever a parameter is missing, so a partial sum never reads as
-- a full-score band. news2_total is then the sum of the present parameters: a floor, since a missing parameter
-- can only add points. news2_alert is the Chart 2 response that floor already triggers (high, medium, or
-- low-medium for a single red parameter) or NULL: it fires on incomplete sets too. SpO2 uses Scale 1, or Scale 2
-- (hypercapnic respiratory failure) for the patients in news2.spo2_scale2.patients: there, at or above
-- on_air_above %, a patient on air (or with no O2 reading in the set) scores 0 and one on oxygen the band score.
WITH r AS (
  SELECT patient_id, metric, measured_at, arg_max(value, reading_id) AS value
  FROM raw_vitals
  WHERE metric IN ('resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness', 'temperature_c')
    AND value IS NOT NULL AND measured_at IS NOT NULL
    AND in_scope_patient(patient_id)
  GROUP BY patient_id, metric, measured_at
),
sets AS (
  SELECT patient_id, date_trunc('hour', measured_at) AS hour_start, max(measured_at) AS scored_at
  FROM r
  GROUP BY patient_id, date_trunc('hour', measured_at)
),
params AS (
  SELECT * FROM (VALUES ('resp_rate'), ('spo2'), ('o2_supplemental'), ('systolic_bp'), ('heart_rate'), ('consciousness'), ('temperature_c')) t(metric)
),
-- Each set takes, per parameter, its last reading at or before the set's time: an ASOF join (issue 18: cheaper than one
-- window over the readings and the sets together, the same rows), readings at the same instant included.
latest AS (
  SELECT s.patient_id, s.hour_start, s.scored_at, m.metric, r.value,
         (epoch_us(s.scored_at) - epoch_us(r.measured_at)) / 60e6 AS age_min
  FROM sets s
  CROSS JOIN params m
  ASOF JOIN r ON r.patient_id IS NOT DISTINCT FROM s.patient_id AND r.metric = m.metric AND r.measured_at <= s.scored_at
  CROSS JOIN rules_params p
  WHERE epoch_us(s.scored_at) - epoch_us(r.measured_at) <= p.news2_lookback_h * 3600e6
),
o2 AS (
  SELECT patient_id, hour_start, value AS on_o2 FROM latest WHERE metric = 'o2_supplemental'
),
scored AS (
  SELECT l.patient_id, l.hour_start, l.scored_at, l.metric, l.age_min,
         CASE
           WHEN l.metric = 'spo2' AND s2.patient_id IS NOT NULL THEN
             CASE WHEN l.value > p.news2_spo2_scale2_on_air_above AND coalesce(o2.on_o2, 0) = 0 THEN 0
                  ELSE band_score(l.value, b2.maxes, b2.scores, b2.above) END
           ELSE band_score(l.value, b.maxes, b.scores, b.above)
         END::INTEGER AS score
  FROM latest l
  CROSS JOIN rules_params p
  JOIN rules_bands b ON b.rule = 'news2_' || l.metric
  LEFT JOIN rules_spo2_scale2_patients s2 ON s2.patient_id = l.patient_id AND l.metric = 'spo2'
  LEFT JOIN rules_bands b2 ON b2.rule = 'news2_spo2_scale2'
  LEFT JOIN o2 ON o2.patient_id = l.patient_id AND o2.hour_start = l.hour_start
),
wide AS (
  SELECT patient_id, hour_start, any_value(scored_at) AS scored_at,
         list(metric) AS present,
         coalesce(max(score) FILTER (WHERE metric = 'resp_rate'), 0) AS resp_rate_score,
         coalesce(max(score) FILTER (WHERE metric = 'spo2'), 0) AS spo2_score,
         coalesce(max(score) FILTER (WHERE metric = 'o2_supplemental'), 0) AS o2_supplemental_score,
         coalesce(max(score) FILTER (WHERE metric = 'systolic_bp'), 0) AS systolic_bp_score,
         coalesce(max(score) FILTER (WHERE metric = 'heart_rate'), 0) AS heart_rate_score,
         coalesce(max(score) FILTER (WHERE metric = 'consciousness'), 0) AS consciousness_score,
         coalesce(max(score) FILTER (WHERE metric = 'temperature_c'), 0) AS temperature_score,
         max(age_min) FILTER (WHERE metric = 'resp_rate') AS resp_rate_age_min,
         max(age_min) FILTER (WHERE metric = 'spo2') AS spo2_age_min,
         max(age_min) FILTER (WHERE metric = 'o2_supplemental') AS o2_supplemental_age_min,
         max(age_min) FILTER (WHERE metric = 'systolic_bp') AS systolic_bp_age_min,
         max(age_min) FILTER (WHERE metric = 'heart_rate') AS heart_rate_age_min,
         max(age_min) FILTER (WHERE metric = 'consciousness') AS consciousness_age_min,
         max(age_min) FILTER (WHERE metric = 'temperature_c') AS temperature_age_min
  FROM scored
  GROUP BY patient_id, hour_start
),
totalled AS (
  SELECT *,
         resp_rate_score + spo2_score + o2_supplemental_score + systolic_bp_score + heart_rate_score
           + consciousness_score + temperature_score AS total,
         greatest(resp_rate_score, spo2_score, o2_supplemental_score, systolic_bp_score, heart_rate_score,
                  consciousness_score, temperature_score) AS top,
         len(present) AS n_present
  FROM wide
),
banded AS (
  SELECT t.*,
         CASE
           WHEN t.total >= p.news2_high_min THEN 'high'
           WHEN t.total >= p.news2_medium_min THEN 'medium'
           WHEN t.top >= p.news2_low_medium_single THEN 'low-medium'
           ELSE 'low'
         END AS floor_band
  FROM totalled t CROSS JOIN rules_params p
)
SELECT
  patient_id,
  hour_start,
  total::INTEGER AS news2_total,
  CASE WHEN n_present = 7 THEN floor_band ELSE 'incomplete' END AS news2_band,
  list_filter(['resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness', 'temperature_c'],
              m -> NOT list_contains(present, m)) AS missing,
  resp_rate_score::INTEGER AS resp_rate_score,
  spo2_score::INTEGER AS spo2_score,
  o2_supplemental_score::INTEGER AS o2_supplemental_score,
  systolic_bp_score::INTEGER AS systolic_bp_score,
  heart_rate_score::INTEGER AS heart_rate_score,
  consciousness_score::INTEGER AS consciousness_score,
  temperature_score::INTEGER AS temperature_score,
  scored_at,
  n_present = 7 AS complete,
  n_present::INTEGER AS parameters_present,
  CASE WHEN floor_band <> 'low' THEN floor_band END AS news2_alert,
  resp_rate_age_min::DOUBLE AS resp_rate_age_min,
  spo2_age_min::DOUBLE AS spo2_age_min,
  o2_supplemental_age_min::DOUBLE AS o2_supplemental_age_min,
  systolic_bp_age_min::DOUBLE AS systolic_bp_age_min,
  heart_rate_age_min::DOUBLE AS heart_rate_age_min,
  consciousness_age_min::DOUBLE AS consciousness_age_min,
  temperature_age_min::DOUBLE AS temperature_age_min
FROM banded
