//! Wire-format tests of the task types: what goes over HTTP stays stable.

use super::*;
use serde_json::json;

#[test]
fn spec_is_tagged_by_kind_in_snake_case() {
    let spec = TaskSpec::FileEdit {
        path: "/tmp/a".into(),
        old_string: "x".into(),
        new_string: "y".into(),
        replace_all: true,
    };
    let value = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        value,
        json!({"kind": "file_edit", "path": "/tmp/a", "old_string": "x", "new_string": "y", "replace_all": true})
    );
    assert_eq!(serde_json::from_value::<TaskSpec>(value).unwrap(), spec);
}

#[test]
fn unknown_kind_is_rejected() {
    let err = serde_json::from_value::<TaskSpec>(json!({"kind": "format_disk"}));
    assert!(err.is_err());
}

#[test]
fn write_encoding_defaults_to_utf8_and_accepts_dash_spelling() {
    let spec: TaskSpec =
        serde_json::from_value(json!({"kind": "file_write", "path": "p", "content": ""})).unwrap();
    assert!(matches!(
        spec,
        TaskSpec::FileWrite {
            encoding: ContentEncoding::Utf8,
            ..
        }
    ));
    let enc: ContentEncoding = serde_json::from_value(json!("utf-8")).unwrap();
    assert_eq!(enc, ContentEncoding::Utf8);
}

#[test]
fn status_round_trips_through_its_string() {
    for status in TaskStatus::ALL {
        assert_eq!(status.as_str().parse::<TaskStatus>().unwrap(), status);
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            json!(status.as_str())
        );
    }
    assert!("pending".parse::<TaskStatus>().is_err());
}

#[test]
fn only_queued_running_and_awaiting_approval_are_live() {
    let live: Vec<_> = TaskStatus::ALL
        .into_iter()
        .filter(|s| !s.is_terminal())
        .collect();
    assert_eq!(
        live,
        [
            TaskStatus::Queued,
            TaskStatus::Running,
            TaskStatus::AwaitingApproval
        ]
    );
}

#[test]
fn outcome_fills_defaults_for_missing_fields() {
    let outcome: TaskOutcome = serde_json::from_value(json!({"status": "timed_out"})).unwrap();
    assert_eq!(outcome, TaskOutcome::new(OutcomeStatus::TimedOut));
}

#[test]
fn claude_spec_carries_its_session_and_reads_the_old_session_id() {
    let spec = TaskSpec::Claude {
        prompt: "hi".into(),
        session: Some(AgentSession::start("s-1")),
        cwd: None,
    };
    assert_eq!(
        serde_json::to_value(&spec).unwrap(),
        json!({"kind": "claude", "prompt": "hi", "session": {"id": "s-1", "new": true}})
    );
    let old: TaskSpec =
        serde_json::from_value(json!({"kind": "claude", "prompt": "hi", "session_id": "s-1"}))
            .unwrap();
    assert_eq!(old.session(), Some(&AgentSession::resume("s-1")));
}

#[test]
fn agent_spec_names_its_agent() {
    let spec: TaskSpec =
        serde_json::from_value(json!({"kind": "agent", "agent": "codex", "prompt": "hi"})).unwrap();
    assert_eq!(spec.kind(), TaskKind::Agent);
    assert_eq!(spec.agent(), Some("codex"));
    assert_eq!(spec.summary(), "codex: hi");
}
