-- Group member sync: per-group position, the source group's members as
-- last seen, and run records. Times are INTEGER unix microseconds.

CREATE TABLE sync_states (
    group_id      TEXT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    datasource_id TEXT NOT NULL,
    source        TEXT NOT NULL,
    cursor        TEXT NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
);

-- mark is the id of the run that last saw the member ("gone:<run id>" once
-- a run learnt it left): a full run finds the missing as mark <> its id
-- without holding the tenant in memory.
CREATE TABLE sync_members (
    group_id  TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    object_id TEXT NOT NULL,
    user_id   TEXT NOT NULL DEFAULT '',
    mark      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, object_id)
);
CREATE INDEX sync_members_mark ON sync_members (group_id, mark);
-- Appending members (AddGroupMembers) starts after the group's last
-- position: without this index that is a scan of the whole group per batch.
CREATE INDEX group_members_position ON group_members (group_id, position);

CREATE TABLE sync_runs (
    id           TEXT PRIMARY KEY,
    group_id     TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    trigger_kind TEXT NOT NULL DEFAULT '',
    dry_run      INTEGER NOT NULL DEFAULT 0,
    full_run     INTEGER NOT NULL DEFAULT 0,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    heartbeat_at INTEGER NOT NULL,
    result       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX sync_runs_group ON sync_runs (group_id, started_at);
-- At most one running run per group: the database, not the process, is
-- what keeps two replicas from syncing one group at once.
CREATE UNIQUE INDEX sync_runs_running ON sync_runs (group_id) WHERE status = 'running';
