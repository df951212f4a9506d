-- Overlapping group syncs: before a sync disables or removes a user it no
-- longer has, it asks whether another group's sync still has that user
-- (SyncTrackedElsewhere), by user id.
CREATE INDEX sync_members_user ON sync_members (user_id);

-- Imported users are found by tenant id + object id. Fill the tenant of
-- users imported since migration 0007 (the sync did not write it yet) or
-- whose data source was authorized later, unless another user holds the
-- pair; of two such users of one pair, the oldest gets it.
UPDATE users SET source_tenant = (
    SELECT NULLIF(lower(d.account), '') FROM datasources d WHERE d.id = users.source_datasource)
WHERE source_tenant IS NULL AND source_datasource IS NOT NULL AND source_object_id IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM users o JOIN datasources d2 ON d2.id = users.source_datasource
    WHERE o.source_tenant = lower(d2.account) AND o.source_object_id = users.source_object_id)
  AND NOT EXISTS (
    SELECT 1 FROM users o JOIN datasources d2 ON d2.id = users.source_datasource
    JOIN datasources d3 ON d3.id = o.source_datasource
    WHERE o.source_tenant IS NULL AND lower(d3.account) = lower(d2.account)
      AND o.source_object_id = users.source_object_id
      AND (o.created_at < users.created_at OR (o.created_at = users.created_at AND o.id < users.id)));

-- Every scheduler tick looks for running runs whose heartbeat stopped.
CREATE INDEX sync_runs_heartbeat ON sync_runs (heartbeat_at) WHERE status = 'running';
