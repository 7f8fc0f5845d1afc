//! The worker protocol, version 1 (`/v1/worker/...`): how a worker claims tasks, keeps its
//! leases alive and reports results. Only the worker makes requests; the server never
//! connects to the worker.

use serde::{Deserialize, Serialize};

use crate::task::{LeaseId, TaskId, TaskOutcome, TaskSpec};
use crate::EpochMillis;

/// The path prefix of this protocol version.
pub const WORKER_API_PREFIX: &str = "/v1/worker";
/// Longest a claim is held open when no task is queued (the server caps `wait_ms` to this).
pub const MAX_CLAIM_WAIT_MS: u64 = 30_000;
/// Most tasks handed out by one claim.
pub const MAX_CLAIM_SLOTS: u32 = 64;
/// Longest worker name.
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
    /// E.g. `landlock (ABI 7) + seccomp`, `seatbelt (sandbox-exec)`,
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
    pub worker: String,
    pub slots: u32,
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
    pub id: TaskId,
    pub lease: LeaseId,
    pub spec: TaskSpec,
    /// How long the task may run before the worker kills it.
    pub timeout_ms: u64,
    /// How long the lease lasts without a heartbeat, once accepted.
    pub lease_ttl_ms: u64,
    /// How long the offer stands before a heartbeat accepts it (0 from a server older than
    /// offers: accept at once all the same).
    #[serde(default)]
    pub offer_ttl_ms: u64,
    pub created_at: EpochMillis,
}

/// The answer to a claim: empty when the wait ran out. Its tasks are offers, to accept by a
/// heartbeat before running (see [`ClaimedTask`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    pub tasks: Vec<ClaimedTask>,
}

/// One lease a worker holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLease {
    pub task_id: TaskId,
    pub lease: LeaseId,
}

/// `POST /v1/worker/heartbeat`: extends every lease the worker holds, and tells the server
/// the worker is alive even when it holds none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    pub worker: String,
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
    /// its result will not be accepted.
    Gone,
}

/// One entry of a heartbeat answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseReport {
    pub task_id: TaskId,
    pub state: LeaseState,
    /// The owner's answer to this task's approval request, relayed once. The server cannot
    /// verify it (the TOTP secret lives only on the Mac): the worker does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalDecision>,
}

/// What the owner answered to an approval request, as relayed by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run it: `code` is the current TOTP code, `fingerprint` the one the owner typed.
    Approve { fingerprint: String, code: String },
    /// Do not run it.
    Deny,
}

/// `POST /v1/worker/tasks/:id/approval`: the worker tells the server where a task it holds
/// stands with respect to approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalUpdate {
    pub worker: String,
    pub lease: LeaseId,
    pub state: ApprovalState,
}

/// An approval's progress, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApprovalState {
    /// The policy wants the owner's approval: the task waits as `awaiting_approval`.
    Requested {
        /// Short code of the exact task the worker will run (shown to the owner).
        fingerprint: String,
        /// What will run, as the worker sees it (the command or path), for display.
        summary: String,
        /// When the request lapses (the worker then reports the task `denied`).
        expires_at: EpochMillis,
    },
    /// The worker verified an approval: the task runs (back to `running`).
    Approved,
    /// The worker refused a relayed approval (wrong or replayed code, other fingerprint);
    /// the task keeps waiting. `reason` is shown to the owner.
    Rejected { reason: String },
}

/// The answer to a heartbeat, one entry per lease sent, in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    pub leases: Vec<LeaseReport>,
    /// How long each `active` lease now lasts.
    pub lease_ttl_ms: u64,
}

/// `POST /v1/worker/tasks/:id/result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRequest {
    pub worker: String,
    pub lease: LeaseId,
    pub outcome: TaskOutcome,
}

