-- Quotas (issue 12). What the kept tasks hold, kept up to date by triggers in the same
-- transaction as every change, so checking a quota is one read of one row, never a scan.
-- `stored_bytes`: every task's spec, output, error and metadata, and every attachment, in
-- bytes. `live_tasks`: tasks queued, running or awaiting approval. (`IF NOT EXISTS` and
-- `OR REPLACE`: a database set back to an older version by hand recounts, not fails.)
CREATE TABLE IF NOT EXISTS usage (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    stored_bytes  INTEGER NOT NULL,
    live_tasks    INTEGER NOT NULL
);

INSERT OR REPLACE INTO usage (id, stored_bytes, live_tasks) VALUES (
    1,
    (SELECT coalesce(sum(coalesce(octet_length(spec), 0) + coalesce(octet_length(stdout), 0)
        + coalesce(octet_length(stderr), 0) + coalesce(octet_length(error), 0)
        + coalesce(octet_length(metadata), 0)), 0) FROM tasks)
    + (SELECT coalesce(sum(length(data)), 0) FROM task_attachments),
    (SELECT count(*) FROM tasks WHERE status IN ('queued', 'running', 'awaiting_approval'))
);

CREATE TRIGGER IF NOT EXISTS usage_task_inserted AFTER INSERT ON tasks BEGIN
    UPDATE usage SET
        stored_bytes = stored_bytes + coalesce(octet_length(NEW.spec), 0)
            + coalesce(octet_length(NEW.stdout), 0) + coalesce(octet_length(NEW.stderr), 0)
            + coalesce(octet_length(NEW.error), 0) + coalesce(octet_length(NEW.metadata), 0),
        live_tasks = live_tasks + (NEW.status IN ('queued', 'running', 'awaiting_approval'))
    WHERE id = 1;
END;

-- Only when a counted column is written: heartbeats and lease changes never fire it.
CREATE TRIGGER IF NOT EXISTS usage_task_status AFTER UPDATE OF status ON tasks
WHEN (OLD.status IN ('queued', 'running', 'awaiting_approval'))
    <> (NEW.status IN ('queued', 'running', 'awaiting_approval'))
BEGIN
    UPDATE usage SET
        live_tasks = live_tasks + (NEW.status IN ('queued', 'running', 'awaiting_approval'))
            - (OLD.status IN ('queued', 'running', 'awaiting_approval'))
    WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS usage_task_bytes AFTER UPDATE OF spec, stdout, stderr, error, metadata ON tasks
BEGIN
    UPDATE usage SET
        stored_bytes = stored_bytes
            + coalesce(octet_length(NEW.spec), 0) - coalesce(octet_length(OLD.spec), 0)
            + coalesce(octet_length(NEW.stdout), 0) - coalesce(octet_length(OLD.stdout), 0)
            + coalesce(octet_length(NEW.stderr), 0) - coalesce(octet_length(OLD.stderr), 0)
            + coalesce(octet_length(NEW.error), 0) - coalesce(octet_length(OLD.error), 0)
            + coalesce(octet_length(NEW.metadata), 0) - coalesce(octet_length(OLD.metadata), 0)
    WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS usage_task_deleted AFTER DELETE ON tasks BEGIN
    UPDATE usage SET
        stored_bytes = stored_bytes - coalesce(octet_length(OLD.spec), 0)
            - coalesce(octet_length(OLD.stdout), 0) - coalesce(octet_length(OLD.stderr), 0)
            - coalesce(octet_length(OLD.error), 0) - coalesce(octet_length(OLD.metadata), 0),
        live_tasks = live_tasks - (OLD.status IN ('queued', 'running', 'awaiting_approval'))
    WHERE id = 1;
END;

-- A task's attachments are deleted with it by the foreign key's cascade, which fires these.
CREATE TRIGGER IF NOT EXISTS usage_attachment_inserted AFTER INSERT ON task_attachments BEGIN
    UPDATE usage SET stored_bytes = stored_bytes + length(NEW.data) WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS usage_attachment_replaced AFTER UPDATE OF data ON task_attachments BEGIN
    UPDATE usage SET stored_bytes = stored_bytes + length(NEW.data) - length(OLD.data)
    WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS usage_attachment_deleted AFTER DELETE ON task_attachments BEGIN
    UPDATE usage SET stored_bytes = stored_bytes - length(OLD.data) WHERE id = 1;
END;
