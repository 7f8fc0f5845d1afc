-- The task queue. One row per task, from submission to its result; pruned after retention.
CREATE TABLE tasks (
    -- Submission order: claims take the lowest first, lists show the highest first.
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    kind              TEXT    NOT NULL,
    -- The TaskSpec as JSON (its `kind` tag included).
    spec              TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    timeout_ms        INTEGER NOT NULL,
    target_worker     TEXT,
    -- The worker that claimed it, and its current lease.
    worker            TEXT,
    lease_id          TEXT,
    lease_expires_at  INTEGER,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    -- Opaque adapter data (e.g. the Discord interaction to answer), JSON.
    origin            TEXT,
    created_at        INTEGER NOT NULL,
    -- Past this, a still-queued task becomes `expired`.
    expires_at        INTEGER NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER,
    -- The result (NULL until finished).
    stdout            TEXT,
    stdout_encoding   TEXT,
    stderr            TEXT,
    exit_code         INTEGER,
    signal            INTEGER,
    error             TEXT,
    stdout_truncated  INTEGER,
    stderr_truncated  INTEGER,
    duration_ms       INTEGER,
    metadata          TEXT
);

CREATE INDEX tasks_by_status ON tasks (status, seq);
CREATE INDEX tasks_by_lease_expiry ON tasks (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
CREATE INDEX tasks_by_completion ON tasks (completed_at) WHERE completed_at IS NOT NULL;
