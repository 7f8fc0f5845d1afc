//! `TestApp`: a real bot on 127.0.0.1:0 with a fresh SQLite in a temp dir, explicit tokens,
//! and typed helpers for the client and worker protocols (zero2prod's `spawn_app`); and the
//! real bot binary, for tests of what only `main` does.

use std::future::Future;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::LazyLock;
use std::time::Duration;

use openclaw_bot::{App, AppState, Config};
use openclaw_shared::worker::{ClaimResponse, ClaimedTask, HeartbeatResponse, HeldLease};
use openclaw_shared::{OutcomeStatus, TaskId, TaskOutcome};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The client token every `TestApp` uses (32+ characters: the bot refuses shorter ones).
pub const CLIENT: &str = "oc_client_it_Qm4vX8rT2nW6yB0kD3hF7jL1";
/// The worker token every `TestApp` uses.
pub const WORKER: &str = "oc_worker_it_Hs5gZ9cP3xV7nM1qR6tY0wE4";
/// The admin token every `TestApp` uses.
pub const ADMIN: &str = "oc_admin_it_Lb8dK2fN6sU0jA4pG7zC1vX5";

/// No test may take longer; long-poll tests rely on this being far below their wait.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `TEST_LOG=1` shows the app's logs (zero2prod).
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        openclaw_bot::telemetry::init("debug");
    }
});

/// Runs a test body, failing it if it takes longer than [`TEST_TIMEOUT`].
pub async fn within<F: Future>(body: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .expect("the test did not finish within its timeout")
}

/// A test configuration: loopback port 0, state in `dir`, fixed tokens, fast sweeps.
pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.http.bind = "127.0.0.1:0".parse().unwrap();
    config.storage.data_dir = dir.to_path_buf();
    config.auth.client_token = Some(SecretString::from(CLIENT));
    config.auth.worker_token = Some(SecretString::from(WORKER));
    config.auth.admin_token = Some(SecretString::from(ADMIN));
    config.queue.sweep_interval_ms = 50;
    config
}

/// A running bot. Cancelled on drop; a test fails if the bot stopped on its own.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    dir: Option<TempDir>,
    shutdown: CancellationToken,
    run: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// A bot with the test configuration.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A bot with the test configuration changed by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_in(tempfile::tempdir().unwrap(), tweak).await
    }

    /// A bot whose state lives in `dir` (which may hold a previous run's state).
    pub async fn spawn_in(dir: TempDir, tweak: impl FnOnce(&mut Config)) -> TestApp {
        LazyLock::force(&TRACING);
        let mut config = test_config(dir.path());
        tweak(&mut config);
        let app = App::build(config).await.expect("building the app");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let shutdown = CancellationToken::new();
        let run = tokio::spawn(app.run(shutdown.clone()));
        TestApp {
            base,
            http: reqwest::Client::new(),
            state,
            dir: Some(dir),
            shutdown,
            run: Some(run),
        }
    }

    /// Stops the bot, asserts it stopped cleanly, and hands back its data dir.
    pub async fn stop(mut self) -> TempDir {
        self.shutdown.cancel();
        let run = self.run.take().unwrap();
        run.await.unwrap().expect("the app stopped with an error");
        self.dir.take().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST path` with a JSON body and an optional bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        read(req.send().await.unwrap()).await
    }

    /// `GET path` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        read(req.send().await.unwrap()).await
    }

    /// Creates a task through a client route; asserts the original's 200 answer.
    pub async fn create(&self, path: &str, body: Value) -> (TaskId, Value) {
        let (status, answer) = self.post(path, Some(CLIENT), &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let id = answer["taskId"].as_str().unwrap().parse().unwrap();
        (id, answer)
    }

    /// `POST /tasks {"command": command}`.
    pub async fn submit_command(&self, command: &str) -> TaskId {
        self.create("/tasks", json!({ "command": command })).await.0
    }

    /// `GET /tasks/:id?wait=wait_ms` with the client token.
    pub async fn task(&self, id: TaskId, wait_ms: u64) -> (StatusCode, Value) {
        self.get(&format!("/tasks/{id}?wait={wait_ms}"), Some(CLIENT))
            .await
    }

    /// A claim by `worker` for up to 8 tasks, without waiting.
    pub async fn claim(&self, worker: &str) -> Vec<ClaimedTask> {
        self.claim_waiting(worker, 0).await
    }

    /// A claim by `worker` for up to 8 tasks, waiting up to `wait_ms`.
    pub async fn claim_waiting(&self, worker: &str, wait_ms: u64) -> Vec<ClaimedTask> {
        let body = json!({ "worker": worker, "slots": 8, "wait_ms": wait_ms });
        let (status, answer) = self.post("/v1/worker/claim", Some(WORKER), &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        serde_json::from_value::<ClaimResponse>(answer)
            .unwrap()
            .tasks
    }

    /// Reports `outcome` for `claimed` as `worker`, with the claim's lease.
    pub async fn report(
        &self,
        claimed: &ClaimedTask,
        worker: &str,
        outcome: &TaskOutcome,
    ) -> (StatusCode, Value) {
        let body = json!({ "worker": worker, "lease": claimed.lease, "outcome": outcome });
        let path = format!("/v1/worker/tasks/{}/result", claimed.id);
        self.post(&path, Some(WORKER), &body).await
    }

    /// A heartbeat by `worker` for `claims`.
    pub async fn heartbeat(&self, worker: &str, claims: &[&ClaimedTask]) -> HeartbeatResponse {
        let leases: Vec<HeldLease> = claims
            .iter()
            .map(|c| HeldLease {
                task_id: c.id,
                lease: c.lease,
            })
            .collect();
        let body = json!({ "worker": worker, "leases": leases });
        let (status, answer) = self.post("/v1/worker/heartbeat", Some(WORKER), &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        serde_json::from_value(answer).unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(run) = &self.run {
            // bors' rule: a test passes only if the app was still up when it ended.
            if run.is_finished() && !std::thread::panicking() {
                panic!("the app stopped before the test ended");
            }
        }
        self.shutdown.cancel();
    }
}

/// Status and JSON body of a response; a non-JSON body fails the test (we never send HTML).
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{status}: body is not JSON ({err}): {text:?}"));
    (status, body)
}

/// A successful outcome with `stdout` and exit code 0.
pub fn success(stdout: &str) -> TaskOutcome {
    let mut outcome = TaskOutcome::new(OutcomeStatus::Succeeded);
    outcome.stdout = stdout.into();
    outcome.exit_code = Some(0);
    outcome.duration_ms = 3;
    outcome
}

/// Asserts an error answer: status, code, and that the message contains `fragment`.
pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str, fragment: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
}

/// The bot binary in `dir` with `args` and only `env` set (nothing inherited).
pub fn bot_binary(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw-bot"));
    cmd.current_dir(dir)
        .args(args)
        .env_clear()
        .envs(env.iter().copied());
    cmd
}

/// Kills the child if the test fails before it exits (after `wait`, the kill is a no-op).
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
