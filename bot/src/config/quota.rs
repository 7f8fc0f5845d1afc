//! `[quota]`: what the bot keeps and for how long, so that one token cannot fill the disk
//! or the queue: tasks live at once, bytes stored in total, per result and per task's
//! attachments, claims a worker holds open, and how soon cancelled and expired tasks go.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::queue::{QueueSettings, QuotaSettings};

/// `[quota]`, in the units the names carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// Most tasks queued, running or awaiting approval at once (from the client token and
    /// Discord together); another is refused (429 `quota_exceeded`).
    pub max_live_tasks: u64,
    /// Most bytes the kept tasks may hold together: specs, results and attachments. A new
    /// task or attachment that would pass it is refused (507 `quota_exceeded`); results
    /// always land.
    pub max_stored_bytes: u64,
    /// Most bytes of stdout and stderr one stored result keeps; the rest is cut, with a
    /// note in the result's metadata.
    pub max_result_bytes: usize,
    /// Most attachments one task may have (413 `quota_exceeded` past it).
    pub max_attachments_per_task: u64,
    /// Most bytes one task's attachments may hold together (413 `quota_exceeded`).
    pub max_attachment_bytes_per_task: u64,
    /// Most claims one worker name may have open at once (a worker needs one long poll);
    /// another is refused (429 `quota_exceeded`).
    pub max_waiting_claims_per_worker: usize,
    /// Cancelled and expired tasks are pruned this many seconds after they end (their
    /// bytes with them), or after `queue.retention_secs` if that is shorter.
    pub abandoned_retention_secs: u64,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        let quota = QuotaSettings::default();
        let queue = QueueSettings::default();
        Self {
            max_live_tasks: quota.max_live_tasks,
            max_stored_bytes: quota.max_stored_bytes,
            max_result_bytes: quota.max_result_bytes,
            max_attachments_per_task: quota.max_attachments_per_task,
            max_attachment_bytes_per_task: quota.max_attachment_bytes_per_task,
            max_waiting_claims_per_worker: queue.max_waiting_claims_per_worker,
            abandoned_retention_secs: queue.abandoned_retention.as_secs(),
        }
    }
}

impl QuotaConfig {
    /// Sets the quota's part of the queue's `settings`.
    pub fn apply(&self, settings: &mut QueueSettings) {
        settings.quota = QuotaSettings {
            max_live_tasks: self.max_live_tasks,
            max_stored_bytes: self.max_stored_bytes,
            max_result_bytes: self.max_result_bytes,
            max_attachments_per_task: self.max_attachments_per_task,
            max_attachment_bytes_per_task: self.max_attachment_bytes_per_task,
        };
        settings.max_waiting_claims_per_worker = self.max_waiting_claims_per_worker;
        settings.abandoned_retention = Duration::from_secs(self.abandoned_retention_secs);
    }

    /// Every quota must allow something; the error names the key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let positive: [(&'static str, u64); 7] = [
            ("quota.max_live_tasks", self.max_live_tasks),
            ("quota.max_stored_bytes", self.max_stored_bytes),
            ("quota.max_result_bytes", self.max_result_bytes as u64),
            (
                "quota.max_attachments_per_task",
                self.max_attachments_per_task,
            ),
            (
                "quota.max_attachment_bytes_per_task",
                self.max_attachment_bytes_per_task,
            ),
            (
                "quota.max_waiting_claims_per_worker",
                self.max_waiting_claims_per_worker as u64,
            ),
            (
                "quota.abandoned_retention_secs",
                self.abandoned_retention_secs,
            ),
        ];
        match positive.iter().find(|(_, value)| *value == 0) {
            Some((key, _)) => Err(ConfigError::Invalid {
                key,
                reason: "must be greater than 0".into(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_queues_own() {
        let mut settings = QueueSettings {
            max_waiting_claims_per_worker: 1,
            ..QueueSettings::default()
        };

        QuotaConfig::default().apply(&mut settings);

        assert_eq!(settings, QueueSettings::default());
    }

    #[test]
    fn a_zero_quota_is_refused_by_name() {
        let config = QuotaConfig {
            max_waiting_claims_per_worker: 0,
            ..QuotaConfig::default()
        };

        let err = config.validate().unwrap_err();

        assert!(
            err.to_string()
                .contains("quota.max_waiting_claims_per_worker"),
            "{err}"
        );
    }
}
