-- published: what surgctl publish wrote to which PostgreSQL target from which transform run
-- One row per table written; the target keeps the same rows in <schema>.published (its mirror, which decides what
-- is already there). target is the URL with its password replaced by ***. Added by issue 17 (publish).
-- FROZEN once released: a change is a new numbered file (see src/core/CONTEXT.md).

CREATE TABLE IF NOT EXISTS published (
    publish_id VARCHAR NOT NULL, target VARCHAR NOT NULL, schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
    mode VARCHAR NOT NULL, source_version VARCHAR NOT NULL, transform_run_id VARCHAR, rows_written BIGINT NOT NULL,
    rows_total BIGINT NOT NULL, published_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (publish_id, table_name));
