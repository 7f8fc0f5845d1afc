-- Approvals (issue 4). The worker asks, the owner answers, the worker verifies: the server
-- only relays. `approval_decision` holds the owner's answer (JSON) until the worker's next
-- heartbeat takes it.
ALTER TABLE tasks ADD COLUMN fingerprint TEXT;
ALTER TABLE tasks ADD COLUMN approval_summary TEXT;
ALTER TABLE tasks ADD COLUMN approval_expires_at INTEGER;
ALTER TABLE tasks ADD COLUMN approval_decision TEXT;
