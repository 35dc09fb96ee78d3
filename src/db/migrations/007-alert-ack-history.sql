-- alert_ack_history: every acknowledgement and withdrawal of one (the tui's a and u keys), with who, when and note
-- alert_acks stays the current state (one row per acknowledged alert); this table is the history, never updated
-- or deleted from. Acknowledgements made before it are copied in once, as 'ack'.
-- FROZEN once released: a change is a new numbered file (see src/core/CONTEXT.md).

CREATE TABLE IF NOT EXISTS alert_ack_history (
    alert_id VARCHAR NOT NULL, action VARCHAR NOT NULL, acted_by VARCHAR NOT NULL, acted_at TIMESTAMPTZ NOT NULL,
    note VARCHAR);

INSERT INTO alert_ack_history (alert_id, action, acted_by, acted_at, note)
SELECT alert_id, 'ack', acked_by, acked_at, note FROM alert_acks;
