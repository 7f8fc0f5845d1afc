//! The real bot, in-process on loopback with SQLite in a temp dir, and typed helpers over
//! its client API. Also the one thing an attacker who owns the bot can do that its API
//! refuses: write to its database directly ([`TestBot::plant_decision`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openclaw_bot::AppState;
use openclaw_shared::client::{TaskCreated, TaskList, TaskView};
use openclaw_shared::worker::{ClaimResponse, ClaimedTask};
use openclaw_shared::TaskId;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{init_logs, within_limit, ADMIN_TOKEN, CLIENT_TOKEN, WORKER_TOKEN};

/// The real bot on loopback, with typed helpers over its client API. Cancelled on drop; a
/// test fails if the bot stopped on its own before it ended (bors).
pub struct TestBot {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The bot's SQLite database.
    pub db_path: PathBuf,
    /// The bot's shared state, for what no API shows (the queue's own view).
    pub state: AppState,
    shutdown: CancellationToken,
    running: Option<JoinHandle<anyhow::Result<()>>>,
    http: reqwest::Client,
}

impl TestBot {
    /// Starts the bot on `bind` (port 0 for a free one) with its data in `data_dir`.
    pub async fn start(data_dir: &Path, bind: SocketAddr) -> Self {
        Self::start_with(data_dir, bind, |_| {}).await
    }

    /// [`TestBot::start`], with the configuration changed by `tweak` first.
    pub async fn start_with(
        data_dir: &Path,
        bind: SocketAddr,
        tweak: impl FnOnce(&mut openclaw_bot::Config),
    ) -> Self {
        init_logs();
        let mut config = openclaw_bot::Config::default();
        config.http.bind = bind;
        config.storage.data_dir = data_dir.to_owned();
        config.auth.client_token = Some(SecretString::from(CLIENT_TOKEN));
        config.auth.worker_token = Some(SecretString::from(WORKER_TOKEN));
        config.auth.admin_token = Some(SecretString::from(ADMIN_TOKEN));
        tweak(&mut config);
        let db_path = config.storage.database_path();
        let app = openclaw_bot::App::build(config).await.unwrap();
        let addr = app.local_addr();
        let state = app.state().clone();
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(app.run(shutdown.clone()));
        Self {
            addr,
            db_path,
            state,
            shutdown,
            running: Some(running),
            http: reqwest::Client::new(),
        }
    }

