//! The bot's configuration: embedded defaults, then a TOML file, then environment variables,
//! validated once at startup so a bad value stops the process with a message naming its key.

use std::net::SocketAddr;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use openclaw_shared::client::MAX_WAIT_MS;
use secrecy::ExposeSecret;
use serde::Deserialize;

mod discord;
mod queue;
mod quota;
mod schedules;
mod security;
mod storage;
mod token_strength;
mod ui;
mod webhooks;

pub use discord::DiscordConfig;
pub use queue::QueueConfig;
pub use quota::QuotaConfig;
pub use schedules::{MissedRuns, SchedulesConfig};
pub use security::{AuthConfig, RateLimitConfig, WorkerTokenConfig};
pub use storage::StorageConfig;
pub use ui::UiConfig;
pub use webhooks::{secret_key, WebhookDeliveryConfig, WebhookEndpointConfig, SECRET_PREFIX};

use crate::queue::QueueSettings;
use security::WorkersEnv;
pub use token_strength::{weakness, MIN_TOKEN_LEN};

/// Prefix of the env vars that override config keys: `OPENCLAW_<SECTION>__<KEY>`.
pub const ENV_PREFIX: &str = "OPENCLAW_";
/// Name of the SQLite database file inside `storage.data_dir`.
pub const DATABASE_FILE: &str = "openclaw.sqlite3";

/// Secret keys read from the environment as raw strings, never parsed as TOML-ish values
/// (figment would turn an all-digit token into a number and then fail to read it as a
/// string). Later entries win, so the prefixed spelling beats the conventional one.
const SECRET_ENV_KEYS: [(&str, &str); 5] = [
    ("DISCORD_TOKEN", "discord.token"),
    ("OPENCLAW_DISCORD__TOKEN", "discord.token"),
    ("OPENCLAW_AUTH__CLIENT_TOKEN", "auth.client_token"),
    ("OPENCLAW_AUTH__WORKER_TOKEN", "auth.worker_token"),
    ("OPENCLAW_AUTH__ADMIN_TOKEN", "auth.admin_token"),
];

/// The per-worker tokens in the environment: a JSON array of `{"name", "token"}` objects
/// (figment's own env syntax has no arrays of tables, and tokens must stay strings).
pub const WORKERS_ENV: &str = "OPENCLAW_AUTH__WORKERS";

/// The prefixed keys read raw ([`SECRET_ENV_KEYS`], [`WORKERS_ENV`]) as the prefixed `Env`
/// provider sees them (prefix stripped), so that provider skips them.
const RAW_PREFIXED_KEYS: [&str; 5] = [
    "DISCORD__TOKEN",
    "AUTH__CLIENT_TOKEN",
    "AUTH__WORKER_TOKEN",
    "AUTH__ADMIN_TOKEN",
    "AUTH__WORKERS",
];

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type; figment's message names
    /// the key and where it came from (file or env var).
    #[error("invalid configuration: {0}")]
    Load(Box<figment::Error>),
    /// A value parsed but is out of range or inconsistent with another.
    #[error("invalid configuration: `{key}` {reason}")]
    Invalid {
        /// The dotted key, e.g. `http.body_limit_bytes`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Everything the cloud process can be configured with. `Default` is the embedded
/// zero-configuration setup: loopback on port 3456, state in `./data`, tokens generated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP listener.
    pub http: HttpConfig,
    /// Where state lives on disk.
    pub storage: StorageConfig,
    /// Queue timing.
    pub queue: QueueConfig,
    /// Limits on what a client may submit.
    pub limits: LimitsConfig,
    /// What the bot keeps, and for how long.
    pub quota: QuotaConfig,
    /// API tokens per role and per worker.
    pub auth: AuthConfig,
    /// Request rates per client IP and per token.
    pub rate_limit: RateLimitConfig,
    /// The Discord bot (disabled without a token).
    pub discord: DiscordConfig,
    /// How schedules fire.
    pub schedules: SchedulesConfig,
    /// Webhook endpoints (`[[webhooks]]`): where task and worker events are sent.
    pub webhooks: Vec<WebhookEndpointConfig>,
    /// How webhooks are sent and retried, and what a client's `callbackUrl` may be.
    pub webhook_delivery: WebhookDeliveryConfig,
    /// The web task monitor.
    pub ui: UiConfig,
}

