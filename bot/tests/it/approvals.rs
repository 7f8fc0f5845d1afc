//! Approvals over HTTP: the worker asks, the client relays the owner's answer, the worker's
//! next heartbeat carries it, and the worker reports what it decided.

use openclaw_shared::worker::{ApprovalDecision, ClaimedTask};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, within, TestApp, CLIENT, WORKER};

async fn report_approval(
    app: &TestApp,
    claimed: &ClaimedTask,
    worker: &str,
    state: Value,
) -> StatusCode {
    let body = json!({ "worker": worker, "lease": claimed.lease, "state": state });
    let path = format!("/v1/worker/tasks/{}/approval", claimed.id);
    app.http
        .post(app.url(&path))
        .bearer_auth(WORKER)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn awaiting(app: &TestApp) -> ClaimedTask {
    app.submit_command("rm -rf ~/build").await;
    let claimed = app.claim("mac").await.remove(0);
    let state = json!({"state": "requested", "fingerprint": "ABCD2345", "summary": "rm -rf /Users/me/build", "expires_at": 1});
    assert_eq!(
        report_approval(app, &claimed, "mac", state).await,
        StatusCode::NO_CONTENT
    );
    claimed
}

#[tokio::test]
async fn a_task_awaiting_approval_shows_its_fingerprint() {
    within(async {
        let app = TestApp::spawn().await;

        let claimed = awaiting(&app).await;

        let (_, view) = app.task(claimed.id, 0).await;
        // The original's clients know only pending/running as unfinished: ours stays in
        // `state`, the approval in its own field.
        assert_eq!(view["status"], "pending");
        assert_eq!(view["state"], "awaiting_approval");
        assert_eq!(view["approval"]["fingerprint"], "ABCD2345");
        assert_eq!(view["approval"]["expiresAt"], 1);
        assert_eq!(view["fingerprint"], "ABCD2345");
        assert!(view["message"]
            .as_str()
            .unwrap()
            .contains("rm -rf /Users/me/build"));
    })
    .await;
}

/// What the original's `mac_remote` does with an answer: a status of `pending` or `running`
/// means "not finished yet"; anything else is a result, whose `exitCode` it reports.
fn original_client_sees_finished(view: &Value) -> bool {
    !matches!(view["status"].as_str(), Some("pending" | "running"))
}

#[tokio::test]
async fn the_originals_clients_see_a_task_awaiting_approval_as_unfinished() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = awaiting(&app).await;

        let (_, waited) = app.task(claimed.id, 50).await;
        let (_, listed) = app.get("/tasks", Some(CLIENT)).await;

        assert!(!original_client_sees_finished(&waited), "{waited}");
        assert_eq!(
            waited["message"].as_str().map(|m| m.is_empty()),
            Some(false)
        );
        assert!(waited.get("exitCode").is_none());
        let row = &listed["tasks"][0];
        assert_eq!(row["status"], "pending");
        assert_eq!(row["state"], "awaiting_approval");
    })
    .await;
}

#[tokio::test]
async fn an_approval_reaches_the_worker_once_on_its_heartbeat() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = awaiting(&app).await;

        let (status, _) = app
            .post(
                &format!("/tasks/{}/approve", claimed.id),
                Some(CLIENT),
                &json!({"code": "123456", "fingerprint": "abcd-2345"}),
            )
            .await;
        let first = app.heartbeat("mac", &[&claimed]).await;
        let second = app.heartbeat("mac", &[&claimed]).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            first.leases[0].approval,
            Some(ApprovalDecision::Approve {
                fingerprint: "ABCD2345".into(),
                code: "123456".into()
            })
        );
        assert_eq!(second.leases[0].approval, None);
    })
    .await;
}

#[tokio::test]
async fn the_worker_verdict_moves_the_task_on() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = awaiting(&app).await;

        let rejected = report_approval(
            &app,
            &claimed,
            "mac",
            json!({"state": "rejected", "reason": "code already used"}),
        )
        .await;
        let (_, still) = app.task(claimed.id, 0).await;
        let approved = report_approval(&app, &claimed, "mac", json!({"state": "approved"})).await;
        let (_, running) = app.task(claimed.id, 0).await;

        assert_eq!(rejected, StatusCode::NO_CONTENT);
        assert_eq!(still["state"], "awaiting_approval");
        assert_eq!(approved, StatusCode::NO_CONTENT);
        assert_eq!(running["status"], "running");
    })
    .await;
}

#[tokio::test]
async fn a_deny_is_relayed_to_the_worker() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = awaiting(&app).await;

        let (status, _) = app
            .post(
                &format!("/tasks/{}/deny", claimed.id),
                Some(CLIENT),
                &json!({}),
            )
            .await;
        let beat = app.heartbeat("mac", &[&claimed]).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(beat.leases[0].approval, Some(ApprovalDecision::Deny));
    })
    .await;
}

#[tokio::test]
async fn an_approval_for_another_fingerprint_is_refused_and_not_relayed() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = awaiting(&app).await;

        let answer = app
            .post(
                &format!("/tasks/{}/approve", claimed.id),
                Some(CLIENT),
                &json!({"code": "123456", "fingerprint": "ZZZZ7777"}),
            )
            .await;
        let beat = app.heartbeat("mac", &[&claimed]).await;

        assert_error(&answer, StatusCode::CONFLICT, "conflict", "fingerprint");
        assert_eq!(beat.leases[0].approval, None);
    })
    .await;
}

#[tokio::test]
async fn approving_a_task_that_is_not_waiting_conflicts() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("ls").await;

        let answer = app
            .post(
                &format!("/tasks/{id}/approve"),
                Some(CLIENT),
                &json!({"code": "123456"}),
            )
            .await;

        assert_error(&answer, StatusCode::CONFLICT, "conflict", "queued");
    })
    .await;
}

#[tokio::test]
async fn a_code_must_be_six_digits() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = awaiting(&app).await;

        let answer = app
            .post(
                &format!("/tasks/{}/approve", claimed.id),
                Some(CLIENT),
                &json!({"code": "12345x"}),
            )
            .await;

        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_field", "6-digit");
    })
    .await;
}

#[tokio::test]
async fn only_the_lease_holder_reports_approval_progress() {
    within(async {
        let app = TestApp::spawn().await;
        let claimed = awaiting(&app).await;

        let other = report_approval(&app, &claimed, "intruder", json!({"state": "approved"})).await;

        assert_eq!(other, StatusCode::FORBIDDEN);
        let (_, view) = app.task(claimed.id, 0).await;
        assert_eq!(view["state"], "awaiting_approval");
    })
    .await;
}