    /// The bot's base URL, as a worker is configured with it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the bot and fails the test if it ended with an error.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            within_limit(running).await.unwrap().unwrap();
        }
    }

    /// `POST path` with the client token; returns the new task's id.
    pub async fn submit(&self, path: &str, body: Value) -> TaskId {
        self.create(path, body).await.task_id
    }

    /// `POST path` with the client token; returns the whole answer (`sessionId` too).
    pub async fn create(&self, path: &str, body: Value) -> TaskCreated {
        let response = self
            .http
            .post(format!("{}{path}", self.url()))
            .bearer_auth(CLIENT_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json::<TaskCreated>().await.unwrap()
    }

    /// `POST /v1/worker/claim` as `worker`, with the worker token, not waiting: the ids
    /// handed out. Plays a worker whose poll is answered but which never hears it.
    pub async fn claim_as(&self, worker: &str) -> Vec<TaskId> {
        let response = self
            .http
            .post(format!("{}/v1/worker/claim", self.url()))
            .bearer_auth(WORKER_TOKEN)
            .json(&json!({ "worker": worker, "slots": 8, "wait_ms": 0 }))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "claim: {}",
            response.status()
        );
        let claimed: ClaimResponse = response.json().await.unwrap();
        claimed.tasks.into_iter().map(|task| task.id).collect()
    }

    /// Claims as `worker` and accepts what it was handed (a heartbeat of the leases): plays
    /// a worker that took tasks and then stopped. The tasks, with their leases.
    pub async fn claim_and_accept(&self, worker: &str) -> Vec<ClaimedTask> {
        let post = |path: &str, body: Value| {
            self.http
                .post(format!("{}/v1/worker/{path}", self.url()))
                .bearer_auth(WORKER_TOKEN)
                .json(&body)
                .send()
        };
        let claimed: ClaimResponse = post(
            "claim",
            json!({ "worker": worker, "slots": 8, "wait_ms": 0 }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let leases: Vec<Value> = claimed
            .tasks
            .iter()
            .map(|task| json!({ "task_id": task.id, "lease": task.lease }))
            .collect();
        let accepted = post("heartbeat", json!({ "worker": worker, "leases": leases }))
            .await
            .unwrap();
        assert!(accepted.status().is_success(), "{}", accepted.status());
        claimed.tasks
    }

    /// `GET path` with the admin token: the status and the JSON body.
    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url()))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// `POST /tasks {command}`.
    pub async fn command(&self, command: &str) -> TaskId {
        self.submit("/tasks", json!({ "command": command })).await
    }

    /// `GET /tasks/:id?wait=`.
    pub async fn task(&self, id: TaskId, wait_ms: u64) -> TaskView {
        self.http
            .get(format!("{}/tasks/{id}?wait={wait_ms}", self.url()))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits (long polls) until the task is final.
    pub async fn finished(&self, id: TaskId) -> TaskView {
        within_limit(async {
            loop {
                let view = self.task(id, 60_000).await;
                // As the original's clients read it: only pending and running are unfinished.
                if !matches!(view.status.as_str(), "pending" | "running") {
                    return view;
                }
            }
        })
        .await
    }

    /// Polls until the task's full `state` is `status` (e.g. `awaiting_approval`, which no
    /// long poll reports), failing fast if it ends in another one.
    pub async fn reaches(&self, id: TaskId, status: &str) -> TaskView {
        within_limit(async {
            loop {
                let view = self.task(id, 0).await;
                if view.state.as_str() == status {
                    return view;
                }
                assert!(
                    !view.state.is_terminal(),
                    "task ended `{}` while waiting for `{status}`: {view:?}",
                    view.state
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
        .await
    }

    /// `GET /tasks?status=`: how many tasks have this (client) status.
    pub async fn count(&self, status: &str) -> usize {
        let list: TaskList = self
            .http
            .get(format!("{}/tasks?status={status}&limit=200", self.url()))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.tasks.len()
    }

    /// `POST /tasks/:id/cancel`.
    pub async fn cancel(&self, id: TaskId) {
        let status = self.post(&format!("/tasks/{id}/cancel"), json!({})).await;
        assert!(status.is_success(), "cancel: {status}");
    }

    /// `POST /tasks/:id/approve {code, fingerprint}`: relays the owner's code.
    pub async fn approve(&self, id: TaskId, fingerprint: &str, code: &str) -> StatusCode {
        let body = json!({ "code": code, "fingerprint": fingerprint });
        self.post(&format!("/tasks/{id}/approve"), body).await
    }

    /// `POST /tasks/:id/deny`.
    pub async fn deny(&self, id: TaskId) {
        let status = self.post(&format!("/tasks/{id}/deny"), json!({})).await;
        assert!(status.is_success(), "deny: {status}");
    }

    async fn post(&self, path: &str, body: Value) -> StatusCode {
        self.http
            .post(format!("{}{path}", self.url()))
            .bearer_auth(CLIENT_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// `GET /tasks/:id/attachments/:name`: the status, content type and bytes.
    pub async fn attachment(&self, id: TaskId, name: &str) -> (StatusCode, String, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}/tasks/{id}/attachments/{name}", self.url()))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            status,
            content_type,
            response.bytes().await.unwrap().to_vec(),
        )
    }

    /// Plays an attacker who owns the bot's database: stores `decision` (JSON) as the
    /// owner's answer for task `id`, which the API would have refused, for the worker to
    /// pick up on its next heartbeat.
    pub fn plant_decision(&self, id: TaskId, decision: &Value) {
        let db = rusqlite::Connection::open(&self.db_path).unwrap();
        db.busy_timeout(Duration::from_secs(10)).unwrap();
        let changed = db
            .execute(
                "UPDATE tasks SET approval_decision = ?2 WHERE id = ?1",
                rusqlite::params![id.to_string(), decision.to_string()],
            )
            .unwrap();
        assert_eq!(changed, 1, "no task {id} in the bot's database");
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            // bors' rule: a test passes only if the bot was still up when it ended.
            if running.is_finished() && !std::thread::panicking() {
                panic!("the bot stopped before the test ended");
            }
        }
        self.shutdown.cancel();
    }
}
