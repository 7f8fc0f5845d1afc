//! Harness for the bot's Discord tests: the bot pointed at the Discord-protocol fake
//! (`discord.api_base`), a time limit for a serenity connect, and telling a task's result
//! from its progress. Discord tests that also run the worker are in the `openclaw-e2e` crate.

use std::future::Future;
use std::time::Duration;

use discord_fake::{FakeDiscord, StoredMessage};
use openclaw_bot::Config;
use secrecy::SecretString;

/// No Discord test may take longer (a serenity connect and a few edits).
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
