//! The store interface: what the queue needs from a database, in the queue's own types. The
//! `sqlite` module implements it; another backend (PostgreSQL) would implement the same
//! traits and be handed to [`Queue::with_store`](super::Queue::with_store), and neither the
//! queue's methods nor any adapter would change.
//!
//! Why it has this shape:
//! - **One trait per noun**, gathered by [`Store`]. A backend implements each in its own
//!   file, and each queue module uses only its noun's slice. `Store` is object safe, so the
//!   queue holds a `Box<dyn Store>` and no signature outside the backend names it.
//! - **Synchronous, one atomic state change per call.** The store runs on threads of its own
//!   (`runner`), never on the runtime's: the queue sends it closures like
//!   `move |store: &dyn Store| store.claim(..)` and awaits their answers, so a database that
//!   waits for a lock stalls only the requests that need it. A PostgreSQL backend on a
//!   blocking client fits the same way.
//! - **Refusals are answers, not failures.** A write the caller may not make (not the
//!   holder, a stale lease, a finished task) returns `Ok(Err(Refusal))`; `Err(StoreError)`
//!   means the database failed.
//! - Each method takes the time (`now`, deadlines) from the queue, so the queue owns every
//!   timing rule and a backend only compares timestamps.

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::worker::{ApprovalDecision, HeldLease, LeaseReport};
use openclaw_shared::{EpochMillis, LeaseId, TaskId, TaskOutcome, TaskStatus};

mod schedules;

pub use schedules::ScheduleStore;

use super::outbox::{AttemptResult, OutboxCounts, WebhookDelivery, WebhookEvent};
use super::quota::{Quota, QuotaSettings};
use super::sessions::{ChannelBinding, SessionBrief};
pub use super::store_error::{StoreError, StoreFault};
use super::task::{ApprovalProgress, Completion, NewTask, Scope, Task, TaskBrief};

/// Why the store did not make a change a worker asked for. The queue turns each into a
/// [`QueueError`](super::QueueError) naming the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No task has this id.
    NotFound,
    /// Another worker (or none) holds the task.
    NotHolder,
    /// The worker holds the task, but under another lease than this one.
    LeaseMismatch,
    /// The task's status does not allow the change.
    Conflict(TaskStatus),
    /// The change would pass this quota.
    OverQuota(Quota),
    /// The task names an agent session another owner's tasks ran in.
    SessionOfAnother,
}

/// What a sweep did with offers whose deadline passed before the worker accepted them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LapsedOffers {
    /// Back on the queue, with no worker, lease or approval request.
    pub requeued: Vec<TaskId>,
    /// Flagged for cancel meanwhile: ended `cancelled` instead.
    pub cancelled: Vec<TaskId>,
}

/// Everything the queue stores, and a health check. Implemented by a database backend and
/// held by the queue as a `Box<dyn Store>`; each method is one atomic change or read.
pub trait Store:
    TaskStore
    + LeaseStore
    + SweepStore
    + ApprovalStore
    + AttachmentStore
    + DeliveryStore
    + ScheduleStore
    + WebhookStore
    + SessionStore
    + Send
    + Sync
{
    /// Runs a trivial query, to tell whether the database answers.
    fn ping(&self) -> Result<(), StoreError>;

    /// Waits at most `limit` for a lock another connection holds before a call fails with
    /// [`StoreFault::Busy`]; set before each call from what is left of its allowance.
    fn wait_for_locks(&self, limit: std::time::Duration) -> Result<(), StoreError>;

    /// How many rows this store's calls changed since it opened: a write that changed
    /// none (a claim that found nothing) says nothing about whether writing works.
    fn changes(&self) -> u64;
}

