-- Audit entries record the acting user's id, so that a user can be shown
-- their own entries by a stable id rather than by the email text in actor.
-- Entries written before this have none (only Administrators see them).
ALTER TABLE audit ADD COLUMN actor_id TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_actor_id ON audit (actor_id, id);
CREATE INDEX audit_at ON audit (at);
