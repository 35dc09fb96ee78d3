-- depends-on:
-- grain: one row per (procedure_type)
-- test: expect(procedures >= 1)
-- test: expect(success_rate IS NULL OR (success_rate >= 0 AND success_rate <= 1))
-- test: expect(readmission_rate IS NULL OR (readmission_rate >= 0 AND readmission_rate <= 1))
-- Outcomes by procedure type (rebuilt every run: small): procedures of the type; success_rate (outcome
-- 'success') and readmission_rate (readmitted_30d) over the procedures with an outcome; mean length of stay
-- (days); one count per worst Clavien-Dindo grade (Dindo et al., Ann Surg 2004).
SELECT
  p.procedure_type,
  count(*)::BIGINT AS procedures,
  avg(CASE WHEN o.outcome IS NULL THEN NULL WHEN o.outcome = 'success' THEN 1.0 ELSE 0.0 END)::DOUBLE AS success_rate,
  avg(CASE WHEN o.readmitted_30d IS NULL THEN NULL WHEN o.readmitted_30d THEN 1.0 ELSE 0.0 END)::DOUBLE AS readmission_rate,
  avg(o.length_of_stay_days)::DOUBLE AS avg_length_of_stay_days,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'none')::BIGINT AS grade_none,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'I')::BIGINT AS grade_i,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'II')::BIGINT AS grade_ii,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'IIIa')::BIGINT AS grade_iiia,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'IIIb')::BIGINT AS grade_iiib,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'IVa')::BIGINT AS grade_iva,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'IVb')::BIGINT AS grade_ivb,
  count(*) FILTER (WHERE o.clavien_dindo_grade = 'V')::BIGINT AS grade_v
FROM raw_procedures p
LEFT JOIN raw_outcomes o ON o.procedure_id = p.procedure_id
GROUP BY p.procedure_type
