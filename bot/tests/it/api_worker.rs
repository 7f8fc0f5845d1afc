//! The worker protocol, driven by hand: long-poll claims, targeting, leases, results.

use std::time::Duration;

use openclaw_shared::worker::{ClaimResponse, ClaimedTask, LeaseState};
use openclaw_shared::{LeaseId, OutcomeStatus, TaskId, TaskOutcome};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, read, success, within, TestApp, WORKER};

#[tokio::test]
async fn a_waiting_claim_returns_as_soon_as_a_task_is_submitted() {
    within(async {
        let app = TestApp::spawn().await;

        // Capped at 30 s, still far beyond the test's 10 s budget: only a wake-up finishes.
        let waiting = {
            let (http, url) = (app.http.clone(), app.url("/v1/worker/claim"));
            tokio::spawn(async move {
                let body = json!({"worker": "mac", "slots": 2, "wait_ms": 50_000});
                http.post(url).bearer_auth(WORKER).json(&body).send().await
            })
        };
        let id = app.submit_command("uptime").await;
        let (status, answer) = read(waiting.await.unwrap().unwrap()).await;

        assert_eq!(status, StatusCode::OK);
        let claimed: ClaimResponse = serde_json::from_value(answer).unwrap();
        assert_eq!(claimed.tasks.len(), 1);
        assert_eq!(claimed.tasks[0].id, id);
        assert_eq!(claimed.tasks[0].lease_ttl_ms, 60_000);
        assert_eq!(claimed.tasks[0].offer_ttl_ms, 10_000);
    })
    .await
}

#[tokio::test]
async fn targeted_tasks_go_only_to_their_worker() {
    within(async {
        let app = TestApp::spawn().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "true", "worker": "studio"}))
            .await;

        let other = app.claim("laptop").await;
        let own = app.claim("studio").await;

        assert!(other.is_empty());
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].id, id);
    })
    .await
}

#[tokio::test]
async fn claims_need_a_valid_name_and_slot_count() {
    within(async {
        let app = TestApp::spawn().await;
        let claim = |body: serde_json::Value| {
            let app = &app;
            async move { app.post("/v1/worker/claim", Some(WORKER), &body).await }
        };

        let zero = claim(json!({"worker": "mac", "slots": 0})).await;
        let many = claim(json!({"worker": "mac", "slots": 65})).await;
        let name = claim(json!({"worker": "a b", "slots": 1})).await;
        let missing = claim(json!({"slots": 1})).await;

        assert_error(&zero, StatusCode::BAD_REQUEST, "invalid_field", "slots");
        assert_error(&many, StatusCode::BAD_REQUEST, "invalid_field", "slots");
        assert_error(&name, StatusCode::BAD_REQUEST, "invalid_field", "worker");
        assert_error(
            &missing,
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "worker is required",
        );
    })
    .await
}

#[tokio::test]
async fn a_duplicate_result_is_acknowledged_and_changes_nothing() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("echo once").await;
        let claimed = app.claim("mac").await;

        let first = app.report(&claimed[0], "mac", &success("once\n")).await;
        let second = app.report(&claimed[0], "mac", &success("once\n")).await;
        let different = app.report(&claimed[0], "mac", &success("twice\n")).await;
        let (_, view) = app.task(id, 0).await;

        assert_eq!(first, (StatusCode::OK, json!({"duplicate": false})));
        assert_eq!(second, (StatusCode::OK, json!({"duplicate": true})));
        assert_eq!(different.0, StatusCode::CONFLICT, "{}", different.1);
        assert_eq!(view["stdout"], "once\n");
    })
    .await
}

