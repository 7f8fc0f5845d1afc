//! Wire types spoken between the OpenClaw bot (cloud), its HTTP clients and the Mac worker.
//!
//! Serde types and pure helpers only: no I/O, no async runtime, no web framework, so both
//! sides (and any third-party client) can depend on it without pulling in the other's stack.
//!
//! # Layout
//! - [`task`]: what a task asks for ([`TaskSpec`]), where it is ([`TaskStatus`]) and what
//!   became of it ([`TaskOutcome`]).
//! - [`client`]: the client HTTP API, compatible with the original OpenClaw Worker.
//! - [`worker`]: the worker protocol (`/v1/worker/...`): claims, heartbeats, results.
//! - [`error`]: the one JSON error body every endpoint returns.

pub mod client;
pub mod error;
pub mod task;
pub mod worker;

pub use error::{ErrorBody, ErrorCode};
pub use task::{
    ContentEncoding, LeaseId, OutcomeStatus, TaskId, TaskKind, TaskOutcome, TaskSpec, TaskStatus,
};

/// Milliseconds since the Unix epoch: the one timestamp unit on the wire (the original's
/// `completedAt` is epoch milliseconds, and its clients rely on that).
pub type EpochMillis = u64;
