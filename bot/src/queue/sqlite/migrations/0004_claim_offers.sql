-- Claim offers. A claim only offers a task: the worker accepts it with its first heartbeat
-- for the lease. Until then `accepted_at` is NULL and `lease_expires_at` is the short offer
-- deadline; an offer nobody accepts goes back to the queue (the worker never started it)
-- instead of becoming `lost`.
ALTER TABLE tasks ADD COLUMN accepted_at INTEGER;
-- Tasks live at the upgrade were claimed under the old rules, where a claim was a lease:
-- their worker may be running them, so they count as accepted (lost, never requeued).
UPDATE tasks SET accepted_at = COALESCE(started_at, 0)
    WHERE status IN ('running', 'awaiting_approval');
