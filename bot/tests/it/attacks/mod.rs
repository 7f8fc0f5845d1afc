//! The server side of the attack suite. Each test plays an attacker against a real bot over
//! real HTTP and asserts that the attack fails AND that nothing changed: the task's status
//! and result are as before, and nothing was queued. Rate limits: `rate_limits.rs`; the
//! worker side, against the real worker binary: the `openclaw-e2e` crate.
//!
//! # Layout
//! - [`results`]: forged results, missing and stale leases.
//! - [`tokens`]: malformed, near-miss and wrong-role tokens.
//! - [`workers`]: per-worker tokens acting as another worker; the shared token.
//! - [`worker_names`]: thousands of made-up worker names from the shared token.
//! - [`bodies`]: oversized bodies.
//! - [`callbacks`]: `callbackUrl`s aimed at the bot's internal network (SSRF).
//! - [`live_output`]: live output pieces under a wrong lease, from another worker, too late.

mod bodies;
mod callbacks;
mod live_output;
mod results;
mod tokens;
mod worker_names;
mod workers;

pub(crate) use worker_names::flood_claims;

use openclaw_shared::worker::{ClaimResponse, ClaimedTask};
use openclaw_shared::{LeaseId, TaskId};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};

use openclaw_bot::config::WorkerTokenConfig;

use crate::helpers::{success, TestApp, CLIENT};

/// `mac`'s own worker token in [`per_worker_app`].
pub const MAC: &str = "oc_worker_mac_Vd3Kp8Qs1Xz6Wn4Ty9Bf2Lh7";
/// `mini`'s own worker token in [`per_worker_app`].
pub const MINI: &str = "oc_worker_mini_Rg5Jc0Mv7Ua2Ek8Ho3Yt6Pq1";

/// A bot with per-worker tokens for `mac` and `mini` and no shared worker token.
pub async fn per_worker_app() -> TestApp {
    TestApp::spawn_with(|config| {
        config.auth.worker_token = None;
        config.auth.workers = vec![
            WorkerTokenConfig {
                name: "mac".into(),
                token: SecretString::from(MAC),
            },
            WorkerTokenConfig {
                name: "mini".into(),
                token: SecretString::from(MINI),
            },
        ];
    })
    .await
}

/// A claim by `worker` with `token`, without waiting.
pub(super) async fn claim_with(app: &TestApp, token: &str, worker: &str) -> (StatusCode, Value) {
    let body = json!({"worker": worker, "slots": 8, "wait_ms": 0});
    app.post("/v1/worker/claim", Some(token), &body).await
}

/// The tasks `worker` claims with `token`; the claim must succeed.
pub(super) async fn claimed_with(app: &TestApp, token: &str, worker: &str) -> Vec<ClaimedTask> {
    let (status, answer) = claim_with(app, token, worker).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    serde_json::from_value::<ClaimResponse>(answer)
        .unwrap()
        .tasks
}

/// A result for `id` as `worker` with `token` and `lease`.
pub(super) async fn report_with(
    app: &TestApp,
    token: &str,
    id: TaskId,
    worker: &str,
    lease: LeaseId,
    stdout: &str,
) -> (StatusCode, Value) {
    let body = json!({"worker": worker, "lease": lease, "outcome": success(stdout)});
    let path = format!("/v1/worker/tasks/{id}/result");
    app.post(&path, Some(token), &body).await
}

/// The client's view of task `id`, which must exist.
pub(super) async fn view(app: &TestApp, id: TaskId) -> Value {
    let (status, view) = app.task(id, 0).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    view
}

/// How many tasks the queue holds.
pub(super) async fn task_count(app: &TestApp) -> usize {
    let (status, list) = app.get("/tasks?limit=100", Some(CLIENT)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["tasks"].as_array().unwrap().len()
}

/// `POST /tasks` with a raw `Authorization` header value.
pub(super) async fn create_with_header(app: &TestApp, authorization: &str) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/tasks"))
        .header("Authorization", authorization)
        .json(&json!({"command": "id"}))
        .send()
        .await
        .unwrap();
    crate::helpers::read(response).await
}
