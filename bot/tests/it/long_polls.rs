//! Long polls at scale, over real HTTP: a thousand idle polls from one worker token cost
//! task creation and a working worker nothing, and a worker name past its open claims is
//! refused with `quota_exceeded` while nothing is lost.

use std::time::{Duration, Instant};

use openclaw_shared::worker::ClaimedTask;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, TestApp, CLIENT, WORKER};

/// Idle polls held open in the scale test.
const IDLE_POLLS: usize = 1000;
/// Tasks created, with and without the idle polls.
const CREATES: usize = 200;
/// This attack test opens a thousand sockets; it gets longer than the suite's usual bound.
const SCALE_TIMEOUT: Duration = Duration::from_secs(60);

/// A claim by `worker` waiting up to `wait_ms`, as a raw response.
async fn poll(app: &TestApp, worker: &str, wait_ms: u64) -> reqwest::Response {
    app.http
        .post(app.url("/v1/worker/claim"))
        .bearer_auth(WORKER)
        .json(&json!({"worker": worker, "slots": 1, "wait_ms": wait_ms}))
        .send()
        .await
        .unwrap()
}

/// Creates [`CREATES`] tasks for `worker`, one after another; how long that took.
async fn create_many(app: &TestApp, worker: &str) -> Duration {
    let started = Instant::now();
    for n in 0..CREATES {
        app.create(
            "/tasks",
            json!({"command": format!("echo {n}"), "worker": worker}),
        )
        .await;
    }
    started.elapsed()
}

/// Waits until the queue holds `count` waiting claims.
async fn until_waiting(app: &TestApp, count: usize) {
    while app.state.queue().waiting_claims() < count {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_thousand_idle_polls_slow_neither_task_creation_nor_a_workers_heartbeat() {
    let app = TestApp::spawn_with(|config| {
        // One address holds every poll here; the caps for the open internet would refuse it.
        config.http.max_connections = 4 * IDLE_POLLS;
        config.http.max_connections_per_ip = 4 * IDLE_POLLS;
        config.quota.max_waiting_claims_per_worker = 2 * IDLE_POLLS;
    })
    .await;
    tokio::time::timeout(SCALE_TIMEOUT, async {
        // A real worker with a task running: it must keep its lease whatever happens.
        let (running, _) = app
            .create("/tasks", json!({"command": "sleep 60", "worker": "mac"}))
            .await;
        let lease: ClaimedTask = app.claim("mac").await.remove(0);
        assert_eq!(lease.id, running);
        app.heartbeat("mac", &[&lease]).await;
        let unloaded = create_many(&app, "elsewhere").await;

        // A thousand long polls from the one worker token, none of which can take a task.
        let polls: Vec<_> = (0..IDLE_POLLS)
            .map(|_| {
                let (http, url) = (app.http.clone(), app.url("/v1/worker/claim"));
                tokio::spawn(async move {
                    http.post(url)
                        .bearer_auth(WORKER)
                        .json(&json!({"worker": "idle", "slots": 1, "wait_ms": 30_000}))
                        .send()
                        .await
                })
            })
            .collect();
        until_waiting(&app, IDLE_POLLS).await;
        let beats = {
            let (http, url) = (app.http.clone(), app.url("/v1/worker/heartbeat"));
            let body =
                json!({"worker": "mac", "leases": [{"task_id": lease.id, "lease": lease.lease}]});
            tokio::spawn(async move {
                let mut slowest = Duration::ZERO;
                for _ in 0..20 {
                    let started = Instant::now();
                    let answer = http.post(&url).bearer_auth(WORKER).json(&body).send().await;
                    let answer: serde_json::Value = answer.unwrap().json().await.unwrap();
                    slowest = slowest.max(started.elapsed());
                    assert_eq!(answer["leases"][0]["state"], "active", "{answer}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                slowest
            })
        };

        let loaded = create_many(&app, "mac").await;
        let slowest_beat = beats.await.unwrap();

        assert!(
            loaded < unloaded * 10 + Duration::from_secs(1),
            "{CREATES} creates took {loaded:?} with {IDLE_POLLS} idle polls, {unloaded:?} without"
        );
        assert!(
            slowest_beat < Duration::from_secs(1),
            "a heartbeat took {slowest_beat:?}"
        );
        // Nothing was lost to the idle polls: every task is there for its worker.
        let mut claimed = 0;
        loop {
            let got = app.claim("mac").await.len();
            if got == 0 {
                break;
            }
            claimed += got;
        }
        assert_eq!(claimed, CREATES);
        assert_eq!(
            app.state.queue().waiting_claims(),
            IDLE_POLLS,
            "no idle poll was answered"
        );
        for poll in polls {
            poll.abort();
        }
    })
    .await
    .expect("the scale test did not finish in time");
}

#[tokio::test]
async fn a_worker_past_its_open_claims_gets_quota_exceeded_and_nothing_is_lost() {
    let app = TestApp::spawn_with(|config| config.quota.max_waiting_claims_per_worker = 2).await;
    crate::helpers::within(async {
        let mut held = tokio::task::JoinSet::new();
        for _ in 0..2 {
            let (http, url) = (app.http.clone(), app.url("/v1/worker/claim"));
            held.spawn(async move {
                let body = json!({"worker": "mac", "slots": 1, "wait_ms": 8_000});
                let answer = http.post(url).bearer_auth(WORKER).json(&body).send().await;
                answer.unwrap().json::<serde_json::Value>().await.unwrap()
            });
        }
        until_waiting(&app, 2).await;

        let refused = poll(&app, "mac", 8_000).await;
        let retry_after = refused.headers().get("retry-after").cloned();
        let refused = crate::helpers::read(refused).await;
        let other = poll(&app, "mini", 0).await.status();
        let (task, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;

        assert_error(
            &refused,
            StatusCode::TOO_MANY_REQUESTS,
            "quota_exceeded",
            "2 claims",
        );
        assert!(retry_after.is_some(), "a 429 says when to retry");
        assert_eq!(other, StatusCode::OK, "another worker has its own claims");
        // The one claim woken answers first; the other keeps waiting.
        let taken = held.join_next().await.unwrap().unwrap();
        assert_eq!(taken["tasks"][0]["id"], task.to_string(), "{taken}");
        let (_, view) = app.task(task, 0).await;
        assert_eq!(view["status"], "running");
        let (_, list) = app.get("/tasks", Some(CLIENT)).await;
        assert_eq!(list["tasks"].as_array().unwrap().len(), 1);
    })
    .await
}
