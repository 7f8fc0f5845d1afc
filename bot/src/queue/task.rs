//! Task types: what an adapter puts on the queue, what the queue stores about it, and what
//! the worker reports on the way (approval progress, a result stored or repeated).
//!
//! Plain data with no behaviour, so both the [`Queue`](super::Queue) and any store backend
//! can use them without depending on each other.

use std::time::Duration;

use openclaw_shared::{EpochMillis, TaskId, TaskKind, TaskOutcome, TaskSpec, TaskStatus};

/// Longest summary a [`TaskBrief`] carries, in characters: more than any list shows.
pub const BRIEF_SUMMARY_CHARS: usize = 200;

/// A task to put on the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// What to run.
    pub spec: TaskSpec,
    /// How long the worker lets it run.
    pub timeout: Duration,
    /// Only this worker may claim it; any worker when `None`.
    pub target_worker: Option<String>,
    /// Opaque data for the adapter that created the task (e.g. the Discord interaction to
    /// answer). The queue stores and returns it, never interprets it.
    pub origin: Option<serde_json::Value>,
    /// Who the task belongs to, as the adapter names them (`api`, `discord:<user id>`;
    /// see `intake::Requester`). The queue stores it and lists by it ([`Scope`]), never
    /// interprets it. `None` is the admin's.
    pub owner: Option<String>,
    /// Where to send this task's webhooks besides the configured endpoints: an API client's
    /// `callbackUrl`, checked by intake. The queue stores it, never calls it.
    pub callback_url: Option<String>,
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Its id, given at enqueue.
    pub id: TaskId,
    /// What to run.
    pub spec: TaskSpec,
    /// Where it is in its life.
    pub status: TaskStatus,
    /// How long the worker lets it run.
    pub timeout: Duration,
    /// Only this worker may claim it; any worker when `None`.
    pub target_worker: Option<String>,
    /// The worker that claimed it.
    pub worker: Option<String>,
    /// The adapter's opaque data, as given at enqueue.
    pub origin: Option<serde_json::Value>,
    /// Who it belongs to, as given at enqueue. `None` on tasks stored before owners were
    /// recorded: those are the admin's, seen only by a [`Scope::All`].
    pub owner: Option<String>,
    /// A client asked to cancel it while it ran; the worker hears it on its next heartbeat.
    pub cancel_requested: bool,
    /// When it was enqueued.
    pub created_at: EpochMillis,
    /// When a worker last claimed it (cleared if the offer went unaccepted).
    pub started_at: Option<EpochMillis>,
    /// When it reached a final status.
    pub completed_at: Option<EpochMillis>,
    /// The result, once finished. Tasks that end without a worker report (expired, lost,
    /// cancelled while queued) carry an outcome with `error` saying why.
    pub outcome: Option<TaskOutcome>,
    /// The worker's approval request, once it made one (kept after the answer, as a record).
    pub approval: Option<PendingApproval>,
}

/// Which tasks a listing or a count covers, and which single task a requester may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every task, whoever owns it (the admin's view).
    All,
    /// Only the tasks of this owner (as [`NewTask::owner`] names them). Tasks without an
    /// owner are never in it.
    OwnedBy(String),
}

impl Scope {
    /// Whether `task` is in this scope.
    pub fn covers(&self, task: &Task) -> bool {
        match self {
            Scope::All => true,
            Scope::OwnedBy(owner) => task.owner.as_deref() == Some(owner.as_str()),
        }
    }

    /// The owner this scope is limited to; `None` for every task.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::OwnedBy(owner) => Some(owner),
        }
    }
}

/// A task as lists show it: what it is and where it stands. Read from the few columns
/// lists need, never from the spec's content or the result's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskBrief {
    /// Its id.
    pub id: TaskId,
    /// What kind of task it is.
    pub kind: TaskKind,
    /// Where it is in its life.
    pub status: TaskStatus,
    /// [`TaskSpec::summary`], cut to [`BRIEF_SUMMARY_CHARS`] characters (then ending in `…`).
    pub summary: String,
    /// Only this worker may claim it; any worker when `None`.
    pub target_worker: Option<String>,
    /// The worker that claimed it.
    pub worker: Option<String>,
    /// When it was enqueued.
    pub created_at: EpochMillis,
    /// When it reached a final status.
    pub completed_at: Option<EpochMillis>,
    /// The process's exit code, once finished with one.
    pub exit_code: Option<i32>,
    /// Who created it (see [`NewTask::owner`]); `None` for tasks from before owners.
    pub owner: Option<String>,
}

impl TaskBrief {
    /// The summary a brief of `spec` carries: [`TaskSpec::summary`], cut to
    /// [`BRIEF_SUMMARY_CHARS`] characters.
    pub fn summary_of(spec: &TaskSpec) -> String {
        let summary = spec.summary();
        match summary.char_indices().nth(BRIEF_SUMMARY_CHARS) {
            Some((cut, _)) => format!("{}…", &summary[..cut]),
            None => summary,
        }
    }
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

/// What the worker says about an approval, as the queue records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalProgress {
    /// The task now waits for the owner.
    Requested {
        /// Short code of the exact task the worker will run.
        fingerprint: String,
        /// The command or path, as the worker will run it.
        summary: String,
        /// When the request lapses on the worker.
        expires_at: EpochMillis,
    },
    /// The worker verified an approval; the task runs.
    Approved,
    /// The worker refused the relayed answer; the task keeps waiting.
    Rejected {
        /// Why, in the worker's words.
        reason: String,
    },
}

/// What storing a worker's result did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The result was stored and the task is now final.
    Stored,
    /// The result ended a task that had been marked `lost` when its lease lapsed: the
    /// worker was out of touch, not gone. It is stored flagged late (`metadata.late`).
    StoredLate,
    /// The same result was already stored under this lease: nothing changed.
    Duplicate,
}

/// The metadata key (`true`) of a result delivered after its task was marked `lost`: the
/// task's status and output are the worker's, and the flag says why it came so late.
pub const LATE_RESULT_KEY: &str = "late";

/// `outcome` as stored when it arrives after its task was marked `lost`: flagged with
/// [`LATE_RESULT_KEY`] in its metadata.
pub fn flagged_late(outcome: &TaskOutcome) -> TaskOutcome {
    let mut late = outcome.clone();
    late.metadata
        .insert(LATE_RESULT_KEY.to_owned(), serde_json::Value::Bool(true));
    late
}
