-- Group member sync: per-group position, the source group's members as
-- last seen, and run records. Times are timestamptz.

CREATE TABLE sync_states (
    group_id      text PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    datasource_id text NOT NULL,
    source        text NOT NULL,
    cursor        text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);

-- mark is the id of the run that last saw the member ("gone:<run id>" once
-- a run learnt it left): a full run finds the missing as mark <> its id
-- without holding the tenant in memory.
CREATE TABLE sync_members (
    group_id  text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    object_id text NOT NULL,
    user_id   text NOT NULL DEFAULT '',
    mark      text NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, object_id)
);
CREATE INDEX sync_members_mark ON sync_members (group_id, mark);
-- Appending members (AddGroupMembers) starts after the group's last
-- position: without this index that is a scan of the whole group per batch.
CREATE INDEX group_members_position ON group_members (group_id, position);

CREATE TABLE sync_runs (
    id           text PRIMARY KEY,
    group_id     text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    status       text NOT NULL,
    trigger_kind text NOT NULL DEFAULT '',
    dry_run      boolean NOT NULL DEFAULT false,
    full_run     boolean NOT NULL DEFAULT false,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    heartbeat_at timestamptz NOT NULL,
    result       text NOT NULL DEFAULT '{}'
);
CREATE INDEX sync_runs_group ON sync_runs (group_id, started_at);
-- At most one running run per group: the database, not the process, is
-- what keeps two replicas from syncing one group at once.
CREATE UNIQUE INDEX sync_runs_running ON sync_runs (group_id) WHERE status = 'running';
