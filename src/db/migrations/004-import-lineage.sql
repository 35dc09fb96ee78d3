-- import lineage on raw_vitals: the reading as the source gave it (value text, unit, code) before mapping
-- surgctl import (issue 14) maps a source's reading onto the contract (code -> metric, UCUM unit -> the metric's
-- canonical unit) and keeps what the source said here; NULL for rows loaded from contract files.
-- FROZEN once released: a change is a new numbered file (see src/core/CONTEXT.md).

ALTER TABLE raw_vitals ADD COLUMN IF NOT EXISTS original_value VARCHAR;

ALTER TABLE raw_vitals ADD COLUMN IF NOT EXISTS original_unit VARCHAR;

ALTER TABLE raw_vitals ADD COLUMN IF NOT EXISTS original_code VARCHAR;
