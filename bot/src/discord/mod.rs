//! The Discord front end: a thin poise adapter over the queue. Slash commands turn options into
//! tasks stored with their interaction; delivery follows the queue's events and answers in the
//! same message. It runs beside the HTTP API in one runtime, and neither needs the other: a
//! gateway that cannot connect is retried in the background while the API keeps serving.
//!
//! # Layout
//! - [`client`]: the serenity client and poise framework; the gateway connection, retried.
//! - [`commands`]: `/run`, `/read`, `/write`, `/claude`, `/status`, `/tasks`, `/cancel`,
//!   `/approve`, `/deny`.
//! - [`auth`]: the allowed-users check in front of every command.
//! - [`channels`]: keeps the callback-channel allow-list current from the guilds' channels.
//! - [`error`]: errors shown to users, kept apart from the internal ones that are logged;
//!   [`on_error`] answers and logs them.
//! - [`deliver`], [`progress`], [`send`]: events → progress edits (`progress::follow` returns
//!   how it ended) → the result, decided and sent by `deliver`, with retries.
//! - [`render`]: pure formatting of progress, results and listings.

pub mod auth;
pub mod channels;
pub mod client;
pub mod commands;
pub mod courier;
pub mod deliver;
pub mod error;
pub mod on_error;
pub mod progress;
pub mod render;
pub mod send;

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude::{GuildId, Http, HttpBuilder, UserId};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{DiscordConfig, LimitsConfig};
use crate::intake::CallbackChannels;
use crate::metrics::Metrics;
use crate::queue::Queue;
use crate::state::{DiscordState, DiscordStatus};
use deliver::Delivery;
use send::RetryPolicy;

/// What the Discord front end runs with, derived once from `[discord]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Guilds to register the commands in; global registration when empty.
    pub guild_ids: Vec<GuildId>,
    /// The only users who may use any command.
    pub allowed_user_ids: Vec<UserId>,
    /// The allowed users who see and cancel everyone's tasks (`discord.admin_user_ids`, or
    /// the first allowed user); the others see only their own.
    pub admin_user_ids: Vec<UserId>,
    /// Least time between two edits of one message.
    pub edit_interval: Duration,
    /// Least time between two edits that only show newer live output; `None`: no live
    /// output in messages.
    pub live_edit_interval: Option<Duration>,
    /// How long after an interaction its token is still used to edit the response.
    pub interaction_ttl: Duration,
    /// Retries of a delivery Discord failed transiently.
    pub retry: RetryPolicy,
    /// How often results left undelivered are tried again.
    pub redeliver_interval: Duration,
    /// The agents `/agent` offers (`discord.agents`), in the order shown.
    pub agents: Vec<String>,
}

impl Settings {
    /// The settings `config` describes. Ids of 0 (which Discord never issues and serenity
    /// cannot represent) are dropped; config validation already refuses them.
    pub fn from_config(config: &DiscordConfig) -> Settings {
        Settings {
            guild_ids: config
                .guild_ids
                .iter()
                .filter(|id| **id != 0)
                .map(|id| GuildId::new(*id))
                .collect(),
            allowed_user_ids: config
                .allowed_user_ids
                .iter()
                .filter(|id| **id != 0)
                .map(|id| UserId::new(*id))
                .collect(),
            admin_user_ids: config
                .admins()
                .into_iter()
                .filter(|id| *id != 0)
                .map(UserId::new)
                .collect(),
            edit_interval: Duration::from_millis(config.edit_interval_ms),
            live_edit_interval: (config.live_edit_interval_ms > 0).then(|| {
                Duration::from_millis(config.live_edit_interval_ms.max(config.edit_interval_ms))
            }),
            interaction_ttl: Duration::from_secs(config.interaction_ttl_secs),
            retry: RetryPolicy {
                base: Duration::from_millis(config.retry_base_ms),
                attempts: config.delivery_attempts,
            },
            redeliver_interval: Duration::from_secs(config.redeliver_interval_secs),
            agents: config.agents.clone(),
        }
    }
}

/// A REST client for the configured Discord. With `api_base` (a proxy or a test fake)
/// serenity's ratelimiter is turned off: it ignores the proxy and would call discord.com.
pub fn http_client(token: &str, api_base: Option<&str>) -> Http {
    match api_base {
        Some(base) => HttpBuilder::new(token)
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true)
            .build(),
        None => Http::new(token),
    }
}

/// What the Discord front end is given by the wiring: only the parts it uses.
#[derive(Clone)]
pub struct Handles {
    /// The task queue commands enqueue into and delivery follows.
    pub queue: Queue,
    /// Field limits for the tasks commands create.
    pub limits: LimitsConfig,
    /// The callback-channel allow-list: the adapter loads the guilds' channels into it.
    pub channels: CallbackChannels,
    /// The `[discord]` configuration.
    pub config: DiscordConfig,
    /// Where the connection state is reported (shown by `/admin/health`).
    pub status: DiscordStatus,
    /// Counts tasks created and deliveries retried or failed.
    pub metrics: Metrics,
}

/// Starts the Discord front end on `tracker` if a token is configured: the delivery service
/// and the gateway client. Both run until `stop` is cancelled; neither ending stops the app.
pub fn spawn(handles: Handles, tracker: &TaskTracker, stop: &CancellationToken) {
    let Some(token) = handles.config.token.as_ref() else {
        handles.status.set(DiscordState::Disabled);
        return;
    };
    let settings = Arc::new(Settings::from_config(&handles.config));
    if settings.allowed_user_ids.is_empty() {
        tracing::warn!("discord.allowed_user_ids is empty: every command will be refused");
    }
    // Who sees everyone's tasks is worth one line at start: with admin_user_ids unset it
    // follows the order of allowed_user_ids.
    tracing::info!(
        admins = ?settings.admin_user_ids.iter().map(|id| id.get()).collect::<Vec<_>>(),
        listed = !handles.config.admin_user_ids.is_empty(),
        "Discord admins (see and cancel every task; other allowed users only their own)"
    );
    let token = token.expose_secret().to_owned();
    let api_base = handles.config.api_base.clone();
    let http = Arc::new(http_client(&token, api_base.as_deref()));
    // Subscribe now, before any command can queue a task, so no event is missed.
    let events = handles.queue.subscribe();
    tracker.spawn(channels::keep_loaded(
        Arc::clone(&http),
        settings.guild_ids.clone(),
        handles.channels.clone(),
        Duration::from_secs(handles.config.channel_refresh_secs),
        stop.clone(),
    ));
    let delivery = Delivery::new(
        handles.queue.clone(),
        http,
        Arc::clone(&settings),
        handles.channels.clone(),
        handles.metrics.clone(),
        stop.clone(),
    );
    tracker.spawn(delivery.run(events));
    let data = commands::Data {
        queue: handles.queue,
        limits: handles.limits,
        channels: handles.channels,
        settings,
        status: handles.status,
        metrics: handles.metrics,
    };
    tracker.spawn(client::run(data, token, api_base, stop.clone()));
}
