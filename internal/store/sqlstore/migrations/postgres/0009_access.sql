-- Data source access (decision 0012). A process writes through a data
-- source with the write grant of the user who saved it last: editor_id is
-- that directory user's id ("system" for the CLI and the demo seed),
-- filled for processes saved before this migration from the email kept in
-- modified_by. needs_datasource names a data source deleted while the
-- process used it: the process cannot run until a designer saves it again.
ALTER TABLE processes ADD COLUMN editor_id text NOT NULL DEFAULT '';
ALTER TABLE processes ADD COLUMN needs_datasource text NOT NULL DEFAULT '';
UPDATE processes SET editor_id = COALESCE((SELECT users.id FROM users WHERE users.email_lower = lower(processes.modified_by)), '');
