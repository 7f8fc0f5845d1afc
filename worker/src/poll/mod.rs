//! The worker loop: claim tasks for free slots (long poll), accept them (a claim is only
//! an offer until a heartbeat accepts it), run each through the [`pipeline`] in its own
//! tokio task, heartbeat held leases (relaying the owner's approval
//! answers to the waiting task), and deliver results until the server acknowledges them.
//! Retries with capped, jittered backoff and never exits on its own; claims nothing while
//! the canary lock is set; shutdown drains gracefully. Undelivered results take slots, and
//! a streak of denied tasks slows the claims (`pace.rs`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use openclaw_shared::worker::{
    ApprovalDecision, ClaimedTask, HeartbeatResponse, HeldLease, LeaseState,
};
use openclaw_shared::{LeaseId, TaskId, TaskOutcome};
use reqwest::StatusCode;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::sync::Notify;
use tokio::time::{sleep, timeout, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use crate::client::{Backoff, ClientError, FailureKind};
use crate::config::Config;
use crate::pipeline::{self, TaskRuntime};
use crate::telemetry::error_chain;

mod accept;
mod delivery;
mod pace;

use delivery::finish;
use pace::denied_streak_wait;
pub use pace::{DENIED_STREAK_MAX_WAIT, DENIED_STREAK_SLOWDOWN};

/// Retry delay when the server rejects the token or the request: an operator must act, so
/// retrying fast would only fill logs.
const REJECTED_RETRY: Duration = Duration::from_secs(60);
/// An empty claim answered faster than this means the server did not hold the long poll;
/// back off rather than spin.
const MIN_EMPTY_CLAIM: Duration = Duration::from_secs(1);
/// At shutdown, undelivered results are retried at least this long.
const MIN_DELIVERY_GRACE: Duration = Duration::from_secs(10);
/// How often a locked worker looks whether `openclaw-worker unlock` was run (a `stat`).
const LOCK_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Why the worker stopped a running task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    /// A client cancelled it: report `cancelled`.
    CancelRequested,
    /// The server no longer knows our lease: its result would be refused, so drop it.
    LeaseGone,
    /// The worker is shutting down and the grace period ran out.
    Shutdown,
}

/// A task being executed (or waiting for its approval).
struct Running {
    lease: LeaseId,
    cancel: CancellationToken,
    stop: Option<StopReason>,
    /// The owner's answers relayed in heartbeats, for the task's pipeline to verify.
    decisions: UnboundedSender<ApprovalDecision>,
}

/// A result waiting for the server's acknowledgement. The outcome is shared so a retry
/// does not copy megabytes of output.
struct Pending {
    task_id: TaskId,
    lease: LeaseId,
    outcome: Arc<TaskOutcome>,
    /// The output was already dropped once after a 413.
    shrunk: bool,
}

#[derive(Default)]
struct State {
    running: HashMap<TaskId, Running>,
    /// Oldest first.
    undelivered: VecDeque<Pending>,
    /// Tasks in a row that ended `denied`; any other end resets it.
    denied_streak: u32,
}

