//! The task queue: the product's core. Durable (SQLite), lease-based, and push-driven
//! (long-polls are woken by events, never by rescans). Knows nothing of HTTP or Discord.
//!
//! Adapters (the HTTP API, the Discord bot) hold a [`Queue`] handle and call its methods;
//! they learn about changes by [`Queue::subscribe`]-ing to [`TaskEvent`]s.

mod approvals;
mod attachments;
mod events;
mod sqlite;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, Notify};

use openclaw_shared::worker::{HeldLease, LeaseReport, SandboxReport};
use openclaw_shared::{EpochMillis, LeaseId, TaskId, TaskOutcome, TaskSpec, TaskStatus};

pub use approvals::ApprovalProgress;
pub use events::TaskEvent;
pub use sqlite::StoreError;
use sqlite::{Refusal, Store};

/// Timing rules of the queue. All are fields (not constants) so tests can shrink them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a queued task waits for a worker before it becomes `expired`.
    pub task_ttl: Duration,
    /// How long finished tasks (and their results) are kept before they are pruned.
    pub retention: Duration,
    /// How long an accepted claim stays valid without a heartbeat; past it the task
    /// becomes `lost`.
    pub lease_ttl: Duration,
    /// How long a claim is only an offer: a worker that does not accept it (heartbeat its
    /// lease) within this never started it, and the task goes back to the queue.
    pub offer_ttl: Duration,
    /// How often the sweeper looks for expired tasks, lost leases and old results.
    pub sweep_interval: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            task_ttl: Duration::from_secs(15 * 60),
            retention: Duration::from_secs(24 * 60 * 60),
            lease_ttl: Duration::from_secs(60),
            offer_ttl: Duration::from_secs(10),
            sweep_interval: Duration::from_secs(1),
        }
    }
}

/// A task to put on the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub spec: TaskSpec,
    /// How long the worker lets it run.
    pub timeout: Duration,
    /// Only this worker may claim it; any worker when `None`.
    pub target_worker: Option<String>,
    /// Opaque data for the adapter that created the task (e.g. the Discord interaction to
    /// answer). The queue stores and returns it, never interprets it.
    pub origin: Option<serde_json::Value>,
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: TaskId,
    pub spec: TaskSpec,
    pub status: TaskStatus,
    pub timeout: Duration,
    pub target_worker: Option<String>,
    /// The worker that claimed it.
    pub worker: Option<String>,
    pub origin: Option<serde_json::Value>,
    /// A client asked to cancel it while it ran; the worker hears it on its next heartbeat.
    pub cancel_requested: bool,
    pub created_at: EpochMillis,
    pub started_at: Option<EpochMillis>,
    pub completed_at: Option<EpochMillis>,
    /// The result, once finished. Tasks that end without a worker report (expired, lost,
    /// cancelled while queued) carry an outcome with `error` saying why.
    pub outcome: Option<TaskOutcome>,
    /// The worker's approval request, once it made one (kept after the answer, as a record).
    pub approval: Option<PendingApproval>,
}

/// What a worker asked the owner to approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingApproval {
    /// Short code of the exact task the worker will run.
    pub fingerprint: String,
    /// The command or path, as the worker will run it.
    pub summary: String,
    /// When the request lapses on the worker.
    pub expires_at: EpochMillis,
}

/// A task offered to a worker, with its lease. The worker must accept it (heartbeat the
/// lease) within `offer_ttl` before running it, or the task goes back to the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub task: Task,
    pub lease: LeaseId,
    pub lease_ttl: Duration,
    pub offer_ttl: Duration,
}

/// What `complete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The result was stored and the task is now final.
    Stored,
    /// The same result was already stored under this lease: nothing changed.
    Duplicate,
}

/// A worker the queue has heard from (claim or heartbeat) since it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    pub name: String,
    pub last_seen: EpochMillis,
    /// Tasks it holds a lease on.
    pub running: usize,
    /// The sandbox it last said its tasks run in (none from a worker older than that).
    pub sandbox: Option<SandboxReport>,
}

/// What the queue remembers of a worker between its requests.
#[derive(Debug, Clone, Default)]
struct Seen {
    at: EpochMillis,
    sandbox: Option<SandboxReport>,
}

/// Counts of tasks per status, plus the workers seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    pub by_status: Vec<(TaskStatus, u64)>,
    pub workers: Vec<WorkerInfo>,
}

/// What a sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Offered but never accepted: back on the queue.
    pub requeued: usize,
    pub expired: usize,
    pub lost: usize,
    pub pruned: usize,
}

