-- Nothing on SQLite: PostgreSQL's 0006 replaces the per-row foreign-key
-- checks of sync_members and group_members against groups with one check
-- per bulk write; SQLite keeps its foreign keys, which cost little there.
-- The file keeps both dialects' migration numbers in step.
SELECT 1;
