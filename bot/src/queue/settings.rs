//! The queue's timing rules, its limits, and how its store keeps the database, set from
//! config and shrunk by tests.

use std::time::Duration;

use super::quota::QuotaSettings;
use super::tails::LiveSettings;

/// Timing rules and limits of the queue. All are fields (not constants) so tests can shrink
/// them.
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
    /// How long cancelled and expired tasks are kept (with whatever bytes they hold) before
    /// they are pruned; `retention` if that is shorter.
    pub abandoned_retention: Duration,
    /// Most claims one worker name may have in progress (mostly: waiting) at once.
    pub max_waiting_claims_per_worker: usize,
    /// What may be stored: tasks live at once, bytes in total, per result and per task's
    /// attachments.
    pub quota: QuotaSettings,
    /// How long a worker name stays registered without a request: past it (and with no
    /// request of its own in flight) the name is forgotten, gone from `/status`, and no
    /// longer counts against the shared worker token's cap.
    pub worker_expiry: Duration,
    /// How the store keeps the database and how long a request waits for it.
    pub storage: StorageSettings,
    /// How much live output is kept in memory.
    pub live: LiveSettings,
    /// How much waiting one priority level is worth: a task of priority `p` is claimed
    /// before every task enqueued more than `p ×` this after it (see `Priority::rank`).
    pub priority_aging: Duration,
    /// Most schedules one owner may have (`schedules.max_per_owner`).
    pub max_schedules_per_owner: u64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            task_ttl: Duration::from_secs(15 * 60),
            retention: Duration::from_secs(24 * 60 * 60),
            lease_ttl: Duration::from_secs(60),
            offer_ttl: Duration::from_secs(10),
            sweep_interval: Duration::from_secs(1),
            abandoned_retention: Duration::from_secs(60 * 60),
            max_waiting_claims_per_worker: 8,
            quota: QuotaSettings::default(),
            worker_expiry: Duration::from_secs(60 * 60),
            storage: StorageSettings::default(),
            live: LiveSettings::default(),
            priority_aging: Duration::from_secs(30),
            max_schedules_per_owner: 50,
        }
    }
}

/// How the store keeps the database (`[storage]` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// Longest a request waits for the database (its turn, then a lock another process
    /// holds) before it fails busy (HTTP 503 `storage_busy`).
    pub busy_timeout: Duration,
    /// When a commit is on disk.
    pub synchronous: Synchronous,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_millis(1000),
            synchronous: Synchronous::Normal,
        }
    }
}

/// When a commit is on disk: SQLite's `synchronous` setting, in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// A commit survives the bot crashing or being killed; a power loss or a kernel crash
    /// may lose the last commits (acknowledged tasks and results), never the database.
    #[default]
    Normal,
    /// Every commit is on disk before it is acknowledged (an `fsync` per commit): it
    /// survives a power loss too.
    Full,
}

impl Synchronous {
    /// The value as SQLite's pragma and the config spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
        }
    }
}
