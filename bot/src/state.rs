//! The state the running app shares: the queue, tokens and configuration behind one cheap
//! handle for the HTTP API, and the Discord front end's connection status. Built by
//! the wiring (`app`); adapters receive it (or only the parts they use), never the app itself.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, LimitsConfig};
use crate::intake::callback::CallbackRule;
use crate::intake::{CallbackChannels, Rules};
use crate::metrics::Metrics;
use crate::queue::Queue;
use crate::tokens::Tokens;

/// Where the Discord front end stands, for `/admin/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscordState {
    /// No token is configured.
    Disabled,
    /// Connecting to the gateway.
    Connecting,
    /// Connected and serving commands.
    Connected,
    /// Lost the gateway; serenity is reconnecting.
    Disconnected,
}

/// Where the Discord front end stands, shared between the adapter that reports it and the
/// health route that shows it: a cheap `Clone` handle.
#[derive(Debug, Clone)]
pub struct DiscordStatus {
    /// A std mutex: it guards a `Copy` value that is read or replaced, never held across
    /// an `.await`.
    current: Arc<Mutex<DiscordState>>,
}

impl Default for DiscordStatus {
    fn default() -> Self {
        DiscordStatus {
            current: Arc::new(Mutex::new(DiscordState::Disabled)),
        }
    }
}

impl DiscordStatus {
    /// Where the Discord front end stands now.
    pub fn get(&self) -> DiscordState {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records where the Discord front end stands.
    pub fn set(&self, state: DiscordState) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }
}

/// What every HTTP handler shares: a cheap `Clone` handle (an `Arc` inside), like mini-redis's `Db`.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Queue,
    tokens: Tokens,
    config: Config,
    started: Instant,
    discord: DiscordStatus,
    /// The Discord channels API clients may have results posted in.
    channels: CallbackChannels,
    /// What `/metrics` shows.
    metrics: Metrics,
    /// Cancelled when the app stops, so long-polls return at once instead of holding up
    /// the graceful shutdown for their full wait.
    stopping: CancellationToken,
}

impl AppState {
    /// Builds the state from its parts. Discord starts `Disabled`.
    pub fn new(queue: Queue, tokens: Tokens, config: Config) -> AppState {
        let channels = CallbackChannels::new(
            &config.discord.callback_channel_ids,
            config.discord.loads_guild_channels(),
        );
        AppState {
            shared: Arc::new(Shared {
                queue,
                tokens,
                config,
                started: Instant::now(),
                discord: DiscordStatus::default(),
                channels,
                metrics: Metrics::new(),
                stopping: CancellationToken::new(),
            }),
        }
    }

    /// The task queue.
    pub fn queue(&self) -> &Queue {
        &self.shared.queue
    }

    /// The API token of each role.
    pub fn tokens(&self) -> &Tokens {
        &self.shared.tokens
    }

    /// The validated configuration the app was built with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Field limits for client requests.
    pub fn limits(&self) -> &LimitsConfig {
        &self.shared.config.limits
    }

    /// How long the app has been up.
    pub fn uptime(&self) -> Duration {
        self.shared.started.elapsed()
    }

    /// Where the Discord front end stands (the handle the Discord adapter reports to).
    pub fn discord_status(&self) -> &DiscordStatus {
        &self.shared.discord
    }

    /// The callback-channel allow-list (the Discord adapter keeps it current).
    pub fn channels(&self) -> &CallbackChannels {
        &self.shared.channels
    }

    /// The metrics `/metrics` shows.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// What intake checks requests against.
    pub fn intake_rules(&self) -> Rules<'_> {
        Rules {
            limits: self.limits(),
            channels: self.channels(),
            callbacks: CallbackRule {
                enabled: self.config().webhook_delivery.callback_secret.is_some(),
                allow_loopback: self.config().webhook_delivery.allow_loopback_callbacks,
            },
        }
    }

    /// Cancelled when the app is stopping; long-running handlers select on it.
    pub fn stopping(&self) -> &CancellationToken {
        &self.shared.stopping
    }
}
