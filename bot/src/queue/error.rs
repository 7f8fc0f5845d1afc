//! Why a queue operation failed, in the queue's terms; adapters map each variant to their
//! own words (an HTTP status, a Discord reply).

use openclaw_shared::client::ScheduleId;
use openclaw_shared::{TaskId, TaskStatus};

use super::quota::Quota;
use super::store::{Refusal, StoreError};

/// Why a queue operation failed. Each variant maps to one HTTP status in the API layer.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No task has this id (404), or it was pruned.
    #[error("task {0} not found")]
    NotFound(TaskId),
    /// No schedule has this id (404), or it is not the caller's.
    #[error("schedule {0} not found")]
    ScheduleNotFound(ScheduleId),
    /// The task is held by another worker (403: a worker may report only its own tasks).
    #[error("task {0} is not held by this worker")]
    NotHolder(TaskId),
    /// The lease is not the task's current one (409).
    #[error("lease does not match the current lease of task {0}")]
    LeaseMismatch(TaskId),
    /// The task's state does not allow this (409), e.g. cancelling a finished task, or a
    /// different result for a task already finished.
    #[error("task {id} is {status}")]
    Conflict {
        /// The task.
        id: TaskId,
        /// The status that does not allow it.
        status: TaskStatus,
    },
    /// An approval named a fingerprint that is not the one the task awaits (409).
    #[error("fingerprint does not match the approval task {0} is waiting for")]
    FingerprintMismatch(TaskId),
    /// Storing this would pass a quota (tasks live at once, bytes stored, a task's
    /// attachments); nothing was stored. The quota says which, with its limit.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(Quota),
    /// The worker already has as many claims in progress as it may (429): a worker needs
    /// one long poll at a time.
    #[error(
        "worker {worker:?} already has {limit} claims waiting \
         (quota.max_waiting_claims_per_worker); retry when one ends"
    )]
    TooManyClaims {
        /// The worker named by the claim.
        worker: String,
        /// How many claims it may have at once.
        limit: usize,
    },
    /// The task names an agent session another owner's tasks ran in (403): one owner's
    /// conversation, with what it holds, is never continued by another.
    #[error("sessionId names a session of another user; start a new one")]
    SessionOfAnother,
    /// The store failed (500): not the caller's fault.
    #[error("task store failed")]
    Store(#[from] StoreError),
}

/// The error for a change to task `id` the store refused.
pub(super) fn refused(id: TaskId, refusal: Refusal) -> QueueError {
    match refusal {
        Refusal::NotFound => QueueError::NotFound(id),
        Refusal::NotHolder => QueueError::NotHolder(id),
        Refusal::LeaseMismatch => QueueError::LeaseMismatch(id),
        Refusal::Conflict(status) => QueueError::Conflict { id, status },
        Refusal::OverQuota(quota) => QueueError::QuotaExceeded(quota),
        Refusal::SessionOfAnother => QueueError::SessionOfAnother,
    }
}
