//! The task queue: the product's core. Durable (SQLite), lease-based, and push-driven
//! (long-polls are woken by events, never by rescans). Knows nothing of HTTP or Discord.
//!
//! Adapters (the HTTP API, the Discord bot) hold a [`Queue`] handle and call its methods;
//! they learn about changes by [`Queue::subscribe`]-ing to [`TaskEvent`]s.
//!
//! # Layout
//! The [`Queue`] handle's methods, by noun:
//! - `handle`: the handle itself: open, enqueue, get, list, wait, cancel, events, stats.
//! - `lease`: claims (offers), heartbeats, results.
//! - `sweep`: requeued offers, expiry, lost leases, pruning.
//! - `approvals`, `attachments`, `delivery`: what happens around a result.
//!
//! The data they work with: `task` (what is stored about a task), `settings`, `events`,
//! `error`, `workers` (the worker registry: names admitted, who vouched, who polled) and
//! `visits` (a worker's request, admitted to it), `clock`.
//!
//! Storage sits behind [`Store`] (`store`): a few small traits, one per noun, in the queue's
//! own types. `sqlite` implements them; no SQL or rusqlite type is seen outside it.

mod approvals;
mod attachments;
mod clock;
mod delivery;
mod error;
mod events;
mod handle;
mod lease;
mod settings;
mod sqlite;
mod store;
mod sweep;
mod task;
mod visits;
mod workers;

pub use clock::now_millis;
pub use error::QueueError;
pub use events::TaskEvent;
pub use handle::Queue;
pub use lease::Claim;
pub use settings::QueueSettings;
pub use store::{
    ApprovalStore, AttachmentStore, DeliveryStore, LapsedOffers, LeaseStore, Refusal, Store,
    StoreError, SweepStore, TaskStore,
};
pub use sweep::SweepReport;
pub use task::{ApprovalProgress, Completion, NewTask, PendingApproval, Scope, Task};
pub use visits::WorkerVisit;
pub use workers::{QueueStats, TooManyWorkers, Voucher, WorkerInfo};

#[cfg(test)]
mod tests;