/// Why a queue operation failed. Each variant maps to one HTTP status in the API layer.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("task {0} not found")]
    NotFound(TaskId),
    /// The task is held by another worker (403: a worker may report only its own tasks).
    #[error("task {0} is not held by this worker")]
    NotHolder(TaskId),
    /// The lease is not the task's current one (409).
    #[error("lease does not match the current lease of task {0}")]
    LeaseMismatch(TaskId),
    /// The task's state does not allow this (409), e.g. cancelling a finished task, or a
    /// different result for a task already finished.
    #[error("task {id} is {status}")]
    Conflict { id: TaskId, status: TaskStatus },
    /// An approval named a fingerprint that is not the one the task awaits (409).
    #[error("fingerprint does not match the approval task {0} is waiting for")]
    FingerprintMismatch(TaskId),
    #[error("task store failed")]
    Store(#[from] sqlite::StoreError),
}

/// How many events a slow subscriber may fall behind before it sees `Lagged`.
const EVENT_CAPACITY: usize = 4096;

/// Cheap-to-clone handle to the queue (an `Arc` inside), shared by the API, the Discord
/// adapter and the sweeper.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    settings: QueueSettings,
    events: broadcast::Sender<TaskEvent>,
    /// Woken on every enqueue; waiting claims then look at the store again.
    task_queued: Notify,
    /// Last time each worker claimed or heartbeated. A std mutex: held for a map insert,
    /// never across an await.
    workers_seen: Mutex<HashMap<String, Seen>>,
}

