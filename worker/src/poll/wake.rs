//! Noticing that the machine slept. While a Mac sleeps its monotonic clock stands still
//! (macOS's `CLOCK_UPTIME_RAW`, Linux's `CLOCK_MONOTONIC`) and the wall clock does not, so
//! after a wake the wall clock is ahead by the time asleep. Every timer the worker has set
//! (a long poll's deadline, a backoff) runs on the monotonic clock and still has its whole
//! time to go, while the connection it waits on died with the sleep. So the worker checks
//! both clocks every [`WAKE_CHECK_INTERVAL`]; when the wall clock jumped ahead by more than
//! [`SLEEP_THRESHOLD`], it drops its pooled connections and wakes whatever waits on the
//! server, which starts over at once: a task queued while the lid was shut starts within
//! about a second of waking.
//!
//! The wall clock can also jump because someone set it (or NTP stepped it): that wakes
//! the loop too, which costs one new connection and nothing else.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::time::{interval, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::client::ApiClient;

/// How often the two clocks are compared. The worker notices a wake at most this late.
pub const WAKE_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// How much further than the monotonic clock the wall clock must move between two checks
/// to count as a sleep: well above NTP's slewing (milliseconds) and a busy machine's late
/// timer, well below any sleep that kills a connection.
pub const SLEEP_THRESHOLD: Duration = Duration::from_secs(5);

/// The wall clock, a seam so tests can make the machine "sleep" without sleeping it.
pub trait WallClock: Send + Sync {
    /// The time now.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Both clocks, read together.
#[derive(Debug, Clone, Copy)]
struct Reading {
    wall: SystemTime,
    mono: Instant,
}

/// How long the machine slept between `before` and `after`: how far the wall clock moved
/// past the monotonic one, when that is more than [`SLEEP_THRESHOLD`]. A wall clock set
/// back is no sleep.
fn slept(before: Reading, after: Reading) -> Option<Duration> {
    let wall = after.wall.duration_since(before.wall).ok()?;
    let mono = after.mono.saturating_duration_since(before.mono);
    let ahead = wall.checked_sub(mono)?;
    (ahead > SLEEP_THRESHOLD).then_some(ahead)
}

/// Watches for wakes from sleep, and tells whoever waits on the server.
pub(super) struct WakeWatch {
    clock: Arc<dyn WallClock>,
    /// Woken (all waiters) on every wake.
    woke: Notify,
}

impl WakeWatch {
    /// A watch reading the wall clock from `clock`.
    pub(super) fn new(clock: Arc<dyn WallClock>) -> Self {
        Self {
            clock,
            woke: Notify::new(),
        }
    }

    /// Resolves at the next wake from sleep. Create it before starting the request it
    /// should abandon, so that a wake during the request is not missed.
    pub(super) async fn woken(&self) {
        self.woke.notified().await;
    }

    fn read(&self) -> Reading {
        Reading {
            wall: self.clock.now(),
            mono: Instant::now(),
        }
    }

    /// Compares the clocks every [`WAKE_CHECK_INTERVAL`] until `done`. On a wake, drops
    /// `client`'s pooled connections first (they most likely died with the sleep), then
    /// wakes every waiter.
    pub(super) async fn run(&self, client: &ApiClient, done: &CancellationToken) {
        let mut ticks = interval(WAKE_CHECK_INTERVAL);
        // After a sleep one check is enough; a burst of catch-up ticks would compare
        // readings microseconds apart.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last = self.read();
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = done.cancelled() => return,
            }
            let now = self.read();
            if let Some(asleep) = slept(last, now) {
                info!(
                    asleep_secs = asleep.as_secs(),
                    "woke from sleep: reconnecting and asking the server again at once"
                );
                client.reconnect();
                self.woke.notify_waiters();
            }
            last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(wall_secs: u64, mono: Instant) -> Reading {
        Reading {
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(wall_secs),
            mono,
        }
    }

    #[test]
    fn a_wall_clock_far_ahead_of_the_monotonic_one_is_a_sleep() {
        let start = Instant::now();
        let before = reading(1_000, start);

        let awake = reading(1_001, start + Duration::from_secs(1));
        let late_tick = reading(1_004, start + Duration::from_secs(4));
        let asleep = reading(1_061, start + Duration::from_secs(1));

        assert_eq!(slept(before, awake), None);
        assert_eq!(slept(before, late_tick), None, "both clocks moved alike");
        assert_eq!(slept(before, asleep), Some(Duration::from_secs(60)));
    }

    #[test]
    fn small_steps_and_a_clock_set_back_are_no_sleep() {
        let start = Instant::now();
        let before = reading(1_000, start);
        let mono = start + Duration::from_secs(1);

        assert_eq!(slept(before, reading(1_006, mono)), None, "5 s ahead: NTP");
        assert_eq!(slept(before, reading(900, mono)), None);
        assert_eq!(
            slept(before, reading(1_007, mono)),
            Some(Duration::from_secs(6))
        );
    }
}
