//! A worker's home for a test: a temp dir with the bot's data beside a fake home, set up by
//! the real `openclaw-worker init`, the test's policy written over the starter one, TOTP
//! codes computed from the secret file with an independent implementation (totp-rs), and
//! the local subcommands run as the owner would run them on the Mac.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::worker_bin;

/// Where [`E2eDirs::worker_outside_home`] keeps the worker's files, beside the home.
pub(crate) const OUTSIDE_HOME_WORKER_DIR: &str = "worker";

/// A policy under which the tests' own commands and files run without approval: any
/// simple command, files anywhere in the home (outside the built-in deny lists and the
/// worker's own files), Claude. Shell syntax still needs approval.
pub const OPEN_POLICY: &str = r#"
default = "allow"

[paths]
read_roots = ["~"]
write_roots = ["~"]

[claude]
tier = "allow"
"#;

/// A fresh temp dir with `data/` (the bot's) and `home/` (the worker's) inside, and the
/// worker's own files where `openclaw-worker init` puts them (`~/.config/openclaw-worker`)
/// or, for tests whose roots are the whole home, beside the home (`worker/`).
pub struct E2eDirs {
    _root: tempfile::TempDir,
    /// The bot's data directory (not created: the bot creates it).
    pub data: PathBuf,
    /// The worker's `HOME`, canonical; tasks' relative paths and `~` mean this.
    pub home: PathBuf,
    worker: PathBuf,
}

/// What a local subcommand printed and how it exited.
#[derive(Debug)]
pub struct CliRun {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// Everything it wrote to stdout, lossily decoded.
    pub stdout: String,
    /// Everything it wrote to stderr, lossily decoded.
    pub stderr: String,
}

impl Default for E2eDirs {
    fn default() -> Self {
        Self::new()
    }
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
        self.cli_with(args, &[])
    }

    /// [`E2eDirs::cli`] with `env` on top of its environment (a `PATH` with stand-ins for
    /// system tools, say).
    pub fn cli_with(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> CliRun {
        let output = std::process::Command::new(worker_bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("OPENCLAW_WORKER_CONFIG", self.worker.join("config.toml"))
            // On a Mac too, the secret stays in the file these tests read it from.
            .env("OPENCLAW_TOTP_KEYCHAIN", "0")
            .envs(env.iter().copied())
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