impl Queue {
    /// Opens (creating if needed) the SQLite database at `path`, applies pending migrations
    /// and returns a handle. Tasks and results from a previous run are kept.
    pub fn open(path: &Path, settings: QueueSettings) -> Result<Queue, QueueError> {
        let store = Store::open(path)?;
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Ok(Queue {
            inner: Arc::new(Inner {
                store,
                settings,
                events,
                task_queued: Notify::new(),
                workers_seen: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The settings the queue runs with.
    pub fn settings(&self) -> &QueueSettings {
        &self.inner.settings
    }

    /// Puts a task on the queue and wakes waiting claims. Emits [`TaskEvent::Queued`].
    #[tracing::instrument(skip_all, fields(kind = task.spec.kind().as_str()))]
    pub async fn enqueue(&self, task: NewTask) -> Result<Task, QueueError> {
        let id = TaskId::new();
        let now = now_millis();
        let expires_at = now.saturating_add(duration_millis(self.inner.settings.task_ttl));
        self.inner.store.insert(id, &task, now, expires_at)?;
        tracing::debug!(task_id = %id, "task queued");
        self.inner.task_queued.notify_waiters();
        self.publish(TaskEvent::Queued { id });
        self.get(id).await
    }

    /// The task with this id.
    pub async fn get(&self, id: TaskId) -> Result<Task, QueueError> {
        self.inner.store.get(id)?.ok_or(QueueError::NotFound(id))
    }

    /// Waits up to `wait` for the task to finish and returns it as it then is (finished or
    /// not). An unknown id fails at once with `NotFound`.
    pub async fn wait_finished(&self, id: TaskId, wait: Duration) -> Result<Task, QueueError> {
        // Subscribe before reading, so a finish between the read and the wait is not missed.
        let mut events = self.subscribe();
        let task = self.get(id).await?;
        if task.status.is_terminal() || wait.is_zero() {
            return Ok(task);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_elapsed) => break,
                Ok(Ok(TaskEvent::Finished { id: finished, .. })) if finished == id => break,
                Ok(Ok(_)) => {}
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    // We may have missed our event: look at the store instead.
                    if self.get(id).await?.status.is_terminal() {
                        break;
                    }
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => break,
            }
        }
        self.get(id).await
    }

    /// The most recent tasks first, optionally only those with `status`.
    pub async fn list(
        &self,
        status: Option<TaskStatus>,
        limit: usize,
    ) -> Result<Vec<Task>, QueueError> {
        Ok(self.inner.store.list(status, limit)?)
    }

    /// Cancels a task: a queued one becomes `cancelled` at once; a running one is flagged
    /// and its worker is told on its next heartbeat (it then reports `cancelled`). A
    /// finished task is a `Conflict`.
    #[tracing::instrument(skip_all, fields(task_id = %id))]
    pub async fn cancel(&self, id: TaskId) -> Result<Task, QueueError> {
        match self.inner.store.cancel(id, now_millis())? {
            None => Err(QueueError::NotFound(id)),
            Some(TaskStatus::Queued) => {
                tracing::info!("queued task cancelled");
                self.publish(TaskEvent::Finished {
                    id,
                    status: TaskStatus::Cancelled,
                });
                self.get(id).await
            }
            Some(TaskStatus::Running | TaskStatus::AwaitingApproval) => {
                tracing::info!("cancel requested from the worker");
                self.get(id).await
            }
            Some(status) => Err(QueueError::Conflict { id, status }),
        }
    }

    /// Claims up to `slots` queued tasks for `worker` (untargeted ones, or those targeting
    /// it), oldest first, each with a fresh lease. When none is queued, waits up to `wait`
    /// and is woken the moment one arrives. Returns an empty list when the wait runs out.
    ///
    /// Each task is only offered: the long poll may have died unseen (a Mac asleep), so
    /// the task returns to the queue unless the worker accepts it within `offer_ttl`.
    pub async fn claim(
        &self,
        worker: &str,
        slots: u32,
        wait: Duration,
    ) -> Result<Vec<Claim>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.saw_worker(worker);
            // Register for the wake-up before looking, so an enqueue in between wakes us.
            let queued = self.inner.task_queued.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();

            let claims = self.try_claim(worker, slots)?;
            if !claims.is_empty() {
                return Ok(claims);
            }
            if tokio::time::timeout_at(deadline, queued).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    fn try_claim(&self, worker: &str, slots: u32) -> Result<Vec<Claim>, QueueError> {
        let lease_ttl = self.inner.settings.lease_ttl;
        let offer_ttl = self.inner.settings.offer_ttl;
        let now = now_millis();
        let claimed = self.inner.store.claim(
            worker,
            slots,
            now,
            now.saturating_add(duration_millis(offer_ttl)),
        )?;
        Ok(claimed
            .into_iter()
            .map(|(task, lease)| {
                tracing::info!(task_id = %task.id, worker, "task claimed");
                self.publish(TaskEvent::Claimed {
                    id: task.id,
                    worker: worker.to_owned(),
                });
                Claim {
                    task,
                    lease,
                    lease_ttl,
                    offer_ttl,
                }
            })
            .collect())
    }

    /// Extends the leases `worker` holds and records that it is alive. Each lease gets an
    /// answer: active, cancel requested, or gone (lost, requeued, finished or not this
    /// worker's). The first heartbeat for an offered lease accepts it: from then on it
    /// lasts `lease_ttl` per heartbeat and, if it lapses, the task is `lost`.
    pub async fn heartbeat(
        &self,
        worker: &str,
        leases: &[HeldLease],
    ) -> Result<Vec<LeaseReport>, QueueError> {
        self.saw_worker(worker);
        let now = now_millis();
        let expires_at = now.saturating_add(duration_millis(self.inner.settings.lease_ttl));
        let states = self
            .inner
            .store
            .heartbeat(worker, leases, now, expires_at)?;
        leases
            .iter()
            .zip(states)
            .map(|(held, (state, decision))| {
                Ok(LeaseReport {
                    task_id: held.task_id,
                    state,
                    approval: decision
                        .map(|json| serde_json::from_str(&json))
                        .transpose()
                        .map_err(StoreError::from)?,
                })
            })
            .collect()
    }

    /// Stores the result of a task. Only the worker holding the current lease may do so.
    /// Idempotent: the same result again under the same lease is `Duplicate`. Emits
    /// [`TaskEvent::Finished`].
    #[tracing::instrument(skip_all, fields(task_id = %id, worker))]
    pub async fn complete(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        outcome: TaskOutcome,
    ) -> Result<Completion, QueueError> {
        self.saw_worker(worker);
        let status = TaskStatus::from(outcome.status);
        match self
            .inner
            .store
            .complete(id, worker, lease, &outcome, now_millis())?
        {
            Ok(true) => {
                tracing::info!(%status, exit_code = ?outcome.exit_code, "task finished");
                self.publish(TaskEvent::Finished { id, status });
                Ok(Completion::Stored)
            }
            Ok(false) => Ok(Completion::Duplicate),
            Err(refusal) => Err(refused(id, refusal)),
        }
    }

    /// Subscribes to task events. A slow subscriber may miss events (`Lagged`); it should
    /// then re-read what it cares about from the store.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskEvent> {
        self.inner.events.subscribe()
    }

    /// Requeues offers nobody accepted in time, expires queued tasks past their TTL, marks
    /// accepted tasks whose lease ran out `lost`, and prunes finished tasks older than the
    /// retention, as of `now`. Emits events and wakes waiting claims for requeued tasks.
    pub async fn sweep(&self, now: EpochMillis) -> Result<SweepReport, QueueError> {
        let store = &self.inner.store;
        // First, so an offer that lapsed together with its task's TTL expires below, and
        // so the `lost` pass only sees accepted leases.
        let (requeued, cancelled) = store.requeue_unaccepted(now)?;
        for &id in &requeued {
            tracing::warn!(task_id = %id, "offer not accepted in time; task back on the queue");
            self.publish(TaskEvent::Queued { id });
        }
        if !requeued.is_empty() {
            self.inner.task_queued.notify_waiters();
        }
        for &id in &cancelled {
            tracing::info!(task_id = %id, "offer not accepted and cancel requested; cancelled");
            self.publish(TaskEvent::Finished {
                id,
                status: TaskStatus::Cancelled,
            });
        }
        let expired = store.end_overdue(
            &[TaskStatus::Queued],
            "expires_at",
            TaskStatus::Expired,
            "no worker claimed the task before it expired",
            now,
        )?;
        let lost = store.end_overdue(
            &[TaskStatus::Running, TaskStatus::AwaitingApproval],
            "lease_expires_at",
            TaskStatus::Lost,
            "the worker stopped reporting on this task (lease expired); it was not retried",
            now,
        )?;
        let cutoff = now.saturating_sub(duration_millis(self.inner.settings.retention));
        let pruned = store.prune(cutoff)?;
        for (ids, status) in [(&expired, TaskStatus::Expired), (&lost, TaskStatus::Lost)] {
            for &id in ids {
                tracing::warn!(task_id = %id, %status, "task ended by the sweeper");
                self.publish(TaskEvent::Finished { id, status });
            }
        }
        if pruned > 0 {
            tracing::debug!(pruned, "pruned old results");
        }
        Ok(SweepReport {
            requeued: requeued.len(),
            expired: expired.len(),
            lost: lost.len(),
            pruned,
        })
    }

    /// Counts per status and the workers seen, for `/admin/health` and Discord's `/status`.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let counts = self.inner.store.count_by_status()?;
        let by_status = TaskStatus::ALL
            .into_iter()
            .map(|status| {
                let count = counts
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n);
                (status, count)
            })
            .collect();
        let running: HashMap<String, usize> =
            self.inner.store.running_by_worker()?.into_iter().collect();
        let mut workers: Vec<WorkerInfo> = self
            .workers_seen()
            .into_iter()
            .map(|(name, seen)| WorkerInfo {
                running: running.get(&name).copied().unwrap_or(0),
                name,
                last_seen: seen.at,
                sandbox: seen.sandbox,
            })
            .collect();
        workers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(QueueStats { by_status, workers })
    }

