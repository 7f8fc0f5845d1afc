-- Priorities (issue 11). `priority` is 0 (claimed first) to 9; `ranked_at` is the order
-- claims take tasks in: created_at + priority × queue.priority_aging_ms, fixed at insert
-- (see queue::priority). Tasks stored before this rank by their age alone.
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 5;
ALTER TABLE tasks ADD COLUMN ranked_at INTEGER;
UPDATE tasks SET ranked_at = created_at;

-- The claim reads queued tasks in rank order straight from this index: no sort, however
-- many are queued, and finished tasks are not in it at all.
CREATE INDEX tasks_claim_order ON tasks (ranked_at, seq) WHERE status = 'queued';
