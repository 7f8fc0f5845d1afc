//! Start, stop and restart: durability, generated tokens, graceful shutdown.

use std::os::unix::fs::PermissionsExt;

use openclaw_bot::tokens::TOKENS_FILE;
use openclaw_bot::App;
use reqwest::StatusCode;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{read, success, test_config, within, TestApp, ADMIN, CLIENT, WORKER};

#[tokio::test]
async fn a_restart_keeps_queued_tasks_and_results() {
    within(async {
        let app = TestApp::spawn().await;
        let left_running = app.submit_command("echo later").await;
        let done = app.submit_command("echo now").await;
        // One claim takes both (8 slots); finish one, leave the other running.
        let claimed = app.claim("mac").await;
        let finished = claimed.iter().find(|c| c.id == done).unwrap();
        app.report(finished, "mac", &success("now\n")).await;
        let also_queued = app.submit_command("echo queued").await;
        let dir = app.stop().await;

        let app = TestApp::spawn_in(dir, |_| {}).await;
        let (_, result) = app.task(done, 0).await;
        let (_, running) = app.task(left_running, 0).await;
        let (_, pending) = app.task(also_queued, 0).await;
        let reclaimed = app.claim("mac").await;

        assert_eq!(result["status"], "succeeded");
        assert_eq!(result["stdout"], "now\n");
        assert_eq!(running["status"], "running");
        assert_eq!(pending["status"], "pending");
        assert_eq!(reclaimed.len(), 1);
        assert_eq!(reclaimed[0].id, also_queued);
    })
    .await
}

#[tokio::test]
async fn shutdown_ends_a_waiting_claim_at_once_with_an_empty_answer() {
    within(async {
        let app = TestApp::spawn().await;
        let waiting = {
            let (http, url) = (app.http.clone(), app.url("/v1/worker/claim"));
            tokio::spawn(async move {
                let body = json!({"worker": "sleepy", "slots": 1, "wait_ms": 50_000});
                http.post(url).bearer_auth(WORKER).json(&body).send().await
            })
        };
        // A claim registers its worker before it waits: once admin health lists it, the
        // claim is in flight on the server.
        loop {
            let (_, health) = app.get("/admin/health", Some(ADMIN)).await;
            if health["workers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["name"] == "sleepy")
            {
                break;
            }
            tokio::task::yield_now().await;
        }

        app.stop().await;
        let (status, answer) = read(waiting.await.unwrap().unwrap()).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, json!({"tasks": []}));
    })
    .await
}

#[tokio::test]
async fn unset_tokens_are_generated_once_into_a_0600_file_and_then_reused() {
    within(async {
        let parent = tempfile::tempdir().unwrap();
        // Not created yet: the app creates it, 0700.
        let data_dir = parent.path().join("data");
        let mut config = test_config(&data_dir);
        config.auth.client_token = None;
        config.auth.worker_token = None;
        config.auth.admin_token = None;

        let first = App::build(config.clone()).await.unwrap();
        let notice = first.first_start().unwrap().instructions;
        let second = App::build(config).await.unwrap();

        let path = data_dir.join(TOKENS_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(&data_dir).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert!(notice.contains("WORKER_TOKEN=oc_worker_"), "{notice}");
        assert!(
            notice.contains("Authorization: Bearer oc_client_"),
            "{notice}"
        );
        assert!(second.first_start().is_none(), "tokens are shown only once");
        // The printed client token works against the second start.
        let client = notice
            .split_whitespace()
            .find(|word| word.starts_with("oc_client_"))
            .unwrap()
            .to_owned();
        let shutdown = CancellationToken::new();
        let url = format!("http://{}/tasks", second.local_addr());
        let run = tokio::spawn(second.run(shutdown.clone()));
        let response = reqwest::Client::new()
            .post(url)
            .bearer_auth(&client)
            .json(&json!({"command": "true"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        shutdown.cancel();
        run.await.unwrap().unwrap();
        drop(first);
    })
    .await
}

#[tokio::test]
async fn two_roles_with_the_same_token_refuse_to_start() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        config.auth.worker_token = Some(CLIENT.into());

        let err = App::build(config).await.err().unwrap();

        let message = format!("{err:#}");
        assert!(message.contains("auth.client_token"), "{message}");
        assert!(message.contains("auth.worker_token"), "{message}");
    })
    .await
}