/// Tasks as records: what was asked, where each stands, and how many there are.
pub trait TaskStore {
    /// Inserts a new task, `queued`, created at `now`; unclaimed, it expires at `expires_at`.
    /// Claims take it in the order of `ranked_at` (see `Priority::rank`). Refused, storing
    /// nothing, if it would make more live tasks than `quota.max_live_tasks` or more stored
    /// bytes than `quota.max_stored_bytes`, or if it names an agent session another owner's
    /// tasks ran in. A task that names a session records it as its owner's, and continues
    /// one whose opening task never ran by starting it again.
    fn insert(
        &self,
        id: TaskId,
        task: &NewTask,
        now: EpochMillis,
        expires_at: EpochMillis,
        ranked_at: EpochMillis,
        quota: &QuotaSettings,
    ) -> Result<Result<(), Refusal>, StoreError>;

    /// The task with this id, if stored.
    fn get(&self, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// Up to `limit` tasks in `scope`, most recently enqueued first, only those with
    /// `status` if given, as briefs: the columns a list shows, never a spec's content or an
    /// output.
    fn list(
        &self,
        scope: &Scope,
        status: Option<TaskStatus>,
        limit: usize,
    ) -> Result<Vec<TaskBrief>, StoreError>;

    /// Cancels a queued task at once (ends it `cancelled` at `now`, with an error saying
    /// so), or flags a running or awaiting one for its worker to hear on its next
    /// heartbeat; a finished one is left alone. Returns the status the task had, or `None`
    /// if there is no such task.
    fn cancel(&self, id: TaskId, now: EpochMillis) -> Result<Option<TaskStatus>, StoreError>;

    /// How many tasks in `scope` have each status (statuses without tasks may be left out).
    fn count_by_status(&self, scope: &Scope) -> Result<Vec<(TaskStatus, u64)>, StoreError>;

    /// What the kept tasks hold now: bytes (specs, results, attachments) and live tasks.
    fn usage(&self) -> Result<Usage, StoreError>;
}

/// What the kept tasks hold, as the quota counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of every kept task's spec, result (output, error, metadata) and attachments.
    pub stored_bytes: u64,
    /// Tasks queued, running or awaiting approval.
    pub live_tasks: u64,
}

/// Leases: which worker holds which task, under which lease, until when.
///
/// A lease starts as an offer: its deadline is the offer's and it is not yet accepted. The
/// worker's first heartbeat accepts it; from then on each heartbeat moves the deadline.
pub trait LeaseStore {
    /// Moves up to `slots` tasks that are `queued`, not expired at `now` and untargeted or
    /// targeted at `worker` to `running` for `worker`, lowest rank (priority, then age; see
    /// `Priority::rank`) first, each under a fresh
    /// lease offered until `offer_expires_at` and started at `now`. All or nothing.
    fn claim(
        &self,
        worker: &str,
        slots: u32,
        now: EpochMillis,
        offer_expires_at: EpochMillis,
    ) -> Result<Vec<(Task, LeaseId)>, StoreError>;

    /// Answers each of `leases`, in order. A lease `worker` holds on a live task is moved to
    /// `lease_expires_at` (and accepted at `now` if it was only offered) and answered
    /// active or cancel-requested, with the owner's approval decision if one waits (which it
    /// then forgets: each decision is handed over once). Any other lease is gone; one on a
    /// task lost under that very lease is gone but `accepts_late_result`.
    fn heartbeat(
        &self,
        worker: &str,
        leases: &[HeldLease],
        now: EpochMillis,
        lease_expires_at: EpochMillis,
    ) -> Result<Vec<LeaseReport>, StoreError>;

    /// Stores a worker's result, finishing the task at `now` with the outcome's status, if
    /// `worker` holds it under `lease`. A task `lost` under that lease takes it too, flagged
    /// late (`flagged_late` in the task module) and due for delivery again:
    /// [`Completion::StoredLate`]. The same outcome on a finished task is a
    /// [`Completion::Duplicate`]; a different one is a [`Refusal::Conflict`].
    fn complete(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        outcome: &TaskOutcome,
        now: EpochMillis,
    ) -> Result<Result<Completion, Refusal>, StoreError>;

