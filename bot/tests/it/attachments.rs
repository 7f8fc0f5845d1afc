//! Screenshot attachments: uploaded by the worker holding the task, read back by clients.

use openclaw_shared::worker::{ClaimedTask, LEASE_HEADER, WORKER_HEADER};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, read, success, within, TestApp, CLIENT, WORKER};

/// Bytes that pass for a PNG (the magic is what the bot checks).
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but magic is right";

/// Uploads `body` as attachment `name` of `claimed`, as `worker` with the claim's lease.
pub async fn upload(
    app: &TestApp,
    claimed: &ClaimedTask,
    worker: &str,
    name: &str,
    body: &[u8],
) -> (StatusCode, Value) {
    let response = app
        .http
        .put(app.url(&format!(
            "/v1/worker/tasks/{}/attachments/{name}",
            claimed.id
        )))
        .bearer_auth(WORKER)
        .header(WORKER_HEADER, worker)
        .header(LEASE_HEADER, claimed.lease.to_string())
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    if response.status() == StatusCode::NO_CONTENT {
        return (StatusCode::NO_CONTENT, Value::Null);
    }
    read(response).await
}

#[tokio::test]
async fn an_uploaded_screenshot_is_listed_and_downloadable() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("screencapture").await;
        let claimed = app.claim("mac").await.remove(0);

        let (status, _) = upload(&app, &claimed, "mac", "screenshot.png", PNG).await;
        app.report(&claimed, "mac", &success("")).await;

        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, view) = app.task(id, 0).await;
        assert_eq!(view["attachments"][0]["name"], "screenshot.png");
        assert_eq!(view["attachments"][0]["contentType"], "image/png");
        assert_eq!(view["attachments"][0]["size"], PNG.len());
        let response = app
            .http
            .get(app.url(&format!("/tasks/{id}/attachments/screenshot.png")))
            .bearer_auth(CLIENT)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "image/png");
        assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);
    })
    .await;
}

#[tokio::test]
async fn attachments_must_be_images_by_content() {
    within(async {
        let app = TestApp::spawn().await;
        app.submit_command("cat ~/.ssh/id_rsa").await;
        let claimed = app.claim("mac").await.remove(0);

        let answer = upload(
            &app,
            &claimed,
            "mac",
            "innocent.png",
            b"-----BEGIN OPENSSH PRIVATE KEY-----",
        )
        .await;

        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_field", "images");
    })
    .await;
}

#[tokio::test]
async fn only_the_lease_holder_may_attach() {
    within(async {
        let app = TestApp::spawn().await;
        app.submit_command("true").await;
        let claimed = app.claim("mac").await.remove(0);
        let mut stale = claimed.clone();
        stale.lease = openclaw_shared::LeaseId::new();

        let other = upload(&app, &claimed, "intruder", "a.png", PNG).await;
        let wrong_lease = upload(&app, &stale, "mac", "a.png", PNG).await;
        let bad_name = upload(&app, &claimed, "mac", "..hidden", PNG).await;

        assert_error(&other, StatusCode::FORBIDDEN, "forbidden", "");
        assert_error(&wrong_lease, StatusCode::CONFLICT, "lease_mismatch", "");
        assert_error(&bad_name, StatusCode::BAD_REQUEST, "invalid_field", "name");
        let (_, view) = app
            .get(&format!("/tasks/{}", claimed.id), Some(CLIENT))
            .await;
        assert!(view.get("attachments").is_none());
    })
    .await;
}

#[tokio::test]
async fn an_oversized_attachment_is_refused() {
    within(async {
        let app = TestApp::spawn().await;
        app.submit_command("true").await;
        let claimed = app.claim("mac").await.remove(0);
        let mut big = PNG.to_vec();
        big.resize(openclaw_shared::worker::MAX_ATTACHMENT_BYTES + 1, 0);

        let answer = upload(&app, &claimed, "mac", "big.png", &big).await;

        assert_error(
            &answer,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "",
        );
    })
    .await;
}

#[tokio::test]
async fn a_missing_attachment_is_a_404() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("true").await;

        let answer = app
            .get(
                &format!("/tasks/{id}/attachments/nothing.png"),
                Some(CLIENT),
            )
            .await;

        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", "Attachment");
    })
    .await;
}