/// `[http]`: the listener and request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// The URL clients and workers reach the bot at (e.g. `https://bot.example.com` behind a
    /// proxy); used in the commands the bot prints. `http://<bind>` when unset.
    pub public_url: Option<String>,
    /// Largest request body accepted. Must fit a worker result with 1 MiB stdout + stderr
    /// and a write of `limits.max_content_bytes` in base64.
    pub body_limit_bytes: usize,
    /// Longest a request may take; above the longest long-poll (60 s) so waits finish first.
    pub request_timeout_secs: u64,
    /// A request's headers must arrive within this many seconds of the connection waiting
    /// for them; it is also how long a kept-alive connection may sit idle.
    pub header_read_timeout_secs: u64,
    /// Most HTTP connections open at once (lowered at start to fit the open-files limit).
    pub max_connections: usize,
    /// Most HTTP connections open at once from one client address; addresses in
    /// `rate_limit.trusted_proxies` are exempt (they carry every client).
    pub max_connections_per_ip: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3456)),
            public_url: None,
            body_limit_bytes: 32 * 1024 * 1024,
            request_timeout_secs: 90,
            header_read_timeout_secs: 10,
            max_connections: 1024,
            max_connections_per_ip: 64,
        }
    }
}

/// `[limits]`: field sizes a client request may not exceed (checked and named in errors).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Longest shell command, in bytes.
    pub max_command_bytes: usize,
    /// Longest path (and `cwd`), in bytes.
    pub max_path_bytes: usize,
    /// Largest file write, in decoded bytes; also caps `old_string`/`new_string` of edits.
    pub max_content_bytes: usize,
    /// Longest `claude` prompt, in bytes.
    pub max_prompt_bytes: usize,
    /// Longest task timeout a client may ask for, in milliseconds.
    pub max_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_command_bytes: 16 * 1024,
            max_path_bytes: 4096,
            max_content_bytes: 10 * 1024 * 1024,
            max_prompt_bytes: 64 * 1024,
            max_timeout_ms: 3_600_000,
        }
    }
}

impl Config {
    /// The queue core's settings: `[queue]`'s timing and `[quota]`'s limits.
    pub fn queue_settings(&self) -> QueueSettings {
        let mut settings = self.queue.settings(&self.storage);
        self.quota.apply(&mut settings);
        settings.max_schedules_per_owner = self.schedules.max_per_owner;
        settings
    }

