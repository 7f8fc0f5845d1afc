//! The real `openclaw-worker` binary in a home of its own: `openclaw-worker init` run there
//! for real, the test's policy written over the starter one, TOTP codes computed from the
//! secret file with an independent implementation (totp-rs), and the local subcommands.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{wait_for, within_limit, WORKER_TOKEN};

/// Where [`E2eDirs::worker_outside_home`] keeps the worker's files, beside the home.
const OUTSIDE_HOME_WORKER_DIR: &str = "worker";

/// The worker binary under test.
pub const WORKER_BIN: &str = env!("CARGO_BIN_EXE_openclaw-worker");

/// A policy under which the end-to-end tests' own commands and files run without
/// approval: any simple command, files anywhere in the home (outside the built-in deny
/// lists and the worker's own files), Claude. Shell syntax still needs approval.
pub const OPEN_POLICY: &str = r#"
default = "allow"

[paths]
read_roots = ["~"]
write_roots = ["~"]

[claude]
tier = "allow"
"#;

/// The `openclaw-worker` binary running against a test bot, with its log lines collected.
pub struct WorkerProcess {
    child: tokio::process::Child,
    logs: Arc<Mutex<Vec<String>>>,
    /// Collects stderr until EOF.
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl WorkerProcess {
    /// Starts the worker with `HOME` (and default directory) `home`, a plain environment
    /// (no inherited `OPENCLAW_*`), short intervals, and `env` on top. Run
    /// [`E2eDirs::init_worker`] first: a worker without a policy refuses to start.
    pub fn spawn(server_url: &str, home: &Path, env: &[(&str, &str)]) -> Self {
        let mut cmd = tokio::process::Command::new(WORKER_BIN);
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

/// A fresh temp dir with `data/` (the bot's) and `home/` (the worker's) inside, and the
/// worker's own files where `openclaw-worker init` puts them (`~/.config/openclaw-worker`)
/// or, for tests whose roots are the whole home, beside the home (`worker/`).
pub struct E2eDirs {
    _root: tempfile::TempDir,
    pub data: PathBuf,
    pub home: PathBuf,
    worker: PathBuf,
}

/// What a local subcommand printed and how it exited.
#[derive(Debug)]
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl E2eDirs {
    /// Creates the directories, the worker's own in the home.
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        // Canonical, so paths the worker reports compare equal on macOS (/private/var).
        let home = root.path().canonicalize().unwrap().join("home");
        std::fs::create_dir(&home).unwrap();
        let worker = home.join(".config/openclaw-worker");
        Self {
            _root: root,
            data,
            home,
            worker,
        }
    }

    /// Creates the directories, the worker's own beside the home: a policy whose roots
    /// are the whole home would otherwise hold them, and the worker refuses that.
    pub fn worker_outside_home() -> Self {
        let mut dirs = Self::new();
        dirs.worker = dirs.home.with_file_name(OUTSIDE_HOME_WORKER_DIR);
        dirs
    }

    /// Runs the real `openclaw-worker init` in the home, then puts `policy` in place of
    /// the starter policy (keeping the file private, as the worker requires).
    pub fn init_worker(&self, policy: &str) {
        self.init_worker_starter();
        std::fs::write(self.policy_path(), policy).unwrap();
    }

    /// Runs the real `openclaw-worker init` in the home and keeps its starter policy.
    pub fn init_worker_starter(&self) {
        let dir = self.worker.display().to_string();
        let init = self.cli(&["init", "--name", "e2e-mac", "--dir", &dir]);
        assert_eq!(init.code, Some(0), "init failed: {init:?}");
        assert!(init.stdout.contains("otpauth://totp/"), "{init:?}");
    }

    /// Runs `openclaw-worker <args>` with this home, as the owner would on the Mac.
    pub fn cli(&self, args: &[&str]) -> CliRun {
        let output = std::process::Command::new(WORKER_BIN)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("OPENCLAW_WORKER_CONFIG", self.worker.join("config.toml"))
            // On a Mac too, the secret stays in the file these tests read it from.
            .env("OPENCLAW_TOTP_KEYCHAIN", "0")
            .current_dir(&self.home)
            .output()
            .unwrap();
        CliRun {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The worker's own directory.
    pub fn worker_dir(&self) -> PathBuf {
        self.worker.clone()
    }

    /// The policy file.
    pub fn policy_path(&self) -> PathBuf {
        self.worker_dir().join("policy.toml")
    }

    /// The state directory (secret, replay store, audit log, lock).
    pub fn state_dir(&self) -> PathBuf {
        self.worker_dir().join("state")
    }

    /// The TOTP code for the time step containing `unix_secs`, from the secret file.
    pub fn totp_code_at(&self, unix_secs: u64) -> String {
        let text = std::fs::read_to_string(self.state_dir().join("totp.secret")).unwrap();
        let secret = data_encoding::BASE32_NOPAD
            .decode(text.trim().as_bytes())
            .unwrap();
        let totp = totp_rs::TOTP::new(
            totp_rs::Algorithm::SHA1,
            6,
            1,
            30,
            secret,
            None,
            "e2e".to_owned(),
        )
        .unwrap();
        totp.generate(unix_secs)
    }

    /// The code an authenticator app shows now.
    pub fn totp_code(&self) -> String {
        self.totp_code_at(now_secs())
    }

    /// A file in the home with `content`, parents created.
    pub fn file(&self, relative: &str, content: &[u8]) -> PathBuf {
        let path = self.home.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }
}

/// Now, in epoch seconds.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
