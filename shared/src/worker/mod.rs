//! The worker protocol, version 1 (`/v1/worker/...`): how a worker claims tasks, keeps its
//! leases alive and reports results. Only the worker makes requests; the server never
//! connects to the worker.

mod output;

use serde::{Deserialize, Serialize};

pub use output::{OutputAck, OutputChunk, MAX_OUTPUT_CHUNK_BYTES};

use crate::task::{LeaseId, TaskId, TaskOutcome, TaskSpec};
use crate::EpochMillis;

/// The path prefix of this protocol version.
pub const WORKER_API_PREFIX: &str = "/v1/worker";
/// Longest a claim is held open when no task is queued (the server caps `wait_ms` to this).
pub const MAX_CLAIM_WAIT_MS: u64 = 30_000;
/// Most tasks handed out by one claim.
pub const MAX_CLAIM_SLOTS: u32 = 64;
/// Longest worker name, in bytes.
pub const MAX_WORKER_NAME_LEN: usize = 64;

/// Largest attachment (a screenshot) a worker may upload: Discord's per-file limit.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// Header carrying the worker's name on an attachment upload (its body is the raw file).
pub const WORKER_HEADER: &str = "x-openclaw-worker";
/// Header carrying the lease on an attachment upload.
pub const LEASE_HEADER: &str = "x-openclaw-lease";

/// Whether `name` is a valid attachment name: 1–128 of `A-Z a-z 0-9 . _ -`, not starting
/// with a dot. Names end up as file names in Discord and in URLs, so they are kept plain.
pub fn is_valid_attachment_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The image type of `bytes` by its magic number (PNG, JPEG, GIF, WebP), or `None`.
/// Attachments are images only: the type is read from the content, never from a name or a
/// header the sender chose.
pub fn sniff_image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Whether `name` is a valid worker name: 1–64 of `A-Z a-z 0-9 . _ -`. Names show up in
/// logs and Discord messages, so they are kept plain.
pub fn is_valid_worker_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_WORKER_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Longest [`SandboxReport::detail`] a server accepts.
pub const MAX_SANDBOX_DETAIL_LEN: usize = 200;

/// What a worker says about the kernel sandbox its tasks run in, with every claim and
/// heartbeat, for the operator (`/admin/health`, Discord's `/status`). Informational: the
/// worker enforces its sandbox whatever the server does with this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxReport {
    /// Whether tasks are confined by the kernel. When not, the worker runs nothing that
    /// starts a process without the owner's approval.
    pub enforced: bool,
    /// What confines the tasks, in words for the operator: at most
    /// [`MAX_SANDBOX_DETAIL_LEN`] bytes without control characters, e.g.
    /// `landlock (ABI 7) + seccomp`, `seatbelt (sandbox-exec)`,
    /// `unavailable: Landlock is not enabled in this kernel`.
    pub detail: String,
}

impl SandboxReport {
    /// Whether the report is fit to store and show: a detail of at most
    /// [`MAX_SANDBOX_DETAIL_LEN`] bytes without control characters.
    pub fn is_valid(&self) -> bool {
        self.detail.len() <= MAX_SANDBOX_DETAIL_LEN && !self.detail.chars().any(char::is_control)
    }
}

/// `POST /v1/worker/claim`: "I am `worker`, I have `slots` free; give me up to that many
/// tasks, waiting up to `wait_ms` for one to arrive."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The claiming worker's name ([`is_valid_worker_name`]); a per-worker token may
    /// claim only under its own name. Tasks targeted at another worker are never offered.
    pub worker: String,
    /// How many tasks the worker can start now: 1 to [`MAX_CLAIM_SLOTS`], else a 400.
    pub slots: u32,
    /// How long the server may hold the request open for a task to be queued, in
    /// milliseconds, capped at [`MAX_CLAIM_WAIT_MS`]; 0 (the default) answers at once.
    #[serde(default)]
    pub wait_ms: u64,
    /// The worker's sandbox (absent from workers older than the sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxReport>,
}

/// A task offered to a worker, with the lease that must accompany every later report on it.
///
/// A claim is only an offer: the worker must accept it by heartbeating its lease within
/// `offer_ttl_ms`, and run it only if that heartbeat answers `active`. An offer not
/// accepted in time goes back to the queue (the claim's long poll may have died unseen), so
/// running it without acceptance could run it twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedTask {
    /// The task's id, for its routes under `/v1/worker/tasks/:id/`.
    pub id: TaskId,
    /// This claim's lease: it goes with every heartbeat, approval update, result and
    /// attachment upload for the task. A superseded lease heartbeats as `gone`, and its
    /// results and updates are refused (409 `lease_mismatch`).
    pub lease: LeaseId,
    /// What to do, as the client asked; the worker's own policy checks it before anything
    /// runs.
    pub spec: TaskSpec,
    /// How long the task may run before the worker kills it, in milliseconds: the client's
    /// timeout or its kind's default (the worker also applies its own cap).
    pub timeout_ms: u64,
    /// How long the lease lasts without a heartbeat once accepted, in milliseconds.
    pub lease_ttl_ms: u64,
    /// How long the offer stands before a heartbeat accepts it, in milliseconds (0 from a
    /// server older than offers: accept at once all the same).
    #[serde(default)]
    pub offer_ttl_ms: u64,
    /// When a client created the task, in epoch milliseconds.
    pub created_at: EpochMillis,
}

