-- writer pid and host on runs and transform_runs; where a load's quarantine file belongs
-- Released in surgctl 0.1.0. FROZEN: never edit this file once released.

ALTER TABLE runs ADD COLUMN IF NOT EXISTS pid INTEGER;

ALTER TABLE runs ADD COLUMN IF NOT EXISTS host VARCHAR;

CREATE TABLE IF NOT EXISTS transform_runs (
        run_id VARCHAR PRIMARY KEY, mode VARCHAR NOT NULL, reason VARCHAR, started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, rules_version VARCHAR, rules_sha256 VARCHAR,
        models_sha256 VARCHAR, new_loads INTEGER, "select" VARCHAR);

ALTER TABLE transform_runs ADD COLUMN IF NOT EXISTS pid INTEGER;

ALTER TABLE transform_runs ADD COLUMN IF NOT EXISTS host VARCHAR;

ALTER TABLE loads ADD COLUMN IF NOT EXISTS quarantine_file VARCHAR;