    /// Loads the configuration: defaults, then the TOML `file` (`--config`, or
    /// `$OPENCLAW_CONFIG`, resolved by `main`), then `OPENCLAW_<SECTION>__<KEY>` env vars,
    /// `DISCORD_TOKEN` and `DISCORD_API_BASE`; then validates it. A named file that does not
    /// exist is an error.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::from_figment(Self::figment(file))
    }

    /// The layered sources, without validation (exposed for tests).
    pub fn figment(file: Option<&Path>) -> Figment {
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment
            .merge(PrefixedEnv(
                Env::prefixed(ENV_PREFIX)
                    // `OPENCLAW_CONFIG` names the file; only `SECTION__KEY` vars are keys.
                    .filter(|key| key.as_str().contains("__"))
                    .filter(|key| !RAW_PREFIXED_KEYS.iter().any(|raw| key == *raw))
                    .split("__"),
            ))
            .merge(
                Env::raw()
                    .only(&["discord_api_base"])
                    .map(|_| "discord.api_base".into()),
            );
        for (env, key) in SECRET_ENV_KEYS {
            if let Ok(value) = std::env::var(env) {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        if let Ok(json) = std::env::var(WORKERS_ENV) {
            figment = figment.merge(WorkersEnv(json));
        }
        figment
    }

    /// Extracts and validates a configuration from `figment`.
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let mut config: Config = figment
            .extract()
            .map_err(|err| ConfigError::Load(Box::new(err)))?;
        config.normalize();
        config.validate()?;
        Ok(config)
    }

    /// An empty `DISCORD_TOKEN=` (common in `.env` templates) means "no Discord".
    fn normalize(&mut self) {
        if self
            .discord
            .token
            .as_ref()
            .is_some_and(|token| token.expose_secret().trim().is_empty())
        {
            self.discord.token = None;
        }
        if self
            .discord
            .api_base
            .as_ref()
            .is_some_and(|base| base.trim().is_empty())
        {
            self.discord.api_base = None;
        }
    }

    /// Checks ranges and consistency; the error names the offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: String| Err(ConfigError::Invalid { key, reason });
        let limits = &self.limits;
        // A write of the largest allowed content, base64-encoded, plus room for the JSON
        // around it, must fit in a request body; otherwise valid writes would get a 413.
        let largest_write = limits.max_content_bytes.div_ceil(3) * 4 + 64 * 1024;
        if self.http.body_limit_bytes < largest_write {
            return invalid(
                "http.body_limit_bytes",
                format!(
                    "must be at least {largest_write} to fit a base64 write of \
                     limits.max_content_bytes ({} bytes)",
                    limits.max_content_bytes
                ),
            );
        }
        let longest_wait_secs = MAX_WAIT_MS / 1000;
        if self.http.request_timeout_secs <= longest_wait_secs {
            return invalid(
                "http.request_timeout_secs",
                format!("must be above {longest_wait_secs} (the longest long-poll)"),
            );
        }
        if let Some(url) = &self.http.public_url {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok
                || url.parse::<axum::http::Uri>().is_err()
                || url.contains(char::is_whitespace)
            {
                return invalid(
                    "http.public_url",
                    format!("must be an http(s) URL such as https://bot.example.com, got {url:?}"),
                );
            }
        }
        let queue = &self.queue;
        if !(1024..=1024 * 1024).contains(&queue.live_tail_bytes) {
            return invalid(
                "queue.live_tail_bytes",
                "must be between 1024 and 1048576".into(),
            );
        }
        if !(queue.live_tail_bytes..=1 << 30).contains(&queue.live_total_bytes) {
            return invalid(
                "queue.live_total_bytes",
                "must be at least queue.live_tail_bytes and at most 1073741824".into(),
            );
        }
        if self.http.max_connections_per_ip > self.http.max_connections {
            return invalid(
                "http.max_connections_per_ip",
                "must not be above http.max_connections".into(),
            );
        }
        let positive: [(&'static str, u64); 16] = [
            ("storage.busy_timeout_ms", self.storage.busy_timeout_ms),
            (
                "http.header_read_timeout_secs",
                self.http.header_read_timeout_secs,
            ),
            ("http.max_connections", self.http.max_connections as u64),
            (
                "http.max_connections_per_ip",
                self.http.max_connections_per_ip as u64,
            ),
            ("queue.task_ttl_secs", self.queue.task_ttl_secs),
            ("queue.retention_secs", self.queue.retention_secs),
            ("queue.lease_ttl_secs", self.queue.lease_ttl_secs),
            ("queue.offer_ttl_secs", self.queue.offer_ttl_secs),
            ("queue.sweep_interval_ms", self.queue.sweep_interval_ms),
            ("queue.worker_expiry_secs", self.queue.worker_expiry_secs),
            ("limits.max_command_bytes", limits.max_command_bytes as u64),
            ("limits.max_path_bytes", limits.max_path_bytes as u64),
            ("limits.max_content_bytes", limits.max_content_bytes as u64),
            ("limits.max_prompt_bytes", limits.max_prompt_bytes as u64),
            ("limits.max_timeout_ms", limits.max_timeout_ms),
            ("ui.session_ttl_secs", self.ui.session_ttl_secs),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return invalid(key, "must be greater than 0".into());
        }
        self.quota.validate()?;
        self.schedules.validate()?;
        self.auth.validate()?;
        self.rate_limit.validate()?;
        self.discord.validate()?;
        webhooks::validate(&self.webhooks, &self.webhook_delivery)?;
        Ok(())
    }
}

/// `OPENCLAW_<SECTION>__<KEY>` variables. Wraps figment's `Env` only to name a bad value's
/// variable as the user spelled it (figment would say `QUEUE.LEASE_TTL_SECS`).
struct PrefixedEnv(Env);

impl Provider for PrefixedEnv {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable").interpolater(|_: &Profile, keys: &[&str]| {
            let keys: Vec<String> = keys.iter().map(|k| k.to_ascii_uppercase()).collect();
            format!("{ENV_PREFIX}{}", keys.join("__"))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.0.data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_config() {
        let config = Config::default();

        config.validate().unwrap();
        assert_eq!(config.http.bind.to_string(), "127.0.0.1:3456");
        assert_eq!(
            config.storage.database_path(),
            Path::new("./data/openclaw.sqlite3")
        );
        assert!(config.discord.token.is_none());
    }
}
