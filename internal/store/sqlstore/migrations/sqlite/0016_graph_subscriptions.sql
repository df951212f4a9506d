-- Real-time sync (package realtime): the change-notification subscriptions
-- tenantlink keeps per data source, and the events already processed.
-- client_state is a secrets.Keyring blob sealed with associated data
-- 'subscription:<id>'; kid names its key. status is 'active', 'failed' or
-- 'reauthorizing'; message says why.
CREATE TABLE graph_subscriptions (
    id              TEXT PRIMARY KEY,
    datasource_id   TEXT NOT NULL REFERENCES datasources (id) ON DELETE CASCADE,
    resource        TEXT NOT NULL,
    subscription_id TEXT NOT NULL DEFAULT '',
    kid             TEXT NOT NULL DEFAULT '',
    client_state    BLOB,
    expires_at      INTEGER,
    status          TEXT NOT NULL DEFAULT '',
    message         TEXT NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX graph_subscriptions_ds_resource ON graph_subscriptions (datasource_id, resource);
CREATE INDEX graph_subscriptions_sub ON graph_subscriptions (subscription_id);

-- Dedupe keys of events already handled (process triggers), kept for a
-- while and pruned by age.
CREATE TABLE processed_events (
    event_key TEXT PRIMARY KEY,
    at  INTEGER NOT NULL
);
CREATE INDEX processed_events_at ON processed_events (at);
