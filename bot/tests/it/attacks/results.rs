//! Forged results: for another worker's task, without the lease or with a made-up one,
//! for a task lost under another worker or lease. Each is refused and the task stays as it
//! was; only the lease a lost task was lost under still ends it (late).

use openclaw_shared::LeaseId;
use reqwest::StatusCode;
use serde_json::json;

use super::{claimed_with, per_worker_app, report_with, view, MAC, MINI};
use crate::helpers::{assert_error, success, within, TestApp, WORKER};

#[tokio::test]
async fn a_forged_result_for_another_workers_task_is_403_and_changes_nothing() {
    within(async {
        let app = per_worker_app().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;
        let lease = claimed_with(&app, MAC, "mac").await[0].lease;
        let before = view(&app, id).await;

        // mini's (stolen) token, posing as mac, then under its own name with mac's lease.
        let posing = report_with(&app, MINI, id, "mac", lease, "forged").await;
        let own_name = report_with(&app, MINI, id, "mini", lease, "forged").await;

        assert_error(
            &posing,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert_error(&own_name, StatusCode::FORBIDDEN, "forbidden", "");
        assert_eq!(
            view(&app, id).await,
            before,
            "a forged result changed the task"
        );
        let (status, _) = report_with(&app, MAC, id, "mac", lease, "real").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(view(&app, id).await["stdout"], "real");
    })
    .await
}

#[tokio::test]
async fn a_result_without_the_lease_or_with_a_made_up_one_is_refused() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("id").await;
        app.claim("mac").await;
        let before = view(&app, id).await;
        let path = format!("/v1/worker/tasks/{id}/result");

        let no_lease = app
            .post(
                &path,
                Some(WORKER),
                &json!({"worker": "mac", "outcome": success("forged")}),
            )
            .await;
        let made_up = report_with(&app, WORKER, id, "mac", LeaseId::new(), "forged").await;

        assert_error(&no_lease, StatusCode::BAD_REQUEST, "invalid_json", "lease");
        assert_error(&made_up, StatusCode::CONFLICT, "lease_mismatch", "");
        assert_eq!(
            view(&app, id).await,
            before,
            "a refused result changed the task"
        );
    })
    .await
}

#[tokio::test]
async fn a_lost_task_takes_a_late_result_only_under_the_lease_it_was_lost_under() {
    within(async {
        let app = TestApp::spawn_with(|config| config.queue.lease_ttl_secs = 1).await;
        let id = app.submit_command("id").await;
        let claimed = app.claim("mac").await;
        let lease = claimed[0].lease;
        // Accepted, then no more heartbeats: the lease runs out and the sweeper marks the
        // task lost.
        app.heartbeat("mac", &[&claimed[0]]).await;
        let (_, lost) = app.task(id, 5_000).await;
        assert_eq!(lost["status"], "lost", "{lost}");

        let made_up = report_with(&app, WORKER, id, "mac", LeaseId::new(), "forged").await;
        let other_worker = report_with(&app, WORKER, id, "mini", lease, "forged").await;
        let after_forgeries = view(&app, id).await;
        let genuine = report_with(&app, WORKER, id, "mac", lease, "real").await;

        assert_error(&made_up, StatusCode::CONFLICT, "lease_mismatch", "");
        assert_error(&other_worker, StatusCode::FORBIDDEN, "forbidden", "");
        assert_eq!(after_forgeries, lost, "a forged result changed the task");
        // The worker that held it was only out of touch: its result ends the task, late.
        assert_eq!(genuine.0, StatusCode::OK, "{}", genuine.1);
        let finished = view(&app, id).await;
        assert_eq!(finished["stdout"], "real");
        assert_eq!(finished["metadata"]["late"], true);
    })
    .await
}
