-- Webhooks (issue 11): a durable outbox. A task's change of status writes the deliveries it
-- causes in the same transaction as the change (the triggers below), so a crash can lose
-- neither the change nor its webhook; the bot's webhook sender works through the rows.

-- The API client's `callbackUrl`, checked at intake (see the README's "Webhooks").
ALTER TABLE tasks ADD COLUMN callback_url TEXT;

-- The configured endpoints (`[[webhooks]]`) and the events each takes, rewritten from the
-- configuration at every start: the triggers fan an event out from here.
CREATE TABLE webhook_subscriptions (
    url    TEXT NOT NULL,
    event  TEXT NOT NULL,
    PRIMARY KEY (url, event)
) WITHOUT ROWID;

-- One row per message per receiver. `id` is the Standard Webhooks `webhook-id`: the same on
-- every attempt, so a receiver can drop a repeat. `payload` is fixed when the row is written.
CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    -- `endpoint` (a configured one, by url) or `callback` (a task's callbackUrl).
    target           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    event            TEXT    NOT NULL,
    task_id          TEXT,
    payload          TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    -- `pending`, `delivered` or `failed` (attempts used up, or no longer deliverable).
    state            TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_attempt_at  INTEGER,
    -- The receiver's HTTP status on the last attempt, or why it got none.
    last_status      INTEGER,
    last_error       TEXT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_task ON webhook_deliveries (task_id);

-- A task reached a final status (a late result after `lost` is another final status: it
-- fires again, with the new one).
CREATE TRIGGER webhook_task_finished AFTER UPDATE OF status ON tasks
WHEN NEW.status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'expired', 'lost', 'denied')
    AND OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO webhook_deliveries (id, target, url, event, task_id, payload, created_at, next_attempt_at)
    SELECT 'msg_' || lower(hex(randomblob(16))), target, url, 'task.finished', NEW.id,
        json_object('type', 'task.finished',
            'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
            'data', json_object('taskId', NEW.id, 'kind', NEW.kind, 'status', NEW.status,
                'worker', NEW.worker, 'exitCode', NEW.exit_code,
                'createdAt', NEW.created_at, 'completedAt', NEW.completed_at)),
        CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER)
    FROM (
        SELECT 'endpoint' AS target, url FROM webhook_subscriptions WHERE event = 'task.finished'
        UNION ALL
        SELECT 'callback', NEW.callback_url WHERE NEW.callback_url IS NOT NULL
    );
END;

-- A task waits for its owner's approval.
CREATE TRIGGER webhook_task_awaiting_approval AFTER UPDATE OF status ON tasks
WHEN NEW.status = 'awaiting_approval' AND OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO webhook_deliveries (id, target, url, event, task_id, payload, created_at, next_attempt_at)
    SELECT 'msg_' || lower(hex(randomblob(16))), target, url, 'task.awaiting_approval', NEW.id,
        json_object('type', 'task.awaiting_approval',
            'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
            'data', json_object('taskId', NEW.id, 'kind', NEW.kind, 'status', NEW.status,
                'worker', NEW.worker, 'fingerprint', NEW.fingerprint,
                'createdAt', NEW.created_at)),
        CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER)
    FROM (
        SELECT 'endpoint' AS target, url FROM webhook_subscriptions
        WHERE event = 'task.awaiting_approval'
        UNION ALL
        SELECT 'callback', NEW.callback_url WHERE NEW.callback_url IS NOT NULL
    );
END;
