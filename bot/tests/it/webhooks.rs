//! Webhooks against a real receiver: signed per Standard Webhooks (checked by the receiver's
//! own code), retried with backoff until taken, sent once taken, kept across a restart, and
//! given up after the last attempt until redelivered.

use std::time::Duration;

use openclaw_bot::config::WebhookEndpointConfig;
use openclaw_bot::queue::{now_millis, WebhookState};
use openclaw_bot::Config;
use openclaw_shared::TaskId;
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::helpers::{success, within, TestApp, ADMIN, CLIENT, WORKER};
use crate::webhook_receiver::{signature_is_valid, Receiver, SECRET};

/// Sends `events` (all when empty) to `url`, retrying after 50 ms, 200 ms, … up to 1 s.
fn endpoint(config: &mut Config, url: &str, events: &[&str]) {
    config.webhooks = vec![WebhookEndpointConfig {
        url: url.to_owned(),
        secret: SecretString::from(SECRET),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
    }];
    config.webhook_delivery.retry_base_ms = 50;
    config.webhook_delivery.max_retry_delay_secs = 1;
}

/// Submits a command and has worker `w1` finish it with `stdout`.
async fn finish_a_task(app: &TestApp, stdout: &str) -> TaskId {
    let id = app.submit_command("echo hi").await;
    let claimed = app.claim("w1").await;
    app.report(&claimed[0], "w1", &success(stdout)).await;
    id
}

