-- Real-time sync (package realtime): the change-notification subscriptions
-- tenantlink keeps per data source, and the events already processed.
-- client_state is a secrets.Keyring blob sealed with associated data
-- 'subscription:<id>'; kid names its key. status is 'active', 'failed' or
-- 'reauthorizing'; message says why.
CREATE TABLE graph_subscriptions (
    id              text PRIMARY KEY,
    datasource_id   text NOT NULL REFERENCES datasources (id) ON DELETE CASCADE,
    resource        text NOT NULL,
    subscription_id text NOT NULL DEFAULT '',
    kid             text NOT NULL DEFAULT '',
    client_state    bytea,
    expires_at      timestamptz,
    status          text NOT NULL DEFAULT '',
    message         text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX graph_subscriptions_ds_resource ON graph_subscriptions (datasource_id, resource);
CREATE INDEX graph_subscriptions_sub ON graph_subscriptions (subscription_id);

-- Dedupe keys of events already handled (process triggers), kept for a
-- while and pruned by age.
CREATE TABLE processed_events (
    event_key text PRIMARY KEY,
    at  timestamptz NOT NULL
);
CREATE INDEX processed_events_at ON processed_events (at);
