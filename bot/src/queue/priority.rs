//! Task priorities, and the one ordering rule claims follow: priority first, then age, with
//! linear aging so a flood of urgent work cannot starve the rest forever.
//!
//! The rule: a task of priority `p` enqueued at `t` is claimed as if it were a priority-0
//! task enqueued at `t + p × aging` (its *rank*). Comparing ranks is the same as comparing
//! effective priorities that improve by one level per `aging` of waiting (`p - wait/aging`),
//! but a rank never changes once stored, so the claim reads it from an index instead of
//! computing it per row. The bound it gives: a task is claimed before every task enqueued
//! more than `p × aging` after it, whatever their priority.

use std::fmt;
use std::time::Duration;

use openclaw_shared::EpochMillis;

use super::clock::duration_millis;

/// A task's priority: `0` is claimed first, `9` last (Oban's scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

impl Priority {
    /// The most urgent priority.
    pub const HIGHEST: Priority = Priority(0);
    /// The least urgent priority.
    pub const LOWEST: Priority = Priority(9);
    /// The default of Discord's slash commands: someone is waiting in the channel.
    pub const INTERACTIVE: Priority = Priority(3);
    /// The default of the HTTP API's create routes.
    pub const API: Priority = Priority(5);
    /// The default of a schedule's runs: nobody is waiting for them.
    pub const SCHEDULED: Priority = Priority(7);

    /// `value` as a priority, if it is within [`Priority::HIGHEST`]..=[`Priority::LOWEST`].
    pub fn new(value: i64) -> Option<Priority> {
        u8::try_from(value)
            .ok()
            .filter(|value| *value <= Priority::LOWEST.0)
            .map(Priority)
    }

    /// The priority as a number (0-9).
    pub fn get(self) -> u8 {
        self.0
    }

    /// The rank a task of this priority enqueued at `enqueued_at` is claimed by (lower
    /// first): `enqueued_at + priority × aging`. See the module docs.
    pub fn rank(self, enqueued_at: EpochMillis, aging: Duration) -> EpochMillis {
        enqueued_at.saturating_add(u64::from(self.0).saturating_mul(duration_millis(aging)))
    }
}

impl Default for Priority {
    fn default() -> Self {
        Priority::API
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_zero_to_nine() {
        assert_eq!(Priority::new(0), Some(Priority::HIGHEST));
        assert_eq!(Priority::new(9), Some(Priority::LOWEST));
        for bad in [-1, 10, 255, 256, i64::MIN, i64::MAX] {
            assert_eq!(Priority::new(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_doors_defaults_rank_interactive_before_api_before_scheduled() {
        assert!(Priority::INTERACTIVE < Priority::API);
        assert!(Priority::API < Priority::SCHEDULED);
    }

    #[test]
    fn a_low_priority_task_ranks_ahead_of_urgent_ones_enqueued_long_enough_after_it() {
        let aging = Duration::from_secs(30);
        let low = Priority::LOWEST.rank(1_000, aging);

        // Nine levels down is 9 × 30 s of waiting: urgent work enqueued later than that
        // ranks behind it, urgent work enqueued sooner ahead.
        assert!(Priority::HIGHEST.rank(1_000 + 270_001, aging) > low);
        assert!(Priority::HIGHEST.rank(1_000 + 269_999, aging) < low);
        assert_eq!(Priority::HIGHEST.rank(5, aging), 5);
    }
}
