//! `GET /tasks/:id/output` over real HTTP, with the worker's pieces posted by hand: the JSON
//! tail, the SSE stream (pieces, then the end), resuming with `Last-Event-ID`, scoping like
//! `GET /tasks/:id`, and bad input refused with our error body.

use std::time::Duration;

use openclaw_bot::queue::NewTask;
use openclaw_shared::{LeaseId, TaskId, TaskSpec};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, success, within, TestApp, ADMIN, CLIENT, WORKER};

/// Posts a piece of `id`'s live output as worker `mac` under `lease`.
pub async fn piece(app: &TestApp, id: TaskId, lease: LeaseId, offset: u64, text: &str) {
    let body = json!({"worker": "mac", "lease": lease, "offset": offset, "text": text});
    let path = format!("/v1/worker/tasks/{id}/output");
    let (status, answer) = app.post(&path, Some(WORKER), &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// The whole SSE body of following `id` from `last_id` (the stream must end).
async fn followed(app: &TestApp, id: TaskId, last_id: Option<&str>) -> String {
    let mut request = app
        .http
        .get(app.url(&format!("/tasks/{id}/output?follow=1")))
        .bearer_auth(CLIENT);
    if let Some(last) = last_id {
        request = request.header("Last-Event-ID", last);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_follower_gets_each_piece_once_then_the_end_and_can_resume_from_an_id() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("make").await;
        let lease = app.claim("mac").await[0].lease;
        piece(&app, id, lease, 0, "one\n").await;
        // Sent again (its answer lost), then with more: only the new text is added.
        piece(&app, id, lease, 0, "one\n").await;
        piece(&app, id, lease, 0, "one\ntwo\n").await;
        let live = app.get(&format!("/tasks/{id}/output"), Some(CLIENT)).await;
        let finish = {
            let app_url = app.url(&format!("/v1/worker/tasks/{id}/result"));
            let http = app.http.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let body = json!({"worker": "mac", "lease": lease, "outcome": success("one\ntwo\n")});
                http.post(app_url).bearer_auth(WORKER).json(&body).send().await
            })
        };

        let whole = followed(&app, id, None).await;
        finish.await.unwrap().unwrap();
        let resumed = followed(&app, id, Some("4")).await;

        assert_eq!(live.0, StatusCode::OK);
        assert_eq!(
            live.1,
            json!({"taskId": id, "status": "running", "finished": false, "start": 0, "end": 8,
                   "text": "one\ntwo\n"})
        );
        assert_eq!(
            whole,
            format!(
                "event: output\nid: 8\ndata: {{\"offset\":0,\"text\":\"one\\ntwo\\n\"}}\n\n\
                 event: end\ndata: {{\"taskId\":\"{id}\",\"status\":\"succeeded\",\"exitCode\":0}}\n\n"
            )
        );
        assert!(
            resumed.starts_with("event: output\nid: 8\ndata: {\"offset\":4,\"text\":\"two\\n\"}\n\n"),
            "{resumed}"
        );
        assert!(resumed.ends_with("\"status\":\"succeeded\",\"exitCode\":0}\n\n"));
    })
    .await
}

#[tokio::test]
async fn another_owners_task_is_a_404_and_bad_parameters_get_our_error_body() {
    within(async {
        let app = TestApp::spawn().await;
        let theirs = NewTask {
            spec: TaskSpec::Command {
                command: "their command".into(),
                cwd: None,
            },
            timeout: Duration::from_secs(30),
            target_worker: None,
            origin: None,
            owner: Some("discord:42".into()),
            priority: openclaw_bot::queue::Priority::default(),
            callback_url: None,
        };
        let theirs = app.state.queue().enqueue(theirs).await.unwrap().id;
        let own = app.submit_command("mine").await;

        let hidden = app
            .get(&format!("/tasks/{theirs}/output"), Some(CLIENT))
            .await;
        let admin = app
            .get(&format!("/tasks/{theirs}/output"), Some(ADMIN))
            .await;
        let follow = app
            .get(&format!("/tasks/{own}/output?follow=yes"), Some(CLIENT))
            .await;
        let last_id = app
            .http
            .get(app.url(&format!("/tasks/{own}/output?follow=1")))
            .bearer_auth(CLIENT)
            .header("Last-Event-ID", "four")
            .send()
            .await
            .unwrap();

        assert_error(
            &hidden,
            StatusCode::NOT_FOUND,
            "not_found",
            "Task not found",
        );
        assert_eq!(admin.0, StatusCode::OK, "{}", admin.1);
        assert_error(&follow, StatusCode::BAD_REQUEST, "invalid_field", "follow");
        let last_id = crate::helpers::read(last_id).await;
        assert_error(
            &last_id,
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "Last-Event-ID",
        );
    })
    .await
}
