-- Processes (package process): a definition is the process's JSON,
-- stored as the service validated it; name_lower keeps names unique
-- case-insensitively. An instance keeps the submitted-then-final fields
-- and each rule's outcome as JSON documents, because they are only ever
-- read whole. Deleting a process deletes its instances. Times are INTEGER
-- unix microseconds.
CREATE TABLE processes (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_lower  TEXT NOT NULL UNIQUE,
    definition  TEXT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    modified_by TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE process_instances (
    id          TEXT PRIMARY KEY,
    process_id  TEXT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    started_by  TEXT NOT NULL DEFAULT '',
    fields      TEXT NOT NULL DEFAULT '{}',
    rules       TEXT NOT NULL DEFAULT '[]',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX process_instances_process ON process_instances (process_id, started_at);
CREATE INDEX process_instances_starter ON process_instances (started_by, started_at);
