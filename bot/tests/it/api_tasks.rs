//! Client routes: the original's request and answer shapes, waits, lists, cancels, limits.

use openclaw_shared::worker::LeaseState;
use openclaw_shared::{OutcomeStatus, TaskId, TaskOutcome, TaskSpec};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, success, within, TestApp, CLIENT};

#[tokio::test]
async fn original_command_request_is_answered_in_the_original_shape() {
    within(async {
        let app = TestApp::spawn().await;

        let (id, created) = app
            .create("/tasks", json!({"command": "echo hi", "timeout": 30000}))
            .await;
        let (_, before) = app.task(id, 0).await;
        let claimed = app.claim("mac").await;
        app.report(&claimed[0], "mac", &success("hi\n")).await;
        let (status, after) = app.task(id, 35_000).await;
        let (_, again) = app.task(id, 0).await;

        assert_eq!(
            created,
            json!({"taskId": id, "status": "pending", "message": "Task created, waiting for worker"})
        );
        assert_eq!(before["status"], "pending");
        assert_eq!(before["message"], "Result not ready yet");
        assert!(before.get("stdout").is_none());
        assert_eq!(claimed[0].timeout_ms, 30_000);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(after["taskId"], json!(id));
        assert_eq!(after["status"], "succeeded");
        assert_eq!(after["stdout"], "hi\n");
        assert_eq!(after["stderr"], "");
        assert_eq!(after["exitCode"], 0);
        assert!(after["error"].is_null() && after.get("error").is_some());
        assert!(after["completedAt"].as_u64().unwrap() > 0);
        assert_eq!(after["worker"], "mac");
        // The original deleted a result on first read; a second read must still have it.
        assert_eq!(again, after);
    })
    .await
}

#[tokio::test]
async fn each_create_route_queues_its_kind_of_task() {
    within(async {
        let app = TestApp::spawn().await;

        let (_, read) = app.create("/files/read", json!({"path": "/tmp/a"})).await;
        let (_, write) = app
            .create("/files/write", json!({"path": "/tmp/b", "content": "x\n"}))
            .await;
        let (_, write64) = app
            .create(
                "/files/write",
                json!({"path": "/tmp/c", "content": "AAEC\n/w", "encoding": "base64"}),
            )
            .await;
        let (_, edit) = app
            .create(
                "/files/edit",
                json!({"path": "/tmp/d", "old_string": "a", "new_string": "", "replace_all": true}),
            )
            .await;
        let (_, claude) = app
            .create(
                "/claude",
                json!({"prompt": "hi $(whoami)", "sessionId": "s-1"}),
            )
            .await;
        let claimed = app.claim("mac").await;

        assert_eq!(read["message"], "File read task created");
        assert_eq!(write["message"], "File write task created");
        assert_eq!(write64["message"], "File write task created");
        assert_eq!(edit["message"], "File edit task created");
        assert_eq!(claude["message"], "Claude CLI task created");
        assert_eq!(claude["sessionId"], "s-1");
        let specs: Vec<&TaskSpec> = claimed.iter().map(|c| &c.spec).collect();
        assert_eq!(
            specs,
            [
                &TaskSpec::FileRead {
                    path: "/tmp/a".into()
                },
                &TaskSpec::FileWrite {
                    path: "/tmp/b".into(),
                    content: "x\n".into(),
                    encoding: openclaw_shared::ContentEncoding::Utf8
                },
                // Line breaks dropped and padding restored: the worker gets canonical base64.
                &TaskSpec::FileWrite {
                    path: "/tmp/c".into(),
                    content: "AAEC/w==".into(),
                    encoding: openclaw_shared::ContentEncoding::Base64
                },
                &TaskSpec::FileEdit {
                    path: "/tmp/d".into(),
                    old_string: "a".into(),
                    new_string: String::new(),
                    replace_all: true
                },
                &TaskSpec::Claude {
                    prompt: "hi $(whoami)".into(),
                    session: Some(openclaw_shared::task::AgentSession::resume("s-1")),
                    cwd: None
                },
            ]
        );
        assert_eq!(claimed[4].timeout_ms, 120_000);
    })
    .await
}

#[tokio::test]
async fn a_waiting_get_returns_as_soon_as_the_result_is_reported() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("true").await;
        let claimed = app.claim("mac").await;

        // 50 s is far beyond the test's 10 s budget: only a wake-up can finish in time.
        let waiting = {
            let (http, url) = (
                app.http.clone(),
                app.url(&format!("/tasks/{id}?wait=50000")),
            );
            tokio::spawn(async move { http.get(url).bearer_auth(CLIENT).send().await })
        };
        app.report(&claimed[0], "mac", &success("done")).await;
        let (status, view) = crate::helpers::read(waiting.await.unwrap().unwrap()).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(view["status"], "succeeded");
        assert_eq!(view["stdout"], "done");
    })
    .await
}

#[tokio::test]
async fn an_unknown_task_is_404_at_once_even_with_a_long_wait() {
    within(async {
        let app = TestApp::spawn().await;

        let unknown = app.task(TaskId::new(), 30_000).await;
        let malformed = app.get("/tasks/not-a-uuid?wait=30000", Some(CLIENT)).await;
        let cancel = app
            .post(
                &format!("/tasks/{}/cancel", TaskId::new()),
                Some(CLIENT),
                &json!({}),
            )
            .await;

        assert_eq!(
            unknown.1,
            json!({"error": "Task not found", "code": "not_found"})
        );
        assert_eq!(unknown.0, StatusCode::NOT_FOUND);
        assert_eq!(malformed, unknown);
        assert_eq!(cancel, unknown);
    })
    .await
}

