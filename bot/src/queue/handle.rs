//! The [`Queue`] handle adapters hold: opening the queue, putting tasks on it, reading,
//! waiting for and cancelling them, and the event channel and stats the adapters watch.
//! Leases, the sweep, approvals, attachments and deliveries add their methods in their
//! own modules.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, Notify};

use openclaw_shared::worker::SandboxReport;
use openclaw_shared::{TaskId, TaskStatus};

use super::clock::{duration_millis, now_millis};
use super::error::QueueError;
use super::events::TaskEvent;
use super::settings::QueueSettings;
use super::sqlite::SqliteStore;
use super::store::Store;
use super::task::{NewTask, Scope, Task};
use super::workers::{by_status, QueueStats, Sightings};

/// How many events a slow subscriber may fall behind before it sees `Lagged`.
const EVENT_CAPACITY: usize = 4096;

/// Cheap-to-clone handle to the queue (an `Arc` inside), shared by the API, the Discord
/// adapter and the sweeper.
#[derive(Clone)]
pub struct Queue {
    pub(super) inner: Arc<Inner>,
}

/// What every clone of a [`Queue`] shares.
pub(super) struct Inner {
    /// Where tasks live: any backend, behind the store interface.
    pub(super) store: Box<dyn Store>,
    /// The timing rules.
    pub(super) settings: QueueSettings,
    /// Where [`TaskEvent`]s go out to the adapters.
    events: broadcast::Sender<TaskEvent>,
    /// Woken on every enqueue (and requeue); waiting claims then look at the store again.
    pub(super) task_queued: Notify,
    /// The worker registry: names admitted, when each was last heard from.
    pub(super) workers: Sightings,
}

impl Queue {
    /// Opens (creating if needed) the SQLite database at `path`, applies pending migrations
    /// and returns a handle. Tasks and results from a previous run are kept.
    pub fn open(path: &Path, settings: QueueSettings) -> Result<Queue, QueueError> {
        Ok(Queue::with_store(SqliteStore::open(path)?, settings))
    }

    /// Runs the queue on `store`: the seam for a database other than SQLite. Everything the
    /// queue keeps goes through it; what the queue keeps in memory (events, waiting claims,
    /// the workers seen) starts empty.
    pub fn with_store(store: impl Store + 'static, settings: QueueSettings) -> Queue {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let workers = Sightings::new(settings.worker_expiry);
        Queue {
            inner: Arc::new(Inner {
                store: Box::new(store),
                settings,
                events,
                task_queued: Notify::new(),
                workers,
            }),
        }
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

    /// The most recent tasks in `scope` first, optionally only those with `status`.
    pub async fn list(
        &self,
        scope: &Scope,
        status: Option<TaskStatus>,
        limit: usize,
    ) -> Result<Vec<Task>, QueueError> {
        Ok(self.inner.store.list(scope, status, limit)?)
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

    /// Subscribes to task events. A slow subscriber may miss events (`Lagged`); it should
    /// then re-read what it cares about from the store.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskEvent> {
        self.inner.events.subscribe()
    }

    /// Counts per status of the tasks in `scope`, and the workers seen (all of them), for
    /// `/admin/health` and Discord's `/status`.
    pub async fn stats(&self, scope: &Scope) -> Result<QueueStats, QueueError> {
        let counts = self.inner.store.count_by_status(scope)?;
        let running = self.inner.store.running_by_worker()?;
        Ok(QueueStats {
            by_status: by_status(&counts),
            workers: self.inner.workers.workers(running),
        })
    }

    /// Records what `worker` says about its sandbox (shown in `/admin/health` and
    /// `/status`); the worker enforces it whatever we do with this.
    pub fn note_sandbox(&self, worker: &str, sandbox: SandboxReport) {
        self.inner.workers.note_sandbox(worker, sandbox);
    }

    /// Whether the database answers (for health checks).
    pub async fn ping(&self) -> Result<(), QueueError> {
        Ok(self.inner.store.ping()?)
    }

    /// Tells every subscriber about `event`.
    pub(super) fn publish(&self, event: TaskEvent) {
        // No subscriber is fine: nobody is waiting on this task.
        let _ = self.inner.events.send(event);
    }

    /// Records that `worker` made a request just now.
    pub(super) fn saw_worker(&self, worker: &str) {
        self.inner.workers.saw(worker);
    }
}
