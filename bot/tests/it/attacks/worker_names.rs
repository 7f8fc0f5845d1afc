//! Made-up worker names (issue 12, fault 5): 3,000 names from the shared worker token used
//! to put impostors "online" and hide the real worker. The shared token may now bring only
//! `auth.max_shared_worker_names` live names; past it a claim is refused with
//! `too_many_workers` and changes nothing; names unheard of for `queue.worker_expiry_secs`
//! are forgotten; `/admin/health` says which token each name came with.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::{claim_with, claimed_with, per_worker_app, MAC};
use crate::helpers::{assert_error, within, TestApp, ADMIN, WORKER};

/// Made-up names an attacker tries, as in the issue.
const IMPOSTORS: usize = 3_000;
/// Claims in flight at once during the flood.
const CONCURRENCY: usize = 16;

/// Claims once as each of `names` with `token` (16 at a time), and returns each answer's
/// status and `code`.
pub(crate) async fn flood_claims(
    app: &TestApp,
    token: &'static str,
    names: Vec<String>,
) -> Vec<(StatusCode, Value)> {
    let mut answers = Vec::with_capacity(names.len());
    for chunk in names.chunks(CONCURRENCY) {
        let mut claims = JoinSet::new();
        for name in chunk {
            let (http, url) = (app.http.clone(), app.url("/v1/worker/claim"));
            let body = json!({"worker": name, "slots": 1, "wait_ms": 0});
            claims.spawn(async move {
                let response = http.post(url).bearer_auth(token).json(&body).send().await;
                let (status, body) = crate::helpers::read(response.unwrap()).await;
                (status, body["code"].clone())
            });
        }
        while let Some(answer) = claims.join_next().await {
            answers.push(answer.unwrap());
        }
    }
    answers
}

fn impostors(count: usize) -> Vec<String> {
    // `a…` names sort before `mac`, as the impostors did.
    (0..count).map(|n| format!("a-impostor-{n:04}")).collect()
}

/// The workers `/admin/health` lists: name and token label.
async fn health_workers(app: &TestApp) -> Vec<(String, Value)> {
    let (status, health) = app.get("/admin/health", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    health["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap().to_owned(), w["token"].clone()))
        .collect()
}

#[tokio::test]
async fn thousands_of_made_up_names_from_the_shared_token_are_refused_past_its_cap() {
    within(async {
        let app = TestApp::spawn_with(|config| config.auth.max_shared_worker_names = 3).await;
        // The real worker polls first, and a task waits for it.
        assert!(app.claim("mac").await.is_empty());
        let id = app.submit_command("uptime").await;

        let answers = flood_claims(&app, WORKER, impostors(IMPOSTORS)).await;

        let admitted = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        let refused = answers
            .iter()
            .filter(|(s, code)| *s == StatusCode::FORBIDDEN && code == "too_many_workers")
            .count();
        assert_eq!(admitted, 2, "only the cap's other two places were free");
        assert_eq!(
            refused,
            IMPOSTORS - 2,
            "every other name is refused with its code"
        );
        let workers = health_workers(&app).await;
        assert_eq!(workers.len(), 3, "{workers:?}");
        assert!(workers.iter().any(|(name, _)| name == "mac"), "{workers:?}");
        assert!(workers
            .iter()
            .all(|(_, token)| token == "auth.worker_token"));
        // The impostors admitted were free to claim the task; the refused ones changed
        // nothing, and the real worker still claims as before.
        let refusal = claim_with(&app, WORKER, "a-impostor-2999").await;
        assert_error(
            &refusal,
            StatusCode::FORBIDDEN,
            "too_many_workers",
            "auth.max_shared_worker_names",
        );
        let (_, view) = app.task(id, 0).await;
        assert!(["pending", "running"].contains(&view["status"].as_str().unwrap()));
        assert!(app.claim("mac").await.len() <= 1, "mac is still admitted");
    })
    .await
}

#[tokio::test]
async fn names_unheard_of_past_the_expiry_are_forgotten_and_free_their_places() {
    within(async {
        let app = TestApp::spawn_with(|config| {
            config.auth.max_shared_worker_names = 2;
            config.queue.worker_expiry_secs = 1;
        })
        .await;
        let first = flood_claims(&app, WORKER, impostors(3)).await;
        assert_eq!(
            first.iter().filter(|(s, _)| *s == StatusCode::OK).count(),
            2
        );

        tokio::time::sleep(Duration::from_millis(1_300)).await;
        let after_expiry = health_workers(&app).await;
        let newcomer = claim_with(&app, WORKER, "mac").await;

        assert!(after_expiry.is_empty(), "{after_expiry:?}");
        assert_eq!(newcomer.0, StatusCode::OK, "{}", newcomer.1);
        assert_eq!(
            health_workers(&app).await,
            [("mac".to_owned(), json!("auth.worker_token"))]
        );
    })
    .await
}

#[tokio::test]
async fn a_worker_in_a_long_poll_is_not_forgotten_while_it_waits() {
    within(async {
        let app = TestApp::spawn_with(|config| {
            config.auth.max_shared_worker_names = 1;
            config.queue.worker_expiry_secs = 1;
        })
        .await;
        let waiting = {
            let (http, url) = (app.http.clone(), app.url("/v1/worker/claim"));
            tokio::spawn(async move {
                let body = json!({"worker": "mac", "slots": 1, "wait_ms": 2_500});
                http.post(url).bearer_auth(WORKER).json(&body).send().await
            })
        };

        // Past the expiry, while mac's long poll still waits.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let listed = health_workers(&app).await;
        let impostor = claim_with(&app, WORKER, "a-impostor").await;

        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].0, "mac");
        assert_error(
            &impostor,
            StatusCode::FORBIDDEN,
            "too_many_workers",
            "already serves 1",
        );
        assert_eq!(waiting.await.unwrap().unwrap().status(), StatusCode::OK);
    })
    .await
}

#[tokio::test]
async fn a_per_worker_token_is_never_capped_and_shows_its_own_label() {
    within(async {
        let app = per_worker_app().await;

        let own = claimed_with(&app, MAC, "mac").await;

        assert!(own.is_empty());
        assert_eq!(
            health_workers(&app).await,
            [("mac".to_owned(), json!("auth.workers (name = \"mac\")"))]
        );
    })
    .await
}
