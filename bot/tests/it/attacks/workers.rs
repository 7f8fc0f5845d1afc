//! Worker identity: a per-worker token acts only as its own worker, for claims,
//! heartbeats, attachments and approval progress; the shared token is the documented
//! trade-off that may act as any.

use openclaw_shared::worker::{LEASE_HEADER, WORKER_HEADER};
use reqwest::StatusCode;
use serde_json::json;

use super::{claim_with, claimed_with, per_worker_app, view, MAC, MINI};
use crate::helpers::{assert_error, within, TestApp, WORKER};

#[tokio::test]
async fn a_per_worker_token_cannot_claim_as_another_worker() {
    within(async {
        let app = per_worker_app().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;
        let before = view(&app, id).await;

        let posing = claim_with(&app, MINI, "mac").await;
        let own = claimed_with(&app, MINI, "mini").await;

        assert_error(
            &posing,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert!(own.is_empty(), "mini got mac's task: {own:?}");
        assert_eq!(
            view(&app, id).await,
            before,
            "a refused claim changed the task"
        );
        assert_eq!(claimed_with(&app, MAC, "mac").await[0].id, id);
    })
    .await
}

#[tokio::test]
async fn a_per_worker_token_cannot_heartbeat_or_attach_as_another_worker() {
    within(async {
        let app = per_worker_app().await;
        let id = app.submit_command("screencapture").await;
        let lease = claimed_with(&app, MAC, "mac").await[0].lease;
        let before = view(&app, id).await;
        let heartbeat = json!({"worker": "mac", "leases": [{"task_id": id, "lease": lease}]});

        let beat = app
            .post("/v1/worker/heartbeat", Some(MINI), &heartbeat)
            .await;
        let response = app
            .http
            .put(app.url(&format!("/v1/worker/tasks/{id}/attachments/shot.png")))
            .bearer_auth(MINI)
            .header(WORKER_HEADER, "mac")
            .header(LEASE_HEADER, lease.to_string())
            .body(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR planted".to_vec())
            .send()
            .await
            .unwrap();
        let attach = crate::helpers::read(response).await;

        assert_error(&beat, StatusCode::FORBIDDEN, "forbidden", "may not act as");
        assert_error(
            &attach,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert_eq!(
            view(&app, id).await,
            before,
            "the task gained an attachment"
        );
    })
    .await
}

#[tokio::test]
async fn a_per_worker_token_cannot_report_approval_progress_as_another_worker() {
    within(async {
        let app = per_worker_app().await;
        let id = app.submit_command("rm -rf ~/build").await;
        let lease = claimed_with(&app, MAC, "mac").await[0].lease;
        let before = view(&app, id).await;
        let path = format!("/v1/worker/tasks/{id}/approval");

        // A fake approval request (to phish the owner's code), then a fake verdict.
        let mut answers = Vec::new();
        for state in [
            json!({"state": "requested", "fingerprint": "ABCD2345", "summary": "ls", "expires_at": 1}),
            json!({"state": "approved"}),
        ] {
            let body = json!({"worker": "mac", "lease": lease, "state": state});
            answers.push(app.post(&path, Some(MINI), &body).await);
        }

        for answer in &answers {
            assert_error(answer, StatusCode::FORBIDDEN, "forbidden", "may not act as");
        }
        assert_eq!(view(&app, id).await, before, "the task's approval state changed");
    })
    .await
}

#[tokio::test]
async fn the_shared_worker_token_may_act_as_any_worker_the_documented_trade_off() {
    within(async {
        let app = TestApp::spawn().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;

        // One token for every Mac: whoever holds it may pose as any of them. Per-worker
        // tokens exist to close this; the README says so.
        let claimed = claimed_with(&app, WORKER, "mac").await;

        assert_eq!(claimed[0].id, id);
    })
    .await
}
