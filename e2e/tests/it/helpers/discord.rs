//! Harness for the Discord tests: the Discord-protocol fake, the real bot pointed at it
//! (`discord.api_base`), and the real worker loop (`openclaw_worker::run`, in-process; it
//! still runs every command as a real child process) in a temp directory.
//!
//! The worker runs in-process because `CARGO_BIN_EXE_*` exists only for a crate's own
//! binaries, and a path built from the target directory breaks with other profiles or
//! target dirs. `openclaw-worker` is a dev-dependency, so its library is the exact code
//! the binary runs.

use std::future::Future;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use discord_fake::{FakeDiscord, Interaction, SlashCommand, StoredMessage};
use openclaw_bot::Config;
use secrecy::SecretString;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestApp, WORKER};

/// No Discord test may take longer (a serenity connect, a real worker and a few edits).
pub const DISCORD_TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The icons a finished task's message starts with.
const FINAL_ICONS: [&str; 7] = ["✅", "❌", "⏱️", "🛑", "⌛", "❓", "⛔"];

/// Runs a Discord test body, failing it after [`DISCORD_TEST_TIMEOUT`].
pub async fn within_discord<F: Future>(body: F) -> F::Output {
    tokio::time::timeout(DISCORD_TEST_TIMEOUT, body)
        .await
        .expect("the Discord test did not finish within its timeout")
}

/// Whether a message is a task's result (not a progress line or "thinking…").
pub fn is_result(message: &StoredMessage) -> bool {
    FINAL_ICONS
        .iter()
        .any(|icon| message.content.starts_with(icon))
}

/// Points the bot at the fake: its token, base URL and guild, the fake's default user as the
/// only allowed one, and short intervals so retries and throttling take milliseconds.
pub fn discord_config(config: &mut Config, discord: &FakeDiscord) {
    config.discord.token = Some(SecretString::from(discord.token()));
    config.discord.api_base = Some(discord.base_url().to_owned());
    config.discord.guild_ids = vec![discord.guild_id()];
    config.discord.allowed_user_ids = vec![discord.owner_id()];
    config.discord.edit_interval_ms = 50;
    config.discord.retry_base_ms = 20;
    config.discord.delivery_attempts = 4;
}

/// The worker's policy for these tests: any simple command, files below the test's
/// directory, and Claude, without approval (shell syntax still needs approval, so test
/// commands are simple ones, or scripts in the directory).
fn open_policy(files: &Path) -> String {
    format!(
        "default = \"allow\"\n\n[paths]\nread_roots = [{root:?}]\nwrite_roots = [{root:?}]\n\n\
         [claude]\ntier = \"allow\"\n",
        root = files.display().to_string()
    )
}

/// The real worker loop, stopped on drop. A test fails if the worker ended on its own.
pub struct TestWorker {
    stop: CancellationToken,
    run: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestWorker {
    /// Starts a worker named `name` against `server`: its policy and state in `home` (a
    /// private directory), tasks run in `files` with `/bin/sh`, and `claude_bin` as its
    /// Claude CLI.
    pub fn start(
        server: &str,
        name: &str,
        home: &Path,
        files: &Path,
        claude_bin: &Path,
    ) -> TestWorker {
        let policy = home.join("policy.toml");
        std::fs::write(&policy, open_policy(files)).unwrap();
        std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o600)).unwrap();
        let config = openclaw_worker::Config {
            server_url: server.to_owned(),
            token: SecretString::from(WORKER),
            name: name.to_owned(),
            poll_wait_secs: 5,
            heartbeat_interval_secs: 1,
            shell: vec!["/bin/sh".into(), "-c".into()],
            kill_grace_secs: 1,
            shutdown_grace_secs: 2,
            default_cwd: files.to_owned(),
            claude_bin: claude_bin.display().to_string(),
            policy_path: policy,
            state_dir: home.join("state"),
            ..openclaw_worker::Config::default()
        }
        .validate()
        .expect("a valid worker config");
        let stop = CancellationToken::new();
        let run = tokio::spawn(openclaw_worker::run(config, stop.clone()));
        TestWorker {
            stop,
            run: Some(run),
        }
    }

    /// Waits until the bot has heard from the worker; fails with the worker's error if it
    /// stopped instead (e.g. it refused its policy).
    pub async fn wait_until_polling(&mut self, app: &TestApp, name: &str) {
        loop {
            let stats = app.state.queue().stats().await.unwrap();
            if stats.workers.iter().any(|w| w.name == name) {
                return;
            }
            if self.run.as_ref().is_some_and(JoinHandle::is_finished) {
                let ended = self.run.take().unwrap().await.unwrap();
                panic!("the worker stopped before polling: {ended:?}");
            }
            // No event announces a first poll; it comes within milliseconds.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for TestWorker {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(run) = self.run.take() {
            if run.is_finished() && !std::thread::panicking() {
                panic!("the worker stopped before the test ended");
            }
            run.abort();
        }
    }
}