/// The answer to a result. Reporting the same result twice is a no-op that answers
/// `duplicate: true`, so a worker can retry until it hears back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultAck {
    pub duplicate: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::OutcomeStatus;
    use serde_json::json;

    #[test]
    fn worker_names_are_plain() {
        assert!(is_valid_worker_name("mac-mini_2.local"));
        assert!(!is_valid_worker_name(""));
        assert!(!is_valid_worker_name("a b"));
        assert!(!is_valid_worker_name("<@everyone>"));
        assert!(!is_valid_worker_name(&"a".repeat(65)));
    }

    #[test]
    fn attachment_names_are_plain_file_names() {
        assert!(is_valid_attachment_name("screenshot.png"));
        assert!(!is_valid_attachment_name(".hidden"));
        assert!(!is_valid_attachment_name("../etc/passwd"));
        assert!(!is_valid_attachment_name("a/b.png"));
        assert!(!is_valid_attachment_name(""));
    }

    #[test]
    fn images_are_recognised_by_content_only() {
        assert_eq!(
            sniff_image_type(b"\x89PNG\r\n\x1a\nrest"),
            Some("image/png")
        );
        assert_eq!(
            sniff_image_type(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(sniff_image_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(
            sniff_image_type(b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(
            sniff_image_type(b"-----BEGIN OPENSSH PRIVATE KEY-----"),
            None
        );
        assert_eq!(sniff_image_type(b""), None);
    }

    #[test]
    fn claim_round_trips() {
        let claimed = ClaimResponse {
            tasks: vec![ClaimedTask {
                id: TaskId::new(),
                lease: LeaseId::new(),
                spec: TaskSpec::Command {
                    command: "true".into(),
                    cwd: None,
                },
                timeout_ms: 30_000,
                lease_ttl_ms: 60_000,
                offer_ttl_ms: 10_000,
                created_at: 5,
            }],
        };
        let text = serde_json::to_string(&claimed).unwrap();
        assert_eq!(
            serde_json::from_str::<ClaimResponse>(&text).unwrap(),
            claimed
        );
    }

    #[test]
    fn a_claim_from_a_server_without_offers_still_parses() {
        let task: ClaimedTask = serde_json::from_value(json!({
            "id": "00000000-0000-0000-0000-000000000001",
            "lease": "00000000-0000-0000-0000-000000000002",
            "spec": {"kind": "command", "command": "true"},
            "timeout_ms": 30_000,
            "lease_ttl_ms": 60_000,
            "created_at": 5
        }))
        .unwrap();

        assert_eq!(task.offer_ttl_ms, 0);
    }

    #[test]
    fn a_heartbeat_carries_the_sandbox_report_and_older_ones_still_parse() {
        let beat = HeartbeatRequest {
            worker: "mac".into(),
            leases: Vec::new(),
            sandbox: Some(SandboxReport {
                enforced: true,
                detail: "landlock (ABI 7) + seccomp".into(),
            }),
        };

        assert_eq!(
            serde_json::to_value(&beat).unwrap(),
            json!({"worker": "mac", "leases": [],
                   "sandbox": {"enforced": true, "detail": "landlock (ABI 7) + seccomp"}})
        );
        let old: HeartbeatRequest = serde_json::from_value(json!({"worker": "mac"})).unwrap();
        assert_eq!(old.sandbox, None);
    }

    #[test]
    fn sandbox_reports_with_control_characters_or_too_long_are_invalid() {
        let report = |detail: &str| SandboxReport {
            enforced: true,
            detail: detail.into(),
        };

        assert!(report("seatbelt (sandbox-exec)").is_valid());
        assert!(!report("ok\n🟢 `impostor`").is_valid());
        assert!(!report(&"x".repeat(MAX_SANDBOX_DETAIL_LEN + 1)).is_valid());
    }

    #[test]
    fn lease_state_golden_strings() {
        assert_eq!(
            serde_json::to_value([
                LeaseState::Active,
                LeaseState::CancelRequested,
                LeaseState::Gone
            ])
            .unwrap(),
            json!(["active", "cancel_requested", "gone"])
        );
    }

    #[test]
    fn approval_wire_shapes_are_tagged() {
        let update = ApprovalUpdate {
            worker: "mac".into(),
            lease: LeaseId(uuid::Uuid::nil()),
            state: ApprovalState::Requested {
                fingerprint: "ABCD2345".into(),
                summary: "rm -rf build".into(),
                expires_at: 7,
            },
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            json!({
                "worker": "mac",
                "lease": "00000000-0000-0000-0000-000000000000",
                "state": {"state": "requested", "fingerprint": "ABCD2345", "summary": "rm -rf build", "expires_at": 7}
            })
        );
        let decision: ApprovalDecision = serde_json::from_value(
            json!({"decision": "approve", "fingerprint": "ABCD2345", "code": "123456"}),
        )
        .unwrap();
        assert!(matches!(decision, ApprovalDecision::Approve { .. }));
        let report = LeaseReport {
            task_id: TaskId(uuid::Uuid::nil()),
            state: LeaseState::Active,
            approval: None,
        };
        assert!(serde_json::to_value(report)
            .unwrap()
            .get("approval")
            .is_none());
    }

    #[test]
    fn result_request_round_trips() {
        let req = ResultRequest {
            worker: "mac".into(),
            lease: LeaseId::new(),
            outcome: TaskOutcome::failure("old_string not found"),
        };
        let back: ResultRequest =
            serde_json::from_str(&serde_json::to_string(&req).unwrap()).unwrap();
        assert_eq!(back, req);
        assert_eq!(back.outcome.status, OutcomeStatus::Failed);
    }
}