    /// Whether the database answers (for health checks).
    pub async fn ping(&self) -> Result<(), QueueError> {
        Ok(self.inner.store.ping()?)
    }

    fn publish(&self, event: TaskEvent) {
        // No subscriber is fine: nobody is waiting on this task.
        let _ = self.inner.events.send(event);
    }

    fn saw_worker(&self, worker: &str) {
        self.seen_entry(worker, |seen| seen.at = now_millis());
    }

    /// Records what `worker` says about its sandbox (shown in `/admin/health` and
    /// `/status`); the worker enforces it whatever we do with this.
    pub fn note_sandbox(&self, worker: &str, sandbox: SandboxReport) {
        self.seen_entry(worker, |seen| {
            seen.at = now_millis();
            seen.sandbox = Some(sandbox);
        });
    }

    fn seen_entry(&self, worker: &str, update: impl FnOnce(&mut Seen)) {
        let mut seen = self
            .inner
            .workers_seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        update(seen.entry(worker.to_owned()).or_default());
    }

    fn workers_seen(&self) -> Vec<(String, Seen)> {
        let seen = self
            .inner
            .workers_seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.iter()
            .map(|(name, seen)| (name.clone(), seen.clone()))
            .collect()
    }
}

fn refused(id: TaskId, refusal: Refusal) -> QueueError {
    match refusal {
        Refusal::NotFound => QueueError::NotFound(id),
        Refusal::NotHolder => QueueError::NotHolder(id),
        Refusal::LeaseMismatch => QueueError::LeaseMismatch(id),
        Refusal::Conflict(status) => QueueError::Conflict { id, status },
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> EpochMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, duration_millis)
}

fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
