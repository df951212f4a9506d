-- Scheduled tasks (package jobs). One row per task; the River job queue's
-- own tables (river_*) are created by River's migrations, not here.
-- schedule is the task's schedule as JSON; next_run is NULL when nothing is
-- planned (on demand, a one-time task that ran, disabled). webhook_hash is
-- the SHA-256 of the on-demand webhook secret, never the secret itself.
CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    target       TEXT NOT NULL,
    schedule     TEXT NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    webhook_hash TEXT NOT NULL DEFAULT '',
    next_run     INTEGER,
    last_run_at  INTEGER,
    last_status  TEXT NOT NULL DEFAULT '',
    last_message TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX tasks_kind_target ON tasks (kind, target);
CREATE INDEX tasks_due ON tasks (enabled, next_run);