#[tokio::test]
async fn forged_results_are_rejected_and_change_nothing() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("whoami").await;
        let claimed = app.claim("mac").await;
        let forged = success("root");

        let unknown = app
            .post(
                &format!("/v1/worker/tasks/{}/result", TaskId::new()),
                Some(WORKER),
                &json!({"worker": "mac", "lease": LeaseId::new(), "outcome": forged}),
            )
            .await;
        let wrong_lease = app
            .post(
                &format!("/v1/worker/tasks/{id}/result"),
                Some(WORKER),
                &json!({"worker": "mac", "lease": LeaseId::new(), "outcome": forged}),
            )
            .await;
        let other_worker = app.report(&claimed[0], "intruder", &forged).await;
        let (_, view) = app.task(id, 0).await;
        let genuine = app.report(&claimed[0], "mac", &success("alice\n")).await;

        assert_error(
            &unknown,
            StatusCode::NOT_FOUND,
            "not_found",
            "Task not found",
        );
        assert_error(
            &wrong_lease,
            StatusCode::CONFLICT,
            "lease_mismatch",
            "lease",
        );
        assert_error(
            &other_worker,
            StatusCode::FORBIDDEN,
            "forbidden",
            "not held",
        );
        assert_eq!(view["status"], "running");
        assert!(view.get("stdout").is_none());
        assert_eq!(genuine.0, StatusCode::OK);
    })
    .await
}