    /// How many live (running or awaiting approval) tasks each worker holds.
    fn running_by_worker(&self) -> Result<Vec<(String, usize)>, StoreError>;

    /// The status of task `id` if `worker` holds it under `lease`, or why not: the check a
    /// piece of live output passes (it reads, never writes).
    fn held(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
    ) -> Result<Result<TaskStatus, Refusal>, StoreError>;
}

/// The sweep's changes: each ends or frees what a deadline at or before `now` left behind,
/// at most `limit` rows per call (oldest first), so the sweep works through a backlog in
/// batches and other requests get their turn between them.
pub trait SweepStore {
    /// Ends up to `limit` offers never accepted whose deadline is at or before `now`: their
    /// worker never started them (a dead long poll, a Mac that fell asleep). Each goes back
    /// on the queue as if never claimed, or ends `cancelled` if it was flagged for cancel.
    fn requeue_unaccepted(
        &self,
        now: EpochMillis,
        limit: usize,
    ) -> Result<LapsedOffers, StoreError>;

    /// Ends up to `limit` `queued` tasks whose expiry is at or before `now` as `expired`,
    /// with `why` as their error. Returns the ids it ended.
    fn expire_queued(
        &self,
        now: EpochMillis,
        why: &str,
        limit: usize,
    ) -> Result<Vec<TaskId>, StoreError>;

    /// Ends up to `limit` live tasks whose lease ran out at or before `now` as `lost`, with
    /// `why` as their error, except those under one of the `spared` leases (heard of
    /// recently, though the store could not record it). Returns the ids it ended. The
    /// sweep calls it after [`requeue_unaccepted`](SweepStore::requeue_unaccepted), so only
    /// accepted leases are left to run out.
    fn lose_lapsed(
        &self,
        now: EpochMillis,
        why: &str,
        spared: &[LeaseId],
        limit: usize,
    ) -> Result<Vec<TaskId>, StoreError>;

    /// Deletes up to `limit` tasks finished at or before `cutoff`, with their attachments.
    /// Returns how many.
    fn prune(&self, cutoff: EpochMillis, limit: usize) -> Result<usize, StoreError>;

    /// Deletes up to `limit` `cancelled` and `expired` tasks finished at or before `cutoff`,
    /// with their attachments, unless their result still waits to be delivered. Returns how
    /// many.
    fn prune_abandoned(&self, cutoff: EpochMillis, limit: usize) -> Result<usize, StoreError>;
}

/// Approvals: the worker's request and progress, and the owner's answer to relay.
pub trait ApprovalStore {
    /// Applies the worker's progress if it holds the task under `lease`: a request (on a
    /// running or awaiting task) makes it await approval; a verified approval (on an
    /// awaiting one) makes it run; a rejection keeps it waiting. Each drops any answer not
    /// yet handed over.
    fn update_approval(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        progress: &ApprovalProgress,
    ) -> Result<Result<(), Refusal>, StoreError>;

    /// Tasks awaiting approval under exactly `fingerprint`, oldest first.
    fn awaiting_fingerprint(&self, fingerprint: &str) -> Result<Vec<Task>, StoreError>;

    /// Keeps the owner's answer for the task's next heartbeat, if the task still awaits
    /// approval. Returns whether it does.
    fn set_decision(&self, id: TaskId, decision: &ApprovalDecision) -> Result<bool, StoreError>;
}

