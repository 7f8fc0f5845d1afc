//! JSON shapes of the client API: the original's requests parse, and views keep its fields.

use super::*;
use serde_json::json;

#[test]
fn original_command_request_parses() {
    let req: CreateCommandRequest =
        serde_json::from_value(json!({"command": "ls -la", "timeout": 30000})).unwrap();
    assert_eq!(req.command, "ls -la");
    assert_eq!(req.timeout, Some(30000));
    assert_eq!(req.common, CommonFields::default());
}

#[test]
fn claude_request_takes_session_id_in_both_spellings() {
    for body in [
        json!({"prompt": "hi", "sessionId": "s1"}),
        json!({"prompt": "hi", "session_id": "s1"}),
    ] {
        let req: ClaudeRequest = serde_json::from_value(body).unwrap();
        assert_eq!(req.session_id.as_deref(), Some("s1"));
    }
}

#[test]
fn unfinished_statuses_are_only_the_originals_two_words() {
    for status in TaskStatus::ALL {
        let word = client_status(status);
        if status.is_terminal() {
            assert_eq!(word, status.as_str());
        } else {
            assert!(["pending", "running"].contains(&word), "{status}: {word}");
        }
    }
    assert_eq!(client_status(TaskStatus::AwaitingApproval), "pending");
}

#[test]
fn claude_request_may_ask_for_a_new_session() {
    let req: ClaudeRequest =
        serde_json::from_value(json!({"prompt": "hi", "sessionId": "s1", "newSession": true}))
            .unwrap();
    assert!(req.new_session);
    let plain: ClaudeRequest = serde_json::from_value(json!({"prompt": "hi"})).unwrap();
    assert!(!plain.new_session);
}

#[test]
fn unfinished_view_has_only_the_original_fields_and_ours() {
    let view = TaskView {
        task_id: "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11".parse().unwrap(),
        status: client_status(TaskStatus::Queued).into(),
        state: TaskStatus::Queued,
        kind: TaskKind::Command,
        message: Some("Result not ready yet".into()),
        worker: None,
        owner: None,
        priority: None,
        created_at: 1,
        started_at: None,
        stdout: None,
        stderr: None,
        exit_code: None,
        signal: None,
        error: None,
        completed_at: None,
        metadata: None,
        encoding: None,
        stdout_truncated: None,
        stderr_truncated: None,
        stdout_omitted_bytes: None,
        stderr_omitted_bytes: None,
        duration_ms: None,
        fingerprint: None,
        approval: None,
        attachments: None,
    };
    assert_eq!(
        serde_json::to_value(&view).unwrap(),
        json!({
            "taskId": "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11",
            "status": "pending",
            "state": "queued",
            "kind": "command",
            "message": "Result not ready yet",
            "createdAt": 1
        })
    );
}

#[test]
fn finished_view_keeps_null_error_and_exit_code() {
    let view = TaskView {
        task_id: TaskId::new(),
        status: "succeeded".into(),
        state: TaskStatus::Succeeded,
        kind: TaskKind::Command,
        message: None,
        worker: Some("mac".into()),
        owner: Some("api".into()),
        priority: Some(5),
        created_at: 1,
        started_at: Some(2),
        stdout: Some("hi\n".into()),
        stderr: Some(String::new()),
        exit_code: Some(Some(0)),
        signal: None,
        error: Some(None),
        completed_at: Some(3),
        metadata: Some(serde_json::Map::new()),
        encoding: Some(ContentEncoding::Utf8),
        stdout_truncated: Some(false),
        stderr_truncated: Some(false),
        stdout_omitted_bytes: None,
        stderr_omitted_bytes: None,
        duration_ms: Some(1),
        fingerprint: None,
        approval: None,
        attachments: None,
    };
    let value = serde_json::to_value(&view).unwrap();
    assert_eq!(value["error"], serde_json::Value::Null);
    assert_eq!(value["exitCode"], json!(0));
    assert_eq!(value["completedAt"], json!(3));
    assert_eq!(value["encoding"], json!("utf8"));
    assert_eq!(value["owner"], json!("api"));
}

#[test]
fn a_scheduled_task_is_a_create_body_with_its_kind() {
    let body = json!({
        "cron": "*/5 * * * *",
        "tz": "Europe/Berlin",
        "task": {"kind": "command", "command": "uptime", "timeout": 5000, "priority": 8},
    });

    let req: CreateScheduleRequest = serde_json::from_value(body).unwrap();
    let ScheduledTask::Command(command) = &req.task else {
        panic!("{:?}", req.task)
    };

    assert_eq!(command.command, "uptime");
    assert_eq!(command.common.priority, Some(8));
    assert!(!req.preview);
    assert_eq!(
        serde_json::to_value(&req.task).unwrap(),
        json!({"kind": "command", "command": "uptime", "timeout": 5000, "priority": 8})
    );
    let unknown = json!({"cron": "* * * * *", "task": {"kind": "shell", "command": "x"}});
    assert!(serde_json::from_value::<CreateScheduleRequest>(unknown).is_err());
}

#[test]
fn a_create_request_carries_a_callback_url_as_callback_url_in_camel_case() {
    let req: CreateCommandRequest = serde_json::from_value(
        json!({"command": "true", "callbackUrl": "https://hooks.example.com/x"}),
    )
    .unwrap();

    assert_eq!(
        req.common.callback_url.as_deref(),
        Some("https://hooks.example.com/x")
    );
    assert_eq!(
        serde_json::to_value(&req.common).unwrap(),
        json!({"callbackUrl": "https://hooks.example.com/x"})
    );
}

#[test]
fn live_output_views_keep_their_camel_case_shape() {
    let id: TaskId = "00000000-0000-0000-0000-000000000002".parse().unwrap();
    let view = TaskOutputView {
        task_id: id,
        status: "running".into(),
        finished: false,
        start: 0,
        end: 7,
        text: "tick 1\n".into(),
    };
    let end = OutputEnd {
        task_id: id,
        status: "succeeded".into(),
        exit_code: Some(0),
    };

    assert_eq!(
        serde_json::to_value(&view).unwrap(),
        json!({"taskId": "00000000-0000-0000-0000-000000000002", "status": "running",
               "finished": false, "start": 0, "end": 7, "text": "tick 1\n"})
    );
    assert_eq!(
        serde_json::to_value(&end).unwrap(),
        json!({"taskId": "00000000-0000-0000-0000-000000000002", "status": "succeeded",
               "exitCode": 0})
    );
    let piece: OutputPiece = serde_json::from_value(json!({"offset": 3, "text": "x"})).unwrap();
    assert_eq!((piece.offset, piece.text.as_str()), (3, "x"));
}