/// The answer to a claim: empty when the wait ran out. Its tasks are offers, to accept by a
/// heartbeat before running (see [`ClaimedTask`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// The offered tasks, oldest first, at most the claim's `slots`; empty when the wait ran
    /// out or the server is shutting down.
    pub tasks: Vec<ClaimedTask>,
}

/// One lease a worker holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLease {
    /// The task the lease is on.
    pub task_id: TaskId,
    /// The lease from the task's [`ClaimedTask`].
    pub lease: LeaseId,
}

/// `POST /v1/worker/heartbeat`: extends every lease the worker holds, and tells the server
/// the worker is alive even when it holds none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    /// The worker's name, as in [`ClaimRequest::worker`].
    pub worker: String,
    /// Every lease the worker holds, offers it is accepting included; empty (the default)
    /// is a plain sign of life. The server takes at most 1024.
    #[serde(default)]
    pub leases: Vec<HeldLease>,
    /// The worker's sandbox, as in [`ClaimRequest::sandbox`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxReport>,
}

/// What the server says about one lease in a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseState {
    /// Extended; keep running.
    Active,
    /// A client cancelled the task: stop it and report `cancelled`.
    CancelRequested,
    /// The lease is no longer valid (expired and marked lost, or never ours): stop the task;
    /// its result will not be accepted, unless [`LeaseReport::accepts_late_result`] says so.
    Gone,
}

/// One entry of a heartbeat answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseReport {
    /// The task, as in the [`HeldLease`] this entry answers.
    pub task_id: TaskId,
    /// Whether to keep running the task, stop it for a cancel, or drop it.
    pub state: LeaseState,
    /// With [`LeaseState::Gone`]: the server marked the task `lost` when this lease lapsed
    /// (the worker was out of touch: asleep, offline, restarting), but it still takes a
    /// result under this lease, which ends the task with its real outcome, flagged as
    /// delivered late. Keep the task running and report it. Absent (false) otherwise, and
    /// from servers older than late results.
    #[serde(default, skip_serializing_if = "is_false")]
    pub accepts_late_result: bool,
    /// The owner's answer to this task's approval request, relayed once. The server cannot
    /// verify it (the TOTP secret lives only on the Mac): the worker does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalDecision>,
}

/// What the owner answered to an approval request, as relayed by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run it, if the code and fingerprint check out on the worker.
    Approve {
        /// The fingerprint the owner approved, upper-case without spaces or dashes; the
        /// task's own when the client gave none, so the worker checks it all the same.
        fingerprint: String,
        /// The owner's 6-digit TOTP code, spaces removed. The server checked only its
        /// shape; the worker verifies it and refuses a replay.
        code: String,
    },
    /// Do not run it.
    Deny,
}

/// `POST /v1/worker/tasks/:id/approval`: the worker tells the server where a task it holds
/// stands with respect to approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalUpdate {
    /// The worker's name, as in [`ClaimRequest::worker`].
    pub worker: String,
    /// The worker's current lease on the task.
    pub lease: LeaseId,
    /// Where the approval stands; JSON tagged by `state`.
    pub state: ApprovalState,
}

/// An approval's progress, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApprovalState {
    /// The policy wants the owner's approval: the task waits as `awaiting_approval`.
    Requested {
        /// Short code of the exact task the worker will run, shown to the owner: 8
        /// characters of `A-Z 2-7` from this worker (the server takes 4-32 letters and digits).
        fingerprint: String,
        /// What will run, as the worker sees it (the command or path), for display; at most
        /// 4096 bytes.
        summary: String,
        /// When the request lapses, in epoch milliseconds (the worker then reports the task
        /// `denied`).
        expires_at: EpochMillis,
    },
    /// The worker verified an approval: the task runs (back to `running`).
    Approved,
    /// The worker refused a relayed approval (wrong or replayed code, other fingerprint);
    /// the task keeps waiting.
    Rejected {
        /// Why, in words shown to the owner; at most 1024 bytes.
        reason: String,
    },
}

/// The answer to a heartbeat, one entry per lease sent, in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// One report per [`HeldLease`] sent, in the same order.
    pub leases: Vec<LeaseReport>,
    /// How long each `active` lease now lasts without another heartbeat, in milliseconds.
    pub lease_ttl_ms: u64,
}

/// `POST /v1/worker/tasks/:id/result`: the worker reports how a task it holds ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRequest {
    /// The worker's name, as in [`ClaimRequest::worker`].
    pub worker: String,
    /// The worker's current lease on the task; an unknown task is a 404, another worker's
    /// a 403, a superseded lease a 409, and none of them stores anything.
    pub lease: LeaseId,
    /// How the task ended.
    pub outcome: TaskOutcome,
}

/// The answer to a result. Reporting the same result twice is a no-op that answers
/// `duplicate: true`, so a worker can retry until it hears back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultAck {
    /// `true` when this same result was already stored under this lease, so nothing
    /// changed; `false` when this request stored it.
    pub duplicate: bool,
    /// `true` when the result ended a task the server had marked `lost` (see
    /// [`LeaseReport::accepts_late_result`]): it is stored, flagged as delivered late.
    #[serde(default, skip_serializing_if = "is_false")]
    pub late: bool,
}

/// For `skip_serializing_if`: flags that are off are left out of the JSON.
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes the field by reference"
)]
fn is_false(flag: &bool) -> bool {
    !*flag
}

#[cfg(test)]
mod tests;
