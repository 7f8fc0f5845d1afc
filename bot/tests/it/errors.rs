//! Bad input gets a JSON error with a stable code and the right status — never HTML.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, read, within, TestApp, CLIENT};

/// Sends `body` as raw bytes to `POST /tasks` with the client token, no content type.
async fn post_raw(
    app: &TestApp,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, serde_json::Value) {
    let response = app
        .http
        .post(app.url("/tasks"))
        .bearer_auth(CLIENT)
        .body(body)
        .send()
        .await
        .unwrap();
    read(response).await
}

#[tokio::test]
async fn malformed_json_wrong_types_and_missing_fields_are_400_with_our_body() {
    within(async {
        let app = TestApp::spawn().await;

        let broken = post_raw(&app, "{\"command\": ").await;
        let empty = post_raw(&app, "").await;
        let wrong_type = post_raw(&app, r#"{"command": 5}"#).await;
        let negative = post_raw(&app, r#"{"command": "true", "timeout": -1}"#).await;
        let missing = post_raw(&app, r#"{"timeout": 5000}"#).await;
        let not_object = post_raw(&app, "[1, 2]").await;

        assert_error(
            &broken,
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "not valid JSON",
        );
        assert_error(&empty, StatusCode::BAD_REQUEST, "invalid_json", "empty");
        assert_error(
            &wrong_type,
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "`command`",
        );
        assert_error(
            &negative,
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "`timeout`",
        );
        assert_eq!(
            missing.1,
            json!({"error": "command is required", "code": "invalid_json"})
        );
        assert_error(
            &not_object,
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "invalid request body",
        );
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}

#[tokio::test]
async fn a_json_body_is_accepted_whatever_its_content_type() {
    within(async {
        let app = TestApp::spawn().await;

        // What `curl -d '{...}'` sends.
        let form = app
            .http
            .post(app.url("/tasks"))
            .bearer_auth(CLIENT)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(r#"{"command": "uptime"}"#)
            .send()
            .await
            .unwrap();
        let bare = post_raw(&app, r#"{"command": "date"}"#).await;

        assert_eq!(read(form).await.0, StatusCode::OK);
        assert_eq!(bare.0, StatusCode::OK);
        assert_eq!(app.claim("mac").await.len(), 2);
    })
    .await
}

#[tokio::test]
async fn an_oversized_body_is_a_413_json() {
    within(async {
        let app = TestApp::spawn_with(|c| {
            c.limits.max_content_bytes = 1024;
            c.http.body_limit_bytes = 70 * 1024;
        })
        .await;
        let command = "x".repeat(100 * 1024);

        let answer = post_raw(
            &app,
            serde_json::to_vec(&json!({"command": command})).unwrap(),
        )
        .await;

        assert_error(
            &answer,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "larger than the limit",
        );
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_json() {
    within(async {
        let app = TestApp::spawn().await;

        let unknown = app.get("/nope", Some(CLIENT)).await;
        let method = read(
            app.http
                .delete(app.url("/tasks"))
                .bearer_auth(CLIENT)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let get_claim = app.get("/v1/worker/claim", None).await;

        assert_error(&unknown, StatusCode::NOT_FOUND, "not_found", "/nope");
        assert_error(
            &method,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method",
        );
        assert_error(
            &get_claim,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method",
        );
    })
    .await
}
