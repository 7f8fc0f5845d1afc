//! A real webhook receiver for tests: axum on 127.0.0.1, recording every request, answering
//! 503 to the first `fail_first` of them, and verifying Standard Webhooks signatures with
//! its own code (not the bot's), so a signing bug cannot agree with itself.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::net::TcpListener;

/// The secret the tests configure (`whsec_` and 32 bytes in base64).
pub const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtZm9yLXdlYmhvb2tzLTMyYnl0ZXM=";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// Whether the receiver answered 2xx.
    pub accepted: bool,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Shared {
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
}

/// A running receiver.
pub struct Receiver {
    pub url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// A receiver on a fresh port that answers 503 to its first `fail_first` requests.
    pub async fn spawn(fail_first: usize) -> Receiver {
        Self::on(TcpListener::bind("127.0.0.1:0").await.unwrap(), fail_first)
    }

    /// A receiver on `listener`.
    pub fn on(listener: TcpListener, fail_first: usize) -> Receiver {
        let shared = Shared::default();
        shared.fail_first.store(fail_first, Ordering::SeqCst);
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, shared, task }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Waits until `count` requests were accepted (2xx), then returns all received.
    pub async fn wait_accepted(&self, count: usize) -> Vec<Received> {
        loop {
            let got = self.received();
            if got.iter().filter(|r| r.accepted).count() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let accepted = shared
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_err();
    shared.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Verifies a request the way the Standard Webhooks spec tells a receiver to: the base64 key
/// after `whsec_`, HMAC-SHA256 over `id.timestamp.body`, compared with each `v1,` signature.
pub fn signature_is_valid(secret: &str, got: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = format!("{}.{}.{}", got.id, got.timestamp, got.body);
    got.signature.split(' ').any(|sig| {
        let Some(b64) = sig.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(signed.as_bytes());
        mac.verify_slice(&expected).is_ok()
    })
}
