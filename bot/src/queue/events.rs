//! Events the queue publishes on its broadcast channel.

use openclaw_shared::{TaskId, TaskStatus};

/// Something happened to a task. Adapters react to these (a `?wait` returns, Discord edits
/// a message) without the queue knowing who listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEvent {
    /// A task was put on the queue (new, or back after an offer no worker accepted).
    Queued {
        /// The task.
        id: TaskId,
    },
    /// A worker claimed it and it is running.
    Claimed {
        /// The task.
        id: TaskId,
        /// The worker running it.
        worker: String,
    },
    /// Its worker wants the owner's approval before running it.
    AwaitingApproval {
        /// The task.
        id: TaskId,
    },
    /// The worker refused a relayed approval (e.g. a wrong code); the task keeps waiting.
    ApprovalRejected {
        /// The task.
        id: TaskId,
        /// Why, in the worker's words.
        reason: String,
    },
    /// It reached a final status.
    Finished {
        /// The task.
        id: TaskId,
        /// The final status.
        status: TaskStatus,
    },
}

impl TaskEvent {
    /// The task the event is about.
    pub fn task_id(&self) -> TaskId {
        match self {
            TaskEvent::Queued { id }
            | TaskEvent::Claimed { id, .. }
            | TaskEvent::AwaitingApproval { id }
            | TaskEvent::ApprovalRejected { id, .. }
            | TaskEvent::Finished { id, .. } => *id,
        }
    }
}
