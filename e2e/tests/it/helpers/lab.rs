//! The attack lab: the real bot and the real worker binary under the attacked policy, in
//! a fake home with secrets in it, and a snapshot of that home (its files, contents and
//! mtimes) to show an attack changed nothing on disk.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use openclaw_shared::client::TaskView;
use openclaw_shared::TaskId;
use serde_json::Value;

use super::{start_stack, E2eDirs, TestBot, WorkerProcess};

/// The policy under attack: a few allowed programs (one of them a shell, to show that
/// allowing it does not let inline code through), one read root, one write root, a
/// canary, and the default verdict `approve`.
pub const LAB_POLICY: &str = r#"
default = "approve"

[commands]
allow = [
  { program = "ls", options = ["*"] },
  { program = "cat", options = ["*"] },
  { program = "printenv", options = ["*"] },
  { program = "sh", options = ["*"] },
]

[paths]
read_roots = ["~/shared"]
write_roots = ["~/shared/inbox"]
canary = ["~/Documents/passwords.txt"]

[claude]
tier = "allow"
"#;

/// Stands for "keep `openclaw-worker init`'s starter policy" in [`Lab::with_policy`].
pub const LAB_STARTER: &str = "";

/// The fake home's `~/.ssh/config`: text the redactor does not recognise, so only the
/// sandbox and the policy stand between it and the output.
pub const SSH_CONFIG: &str = "Host leak-marker-ssh\n  User owner\n";
/// The fake home's `~/.aws/credentials`, unrecognisable to the redactor like [`SSH_CONFIG`].
pub const AWS_CREDENTIALS: &str = "[default]\nregion = leak-marker-aws\n";

/// The key material of the fake home's `~/.ssh/id_rsa`.
pub const KEY_MATERIAL: &str = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ";

/// One attacked worker: a fake home with secrets in it, the bot, the worker.
pub struct Lab {
    pub dirs: E2eDirs,
    pub bot: TestBot,
    pub worker: WorkerProcess,
}

impl Lab {
    /// A lab under [`LAB_POLICY`] plus `extra_policy` (more TOML sections), with `env` added to
    /// the worker's environment.
    pub async fn start(extra_policy: &str, env: &[(&str, &str)]) -> Self {
        Self::with_policy(&format!("{LAB_POLICY}\n{extra_policy}"), env).await
    }

    /// A lab under the starter policy exactly as `openclaw-worker init` writes it.
    pub async fn starter() -> Self {
        Self::with_policy(LAB_STARTER, &[]).await
    }

    /// A lab under `policy` (the whole file; [`LAB_STARTER`] keeps init's own), with `env`
    /// added to the worker's environment.
    pub async fn with_policy(policy: &str, env: &[(&str, &str)]) -> Self {
        let (dirs, bot) = start_stack(policy).await;
        let key = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_MATERIAL}\n-----END OPENSSH PRIVATE KEY-----\n"
        );
        dirs.file(".ssh/id_rsa", key.as_bytes());
        dirs.file(".ssh/authorized_keys", b"ssh-ed25519 AAAA owner@mac\n");
        dirs.file(".zshrc", b"export PATH=/usr/bin\n");
        dirs.file("shared/notes.txt", b"shopping list\n");
        dirs.file("shared/inbox/readme.txt", b"drop files here\n");
        dirs.file("Documents/passwords.txt", b"bait\n");
        // Secrets the redactor does not recognise, so a leak shows as a leak.
        dirs.file(".ssh/config", SSH_CONFIG.as_bytes());
        dirs.file(".aws/credentials", AWS_CREDENTIALS.as_bytes());
        dirs.file("Downloads/openclaw/readme.txt", b"the phone's inbox\n");
        dirs.file("Projects/app/main.rs", b"fn main() {}\n");
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, env);
        Self { dirs, bot, worker }
    }

    /// `~/rest` in the fake home, as text.
    pub fn home_path(&self, rest: &str) -> String {
        self.dirs.home.join(rest).display().to_string()
    }

    /// Every file, directory and link in the fake home except the worker's own state
    /// (the audit log and replay store change with every task, by design).
    pub fn snapshot(&self) -> Snapshot {
        let mut entries = BTreeMap::new();
        let own = self.dirs.worker_dir();
        walk(&self.dirs.home, &own, &mut entries);
        Snapshot(entries)
    }

    /// Submits to `path` and waits for the end; the task must end `denied`.
    pub async fn expect_denied(&self, path: &str, body: Value) -> TaskView {
        let id = self.bot.submit(path, body.clone()).await;
        let view = self.bot.finished(id).await;
        assert_eq!(view.status, "denied", "{body}: {view:?}");
        view
    }

    /// Submits to `path`; the task must come to wait for approval, showing a fingerprint.
    /// The owner then denies it, and it must end `denied`. Returns the waiting view.
    pub async fn expect_approval_then_deny(&self, path: &str, body: Value) -> TaskView {
        let id = self.bot.submit(path, body).await;
        let waiting = self.await_approval(id).await;
        self.bot.deny(id).await;
        let end = self.bot.finished(id).await;
        assert_eq!(end.status, "denied", "{end:?}");
        waiting
    }

    /// Waits for the end of `id`, denying it if it comes to wait for approval: what an
    /// owner does with a request they did not make. Either way nothing may run.
    pub async fn denying_approval(&self, id: TaskId) -> TaskView {
        loop {
            let view = self.bot.task(id, 0).await;
            match view.state.as_str() {
                "awaiting_approval" => {
                    self.bot.deny(id).await;
                    return self.bot.finished(id).await;
                }
                "queued" | "running" => {
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                }
                _ => return view,
            }
        }
    }

    /// Waits until `id` awaits approval; returns the view (with its fingerprint).
    pub async fn await_approval(&self, id: TaskId) -> TaskView {
        let view = self.bot.reaches(id, "awaiting_approval").await;
        assert!(view.fingerprint.is_some(), "{view:?}");
        view
    }

    /// Stops the worker (cleanly) and the bot.
    pub async fn stop(self) {
        self.worker.stop().await;
        self.bot.stop().await;
    }
}

/// One path on disk: kind, mode, size, mtime (s, ns) and content (or link target).
type Entry = (&'static str, u32, u64, i64, i64, Vec<u8>);

/// What is on disk, per path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, Entry>);

impl Snapshot {
    /// Asserts nothing changed since `self`, naming what did.
    pub fn assert_unchanged(&self, now: &Snapshot) {
        let changed: Vec<_> = self
            .0
            .keys()
            .chain(now.0.keys())
            .filter(|path| self.0.get(*path) != now.0.get(*path))
            .collect();
        assert!(changed.is_empty(), "changed on disk: {changed:?}");
    }
}

fn walk(dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.starts_with(skip) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let (kind, content) = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            ("link", target.into_os_string().into_encoded_bytes())
        } else if meta.is_dir() {
            walk(&path, skip, out);
            ("dir", Vec::new())
        } else {
            ("file", std::fs::read(&path).unwrap())
        };
        let entry = (
            kind,
            meta.mode(),
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            content,
        );
        out.insert(path, entry);
    }
}