#[tokio::test]
async fn a_discord_channel_is_kept_in_the_task_origin() {
    within(async {
        let app = TestApp::spawn_with(|config| {
            config.discord.callback_channel_ids = vec![123_456_789_012_345_678, 42];
        })
        .await;

        let (id, _) = app
            .create(
                "/tasks",
                json!({"command": "true", "discordChannelId": "123456789012345678"}),
            )
            .await;
        let (legacy, _) = app
            .create(
                "/tasks",
                json!({"command": "true", "callbackChannel": "42"}),
            )
            .await;

        let task = app.state.queue().get(id).await.unwrap();
        let legacy = app.state.queue().get(legacy).await.unwrap();
        assert_eq!(
            task.origin,
            Some(json!({"discord_channel_id": "123456789012345678"}))
        );
        assert_eq!(legacy.origin, Some(json!({"discord_channel_id": "42"})));
    })
    .await
}

#[tokio::test]
async fn the_list_shows_recent_tasks_first_and_filters_by_status() {
    within(async {
        let app = TestApp::spawn().await;
        let first = app.submit_command("echo 1").await;
        let second = app.submit_command("echo 2").await;
        let third = app.submit_command("echo 3").await;
        app.post(&format!("/tasks/{second}/cancel"), Some(CLIENT), &json!({}))
            .await;

        let (_, all) = app.get("/tasks", Some(CLIENT)).await;
        let (_, cancelled) = app.get("/tasks?status=cancelled", Some(CLIENT)).await;
        let (_, pending) = app.get("/tasks?status=pending", Some(CLIENT)).await;
        let (_, one) = app.get("/tasks?limit=1", Some(CLIENT)).await;
        let bogus = app.get("/tasks?status=done", Some(CLIENT)).await;
        let zero = app.get("/tasks?limit=0", Some(CLIENT)).await;

        let ids = |list: &serde_json::Value| -> Vec<String> {
            list["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["taskId"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids(&all), [third, second, first].map(|id| id.to_string()));
        assert_eq!(all["tasks"][0]["summary"], "echo 3");
        assert_eq!(all["tasks"][0]["kind"], "command");
        assert_eq!(ids(&cancelled), [second.to_string()]);
        assert_eq!(ids(&pending), [third, first].map(|id| id.to_string()));
        assert_eq!(ids(&one), [third.to_string()]);
        assert_error(
            &bogus,
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "unknown status",
        );
        assert_error(&zero, StatusCode::BAD_REQUEST, "invalid_field", "limit");
    })
    .await
}

#[tokio::test]
async fn cancelling_a_queued_task_ends_it_and_a_second_cancel_conflicts() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("sleep 100").await;
        let path = format!("/tasks/{id}/cancel");

        let (status, view) = app.post(&path, Some(CLIENT), &json!({})).await;
        let again = app.post(&path, Some(CLIENT), &json!({})).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(view["status"], "cancelled");
        assert!(view["completedAt"].is_u64());
        assert_error(&again, StatusCode::CONFLICT, "conflict", "cancelled");
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}

#[tokio::test]
async fn cancelling_a_running_task_reaches_its_worker_on_the_next_heartbeat() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("sleep 100").await;
        let claimed = app.claim("mac").await;

        let (_, view) = app
            .post(&format!("/tasks/{id}/cancel"), Some(CLIENT), &json!({}))
            .await;
        let beat = app.heartbeat("mac", &[&claimed[0]]).await;
        let mut outcome = TaskOutcome::new(OutcomeStatus::Cancelled);
        outcome.exit_code = Some(143);
        let (status, _) = app.report(&claimed[0], "mac", &outcome).await;
        let (_, after) = app.task(id, 0).await;

        assert_eq!(view["status"], "running");
        assert_eq!(beat.leases[0].state, LeaseState::CancelRequested);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(after["status"], "cancelled");
        assert_eq!(after["exitCode"], 143);
    })
    .await
}

#[tokio::test]
async fn a_discord_channel_outside_the_allow_list_is_refused_and_nothing_is_queued() {
    within(async {
        let app =
            TestApp::spawn_with(|config| config.discord.callback_channel_ids = vec![42]).await;

        let answer = app
            .post(
                "/tasks",
                Some(CLIENT),
                &json!({"command": "echo relay", "discordChannelId": "123456789012345678"}),
            )
            .await;

        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "does not post in",
        );
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}

#[tokio::test]
async fn another_platforms_channel_key_is_stored_and_never_sent_to_discord() {
    within(async {
        let app = TestApp::spawn().await;

        let (id, _) = app
            .create(
                "/claude",
                json!({"prompt": "hi", "callbackChannel": "telegram:-100123"}),
            )
            .await;

        let task = app.state.queue().get(id).await.unwrap();
        assert_eq!(
            task.origin,
            Some(json!({"channel_key": "telegram:-100123"}))
        );
    })
    .await
}
