-- Task lists read a short summary instead of the whole spec (a file write's spec carries up
-- to 10 MiB of content): `GET /tasks` and Discord's `/tasks` and `/cancel` read only the
-- columns they show. NULL for tasks stored before this migration; lists compute it from the
-- spec for those (they are pruned within the retention).
ALTER TABLE tasks ADD COLUMN summary TEXT;
