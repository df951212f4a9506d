-- Processes (package process): a definition is the process's JSON,
-- stored as the service validated it; name_lower keeps names unique
-- case-insensitively. An instance keeps the submitted-then-final fields
-- and each rule's outcome as JSON documents, because they are only ever
-- read whole. Deleting a process deletes its instances.
CREATE TABLE processes (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    name_lower  text NOT NULL UNIQUE,
    definition  text NOT NULL,
    created_by  text NOT NULL DEFAULT '',
    modified_by text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE process_instances (
    id          text PRIMARY KEY,
    process_id  text NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    status      text NOT NULL,
    started_by  text NOT NULL DEFAULT '',
    fields      text NOT NULL DEFAULT '{}',
    rules       text NOT NULL DEFAULT '[]',
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX process_instances_process ON process_instances (process_id, started_at);
CREATE INDEX process_instances_starter ON process_instances (started_by, started_at);
