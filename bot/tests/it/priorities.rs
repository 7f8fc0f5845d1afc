//! Priorities over HTTP: every create route takes `priority` (0 first … 9 last), a worker's
//! claim takes the most urgent first, and a priority out of range is refused by name.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, within, TestApp, CLIENT};

#[tokio::test]
async fn a_claim_takes_the_most_urgent_task_first_whatever_route_created_it() {
    within(async {
        let app = TestApp::spawn().await;
        let (background, _) = app
            .create("/tasks", json!({"command": "true", "priority": 9}))
            .await;
        let (default, _) = app.create("/tasks", json!({"command": "true"})).await;
        let (urgent, _) = app
            .create("/files/read", json!({"path": "/tmp/x", "priority": 0}))
            .await;

        let claimed: Vec<_> = app.claim("mac").await.iter().map(|c| c.id).collect();
        let (_, view) = app.task(default, 0).await;

        assert_eq!(claimed, [urgent, default, background]);
        assert_eq!(view["priority"], 5, "the API's default: {view}");
    })
    .await
}

#[tokio::test]
async fn a_priority_out_of_range_is_refused_by_name_and_nothing_is_queued() {
    within(async {
        let app = TestApp::spawn().await;

        let answers = [
            app.post(
                "/tasks",
                Some(CLIENT),
                &json!({"command": "true", "priority": 10}),
            )
            .await,
            app.post(
                "/claude",
                Some(CLIENT),
                &json!({"prompt": "hi", "priority": -1}),
            )
            .await,
            app.post(
                "/files/write",
                Some(CLIENT),
                &json!({"path": "/a", "content": "", "priority": 1_000_000_000_000_i64}),
            )
            .await,
        ];
        let not_a_number = app
            .post(
                "/tasks",
                Some(CLIENT),
                &json!({"command": "true", "priority": "high"}),
            )
            .await;

        for answer in &answers {
            assert_error(answer, StatusCode::BAD_REQUEST, "invalid_field", "priority");
        }
        assert_eq!(
            not_a_number.0,
            StatusCode::BAD_REQUEST,
            "{}",
            not_a_number.1
        );
        assert!(app.claim("mac").await.is_empty());
    })
    .await
}
