//! Reports pinned without a transport: cutting long output, expiry in words, and the API's
//! task view read as the tools read it (today's shape, and one with an `approval` object).

use super::*;
use serde_json::json;

#[test]
fn long_output_keeps_its_head_and_its_tail() {
    let output: String = (0..20_000).map(|n| format!("{n}\n")).collect();

    let (text, omitted) = shown(&output);

    assert!(text.starts_with("0\n1\n"));
    assert!(text.ends_with("19999\n"));
    assert!(text.len() < MAX_SHOWN_BYTES + 100);
    assert_eq!(omitted, output.len() - (MAX_SHOWN_BYTES));
}

#[test]
fn cuts_fall_on_character_boundaries() {
    let output = "é".repeat(MAX_SHOWN_BYTES);

    let (text, omitted) = shown(&output);

    assert!(omitted > 0);
    assert!(text.starts_with('é') && text.ends_with('é'));
}

#[test]
fn expiry_reads_as_time_from_now() {
    let now = crate::queue::now_millis();

    assert_eq!(from_now(now + 30_000), "in about 30 s");
    assert_eq!(from_now(now + 299_500), "in about 5 min");
    assert_eq!(from_now(now.saturating_sub(1)), "already passed");
}

fn view(status: &str, extra: Value) -> (TaskView, Value) {
    let mut raw = json!({
        "taskId": "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11",
        "status": status,
        "kind": "command",
        "createdAt": 1,
    });
    if let (Value::Object(raw), Value::Object(extra)) = (&mut raw, extra) {
        raw.extend(extra);
    }
    (serde_json::from_value(raw.clone()).unwrap(), raw)
}

#[test]
fn an_approval_wait_is_read_from_todays_view_and_from_an_approval_object() {
    let (today, raw) = view(
        "awaiting_approval",
        json!({ "fingerprint": "K7Q2-9XRM", "message": "Awaiting the owner's approval on the worker: rm -rf ~/x" }),
    );
    let (compat, compat_raw) = view(
        "pending",
        json!({ "approval": { "fingerprint": "K7Q2-9XRM", "expiresAt": 1_900_000_000_000_u64 } }),
    );

    let today = TaskReport::from_view(today, &raw);
    let compat = TaskReport::from_view(compat, &compat_raw);

    assert_eq!(today.status, "awaiting_approval");
    let approval = today.approval.unwrap();
    assert_eq!(approval.fingerprint, "K7Q2-9XRM");
    assert_eq!(approval.summary.as_deref(), Some("rm -rf ~/x"));
    assert_eq!(compat.status, "awaiting_approval");
    assert_eq!(compat.approval.unwrap().expires_at, Some(1_900_000_000_000));
    assert!(!compat.finished);
}

#[test]
fn a_finished_view_carries_its_result_and_says_what_was_left_out() {
    let long = "y\n".repeat(MAX_SHOWN_BYTES);
    let (done, raw) = view(
        "failed",
        json!({ "stdout": long, "stderr": "", "exitCode": 2, "error": "exit 2",
                "stdoutTruncated": true, "durationMs": 5 }),
    );

    let report = TaskReport::from_view(done, &raw);
    let text = report.text(None);

    assert!(report.finished);
    let result = report.result.unwrap();
    assert_eq!(result.exit_code, Some(2));
    assert!(result.truncated_by_worker);
    assert!(result.omitted_bytes > 0);
    assert!(text.contains("Exit code: 2."), "{text}");
    assert!(text.contains("bytes of output are left out here"), "{text}");
    assert!(
        text.contains("The worker cut the output at its size cap."),
        "{text}"
    );
}
