-- The group member sync writes about a thousand rows per page into
-- sync_members and group_members, and PostgreSQL checked each row's
-- group_id against groups with a per-row foreign-key trigger: ~8 ms per
-- table per 999-user page, to check the same value a thousand times.
-- Those two foreign keys go; what they guaranteed still holds:
--  * the group exists and is not deleted under a writer: every writer
--    holds the group in its transaction. CreateGroup and UpdateGroup write
--    the group's row before its members; AddGroupMembers and
--    MarkSyncMembers take SELECT … FOR KEY SHARE on it once per call (the
--    lock the foreign key took per row), so a concurrent delete waits for
--    them and a group deleted first makes them fail with "not found";
--  * ON DELETE CASCADE: the trigger below deletes a group's rows with it.
-- A new writer of these tables must hold the group the same way.
-- group_members.user_id keeps its foreign key (its values differ per row).
-- SQLite keeps both foreign keys: its checks are cheap there.
ALTER TABLE sync_members DROP CONSTRAINT sync_members_group_id_fkey;
ALTER TABLE group_members DROP CONSTRAINT group_members_group_id_fkey;

CREATE FUNCTION groups_delete_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM group_members WHERE group_id = OLD.id;
    DELETE FROM sync_members WHERE group_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER groups_delete_members AFTER DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION groups_delete_members();
