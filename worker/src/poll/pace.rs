//! How much and how fast the worker claims: results not yet acknowledged take slots like
//! running tasks (a server that never acknowledges cannot grow the worker), and a streak of
//! denied tasks slows the claims down (a server probing the policy gets answers slowly).

use std::time::Duration;

use openclaw_shared::OutcomeStatus;
use tracing::{info, warn};

use super::State;

/// Tasks in a row that must end `denied` before the worker slows its claims: a server that
/// keeps sending what the policy refuses is probing it (or broken), and ten in a row is
/// more than an owner trying things out sends.
pub const DENIED_STREAK_SLOWDOWN: u32 = 10;
/// The wait before a claim after [`DENIED_STREAK_SLOWDOWN`] denials in a row; it doubles
/// with every further denial, up to [`DENIED_STREAK_MAX_WAIT`].
const DENIED_STREAK_FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait before a claim during a denied streak.
pub const DENIED_STREAK_MAX_WAIT: Duration = Duration::from_secs(60);
/// Most tasks of one claim answer refused (reported failed) when the server sends more
/// than the free slots; the rest are dropped unreported, so one oversized answer cannot
/// queue an unbounded number of results.
pub(super) const MAX_REFUSALS_PER_CLAIM: usize = 8;

impl State {
    /// How many tasks the worker may claim now. Results not yet acknowledged take a slot
    /// like running tasks, so a server that never acknowledges cannot grow the worker:
    /// nothing is claimed while `running + undelivered >= max_concurrent`, and one claim
    /// adds at most its free slots plus [`MAX_REFUSALS_PER_CLAIM`] refusals. The memory the
    /// results hold is therefore at most `max_concurrent` outcomes plus that many refusals
    /// (a few hundred bytes each, no output). One outcome holds at most
    /// `2 × max_output_bytes` of output (stdout and stderr, cut to the cap after redaction)
    /// or one read's `max_read_bytes`, base64-encoded (4/3 as many bytes) when not text:
    /// with the defaults, 3 × max(2 MiB, 13.3 MiB) ≈ 40 MiB.
    pub(super) fn free_slots(&self, max_concurrent: usize) -> usize {
        max_concurrent.saturating_sub(self.running.len() + self.undelivered.len())
    }

    /// Counts a finished task into the denied streak. Logs once when the streak starts
    /// slowing claims, and once when it ends.
    pub(super) fn count_denied(&mut self, status: OutcomeStatus) {
        if status == OutcomeStatus::Denied {
            self.denied_streak = self.denied_streak.saturating_add(1);
            if self.denied_streak == DENIED_STREAK_SLOWDOWN {
                warn!(
                    denied_in_a_row = self.denied_streak,
                    max_wait_secs = DENIED_STREAK_MAX_WAIT.as_secs(),
                    "the server keeps sending tasks the policy denies; slowing claims until a \
                     task is not denied"
                );
            }
        } else {
            if self.denied_streak >= DENIED_STREAK_SLOWDOWN {
                info!("a task was not denied; claiming at full speed again");
            }
            self.denied_streak = 0;
        }
    }
}

/// How long to wait before the next claim after `streak` denied tasks in a row: nothing
/// below [`DENIED_STREAK_SLOWDOWN`], then [`DENIED_STREAK_FIRST_WAIT`], doubling with each
/// further denial up to [`DENIED_STREAK_MAX_WAIT`].
pub(super) fn denied_streak_wait(streak: u32) -> Option<Duration> {
    let beyond = streak.checked_sub(DENIED_STREAK_SLOWDOWN)?;
    // 2^6 s is past the cap already; a bigger shift would only overflow.
    let doubled = DENIED_STREAK_FIRST_WAIT.saturating_mul(1 << beyond.min(6));
    Some(doubled.min(DENIED_STREAK_MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use openclaw_shared::{LeaseId, TaskId, TaskOutcome};

    use super::super::Pending;
    use super::*;

    #[test]
    fn claims_slow_only_after_the_denied_streak_and_double_up_to_the_cap() {
        let waits: Vec<Option<u64>> = [0, 9, 10, 11, 12, 15, 16, 17, 1000, u32::MAX]
            .into_iter()
            .map(|streak| denied_streak_wait(streak).map(|d| d.as_secs()))
            .collect();

        assert_eq!(
            waits,
            [
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(32),
                Some(60),
                Some(60),
                Some(60),
                Some(60)
            ]
        );
    }

    #[test]
    fn any_task_that_is_not_denied_resets_the_streak() {
        let mut state = State::default();
        for _ in 0..DENIED_STREAK_SLOWDOWN {
            state.count_denied(OutcomeStatus::Denied);
        }
        let slowed = denied_streak_wait(state.denied_streak);

        state.count_denied(OutcomeStatus::Failed);

        assert!(slowed.is_some());
        assert_eq!(denied_streak_wait(state.denied_streak), None);
    }

    #[test]
    fn undelivered_results_take_slots_like_running_tasks() {
        let mut state = State::default();
        for _ in 0..2 {
            state.undelivered.push_back(Pending {
                task_id: TaskId::new(),
                lease: LeaseId::new(),
                outcome: Arc::new(TaskOutcome::failure("x")),
                shrunk: false,
            });
        }

        assert_eq!(state.free_slots(3), 1);
        assert_eq!(state.free_slots(2), 0);
        assert_eq!(state.free_slots(1), 0);
    }
}
