//! Capped exponential backoff with jitter, for retrying transient failures.

use std::time::Duration;

/// First retry delay after a transient failure; doubles per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest retry delay for transient failures.
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// Capped exponential backoff with jitter: half the delay fixed, half random, so many
/// workers restarting together do not retry in lockstep.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// The delay before the next attempt; grows with each call up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let exp = BACKOFF_BASE.saturating_mul(1 << self.attempt.min(16));
        self.attempt = self.attempt.saturating_add(1);
        let ceiling = exp.min(BACKOFF_CAP);
        let half = ceiling / 2;
        let half_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=half_ms))
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let mut backoff = Backoff::default();

        let first = backoff.next_delay();
        let delays: Vec<Duration> = (0..20).map(|_| backoff.next_delay()).collect();

        assert!(first <= BACKOFF_BASE);
        assert!(delays.iter().all(|d| *d <= BACKOFF_CAP));
        assert!(delays.last().unwrap() >= &(BACKOFF_CAP / 2));
    }

    #[test]
    fn backoff_reset_starts_over() {
        let mut backoff = Backoff::default();
        for _ in 0..10 {
            backoff.next_delay();
        }

        backoff.reset();

        assert!(backoff.next_delay() <= BACKOFF_BASE);
    }
}
