//! The task queue: the product's core. Durable (SQLite), lease-based, and push-driven
//! (long-polls are woken by events, never by rescans). Knows nothing of HTTP or Discord.
//!
//! Adapters (the HTTP API, the Discord bot) hold a [`Queue`] handle and call its methods;
//! they learn about changes by [`Queue::subscribe`]-ing to [`TaskEvent`]s.
//!
//! # Layout
//! The [`Queue`] handle's methods, by noun:
//! - `handle`: the handle itself: open, enqueue, get, list, wait, cancel, events, stats.
//! - `runner`: the store's own threads, which every store call goes through.
//! - `health`: the store's recent failures and integrity, for health reports.
//! - `lease`: claims (offers), heartbeats, results.
//! - `sweep`: requeued offers, expiry, lost leases, pruning.
//! - `approvals`, `attachments`, `delivery`: what happens around a result.
//! - `schedules`: schedules saved, listed, paused, deleted, and fired one run at a time.
//! - `webhooks`: the webhook outbox (`outbox` holds its data).
//! - `sessions`: agent sessions by owner, and the one each Discord channel continues.
//! - `live`: running tasks' live output, taken under the lease, read and watched.
//!
//! The data they work with: `task` (what is stored about a task), `priority` (the order
//! claims take tasks in), `schedule` and `timetable` (when a schedule runs), `settings`, `events`,
//! `error`, `workers` (the worker registry: names admitted, who vouched, who polled),
//! `visits` (a worker's request, admitted to it), `contact` (leases heard of while the store
//! could not record it), `quota` (what may be stored), `waiters` (who waits for a task, and
//! whom a new task wakes), `tails` (live output, a bounded tail per running task, in
//! memory), `clock`.
//!
//! Storage sits behind [`Store`] (`store`; its failures in `store_error`): a few small
//! traits, one per noun, in the queue's own types. `sqlite` implements them; no SQL or
//! rusqlite type is seen outside it.

mod approvals;
mod attachments;
mod clock;
mod contact;
mod delivery;
mod error;
mod events;
mod handle;
mod health;
mod lease;
mod live;
mod outbox;
mod priority;
mod quota;
mod runner;
mod schedule;
mod schedules;
mod sessions;
mod settings;
mod sqlite;
mod store;
mod store_error;
mod sweep;
mod tails;
mod task;
mod timetable;
mod visits;
mod waiters;
mod webhooks;
mod workers;

pub use clock::now_millis;
pub use error::QueueError;
pub use events::TaskEvent;
pub use handle::Queue;
pub use health::{IntegrityCheck, StorageFailure, StorageReport, RECENT_FAILURE};
pub use lease::Claim;
pub use outbox::{
    AttemptResult, OutboxCounts, WebhookDelivery, WebhookEvent, WebhookState, WebhookTarget,
};
pub use priority::Priority;
pub use quota::{Quota, QuotaSettings, TRUNCATION_NOTE};
pub use schedule::{Fired, Firing, NewSchedule, Schedule};
pub use schedules::MAX_SCHEDULES_LISTED;
pub use sessions::{prompt_excerpt, ChannelBinding, SessionBrief, SESSION_PROMPT_CHARS};
pub use settings::{QueueSettings, StorageSettings, Synchronous};
pub use store::{
    ApprovalStore, AttachmentStore, DeliveryStore, LapsedOffers, LeaseStore, Refusal,
    ScheduleStore, SessionStore, Store, StoreError, StoreFault, SweepStore, TaskStore, Usage,
    WebhookStore,
};
pub use sweep::SweepReport;
pub use tails::{LiveSettings, LiveSlice, ENDED_TAIL_GRACE};
pub use task::{
    ApprovalProgress, Completion, NewTask, PendingApproval, Scope, Task, TaskBrief,
    BRIEF_SUMMARY_CHARS,
};
pub use timetable::{Timetable, TimetableError, MAX_CRON_BYTES};
pub use visits::WorkerVisit;
pub use workers::{QueueStats, TooManyWorkers, Voucher, WorkerInfo};

#[cfg(test)]
mod tests;
