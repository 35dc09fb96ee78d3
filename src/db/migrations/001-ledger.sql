-- ledger, quarantine, run history and raw tables
-- Released in surgctl 0.1.0 (written out from what src/core/load/migrations.ts computed from the schemas then).
-- FROZEN: never edit this file once released; a change is a new numbered file (see src/core/CONTEXT.md).

CREATE TABLE IF NOT EXISTS loads (
        load_id VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR, bytes BIGINT, dataset VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ, status VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL DEFAULT 0, rows_inserted BIGINT NOT NULL DEFAULT 0,
        rows_duplicate BIGINT NOT NULL DEFAULT 0, rows_quarantined BIGINT NOT NULL DEFAULT 0,
        engine VARCHAR, message VARCHAR, replay_of VARCHAR);

CREATE TABLE IF NOT EXISTS quarantine (
        load_id VARCHAR NOT NULL, file VARCHAR NOT NULL, line BIGINT, "row" BIGINT, dataset VARCHAR NOT NULL,
        raw VARCHAR, errors VARCHAR NOT NULL, rule VARCHAR NOT NULL, quarantined_at TIMESTAMPTZ NOT NULL,
        replayed_by VARCHAR);

CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, command VARCHAR NOT NULL, args VARCHAR, started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, counts VARCHAR, error VARCHAR);

CREATE TABLE IF NOT EXISTS "raw_robots" (
  "robot_id" VARCHAR NOT NULL,
  "serial" VARCHAR,
  "model" VARCHAR,
  "manufacturer" VARCHAR,
  "facility_id" VARCHAR,
  "installed_on" DATE,
  "status" VARCHAR,
  "_load_id" VARCHAR NOT NULL,
  "_source_file" VARCHAR NOT NULL,
  "_source_line" BIGINT
);

CREATE TABLE IF NOT EXISTS "raw_maintenance" (
  "log_id" VARCHAR NOT NULL,
  "robot_id" VARCHAR,
  "kind" VARCHAR,
  "started_at" TIMESTAMPTZ,
  "downtime_hours" DOUBLE,
  "cost_usd" DOUBLE,
  "_load_id" VARCHAR NOT NULL,
  "_source_file" VARCHAR NOT NULL,
  "_source_line" BIGINT
);

CREATE TABLE IF NOT EXISTS "raw_patients" (
  "patient_id" VARCHAR NOT NULL,
  "sex" VARCHAR,
  "birth_date" DATE,
  "facility_id" VARCHAR,
  "_load_id" VARCHAR NOT NULL,
  "_source_file" VARCHAR NOT NULL,
  "_source_line" BIGINT
);

CREATE TABLE IF NOT EXISTS "raw_procedures" (
  "procedure_id" VARCHAR NOT NULL,
  "patient_id" VARCHAR,
  "robot_id" VARCHAR,
  "surgeon_id" VARCHAR,
  "procedure_type" VARCHAR,
  "started_at" TIMESTAMPTZ,
  "ended_at" TIMESTAMPTZ,
  "status" VARCHAR,
  "_load_id" VARCHAR NOT NULL,
  "_source_file" VARCHAR NOT NULL,
  "_source_line" BIGINT
);

CREATE TABLE IF NOT EXISTS "raw_outcomes" (
  "procedure_id" VARCHAR NOT NULL,
  "outcome" VARCHAR,
  "clavien_dindo_grade" VARCHAR,
  "length_of_stay_days" DOUBLE,
  "readmitted_30d" BOOLEAN,
  "_load_id" VARCHAR NOT NULL,
  "_source_file" VARCHAR NOT NULL,
  "_source_line" BIGINT
);

CREATE TABLE IF NOT EXISTS "raw_telemetry" (
  "event_id" VARCHAR NOT NULL,
  "procedure_id" VARCHAR,
  "patient_id" VARCHAR,
  "robot_id" VARCHAR,
  "robot_arm" VARCHAR,
  "instrument" VARCHAR,
  "step" VARCHAR,
  "force_n" DOUBLE,
  "velocity_mm_s" DOUBLE,
  "latency_ms" DOUBLE,
  "error_code" VARCHAR,
  "recorded_at" TIMESTAMPTZ,
  "_load_id" VARCHAR NOT NULL,
  "_source_file" VARCHAR NOT NULL,
  "_source_line" BIGINT
);

CREATE TABLE IF NOT EXISTS "raw_vitals" (
  "reading_id" VARCHAR NOT NULL,
  "patient_id" VARCHAR,
  "metric" VARCHAR,
  "value" DOUBLE,
  "unit" VARCHAR,
  "measured_at" TIMESTAMPTZ,
  "_load_id" VARCHAR NOT NULL,
  "_source_file" VARCHAR NOT NULL,
  "_source_line" BIGINT
);
