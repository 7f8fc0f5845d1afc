//! Bodies past the configured limit are refused with 413 before anything is queued.

use reqwest::StatusCode;
use serde_json::json;

use super::{task_count, view};
use crate::helpers::{assert_error, success, within, TestApp, CLIENT};

#[tokio::test]
async fn an_oversized_body_is_413_and_queues_nothing() {
    within(async {
        // The smallest body limit the config allows with 1 KiB writes (base64 + 64 KiB).
        let app = TestApp::spawn_with(|config| {
            config.limits.max_content_bytes = 1024;
            config.http.body_limit_bytes = 70_000;
        })
        .await;
        let id = app.submit_command("id").await;
        let claimed = app.claim("mac").await;
        let before = view(&app, id).await;
        let huge = "A".repeat(200_000);

        let create = app
            .post("/tasks", Some(CLIENT), &json!({"command": huge}))
            .await;
        let write = app
            .post(
                "/files/write",
                Some(CLIENT),
                &json!({"path": "/tmp/x", "content": huge}),
            )
            .await;
        let result = app.report(&claimed[0], "mac", &success(&huge)).await;

        for answer in [&create, &write, &result] {
            assert_error(
                answer,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "",
            );
        }
        assert_eq!(
            task_count(&app).await,
            1,
            "an oversized request queued a task"
        );
        assert_eq!(
            view(&app, id).await,
            before,
            "an oversized result was stored"
        );
    })
    .await
}