/// The fake Discord, the bot connected to it with its commands registered, and a worker.
pub struct DiscordTest {
    pub discord: FakeDiscord,
    /// The bot; `None` only while it restarts.
    app: Option<TestApp>,
    /// Stopped when the test ends (before its directory goes: fields drop in order).
    _worker: TestWorker,
    /// The worker's default cwd and only file root, where `/read` and `/write` tests put files.
    files: PathBuf,
    /// Holds the worker's home and files.
    _dir: TempDir,
}

impl DiscordTest {
    /// Everything with the default test settings.
    pub async fn start() -> DiscordTest {
        Self::start_with(|_| {}).await
    }

    /// Everything, with the bot's config changed by `tweak` (after the Discord settings).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> DiscordTest {
        let discord = FakeDiscord::start()
            .await
            .expect("starting the Discord fake");
        let app = TestApp::spawn_with(|config| {
            discord_config(config, &discord);
            tweak(config);
        })
        .await;
        discord
            .wait_for_commands_registered()
            .await
            .expect("the bot registers its commands");
        let dir = tempfile::tempdir().unwrap();
        // Canonical, so the paths the worker resolves compare equal to the policy's roots.
        let root = dir.path().canonicalize().unwrap();
        let (home, files) = (root.join("worker"), root.join("files"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&home)
            .unwrap();
        std::fs::create_dir(&files).unwrap();
        write_script(&home.join("claude"), CLAUDE_SCRIPT);
        let mut worker = TestWorker::start(&app.base, "mac", &home, &files, &home.join("claude"));
        worker.wait_until_polling(&app, "mac").await;
        DiscordTest {
            discord,
            app: Some(app),
            _worker: worker,
            files,
            _dir: dir,
        }
    }

    /// The running bot.
    pub fn app(&self) -> &TestApp {
        self.app.as_ref().expect("the bot is running")
    }

    /// Stops the bot and starts it again on the same port and data, with the Discord test
    /// settings changed by `tweak`. The worker is left running throughout.
    pub async fn restart_bot(&mut self, tweak: impl FnOnce(&mut Config)) {
        let app = self.app.take().expect("the bot is running");
        let addr = app.base.trim_start_matches("http://").parse().unwrap();
        let data = app.stop().await;
        let discord = &self.discord;
        let app = TestApp::spawn_in(data, |config| {
            discord_config(config, discord);
            config.http.bind = addr;
            tweak(config);
        })
        .await;
        self.app = Some(app);
    }

    /// A path inside the worker's file root.
    pub fn path(&self, name: &str) -> PathBuf {
        self.files.join(name)
    }

    /// Writes an executable script into the worker's file root; returns its absolute path
    /// (a simple command the policy allows, where the same text inline would be shell syntax).
    pub fn script(&self, name: &str, body: &str) -> String {
        let path = self.path(name);
        write_script(&path, body);
        path.display().to_string()
    }

    /// Sends a slash command as the allowed user.
    pub async fn command(&self, command: SlashCommand) -> Interaction {
        self.discord
            .send_slash_command(command)
            .await
            .expect("the fake sends the command")
    }

    /// Waits until the command's original response shows its result.
    pub async fn result(&self, ix: &Interaction) -> StoredMessage {
        self.discord
            .wait_for_original(ix, is_result)
            .await
            .expect("the result replaces the original response")
    }

    /// `/run command` → the result message.
    pub async fn run(&self, command: &str) -> StoredMessage {
        let ix = self
            .command(SlashCommand::new("run").option("command", command))
            .await;
        self.result(&ix).await
    }
}

/// A stand-in for the Claude CLI: prints its arguments, and a screenshot marker line when
/// the prompt asks for one (the worker turns that line into `metadata.screenshotPath`).
const CLAUDE_SCRIPT: &str = r#"#!/bin/sh
for last; do :; done
echo "claude args: $*"
case "$last" in
  *screenshot*) echo "PLEASE_UPLOAD_TO_DISCORD: $PWD/shot.png" ;;
esac
"#;

/// Writes an executable script from a child shell, so no descriptor to it is ever open in
/// this (multi-threaded, forking) process, which would make exec fail with "Text file busy".
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
