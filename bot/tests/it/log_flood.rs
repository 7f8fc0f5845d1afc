//! The log is not an attacker's megaphone: a refusal repeated at will is logged once per
//! interval with a count, not once per request.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, WORKER};

/// A writer that keeps every log line in memory.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_flood_of_forbidden_requests_writes_one_warning_not_one_per_request() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // This test's runtime is single-threaded: the bot's tasks log on this thread.
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::spawn().await;

    for _ in 0..200 {
        // A worker token on a client route: 403, logged at warn.
        let (status, _) = app
            .post("/tasks", Some(WORKER), &json!({"command": "id"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let refusals = log.matches("request refused").count();
    // At most one line per 10 s interval (the throttle is process-wide, so another test
    // may have used this interval's line already).
    assert!(refusals <= 2, "{refusals} lines:\n{log}");
}
