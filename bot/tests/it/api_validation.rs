//! Client routes refuse what they cannot take, naming the field: a malformed wait, fields
//! past their limits, a Discord channel that is not a snowflake. A huge wait is capped.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, success, within, TestApp, CLIENT};

#[tokio::test]
async fn a_malformed_wait_is_400_and_a_huge_one_is_capped() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("true").await;
        let claimed = app.claim("mac").await;
        app.report(&claimed[0], "mac", &success("")).await;

        let bad = app
            .get(&format!("/tasks/{id}?wait=soon"), Some(CLIENT))
            .await;
        let huge = app.task(id, 300_000).await;

        assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_field", "wait");
        assert_eq!(huge.0, StatusCode::OK);
        assert_eq!(huge.1["status"], "succeeded");
    })
    .await
}

#[tokio::test]
async fn field_limits_are_enforced_and_named() {
    within(async {
        let app = TestApp::spawn_with(|c| {
            c.limits.max_command_bytes = 10;
            c.limits.max_path_bytes = 8;
            c.limits.max_content_bytes = 4;
            c.limits.max_prompt_bytes = 5;
            c.limits.max_timeout_ms = 60_000;
        })
        .await;
        let post = |path: &'static str, body: serde_json::Value| {
            let app = &app;
            async move { app.post(path, Some(CLIENT), &body).await }
        };

        let empty = post("/tasks", json!({"command": ""})).await;
        let blank = post("/tasks", json!({"command": "   "})).await;
        let long = post("/tasks", json!({"command": "echo 12345678"})).await;
        let zero = post("/tasks", json!({"command": "true", "timeout": 0})).await;
        let over = post("/tasks", json!({"command": "true", "timeout": 60_001})).await;
        let path = post("/files/read", json!({"path": "/tmp/123456"})).await;
        let content = post("/files/write", json!({"path": "/a", "content": "12345"})).await;
        let decoded = post(
            "/files/write",
            json!({"path": "/a", "content": "MTIzNDU=", "encoding": "base64"}),
        )
        .await;
        let not_b64 = post(
            "/files/write",
            json!({"path": "/a", "content": "@@", "encoding": "base64"}),
        )
        .await;
        let prompt = post("/claude", json!({"prompt": "123456"})).await;
        let worker = post(
            "/tasks",
            json!({"command": "true", "worker": "<@everyone>"}),
        )
        .await;
        let channel = post(
            "/tasks",
            json!({"command": "true", "discordChannelId": "bad\nkey"}),
        )
        .await;
        let edit = post(
            "/files/edit",
            json!({"path": "/a", "old_string": "", "new_string": "x"}),
        )
        .await;
        let fits = post(
            "/files/write",
            json!({"path": "/a", "content": "MTIzNA==", "encoding": "base64"}),
        )
        .await;

        // The original's exact body for a missing command, plus our code.
        assert_eq!(
            empty.1,
            json!({"error": "command is required", "code": "invalid_field"})
        );
        assert_eq!(blank, empty);
        assert_error(
            &long,
            StatusCode::BAD_REQUEST,
            "field_too_long",
            "command is longer than 10 bytes",
        );
        assert_error(&zero, StatusCode::BAD_REQUEST, "invalid_field", "timeout");
        assert_error(&over, StatusCode::BAD_REQUEST, "invalid_field", "60000");
        assert_error(
            &path,
            StatusCode::BAD_REQUEST,
            "field_too_long",
            "path is longer than 8 bytes",
        );
        assert_error(
            &content,
            StatusCode::BAD_REQUEST,
            "field_too_long",
            "content",
        );
        assert_error(
            &decoded,
            StatusCode::BAD_REQUEST,
            "field_too_long",
            "content is longer than 4 bytes",
        );
        assert_error(&not_b64, StatusCode::BAD_REQUEST, "invalid_field", "base64");
        assert_error(&prompt, StatusCode::BAD_REQUEST, "field_too_long", "prompt");
        assert_error(&worker, StatusCode::BAD_REQUEST, "invalid_field", "worker");
        assert_error(
            &channel,
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "discordChannelId",
        );
        assert_error(
            &edit,
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "old_string",
        );
        assert_eq!(fits.0, StatusCode::OK, "{}", fits.1);
        // Only the one valid request was queued.
        assert_eq!(app.claim("mac").await.len(), 1);
    })
    .await
}

#[tokio::test]
async fn a_discord_channel_must_be_a_non_zero_snowflake() {
    within(async {
        let app = TestApp::spawn().await;
        let mut answers = Vec::new();

        for bad in ["0", "000", "18446744073709551616", "184467440737095516160"] {
            for field in ["discordChannelId", "callbackChannel"] {
                let body = json!({"command": "true", field: bad});
                answers.push((bad, app.post("/tasks", Some(CLIENT), &body).await));
            }
        }
        let read = app
            .post(
                "/files/read",
                Some(CLIENT),
                &json!({"path": "/a", "discordChannelId": "0"}),
            )
            .await;

        for (bad, answer) in &answers {
            assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{bad:?}");
            assert_error(
                answer,
                StatusCode::BAD_REQUEST,
                "invalid_field",
                "discordChannelId",
            );
        }
        assert_error(&read, StatusCode::BAD_REQUEST, "invalid_field", "not 0");
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}
