//! `[discord]`: the Discord front end's token and scope, who may use it, and the timing of
//! its deliveries (fields, not constants, so tests can shrink them).

use axum::http::Uri;
use openclaw_shared::task::{is_valid_agent_name, AGENT_NAME_RULE, CLAUDE_AGENT};
use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigError;

/// Most choices one Discord option may offer.
const MAX_AGENT_CHOICES: usize = 25;
/// Discord kills an interaction token 15 minutes after the interaction.
const DISCORD_TOKEN_LIFETIME_SECS: u64 = 15 * 60;

/// `[discord]`: the Discord front end (`discord/`). Disabled without a token.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordConfig {
    /// The bot token (env `DISCORD_TOKEN`). Discord is disabled when unset or empty.
    pub token: Option<SecretString>,
    /// Guilds to register commands in (instantly); global registration when empty.
    pub guild_ids: Vec<u64>,
    /// Users allowed to use any command. Empty means nobody.
    pub allowed_user_ids: Vec<u64>,
    /// Allowed users who see and cancel everyone's tasks (`/tasks all:true`, `/status
    /// all:true`, `/cancel` of any task); everyone else sees and cancels only their own.
    /// Each must be in `allowed_user_ids`. Empty: the first of `allowed_user_ids` is the
    /// admin (the owner, in a one-user setup).
    pub admin_user_ids: Vec<u64>,
    /// Discord's REST/gateway base (env `DISCORD_API_BASE`): scheme, host and port only.
    /// Unset means the real Discord.
    pub api_base: Option<String>,
    /// Least time between two edits of one message (Discord rate-limits edits).
    pub edit_interval_ms: u64,
    /// Least time between two edits that only show newer live output of a running task
    /// (at least `edit_interval_ms`); 0: the message shows no live output.
    pub live_edit_interval_ms: u64,
    /// How long after a command its interaction token is used to edit the response; a
    /// later result is posted in the channel instead. At most Discord's 15 minutes.
    pub interaction_ttl_secs: u64,
    /// First wait before retrying a delivery Discord failed (5xx, 429, network); doubled
    /// on each further failure, up to a minute.
    pub retry_base_ms: u64,
    /// Tries per delivery before the result is left for a later pass.
    pub delivery_attempts: u32,
    /// How often results left undelivered are tried again (they are also tried at start).
    pub redeliver_interval_secs: u64,
    /// Channels (besides those of `guild_ids`) an API client may name for its result
    /// (`discordChannelId`/`callbackChannel`). Any other Discord channel is refused at
    /// creation, never called.
    pub callback_channel_ids: Vec<u64>,
    /// How often the channels of `guild_ids` are listed again from Discord.
    pub channel_refresh_secs: u64,
    /// The agents `/agent` offers as choices: names of `[agents.<name>]` on the workers
    /// (the bot cannot know them; a worker without the one chosen fails the task, running
    /// nothing). At most 25 (Discord's limit on choices); `claude` has its own command.
    pub agents: Vec<String>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            token: None,
            guild_ids: Vec::new(),
            allowed_user_ids: Vec::new(),
            admin_user_ids: Vec::new(),
            api_base: None,
            edit_interval_ms: 1_500,
            live_edit_interval_ms: 2_500,
            // A minute short of Discord's limit: the clock starts when the bot receives the
            // interaction, a little after Discord created it.
            interaction_ttl_secs: 14 * 60,
            retry_base_ms: 1_000,
            delivery_attempts: 5,
            redeliver_interval_secs: 300,
            callback_channel_ids: Vec::new(),
            channel_refresh_secs: 300,
            agents: vec!["codex".to_owned(), "gemini".to_owned()],
        }
    }
}

impl DiscordConfig {
    /// Whether the channels of `guild_ids` will be loaded from Discord (a token and at
    /// least one guild); until they are, API tasks naming other channels are accepted and
    /// checked again before anything is posted.
    pub fn loads_guild_channels(&self) -> bool {
        self.token.is_some() && !self.guild_ids.is_empty()
    }

    /// The admins: `admin_user_ids`, or else the first of `allowed_user_ids` (none when
    /// that is empty too).
    pub fn admins(&self) -> Vec<u64> {
        if self.admin_user_ids.is_empty() {
            self.allowed_user_ids.iter().take(1).copied().collect()
        } else {
            self.admin_user_ids.clone()
        }
    }

