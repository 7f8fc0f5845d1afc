//! [`FakeDiscord`]: the handle a test holds. It starts the servers, injects slash commands, and
//! offers typed views and `wait_for_*` helpers over what the bot sent. Slash commands and the
//! bot's answers to them are in `interactions.rs`.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::FakeError;
use crate::fault::{FailMode, Fault, RouteMatcher};
use crate::message::StoredMessage;
use crate::recorder::{Identify, RecordedRequest, Recorder, RegisteredCommand, State};
use crate::route::Route;
use crate::{gateway, rest, FakeDiscordBuilder, Shared};

mod interactions;

/// A running fake Discord (REST + gateway on loopback). Dropping it stops both servers.
///
/// A test drives it like this (the bot is started with [`Self::token`], [`Self::base_url`] and
/// [`Self::guild_id`] as in the crate docs' recipe):
///
/// ```no_run
/// use std::time::Duration;
/// use discord_fake::{CallbackKind, FailMode, FakeDiscord, Route, SlashCommand};
///
/// # async fn test() -> Result<(), discord_fake::FakeError> {
/// let discord = FakeDiscord::start().await?;
/// // … start the bot against discord.base_url() …
/// discord.wait_for_commands_registered().await?;
/// let retry_after = Duration::from_secs(1);
/// discord.fail_next(Route::EditOriginal, FailMode::RateLimited { retry_after });
///
/// let ix = discord
///     .send_slash_command(SlashCommand::new("run").option("command", "echo hi").user(42))
///     .await?;
/// assert_eq!(discord.wait_for_callback(&ix).await?.kind, CallbackKind::DeferredMessage);
/// let answer = discord.wait_for_original(&ix, |m| m.content.contains("hi")).await?;
/// assert!(!answer.mentions(None).everyone);
/// assert_eq!(discord.requests_to(Route::EditOriginal)[0].status, Some(429));
///
/// discord.expire_interaction_token(&ix.token); // as after Discord's 15 minutes
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeDiscord {
    /// Starts a fake with the defaults: one guild with one channel, Discord's limits.
    pub async fn start() -> Result<Self, FakeError> {
        Self::builder().start().await
    }

    /// Returns a builder to change the defaults before starting.
    pub fn builder() -> FakeDiscordBuilder {
        FakeDiscordBuilder::default()
    }

    /// Binds both listeners and spawns the servers on the current runtime.
    pub(crate) async fn launch(config: Arc<Config>) -> Result<Self, FakeError> {
        let bind = |what| move |source| FakeError::Bind { what, source };
        let rest_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(bind("REST"))?;
        let gateway_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(bind("gateway"))?;
        let rest_addr = rest_listener.local_addr().map_err(bind("REST"))?;
        let gateway_addr = gateway_listener.local_addr().map_err(bind("gateway"))?;
        let shared = Arc::new(Shared {
            config: Config::clone(&config),
            recorder: Recorder::default(),
            base_url: format!("http://{rest_addr}"),
            gateway_url: format!("ws://{gateway_addr}"),
        });
        let app = rest::router(Arc::clone(&shared));
        let rest_task = tokio::spawn(async move {
            if let Err(error) = axum::serve(rest_listener, app).await {
                tracing::error!(%error, "fake Discord REST server stopped");
            }
        });
        let gateway_task = tokio::spawn(gateway::serve(gateway_listener, Arc::clone(&shared)));
        Ok(Self {
            shared,
            tasks: vec![rest_task, gateway_task],
        })
    }

    /// The REST base URL, `http://127.0.0.1:PORT`, for `HttpBuilder::proxy`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The gateway URL, `ws://127.0.0.1:PORT`, that `GET /api/v10/gateway` hands out.
    pub fn gateway_url(&self) -> &str {
        &self.shared.gateway_url
    }

    /// The bot token the fake accepts.
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// The application id (also sent in READY).
    pub fn application_id(&self) -> u64 {
        self.shared.config.application_id
    }

    /// The bot's user id.
    pub fn bot_user_id(&self) -> u64 {
        self.shared.config.bot_user_id
    }

    /// The application owner's user id; the default invoking user of slash commands.
    pub fn owner_id(&self) -> u64 {
        self.shared.config.owner_id
    }

    /// The first guild's id (0 if the builder was given no guild).
    pub fn guild_id(&self) -> u64 {
        self.shared.config.guilds.first().map_or(0, |g| g.id)
    }

    /// The first guild's first channel id (0 if it has none).
    pub fn channel_id(&self) -> u64 {
        self.shared
            .config
            .guilds
            .first()
            .and_then(|g| g.channel_ids.first().copied())
            .unwrap_or(0)
    }

    /// Waits until a gateway connection has identified and is live; returns its IDENTIFY.
    pub async fn wait_for_ready(&self) -> Result<Identify, FakeError> {
        self.wait("the bot to identify on the gateway", |s| {
            s.newest_live_identify().cloned()
        })
        .await
    }

    /// Waits until the fake has accepted `count` IDENTIFYs in total (e.g. 2 after a bot restart)
    /// and the newest session is live; returns them all.
    pub async fn wait_for_identifies(&self, count: usize) -> Result<Vec<Identify>, FakeError> {
        let what = format!("{count} gateway IDENTIFY(s)");
        self.wait(&what, |s| {
            let newest_live = s.newest_live_identify().is_some();
            (s.identifies.len() >= count && newest_live).then(|| s.identifies.clone())
        })
        .await
    }

    /// Every IDENTIFY the fake accepted, oldest first.
    pub fn identifies(&self) -> Vec<Identify> {
        self.shared.recorder.read(|s| s.identifies.clone())
    }

    /// Waits until the bot has registered commands at least once; returns all registered commands.
    pub async fn wait_for_commands_registered(&self) -> Result<Vec<RegisteredCommand>, FakeError> {
        self.wait("the bot to register its commands (PUT …/commands)", |s| {
            (s.command_registrations > 0).then(|| s.commands.clone())
        })
        .await
    }

    /// The currently registered commands, global and per guild.
    pub fn registered_commands(&self) -> Vec<RegisteredCommand> {
        self.shared.recorder.read(|s| s.commands.clone())
    }

    /// Messages posted with `POST /channels/{channel_id}/messages`, oldest first (interaction
    /// responses are not included; see [`Self::original_response`]).
    pub fn channel_messages(&self, channel_id: u64) -> Vec<StoredMessage> {
        self.shared.recorder.read(|s| {
            s.channel_messages
                .iter()
                .filter(|m| m.channel_id == channel_id)
                .cloned()
                .collect()
        })
    }

    /// Waits for a message in the channel that satisfies `condition`; returns it.
    pub async fn wait_for_channel_message(
        &self,
        channel_id: u64,
        mut condition: impl FnMut(&StoredMessage) -> bool,
    ) -> Result<StoredMessage, FakeError> {
        let what = format!("a message in channel {channel_id} matching the test's condition");
        self.wait(&what, |s| {
            s.channel_messages
                .iter()
                .find(|m| m.channel_id == channel_id && condition(m))
                .cloned()
        })
        .await
    }

    /// Makes the next request matching `route` fail with `mode`.
    pub fn fail_next(&self, route: impl Into<RouteMatcher>, mode: FailMode) {
        self.fail_times(route, mode, 1);
    }

    /// Makes the next `times` requests matching `route` fail with `mode`.
    pub fn fail_times(&self, route: impl Into<RouteMatcher>, mode: FailMode, times: u32) {
        let fault = Fault {
            matcher: route.into(),
            mode,
            remaining: times,
        };
        self.shared.recorder.update(|s| s.faults.push(fault));
    }

    /// Expires an interaction token as Discord does after 15 minutes: webhook calls with it then
    /// get `401 {"message": "Invalid Webhook Token", "code": 50027}`. Returns false if no
    /// interaction has this token.
    pub fn expire_interaction_token(&self, token: &str) -> bool {
        self.shared.recorder.update(|s| {
            s.interaction_by_token(token)
                .map(|r| r.token_expired = true)
                .is_some()
        })
    }

    /// Every REST request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.read(|s| s.requests.clone())
    }

    /// The REST requests to one endpoint kind, in arrival order.
    pub fn requests_to(&self, route: Route) -> Vec<RecordedRequest> {
        self.shared.recorder.read(|s| {
            s.requests
                .iter()
                .filter(|r| r.route == route)
                .cloned()
                .collect()
        })
    }

    /// Waits for a request, already answered, that satisfies `condition`; returns it.
    pub async fn wait_for_request(
        &self,
        mut condition: impl FnMut(&RecordedRequest) -> bool,
    ) -> Result<RecordedRequest, FakeError> {
        self.wait(
            "an answered REST request matching the test's condition",
            |s| {
                s.requests
                    .iter()
                    .find(|r| r.status.is_some() && condition(r))
                    .cloned()
            },
        )
        .await
    }

    /// Waits with the configured timeout.
    async fn wait<T>(
        &self,
        what: &str,
        check: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, FakeError> {
        let timeout = self.shared.config.wait_timeout;
        self.shared
            .recorder
            .wait_for(|| what.to_owned(), timeout, check)
            .await
    }
}
