-- When an adapter (Discord) finished delivering the task's result to where the task came
-- from. NULL while a result waits for delivery, so a restart can pick it up again.
ALTER TABLE tasks ADD COLUMN delivered_at INTEGER;

CREATE INDEX tasks_undelivered ON tasks (seq)
    WHERE origin IS NOT NULL AND completed_at IS NOT NULL AND delivered_at IS NULL;

-- Files a worker uploaded with a result (screenshots). Deleted with their task.
CREATE TABLE task_attachments (
    task_id       TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    data          BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (task_id, name)
);
