//! Wire-format tests of the worker types: what goes over HTTP stays stable.

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
        accepts_late_result: false,
    };
    assert!(serde_json::to_value(report)
        .unwrap()
        .get("approval")
        .is_none());
}

#[test]
fn late_results_are_flagged_only_when_they_are_late() {
    let lost = LeaseReport {
        task_id: TaskId(uuid::Uuid::nil()),
        state: LeaseState::Gone,
        approval: None,
        accepts_late_result: true,
    };
    let on_time = ResultAck {
        duplicate: false,
        late: false,
    };

    assert_eq!(
        serde_json::to_value(&lost).unwrap(),
        json!({"task_id": "00000000-0000-0000-0000-000000000000", "state": "gone", "accepts_late_result": true})
    );
    assert_eq!(
        serde_json::to_value(on_time).unwrap(),
        json!({"duplicate": false})
    );
    // From a server older than late results: neither field.
    let old: LeaseReport = serde_json::from_value(
        json!({"task_id": "00000000-0000-0000-0000-000000000000", "state": "gone"}),
    )
    .unwrap();
    let old_ack: ResultAck = serde_json::from_value(json!({"duplicate": true})).unwrap();
    assert!(!old.accepts_late_result);
    assert!(!old_ack.late);
}

#[test]
fn result_request_round_trips() {
    let req = ResultRequest {
        worker: "mac".into(),
        lease: LeaseId::new(),
        outcome: TaskOutcome::failure("old_string not found"),
    };
    let back: ResultRequest = serde_json::from_str(&serde_json::to_string(&req).unwrap()).unwrap();
    assert_eq!(back, req);
    assert_eq!(back.outcome.status, OutcomeStatus::Failed);
}

#[test]
fn a_live_output_piece_and_its_answer_keep_their_shape() {
    let lease = LeaseId(uuid::Uuid::from_u128(1));
    let chunk = OutputChunk {
        worker: "mac".into(),
        lease,
        offset: 7,
        text: "tick 2\n".into(),
    };

    assert_eq!(
        serde_json::to_value(&chunk).unwrap(),
        json!({"worker": "mac", "lease": "00000000-0000-0000-0000-000000000001",
               "offset": 7, "text": "tick 2\n"})
    );
    assert_eq!(
        serde_json::to_value(OutputAck { end: 14 }).unwrap(),
        json!({"end": 14})
    );
}
