//! Harness for the Discord tests: the Discord-protocol fake, the real bot pointed at it
//! (`discord.api_base`), and the real worker binary in a home of its own, where the
//! commands' files live.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use discord_fake::{FakeDiscord, Interaction, SlashCommand, StoredMessage};
use openclaw_bot::queue::Scope;
use openclaw_bot::Config;
use secrecy::SecretString;
use tempfile::TempDir;

use super::{any_port, write_script, E2eDirs, TestBot, WorkerProcess, OPEN_POLICY};

/// No Discord test may take longer (a serenity connect, a real worker and a few edits).
pub const DISCORD_TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The name the worker polls under, as the tests' messages show it.
const WORKER_NAME: &str = "mac";

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
/// only allowed one, and short intervals so retries, throttling and sweeps take milliseconds.
pub fn discord_config(config: &mut Config, discord: &FakeDiscord) {
    config.discord.token = Some(SecretString::from(discord.token()));
    config.discord.api_base = Some(discord.base_url().to_owned());
    config.discord.guild_ids = vec![discord.guild_id()];
    config.discord.allowed_user_ids = vec![discord.owner_id()];
    config.discord.edit_interval_ms = 50;
    config.discord.retry_base_ms = 20;
    config.discord.delivery_attempts = 4;
    config.queue.sweep_interval_ms = 50;
}

/// The fake Discord, the bot connected to it with its commands registered, and a worker.
pub struct DiscordTest {
    /// The Discord-protocol fake the bot talks to.
    pub discord: FakeDiscord,
    /// The bot; `None` only while it restarts.
    bot: Option<TestBot>,
    /// The real worker binary; killed when the test ends (before its home goes: fields
    /// drop in order).
    worker: WorkerProcess,
    /// The bot's data and the worker's home, whose root is the tasks' files root (the
    /// worker's own files are beside it).
    dirs: E2eDirs,
    /// Holds the Claude stand-in, outside the home so no file test sees it.
    _claude: TempDir,
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
        let dirs = E2eDirs::worker_outside_home();
        let bot = TestBot::start_with(&dirs.data, any_port(), |config| {
            discord_config(config, &discord);
            tweak(config);
        })
        .await;
        discord
            .wait_for_commands_registered()
            .await
            .expect("the bot registers its commands");
        dirs.init_worker(OPEN_POLICY);
        let claude = tempfile::tempdir().unwrap();
        let claude_bin = claude.path().join("claude");
        write_script(&claude_bin, CLAUDE_SCRIPT);
        let worker = WorkerProcess::spawn(
            &bot.url(),
            &dirs.home,
            &[
                ("WORKER_NAME", WORKER_NAME),
                ("OPENCLAW_WORKER_CLAUDE_BIN", claude_bin.to_str().unwrap()),
            ],
        );
        let mut t = DiscordTest {
            discord,
            bot: Some(bot),
            worker,
            dirs,
            _claude: claude,
        };
        t.wait_until_polling().await;
        t
    }

    /// Waits until the bot has heard from the worker; fails with the worker's log if it
    /// exited instead (e.g. it refused its policy).
    async fn wait_until_polling(&mut self) {
        loop {
            let stats = self.bot().state.queue().stats(&Scope::All).await.unwrap();
            if stats.workers.iter().any(|w| w.name == WORKER_NAME) {
                return;
            }
            assert!(
                self.worker.is_running(),
                "the worker stopped before polling:\n{}",
                self.worker.log_text()
            );
            // No event announces a first poll; it comes within milliseconds of the start.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The running bot.
    pub fn bot(&self) -> &TestBot {
        self.bot.as_ref().expect("the bot is running")
    }

    /// Stops the bot and starts it again on the same port and data, with the Discord test
    /// settings changed by `tweak`. The worker is left running throughout.
    pub async fn restart_bot(&mut self, tweak: impl FnOnce(&mut Config)) {
        let bot = self.bot.take().expect("the bot is running");
        let addr = bot.addr;
        bot.stop().await;
        let discord = &self.discord;
        let bot = TestBot::start_with(&self.dirs.data, addr, |config| {
            discord_config(config, discord);
            tweak(config);
        })
        .await;
        self.bot = Some(bot);
    }

    /// A path inside the worker's file root (its home, and default directory).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dirs.home.join(name)
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

impl Drop for DiscordTest {
    fn drop(&mut self) {
        // bors' rule, as for the bot: the worker must still be up when the test ends.
        if !self.worker.is_running() && !std::thread::panicking() {
            panic!(
                "the worker stopped before the test ended:\n{}",
                self.worker.log_text()
            );
        }
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
