//! The webhook outbox's data: which events there are, and what is stored about each message
//! to each receiver. Plain data, shared by the queue's methods and the store backends.
//!
//! Task events are written by the store in the same transaction as the task's change of
//! status; worker events by the webhook sender when it sees a worker come or go.

use openclaw_shared::{EpochMillis, TaskId};

/// An event a webhook can be sent for, spelled on the wire as [`WebhookEvent::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// A task reached a final status.
    TaskFinished,
    /// A task waits for its owner's approval.
    TaskAwaitingApproval,
    /// A worker was heard from after being unknown or forgotten.
    WorkerOnline,
    /// A worker was not heard from for `queue.worker_expiry_secs`.
    WorkerOffline,
}

impl WebhookEvent {
    /// Every event, in the order the README lists them.
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::TaskFinished,
        WebhookEvent::TaskAwaitingApproval,
        WebhookEvent::WorkerOnline,
        WebhookEvent::WorkerOffline,
    ];

    /// The event's `type`, as payloads and `[[webhooks]] events` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::TaskFinished => "task.finished",
            WebhookEvent::TaskAwaitingApproval => "task.awaiting_approval",
            WebhookEvent::WorkerOnline => "worker.online",
            WebhookEvent::WorkerOffline => "worker.offline",
        }
    }

    /// The event spelled `text`, if there is one.
    pub fn parse(text: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

/// Who a message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookTarget {
    /// An endpoint the operator configured (`[[webhooks]]`), found by its url.
    Endpoint,
    /// The `callbackUrl` an API client gave with its task: untrusted, checked before each
    /// attempt (see the webhook sender's address rules).
    Callback,
}

impl WebhookTarget {
    /// The target as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookTarget::Endpoint => "endpoint",
            WebhookTarget::Callback => "callback",
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookState {
    /// Not yet accepted by the receiver; due again at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: attempts used up, or the message cannot be sent (an endpoint no longer
    /// configured, an address the rules refuse). A manual redeliver makes it pending again.
    Failed,
}

impl WebhookState {
    /// The state as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookState::Pending => "pending",
            WebhookState::Delivered => "delivered",
            WebhookState::Failed => "failed",
        }
    }

    /// The state stored as `text`.
    pub fn parse(text: &str) -> Option<WebhookState> {
        [
            WebhookState::Pending,
            WebhookState::Delivered,
            WebhookState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One message to one receiver, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The Standard Webhooks `webhook-id` (`msg_…`): the same on every attempt.
    pub id: String,
    /// A configured endpoint, or a task's callback.
    pub target: WebhookTarget,
    /// Where it goes.
    pub url: String,
    /// The event's `type` (see [`WebhookEvent::as_str`]).
    pub event: String,
    /// The task it is about, for task events.
    pub task_id: Option<TaskId>,
    /// The JSON body, fixed when the message was written.
    pub payload: String,
    /// When the message was written.
    pub created_at: EpochMillis,
    /// Where it stands.
    pub state: WebhookState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is due next (while pending).
    pub next_attempt_at: EpochMillis,
    /// When the last attempt was made.
    pub last_attempt_at: Option<EpochMillis>,
    /// The receiver's HTTP status on the last attempt, if it answered.
    pub last_status: Option<u16>,
    /// Why the last attempt did not deliver it.
    pub last_error: Option<String>,
}

/// What an attempt came to, as the sender records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered 2xx with this status.
    Delivered {
        /// The receiver's status.
        status: u16,
    },
    /// Not delivered; try again at `retry_at`.
    Retry {
        /// The receiver's status, if it answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// When to try again.
        retry_at: EpochMillis,
    },
    /// Not delivered, and not to be tried again.
    Failed {
        /// The receiver's status, if it answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
    },
}

/// How many messages are in each state, for `/ui`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting for an attempt or a retry.
    pub pending: u64,
    /// Accepted by their receiver.
    pub delivered: u64,
    /// Given up.
    pub failed: u64,
}
