-- One tenant membership change starts a member trigger once, however
-- many group member syncs observe it (package process, decision 0024).
-- A row is the last change of one tenant user's membership of one tenant
-- group of one data source (scope: data source id and the group's id) as
-- the syncs reported it: kind (member.added or member.removed), its
-- generation (1 for the first change observed, +1 for each next one),
-- when it was applied and by which run. A sync that reports the same
-- change again finds the row at that kind and leaves it; a new change
-- moves it with "UPDATE ... WHERE generation = <read>", so of two syncs
-- applying it at once (two replicas) one moves it and the other finds it
-- moved. The outbox key carries the generation: (process_id, event_key)
-- stays unique per real change.
CREATE TABLE process_member_changes (
    scope      TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    generation INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    run_id     TEXT NOT NULL,
    PRIMARY KEY (scope, object_id)
);
