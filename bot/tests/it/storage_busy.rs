//! A database another process holds locked (a backup, a `VACUUM`, an operator's open
//! transaction) costs the requests that must write a prompt 503 `storage_busy`, never the
//! runtime: `/health` and reads keep answering, and nothing is lost.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{read, TestApp, CLIENT};

/// How long the outside transaction holds the lock.
const HOLD: Duration = Duration::from_secs(3);
/// The bot's `storage.busy_timeout_ms` in these tests.
const BUSY_TIMEOUT_MS: u64 = 500;

/// Holds `BEGIN EXCLUSIVE` on the database at `path` from a connection of its own (as the
/// `sqlite3` shell would) for `hold`, then commits. Returns once the lock is held.
pub fn hold_write_lock(path: PathBuf, hold: Duration) -> JoinHandle<()> {
    let (locked, is_locked) = mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(hold);
        conn.execute_batch("COMMIT").unwrap();
    });
    is_locked.recv().unwrap();
    holder
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_write_lock_costs_writes_a_prompt_503_and_health_stays_fast() {
    let app = TestApp::spawn_with(|c| c.storage.busy_timeout_ms = BUSY_TIMEOUT_MS).await;
    let before = app.submit_command("echo before").await;
    let database = app.state.config().storage.database_path();
    // A fresh connection per request, as a load balancer's probe makes.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    let holder = hold_write_lock(database, HOLD);
    let locked_at = Instant::now();
    // More writers than the runtime has threads: on a runtime that runs the store inline,
    // they would occupy every thread.
    let creates: Vec<_> = (0..4)
        .map(|n| {
            let (http, url) = (app.http.clone(), app.url("/tasks"));
            tokio::spawn(async move {
                let started = Instant::now();
                let response = http
                    .post(url)
                    .bearer_auth(CLIENT)
                    .json(&json!({ "command": format!("echo during {n}") }))
                    .send()
                    .await
                    .unwrap();
                let retry_after = response.headers().get("retry-after").cloned();
                (read(response).await, retry_after, started.elapsed())
            })
        })
        .collect();
    let mut slowest_health = Duration::ZERO;
    let mut slowest_read = Duration::ZERO;
    while locked_at.elapsed() < HOLD - Duration::from_millis(300) {
        let started = Instant::now();
        let health = fresh.get(app.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        slowest_health = slowest_health.max(started.elapsed());
        let started = Instant::now();
        let (status, _) = app.task(before, 0).await;
        assert_eq!(status, StatusCode::OK);
        slowest_read = slowest_read.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut answers = Vec::new();
    for create in creates {
        answers.push(create.await.unwrap());
    }
    holder.join().unwrap();

    assert!(
        slowest_health < Duration::from_millis(100),
        "/health took {slowest_health:?}"
    );
    assert!(
        slowest_read < Duration::from_millis(100),
        "a read took {slowest_read:?}"
    );
    for ((status, body), retry_after, took) in &answers {
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], "storage_busy", "{body}");
        assert_eq!(retry_after.as_ref().unwrap(), "1");
        // The allowance, plus room for a loaded machine; never the lock's whole 3 s.
        assert!(
            took < &Duration::from_millis(2000),
            "a create took {took:?}"
        );
    }
    let after = app.submit_command("echo after").await;
    let (status, list) = app.get("/tasks?limit=50", Some(CLIENT)).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["taskId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [after.to_string(), before.to_string()],
        "nothing lost, nothing half-made"
    );
}
