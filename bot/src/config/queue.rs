//! `[queue]`: the queue's timing rules, in the units their names carry.

use std::time::Duration;

use serde::Deserialize;

use super::StorageConfig;
use crate::queue::{LiveSettings, QueueSettings};

/// `[queue]`: timing rules, in the units their names carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// A queued task nobody claims within this becomes `expired`.
    pub task_ttl_secs: u64,
    /// Finished tasks and their results are kept this long, then pruned.
    pub retention_secs: u64,
    /// An accepted claim without a heartbeat for this long makes its task `lost`.
    pub lease_ttl_secs: u64,
    /// A claimed task the worker does not accept (heartbeat) within this goes back to the
    /// queue: its long poll died unseen, e.g. the Mac fell asleep mid-poll.
    pub offer_ttl_secs: u64,
    /// How often expiry, lost leases and pruning are checked.
    pub sweep_interval_ms: u64,
    /// A worker name not heard from for this long (with no request in flight) is forgotten:
    /// gone from `/status` and `/admin/health`, and its place under
    /// `auth.max_shared_worker_names` is free again.
    pub worker_expiry_secs: u64,
    /// Bytes of each running task's live output the bot keeps in memory (the newest).
    pub live_tail_bytes: usize,
    /// Bytes of live output kept for all tasks together; the least recently updated task's
    /// tail makes way for a new one past it.
    pub live_total_bytes: usize,
    /// How much waiting one priority level is worth, in ms: a task of priority `p` (0-9) is
    /// claimed before every task enqueued more than `p ×` this after it, so a flood of
    /// priority-0 work delays a priority-9 task by at most 9 × this (plus the work queued
    /// before it).
    pub priority_aging_ms: u64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            task_ttl_secs: 900,
            retention_secs: 86_400,
            lease_ttl_secs: 60,
            offer_ttl_secs: 10,
            sweep_interval_ms: 1_000,
            worker_expiry_secs: 3_600,
            live_tail_bytes: 64 * 1024,
            live_total_bytes: 16 * 1024 * 1024,
            priority_aging_ms: 30_000,
        }
    }
}

impl QueueConfig {
    /// The queue core's settings, its store's from `storage`, with the default quota
    /// ([`Config::queue_settings`](super::Config::queue_settings) has the configured one).
    pub fn settings(&self, storage: &StorageConfig) -> QueueSettings {
        QueueSettings {
            task_ttl: Duration::from_secs(self.task_ttl_secs),
            retention: Duration::from_secs(self.retention_secs),
            lease_ttl: Duration::from_secs(self.lease_ttl_secs),
            offer_ttl: Duration::from_secs(self.offer_ttl_secs),
            sweep_interval: Duration::from_millis(self.sweep_interval_ms),
            worker_expiry: Duration::from_secs(self.worker_expiry_secs),
            priority_aging: Duration::from_millis(self.priority_aging_ms),
            storage: storage.settings(),
            live: LiveSettings {
                tail_bytes: self.live_tail_bytes,
                total_bytes: self.live_total_bytes,
            },
            ..QueueSettings::default()
        }
    }
}
