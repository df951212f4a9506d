-- Process event triggers (package process, decision 0024). An instance
-- started by a tenant event keeps that event (JSON; '' for a form start).
-- process_events is the outbox: a group member sync writes one row per
-- (process, event) its applied changes match, in the transaction that
-- applies them, so an event is neither lost (a rolled-back page writes
-- none) nor doubled ((process_id, event_key) is unique). instance_id is
-- '' until the instance is started, and is set in the transaction that
-- creates it: a row is started once, whatever the number of workers.
ALTER TABLE process_instances ADD COLUMN event TEXT NOT NULL DEFAULT '';

CREATE TABLE process_events (
    id          TEXT PRIMARY KEY,
    process_id  TEXT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    event_key   TEXT NOT NULL,
    event       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    instance_id TEXT NOT NULL DEFAULT '',
    UNIQUE (process_id, event_key)
);
CREATE INDEX process_events_pending ON process_events (instance_id, created_at);
