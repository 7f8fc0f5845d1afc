//! The [`Queue`] handle adapters hold: opening the queue, putting tasks on it, reading,
//! waiting for and cancelling them, and the event channel and stats the adapters watch.
//! Leases, the sweep, approvals, attachments and deliveries add their methods in their
//! own modules.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::worker::SandboxReport;
use openclaw_shared::{TaskId, TaskStatus};

use super::clock::{duration_millis, now_millis};
use super::contact::Contacts;
use super::error::{refused, QueueError};
use super::events::TaskEvent;
use super::health::{Access, IntegrityCheck, StorageHealth, StorageReport};
use super::runner::Runner;
use super::settings::QueueSettings;
use super::sqlite::SqliteStore;
use super::store::{Store, StoreError, Usage};
use super::tails::LiveOutputs;
use super::task::{NewTask, Scope, Task, TaskBrief};
use super::waiters::{Waiters, Wake};
use super::workers::{by_status, QueueStats, Sightings};

/// How many events a slow subscriber may fall behind before it sees `Lagged`.
const EVENT_CAPACITY: usize = 4096;
/// Read-only connections (and threads) for reads: two, so one long read (a large
/// attachment) does not hold up the next health check.
const READERS: usize = 2;

/// Cheap-to-clone handle to the queue (an `Arc` inside), shared by the API, the Discord
/// adapter and the sweeper.
#[derive(Clone)]
pub struct Queue {
    pub(super) inner: Arc<Inner>,
}

/// What every clone of a [`Queue`] shares.
pub(super) struct Inner {
    /// Where tasks live: any backend, behind the store interface, on threads of its own.
    runner: Runner,
    /// The store's failures and integrity, for health reports.
    health: Arc<StorageHealth>,
    /// The timing rules.
    pub(super) settings: QueueSettings,
    /// Where [`TaskEvent`]s go out to the adapters.
    events: broadcast::Sender<TaskEvent>,
    /// The claims waiting for a task; each enqueue (and requeue) wakes one that can take it.
    pub(super) waiters: Waiters,
    /// The worker registry: names admitted, when each was last heard from.
    pub(super) workers: Sightings,
    /// Leases heard of while the store could not record it, which the sweep spares.
    pub(super) contacts: Contacts,
    /// Running tasks' live output.
    pub(super) live: LiveOutputs,
}

impl Queue {
    /// Opens (creating if needed) the SQLite database at `path`, applies pending migrations
    /// and returns a handle. Tasks and results from a previous run are kept.
    ///
    /// Checks the file first: damage found by `quick_check` is logged as an error and shown
    /// in [`Queue::storage_health`] (the queue still serves what reads back); a database
    /// that cannot be written is refused ([`StoreError::NotWritable`]); a failed test write
    /// for another reason (a full disk) is logged and recorded, and the queue opens.
    pub fn open(path: &Path, settings: QueueSettings) -> Result<Queue, QueueError> {
        let writer = SqliteStore::open(path, &settings.storage)?;
        let integrity = writer.quick_check()?;
        match &integrity {
            IntegrityCheck::Corrupt { problems } => tracing::error!(
                path = %path.display(),
                ?problems,
                "the task database is damaged: some tasks may not read back (503 \
                 storage_failed). Stop the bot and restore a backup, or recover what reads: \
                 sqlite3 openclaw.sqlite3 .recover | sqlite3 recovered.sqlite3"
            ),
            IntegrityCheck::Ok { duration_ms } => {
                tracing::debug!(duration_ms, "the task database checked out whole");
            }
            IntegrityCheck::NotRun => {}
        }
        let probe = match writer.check_writable() {
            Err(err @ StoreError::NotWritable(_)) => return Err(err.into()),
            probe => probe,
        };
        let writer: Arc<dyn Store> = Arc::new(writer);
        let readers = (0..READERS)
            .map(|_| Ok(Arc::new(SqliteStore::open_reader(path)?) as Arc<dyn Store>))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let queue = Queue::start(writer, readers, integrity, settings)?;
        if let Err(err) = probe {
            tracing::error!(
                error = %crate::telemetry::error_chain(&err),
                fault = %err.fault(),
                "the task database cannot be written now; requests that write get 503 until it can"
            );
            queue.inner.health.record_failure(Access::Write, &err);
        }
        Ok(queue)
    }

