-- depends-on:
-- grain: one row per (load_id, rule)
-- test: expect("rows" >= 1)
-- Quarantined rows per load and rule (the first failing keyword), with the load's path and dataset from the
-- `loads` ledger (rows_read / rows_inserted per load are in `loads`). Rebuilt every run. Empty when nothing was
-- quarantined (the runner supplies empty loads / quarantine tables when a lakehouse has none yet).
SELECT
  q.load_id,
  coalesce(l.path, q.file) AS path,
  coalesce(l.dataset, q.dataset) AS dataset,
  q.rule,
  count(*)::BIGINT AS "rows"
FROM quarantine q
LEFT JOIN loads l ON l.load_id = q.load_id
GROUP BY q.load_id, coalesce(l.path, q.file), coalesce(l.dataset, q.dataset), q.rule
