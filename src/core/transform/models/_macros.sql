-- Runtime helpers, not a model: the runner creates these TEMP macros in its session before any model runs.
-- They hold code only; every threshold reaches the models through the TEMP rules_* tables.

-- band_score(v, maxes, scores, above): the score of the first band whose inclusive max v does not exceed
-- (maxes increasing), `above` past the last band, NULL for a NULL v. Up to 8 bands (rules.schema.json maxItems).
CREATE OR REPLACE TEMP MACRO band_score(v, maxes, scores, above) AS
  CASE
    WHEN v IS NULL THEN NULL
    WHEN v <= maxes[1] THEN scores[1]
    WHEN v <= maxes[2] THEN scores[2]
    WHEN v <= maxes[3] THEN scores[3]
    WHEN v <= maxes[4] THEN scores[4]
    WHEN v <= maxes[5] THEN scores[5]
    WHEN v <= maxes[6] THEN scores[6]
    WHEN v <= maxes[7] THEN scores[7]
    WHEN v <= maxes[8] THEN scores[8]
    ELSE above
  END;

-- band_floor(v, maxes): the largest band max below v (the threshold v exceeded), for readable alert reasons.
CREATE OR REPLACE TEMP MACRO band_floor(v, maxes) AS list_max(list_filter(maxes, m -> m < v));

-- fmt_num(x): a number without trailing zeros ("500", "1.25").
CREATE OR REPLACE TEMP MACRO fmt_num(x) AS
  CASE WHEN x = round(x) THEN printf('%d', round(x)::BIGINT) ELSE rtrim(rtrim(printf('%.2f', x), '0'), '.') END;