#[tokio::test]
async fn a_lease_that_runs_out_makes_the_task_lost_until_its_late_result_ends_it() {
    within(async {
        let app = TestApp::spawn_with(|c| c.queue.lease_ttl_secs = 1).await;
        let id = app.submit_command("sleep 100").await;
        let claimed = app.claim("mac").await;
        let accepted = app.heartbeat("mac", &[&claimed[0]]).await;
        assert_eq!(accepted.leases[0].state, LeaseState::Active);

        // Woken by the sweeper's event once the lease runs out (about a second).
        let (_, lost) = app.task(id, 50_000).await;
        let beat = app.heartbeat("mac", &[&claimed[0]]).await;
        let stale = app
            .report(
                &ClaimedTask {
                    lease: LeaseId::new(),
                    ..claimed[0].clone()
                },
                "mac",
                &success("forged"),
            )
            .await;
        let late = app.report(&claimed[0], "mac", &success("at last")).await;
        let again = app.report(&claimed[0], "mac", &success("at last")).await;
        let (_, view) = app.task(id, 0).await;

        assert_eq!(lost["status"], "lost");
        assert!(lost["error"].as_str().unwrap().contains("lease"));
        assert_eq!(beat.leases[0].state, LeaseState::Gone);
        assert!(beat.leases[0].accepts_late_result, "{beat:?}");
        assert_error(&stale, StatusCode::CONFLICT, "lease_mismatch", "lease");
        assert_eq!(late.0, StatusCode::OK, "{}", late.1);
        assert_eq!(late.1, json!({"duplicate": false, "late": true}));
        assert_eq!(again.1, json!({"duplicate": true}));
        // "Lost, then finished" ends finished, with the worker's own result, flagged late.
        assert_eq!(view["status"], "succeeded", "{view}");
        assert_eq!(view["stdout"], "at last");
        assert_eq!(view["metadata"]["late"], true);
        // A lost task is never handed out again: shell commands are not idempotent.
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}

#[tokio::test]
async fn a_task_nobody_claims_expires() {
    within(async {
        let app = TestApp::spawn_with(|c| c.queue.task_ttl_secs = 1).await;
        let id = app.submit_command("true").await;

        let (_, view) = app.task(id, 50_000).await;

        assert_eq!(view["status"], "expired");
        assert!(view["error"].is_string());
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}

#[tokio::test]
async fn heartbeats_keep_leases_active_and_report_the_lease_ttl() {
    within(async {
        let app = TestApp::spawn().await;
        app.submit_command("sleep 1").await;
        let claimed = app.claim("mac").await;

        let idle = app.heartbeat("mac", &[]).await;
        let busy = app.heartbeat("mac", &[&claimed[0]]).await;
        let stranger = app.heartbeat("laptop", &[&claimed[0]]).await;

        assert!(idle.leases.is_empty());
        assert_eq!(idle.lease_ttl_ms, 60_000);
        assert_eq!(busy.leases[0].task_id, claimed[0].id);
        assert_eq!(busy.leases[0].state, LeaseState::Active);
        assert_eq!(stranger.leases[0].state, LeaseState::Gone);
    })
    .await
}

#[tokio::test]
async fn a_result_with_a_megabyte_each_of_stdout_and_stderr_is_accepted() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("yes | head -c 1048576").await;
        let claimed = app.claim("mac").await;
        let mut outcome = TaskOutcome::new(OutcomeStatus::Succeeded);
        outcome.stdout = "y\n".repeat(512 * 1024);
        outcome.stderr = "e".repeat(1024 * 1024);
        outcome.exit_code = Some(0);

        let (status, _) = app.report(&claimed[0], "mac", &outcome).await;
        let (_, view) = app.task(id, 0).await;

        // The original's server refused results over ~100 kB while its worker logged success.
        assert_eq!(status, StatusCode::OK);
        assert_eq!(view["stdout"].as_str().unwrap().len(), 1024 * 1024);
        assert_eq!(view["stderr"].as_str().unwrap().len(), 1024 * 1024);
    })
    .await
}

#[tokio::test]
async fn a_claim_never_acknowledged_goes_back_to_pending_and_another_worker_gets_it() {
    within(async {
        let app = TestApp::spawn_with(|c| c.queue.offer_ttl_secs = 1).await;
        let id = app.submit_command("uptime").await;
        // The Mac fell asleep mid-poll: the claim was answered, but nobody heard it.
        let dead = app.claim("mac").await;
        assert_eq!(dead[0].offer_ttl_ms, 1_000);

        // The sweeper (every 50 ms) puts it back once the offer runs out (about a second).
        let view = loop {
            let (_, view) = app.task(id, 0).await;
            if view["status"] != "running" {
                break view;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let again = app.claim("laptop").await;
        let stale_beat = app.heartbeat("mac", &[&dead[0]]).await;
        let stale_result = app.report(&dead[0], "mac", &success("never ran")).await;
        let fresh_beat = app.heartbeat("laptop", &[&again[0]]).await;
        let (_, running) = app.task(id, 0).await;

        assert_eq!(view["status"], "pending", "{view}");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, id);
        assert_ne!(again[0].lease, dead[0].lease);
        assert_eq!(stale_beat.leases[0].state, LeaseState::Gone);
        assert_eq!(stale_result.0, StatusCode::FORBIDDEN, "{}", stale_result.1);
        assert_eq!(fresh_beat.leases[0].state, LeaseState::Active);
        assert_eq!(running["status"], "running");
        assert_eq!(running["worker"], "laptop");
    })
    .await
}

#[tokio::test]
async fn a_requeued_task_wakes_a_waiting_claim() {
    within(async {
        let app = TestApp::spawn_with(|c| c.queue.offer_ttl_secs = 1).await;
        let id = app.submit_command("uptime").await;
        app.claim("mac").await;

        // Nothing else is queued: only the requeue (about a second) ends this wait.
        let again = app.claim_waiting("laptop", 8_000).await;

        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, id);
    })
    .await
}

#[tokio::test]
async fn a_result_from_the_holder_of_an_unacknowledged_offer_is_accepted() {
    within(async {
        let app = TestApp::spawn_with(|c| c.queue.offer_ttl_secs = 1).await;
        let id = app.submit_command("echo hi").await;
        let claimed = app.claim("mac").await;

        // No heartbeat first: a result shows the worker ran it, which is acceptance enough.
        let (status, answer) = app.report(&claimed[0], "mac", &success("hi\n")).await;
        let (_, view) = app.task(id, 0).await;

        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(view["status"], "succeeded");
        assert_eq!(view["stdout"], "hi\n");
        assert!(app.claim("laptop").await.is_empty());
    })
    .await
}
