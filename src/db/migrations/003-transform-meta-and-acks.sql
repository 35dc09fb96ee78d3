-- transform's run records (model_runs, model_tests, transform_state, rules_in_force) and the tui's alert_acks
-- Before this migration transform created its tables on every run and the tui created alert_acks on the first
-- acknowledgement, so a lakehouse made by 0.1.0 may already hold them: IF NOT EXISTS keeps them and their rows.
-- FROZEN once released: a change is a new numbered file (see src/core/CONTEXT.md).

CREATE TABLE IF NOT EXISTS model_runs (
    run_id VARCHAR NOT NULL, model VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ,
    duration_ms BIGINT, "rows" BIGINT, status VARCHAR NOT NULL, error VARCHAR);

CREATE TABLE IF NOT EXISTS model_tests (
    run_id VARCHAR NOT NULL, model VARCHAR NOT NULL, test VARCHAR NOT NULL, status VARCHAR NOT NULL,
    failures BIGINT NOT NULL, checked_at TIMESTAMPTZ NOT NULL);

CREATE TABLE IF NOT EXISTS transform_state (
    load_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, consumed_at TIMESTAMPTZ NOT NULL);

CREATE TABLE IF NOT EXISTS rules_in_force (path VARCHAR NOT NULL, value VARCHAR, source VARCHAR NOT NULL);

CREATE TABLE IF NOT EXISTS alert_acks (
  alert_id VARCHAR PRIMARY KEY, acked_by VARCHAR NOT NULL, acked_at TIMESTAMPTZ NOT NULL, note VARCHAR);
