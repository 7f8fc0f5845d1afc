//! Shared test helpers: executor context over a temp dir, claimed tasks, process probes,
//! and for end-to-end tests the real bot in-process plus the real worker binary.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use openclaw_shared::client::{TaskCreated, TaskList, TaskView};
use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{LeaseId, TaskId, TaskOutcome, TaskSpec};
use openclaw_worker::exec::{self, ExecContext};
use openclaw_worker::Config;
use secrecy::SecretString;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Longest any single test may take before it fails instead of hanging CI.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

static LOGS: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        openclaw_worker::telemetry::init("debug");
    }
});

/// Turns on logs when `TEST_LOG` is set.
pub fn init_logs() {
    LazyLock::force(&LOGS);
}

/// Awaits `fut`, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub async fn within_limit<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, fut)
        .await
        .expect("test took too long")
}

/// Executor context whose default directory (and `~`) is `dir`, with a short kill grace.
pub fn exec_ctx(dir: &Path) -> ExecContext {
    init_logs();
    let mut ctx = ExecContext::from_config(&Config::default());
    ctx.shell = vec!["/bin/sh".into(), "-c".into()];
    ctx.default_cwd = dir.to_owned();
    ctx.home = Some(dir.to_owned());
    ctx.limits.kill_grace = Duration::from_secs(1);
    ctx
}

/// A task as the server would hand it out.
pub fn claimed(spec: TaskSpec, timeout_ms: u64) -> ClaimedTask {
    ClaimedTask {
        id: TaskId::new(),
        lease: LeaseId::new(),
        spec,
        timeout_ms,
        lease_ttl_ms: 60_000,
        created_at: 0,
    }
}

/// Runs `spec` through the real executor seam.
pub async fn run(ctx: &ExecContext, spec: TaskSpec, timeout_ms: u64) -> TaskOutcome {
    let task = claimed(spec, timeout_ms);
    within_limit(exec::execute(ctx, &task, CancellationToken::new())).await
}

/// A shell command task.
pub fn command(command: &str) -> TaskSpec {
    TaskSpec::Command {
        command: command.into(),
        cwd: None,
    }
}

/// A `sleep` duration no other process on the machine uses, so `pgrep -f` finds only ours.
pub fn unique_sleep() -> String {
    format!("31.{}{:06}", std::process::id(), fastrand::u32(..1_000_000))
}

/// Whether any live process has `marker` in its command line.
pub fn process_running(marker: &str) -> bool {
    let status = std::process::Command::new("pgrep")
        .args(["-f", marker])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("pgrep must be installed for these tests");
    status.success()
}

/// Writes an executable script. The file is written by a child shell, so no descriptor
/// to it ever exists in this (multi-threaded, forking) test process, which would make
/// exec fail with "Text file busy".
pub fn write_script(path: &Path, body: &str) {
    let status = std::process::Command::new("/bin/sh")
        .args([
            "-c",
            "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
            "sh",
        ])
        .arg(body)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Polls `cond` until it holds (within the test limit). For conditions with no event to
/// wait on, such as a file a child process creates.
pub async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let polling = async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(TEST_TIMEOUT, polling)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for {what}"));
}

// ---- end to end: the real bot, in-process ----

/// The tokens the test bot is configured with (32+ characters, distinct per role).
pub const CLIENT_TOKEN: &str = "oc_client_e2e_0123456789abcdefghijklmnop";
pub const WORKER_TOKEN: &str = "oc_worker_e2e_0123456789abcdefghijklmnop";
pub const ADMIN_TOKEN: &str = "oc_admin_e2e_0123456789abcdefghijklmnopq";

/// The real bot on loopback, with typed helpers over its client API.
pub struct TestBot {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    running: Option<JoinHandle<anyhow::Result<()>>>,
    http: reqwest::Client,
}

impl TestBot {
    /// Starts the bot on `bind` (port 0 for a free one) with its data in `data_dir`.
    pub async fn start(data_dir: &Path, bind: SocketAddr) -> Self {
        init_logs();
        let mut config = openclaw_bot::Config::default();
        config.http.bind = bind;
        config.storage.data_dir = data_dir.to_owned();
        config.auth.client_token = Some(SecretString::from(CLIENT_TOKEN));
        config.auth.worker_token = Some(SecretString::from(WORKER_TOKEN));
        config.auth.admin_token = Some(SecretString::from(ADMIN_TOKEN));
        let app = openclaw_bot::App::build(config).await.unwrap();
        let addr = app.local_addr();
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(app.run(shutdown.clone()));
        Self {
            addr,
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
        response.json::<TaskCreated>().await.unwrap().task_id
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
                if !matches!(
                    view.status.as_str(),
                    "pending" | "running" | "awaiting_approval"
                ) {
                    return view;
                }
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
        let response = self
            .http
            .post(format!("{}/tasks/{id}/cancel", self.url()))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "cancel: {}",
            response.status()
        );
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// ---- end to end: the real worker binary ----

/// The `openclaw-worker` binary running against a test bot, with its log lines collected.
pub struct WorkerProcess {
    child: tokio::process::Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl WorkerProcess {
    /// Starts the worker with `HOME` (and default directory) `home`, a plain environment
    /// (no inherited `OPENCLAW_*`), short intervals, and `env` on top.
    pub fn spawn(server_url: &str, home: &Path, env: &[(&str, &str)]) -> Self {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_openclaw-worker"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("RUST_LOG", "info,openclaw_worker=debug")
            .env("WORKER_URL", server_url)
            .env("WORKER_TOKEN", WORKER_TOKEN)
            .env("WORKER_NAME", "e2e-mac")
            .env("OPENCLAW_WORKER_SHELL", r#"["/bin/sh", "-c"]"#)
            .env("OPENCLAW_WORKER_POLL_WAIT_SECS", "2")
            .env("OPENCLAW_WORKER_HEARTBEAT_INTERVAL_SECS", "1")
            .env("OPENCLAW_WORKER_KILL_GRACE_SECS", "1")
            .envs(env.iter().copied())
            // Its own directory, so no `.env` from the repository is picked up.
            .current_dir(home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&logs);
        let echo = std::env::var_os("TEST_LOG").is_some();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if echo {
                    eprintln!("[worker] {line}");
                }
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, logs }
    }

    /// Waits until a log line contains `needle`.
    pub async fn wait_for_log(&self, needle: &str) {
        wait_for(&format!("worker log `{needle}`"), || {
            self.logs.lock().unwrap().iter().any(|l| l.contains(needle))
        })
        .await;
    }

    /// Sends SIGTERM, as launchd or `kill` would.
    pub fn terminate(&self) {
        let pid = i32::try_from(self.child.id().unwrap()).unwrap();
        kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    }

    /// Whether the process is still alive.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the process to exit.
    pub async fn exit_status(&mut self) -> ExitStatus {
        within_limit(self.child.wait()).await.unwrap()
    }
}

/// A fresh temp dir with `data/` (the bot's) and `home/` (the worker's) inside.
pub struct E2eDirs {
    _root: tempfile::TempDir,
    pub data: PathBuf,
    pub home: PathBuf,
}

impl E2eDirs {
    /// Creates the directories.
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        // Canonical, so paths the worker reports compare equal on macOS (/private/var).
        let home = root.path().canonicalize().unwrap().join("home");
        std::fs::create_dir(&home).unwrap();
        Self {
            _root: root,
            data,
            home,
        }
    }
}
