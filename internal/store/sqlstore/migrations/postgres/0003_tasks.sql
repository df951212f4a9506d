-- Scheduled tasks (package jobs). One row per task; the River job queue's
-- own tables (river_*) are created by River's migrations, not here.
-- schedule is the task's schedule as JSON; next_run is NULL when nothing is
-- planned (on demand, a one-time task that ran, disabled). webhook_hash is
-- the SHA-256 of the on-demand webhook secret, never the secret itself.
CREATE TABLE tasks (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    kind         text NOT NULL,
    target       text NOT NULL,
    schedule     text NOT NULL,
    enabled      boolean NOT NULL DEFAULT true,
    webhook_hash text NOT NULL DEFAULT '',
    next_run     timestamptz,
    last_run_at  timestamptz,
    last_status  text NOT NULL DEFAULT '',
    last_message text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX tasks_kind_target ON tasks (kind, target);
CREATE INDEX tasks_due ON tasks (enabled, next_run);
