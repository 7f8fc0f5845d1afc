//! How a fake is set up: its bot, application, guilds and Discord's limits, and the builder tests
//! use to change them.

use std::sync::Arc;
use std::time::Duration;

use crate::error::FakeError;
use crate::ids::next_snowflake;
use crate::FakeDiscord;

/// How long Discord gives a bot to answer an interaction before the callback fails with 10062.
pub const ACK_DEADLINE: Duration = Duration::from_secs(3);
/// How long the `wait_for_*` helpers wait by default before failing the test.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(20);
/// Discord's per-file upload limit for bots (10 MiB), also sent as `attachment_size_limit`.
pub const ATTACHMENT_SIZE_LIMIT: u32 = 10 * 1024 * 1024;
/// Discord's heartbeat interval (HELLO `heartbeat_interval`).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(41_250);

/// A guild the fake's bot is in, with its text channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildSpec {
    /// The guild's snowflake.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its text channels; messages to other channel ids get Discord's 404 Unknown Channel.
    pub channel_ids: Vec<u64>,
}

impl GuildSpec {
    /// A guild with fresh ids and one text channel.
    pub fn generated() -> Self {
        Self {
            id: next_snowflake(),
            name: "fake-guild".to_owned(),
            channel_ids: vec![next_snowflake()],
        }
    }
}

/// Everything fixed for a fake's lifetime.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) token: String,
    pub(crate) application_id: u64,
    pub(crate) bot_user_id: u64,
    pub(crate) bot_name: String,
    pub(crate) owner_id: u64,
    pub(crate) guilds: Vec<GuildSpec>,
    pub(crate) ack_deadline: Option<Duration>,
    pub(crate) wait_timeout: Duration,
    pub(crate) attachment_size_limit: u32,
}

impl Config {
    /// The guild `channel_id` belongs to, if it is one of the configured guild channels.
    pub(crate) fn guild_of_channel(&self, channel_id: u64) -> Option<u64> {
        self.guilds
            .iter()
            .find(|g| g.channel_ids.contains(&channel_id))
            .map(|g| g.id)
    }
}

/// Configures a [`FakeDiscord`] before it starts; [`FakeDiscord::start`] uses the defaults.
#[derive(Debug, Clone)]
pub struct FakeDiscordBuilder {
    config: Config,
    default_guild: bool,
}

impl Default for FakeDiscordBuilder {
    fn default() -> Self {
        let application_id = next_snowflake();
        Self {
            config: Config {
                token: "fake-bot-token".to_owned(),
                application_id,
                // Discord bots created today share their id with the application's.
                bot_user_id: application_id,
                bot_name: "fake-bot".to_owned(),
                owner_id: next_snowflake(),
                guilds: vec![GuildSpec::generated()],
                ack_deadline: Some(ACK_DEADLINE),
                wait_timeout: DEFAULT_WAIT_TIMEOUT,
                attachment_size_limit: ATTACHMENT_SIZE_LIMIT,
            },
            default_guild: true,
        }
    }
}

impl FakeDiscordBuilder {
    /// Sets the bot token the fake accepts (REST `Authorization: Bot …` and gateway IDENTIFY).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.config.token = token.into();
        self
    }

    /// Adds a guild the bot is in; the first call replaces the generated default guild.
    pub fn guild(mut self, guild: GuildSpec) -> Self {
        if self.default_guild {
            self.config.guilds.clear();
            self.default_guild = false;
        }
        self.config.guilds.push(guild);
        self
    }

    /// Sets how long the bot has to answer an interaction (`None`: no deadline).
    pub fn ack_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.config.ack_deadline = deadline;
        self
    }

    /// Sets how long `wait_for_*` helpers wait before returning [`FakeError::Timeout`].
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.config.wait_timeout = timeout;
        self
    }

    /// Sets the per-file upload limit in bytes (larger files get Discord's 413, code 40005).
    pub fn attachment_size_limit(mut self, bytes: u32) -> Self {
        self.config.attachment_size_limit = bytes;
        self
    }

    /// Binds the REST and gateway listeners on `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> Result<FakeDiscord, FakeError> {
        FakeDiscord::launch(Arc::new(self.config)).await
    }
}
