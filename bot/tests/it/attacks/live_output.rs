//! Forged live output: a piece under a made-up lease, from another worker, for a task that
//! has ended. Each is refused and shows nowhere; live output never touches a result.

use openclaw_shared::{LeaseId, TaskId};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{claimed_with, per_worker_app, report_with, view, MAC, MINI};
use crate::helpers::{assert_error, within, TestApp, CLIENT, WORKER};

/// A piece of live output for `id` as `worker` with `token` and `lease`.
async fn piece(
    app: &TestApp,
    token: &str,
    id: TaskId,
    worker: &str,
    lease: LeaseId,
    text: &str,
) -> (StatusCode, Value) {
    let body = json!({"worker": worker, "lease": lease, "offset": 0, "text": text});
    let path = format!("/v1/worker/tasks/{id}/output");
    app.post(&path, Some(token), &body).await
}

/// What a client sees of the task's live output.
async fn shown(app: &TestApp, id: TaskId) -> Value {
    let (status, output) = app.get(&format!("/tasks/{id}/output"), Some(CLIENT)).await;
    assert_eq!(status, StatusCode::OK, "{output}");
    output
}

#[tokio::test]
async fn a_piece_under_a_made_up_lease_is_refused_and_shows_nowhere() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("id").await;
        let lease = app.claim("mac").await[0].lease;

        let forged = piece(&app, WORKER, id, "mac", LeaseId::new(), "forged\n").await;

        assert_error(&forged, StatusCode::CONFLICT, "lease_mismatch", "");
        assert_eq!(shown(&app, id).await["text"], "");
        let (status, ack) = piece(&app, WORKER, id, "mac", lease, "real\n").await;
        assert_eq!(status, StatusCode::OK, "{ack}");
        assert_eq!(ack["end"], 5);
        assert_eq!(shown(&app, id).await["text"], "real\n");
    })
    .await
}

#[tokio::test]
async fn another_workers_piece_is_403_even_with_the_right_lease() {
    within(async {
        let app = per_worker_app().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;
        let lease = claimed_with(&app, MAC, "mac").await[0].lease;

        let posing = piece(&app, MINI, id, "mac", lease, "forged\n").await;
        let own_name = piece(&app, MINI, id, "mini", lease, "forged\n").await;

        assert_error(
            &posing,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert_error(&own_name, StatusCode::FORBIDDEN, "forbidden", "");
        assert_eq!(shown(&app, id).await["text"], "");
    })
    .await
}

#[tokio::test]
async fn a_piece_after_the_result_is_refused_and_the_result_stands() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("id").await;
        let lease = app.claim("mac").await[0].lease;
        let (status, _) = report_with(&app, WORKER, id, "mac", lease, "the result").await;
        assert_eq!(status, StatusCode::OK);
        let before = view(&app, id).await;

        let late = piece(&app, WORKER, id, "mac", lease, "rewritten\n").await;

        assert_error(&late, StatusCode::CONFLICT, "conflict", "succeeded");
        assert_eq!(view(&app, id).await, before, "a piece changed the result");
        let output = shown(&app, id).await;
        assert_eq!(output["finished"], true);
        assert_eq!(output["text"], "the result");
    })
    .await
}
