-- Schedules (issue 11). `next_run_at` is the durable slot: a firer takes a run by moving it
-- forward, conditionally on the value it read, in the same transaction that inserts the
-- run's task, so two bots on one database never fire the same run.
CREATE TABLE schedules (
    id            TEXT    PRIMARY KEY,
    owner         TEXT    NOT NULL,
    name          TEXT,
    cron          TEXT    NOT NULL,
    tz            TEXT    NOT NULL,
    -- The task each run creates, as the schedules service stores it (JSON).
    task          TEXT    NOT NULL,
    paused        INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    -- NULL while paused or once the expression never matches again.
    next_run_at   INTEGER,
    last_run_at   INTEGER,
    last_task_id  TEXT,
    runs          INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);

-- "What is due now" without a scan: the firing loop asks every tick.
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX schedules_by_owner ON schedules (owner, created_at);

-- Which schedule run created a task, and for which slot. Unique: even a bug in the firing
-- rule could not queue one run twice.
ALTER TABLE tasks ADD COLUMN schedule_id TEXT;
ALTER TABLE tasks ADD COLUMN scheduled_for INTEGER;
CREATE UNIQUE INDEX tasks_by_schedule_run ON tasks (schedule_id, scheduled_for)
    WHERE schedule_id IS NOT NULL;