impl State {
    /// Every lease the worker holds: running tasks and results not yet acknowledged (their
    /// leases must stay alive or the server marks the task lost before the result lands).
    fn held_leases(&self) -> Vec<HeldLease> {
        let running = self.running.iter().map(|(id, r)| (*id, r.lease));
        let pending = self.undelivered.iter().map(|p| (p.task_id, p.lease));
        let mut leases: Vec<HeldLease> = running
            .chain(pending)
            .map(|(task_id, lease)| HeldLease { task_id, lease })
            .collect();
        leases.sort_by_key(|l| l.task_id);
        leases.dedup_by_key(|l| l.task_id);
        leases
    }
}

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
        })
    }

    /// Runs until `shutdown` is cancelled, then stops claiming, lets running tasks finish
    /// within the grace period (killing the rest), delivers results, and returns.
    pub async fn run(&self, shutdown: CancellationToken) {
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
            self.report_loop(&done)
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

    async fn claim_loop(&self, shutdown: &CancellationToken) {
        let mut backoff = Backoff::default();
        loop {
            let max = self.max_concurrent;
            tokio::select! {
                () = self.wait_until(|s| s.free_slots(max) > 0) => {}
                () = shutdown.cancelled() => return,
            }
            if self.rt.guard.is_locked() {
                tokio::select! {
                    () = self.wait_unlocked() => {}
                    () = shutdown.cancelled() => return,
                }
            }
            // Read first: a guard in the `if let` would be held across the sleep.
            let streak = self.lock().denied_streak;
            if let Some(wait) = denied_streak_wait(streak) {
                debug!(
                    wait_ms = wait.as_millis(),
                    "denied streak: waiting before the next claim"
                );
                tokio::select! {
                    () = sleep(wait) => {}
                    () = shutdown.cancelled() => return,
                }
            }
            let free = self.lock().free_slots(max);
            if free == 0 {
                continue;
            }
            let slots = u32::try_from(free).unwrap_or(u32::MAX);
            let asked = Instant::now();
            let claimed = tokio::select! {
                claimed = self.rt.client.claim(&self.name, slots, self.poll_wait) => claimed,
                () = shutdown.cancelled() => return,
            };
            let delay = match claimed {
                Ok(response) => {
                    backoff.reset();
                    let empty = response.tasks.is_empty();
                    let accepted = self.accept(response.tasks, free, shutdown).await;
                    self.start_tasks(accepted, free);
                    (empty && asked.elapsed() < MIN_EMPTY_CLAIM).then(|| backoff.next_delay())
                }
                Err(err) => Some(self.claim_failed(&err, &mut backoff)),
            };
            if let Some(delay) = delay {
                tokio::select! {
                    () = sleep(delay) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }

    /// Waits, claiming nothing, until the canary lock is removed on the Mac.
    async fn wait_unlocked(&self) {
        error!(
            reason = %self.rt.guard.lock_reason(),
            "the worker is LOCKED and claims no tasks: a canary path was touched. Look into \
             it, then run `openclaw-worker unlock` on this Mac"
        );
        while self.rt.guard.is_locked() {
            sleep(LOCK_POLL_INTERVAL).await;
        }
        info!("worker unlocked; claiming tasks again");
    }

    /// Logs a failed claim and says how long to wait before the next one.
    fn claim_failed(&self, err: &ClientError, backoff: &mut Backoff) -> Duration {
        let why = error_chain(err);
        match (err.kind(), err.status()) {
            (FailureKind::Unauthorized, _) | (_, Some(StatusCode::FORBIDDEN)) => {
                error!(
                    error = %why,
                    retry_in_secs = REJECTED_RETRY.as_secs(),
                    "worker token rejected by server: check WORKER_TOKEN against the worker \
                     token the bot printed"
                );
                REJECTED_RETRY
            }
            (FailureKind::Rejected, _) => {
                error!(
                    error = %why,
                    retry_in_secs = REJECTED_RETRY.as_secs(),
                    "server refused the claim"
                );
                REJECTED_RETRY
            }
            (FailureKind::Transient, _) => {
                let delay = backoff
                    .next_delay()
                    .max(err.retry_after().unwrap_or_default());
                warn!(error = %why, retry_in_ms = delay.as_millis(), "claim failed; retrying");
                delay
            }
        }
    }

    fn start_tasks(&self, tasks: Vec<ClaimedTask>, free: usize) {
        for (index, task) in tasks.into_iter().enumerate() {
            let mut state = self.lock();
            let known = state.running.contains_key(&task.id)
                || state.undelivered.iter().any(|p| p.task_id == task.id);
            if known {
                // Running a command twice is never safe; the first run's result stands.
                warn!(task_id = %task.id, "server handed out a task this worker already has; ignored");
                continue;
            }
            if index >= free {
                // Never run more than max_concurrent, whatever the server sends.
                warn!(task_id = %task.id, "server sent more tasks than free slots; refusing");
                drop(state);
                self.refuse_task(task);
                continue;
            }
            let cancel = CancellationToken::new();
            let (decisions, answers) = unbounded_channel();
            state.running.insert(
                task.id,
                Running {
                    lease: task.lease,
                    cancel: cancel.clone(),
                    stop: None,
                    decisions,
                },
            );
            drop(state);
            self.spawn_task(task, cancel, answers);
        }
        self.changed.notify_waiters();
    }

    /// Reports a task the worker has no slot for as failed (audited; nothing runs).
    fn refuse_task(&self, task: ClaimedTask) {
        let rt = Arc::clone(&self.rt);
        let state = Arc::clone(&self.state);
        let changed = Arc::clone(&self.changed);
        self.tasks.spawn(async move {
            let outcome =
                pipeline::refuse(&rt, &task, "the worker had no free slot for this task").await;
            let mut state = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.undelivered.push_back(Pending {
                task_id: task.id,
                lease: task.lease,
                outcome: Arc::new(outcome),
                shrunk: false,
            });
            drop(state);
            changed.notify_waiters();
        });
    }

    fn spawn_task(
        &self,
        task: ClaimedTask,
        cancel: CancellationToken,
        answers: tokio::sync::mpsc::UnboundedReceiver<ApprovalDecision>,
    ) {
        let rt = Arc::clone(&self.rt);
        let state = Arc::clone(&self.state);
        let changed = Arc::clone(&self.changed);
        info!(
            task_id = %task.id,
            kind = task.spec.kind().as_str(),
            timeout_ms = task.timeout_ms,
            "task started"
        );
        debug!(task_id = %task.id, summary = %task.spec.summary(), "task details");
        self.tasks.spawn(async move {
            let (id, lease) = (task.id, task.lease);
            // Run in a task of its own so a panic becomes a failed outcome instead of a
            // slot that never frees.
            let run = tokio::spawn(pipeline::run_task(rt, task, cancel, answers));
            let outcome = run.await.unwrap_or_else(|err| {
                error!(task_id = %id, error = %err, "task pipeline crashed");
                TaskOutcome::failure("the worker failed while running this task")
            });
            finish(&state, id, lease, outcome);
            changed.notify_waiters();
        });
    }

    async fn heartbeat_loop(&self, done: &CancellationToken) {
        loop {
            // Idle workers send no heartbeats: the claim long poll already says we are alive.
            tokio::select! {
                () = self.wait_until(|s| !s.running.is_empty() || !s.undelivered.is_empty()) => {}
                () = done.cancelled() => return,
            }
            tokio::select! {
                () = sleep(self.heartbeat_interval) => {}
                () = done.cancelled() => return,
            }
            let leases = self.lock().held_leases();
            if leases.is_empty() {
                continue;
            }
            let answer = tokio::select! {
                answer = self.rt.client.heartbeat(&self.name, leases) => answer,
                () = done.cancelled() => return,
            };
            match answer {
                Ok(answer) => self.apply_heartbeat(&answer),
                Err(err) => warn!(error = %error_chain(&err), "heartbeat failed"),
            }
        }
    }

    fn apply_heartbeat(&self, answer: &HeartbeatResponse) {
        let mut state = self.lock();
        for report in &answer.leases {
            let id = report.task_id;
            if let Some(decision) = &report.approval {
                match state.running.get(&id) {
                    // The pipeline verifies it; the server's word alone approves nothing.
                    Some(running) => {
                        let _ = running.decisions.send(decision.clone());
                    }
                    None => {
                        warn!(task_id = %id, "approval answer for a task that is not running; ignored")
                    }
                }
            }
            let stop = match report.state {
                LeaseState::Active => continue,
                LeaseState::CancelRequested => StopReason::CancelRequested,
                LeaseState::Gone => StopReason::LeaseGone,
            };
            if let Some(running) = state.running.get_mut(&id) {
                if running.stop.is_none() {
                    info!(task_id = %id, reason = ?stop, "stopping task");
                    running.stop = Some(stop);
                    running.cancel.cancel();
                }
            } else if stop == StopReason::LeaseGone {
                warn!(task_id = %id, "lease gone before the result was delivered; dropping it");
                state.undelivered.retain(|p| p.task_id != id);
            }
        }
        drop(state);
        self.changed.notify_waiters();
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
            error!(tasks = ?left, "exiting with undelivered results; the server will mark these tasks lost");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_leases_cover_running_tasks_and_undelivered_results_once() {
        let (a, b) = (TaskId::new(), TaskId::new());
        let mut state = State::default();
        state.running.insert(
            a,
            Running {
                lease: LeaseId::new(),
                cancel: CancellationToken::new(),
                stop: None,
                decisions: unbounded_channel().0,
            },
        );
        for id in [a, b] {
            state.undelivered.push_back(Pending {
                task_id: id,
                lease: LeaseId::new(),
                outcome: Arc::new(TaskOutcome::failure("x")),
                shrunk: false,
            });
        }

        let mut ids: Vec<TaskId> = state.held_leases().iter().map(|l| l.task_id).collect();
        ids.sort();

        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(ids, expected);
    }
}
