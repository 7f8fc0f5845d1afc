//! `GET /metrics`: scraped and parsed as Prometheus would, after real traffic.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{success, within, TestApp, ADMIN, CLIENT, WORKER};

/// Every sample of an OpenMetrics text: `name{labels}` → value.
fn parse(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            (series.to_owned(), value.parse::<f64>().unwrap())
        })
        .collect()
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    parse(&text)
}

#[tokio::test]
async fn metrics_count_tasks_polls_and_requests_as_they_happen() {
    within(async {
        let app = TestApp::spawn().await;
        let finished = app.submit_command("echo one").await;
        let _queued = app.submit_command("echo two").await;
        let claimed = app.claim("mac").await;
        let first = claimed.iter().find(|c| c.id == finished).unwrap();
        app.report(first, "mac", &success("one\n")).await;
        // A worker waiting for more: one long poll held while we scrape.
        let poll = {
            let http = app.http.clone();
            let url = app.url("/v1/worker/claim");
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(WORKER)
                    .json(&json!({"worker": "mini", "slots": 1, "wait_ms": 3000}))
                    .send()
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;

        let m = scrape(&app).await;

        assert_eq!(
            m[r#"openclaw_tasks_created_total{kind="command",source="api"}"#],
            2.0
        );
        // The finished count follows the queue's events: give it a moment.
        let mut m = m;
        for _ in 0..50 {
            if m.contains_key(r#"openclaw_tasks_finished_total{kind="command",status="succeeded"}"#)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            m = scrape(&app).await;
        }
        assert_eq!(
            m[r#"openclaw_tasks_finished_total{kind="command",status="succeeded"}"#],
            1.0
        );
        assert_eq!(m["openclaw_task_wait_seconds_count"], 1.0);
        assert_eq!(m["openclaw_task_run_seconds_count"], 1.0);
        assert_eq!(m["openclaw_long_polls"], 1.0);
        assert_eq!(m["openclaw_workers_online"], 2.0);
        assert_eq!(m[r#"openclaw_queue_depth{status="running"}"#], 1.0);
        assert_eq!(m[r#"openclaw_queue_depth{status="succeeded"}"#], 1.0);
        assert_eq!(
            m[r#"openclaw_http_requests_total{method="POST",route="/tasks",status="200"}"#],
            2.0
        );
        poll.abort();
    })
    .await
}

#[tokio::test]
async fn metrics_need_the_admin_token() {
    within(async {
        let app = TestApp::spawn().await;

        let (client, _) = app.get("/metrics", Some(CLIENT)).await;
        let (nobody, _) = app.get("/metrics", None).await;

        assert_eq!(client, StatusCode::FORBIDDEN);
        assert_eq!(nobody, StatusCode::UNAUTHORIZED);
    })
    .await
}