    /// Runs the queue on `store`: the seam for a database other than SQLite. Everything the
    /// queue keeps goes through it, on a thread of its own; what the queue keeps in memory
    /// (events, waiting claims, the workers seen) starts empty.
    pub fn with_store(
        store: impl Store + 'static,
        settings: QueueSettings,
    ) -> Result<Queue, QueueError> {
        let store: Arc<dyn Store> = Arc::new(store);
        Queue::start(
            Arc::clone(&store),
            vec![store],
            IntegrityCheck::NotRun,
            settings,
        )
    }

    fn start(
        writer: Arc<dyn Store>,
        readers: Vec<Arc<dyn Store>>,
        integrity: IntegrityCheck,
        settings: QueueSettings,
    ) -> Result<Queue, QueueError> {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let settings_live = settings.live;
        let workers = Sightings::new(settings.worker_expiry);
        let health = Arc::new(StorageHealth::new(integrity));
        let runner = Runner::start(
            writer,
            readers,
            settings.storage.busy_timeout,
            Arc::clone(&health),
        )?;
        Ok(Queue {
            inner: Arc::new(Inner {
                runner,
                health,
                waiters: Waiters::new(settings.max_waiting_claims_per_worker),
                settings,
                events,
                workers,
                contacts: Contacts::new(now_millis()),
                live: LiveOutputs::new(settings_live),
            }),
        })
    }

    /// The settings the queue runs with.
    pub fn settings(&self) -> &QueueSettings {
        &self.inner.settings
    }

    /// Puts a task on the queue and wakes one waiting claim that can take it. Emits
    /// [`TaskEvent::Queued`]. Past the quota (tasks live at once, bytes stored) the task is
    /// refused with [`QueueError::QuotaExceeded`] and nothing is stored.
    #[tracing::instrument(skip_all, fields(kind = task.spec.kind().as_str()))]
    pub async fn enqueue(&self, task: NewTask) -> Result<Task, QueueError> {
        let id = TaskId::new();
        let now = now_millis();
        let expires_at = now.saturating_add(duration_millis(self.inner.settings.task_ttl));
        let ranked_at = task.priority.rank(now, self.inner.settings.priority_aging);
        let target = task.target_worker.clone();
        let quota = self.inner.settings.quota;
        // Read back in the same call: one trip to the store's thread, not two.
        let stored = self
            .write(move |store| {
                if let Err(refusal) = store.insert(id, &task, now, expires_at, ranked_at, &quota)? {
                    return Ok(Err(refusal));
                }
                Ok(Ok(store.get(id)?))
            })
            .await?
            .map_err(|refusal| refused(id, refusal))?;
        tracing::debug!(task_id = %id, "task queued");
        self.inner.waiters.wake(Wake::for_target(target.as_deref()));
        self.publish(TaskEvent::Queued { id });
        stored.ok_or(QueueError::NotFound(id))
    }

    /// The task with this id.
    pub async fn get(&self, id: TaskId) -> Result<Task, QueueError> {
        self.read(move |store| store.get(id))
            .await?
            .ok_or(QueueError::NotFound(id))
    }

    /// Waits up to `wait` for the task to finish and returns it as it then is (finished or
    /// not). An unknown id fails at once with `NotFound`.
    pub async fn wait_finished(&self, id: TaskId, wait: Duration) -> Result<Task, QueueError> {
        match self.wait_for_finish(id, wait).await? {
            Some(task) => Ok(task),
            None => self.get(id).await,
        }
    }

