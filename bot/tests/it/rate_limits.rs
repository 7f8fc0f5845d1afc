//! Attacks on volume: floods and token guessing are answered 429 with a `Retry-After`.
//! Weak tokens at startup: `startup.rs`.

use openclaw_bot::config::RateLimitConfig;
use openclaw_bot::queue::Scope;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, read, within, TestApp, CLIENT, WORKER};

/// Most requests a test sends to reach a limit; each limit under test is far below it.
const MAX_ATTEMPTS: usize = 50;

/// A bot whose `[rate_limit]` is `tweak`ed from the defaults.
async fn limited_app(tweak: impl FnOnce(&mut RateLimitConfig)) -> TestApp {
    TestApp::spawn_with(|config| tweak(&mut config.rate_limit)).await
}

/// Sends `send` until it answers 429 (at most [`MAX_ATTEMPTS`] times); returns how many
/// answers came before, and the 429's `Retry-After` and body.
async fn until_limited<F, Fut>(mut send: F) -> (usize, String, Value)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    for before in 0..MAX_ATTEMPTS {
        let response = send().await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get("retry-after")
                .expect("a 429 without Retry-After")
                .to_str()
                .unwrap()
                .to_owned();
            let (_, body) = read(response).await;
            return (before, retry_after, body);
        }
    }
    panic!("no 429 after {MAX_ATTEMPTS} requests");
}

/// Asserts a 429 answer: whole seconds to wait, and our JSON error.
fn assert_rate_limited(retry_after: &str, body: &Value) {
    let secs: u64 = retry_after.parse().unwrap();
    assert!(secs >= 1, "Retry-After: {retry_after}");
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(body["error"].as_str().unwrap().contains("retry"), "{body}");
}

#[tokio::test]
async fn a_flood_with_one_token_is_429_and_the_refused_requests_queue_nothing() {
    within(async {
        let app = limited_app(|limits| {
            limits.per_token_per_sec = 1;
            limits.per_token_burst = 3;
        })
        .await;
        let create = || {
            app.http
                .post(app.url("/tasks"))
                .bearer_auth(CLIENT)
                .json(&json!({"command": "id"}))
                .send()
        };

        let (accepted, retry_after, body) =
            until_limited(|| async { create().await.unwrap() }).await;

        assert_rate_limited(&retry_after, &body);
        assert_eq!(stored_tasks(&app).await, accepted);
        // Another token has its own budget.
        let (status, answer) = app
            .post(
                "/v1/worker/claim",
                Some(WORKER),
                &json!({"worker": "mac", "slots": 1, "wait_ms": 0}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    })
    .await
}

/// How many tasks the queue holds, read from the store: the API may be refusing us.
async fn stored_tasks(app: &TestApp) -> usize {
    app.state
        .queue()
        .list(&Scope::All, None, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_flood_from_one_address_is_429_before_authentication() {
    within(async {
        let app = limited_app(|limits| {
            limits.per_ip_per_sec = 1;
            limits.per_ip_burst = 3;
        })
        .await;

        let (_, retry_after, body) =
            until_limited(|| async { app.http.get(app.url("/health")).send().await.unwrap() })
                .await;

        assert_rate_limited(&retry_after, &body);
        // Over the limit, even a valid token is turned away before it is looked at.
        let create = app
            .post("/tasks", Some(CLIENT), &json!({"command": "id"}))
            .await;
        assert_error(&create, StatusCode::TOO_MANY_REQUESTS, "rate_limited", "");
        assert_eq!(stored_tasks(&app).await, 0);
    })
    .await
}

#[tokio::test]
async fn guessing_tokens_locks_the_address_out_even_for_the_valid_token() {
    within(async {
        let app = limited_app(|limits| {
            limits.failed_auth_per_min = 1;
            limits.failed_auth_burst = 3;
        })
        .await;
        let mut guess = 0;

        let (failures, retry_after, body) = until_limited(|| {
            guess += 1;
            let token = format!("{}{guess:04}", &CLIENT[..CLIENT.len() - 4]);
            let request = app
                .http
                .post(app.url("/tasks"))
                .bearer_auth(token)
                .json(&json!({"command": "id"}));
            async move { request.send().await.unwrap() }
        })
        .await;

        assert!(failures >= 3, "locked out after {failures} failures");
        assert_rate_limited(&retry_after, &body);
        // The right guess now would not even be checked.
        let right = app
            .post("/tasks", Some(CLIENT), &json!({"command": "id"}))
            .await;
        assert_error(&right, StatusCode::TOO_MANY_REQUESTS, "rate_limited", "");
        assert_eq!(stored_tasks(&app).await, 0);
    })
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_only_the_guessing_client_is_locked_out() {
    within(async {
        let app = limited_app(|limits| {
            limits.failed_auth_per_min = 1;
            limits.failed_auth_burst = 2;
            limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            limits.client_ip_header = Some("x-forwarded-for".into());
        })
        .await;
        let from = |client: &'static str, token: &str| {
            app.http
                .post(app.url("/tasks"))
                .bearer_auth(token)
                // The attacker's own entry first, as a client may send; the proxy appends.
                .header("x-forwarded-for", format!("10.0.0.1, {client}"))
                .json(&json!({"command": "id"}))
                .send()
        };

        let (_, retry_after, body) =
            until_limited(|| async { from("203.0.113.5", "guess").await.unwrap() }).await;
        let (status, answer) = read(from("198.51.100.9", CLIENT).await.unwrap()).await;

        assert_rate_limited(&retry_after, &body);
        assert_eq!(
            status,
            StatusCode::OK,
            "a bystander was locked out: {answer}"
        );
        assert_eq!(stored_tasks(&app).await, 1);
    })
    .await
}

#[tokio::test]
async fn a_forwarded_header_from_an_untrusted_peer_does_not_dodge_the_lockout() {
    within(async {
        let app = limited_app(|limits| {
            limits.failed_auth_per_min = 1;
            limits.failed_auth_burst = 2;
            // Loopback, where the test connects from, is not the trusted proxy.
            limits.trusted_proxies = vec!["192.0.2.1".parse().unwrap()];
            limits.client_ip_header = Some("x-forwarded-for".into());
        })
        .await;
        let mut n = 0;

        // Every guess claims to come from a different client.
        let (_, retry_after, body) = until_limited(|| {
            n += 1;
            let request = app
                .http
                .post(app.url("/tasks"))
                .bearer_auth("guess")
                .header("x-forwarded-for", format!("203.0.113.{n}"))
                .json(&json!({"command": "id"}));
            async move { request.send().await.unwrap() }
        })
        .await;

        assert_rate_limited(&retry_after, &body);
        assert!(n <= 4, "rotating the header bought {n} guesses");
    })
    .await
}
