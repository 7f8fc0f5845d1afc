//! Quotas over real HTTP: each refusal has its status and `quota_exceeded` (or
//! `rate_limited`) code, names the limit, and stores nothing; a worker's oversized result
//! lands cut, with its real status; cancelled and expired tasks give their bytes back.

use std::time::Duration;

use openclaw_bot::Config;
use openclaw_shared::worker::{ClaimedTask, MAX_ATTACHMENT_BYTES};
use openclaw_shared::{OutcomeStatus, TaskOutcome};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::attachments::{upload, PNG};
use crate::helpers::{assert_error, read, success, within, TestApp, CLIENT};

/// A bot whose `[quota]` is `tweak`ed from the defaults.
async fn quota_app(tweak: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(tweak).await
}

/// How many tasks the bot holds.
async fn task_count(app: &TestApp) -> usize {
    let (status, list) = app.get("/tasks?limit=200", Some(CLIENT)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["tasks"].as_array().unwrap().len()
}

/// `POST /files/write` of `bytes` bytes of text, for a worker that never comes, as a raw
/// answer.
async fn write_file(app: &TestApp, bytes: usize) -> (StatusCode, Value) {
    let body = json!({"path": "/tmp/big", "content": "x".repeat(bytes), "worker": "nobody"});
    app.post("/files/write", Some(CLIENT), &body).await
}

/// An image of exactly `size` bytes.
fn image(size: usize) -> Vec<u8> {
    let mut data = PNG.to_vec();
    data.resize(size, 0);
    data
}

/// A command task for `mac`, claimed and accepted by it.
async fn running(app: &TestApp) -> ClaimedTask {
    app.create(
        "/tasks",
        json!({"command": "screencapture", "worker": "mac"}),
    )
    .await;
    let claimed = app.claim("mac").await.remove(0);
    app.heartbeat("mac", &[&claimed]).await;
    claimed
}

#[tokio::test]
async fn a_create_past_the_live_tasks_quota_is_429_and_stores_nothing() {
    within(async {
        let app = quota_app(|config| config.quota.max_live_tasks = 2).await;
        app.submit_command("a").await;
        let second = app.submit_command("b").await;

        let refused = app
            .post("/tasks", Some(CLIENT), &json!({"command": "c"}))
            .await;
        app.post(&format!("/tasks/{second}/cancel"), Some(CLIENT), &json!({}))
            .await;
        let (after_cancel, _) = app
            .post("/tasks", Some(CLIENT), &json!({"command": "d"}))
            .await;

        assert_error(
            &refused,
            StatusCode::TOO_MANY_REQUESTS,
            "quota_exceeded",
            "at most 2 tasks",
        );
        assert!(refused.1["error"]
            .as_str()
            .unwrap()
            .contains("quota.max_live_tasks"));
        assert_eq!(
            after_cancel,
            StatusCode::OK,
            "a finished task frees its place"
        );
        assert_eq!(task_count(&app).await, 3, "the refused task was not stored");
    })
    .await
}

#[tokio::test]
async fn a_create_past_the_storage_budget_is_507_and_stores_nothing() {
    within(async {
        let app = quota_app(|config| config.quota.max_stored_bytes = 100_000).await;
        for _ in 0..3 {
            let (status, answer) = write_file(&app, 30_000).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }

        let refused = write_file(&app, 30_000).await;

        assert_error(
            &refused,
            StatusCode::INSUFFICIENT_STORAGE,
            "quota_exceeded",
            "at most 100000 bytes",
        );
        assert_eq!(task_count(&app).await, 3);
        let usage = app.state.queue().usage().await.unwrap();
        assert!(usage.stored_bytes <= 100_000, "{usage:?}");
    })
    .await
}

#[tokio::test]
async fn an_oversized_result_is_stored_cut_with_a_note_and_the_task_keeps_its_status() {
    within(async {
        let app = quota_app(|config| config.quota.max_result_bytes = 4096).await;
        let id = app.submit_command("cat /dev/urandom | base64").await;
        let claimed = app.claim("mac").await.remove(0);
        let outcome = TaskOutcome {
            stdout: "A".repeat(100_000),
            stderr: "killed\n".into(),
            exit_code: Some(137),
            signal: Some(9),
            error: Some("killed by SIGKILL".into()),
            ..TaskOutcome::new(OutcomeStatus::Failed)
        };

        let (status, ack) = app.report(&claimed, "mac", &outcome).await;
        let (again, repeat) = app.report(&claimed, "mac", &outcome).await;
        let (_, view) = app.task(id, 0).await;

        assert_eq!(status, StatusCode::OK, "{ack}");
        assert_eq!(ack["duplicate"], false);
        assert_eq!(again, StatusCode::OK, "{repeat}");
        assert_eq!(
            repeat["duplicate"], true,
            "the worker's retry is no conflict"
        );
        assert_eq!(view["status"], "failed");
        assert_eq!(view["exitCode"], 137);
        assert_eq!(view["error"], "killed by SIGKILL");
        assert_eq!(view["stderr"], "killed\n");
        assert_eq!(view["stdout"].as_str().unwrap().len(), 4096 - 7);
        assert_eq!(view["stdoutTruncated"], true);
        let note = &view["metadata"]["truncatedByBot"];
        assert_eq!(note["maxResultBytes"], 4096, "{view}");
        assert_eq!(note["droppedBytes"], 100_000 - (4096 - 7));
    })
    .await
}

#[tokio::test]
async fn uploads_past_a_tasks_attachment_quota_are_413_and_change_nothing() {
    within(async {
        let app = quota_app(|config| {
            config.quota.max_attachments_per_task = 2;
            config.quota.max_attachment_bytes_per_task = 3000;
        })
        .await;
        let claimed = running(&app).await;
        for name in ["a.png", "b.png"] {
            let (status, body) = upload(&app, &claimed, "mac", name, &image(1000)).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }

        let third = upload(&app, &claimed, "mac", "c.png", &image(100)).await;
        let too_big = upload(&app, &claimed, "mac", "b.png", &image(2001)).await;
        let replaced = upload(&app, &claimed, "mac", "b.png", &image(2000)).await;

        assert_error(
            &third,
            StatusCode::PAYLOAD_TOO_LARGE,
            "quota_exceeded",
            "at most 2 attachments",
        );
        assert_error(
            &too_big,
            StatusCode::PAYLOAD_TOO_LARGE,
            "quota_exceeded",
            "at most 3000 bytes",
        );
        assert_eq!(replaced.0, StatusCode::NO_CONTENT, "{}", replaced.1);
        app.report(&claimed, "mac", &success("")).await;
        let (_, view) = app.task(claimed.id, 0).await;
        let sizes: Vec<_> = view["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_owned(),
                    a["size"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            sizes,
            [("a.png".to_owned(), 1000), ("b.png".to_owned(), 2000)]
        );
    })
    .await
}

#[tokio::test]
async fn cancel_and_expiry_free_their_bytes_for_a_later_upload() {
    within(async {
        let app = quota_app(|config| {
            // 3 MiB of files, and room for the tasks' specs.
            config.quota.max_stored_bytes = (3 << 20) + (64 << 10);
            config.quota.abandoned_retention_secs = 1;
            config.queue.task_ttl_secs = 1;
        })
        .await;
        // Cancelled while running: it holds 2 MiB of screenshots until it is pruned.
        let cancelled = running(&app).await;
        let (status, _) = upload(&app, &cancelled, "mac", "shot.png", &image(2 << 20)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // Expires unclaimed: it holds a 1 MiB write.
        let (status, _) = write_file(&app, 1 << 20).await;
        assert_eq!(status, StatusCode::OK);
        // 3 MiB fits only once both are gone.
        let later = running(&app).await;
        let full = upload(&app, &later, "mac", "shot.png", &image(3 << 20)).await;
        assert_error(
            &full,
            StatusCode::INSUFFICIENT_STORAGE,
            "quota_exceeded",
            "",
        );

        app.post(
            &format!("/tasks/{}/cancel", cancelled.id),
            Some(CLIENT),
            &json!({}),
        )
        .await;
        let cancel = app.heartbeat("mac", &[&cancelled, &later]).await;
        assert_eq!(
            cancel.leases[0].state,
            openclaw_shared::worker::LeaseState::CancelRequested
        );
        let mut stopped = TaskOutcome::new(OutcomeStatus::Cancelled);
        stopped.error = Some("cancelled".into());
        app.report(&cancelled, "mac", &stopped).await;
        // Past the expiry, then past the abandoned retention: the sweeper prunes both.
        let mut freed = None;
        for _ in 0..100 {
            app.heartbeat("mac", &[&later]).await;
            let answer = upload(&app, &later, "mac", "shot.png", &image(3 << 20)).await;
            if answer.0 == StatusCode::NO_CONTENT {
                freed = Some(answer);
                break;
            }
            assert_eq!(answer.1["code"], "quota_exceeded", "{}", answer.1);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        assert!(freed.is_some(), "the bytes were never freed");
        let (status, _) = app.task(cancelled.id, 0).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "the cancelled task was pruned"
        );
        assert_eq!(task_count(&app).await, 1, "only the live task is left");
    })
    .await
}

#[tokio::test]
async fn task_creation_has_its_own_rate_per_token_and_refusals_store_nothing() {
    within(async {
        let app = quota_app(|config| {
            config.rate_limit.creates_per_sec = 1;
            config.rate_limit.creates_burst = 3;
        })
        .await;
        let mut refused = None;
        for n in 0..20 {
            let response = app
                .http
                .post(app.url("/tasks"))
                .bearer_auth(CLIENT)
                .json(&json!({"command": format!("echo {n}")}))
                .send()
                .await
                .unwrap();
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                let retry_after = response.headers().get("retry-after").cloned();
                refused = Some((retry_after, read(response).await));
                break;
            }
        }

        let (retry_after, refused) = refused.expect("creations were never limited");
        assert!(retry_after.is_some());
        assert_error(
            &refused,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "retry",
        );
        let created = task_count(&app).await;
        assert!((3..=5).contains(&created), "{created} tasks stored");
        let (status, _) = app.get("/tasks", Some(CLIENT)).await;
        assert_eq!(status, StatusCode::OK, "reading is not creating");
    })
    .await
}

#[tokio::test]
async fn an_attachment_of_the_largest_size_fits_the_default_quota() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = running(&app).await;

        let (status, body) = upload(
            &app,
            &claimed,
            "mac",
            "full.png",
            &image(MAX_ATTACHMENT_BYTES),
        )
        .await;

        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    })
    .await
}
