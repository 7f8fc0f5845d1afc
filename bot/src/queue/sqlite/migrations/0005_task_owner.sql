-- Task owners (issue 12): who created each task, as the adapter names them (`api` for the
-- client token, `discord:<user id>` for a Discord user). Users see and cancel their own;
-- the admin sees all. Tasks stored before this have no owner: they are the admin's.
ALTER TABLE tasks ADD COLUMN owner TEXT;

-- "My recent tasks", newest first, without scanning everyone else's.
CREATE INDEX tasks_by_owner ON tasks (owner, seq);
