-- A person from Microsoft 365 is identified by tenant id + object id, not by
-- the data source that imported them: two data sources connected to one
-- tenant see the same people, and single sign-on matches on the same pair.
ALTER TABLE users ADD COLUMN source_tenant TEXT;

UPDATE users SET source_tenant = (
    SELECT NULLIF(lower(d.account), '') FROM datasources d WHERE d.id = users.source_datasource)
WHERE source_datasource IS NOT NULL;

-- Should one tenant's object already be held by two users (two data sources
-- on one tenant), the oldest keeps the identity; the others keep their data
-- source link only.
UPDATE users SET source_tenant = NULL
WHERE source_tenant IS NOT NULL AND EXISTS (
    SELECT 1 FROM users o
    WHERE o.source_tenant = users.source_tenant AND o.source_object_id = users.source_object_id
      AND (o.created_at < users.created_at OR (o.created_at = users.created_at AND o.id < users.id)));

CREATE UNIQUE INDEX users_external ON users (source_tenant, source_object_id);
