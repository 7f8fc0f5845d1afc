//! Claiming: a long poll for as many tasks as there are free slots, nothing while the
//! canary lock is set, slower during a denied streak; then each accepted task starts in a
//! tokio task of its own.

use std::sync::Arc;
use std::time::Duration;

use openclaw_shared::worker::{ApprovalDecision, ClaimedTask};
use openclaw_shared::TaskOutcome;
use reqwest::StatusCode;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::time::{sleep, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::delivery::finish;
use super::pace::denied_streak_wait;
use super::{Pending, Running, Worker, REJECTED_RETRY};
use crate::client::{Backoff, ClientError, FailureKind};
use crate::pipeline;
use crate::telemetry::error_chain;

/// An empty claim answered faster than this means the server did not hold the long poll;
/// back off rather than spin.
const MIN_EMPTY_CLAIM: Duration = Duration::from_secs(1);
/// How often a locked worker looks whether `openclaw-worker unlock` was run (a `stat`).
const LOCK_POLL_INTERVAL: Duration = Duration::from_secs(1);

impl Worker {
    /// Claims for free slots and starts what the server offers and accepts, until
    /// `shutdown`: retries failed claims with backoff, waits while the worker is locked.
    pub(super) async fn claim_loop(&self, shutdown: &CancellationToken) {
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
                // The long poll most likely died with the sleep; its deadline, on the
                // monotonic clock, has not moved while asleep. Ask again at once.
                () = self.wake.woken() => {
                    backoff.reset();
                    continue;
                }
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
                    // A backoff grown while the network was down ends with the sleep.
                    () = self.wake.woken() => backoff.reset(),
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
                if err.timed_out() {
                    // The long poll ran past its deadline: its connection died unseen, and
                    // the pool's other connections, over the same path, most likely did too.
                    // Waiting on one of those would cost another whole deadline.
                    self.rt.client.reconnect();
                }
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
                    lost: false,
                },
            );
            drop(state);
            self.spawn_task(task, cancel, answers);
        }
        self.changed.notify_waiters();
    }

    /// Reports a task the worker has no slot for as failed (audited; nothing runs).
    pub(super) fn refuse_task(&self, task: ClaimedTask) {
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
        answers: UnboundedReceiver<ApprovalDecision>,
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
            let run = tokio::spawn(pipeline::run_task(Arc::clone(&rt), task, cancel, answers));
            let outcome = run.await.unwrap_or_else(|err| {
                error!(task_id = %id, error = %err, "task pipeline crashed");
                TaskOutcome::failure("the worker failed while running this task")
            });
            finish(&state, &rt.spool, id, lease, outcome);
            changed.notify_waiters();
        });
    }
}