/// Attachments: files uploaded with a task, kept with it and deleted with it.
pub trait AttachmentStore {
    /// Stores (or replaces, by name) an attachment of a live task `worker` holds under
    /// `lease`, received at `now`. Refused, storing nothing, past the quota: more
    /// attachments or attachment bytes for the task than it allows, or more bytes stored
    /// in total.
    #[allow(
        clippy::too_many_arguments,
        reason = "one atomic change; each is a column or a rule"
    )]
    fn put_attachment(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        attachment: &AttachmentInfo,
        data: &[u8],
        now: EpochMillis,
        quota: &QuotaSettings,
    ) -> Result<Result<(), Refusal>, StoreError>;

    /// The attachments of a task, without their bytes, by name.
    fn attachments(&self, id: TaskId) -> Result<Vec<AttachmentInfo>, StoreError>;

    /// One attachment with its bytes.
    fn attachment(
        &self,
        id: TaskId,
        name: &str,
    ) -> Result<Option<(AttachmentInfo, Vec<u8>)>, StoreError>;
}

/// Deliveries: which finished results have reached where their task came from.
pub trait DeliveryStore {
    /// Up to `limit` finished tasks with an origin whose result is not marked delivered,
    /// oldest first.
    fn undelivered(&self, limit: usize) -> Result<Vec<Task>, StoreError>;

    /// Marks a task's result delivered at `now`. Returns whether the task exists.
    fn mark_delivered(&self, id: TaskId, now: EpochMillis) -> Result<bool, StoreError>;
}

/// The webhook outbox. Task events are written by the backend itself, in the transaction
/// that changes the task's status, for every subscription and the task's callback url.
pub trait WebhookStore {
    /// Replaces the endpoints and the events each takes (pairs of url and event).
    fn set_webhook_subscriptions(&self, subs: &[(String, WebhookEvent)]) -> Result<(), StoreError>;

    /// Writes a message about `event` (with `data` as its payload's `data`) for every
    /// endpoint subscribed to it, due at `now`. Returns how many.
    fn add_webhook_message(
        &self,
        event: WebhookEvent,
        data: &serde_json::Value,
        now: EpochMillis,
    ) -> Result<usize, StoreError>;

    /// Takes up to `limit` pending messages due at `now`, oldest first, and moves their next
    /// attempt to `held_until`: a sender that dies mid-attempt leaves them due again then.
    fn take_due_webhooks(
        &self,
        now: EpochMillis,
        held_until: EpochMillis,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;

    /// Records an attempt at message `id` made at `now`. Returns whether it exists.
    fn record_webhook_attempt(
        &self,
        id: &str,
        result: &AttemptResult,
        now: EpochMillis,
    ) -> Result<bool, StoreError>;

    /// The `limit` most recent messages, newest first, only those about `task` if given.
    fn webhook_deliveries(
        &self,
        task: Option<TaskId>,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;

    /// Makes message `id` pending and due at `now`, with its attempts counted from zero.
    /// Returns whether it exists.
    fn redeliver_webhook(&self, id: &str, now: EpochMillis) -> Result<bool, StoreError>;

    /// When the next pending message is due, if any is.
    fn next_webhook_due(&self) -> Result<Option<EpochMillis>, StoreError>;

    /// How many messages are in each state.
    fn webhook_counts(&self) -> Result<OutboxCounts, StoreError>;

    /// Deletes up to `limit` delivered or failed messages written at or before `cutoff`.
    fn prune_webhooks(&self, cutoff: EpochMillis, limit: usize) -> Result<usize, StoreError>;
}

/// Agent sessions: each owner's, by latest task (written by [`TaskStore::insert`] with the
/// task that names one), and the session each Discord channel continues.
pub trait SessionStore {
    /// Up to `limit` sessions in `scope`, most recently used first; only `agent`'s when
    /// given.
    fn recent_sessions(
        &self,
        scope: &Scope,
        agent: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionBrief>, StoreError>;

    /// Binds (or rebinds) a channel's session for a user and agent, at `now`.
    fn bind_channel(&self, binding: &ChannelBinding, now: EpochMillis) -> Result<(), StoreError>;

    /// The session bound for `owner` and `agent` in `channel_id`, if any.
    fn channel_session(
        &self,
        channel_id: &str,
        owner: &str,
        agent: &str,
    ) -> Result<Option<String>, StoreError>;
}