    /// [`Queue::wait_finished`], with the task's attachments (none until it finished), read
    /// together in one call to the store once the wait is over.
    pub async fn wait_finished_with_attachments(
        &self,
        id: TaskId,
        wait: Duration,
    ) -> Result<(Task, Vec<AttachmentInfo>), QueueError> {
        if !wait.is_zero() {
            if let Some(task) = self.wait_for_finish(id, wait).await? {
                if !task.status.is_terminal() {
                    return Ok((task, Vec::new()));
                }
            }
        }
        let (task, attachments) = self
            .read(move |store| {
                let task = store.get(id)?;
                let attachments = match &task {
                    Some(task) if task.status.is_terminal() => store.attachments(id)?,
                    _ => Vec::new(),
                };
                Ok((task, attachments))
            })
            .await?;
        Ok((task.ok_or(QueueError::NotFound(id))?, attachments))
    }

    /// Waits up to `wait` for the task to finish. Returns the task when its first read
    /// already answers (finished, or no wait), `None` when the caller should read it again.
    async fn wait_for_finish(
        &self,
        id: TaskId,
        wait: Duration,
    ) -> Result<Option<Task>, QueueError> {
        // Subscribe before reading, so a finish between the read and the wait is not missed.
        let mut events = self.subscribe();
        let task = self.get(id).await?;
        if task.status.is_terminal() || wait.is_zero() {
            return Ok(Some(task));
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
        Ok(None)
    }

    /// The most recent tasks in `scope` first, optionally only those with `status`, as briefs
    /// (the columns a list shows: no spec content, no output, however large those are).
    pub async fn list(
        &self,
        scope: &Scope,
        status: Option<TaskStatus>,
        limit: usize,
    ) -> Result<Vec<TaskBrief>, QueueError> {
        let scope = scope.clone();
        Ok(self
            .read(move |store| store.list(&scope, status, limit))
            .await?)
    }

    /// Cancels a task: a queued one becomes `cancelled` at once; a running one is flagged
    /// and its worker is told on its next heartbeat (it then reports `cancelled`). A
    /// finished task is a `Conflict`.
    #[tracing::instrument(skip_all, fields(task_id = %id))]
    pub async fn cancel(&self, id: TaskId) -> Result<Task, QueueError> {
        let now = now_millis();
        let (before, after) = self
            .write(move |store| {
                let before = store.cancel(id, now)?;
                Ok((before, store.get(id)?))
            })
            .await?;
        let after = after.ok_or(QueueError::NotFound(id));
        match before {
            None => Err(QueueError::NotFound(id)),
            Some(TaskStatus::Queued) => {
                tracing::info!("queued task cancelled");
                self.publish(TaskEvent::Finished {
                    id,
                    status: TaskStatus::Cancelled,
                });
                after
            }
            Some(TaskStatus::Running | TaskStatus::AwaitingApproval) => {
                tracing::info!("cancel requested from the worker");
                after
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
        let scope = scope.clone();
        let (counts, running) = self
            .read(move |store| Ok((store.count_by_status(&scope)?, store.running_by_worker()?)))
            .await?;
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

    /// How many claims (long polls) are waiting for a task now.
    pub fn waiting_claims(&self) -> usize {
        self.inner.waiters.waiting()
    }

    /// What the kept tasks hold (bytes, live tasks), as the quota counts it.
    pub async fn usage(&self) -> Result<Usage, QueueError> {
        Ok(self.read(|store| store.usage()).await?)
    }

    /// Whether the database answers reads (for health checks).
    pub async fn ping(&self) -> Result<(), QueueError> {
        Ok(self.read(|store| store.ping()).await?)
    }

    /// The store's recent failures and what its integrity check at open found.
    pub fn storage_health(&self) -> StorageReport {
        self.inner.health.report()
    }

    /// Runs `op` on the store's writing thread.
    pub(super) async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.runner.write(op).await
    }

    /// Runs `op`, which only reads, on one of the store's reading threads.
    pub(super) async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.runner.read(op).await
    }

    /// Tells every subscriber about `event`.
    pub(super) fn publish(&self, event: TaskEvent) {
        if let TaskEvent::Finished { id, .. } = &event {
            self.inner.live.end(*id);
        }
        // No subscriber is fine: nobody is waiting on this task.
        let _ = self.inner.events.send(event);
    }

    /// Records that `worker` made a request just now.
    pub(super) fn saw_worker(&self, worker: &str) {
        self.inner.workers.saw(worker);
    }
}
