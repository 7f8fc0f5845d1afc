//! SSRF through `callbackUrl`: a stolen client token must not make the bot reach the VPS's
//! internal network. Internal addresses are refused at intake (nothing queued) and again
//! before every attempt (a URL stored under looser rules sends nothing once they tighten).

use std::time::Duration;

use openclaw_bot::queue::WebhookState;
use openclaw_bot::Config;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{assert_error, success, within, TestApp, CLIENT};
use crate::webhook_receiver::{signature_is_valid, Receiver, SECRET};

fn callbacks(config: &mut Config, allow_loopback: bool) {
    config.webhook_delivery.callback_secret = Some(SecretString::from(SECRET));
    config.webhook_delivery.allow_loopback_callbacks = allow_loopback;
    config.webhook_delivery.retry_base_ms = 50;
}

#[tokio::test]
async fn callbacks_to_internal_addresses_are_refused_and_nothing_is_queued_or_sent() {
    within(async {
        let receiver = Receiver::spawn(0).await;
        let app = TestApp::spawn_with(|c| callbacks(c, false)).await;
        let port = receiver.url.rsplit(':').next().unwrap().to_owned();

        for url in [
            receiver.url.clone(),
            receiver.url.replace("http://", "https://"),
            format!("https://[::ffff:127.0.0.1]:{port}"),
            format!("https://localhost:{port}"),
            "https://169.254.169.254/latest/meta-data/iam/security-credentials/".into(),
            "https://10.0.0.1/".into(),
        ] {
            let answer = app
                .post(
                    "/tasks",
                    Some(CLIENT),
                    &json!({ "command": "true", "callbackUrl": url }),
                )
                .await;
            assert_error(
                &answer,
                StatusCode::BAD_REQUEST,
                "invalid_field",
                "callbackUrl",
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;

        let (_, listed) = app.get("/tasks", Some(CLIENT)).await;
        assert_eq!(
            listed["tasks"].as_array().map(Vec::len),
            Some(0),
            "{listed}"
        );
        assert!(receiver.received().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_stored_loopback_callback_sends_nothing_once_loopback_is_no_longer_allowed() {
    within(async {
        let receiver = Receiver::spawn(0).await;
        let body = json!({ "command": "true", "callbackUrl": receiver.url });
        // Stored while the operator allowed loopback callbacks...
        let app = TestApp::spawn_with(|c| callbacks(c, true)).await;
        let (id, _) = app.create("/tasks", body).await;
        let dir = app.stop().await;
        // ...and finished after they stopped allowing them.
        let app = TestApp::spawn_in(dir, |c| callbacks(c, false)).await;
        let claimed = app.claim("w1").await;
        app.report(&claimed[0], "w1", &success("x")).await;
        let queue = app.state.queue().clone();

        let failed = loop {
            let listed = queue.webhook_deliveries(Some(id), 10).await.unwrap();
            if let Some(d) = listed
                .into_iter()
                .find(|d| d.state != WebhookState::Pending)
            {
                break d;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };

        assert_eq!(failed.state, WebhookState::Failed);
        let why = failed.last_error.unwrap();
        assert!(why.contains("callbackUrl"), "{why}");
        assert!(
            receiver.received().is_empty(),
            "the bot reached a loopback address"
        );
    })
    .await;
}

#[tokio::test]
async fn an_allowed_callback_is_sent_signed_with_the_callback_secret() {
    within(async {
        let receiver = Receiver::spawn(0).await;
        let app = TestApp::spawn_with(|c| callbacks(c, true)).await;
        let body = json!({ "command": "true", "callbackUrl": receiver.url });

        let (id, _) = app.create("/tasks", body).await;
        let claimed = app.claim("w1").await;
        app.report(&claimed[0], "w1", &success("x")).await;
        let got = receiver.wait_accepted(1).await;

        assert!(signature_is_valid(SECRET, &got[0]));
        assert_eq!(got[0].json()["data"]["taskId"], id.to_string());
    })
    .await;
}
