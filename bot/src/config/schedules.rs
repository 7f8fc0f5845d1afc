//! `[schedules]`: how often due schedules fire, what runs missed while the bot was down do,
//! and how many schedules one owner may have.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// What a run missed while no bot was firing (the bot was down) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedRuns {
    /// Nothing: the schedule goes on from its next run after now.
    #[default]
    Skip,
    /// One run now for all that were missed (never one per missed run), then on as usual.
    RunOnce,
}

/// `[schedules]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulesConfig {
    /// How often due schedules are looked for, in ms: a run fires up to this late.
    pub tick_ms: u64,
    /// A run found due more than this many seconds late was missed (the bot was down):
    /// `missed` decides what happens to it.
    pub missed_after_secs: u64,
    /// What runs missed while the bot was down do: `skip` or `run_once` (one run for all
    /// of them, never a burst).
    pub missed: MissedRuns,
    /// Most schedules one owner (the API client, a Discord user) may have.
    pub max_per_owner: u64,
    /// How many next runs a schedule's view, a preview and Discord show.
    pub preview_runs: usize,
}

impl Default for SchedulesConfig {
    fn default() -> Self {
        SchedulesConfig {
            tick_ms: 1_000,
            missed_after_secs: 60,
            missed: MissedRuns::Skip,
            max_per_owner: 50,
            preview_runs: 5,
        }
    }
}

impl SchedulesConfig {
    /// Refuses values that make no sense, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_owned(),
            })
        };
        if self.tick_ms == 0 {
            return invalid("schedules.tick_ms", "must be greater than 0");
        }
        if self.missed_after_secs.saturating_mul(1000) < self.tick_ms {
            return invalid(
                "schedules.missed_after_secs",
                "must be at least one tick (schedules.tick_ms): every run would count as missed",
            );
        }
        if !(1..=50).contains(&self.preview_runs) {
            return invalid("schedules.preview_runs", "must be from 1 to 50");
        }
        Ok(())
    }
}
