-- No query needs sync_members (group_id, mark) any more: a full run finds
-- its missing members with mark <> its run id, which no index serves, and
-- an incremental run looks its removed members up by object id (primary
-- key). Without it, re-marking every member on each full run writes one
-- index fewer per member (on PostgreSQL the update can stay HOT).
DROP INDEX sync_members_mark;
