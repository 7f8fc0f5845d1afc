//! The queue's timing rules, set from config and shrunk by tests.

use std::time::Duration;

/// Timing rules of the queue. All are fields (not constants) so tests can shrink them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a queued task waits for a worker before it becomes `expired`.
    pub task_ttl: Duration,
    /// How long finished tasks (and their results) are kept before they are pruned.
    pub retention: Duration,
    /// How long an accepted claim stays valid without a heartbeat; past it the task
    /// becomes `lost`.
    pub lease_ttl: Duration,
    /// How long a claim is only an offer: a worker that does not accept it (heartbeat its
    /// lease) within this never started it, and the task goes back to the queue.
    pub offer_ttl: Duration,
    /// How often the sweeper looks for expired tasks, lost leases and old results.
    pub sweep_interval: Duration,
    /// How long a worker name stays registered without a request: past it (and with no
    /// request of its own in flight) the name is forgotten, gone from `/status`, and no
    /// longer counts against the shared worker token's cap.
    pub worker_expiry: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            task_ttl: Duration::from_secs(15 * 60),
            retention: Duration::from_secs(24 * 60 * 60),
            lease_ttl: Duration::from_secs(60),
            offer_ttl: Duration::from_secs(10),
            sweep_interval: Duration::from_secs(1),
            worker_expiry: Duration::from_secs(60 * 60),
        }
    }
}