    /// Checks ids, timings and the base URL; the error names the key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: String| Err(ConfigError::Invalid { key, reason });
        for (key, ids) in [
            ("discord.guild_ids", &self.guild_ids),
            ("discord.allowed_user_ids", &self.allowed_user_ids),
            ("discord.callback_channel_ids", &self.callback_channel_ids),
            ("discord.admin_user_ids", &self.admin_user_ids),
        ] {
            if ids.contains(&0) {
                return invalid(key, "must hold Discord ids (0 is not one)".into());
            }
        }
        if let Some(stranger) = self
            .admin_user_ids
            .iter()
            .find(|id| !self.allowed_user_ids.contains(id))
        {
            return invalid(
                "discord.admin_user_ids",
                format!(
                    "holds {stranger}, who is not in discord.allowed_user_ids (every command \
                     checks that list first)"
                ),
            );
        }
        if self.agents.len() > MAX_AGENT_CHOICES {
            return invalid(
                "discord.agents",
                format!("holds more than Discord's {MAX_AGENT_CHOICES} choices"),
            );
        }
        if let Some(bad) = self
            .agents
            .iter()
            .find(|name| !is_valid_agent_name(name) || *name == CLAUDE_AGENT)
        {
            return invalid(
                "discord.agents",
                format!("holds {bad:?}: a name {AGENT_NAME_RULE}, and not claude (/claude)"),
            );
        }
        let positive = [
            ("discord.edit_interval_ms", self.edit_interval_ms),
            ("discord.interaction_ttl_secs", self.interaction_ttl_secs),
            ("discord.retry_base_ms", self.retry_base_ms),
            (
                "discord.delivery_attempts",
                u64::from(self.delivery_attempts),
            ),
            ("discord.channel_refresh_secs", self.channel_refresh_secs),
            (
                "discord.redeliver_interval_secs",
                self.redeliver_interval_secs,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return invalid(key, "must be greater than 0".into());
        }
        if self.interaction_ttl_secs > DISCORD_TOKEN_LIFETIME_SECS {
            return invalid(
                "discord.interaction_ttl_secs",
                format!("must be at most {DISCORD_TOKEN_LIFETIME_SECS} (Discord's token lifetime)"),
            );
        }
        if let Some(base) = &self.api_base {
            if let Some(reason) = api_base_problem(base) {
                return invalid("discord.api_base", reason);
            }
        }
        Ok(())
    }
}

/// What is wrong with a Discord API base URL, if anything: serenity needs scheme, host and
/// port only, and appends `/api/v10/...` itself.
fn api_base_problem(base: &str) -> Option<String> {
    let Ok(uri) = base.parse::<Uri>() else {
        return Some(format!("is not a URL: {base:?}"));
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
        return Some(format!("must be an http(s) URL with a host, got {base:?}"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Some(format!("must be scheme, host and port only, got {base:?}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_must_be_scheme_host_and_port() {
        assert!(api_base_problem("http://127.0.0.1:9000").is_none());
        assert!(api_base_problem("https://proxy.local/").is_none());
        assert!(api_base_problem("http://127.0.0.1:9000/api/v10").is_some());
        assert!(api_base_problem("ftp://x").is_some());
        assert!(api_base_problem("not a url").is_some());
    }

    #[test]
    fn the_admins_are_the_listed_ones_or_else_the_first_allowed_user() {
        let mut config = DiscordConfig {
            allowed_user_ids: vec![7, 8, 9],
            ..DiscordConfig::default()
        };
        let first = config.admins();
        config.admin_user_ids = vec![8, 9];

        assert_eq!(first, [7]);
        assert_eq!(config.admins(), [8, 9]);
        assert!(DiscordConfig::default().admins().is_empty());
    }

    #[test]
    fn defaults_are_valid() {
        DiscordConfig::default().validate().unwrap();
    }

    #[test]
    fn zero_ids_zero_timings_and_a_ttl_past_discords_are_refused_by_key() {
        type Change = fn(&mut DiscordConfig);
        let cases: [(&str, Change); 5] = [
            ("discord.allowed_user_ids", |c| c.allowed_user_ids = vec![0]),
            ("discord.admin_user_ids", |c| {
                c.allowed_user_ids = vec![1];
                c.admin_user_ids = vec![2];
            }),
            ("discord.guild_ids", |c| c.guild_ids = vec![1, 0]),
            ("discord.edit_interval_ms", |c| c.edit_interval_ms = 0),
            ("discord.interaction_ttl_secs", |c| {
                c.interaction_ttl_secs = 901
            }),
        ];
        for (key, change) in cases {
            let mut config = DiscordConfig::default();
            change(&mut config);

            let err = config.validate().unwrap_err();

            assert!(
                matches!(err, ConfigError::Invalid { key: k, .. } if k == key),
                "{key}: {err}"
            );
        }
    }
}
