//! The real `openclaw-worker` binary running in a home of its own, polling a server (the
//! real bot or a fake one), with its log lines collected for the test to wait on.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::home::OUTSIDE_HOME_WORKER_DIR;
use crate::{wait_for, within_limit, worker_bin, WORKER_TOKEN};

/// The `openclaw-worker` binary running against a server, with its log lines collected.
pub struct WorkerProcess {
    child: tokio::process::Child,
    logs: Arc<Mutex<Vec<String>>>,
    /// Collects stderr until EOF.
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl WorkerProcess {
    /// Starts the worker with `HOME` (and default directory) `home`, a plain environment
    /// (no inherited `OPENCLAW_*`), short intervals, and `env` on top. Run
    /// [`E2eDirs::init_worker`](crate::E2eDirs::init_worker) first: a worker without a
    /// policy refuses to start.
    pub fn spawn(server_url: &str, home: &Path, env: &[(&str, &str)]) -> Self {
        let mut cmd = tokio::process::Command::new(worker_bin());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("RUST_LOG", "info,openclaw_worker=debug")
            .env("WORKER_URL", server_url)
            .env("WORKER_TOKEN", WORKER_TOKEN)
            .env("WORKER_NAME", "e2e-mac")
            // On a Mac too, the secret stays in the file these tests read it from.
            .env("OPENCLAW_TOTP_KEYCHAIN", "0")
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
        // A worker set up beside the home (see `E2eDirs::worker_outside_home`).
        let outside = home
            .with_file_name(OUTSIDE_HOME_WORKER_DIR)
            .join("config.toml");
        if outside.exists() {
            cmd.env("OPENCLAW_WORKER_CONFIG", outside);
        }
        let mut child = cmd.spawn().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&logs);
        let echo = std::env::var_os("TEST_LOG").is_some();
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if echo {
                    eprintln!("[worker] {line}");
                }
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            logs,
            reader: Some(reader),
        }
    }

    /// Waits until a log line contains `needle`.
    pub async fn wait_for_log(&self, needle: &str) {
        wait_for(&format!("worker log `{needle}`"), || self.logged(needle)).await;
    }

    /// Whether a log line so far contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.logs.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// Every log line so far, joined.
    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// Sends SIGTERM, as launchd or `kill` would.
    pub fn terminate(&self) {
        let pid = i32::try_from(self.child.id().unwrap()).unwrap();
        kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    }

    /// Kills the process with SIGKILL, as a crash or the out-of-memory killer would: no
    /// shutdown runs. Waits until it is gone.
    pub async fn kill(mut self) {
        within_limit(self.child.kill()).await.unwrap();
    }

    /// Whether the process is still alive.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the process to exit and for its last log lines to be collected.
    pub async fn exit_status(&mut self) -> ExitStatus {
        let status = within_limit(self.child.wait()).await.unwrap();
        if let Some(reader) = self.reader.take() {
            within_limit(reader).await.unwrap();
        }
        status
    }

    /// SIGTERM once the worker is up (its signal handler is installed by then), then
    /// asserts a clean exit.
    pub async fn stop(mut self) {
        self.wait_for_log("worker started").await;
        self.terminate();
        let status = self.exit_status().await;
        assert!(status.success(), "{status:?}\n{}", self.log_text());
    }
}