#[tokio::test]
async fn a_finished_task_is_sent_signed_and_without_secrets() {
    within(async {
        let receiver = Receiver::spawn(0).await;
        let app = TestApp::spawn_with(|c| endpoint(c, &receiver.url, &["task.finished"])).await;

        let id = finish_a_task(&app, "the-output-stays-home").await;
        let got = receiver.wait_accepted(1).await;

        assert_eq!(got.len(), 1, "{got:?}");
        let message = &got[0];
        assert!(signature_is_valid(SECRET, message), "{message:?}");
        assert!(!signature_is_valid(
            "whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGVz",
            message
        ));
        assert!(message.id.starts_with("msg_"), "{}", message.id);
        let sent_at: u64 = message.timestamp.parse().unwrap();
        assert!(now_millis() / 1000 - sent_at < 60);
        let body = message.json();
        assert_eq!(body["type"], "task.finished");
        assert_eq!(body["data"]["taskId"], id.to_string());
        assert_eq!(body["data"]["status"], "succeeded");
        assert_eq!(body["data"]["worker"], "w1");
        for secret in ["the-output-stays-home", CLIENT, WORKER, ADMIN, SECRET] {
            assert!(!message.body.contains(secret), "payload carries {secret}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_worker_coming_online_is_sent() {
    within(async {
        let receiver = Receiver::spawn(0).await;
        let app = TestApp::spawn_with(|c| endpoint(c, &receiver.url, &["worker.online"])).await;

        app.claim("mac-mini").await;
        let got = receiver.wait_accepted(1).await;

        let body = got[0].json();
        assert_eq!(body["type"], "worker.online");
        assert_eq!(body["data"]["worker"], "mac-mini");
    })
    .await;
}

#[tokio::test]
async fn a_task_awaiting_approval_is_sent_with_its_fingerprint() {
    within(async {
        let receiver = Receiver::spawn(0).await;
        let app =
            TestApp::spawn_with(|c| endpoint(c, &receiver.url, &["task.awaiting_approval"])).await;

        let claimed = crate::approvals::awaiting(&app).await;
        let got = receiver.wait_accepted(1).await;

        let body = got[0].json();
        assert_eq!(body["type"], "task.awaiting_approval");
        assert_eq!(body["data"]["taskId"], claimed.id.to_string());
        assert_eq!(body["data"]["fingerprint"], "ABCD2345");
        assert!(signature_is_valid(SECRET, &got[0]));
    })
    .await;
}

#[tokio::test]
async fn a_worker_not_heard_from_is_sent_offline() {
    within(async {
        let receiver = Receiver::spawn(0).await;
        let app = TestApp::spawn_with(|c| {
            endpoint(c, &receiver.url, &["worker.online", "worker.offline"]);
            c.queue.worker_expiry_secs = 1;
        })
        .await;

        app.claim("mac-mini").await;
        let got = receiver.wait_accepted(2).await;

        let types: Vec<_> = got.iter().map(|r| r.json()["type"].clone()).collect();
        assert_eq!(types, ["worker.online", "worker.offline"]);
        assert_eq!(got[1].json()["data"]["worker"], "mac-mini");
    })
    .await;
}

#[tokio::test]
async fn a_receiver_that_fails_is_retried_with_the_same_id_until_it_takes_the_message() {
    within(async {
        let receiver = Receiver::spawn(2).await;
        let app = TestApp::spawn_with(|c| endpoint(c, &receiver.url, &["task.finished"])).await;

        finish_a_task(&app, "x").await;
        let got = receiver.wait_accepted(1).await;
        // Nothing more comes once it was taken.
        tokio::time::sleep(Duration::from_millis(300)).await;

        let got_later = receiver.received();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got_later.len(), 3, "sent again after it was taken");
        assert!(got
            .iter()
            .all(|r| r.id == got[0].id && r.body == got[0].body));
        // Counted once the receiver's answer reached the bot, a moment after it saw it.
        let delivered = "openclaw_webhook_deliveries_total{outcome=\"delivered\"} 1";
        let metrics = loop {
            let text = app
                .http
                .get(app.url("/metrics"))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if text.contains(delivered) {
                break text;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            metrics.contains("openclaw_webhook_deliveries_total{outcome=\"retried\"} 2"),
            "{metrics}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_message_is_failed_after_its_last_attempt_and_sent_again_when_redelivered() {
    within(async {
        let receiver = Receiver::spawn(3).await;
        let app = TestApp::spawn_with(|c| {
            endpoint(c, &receiver.url, &["task.finished"]);
            c.webhook_delivery.max_attempts = 3;
        })
        .await;
        let queue = app.state.queue().clone();

        finish_a_task(&app, "x").await;
        let failed = loop {
            let listed = queue.webhook_deliveries(None, 10).await.unwrap();
            if listed
                .first()
                .is_some_and(|d| d.state == WebhookState::Failed)
            {
                break listed[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(failed.attempts, 3);
        assert_eq!(failed.last_status, Some(503));
        queue
            .redeliver_webhook(failed.id.clone(), now_millis())
            .await
            .unwrap();
        let got = receiver.wait_accepted(1).await;

        assert_eq!(got.len(), 4);
        assert_eq!(got[3].id, failed.id);
        // The receiver saw it before its answer reached the bot: wait for the record.
        while queue.webhook_deliveries(None, 1).await.unwrap()[0].state != WebhookState::Delivered {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_message_not_yet_taken_is_sent_after_a_restart() {
    within(async {
        // The receiver's port, closed for now: attempts fail to connect.
        let port = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = port.local_addr().unwrap();
        drop(port);
        let url = format!("http://{addr}/hook");
        let app = TestApp::spawn_with(|c| endpoint(c, &url, &["task.finished"])).await;
        let id = finish_a_task(&app, "x").await;
        let queue = app.state.queue().clone();
        while queue.webhook_deliveries(None, 1).await.unwrap()[0].attempts == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let before = queue.webhook_deliveries(None, 1).await.unwrap().remove(0);
        let dir = app.stop().await;

        let receiver = Receiver::on(TcpListener::bind(addr).await.unwrap(), 0);
        let app = TestApp::spawn_in(dir, |c| endpoint(c, &url, &["task.finished"])).await;
        let got = receiver.wait_accepted(1).await;

        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, before.id, "the id is stable across the restart");
        assert_eq!(got[0].json()["data"]["taskId"], id.to_string());
        assert_eq!(before.state, WebhookState::Pending);
        drop(app);
    })
    .await;
}
