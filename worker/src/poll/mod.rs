//! The worker loop: claim tasks for free slots (long poll), accept them (a claim is only
//! an offer until a heartbeat accepts it), run each through the [`pipeline`](crate::pipeline) in its own
//! tokio task, heartbeat held leases (relaying the owner's approval
//! answers to the waiting task), and deliver results until the server acknowledges them.
//! Retries with capped, jittered backoff and never exits on its own; claims nothing while
//! the canary lock is set; shutdown drains gracefully. Undelivered results take slots, and
//! a streak of denied tasks slows the claims (`pace.rs`).
//!
//! # Layout
//! - this file: [`Worker`], its lifecycle (run, drain) and the shared state's lock.
//! - `state.rs`: what the worker holds (running tasks, undelivered results).
//! - `claim.rs`: the claim loop and starting tasks; `accept.rs`: accepting what a claim
//!   offered; `pace.rs`: how much and how fast to claim.
//! - `heartbeat.rs`: extending leases, relaying approval answers, stopping tasks.
//! - `delivery.rs`: reporting results until the server acknowledges them.
//! - `adopt.rs`: at start, taking over the tasks a previous worker left in the spool.
//! - `wake.rs`: noticing a wake from sleep, so nothing waits on a connection that died.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::pipeline::TaskRuntime;

mod accept;
mod adopt;
mod claim;
mod delivery;
mod heartbeat;
mod pace;
mod state;
mod wake;

pub use pace::{DENIED_STREAK_MAX_WAIT, DENIED_STREAK_SLOWDOWN};
use state::{Pending, Running, State, StopReason};
use wake::WakeWatch;
pub use wake::{SystemClock, WallClock, SLEEP_THRESHOLD, WAKE_CHECK_INTERVAL};

/// Retry delay when the server rejects the token or the request: an operator must act, so
/// retrying fast would only fill logs.
const REJECTED_RETRY: Duration = Duration::from_secs(60);
/// At shutdown, undelivered results are retried at least this long.
const MIN_DELIVERY_GRACE: Duration = Duration::from_secs(10);

/// A running worker: the task runtime (client, executors, guard) and the shared state.
pub struct Worker {
    rt: Arc<TaskRuntime>,
    name: String,
    max_concurrent: usize,
    poll_wait: Duration,
    heartbeat_interval: Duration,
    shutdown_grace: Duration,
    /// std mutex: never held across an `.await`; each critical section is a few map
    /// operations, and the executor tasks update it from their own tokio tasks.
    state: Arc<Mutex<State>>,
    /// Woken on every state change (task started or finished, result delivered or dropped).
    changed: Arc<Notify>,
    tasks: TaskTracker,
    /// Wakes from sleep: requests waiting on the server are abandoned and sent again.
    wake: WakeWatch,
}

impl Worker {
    /// Builds the worker from a validated config. Fails, and the worker must not start,
    /// when the policy, the TOTP secret or the audit log cannot be used safely.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            rt: Arc::new(TaskRuntime::new(config)?),
            name: config.name.clone(),
            max_concurrent: usize::try_from(config.max_concurrent).unwrap_or(1),
            poll_wait: Duration::from_secs(config.poll_wait_secs),
            heartbeat_interval: Duration::from_secs(config.heartbeat_interval_secs),
            shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
            state: Arc::default(),
            changed: Arc::default(),
            tasks: TaskTracker::new(),
            wake: WakeWatch::new(Arc::new(SystemClock)),
        })
    }

    /// The same worker, reading the wall clock from `clock` to notice sleeps (tests make
    /// the machine "sleep" by moving it).
    #[must_use]
    pub fn with_wall_clock(mut self, clock: Arc<dyn WallClock>) -> Self {
        self.wake = WakeWatch::new(clock);
        self
    }

    /// Takes over what a previous worker left in the spool, runs until `shutdown` is
    /// cancelled, then stops claiming, lets running tasks finish within the grace period
    /// (killing the rest), delivers results, and returns.
    pub async fn run(&self, shutdown: CancellationToken) {
        self.adopt();
        let done = CancellationToken::new();
        let lifecycle = async {
            self.claim_loop(&shutdown).await;
            info!("shutting down: claiming no more tasks");
            self.drain().await;
            done.cancel();
        };
        tokio::join!(
            lifecycle,
            self.heartbeat_loop(&done),
            self.report_loop(&done),
            self.wake.run(&self.rt.client, &done)
        );
        info!("worker stopped");
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain maps behind, still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until `cond` holds, re-checking after every state change.
    async fn wait_until(&self, cond: impl Fn(&State) -> bool) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Register before checking, so a change between check and await is not missed.
            notified.as_mut().enable();
            if cond(&self.lock()) {
                return;
            }
            notified.await;
        }
    }

    fn stop_all(&self, reason: StopReason) {
        let mut state = self.lock();
        warn!(
            killing = state.running.len(),
            "shutdown grace period over; killing the remaining tasks"
        );
        for running in state.running.values_mut() {
            running.stop.get_or_insert(reason);
            running.cancel.cancel();
        }
    }

    /// After shutdown: running tasks get the grace period, then are killed; results are
    /// then retried for a bounded time so an unreachable server cannot hold the exit.
    async fn drain(&self) {
        // Tasks still waiting for an approval end now, reported cancelled.
        self.rt.stop_waiting.cancel();
        let running = self.lock().running.len();
        if running > 0 {
            info!(
                running,
                grace_secs = self.shutdown_grace.as_secs(),
                "waiting for running tasks"
            );
        }
        let all_finished = self.wait_until(|s| s.running.is_empty());
        if timeout(self.shutdown_grace, all_finished).await.is_err() {
            self.stop_all(StopReason::Shutdown);
            self.wait_until(|s| s.running.is_empty()).await;
        }
        self.tasks.close();
        self.tasks.wait().await;
        let delivery = self.shutdown_grace.max(MIN_DELIVERY_GRACE);
        let delivered = self.wait_until(|s| s.undelivered.is_empty());
        if timeout(delivery, delivered).await.is_err() {
            let left: Vec<String> = self
                .lock()
                .undelivered
                .iter()
                .map(|p| p.task_id.to_string())
                .collect();
            error!(tasks = ?left, "exiting with undelivered results; they stay in the spool, and the worker delivers them when it starts again");
        }
    }
}
